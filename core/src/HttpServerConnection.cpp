#include "HttpServerConnection.h"

#include <QTcpSocket>
#include <QTimer>

#include "HttpResponse.h"
#include "transport/Transport.h"

namespace ws2api {

namespace {
// Idle keep-alive connections are closed after this long without a request.
constexpr int IdleTimeoutMs = 60000;
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
{
    m_socket->setParent(this);
    m_idleTimer->setSingleShot(true);
    m_idleTimer->callOnTimeout(m_socket, &QTcpSocket::abort);
    m_idleTimer->start(IdleTimeoutMs);
    // A client may send its requests and shut its side down (printf ... | socat,
    // nc -N, some HTTP libraries): each request still gets its answer, then the
    // connection closes.
    transport::allowHalfClose(m_socket);
    connect(m_socket, &QTcpSocket::readyRead, this, &HttpServerConnection::readMore);
    connect(m_socket, &QTcpSocket::readChannelFinished, this, [this] {
        if (m_socket->state() != QAbstractSocket::ConnectedState)
            return;  // closed altogether: disconnected() follows
        m_peerDone = true;
        readMore();
    });
    connect(m_socket, &QTcpSocket::disconnected, this, &QObject::deleteLater);
    readMore();
}

HttpServerConnection::~HttpServerConnection() = default;

void HttpServerConnection::readMore()
{
    if (m_closing)
        return;
    const QByteArray data = m_socket->readAll();
    if (!data.isEmpty()) {
        m_reader.feed(data);
        m_idleTimer->start(IdleTimeoutMs);
    }
    processNext();
}

void HttpServerConnection::processNext()
{
    if (m_busy || m_closing)
        return;
    HttpRequest request;
    if (m_reader.next(&request)) {
        m_busy = true;
        m_keepAlive = request.head.keepAlive;
        m_onRequest(this, request);
        return;
    }
    if (m_reader.error() != HttpRequestReader::Error::None) {
        m_busy = true;
        m_onError(this, m_reader.error(), m_reader.headOfRejected());
        return;
    }
    if (m_peerDone) {  // every request that came has its answer; no more will come
        m_closing = true;
        m_socket->disconnectFromHost();
    }
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
    if (close || !m_keepAlive || m_reader.error() != HttpRequestReader::Error::None) {
        m_closing = true;
        m_socket->disconnectFromHost();
        return;
    }
    // A pipelined request may already be buffered; answer it from the event loop so
    // a long pipeline cannot recurse.
    QMetaObject::invokeMethod(this, &HttpServerConnection::processNext, Qt::QueuedConnection);
}

} // namespace ws2api
