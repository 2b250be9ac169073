#include "ApiConnection.h"

#include <QMetaObject>
#include <QSslConfiguration>
#include <QSslSocket>

namespace ws2api {

namespace {

ApiConnection *connectionOf(http_parser *parser)
{
    return static_cast<ApiConnection *>(parser->data);
}

// Marks a signal handler's run; the counter lives in the connection, which
// outlives the handler because it is only ever deleted later.
class HandlingScope
{
public:
    explicit HandlingScope(int &depth) : m_depth(depth) { ++m_depth; }
    ~HandlingScope() { --m_depth; }
    HandlingScope(const HandlingScope &) = delete;
    HandlingScope &operator=(const HandlingScope &) = delete;

private:
    int &m_depth;
};

} // namespace

const http_parser_settings ApiConnection::s_settings = {
    &ApiConnection::onMessageBegin,
    nullptr,  // on_url: responses have none
    nullptr,  // on_status: the reason phrase is not kept, the code comes with the head
    &ApiConnection::onHeaderField,
    &ApiConnection::onHeaderValue,
    &ApiConnection::onHeadersComplete,
    &ApiConnection::onBody,
    &ApiConnection::onMessageComplete,
    nullptr,
    nullptr,
};

ApiConnection::ApiConnection(ApiConnectionOwner *owner, const ApiClientConfig &config)
    : m_owner(owner)
    , m_tls(config.tls)
    , m_maxBody(config.maxResponseBody)
{
    if (m_tls) {
        auto socket = std::make_unique<QSslSocket>();
        QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
        tls.setProtocol(QSsl::TlsV1_2OrLater);
        tls.setPeerVerifyMode(QSslSocket::VerifyPeer);
        if (!config.caCertificates.isEmpty())
            tls.setCaCertificates(config.caCertificates);
        socket->setSslConfiguration(tls);
        m_socket = std::move(socket);
    } else {
        m_socket = std::make_unique<DirectTcpSocket>();
    }
    http_parser_init(&m_parser, HTTP_RESPONSE);
    m_parser.data = this;
    connect(m_socket.get(), &QTcpSocket::connected, this, [this] {
        // Small requests and responses: Nagle would only add latency.
        m_socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    });
    connect(m_socket.get(), &QTcpSocket::readyRead, this, [this] {
        HandlingScope scope(m_handling);
        readResponse();
    });
    connect(m_socket.get(), &QTcpSocket::disconnected, this, [this] {
        HandlingScope scope(m_handling);
        onDisconnected();
    });
    connect(m_socket.get(), &QTcpSocket::errorOccurred, this, [this](QAbstractSocket::SocketError error) {
        HandlingScope scope(m_handling);
        onError(error);
    });
}

ApiConnection::~ApiConnection()
{
    close();
}

void ApiConnection::start(const QString &host, quint16 port, PendingRequest request)
{
    Q_ASSERT(!m_request);
    m_request = std::move(request);
    m_response = ApiResponse();
    m_responseBytes = 0;
    m_messageDone = false;
    m_bodyTooLarge = false;
    http_parser_init(&m_parser, HTTP_RESPONSE);
    m_parser.data = this;

    if (m_socket->state() == QAbstractSocket::UnconnectedState) {
        // connectToHost() may report a refused connection synchronously; the owner
        // must only hear from us from the event loop, so such an error waits a turn.
        m_inConnect = true;
        if (m_tls)
            static_cast<QSslSocket *>(m_socket.get())->connectToHostEncrypted(host, port);
        else
            m_socket->connectToHost(host, port);
        m_inConnect = false;
        if (!m_deferredError.isEmpty()) {
            QMetaObject::invokeMethod(
                this,
                [this] {
                    HandlingScope scope(m_handling);
                    fail(m_deferredError);
                },
                Qt::QueuedConnection);
            return;
        }
    }
    // Buffered by the socket and flushed once connected (TLS: encrypted) when the
    // connection is new.
    // From 4 KiB up the socket shares the QByteArray instead of copying it.
    m_socket->write(m_request->wire);
}

PendingRequest ApiConnection::takeRequest()
{
    Q_ASSERT(m_request);
    PendingRequest request = std::move(*m_request);
    m_request.reset();
    return request;
}

void ApiConnection::close()
{
    if (m_closed)
        return;
    m_closed = true;
    m_reusable = false;
    m_socket->disconnect(this);
    m_socket->abort();
}

bool ApiConnection::readResponse()
{
    // Reading into the stack keeps the only per-response allocations in the
    // response itself.
    char buffer[16 * 1024];
    while (!m_closed) {
        const qint64 n = m_socket->read(buffer, sizeof buffer);
        if (n <= 0)
            return false;
        if (!m_request) {
            fail(QStringLiteral("the API sent data while no request was open"));
            return true;
        }
        m_responseBytes += n;
        if (feed(buffer, n))
            return true;
    }
    return false;
}

bool ApiConnection::feed(const char *data, qsizetype size)
{
    const size_t parsed = http_parser_execute(&m_parser, &s_settings, data, size_t(size));
    if (m_messageDone) {
        // We never pipeline, so bytes after the response mean a confused server.
        if (parsed < size_t(size) || m_socket->bytesAvailable() > 0)
            m_reusable = false;
        finishResponse();
        return true;
    }
    const auto error = HTTP_PARSER_ERRNO(&m_parser);
    if (error == HPE_OK && !m_parser.upgrade)
        return false;
    m_response = ApiResponse();
    m_response.outcome = ApiResponse::Outcome::BadResponse;
    if (m_bodyTooLarge)
        m_response.error = QStringLiteral("response body over %1 bytes").arg(m_maxBody);
    else if (m_parser.upgrade)
        m_response.error = QStringLiteral("unexpected protocol upgrade");
    else
        m_response.error = QStringLiteral("malformed response: %1")
                               .arg(QLatin1StringView(http_errno_description(error)));
    m_reusable = false;
    finishResponse();
    return true;
}

void ApiConnection::finishResponse()
{
    ++m_completed;
    m_owner->responseArrived(this, m_response);
}

void ApiConnection::onDisconnected()
{
    if (m_closed)
        return;
    m_reusable = false;
    if (readResponse())  // whatever arrived with the FIN
        return;
    if (m_request) {
        // Tells http_parser about EOF, which completes a close-delimited body. A
        // response cut short is not "bad" but "unreachable", so errors are ignored.
        http_parser_execute(&m_parser, &s_settings, nullptr, 0);
        if (m_messageDone) {
            finishResponse();
            return;
        }
    }
    fail(m_request ? QStringLiteral("connection closed by the API")
                   : QStringLiteral("idle connection closed by the API"));
}

void ApiConnection::onError(QAbstractSocket::SocketError error)
{
    if (m_closed)
        return;
    if (error == QAbstractSocket::RemoteHostClosedError)
        return;  // disconnected() follows; a close may still end a valid response
    if (m_inConnect) {
        m_deferredError = m_socket->errorString();
        return;
    }
    fail(m_socket->errorString());
}

void ApiConnection::fail(const QString &error)
{
    if (m_closed)
        return;
    m_reusable = false;
    m_owner->connectionLost(this, error);
}

int ApiConnection::onMessageBegin(http_parser *parser)
{
    ApiConnection *c = connectionOf(parser);
    c->m_response.headers.clear();
    c->m_response.body.clear();
    c->m_lastWasValue = true;
    return 0;
}

int ApiConnection::onHeaderField(http_parser *parser, const char *at, size_t length)
{
    ApiConnection *c = connectionOf(parser);
    if (c->m_lastWasValue)
        c->m_response.headers.append({QByteArray(at, qsizetype(length)), QByteArray()});
    else
        c->m_response.headers.last().first.append(at, qsizetype(length));
    c->m_lastWasValue = false;
    return 0;
}

int ApiConnection::onHeaderValue(http_parser *parser, const char *at, size_t length)
{
    ApiConnection *c = connectionOf(parser);
    c->m_response.headers.last().second.append(at, qsizetype(length));
    c->m_lastWasValue = true;
    return 0;
}

int ApiConnection::onHeadersComplete(http_parser *parser)
{
    ApiConnection *c = connectionOf(parser);
    c->m_response.status = int(parser->status_code);
    if (parser->flags & F_CONTENTLENGTH) {
        if (parser->content_length > quint64(c->m_maxBody)) {
            c->m_bodyTooLarge = true;
            return -1;
        }
        c->m_response.body.reserve(qsizetype(parser->content_length));
    }
    return 0;
}

int ApiConnection::onBody(http_parser *parser, const char *at, size_t length)
{
    ApiConnection *c = connectionOf(parser);
    if (c->m_response.body.size() + qint64(length) > c->m_maxBody) {
        c->m_bodyTooLarge = true;
        return -1;
    }
    c->m_response.body.append(at, qsizetype(length));
    return 0;
}

int ApiConnection::onMessageComplete(http_parser *parser)
{
    ApiConnection *c = connectionOf(parser);
    // An interim 1xx (100 Continue, 103 Early Hints) precedes the real response.
    if (parser->status_code / 100 == 1)
        return 0;
    c->m_response.outcome = ApiResponse::Outcome::Ok;
    c->m_messageDone = true;
    if (!http_should_keep_alive(parser))
        c->m_reusable = false;  // Connection: close, HTTP/1.0, or a close-delimited body
    http_parser_pause(parser, 1);  // one response per request: stop right here
    return 0;
}

} // namespace ws2api
