#include "HttpServerConnection.h"

#include <QTcpSocket>
#include <QTimer>

#include "HttpResponse.h"
#include "transport/Transport.h"

namespace ws2api {

namespace {
// Idle keep-alive connections are closed after this long without a byte in or out.
constexpr int IdleTimeoutMs = 60000;
constexpr int DefaultRequestTimeoutMs = 10000;
// What one read from the socket takes at most; the reader parses from it one request
// at a time.
constexpr qint64 ReadChunk = 64 * 1024;
// Answers written but not yet taken by the peer beyond this: no new request is taken
// until it reads them.
constexpr qint64 MaxUnreadAnswers = 64 * 1024;
}

HttpServerConnection::HttpServerConnection(QTcpSocket *socket, qint64 maxBody,
                                           RequestHandler onRequest, ErrorHandler onError,
                                           QObject *parent)
    : QObject(parent)
    , m_socket(socket)
    , m_reader(maxBody)
    , m_onRequest(std::move(onRequest))
    , m_onError(std::move(onError))
    , m_idleTimer(new QTimer(this))
    , m_requestTimer(new QTimer(this))
    , m_requestTimeoutMs(DefaultRequestTimeoutMs)
{
    m_socket->setParent(this);
    m_idleTimer->setSingleShot(true);
    m_idleTimer->callOnTimeout(this, &HttpServerConnection::onIdleTimeout);
    m_lastActivity.start();
    m_idleTimer->start(IdleTimeoutMs);
    m_requestTimer->setSingleShot(true);
    m_requestTimer->callOnTimeout(this, &HttpServerConnection::onRequestTimeout);
    // A client may send its requests and shut its side down (printf ... | socat,
    // nc -N, some HTTP libraries): each request still gets its answer, then the
    // connection closes.
    transport::allowHalfClose(m_socket);
    connect(m_socket, &QTcpSocket::readyRead, this, &HttpServerConnection::pump);
    connect(m_socket, &QTcpSocket::readChannelFinished, this, [this] {
        if (m_socket->state() != QAbstractSocket::ConnectedState)
            return;  // closed altogether: disconnected() follows
        m_peerDone = true;
        pump();
    });
    connect(m_socket, &QTcpSocket::bytesWritten, this, [this] {
        if (!m_closing)
            m_lastActivity.start();
        pump();
    });
    connect(m_socket, &QTcpSocket::disconnected, this, &QObject::deleteLater);
    pump();
}

HttpServerConnection::~HttpServerConnection() = default;

void HttpServerConnection::setRequestTimeout(int ms)
{
    m_requestTimeoutMs = ms;
    if (m_requestTimer->isActive())
        m_requestTimer->start(ms);
}

void HttpServerConnection::fill()
{
    while (!m_timedOut && !m_reader.hasRequest() && m_reader.wantsMore()) {
        if (m_unparsedPos == m_unparsed.size()) {
            // Sized by what is there: QIODevice::read(n) allocates n bytes first.
            const qint64 available = m_socket->bytesAvailable();
            m_unparsed = m_socket->read(available > 0 ? qMin(available, ReadChunk) : ReadChunk);
            m_unparsedPos = 0;
            if (m_unparsed.isEmpty())
                break;
            m_lastActivity.start();
        }
        m_unparsedPos += m_reader.feedSome(QByteArrayView(m_unparsed).sliced(m_unparsedPos));
    }
    if (!m_reader.wantsMore() || m_unparsedPos == m_unparsed.size())
        dropUnparsed();  // all taken; or after an error, or a request that ends the connection
    if (!m_reader.inRequest())
        m_requestTimer->stop();
    else if (!m_requestTimer->isActive() && !m_timedOut)
        m_requestTimer->start(m_requestTimeoutMs);
}

void HttpServerConnection::pump()
{
    if (m_closing)
        return;
    fill();
    if (m_busy || m_socket->bytesToWrite() > MaxUnreadAnswers)
        return;  // respond() or bytesWritten() comes back here
    HttpRequest request;
    if (m_reader.next(&request)) {
        m_busy = true;
        m_keepAlive = request.head.keepAlive;
        m_onRequest(this, request);
        return;
    }
    if (m_reader.error() != HttpRequestReader::Error::None) {
        m_busy = true;
        m_answeringError = true;
        m_onError(this, m_reader.error(), m_reader.headOfRejected());
        return;
    }
    if (m_timedOut) {
        m_socket->write(HttpResponse::build(408, "request not complete in time\n", {}, true));
        return close();
    }
    if (m_peerDone && m_unparsed.isEmpty() && m_socket->bytesAvailable() == 0)
        close();  // every request that came has its answer; no more will come
}

// Activity only notes the time (a timer re-armed per request costs more than the
// request's parsing); the timer, once due, re-arms itself for what is left.
void HttpServerConnection::onIdleTimeout()
{
    const qint64 left = IdleTimeoutMs - m_lastActivity.elapsed();
    if (left > 0)
        return m_idleTimer->start(int(left));
    m_socket->abort();
}

void HttpServerConnection::onRequestTimeout()
{
    if (m_closing || !m_reader.inRequest())
        return;
    m_timedOut = true;
    dropUnparsed();
    pump();
}

void HttpServerConnection::dropUnparsed()
{
    m_unparsed = QByteArray();
    m_unparsedPos = 0;
}

void HttpServerConnection::close()
{
    m_closing = true;
    m_requestTimer->stop();
    m_socket->disconnectFromHost();
}

void HttpServerConnection::respond(const QByteArray &response, bool close)
{
    Q_ASSERT(m_busy);
    m_busy = false;
    if (m_socket->state() != QAbstractSocket::ConnectedState) {
        deleteLater();
        return;
    }
    m_socket->write(response);
    if (close || !m_keepAlive || m_answeringError)
        return this->close();
    // A pipelined request may already be buffered; answer it from the event loop so
    // a long pipeline cannot recurse. With nothing buffered, readyRead() comes back
    // (one posted call per request less: most senders wait for each answer).
    if (hasPendingInput())
        QMetaObject::invokeMethod(this, &HttpServerConnection::pump, Qt::QueuedConnection);
}

bool HttpServerConnection::hasPendingInput() const
{
    return m_reader.hasRequest() || m_reader.error() != HttpRequestReader::Error::None
        || m_unparsedPos < m_unparsed.size() || m_socket->bytesAvailable() > 0 || m_peerDone
        || m_timedOut;
}

} // namespace ws2api
