#pragma once

#include <QByteArray>
#include <QHostAddress>
#include <QString>
#include <QStringList>
#include <QWebSocketProtocol>
#include <initializer_list>
#include <memory>
#include <optional>

#include "ApiClient.h"
#include "modes/ModeSession.h"
#include "ws2api/AdminTypes.h"
#include "ws2api/ProxyConfig.h"

namespace ws2api {

struct HttpHead;
struct HttpRequest;

// What the proxy knows about an upgrade request when it asks the API.
struct ConnectInfo
{
    QByteArray clientId;
    const HttpHead *head = nullptr;
    QHostAddress peer;
    QString subprotocol;  // negotiated; empty in plain mode
    QByteArray clientCert;  // ":<base64 DER>:" of a verified client certificate, or empty
    bool checksClientCertificates = false;  // our TLS asks for them: a client's own Client-Cert never passes
};

// The API's word on a connect request, as the client will see it.
struct ConnectVerdict
{
    bool accept = false;
    int status = 403;  // when !accept
    QByteArray body;
    HeaderList headers;  // e.g. WWW-Authenticate, passed on with a 401
};

struct PushParse
{
    int status = 0;  // 0: valid; otherwise the HTTP status to answer (400, 404)
    QByteArray error;
    QByteArray clientId;
    PushMessage message;
};

// How one wire mode maps client traffic to API requests and back. A strategy: the
// session and push code never ask which mode they run in.
class WireMode
{
public:
    explicit WireMode(QByteArray apiBasePath);
    virtual ~WireMode() = default;

    // The subprotocol to speak with a client that offered `offered` (in its order of
    // preference): empty for none, nullopt to refuse the upgrade (400).
    virtual std::optional<QString> negotiate(const QList<QByteArray> &offered) const;

    virtual ApiRequest connectRequest(const ConnectInfo &info) const = 0;
    ConnectVerdict connectVerdict(const ApiResponse &response) const;
    // The notice that a client is gone: the mode's request, with X-Close-Code (`code`)
    // and X-Close-Reason (`reason`, percent-encoded UTF-8; empty when there was none).
    // `code` is what the client's close frame carried (1005 for one without a code),
    // 1006 for a connection that went without a close frame, or the code ws2apid
    // closed it with.
    ApiRequest disconnectRequest(const QByteArray &clientId, const QString &reason,
                                 int code = QWebSocketProtocol::CloseCodeAbnormalDisconnection) const;

    // The mode's side of one client, living as long as `host` keeps it.
    virtual std::unique_ptr<ModeSession> newSession(SessionHost &host) const = 0;
    // Called on the worker thread: takes the settings that may change while running.
    void reconfigure(const ProxyConfig &config);
    virtual PushParse parsePush(const HttpRequest &request) const = 0;
    // A push from the admin interface, in this mode's terms.
    virtual PushMessage adminPush(const AdminPush &push) const = 0;
    // Why `push` cannot go to a client (answered 400), or empty when it can: the one
    // check behind both the push listener and the admin interface.
    virtual QByteArray pushProblem(const PushMessage &push) const = 0;

protected:
    virtual bool isAcceptToken(QByteArrayView body) const = 0;
    // The mode's own part of disconnectRequest().
    virtual ApiRequest goneRequest(const QByteArray &clientId, int code, const QString &reason) const = 0;

    // The API base path joined with already-encoded segments by exactly one '/'.
    QByteArray apiPath(std::initializer_list<QByteArrayView> encodedSegments) const;
    // Authorization, Cookie, Origin, User-Agent, Sec-WebSocket-Protocol, those named
    // by --forward-headers, and X-Forwarded-For (the client's address appended to
    // any it sent).
    HeaderList forwardedHeaders(const ConnectInfo &info) const;
    // The mode's own part of reconfigure().
    virtual void reconfigureMode(const ProxyConfig &config) { Q_UNUSED(config); }

private:
    QByteArray m_basePath;  // encoded, without a trailing '/'
    QList<QByteArray> m_forwardHeaders;
};

} // namespace ws2api
