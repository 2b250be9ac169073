#include "modes/PlainMode.h"

#include <QUtf8StringView>

#include "ClientId.h"
#include "HttpHead.h"
#include "HttpRequestReader.h"

namespace ws2api {

namespace {

constexpr QByteArrayView TextType = "text/plain; charset=utf-8";
constexpr QByteArrayView BinaryType = "application/octet-stream";

bool isValidUtf8(const QByteArray &data)
{
    return QUtf8StringView(data).isValidUtf8();
}

} // namespace

bool PlainMode::isAcceptToken(QByteArrayView body) const
{
    return body.trimmed() == "ok";
}

ApiRequest PlainMode::connectRequest(const ConnectInfo &info) const
{
    ApiRequest request;
    request.method = "GET";
    request.target = apiPath({ClientId::encodeSegment(info.clientId)});
    if (!info.head->query.isEmpty())
        request.target += '?' + info.head->query;
    request.headers = forwardedHeaders(info);
    return request;
}

ApiRequest PlainMode::goneRequest(const QByteArray &clientId, int code, const QString &reason) const
{
    ApiRequest request;
    request.method = "DELETE";
    request.target = apiPath({ClientId::encodeSegment(clientId)});
    request.headers = {{"Content-Type", TextType.toByteArray()}};
    // The reason as body, as the Go original sends it; without one, the code.
    request.body = reason.isEmpty() ? "closed (" + QByteArray::number(code) + ')' : reason.toUtf8();
    return request;
}

ApiRequest PlainMode::messageRequest(const QByteArray &clientId, const ClientMessage &message) const
{
    ApiRequest request;
    request.method = "POST";
    request.target = apiPath({ClientId::encodeSegment(clientId)});
    request.headers = {{"Content-Type", (message.binary ? BinaryType : TextType).toByteArray()}};
    request.body = message.data;
    return request;
}

PushParse PlainMode::parsePush(const HttpRequest &request) const
{
    PushParse parse;
    const QByteArray &path = request.head.path;
    const auto clientId = path.lastIndexOf('/') == 0 ? ClientId::fromPath(path) : std::nullopt;
    if (!clientId) {
        parse.status = 404;
        parse.error = "push path is not /<ClientId>";
        return parse;
    }
    parse.clientId = *clientId;
    parse.message.payload = request.body;
    parse.message.binary = request.head.header("Content-Type").startsWith(BinaryType);
    parse.error = pushProblem(parse.message);
    if (!parse.error.isEmpty())
        parse.status = 400;
    return parse;
}

PushMessage PlainMode::adminPush(const AdminPush &push) const
{
    PushMessage message;
    message.payload = push.message;
    message.binary = push.binary;
    return message;
}

QByteArray PlainMode::pushProblem(const PushMessage &push) const
{
    if (push.payload.isEmpty())
        return "empty push body";
    if (!push.binary && !isValidUtf8(push.payload))
        return "text push is not valid UTF-8 (send binary as application/octet-stream)";
    return {};
}

namespace {

// Each message is POSTed in order; a non-empty 2xx body goes back in the frame type
// of the message it answers.
class PlainSession final : public ModeSession
{
public:
    PlainSession(const PlainMode &mode, SessionHost &host)
        : m_mode(mode)
        , m_host(host)
    {
    }

    void clientMessage(ClientMessage message) override
    {
        const bool binary = message.binary;
        m_host.callApiInOrder(m_mode.messageRequest(m_host.clientId(), message),
                              [this, binary](const ApiResponse &response) {
            if (response.outcome == ApiResponse::Outcome::Ok && response.status >= 200
                && response.status < 300 && !response.body.isEmpty())
                m_host.send(ClientMessage{response.body, binary});
        });
    }

    int push(const PushMessage &push, QByteArray *) override
    {
        return m_host.send(ClientMessage{push.payload, push.binary});
    }

private:
    const PlainMode &m_mode;
    SessionHost &m_host;
};

} // namespace

std::unique_ptr<ModeSession> PlainMode::newSession(SessionHost &host) const
{
    return std::make_unique<PlainSession>(*this, host);
}

} // namespace ws2api
