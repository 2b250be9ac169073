#include "ClientSession.h"

#include <QLoggingCategory>
#include <QTimer>
#include <QWebSocket>

#include "ApiClient.h"
#include "ClientRegistry.h"
#include "Metrics.h"
#include "Worker.h"

Q_LOGGING_CATEGORY(lcSession, "ws2api.session", QtInfoMsg)

namespace ws2api {

namespace {
qint64 nowMs() { return QDateTime::currentMSecsSinceEpoch(); }
}

ClientSession::ClientSession(Worker *worker, QWebSocket *socket, QByteArray clientId, quint64 serial)
    : QObject(worker)
    , m_worker(worker)
    , m_socket(socket)
    , m_clientId(std::move(clientId))
    , m_serial(serial)
    , m_lastActivityMs(nowMs())
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
    connect(m_socket, &QWebSocket::disconnected, this, &ClientSession::onDisconnected);
    WorkerCounters::add(worker->counters().connections, 1);
}

ClientSession::~ClientSession() = default;

void ClientSession::onMessage(ClientMessage message)
{
    m_lastActivityMs = nowMs();
    WorkerCounters::bump(m_worker->counters().messagesIn);
    if (qsizetype(m_pending.size()) >= m_worker->config().maxPendingMessages) {
        // The client sends faster than the API answers; refusing loudly beats an
        // unbounded queue or a silent drop.
        qCWarning(lcSession) << "client" << m_clientId << "has too many messages waiting for the API; closing";
        close(1008, QStringLiteral("too many messages waiting for the API"), true);
        return;
    }
    m_pending.push_back(std::move(message));
    pump();
}

void ClientSession::pump()
{
    if (m_inFlight || m_pending.empty())
        return;
    m_inFlight = true;
    const ClientMessage &message = m_pending.front();
    m_worker->callApi(m_worker->mode().messageRequest(m_clientId, message), this,
                      [this](const ApiResponse &response) {
        ClientMessage sent = std::move(m_pending.front());
        m_pending.pop_front();
        m_inFlight = false;
        if (auto reply = m_worker->mode().reply(sent, response); reply && m_socket && !m_closing)
            send(*reply);
        pump();
        finishIfDone();
    });
}

int ClientSession::send(const ClientMessage &message)
{
    if (!m_socket || m_closing)
        return 404;
    if (m_socket->bytesToWrite() + message.data.size() > m_worker->config().sendQueueBytes) {
        qCWarning(lcSession) << "client" << m_clientId << "is not reading; send queue full, closing";
        close(1008, QStringLiteral("send queue full"), true);
        return 503;
    }
    if (message.binary)
        m_socket->sendBinaryMessage(message.data);
    else
        m_socket->sendTextMessage(QString::fromUtf8(message.data));
    WorkerCounters::bump(m_worker->counters().messagesOut);
    return 200;
}

void ClientSession::close(int code, const QString &reason, bool notifyApi)
{
    if (!m_socket || m_closing)
        return;
    m_closing = true;
    m_notifyApi = notifyApi;
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
    if (m_socket && !m_closing)
        m_socket->ping();
}

void ClientSession::abortDeadPeer()
{
    if (!m_socket)
        return;
    qCInfo(lcSession) << "client" << m_clientId << "answered no ping; closing";
    m_closing = true;
    m_closeReason = QStringLiteral("ping timeout");
    m_socket->abort();
}

void ClientSession::onDisconnected()
{
    if (!m_socket)
        return;
    if (m_closeReason.isEmpty()) {
        m_closeReason = m_socket->closeReason();
        if (m_closeReason.isEmpty())
            m_closeReason = QStringLiteral("closed (%1)").arg(int(m_socket->closeCode()));
    }
    m_worker->registry().release(m_clientId, m_serial);
    WorkerCounters::add(m_worker->counters().connections, -1);
    m_socket->disconnect(this);
    m_socket->deleteLater();
    m_socket = nullptr;
    finishIfDone();
}

void ClientSession::finishIfDone()
{
    if (m_ended || m_socket || m_inFlight || !m_pending.empty())
        return;
    m_ended = true;
    if (m_notifyApi && m_worker->config().notifyDisconnect)
        m_worker->callApi(m_worker->mode().disconnectRequest(m_clientId, m_closeReason), m_worker, {});
    m_notifyApi = false;
    m_worker->sessionEnded(this);
}

} // namespace ws2api
