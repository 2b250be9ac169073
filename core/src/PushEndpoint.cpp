#include "PushEndpoint.h"

#include <QLoggingCategory>
#include <QPointer>
#include <QTcpSocket>

#include "HostAddress.h"
#include "HttpResponse.h"
#include "HttpServerConnection.h"
#include "Metrics.h"
#include "Worker.h"

Q_LOGGING_CATEGORY(lcPush, "ws2api.push", QtInfoMsg)

namespace ws2api {

namespace {


// Compares in time independent of where the first difference is.
bool constantTimeEquals(QByteArrayView a, QByteArrayView b)
{
    if (a.size() != b.size())
        return false;
    unsigned char diff = 0;
    for (qsizetype i = 0; i < a.size(); ++i)
        diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0;
}

// `Authorization: Bearer <token>` with the scheme in any case and one or more spaces
// before the token (RFC 7235: credentials = auth-scheme [ 1*SP token68 ]).
bool bearerTokenMatches(QByteArrayView authorization, QByteArrayView token)
{
    constexpr QByteArrayView Scheme = "Bearer";
    authorization = authorization.trimmed();
    if (authorization.size() <= Scheme.size() || authorization.at(Scheme.size()) != ' '
        || authorization.first(Scheme.size()).compare(Scheme, Qt::CaseInsensitive) != 0)
        return false;
    QByteArrayView credentials = authorization.sliced(Scheme.size());
    while (credentials.startsWith(' '))
        credentials = credentials.sliced(1);
    return constantTimeEquals(credentials, token);
}

} // namespace

PushEndpoint::PushEndpoint(Worker *worker)
    : QObject(worker)
    , m_worker(worker)
{
    reconfigure();
}

void PushEndpoint::reconfigure()
{
    const ProxyConfig &config = m_worker->config();
    m_allow = config.pushAllow.isEmpty() ? ProxyConfig::defaultPushAllow() : config.pushAllow;
    m_token = config.pushToken;
}

void PushEndpoint::adopt(QTcpSocket *socket)
{
    auto *connection = new HttpServerConnection(
        socket, m_worker->config().maxMessage,
        [this](HttpServerConnection *c, const HttpRequest &r) { onRequest(c, r); },
        [this](HttpServerConnection *c, HttpRequestReader::Error e, const HttpHead &h) {
            onError(c, e, h);
        },
        this);
    // A push's head and body arrive within what an upgrade's head must: a sender
    // trickling its body holds a descriptor no longer than a slow WebSocket client.
    connection->setRequestTimeout(m_worker->config().handshakeTimeoutMs);
}

void PushEndpoint::closeAll()
{
    for (HttpServerConnection *connection : findChildren<HttpServerConnection *>())
        connection->socket()->disconnectFromHost();
}

int PushEndpoint::authorize(HttpServerConnection *connection, const HttpHead &head) const
{
    const QHostAddress peer = withoutIpv4Mapping(connection->socket()->peerAddress());
    const bool allowed = std::any_of(m_allow.cbegin(), m_allow.cend(), [&](const auto &subnet) {
        return peer.isInSubnet(subnet);
    });
    if (!allowed)
        return 403;
    if (!m_token.isEmpty() && !bearerTokenMatches(head.header("Authorization"), m_token))
        return 401;
    return 0;
}

void PushEndpoint::answer(HttpServerConnection *connection, int status, const QByteArray &body,
                          bool close)
{
    // The answer to nearly every push, built once (shared, not copied).
    static const QByteArray delivered = HttpResponse::build(200, "OK\n", {}, false);
    if (status == 200 && !close && body == "OK\n")
        return connection->respond(delivered, false);
    HeaderList headers;
    if (status == 401)
        headers.emplaceBack("WWW-Authenticate", "Bearer");
    connection->respond(HttpResponse::build(status, body, headers, close), close);
}

void PushEndpoint::onError(HttpServerConnection *connection, HttpRequestReader::Error error,
                           const HttpHead &head)
{
    switch (error) {
    case HttpRequestReader::Error::HeadTooLarge:
        return answer(connection, 431, "request head too large\n", true);
    case HttpRequestReader::Error::RequestLineTooLong:
        return answer(connection, 414, "request line too long\n", true);
    case HttpRequestReader::Error::Malformed:
    case HttpRequestReader::Error::None:
        return answer(connection, 400, "malformed request\n", true);
    case HttpRequestReader::Error::BodyTooLarge:
        break;
    }
    int status = authorize(connection, head);
    if (status == 0)
        status = 413;
    m_worker->counters().countPush(WorkerCounters::pushOutcome(status));
    answer(connection, status, HttpResponse::reasonPhrase(status) + '\n', true);
}

void PushEndpoint::onRequest(HttpServerConnection *connection, const HttpRequest &request)
{
    const HttpHead &head = request.head;
    if (head.method == "GET" && head.path == "/healthz")
        return answer(connection, 200, "ok\n");
    if (head.method == "GET" && head.path == "/metrics") {
        if (const int status = authorize(connection, head))
            return answer(connection, status, HttpResponse::reasonPhrase(status) + '\n');
        return connection->respond(
            HttpResponse::build(200, m_worker->metrics().prometheusText(),
                                {{"Content-Type", "text/plain; version=0.0.4; charset=utf-8"}}),
            false);
    }
    if (head.method != "POST")
        return answer(connection, 404, "not found\n");

    int status = authorize(connection, head);
    PushParse parse;
    if (status == 0) {
        parse = m_worker->mode().parsePush(request);
        status = parse.status;
    }
    if (status != 0) {
        m_worker->counters().countPush(WorkerCounters::pushOutcome(status));
        return answer(connection, status,
                      parse.error.isEmpty() ? HttpResponse::reasonPhrase(status) + '\n'
                                            : parse.error + '\n');
    }
    QPointer<HttpServerConnection> guard(connection);
    m_worker->routePush(parse.clientId, parse.message,
                        [this, guard](int outcome, const QByteArray &message) {
        m_worker->counters().countPush(WorkerCounters::pushOutcome(outcome));
        if (guard)
            answer(guard, outcome, message.isEmpty() ? HttpResponse::reasonPhrase(outcome) + '\n'
                                                     : message + '\n');
    });
}

} // namespace ws2api
