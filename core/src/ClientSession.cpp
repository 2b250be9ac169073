#include "ClientSession.h"

#include <QLoggingCategory>
#include <QTcpSocket>
#include <QTimer>
#include <QTimerEvent>
#include <algorithm>
#include <cstring>
#include <memory>

#include "ApiClient.h"
#include "ClientRegistry.h"
#include "transport/Transport.h"
#include "HostAddress.h"
#include "LogText.h"
#include "Metrics.h"
#include "Worker.h"
#include "ws/ServerFrame.h"

Q_LOGGING_CATEGORY(lcSession, "ws2api.session", QtInfoMsg)

namespace ws2api {

namespace {

qint64 nowMs() { return QDateTime::currentMSecsSinceEpoch(); }

// RFC 6455 7.4.1: the codes the API hears for a close frame without a code, and for
// a connection that ended without any; neither is ever sent.
constexpr int NoStatusCode = 1005;
constexpr int AbnormalClosure = 1006;

// A frame on its way out, header and payload together so that it leaves in one
// write: in one buffer per thread up to this size, in a buffer of its own above.
constexpr qsizetype SharedFrameRoom = 64 * 1024;

char *sharedFrameBuffer()
{
    static thread_local std::unique_ptr<char[]> buffer(new char[SharedFrameRoom]);
    return buffer.get();
}

} // namespace

ClientSession::ClientSession(Worker *worker, QTcpSocket *transport, QByteArray clientId, quint64 serial,
                             QString protocol)
    : QObject()  // owned by the worker's session table; see Worker::m_incoming
    , m_worker(worker)
    , m_transport(transport)
    , m_clientId(std::move(clientId))
    , m_serial(serial)
    , m_protocol(std::move(protocol))
    , m_peerAddress(transport->peerAddress())
    , m_peerPort(transport->peerPort())
    , m_reader(quint64(worker->config().maxMessage), this)
    , m_mode(worker->mode().newSession(*this))
    , m_connectedAtMs(nowMs())
    , m_lastActivityMs(m_connectedAtMs)
{
    m_transport->setParent(this);
    connect(m_transport, &QTcpSocket::readyRead, this, &ClientSession::onReadable);
    connect(m_transport, &QTcpSocket::disconnected, this, &ClientSession::onDisconnected);
    WorkerCounters::add(worker->counters().connections, 1);
}

ClientSession::~ClientSession() = default;

void ClientSession::start()
{
    onReadable();  // frames the client sent right behind its upgrade request
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

void ClientSession::onReadable()
{
    if (!m_transport)
        return;
    const QByteArray bytes = transport::takePending(m_transport);
    if (bytes.isEmpty())
        return;
    // Any byte is a sign of life for the dead-peer check, a large message's first ones
    // too.
    m_lastActivityMs = nowMs();
    if (m_reader.status() == ClientFrameReader::Status::Violation)
        return;  // the connection is being failed: what still comes is dropped
    if (m_reader.feed(bytes) == ClientFrameReader::Status::Violation)
        brokeProtocol();
}

// A frame RFC 6455 forbids: the messages before it went their way; the client is
// closed with the code the RFC names, which the API hears.
void ClientSession::brokeProtocol()
{
    m_worker->clientBrokeProtocol(this, m_reader.closeCode(), QString::fromLatin1(m_reader.reason()));
    // RFC 6455 7.1.7: with the close frame sent, the connection closes without
    // waiting for the client's.
    if (m_transport)
        m_transport->disconnectFromHost();
}

void ClientSession::frameMessage(QByteArray payload, bool binary)
{
    ++m_messagesIn;
    WorkerCounters::bump(m_worker->counters().messagesIn);
    m_mode->clientMessage(ClientMessage{std::move(payload), binary});
}

void ClientSession::framePing(QByteArray payload)
{
    if (m_transport && !m_closing)
        sendFrame(ws::Opcode::Pong, payload);
}

void ClientSession::framePong()
{
    // Its bytes were the sign of life (onReadable()).
}

void ClientSession::frameClose(std::optional<quint16> code, QByteArray reason)
{
    if (!m_transport)
        return;
    if (!m_closing) {
        // The client ends the connection: its close frame is answered with its code
        // (RFC 6455 5.5.1), and the API hears the code (1005 for none) and reason.
        m_closing = true;
        m_closer = Closer::Client;
        m_closeCode = code.value_or(NoStatusCode);
        m_closeReason = QString::fromUtf8(reason);
        m_worker->registry().release(m_clientId, m_serial);
        sendFrame(ws::Opcode::Close, code ? ws::closePayload(*code, {}) : QByteArray());
        abortAfterHandshakeTimeout();
    }
    // Both close frames are out: the server ends the TCP connection first (7.1.1).
    m_transport->disconnectFromHost();
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
    if (!m_transport || m_closing)
        return 404;
    if (transport::queuedBytes(m_transport) + message.data.size() > m_worker->config().sendQueueBytes) {
        qCInfo(lcSession).noquote() << "client" << quotedForLog(m_clientId)
                                    << "is not reading; send queue full, closing";
        close(1008, QStringLiteral("send queue full"), true);
        return 503;
    }
    if (message.binary || QByteArrayView(message.data).isValidUtf8()) {
        sendFrame(message.binary ? ws::Opcode::Binary : ws::Opcode::Text, message.data);
    } else {
        // A text frame must be UTF-8 (RFC 6455 8.1), whatever the API answered: what is
        // not becomes U+FFFD, as QWebSocket made it, rather than a frame the client
        // would fail the connection for.
        sendFrame(ws::Opcode::Text, QString::fromUtf8(message.data).toUtf8());
    }
    ++m_messagesOut;
    WorkerCounters::bump(m_worker->counters().messagesOut);
    return 200;
}

void ClientSession::sendFrame(ws::Opcode opcode, QByteArrayView payload)
{
    const qsizetype size = ws::MaxServerHeader + payload.size();
    QByteArray own;
    char *frame = sharedFrameBuffer();
    if (size > SharedFrameRoom) {
        own.resize(size);
        frame = own.data();
    }
    const int header = ws::serverFrameHeader(frame, opcode, quint64(payload.size()));
    if (!payload.isEmpty())
        std::memcpy(frame + header, payload.data(), size_t(payload.size()));
    m_transport->write(frame, header + payload.size());
}

LogThrottle &ClientSession::frameRejected()
{
    WorkerCounters::bump(m_worker->counters().framesRejected);
    return m_worker->messageProblemLog();
}

void ClientSession::startCallTimer(int ms)
{
    if (m_transport)
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

void ClientSession::close(int code, const QString &reason, bool notifyApi)
{
    if (!m_transport || m_closing)
        return;
    m_closing = true;
    m_notifyApi = notifyApi;
    m_closer = Closer::Daemon;
    m_closeCode = code;
    m_closeReason = reason;
    m_worker->registry().release(m_clientId, m_serial);
    sendFrame(ws::Opcode::Close, ws::closePayload(quint16(code), reason.toUtf8()));
    // The client answers with its close frame (frameClose()).
    abortAfterHandshakeTimeout();
}

// A closing connection whose peer never answers, or never reads what is still queued
// for it, must not keep its socket (and its session, and its connection slot) for ever.
void ClientSession::abortAfterHandshakeTimeout()
{
    QTimer::singleShot(m_worker->config().handshakeTimeoutMs, this, [this] {
        if (m_transport)
            m_transport->abort();
    });
}

void ClientSession::ping()
{
    if (m_transport && !m_closing)
        sendFrame(ws::Opcode::Ping, {});
}

void ClientSession::abortDeadPeer()
{
    if (!m_transport)
        return;
    m_closing = true;
    m_closer = Closer::Daemon;
    m_closeCode = AbnormalClosure;  // no close frame either way
    m_closeReason = QStringLiteral("ping timeout");
    m_transport->abort();
}

void ClientSession::onDisconnected()
{
    if (!m_transport)
        return;
    if (m_closer == Closer::Nobody) {
        // Neither side sent a close frame: a FIN, a reset, a broken network.
        m_closer = Closer::Network;
        m_closeCode = AbnormalClosure;
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
    m_transport->disconnect(this);
    m_transport->deleteLater();
    m_transport = nullptr;
    m_callTimer.stop();
    m_mode->clientGone();
    finishIfDone();
}

void ClientSession::finishIfDone()
{
    if (m_ended || m_transport || m_orderedInFlight || !m_ordered.empty() || m_unorderedInFlight > 0)
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
