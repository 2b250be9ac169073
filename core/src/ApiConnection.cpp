#include "ApiConnection.h"

#include <QMetaObject>
#include <QSslConfiguration>
#include <QSslSocket>

namespace ws2api {

namespace {

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

ApiConnection::ApiConnection(ApiConnectionOwner *owner, const ApiClientConfig &config)
    : m_owner(owner)
    , m_tls(config.tls)
    , m_depth(config.pipelineDepth)  // ApiClient has made it 1 for TLS
    , m_reader(config.maxResponseBody)
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
        auto socket = std::make_unique<DirectTcpSocket>();
        if (m_depth > 1)
            socket->gatherWritesPerPass();
        m_socket = std::move(socket);
    }
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

void ApiConnection::send(const QString &host, quint16 port, PendingRequest request)
{
    // The reader is fresh for a new connection, and reset after every response.
    m_requests.push_back(std::move(request));

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
    m_socket->write(m_requests.back().wire);
    // A full pipeline takes no more requests this pass: no reason to wait for its end
    // (a pass over 512 busy sockets can take milliseconds).
    if (m_depth > 1 && int(m_requests.size()) >= m_depth && m_socket->state() == QAbstractSocket::ConnectedState)
        m_socket->flush();
}

PendingRequest ApiConnection::takeRequest()
{
    Q_ASSERT(!m_requests.empty());
    PendingRequest request = std::move(m_requests.front());
    m_requests.pop_front();
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
        if (feed(buffer, n))
            return true;
    }
    return false;
}

// One read may end one response and begin the next (pipelining).
bool ApiConnection::feed(const char *data, qsizetype size)
{
    while (size > 0) {
        if (m_requests.empty()) {
            fail(QStringLiteral("the API sent data while no request was open"));
            return true;
        }
        const HttpResponseReader::Status status = m_reader.feed(QByteArrayView(data, size));
        const qsizetype used = m_reader.consumed();
        m_responseBytes += used;
        if (status == HttpResponseReader::Status::Incomplete)
            return false;
        data += used;
        size -= used;
        // With no other request open, bytes after the response mean a confused server.
        if (m_requests.size() == 1 && (size > 0 || m_socket->bytesAvailable() > 0))
            m_reusable = false;
        if (finishResponse())
            return true;
        m_responseBytes = 0;
        m_reader.reset();
    }
    return false;
}

// Reports what the reader ended with: the response, or why there is none.
// Returns true when the connection cannot go on (closed by the owner, or not
// reusable).
bool ApiConnection::finishResponse()
{
    ApiResponse response;
    if (m_reader.status() == HttpResponseReader::Status::Complete) {
        // Connection: close, HTTP/1.0, or a close-delimited body
        if (!m_reader.keepAlive()) {
            m_reusable = false;
            m_closeAnnounced = true;
        }
        HttpResponseReader::Response parsed = m_reader.takeResponse();
        response.outcome = ApiResponse::Outcome::Ok;
        response.status = parsed.status;
        response.headers = std::move(parsed.headers);
        response.body = std::move(parsed.body);
    } else {
        response.outcome = ApiResponse::Outcome::BadResponse;
        response.error = m_reader.errorString();
        m_reusable = false;
    }
    ++m_completed;
    const bool goesOn = m_reusable;
    m_owner->responseArrived(this, response);
    // The owner may have closed us (and be gone itself); m_closed is still ours,
    // since we are only ever deleted later.
    return !goesOn || m_closed;
}

void ApiConnection::onDisconnected()
{
    if (m_closed)
        return;
    m_reusable = false;
    if (readResponse())  // whatever arrived with the FIN
        return;
    // The end of the stream completes a close-delimited body. A response cut short
    // is not "bad" but "unreachable".
    if (!m_requests.empty() && m_reader.finish() == HttpResponseReader::Status::Complete) {
        finishResponse();
        return;
    }
    fail(!m_requests.empty() ? QStringLiteral("connection closed by the API")
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

} // namespace ws2api
