#include "Worker.h"

#include <QDateTime>
#include <algorithm>
#include <QElapsedTimer>
#include <QLoggingCategory>
#include <QPointer>
#include <QTcpSocket>
#include <QThread>
#include <QTimer>

#include "ApiClient.h"
#include "ClientRegistry.h"
#include "ClientSession.h"
#include "ConnectGate.h"
#ifdef WS2API_HAVE_EPOLL
#include "EpollEventDispatcher.h"
#endif
#include "HostAddress.h"
#include "transport/AcceptedSocket.h"
#include "transport/Transport.h"
#include "IncomingConnection.h"
#include "LogText.h"
#include "LoopLagProbe.h"
#include "Metrics.h"
#include "PushEndpoint.h"
#include "modes/OcppMode.h"
#include "modes/PlainMode.h"
#include "ws/ServerFrame.h"

Q_LOGGING_CATEGORY(lcWorker, "ws2api.worker", QtInfoMsg)

namespace ws2api {

namespace {

constexpr int MaxPingSlices = 100;

WorkerCounters::Api apiOutcome(const ApiResponse &response)
{
    using Api = WorkerCounters::Api;
    switch (response.outcome) {
    case ApiResponse::Outcome::Ok:
        return response.status >= 200 && response.status < 300 ? Api::Ok : Api::ErrorStatus;
    case ApiResponse::Outcome::Timeout: return Api::Timeout;
    case ApiResponse::Outcome::Unreachable: return Api::Unreachable;
    case ApiResponse::Outcome::Overloaded: return Api::Overloaded;
    case ApiResponse::Outcome::BadResponse: return Api::BadResponse;
    }
    return Api::BadResponse;
}

} // namespace

Worker::Worker(int index, Shared shared)
    : m_index(index)
    , m_shared(std::move(shared))
    , m_incoming(new QObject(this))
{
}

Worker::~Worker()
{
    // Sessions die first, while the members their sockets' last signals would reach
    // still exist; QObject would only delete them after our members are gone.
    m_drained = true;
    const auto sessions = std::exchange(m_sessions, {});
    qDeleteAll(sessions);
}

WorkerCounters &Worker::counters()
{
    return m_shared.metrics->worker(m_index);
}

void Worker::start(const QList<Worker *> &allWorkers)
{
    Q_ASSERT(QThread::currentThread() == thread());
    m_workers = allWorkers;
    const ProxyConfig &config = m_shared.config;
    if (config.mode == ProxyConfig::Mode::Ocpp) {
        OcppMode::Settings ocpp;
        ocpp.subprotocols = config.subprotocols;
        ocpp.defaultSubprotocol = config.defaultSubprotocol;
        ocpp.callQueue = config.callQueue;
        ocpp.callTimeoutMs = config.callTimeoutMs;
        m_mode = std::make_unique<OcppMode>(m_shared.apiBasePath, std::move(ocpp));
    } else {
        m_mode = std::make_unique<PlainMode>(m_shared.apiBasePath);
    }
    m_mode->reconfigure(config);
    updateTls();
    updateGathering();

    ApiClientConfig api;
    api.host = QString::fromLatin1(m_shared.apiHost);
    api.port = m_shared.apiPort;
    api.poolSize = config.apiPoolSize;
    api.pipelineDepth = config.apiPipeline;
    api.maxQueued = config.apiMaxQueued;
    api.timeoutMs = config.apiTimeoutMs;
    api.tls = config.api.scheme() == u"https";
    api.caCertificates = config.apiCaCertificates;
    api.maxResponseBody = config.maxMessage;
    m_api = new ApiClient(api, this);
    connect(m_api, &ApiClient::idle, this, &Worker::maybeDrained);

    m_push = new PushEndpoint(this);
    // How late this loop serves timers and sockets, for /metrics (ws2api_event_loop_lag_*).
    new LoopLagProbe(&counters().loopLag, this);

    startPings();
}

void Worker::startPings()
{
    const int interval = config().pingIntervalMs;
    if (interval <= 0) {
        delete std::exchange(m_pingTimer, nullptr);
        return;
    }
    // Each tick pings one slice of the clients, so that 19k pings do not leave in
    // one burst that stalls replies behind them.
    m_pingSlices = std::clamp(interval / 100, 1, MaxPingSlices);
    if (!m_pingTimer) {
        m_pingTimer = new QTimer(this);
        m_pingTimer->callOnTimeout(this, &Worker::pingSweep);
    }
    m_pingTimer->start(interval / m_pingSlices);
}

void Worker::reconfigure(const ProxyConfig &config)
{
    Q_ASSERT(QThread::currentThread() == thread());
    m_shared.config = config;
    updateTls();  // new certificates serve the next handshakes; open connections stay
    updateGathering();
    m_api->setLimits(config.apiTimeoutMs, config.maxMessage);
    m_mode->reconfigure(config);
    m_push->reconfigure();
    if (!m_shuttingDown)
        startPings();
}

void Worker::takeConnection(qintptr descriptor, ListenerRole role)
{
    Q_ASSERT(QThread::currentThread() == thread());
    const auto &tls = role == ListenerRole::Pushes ? m_pushTls : m_listenTls;
    auto *socket = new AcceptedSocket(descriptor, tls);
    if (m_shuttingDown) {
        socket->abort();
        delete socket;
        return;
    }
    socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    socket->setLingering(config().handshakeTimeoutMs, this);
    if (tls)
        watchTlsHandshake(socket);  // a connection (~0.1 KiB) a plaintext socket would keep for nothing
    new IncomingConnection(this, m_incoming, socket, role);
}

// A handshake that fails is counted, and each cause logged at most once a second
// with the count of the held-back ones (a scanner trying old protocols would
// otherwise write a line per attempt); the socket has closed itself. A connection
// closed before any handshake (a port probe, a TCP health check) is no failure.
void Worker::watchTlsHandshake(AcceptedSocket *socket)
{
    connect(socket, &AcceptedSocket::tlsHandshakeFailed, this, [this, socket](const QString &cause) {
        WorkerCounters::bump(counters().tlsHandshakesFailed);
        if (m_tlsFailureLogs.size() >= 64 && !m_tlsFailureLogs.contains(cause))
            m_tlsFailureLogs.clear();
        LogThrottle &throttle = m_tlsFailureLogs[cause];
        if (throttle.allow()) {
            qCInfo(lcWorker).noquote() << "TLS handshake with" << withoutIpv4Mapping(socket->peerAddress()).toString()
                                       << "failed:" << cause + throttle.note();
        }
    });
}

void Worker::updateTls()
{
    m_listenTls = transport::serverTls(config(), ListenerRole::WebSockets);
    m_pushTls = transport::serverTls(config(), ListenerRole::Pushes);
}

// --gather-delay, on this worker's own event loop.
void Worker::updateGathering()
{
#ifdef WS2API_HAVE_EPOLL
    if (auto *loop = qobject_cast<EpollEventDispatcher *>(thread()->eventDispatcher()))
        loop->setGatherUs(config().gatherDelayUs);
#endif
}

void Worker::adoptHttp(QTcpSocket *socket)
{
    m_push->adopt(socket);
}

void Worker::upgrade(QTcpSocket *socket, const Upgrade &upgrade)
{
    socket->skip(upgrade.headLength);  // read and checked by IncomingConnection
    const quint64 serial = m_shared.registry->newSessionSerial();
    auto *session = new ClientSession(this, socket, upgrade.clientId, serial, upgrade.protocol);
    m_sessions.insert(serial, session);
    WorkerCounters::bump(counters().connectionsAccepted);
    // The 101 only once the client is registered: a client that sees its connection
    // open can be pushed to at once.
    const auto previous = m_shared.registry->claim(upgrade.clientId, {m_index, serial});
    socket->write(ws::switchingProtocols(upgrade.key, upgrade.answeredProtocol.toLatin1()));
    qCInfo(lcWorker).noquote().nospace()
        << "client " << quotedForLog(upgrade.clientId) << " from " << session->remote() << " connected ("
        << IncomingConnection::protocolText(upgrade.protocol) << "): 101"
        << (previous ? ", replacing its older connection" : "");
    if (previous) {
        Worker *owner = m_workers.value(previous->worker);
        const quint64 oldSerial = previous->session;
        QMetaObject::invokeMethod(owner, [owner, oldSerial] {
            owner->closeSession(oldSerial, 1008, QStringLiteral("replaced"), false);
        }, owner == this ? Qt::DirectConnection : Qt::QueuedConnection);
    }
    session->start();
}

void Worker::notifyGoneBeforeUpgrade(const QByteArray &clientId)
{
    if (config().notifyDisconnect) {
        callApi(mode().disconnectRequest(clientId, QStringLiteral("left before the upgrade completed")),
                this, {});
    }
}

void Worker::clientBrokeProtocol(ClientSession *session, int code, const QString &reason)
{
    Q_ASSERT(QThread::currentThread() == thread());
    if (m_messageProblemLog.allow()) {
        qCInfo(lcWorker).noquote() << "client" << quotedForLog(session->clientId())
                                   << QStringLiteral("broke RFC 6455 (%1): closing with %2").arg(reason).arg(code)
                                       + m_messageProblemLog.note();
    }
    session->close(code, reason, true);
}

void Worker::closeSession(quint64 serial, int code, const QString &reason, bool notifyApi)
{
    Q_ASSERT(QThread::currentThread() == thread());
    if (ClientSession *session = m_sessions.value(serial))
        session->close(code, reason, notifyApi);
}

QList<ConnectionInfo> Worker::connections(const QString &filter) const
{
    Q_ASSERT(QThread::currentThread() == thread());
    const QByteArray needle = filter.toUtf8();
    QList<ConnectionInfo> out;
    for (const ClientSession *session : m_sessions) {
        if (session->isOpen() && session->clientId().contains(needle))
            out.append(session->info());
    }
    return out;
}

void Worker::routePush(const QByteArray &clientId, const PushMessage &push, const PushReply &reply)
{
    const auto owner = m_shared.registry->find(clientId);
    if (!owner)
        return reply(404, "unknown client");
    Worker *target = m_workers.value(owner->worker);
    const quint64 serial = owner->session;
    if (target == this)
        return deliverPush(serial, clientId, push, reply);
    QPointer<Worker> origin(this);
    QMetaObject::invokeMethod(target, [target, origin, serial, clientId, push, reply] {
        target->deliverPush(serial, clientId, push, [origin, reply](int status, const QByteArray &message) {
            if (origin)
                QMetaObject::invokeMethod(origin, [reply, status, message] { reply(status, message); },
                                          Qt::QueuedConnection);
        });
    }, Qt::QueuedConnection);
}

void Worker::deliverPush(quint64 serial, const QByteArray &clientId, const PushMessage &push,
                         const PushReply &reply)
{
    Q_ASSERT(QThread::currentThread() == thread());
    ClientSession *session = m_sessions.value(serial);
    if (!session || !session->isOpen() || session->clientId() != clientId)
        return reply(404, "unknown client");
    QByteArray error;
    const int status = session->mode().push(push, &error);
    if (status == 503 && error.isEmpty())
        error = "client send queue full";
    reply(status, error);
}

void Worker::callApi(ApiRequest request, QObject *context,
                     std::function<void(const ApiResponse &)> done, StatusLog statusLog)
{
    QElapsedTimer clock;
    clock.start();
    QPointer<QObject> guard(context);
    QByteArray method = request.method;
    QByteArray target = request.target;
    m_api->send(std::move(request), this,
                [this, clock, guard, method = std::move(method), target = std::move(target),
                 done = std::move(done), statusLog](const ApiResponse &response) {
        const auto outcome = apiOutcome(response);
        counters().countApi(outcome, quint64(clock.nsecsElapsed() / 1000),
                            quint64(std::max<qint64>(0, response.queuedUs)));
        const bool callerLogs = statusLog == StatusLog::ByCaller && outcome == WorkerCounters::Api::ErrorStatus;
        if (outcome != WorkerCounters::Api::Ok && !callerLogs)
            logApiFailure(method, target, response);
        if (guard && done)
            done(response);
    });
}

void Worker::logApiFailure(const QByteArray &method, const QByteArray &target,
                           const ApiResponse &response)
{
    // The only log line of a failed request (the API client only debug-logs it), and
    // one a second at most: a failing API must not flood the log. A status the API
    // chose is its answer (info); not getting one is a fault (warning).
    const bool answered = response.outcome == ApiResponse::Outcome::Ok;
    LogThrottle &throttle = answered ? m_apiAnswerLog : m_apiFailureLog;
    if (!throttle.allow())
        return;
    const QString what = answered ? QStringLiteral("answered HTTP %1").arg(response.status)
                                  : QStringLiteral("failed: ") + response.error;
    if (answered)
        qCInfo(lcWorker).noquote() << "API request" << method << target << "to"
                                   << config().api.authority() << what + throttle.note();
    else
        qCWarning(lcWorker).noquote() << "API request" << method << target << "to"
                                      << config().api.authority() << what + throttle.note();
}

void Worker::sessionEnded(ClientSession *session)
{
    if (m_sessions.remove(session->serial()))
        gate().release();
    session->deleteLater();
    maybeDrained();
}

void Worker::pingSweep()
{
    const qint64 deadline = QDateTime::currentMSecsSinceEpoch() - 2 * qint64(config().pingIntervalMs);
    const quint64 slice = m_pingTick++ % quint64(m_pingSlices);
    // An abort ends a session at once, and an ended session leaves m_sessions: the
    // dead are aborted after the walk.
    QList<ClientSession *> dead;
    for (ClientSession *session : std::as_const(m_sessions)) {
        if (session->serial() % quint64(m_pingSlices) != slice || !session->isOpen())
            continue;
        if (session->lastActivityMs() < deadline)
            dead.append(session);
        else
            session->ping();
    }
    for (ClientSession *session : std::as_const(dead))
        session->abortDeadPeer();
}

void Worker::shutdown()
{
    Q_ASSERT(QThread::currentThread() == thread());
    m_shuttingDown = true;
    if (m_pingTimer)
        m_pingTimer->stop();
    for (auto *incoming : m_incoming->findChildren<IncomingConnection *>(Qt::FindDirectChildrenOnly))
        incoming->abort();
    m_push->closeAll();
    const auto sessions = m_sessions.values();
    for (ClientSession *session : sessions)
        session->close(1001, QStringLiteral("server shutting down"), true);
    QTimer::singleShot(config().drainTimeoutMs, this, [this] {
        if (m_drained)
            return;
        qCWarning(lcWorker) << "drain timeout:" << m_sessions.size() << "clients and"
                            << m_api->inFlight() + m_api->queued() << "API requests left";
        m_drained = true;
        emit drained();
    });
    maybeDrained();
}

void Worker::maybeDrained()
{
    if (!m_shuttingDown || m_drained || !m_sessions.isEmpty()
        || m_api->inFlight() + m_api->queued() > 0)
        return;
    m_drained = true;
    emit drained();
}

} // namespace ws2api
