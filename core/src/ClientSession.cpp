#include "ClientSession.h"

#include <QLoggingCategory>
#include <QTimer>
#include <QTimerEvent>
#include <QWebSocket>
#include <algorithm>

#include "ApiClient.h"
#include "ClientRegistry.h"
#include "DirectTcpSocket.h"
#include "transport/Transport.h"
#include "HostAddress.h"
#include "LogText.h"
#include "Metrics.h"
#include "Worker.h"

Q_LOGGING_CATEGORY(lcSession, "ws2api.session", QtInfoMsg)

namespace ws2api {

namespace {

qint64 nowMs() { return QDateTime::currentMSecsSinceEpoch(); }

// What QWebSocket answers a client's close frame with: its code, or 1000 for a
// frame without one.
int echoedCode(const CloseFrameScanner::Close &close)
{
    return close.code.value_or(QWebSocketProtocol::CloseCodeNormal);
}

} // namespace

ClientSession::ClientSession(Worker *worker, QWebSocket *socket, QTcpSocket *transport,
                             QByteArray clientId, quint64 serial, QString protocol)
    : QObject()  // owned by the worker's session table; see Worker::m_incoming
    , m_worker(worker)
    , m_socket(socket)
    , m_transport(transport)
    , m_tcp(qobject_cast<DirectTcpSocket *>(transport))
    , m_clientId(std::move(clientId))
    , m_serial(serial)
    , m_protocol(std::move(protocol))
    , m_peerAddress(socket->peerAddress())
    , m_peerPort(socket->peerPort())
    , m_mode(worker->mode().newSession(*this))
    , m_connectedAtMs(nowMs())
    , m_lastActivityMs(m_connectedAtMs)
{
    m_socket->setParent(this);
    const auto maxMessage = quint64(worker->config().maxMessage);
    m_socket->setMaxAllowedIncomingMessageSize(maxMessage);
    m_socket->setMaxAllowedIncomingFrameSize(maxMessage);
    connect(m_socket, &QWebSocket::textMessageReceived, this, [this](const QString &text) {
        onMessage(ClientMessage{text.toUtf8(), false});
    });
    connect(m_socket, &QWebSocket::binaryMessageReceived, this, [this](const QByteArray &data) {
        onMessage(ClientMessage{data, true});
    });
    connect(m_socket, &QWebSocket::pong, this, [this] { m_lastActivityMs = nowMs(); });
    connect(m_socket, &QWebSocket::aboutToClose, this, &ClientSession::onAboutToClose);
    connect(m_socket, &QWebSocket::disconnected, this, &ClientSession::onDisconnected);
    WorkerCounters::add(worker->counters().connections, 1);
}

ClientSession::~ClientSession()
{
    // The Worker pointed the transport's read tap here (clientBytesRead()).
    if (m_transport)
        transport::followReads(m_transport, {});
}

QString ClientSession::remote() const
{
    return peerText(m_peerAddress, m_peerPort);
}

ConnectionInfo ClientSession::info() const
{
    ConnectionInfo info;
    info.clientId = m_clientId;
    info.remote = remote();
    info.protocol = m_protocol;
    info.connectedAtMs = m_connectedAtMs;
    info.messagesIn = m_messagesIn;
    info.messagesOut = m_messagesOut;
    info.lastActivityMs = m_lastActivityMs;
    return info;
}

void ClientSession::onMessage(ClientMessage message)
{
    m_lastActivityMs = nowMs();
    ++m_messagesIn;
    WorkerCounters::bump(m_worker->counters().messagesIn);
    m_mode->clientMessage(std::move(message));
}

void ClientSession::callApiInOrder(ApiRequest request, ApiCallback done)
{
    if (qsizetype(m_ordered.size()) >= m_worker->config().maxPendingMessages) {
        // The client sends faster than the API answers; refusing loudly beats an
        // unbounded queue or a silent drop.
        qCInfo(lcSession).noquote() << "client" << quotedForLog(m_clientId)
                                    << "has too many messages waiting for the API; closing";
        close(1008, QStringLiteral("too many messages waiting for the API"), true);
        return;
    }
    m_ordered.append(Pending{std::move(request), std::move(done)});
    pump();
}

void ClientSession::pump()
{
    if (m_orderedInFlight || m_ordered.empty())
        return;
    m_orderedInFlight = true;
    m_worker->callApi(std::move(m_ordered.front().request), this, [this](const ApiResponse &response) {
        const ApiCallback done = std::move(m_ordered.front().done);
        m_ordered.removeFirst();
        m_orderedInFlight = false;
        if (done)
            done(response);
        pump();
        finishIfDone();
    });
}

void ClientSession::callApi(ApiRequest request, ApiCallback done)
{
    ++m_unorderedInFlight;
    m_worker->callApi(std::move(request), this, [this, done = std::move(done)](const ApiResponse &response) {
        --m_unorderedInFlight;
        if (done)
            done(response);
        finishIfDone();
    });
}

int ClientSession::send(const ClientMessage &message)
{
    if (!m_socket || m_closing)
        return 404;
    if (transport::queuedBytes(m_transport) + message.data.size() > m_worker->config().sendQueueBytes) {
        qCInfo(lcSession).noquote() << "client" << quotedForLog(m_clientId)
                                    << "is not reading; send queue full, closing";
        close(1008, QStringLiteral("send queue full"), true);
        return 503;
    }
    {
        const DirectTcpSocket::WriteBatch oneSend(m_tcp);
        if (message.binary)
            m_socket->sendBinaryMessage(message.data);
        else
            m_socket->sendTextMessage(QString::fromUtf8(message.data));
    }
    ++m_messagesOut;
    WorkerCounters::bump(m_worker->counters().messagesOut);
    return 200;
}

LogThrottle &ClientSession::frameRejected()
{
    WorkerCounters::bump(m_worker->counters().framesRejected);
    return m_worker->messageProblemLog();
}

void ClientSession::startCallTimer(int ms)
{
    if (m_socket)
        m_callTimer.start(ms, this);
}

void ClientSession::stopCallTimer()
{
    m_callTimer.stop();
}

void ClientSession::timerEvent(QTimerEvent *event)
{
    if (event->timerId() != m_callTimer.timerId())
        return QObject::timerEvent(event);
    m_callTimer.stop();  // single shot
    m_mode->callTimedOut();
}

void ClientSession::clientBytesRead(QByteArrayView bytes)
{
    m_bytesFollowed = true;
    if (bytes.isEmpty() || m_scanner.close())
        return;
    const auto pass = qsizetype(std::min<quint64>(m_scanner.skippable(), quint64(bytes.size())));
    m_scanner.skip(quint64(pass));
    m_scanner.feed(bytes.sliced(pass));
}

// QWebSocket sends a close frame, not asked to by us: its answer to the client's, or
// its own on a protocol error (1002), a message too big (1009), ... (A connection
// that drops without a close frame never shows here, only in onDisconnected().)
void ClientSession::onAboutToClose()
{
    if (!m_socket || m_closer != Closer::Nobody)
        return;  // ours, or told already (the transport's own aboutToClose follows Qt's)
    const int sent = int(m_socket->closeCode());
    const auto &received = m_scanner.close();
    if (!m_bytesFollowed || (received && !received->malformed && sent == echoedCode(*received))) {
        // The client's close frame, which Qt echoes (without its bytes, an empty one
        // cannot be told from 1000, nor Qt's own close from a client's).
        m_closer = Closer::Client;
        m_closeCode = received ? received->code.value_or(QWebSocketProtocol::CloseCodeMissingStatusCode) : sent;
        m_closeReason = received ? QString::fromUtf8(received->reason) : m_socket->closeReason();
        return;
    }
    // Qt refused what the client sent (a bad close frame included) and closed.
    m_closer = Closer::Daemon;
    m_closeCode = sent;
    m_closeReason = m_socket->closeReason();
}

void ClientSession::close(int code, const QString &reason, bool notifyApi)
{
    if (!m_socket || m_closing)
        return;
    m_closing = true;
    m_notifyApi = notifyApi;
    m_closer = Closer::Daemon;
    m_closeCode = code;
    m_closeReason = reason;
    m_worker->registry().release(m_clientId, m_serial);
    m_socket->close(QWebSocketProtocol::CloseCode(code), reason);
    // A peer that never answers the close handshake (or never reads) must not keep
    // its socket for ever.
    QTimer::singleShot(m_worker->config().handshakeTimeoutMs, this, [this] {
        if (m_socket)
            m_socket->abort();
    });
}

void ClientSession::ping()
{
    if (m_socket && !m_closing) {
        const DirectTcpSocket::WriteBatch oneSend(m_tcp);
        m_socket->ping();
    }
}

void ClientSession::abortDeadPeer()
{
    if (!m_socket)
        return;
    m_closing = true;
    m_closer = Closer::Daemon;
    m_closeCode = QWebSocketProtocol::CloseCodeAbnormalDisconnection;  // no close frame either way
    m_closeReason = QStringLiteral("ping timeout");
    m_socket->abort();
}

void ClientSession::onDisconnected()
{
    if (!m_socket)
        return;
    if (m_closer == Closer::Nobody) {
        // Neither side sent a close frame: a FIN, a reset, a broken network.
        m_closer = Closer::Network;
        m_closeCode = QWebSocketProtocol::CloseCodeAbnormalDisconnection;
        m_closeReason.clear();
    }
    static constexpr const char *How[] = {"", "closed by ws2apid", "by the client",
                                          "dropped without a close frame"};
    qCInfo(lcSession).noquote().nospace()
        << "client " << quotedForLog(m_clientId) << " from " << remote() << " disconnected ("
        << How[int(m_closer)] << "): code " << m_closeCode << " reason " << quotedForLog(m_closeReason)
        << ", after " << QString::number(double(nowMs() - m_connectedAtMs) / 1000, 'f', 1) << " s, "
        << m_messagesIn << " messages in, " << m_messagesOut << " out";
    m_worker->registry().release(m_clientId, m_serial);
    WorkerCounters::add(m_worker->counters().connections, -1);
    m_socket->disconnect(this);
    transport::followReads(m_transport, {});
    m_socket->deleteLater();
    m_socket = nullptr;
    m_tcp = nullptr;
    m_transport = nullptr;
    m_callTimer.stop();
    m_mode->clientGone();
    finishIfDone();
}

void ClientSession::finishIfDone()
{
    if (m_ended || m_socket || m_orderedInFlight || !m_ordered.empty() || m_unorderedInFlight > 0)
        return;
    m_ended = true;
    // A client back already, whose new connection the API accepted after this one
    // went: to the API this one was replaced (no notice, as for a replaced one), and a
    // notice now would follow the new connect request and make the client look gone.
    if (m_notifyApi && m_worker->config().notifyDisconnect
        && !m_worker->registry().heldByNewer(m_clientId, m_serial))
        m_worker->callApi(m_worker->mode().disconnectRequest(m_clientId, m_closeReason, m_closeCode),
                          m_worker, {});
    m_notifyApi = false;
    m_worker->sessionEnded(this);
}

} // namespace ws2api
