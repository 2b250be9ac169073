#include "modes/OcppMode.h"

#include <QUuid>

#include "ClientId.h"
#include "HttpHead.h"
#include "HttpRequestReader.h"
#include "modes/OcppFrame.h"
#include "modes/OcppSession.h"

namespace ws2api {

namespace {
const QByteArray JsonType = QByteArrayLiteral("application/json");
}

OcppMode::OcppMode(QByteArray apiBasePath, Settings settings)
    : WireMode(std::move(apiBasePath))
    , m_settings(std::move(settings))
    , m_sessionConfig{apiPath({}), m_settings.callQueue, m_settings.callTimeoutMs}
{
}

void OcppMode::reconfigureMode(const ProxyConfig &config)
{
    // Each applies to CALLs pushed from now on.
    m_sessionConfig.callQueue = config.callQueue;
    m_sessionConfig.callTimeoutMs = config.callTimeoutMs;
}

std::optional<QString> OcppMode::negotiate(const QList<QByteArray> &offered) const
{
    // The client's own order of preference decides among those we support.
    for (const QByteArray &protocol : offered) {
        const QString name = QString::fromLatin1(protocol);
        if (m_settings.subprotocols.contains(name) && ocpp::versionFromSubprotocol(name))
            return name;
    }
    if (offered.isEmpty() && !m_settings.defaultSubprotocol.isEmpty())
        return m_settings.defaultSubprotocol;
    return std::nullopt;
}

bool OcppMode::isAcceptToken(QByteArrayView body) const
{
    const QByteArrayView token = body.trimmed();
    return token == "\"ok\"" || token == "ok";
}

ApiRequest OcppMode::connectRequest(const ConnectInfo &info) const
{
    ApiRequest request;
    request.method = "POST";
    request.target = apiPath({"connect"});
    if (!info.head->query.isEmpty())
        request.target += '?' + info.head->query;
    request.headers = forwardedHeaders(info);
    request.headers.emplaceBack("Content-Type", JsonType);
    // The version the station will speak, which its offered list alone does not say.
    request.headers.emplaceBack("X-OCPP-Version", info.subprotocol.toLatin1());
    request.body = ocpp::jsonString(info.clientId);
    return request;
}

ApiRequest OcppMode::goneRequest(const QByteArray &clientId, int, const QString &) const
{
    ApiRequest request;
    request.method = "POST";
    request.target = apiPath({"disconnect"});
    request.headers = {{"Content-Type", JsonType}};
    request.body = ocpp::jsonString(clientId);
    return request;
}

std::unique_ptr<ModeSession> OcppMode::newSession(SessionHost &host) const
{
    return std::make_unique<OcppSession>(m_sessionConfig, host);
}

PushParse OcppMode::parsePush(const HttpRequest &request) const
{
    PushParse parse;
    // /call/<Action>/<ClientId>/<MessageId>
    const QList<QByteArray> segments = request.head.path.split('/');
    std::optional<QByteArray> action, clientId, messageId;
    if (segments.size() == 5 && segments[0].isEmpty() && segments[1] == "call") {
        action = ClientId::decodeSegment(segments[2]);
        clientId = ClientId::fromPath(QByteArray('/' + segments[3]));
        messageId = ClientId::decodeSegment(segments[4]);
    }
    if (!action || action->isEmpty() || !clientId || !messageId) {
        parse.status = 404;
        parse.error = "push path is not /call/<Action>/<ClientId>/<MessageId>";
        return parse;
    }
    parse.clientId = *clientId;
    parse.message.action = *action;
    parse.message.messageId = *messageId;
    parse.message.payload = request.body;
    parse.error = pushProblem(parse.message);
    if (!parse.error.isEmpty())
        parse.status = 400;
    return parse;
}

PushMessage OcppMode::adminPush(const AdminPush &push) const
{
    PushMessage message;
    message.action = push.action;
    message.payload = push.payload.isEmpty() ? QByteArray("{}") : push.payload;
    message.messageId = push.messageId.isEmpty() ? QUuid::createUuid().toByteArray(QUuid::WithoutBraces)
                                                 : push.messageId;
    return message;
}

QByteArray OcppMode::pushProblem(const PushMessage &push) const
{
    if (push.action.isEmpty())
        return "a CALL needs an Action";
    if (!ocpp::isValidMessageId(push.messageId))
        return "MessageId must be 1 to 36 characters";
    if (!ocpp::isJsonObject(push.payload))
        return "push body is not a JSON object";
    return {};
}

} // namespace ws2api
