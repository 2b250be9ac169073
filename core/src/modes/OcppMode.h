#pragma once

#include <QStringList>

#include "modes/OcppSession.h"
#include "modes/WireMode.h"

namespace ws2api {

// OCPP-J RPC (1.6-J, 2.0.1, 2.1): a station's CALLs become POST <api>/call/...,
// the API's answers become CALLRESULT or CALLERROR; the API's CALLs to a station go
// out one at a time, and the station's answers reach the API as /result/ or /error/.
class OcppMode final : public WireMode
{
public:
    struct Settings
    {
        QStringList subprotocols;   // supported, from --subprotocols
        QString defaultSubprotocol; // for clients that offer none; empty: refuse them
        int callQueue = 16;
        int callTimeoutMs = 60000;
    };

    OcppMode(QByteArray apiBasePath, Settings settings);

    std::optional<QString> negotiate(const QList<QByteArray> &offered) const override;
    ApiRequest connectRequest(const ConnectInfo &info) const override;
    std::unique_ptr<ModeSession> newSession(SessionHost &host) const override;
    PushParse parsePush(const HttpRequest &request) const override;
    PushMessage adminPush(const AdminPush &push) const override;
    QByteArray pushProblem(const PushMessage &push) const override;

protected:
    bool isAcceptToken(QByteArrayView body) const override;
    ApiRequest goneRequest(const QByteArray &clientId, int code, const QString &reason) const override;
    void reconfigureMode(const ProxyConfig &config) override;

private:
    Settings m_settings;
    // Shared by every station's session, which reads it at each use.
    OcppSession::Config m_sessionConfig;
};

} // namespace ws2api
