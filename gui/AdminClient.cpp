#include "AdminClient.h"

#include <QLocalSocket>
#include <QLoggingCategory>

Q_LOGGING_CATEGORY(lcAdminClient, "ws2api.gui.client", QtInfoMsg)

namespace ws2api::gui {

namespace {

// A daemon that accepts the socket but never answers hello is as good as absent.
constexpr int HelloTimeoutMs = 5000;

admin::Incoming localFailure(const QString &code, const QString &message)
{
    admin::Incoming failure;
    failure.ok = false;
    failure.errorCode = code;
    failure.errorMessage = message;
    return failure;
}

} // namespace

AdminClient::AdminClient(QObject *parent)
    : QObject(parent)
    , m_socket(new QLocalSocket(this))
{
    m_retryTimer.setSingleShot(true);
    connect(&m_retryTimer, &QTimer::timeout, this, &AdminClient::attempt);
    m_helloTimer.setSingleShot(true);
    m_helloTimer.setInterval(HelloTimeoutMs);
    connect(&m_helloTimer, &QTimer::timeout, this, [this] {
        qCWarning(lcAdminClient) << "no hello reply from" << m_socketName << "- reconnecting";
        m_socket->abort();
    });
    connect(m_socket, &QLocalSocket::connected, this, &AdminClient::onSocketConnected);
    // Not disconnected(): a failed attempt never was connected and emits only this.
    connect(m_socket, &QLocalSocket::stateChanged, this, [this](QLocalSocket::LocalSocketState state) {
        if (state == QLocalSocket::UnconnectedState)
            onSocketGone();
    });
    connect(m_socket, &QLocalSocket::readyRead, this, &AdminClient::onReadyRead);
    connect(m_socket, &QLocalSocket::errorOccurred, this, [this](QLocalSocket::LocalSocketError error) {
        qCDebug(lcAdminClient) << "socket" << m_socketName << error << m_socket->errorString();
    });
}

AdminClient::~AdminClient()
{
    // Handlers may point at widgets that are being destroyed too: drop them unheard,
    // and let the socket's own teardown signal nothing back into a half-dead object.
    m_running = false;
    m_pending.clear();
    disconnect(m_socket, nullptr, this, nullptr);
    m_socket->abort();
}

void AdminClient::connectTo(const QString &socketName)
{
    stop();
    m_socketName = socketName;
    m_running = true;
    m_retryDelayMs = m_initialRetryMs;
    attempt();
}

void AdminClient::stop()
{
    m_running = false;
    m_retryTimer.stop();
    m_socket->abort();
    onSocketGone();
}

void AdminClient::setRetryDelays(int initialMs, int maxMs)
{
    m_initialRetryMs = initialMs;
    m_maxRetryMs = std::max(initialMs, maxMs);
    m_retryDelayMs = initialMs;
}

void AdminClient::attempt()
{
    if (!m_running)
        return;
    m_reader = admin::LineReader();
    m_socket->abort();
    m_socket->connectToServer(m_socketName);
}

void AdminClient::onSocketConnected()
{
    qCDebug(lcAdminClient) << "connected to" << m_socketName << "- saying hello";
    m_helloTimer.start();
    send(QStringLiteral("hello"), {{QStringLiteral("version"), admin::ProtocolVersion}},
         [this](const admin::Incoming &reply) { handleHelloReply(reply); });
}

void AdminClient::handleHelloReply(const admin::Incoming &reply)
{
    m_helloTimer.stop();
    if (!reply.ok) {
        // "disconnected" means the socket is already gone and a retry is scheduled.
        if (reply.errorCode != QLatin1String("disconnected")) {
            qCWarning(lcAdminClient) << "hello refused:" << reply.errorCode << reply.errorMessage;
            m_socket->abort();
        }
        return;
    }
    const int version = reply.body.value(QStringLiteral("version")).toInt();
    if (version != admin::ProtocolVersion)
        qCWarning(lcAdminClient) << "daemon speaks admin protocol" << version << "- we speak"
                                 << admin::ProtocolVersion;
    m_ready = true;
    m_hello = reply.body;
    m_retryDelayMs = m_initialRetryMs;
    Q_EMIT connected(m_hello);
    if (m_subscribeIntervalMs > 0 && m_ready)
        request(QStringLiteral("subscribe"), {{QStringLiteral("intervalMs"), m_subscribeIntervalMs}});
}

void AdminClient::onSocketGone()
{
    m_helloTimer.stop();
    const bool wasReady = m_ready;
    m_ready = false;
    failPending(QStringLiteral("disconnected"), tr("The daemon went away"));
    if (wasReady) {
        qCInfo(lcAdminClient) << "lost the daemon at" << m_socketName;
        Q_EMIT disconnected();
    }
    scheduleRetry();
}

void AdminClient::scheduleRetry()
{
    // stop() and a lost connection may both report the loss: one retry at a time.
    if (!m_running || m_retryTimer.isActive())
        return;
    const int delay = m_retryDelayMs;
    m_retryTimer.start(delay);
    m_retryDelayMs = std::min(m_retryDelayMs * 2, m_maxRetryMs);
    Q_EMIT retryScheduled(delay);
}

void AdminClient::failPending(const QString &code, const QString &message)
{
    // Handlers may send new requests; they must not land in the table being drained.
    const QHash<qint64, ReplyHandler> pending = std::exchange(m_pending, {});
    const admin::Incoming failure = localFailure(code, message);
    for (const ReplyHandler &handler : pending)
        handler(failure);
}

void AdminClient::onReadyRead()
{
    m_reader.feed(m_socket->readAll());
    QByteArray line;
    for (;;) {
        const auto status = m_reader.next(&line);
        if (status == admin::LineReader::Status::Incomplete)
            break;
        if (status == admin::LineReader::Status::TooLong) {
            qCWarning(lcAdminClient) << "dropped a line over" << admin::MaxLineBytes << "bytes";
            continue;
        }
        handleLine(line);
        // A handler may have stopped or restarted the connection.
        if (m_socket->state() != QLocalSocket::ConnectedState)
            break;
    }
}

void AdminClient::handleLine(const QByteArray &line)
{
    QString error;
    const std::optional<admin::Incoming> incoming = admin::parseIncoming(line, &error);
    if (!incoming) {
        qCWarning(lcAdminClient) << "unreadable line from the daemon:" << error;
        return;
    }
    if (!incoming->id) {
        if (incoming->type == QLatin1String("stats"))
            Q_EMIT statsEvent(incoming->body);
        else
            qCDebug(lcAdminClient) << "ignoring event" << incoming->type;
        return;
    }
    const ReplyHandler handler = m_pending.take(*incoming->id);
    if (handler)
        handler(*incoming);
    else
        qCDebug(lcAdminClient) << "reply to unknown request" << *incoming->id;
}

qint64 AdminClient::request(const QString &type, const QJsonObject &body, ReplyHandler onReply)
{
    if (!m_ready) {
        if (onReply) {
            QTimer::singleShot(0, this, [onReply] {
                onReply(localFailure(QStringLiteral("not_connected"), tr("Not connected to the daemon")));
            });
        }
        return 0;
    }
    if (!onReply) {
        // Nobody waits for this one, but a refusal must still be heard somewhere.
        onReply = [type](const admin::Incoming &reply) {
            // A lost daemon is reported once, by disconnected(), not per request.
            if (!reply.ok && reply.errorCode != QLatin1String("disconnected"))
                qCWarning(lcAdminClient) << type << "failed:" << reply.errorCode << reply.errorMessage;
        };
    }
    return send(type, body, std::move(onReply));
}

qint64 AdminClient::send(const QString &type, const QJsonObject &body, ReplyHandler onReply)
{
    const qint64 id = m_nextId++;
    m_pending.insert(id, std::move(onReply));
    m_socket->write(admin::encodeRequest(id, type, body));
    return id;
}

void AdminClient::subscribe(int intervalMs)
{
    m_subscribeIntervalMs = intervalMs;
    if (m_ready)
        request(QStringLiteral("subscribe"), {{QStringLiteral("intervalMs"), intervalMs}});
}

void AdminClient::unsubscribe()
{
    m_subscribeIntervalMs = 0;
    if (m_ready)
        request(QStringLiteral("unsubscribe"));
}

} // namespace ws2api::gui
