#include "ws2api/Proxy.h"

#include <QCoreApplication>
#include <QDateTime>
#include <algorithm>
#include <limits>
#include <utility>
#include <QLoggingCategory>
#include <QThread>

#include "ClientIdOrder.h"
#include "ClientRegistry.h"
#include "ConnectGate.h"
#include "DemoApi.h"
#include "Listener.h"
#include "Metrics.h"
#include "Worker.h"
#include "platform/Platform.h"
#include "transport/Transport.h"
#ifdef WS2API_HAVE_EPOLL
#include "EpollEventDispatcher.h"
#endif

Q_LOGGING_CATEGORY(lcProxy, "ws2api.proxy", QtInfoMsg)

namespace ws2api {

namespace {

QAbstractEventDispatcher *newEventDispatcher()
{
#ifdef WS2API_HAVE_EPOLL
    // Qt's stock dispatchers poll() every socket on every pass; see EpollEventDispatcher.
    return new EpollEventDispatcher;
#else
    return nullptr;
#endif
}

// A worker's thread: its event loop, then the worker deleted on it and OpenSSL's
// state for the thread freed there, before wait() can return (see endThread()).
class WorkerThread : public QThread
{
public:
    ~WorkerThread() override { delete worker; } // only when the thread never ran

    Worker *worker = nullptr;

protected:
    void run() override
    {
        exec();
        delete std::exchange(worker, nullptr);
        transport::endThread();
    }
};

struct ThreadStopper
{
    void operator()(WorkerThread *thread) const
    {
        thread->quit();
        thread->wait();
        delete thread;
    }
};

} // namespace

class ProxyPrivate
{
public:
    ProxyConfig config;
    std::unique_ptr<Metrics> metrics;
    ClientRegistry registry;
    ConnectGate gate;
    std::unique_ptr<DemoApi> demo;
    std::vector<std::unique_ptr<WorkerThread, ThreadStopper>> threads;
    QList<Worker *> workers;
    std::unique_ptr<Listener> listener;
    std::unique_ptr<Listener> pushListener;
    int nextWorker = 0;
    int draining = 0;
    bool running = false;
    qint64 startedAtMs = 0;

    bool resolveApi(Worker::Shared *shared, QString *error);
    bool startWorkers(const Worker::Shared &shared);
    std::unique_ptr<Listener> listen(ListenerRole role, const QHostAddress &address, quint16 port,
                                     QString *error);
    void handOff(qintptr descriptor, ListenerRole role);
    int fdCeiling() const;
    void applyConnectLimits();
    void joinWorkers();
};

bool ProxyPrivate::resolveApi(Worker::Shared *shared, QString *error)
{
    QUrl api = config.api;
    if (config.demoApi) {
        demo = std::make_unique<DemoApi>(config.mode, config.maxMessage);
        if (!demo->start(error))
            return false;
        api = QUrl(QStringLiteral("http://127.0.0.1:%1/").arg(demo->serverPort()));
    }
    if ((api.scheme() != QLatin1String("http") && api.scheme() != QLatin1String("https")) || api.host().isEmpty()) {
        *error = QStringLiteral("API URL must be http(s)://host[:port][/path]: %1").arg(api.toString());
        return false;
    }
    shared->apiHost = api.host().toLatin1();
    shared->apiPort = quint16(api.port(api.scheme() == u"https" ? 443 : 80));
    shared->apiBasePath = api.path(QUrl::FullyEncoded).toLatin1();
    return true;
}

bool ProxyPrivate::startWorkers(const Worker::Shared &shared)
{
    const int count = config.threads > 0 ? config.threads : std::max(1, QThread::idealThreadCount());
    metrics = std::make_unique<Metrics>(count);
    metrics->setConnectGate(&gate);
    Worker::Shared perWorker = shared;
    perWorker.metrics = metrics.get();
    perWorker.registry = &registry;
    perWorker.gate = &gate;
    for (int i = 0; i < count; ++i) {
        std::unique_ptr<WorkerThread, ThreadStopper> thread(new WorkerThread);
        thread->setObjectName(QStringLiteral("worker%1").arg(i));
        if (QAbstractEventDispatcher *dispatcher = newEventDispatcher())
            thread->setEventDispatcher(dispatcher);
        auto *worker = new Worker(i, perWorker);
        worker->moveToThread(thread.get());
        thread->worker = worker;
        thread->start();
        workers.append(worker);
        threads.push_back(std::move(thread));
    }
    // Start-up blocks until every worker has made its thread-bound objects.
    for (Worker *worker : std::as_const(workers)) {
        const QList<Worker *> all = workers;
        QMetaObject::invokeMethod(worker, [worker, all] { worker->start(all); },
                                  Qt::BlockingQueuedConnection);
    }
    return true;
}

std::unique_ptr<Listener> ProxyPrivate::listen(ListenerRole role, const QHostAddress &address,
                                               quint16 port, QString *error)
{
    auto listener = std::make_unique<Listener>(role, [this](qintptr fd, ListenerRole r) { handOff(fd, r); },
                                               fdCeiling(), &metrics->refusedOpenFiles());
    if (!listener->listen(address, port)) {
        *error = QStringLiteral("cannot listen on %1:%2: %3")
                     .arg(address.toString()).arg(port).arg(listener->errorString());
        return nullptr;
    }
    return listener;
}

int ProxyPrivate::fdCeiling() const
{
    // Room kept below the open files limit for every worker's API pool and the
    // daemon's own descriptors (epoll, eventfds, listeners, admin, logs).
    constexpr int OwnDescriptors = 64;
    const qint64 limit = platform::openFileLimit();
    if (limit < 0)
        return std::numeric_limits<int>::max();
    const qint64 reserved = qint64(workers.size()) * config.apiPoolSize + OwnDescriptors;
    return int(std::clamp<qint64>(limit - reserved, 1, std::numeric_limits<int>::max()));
}

void ProxyPrivate::applyConnectLimits()
{
    ConnectGate::Limits limits;
    // Unset, the cap is what the open files limit leaves room for: a clean 503 with
    // Retry-After there, before the listener has to refuse at accept.
    limits.maxConnections = config.maxConnections > 0 ? config.maxConnections : fdCeiling();
    if (config.maxConnections > fdCeiling()) {
        qCWarning(lcProxy) << "max-connections" << config.maxConnections << "is above the" << fdCeiling()
                           << "clients the open files limit leaves room for; beyond those, connections are refused at accept";
    }
    limits.rate = config.connectRate;
    limits.burst = config.connectBurst;
    limits.ratePerSource = config.connectRatePerSource;
    limits.burstPerSource = config.connectBurstPerSource;
    gate.setLimits(limits);
}

void ProxyPrivate::handOff(qintptr descriptor, ListenerRole role)
{
    Worker *worker = workers.at(nextWorker);
    nextWorker = (nextWorker + 1) % int(workers.size());
    QMetaObject::invokeMethod(worker, [worker, descriptor, role] {
        worker->takeConnection(descriptor, role);
    }, Qt::QueuedConnection);
}

void ProxyPrivate::joinWorkers()
{
    threads.clear();  // quit and wait; each worker is deleted on its own thread
    workers.clear();
}

Proxy::Proxy(QObject *parent)
    : QObject(parent)
    , d(std::make_unique<ProxyPrivate>())
{
}

Proxy::~Proxy()
{
    d->listener.reset();
    d->pushListener.reset();
    d->joinWorkers();
}

void Proxy::installEventDispatcher()
{
    if (QAbstractEventDispatcher *dispatcher = newEventDispatcher())
        QCoreApplication::setEventDispatcher(dispatcher);
}

bool Proxy::start(const ProxyConfig &config, QString *error)
{
    Q_ASSERT(!d->running);
    d->config = config;
    Worker::Shared shared;
    shared.config = config;
    if (!d->resolveApi(&shared, error))
        return false;
    d->startWorkers(shared);
    d->applyConnectLimits();
    const ListenerRole role = config.hasPushListener ? ListenerRole::WebSockets : ListenerRole::Both;
    d->listener = d->listen(role, config.listenAddress, config.listenPort, error);
    if (d->listener && config.hasPushListener)
        d->pushListener = d->listen(ListenerRole::Pushes, config.pushAddress, config.pushPort, error);
    if (!d->listener || (config.hasPushListener && !d->pushListener)) {
        d->listener.reset();
        d->joinWorkers();
        return false;
    }
    d->running = true;
    d->startedAtMs = QDateTime::currentMSecsSinceEpoch();
    return true;
}

void Proxy::stop()
{
    if (!d->running) {
        QMetaObject::invokeMethod(this, &Proxy::stopped, Qt::QueuedConnection);
        return;
    }
    d->running = false;
    d->listener.reset();
    d->pushListener.reset();
    d->draining = int(d->workers.size());
    qCInfo(lcProxy) << "stopping: closing clients, draining API requests";
    for (Worker *worker : std::as_const(d->workers)) {
        connect(worker, &Worker::drained, this, [this] {
            if (--d->draining > 0)
                return;
            d->joinWorkers();
            d->demo.reset();
            emit stopped();
        }, Qt::QueuedConnection);
        QMetaObject::invokeMethod(worker, &Worker::shutdown, Qt::QueuedConnection);
    }
}

void Proxy::reconfigure(const ProxyConfig &config)
{
    Q_ASSERT(config.listenPort == d->config.listenPort && config.threads == d->config.threads
             && config.mode == d->config.mode);
    d->config = config;
    d->applyConnectLimits();
    for (Worker *worker : std::as_const(d->workers))
        QMetaObject::invokeMethod(worker, [worker, config] { worker->reconfigure(config); },
                                  Qt::QueuedConnection);
}

void Proxy::checkWorkers(std::function<void()> done)
{
    auto waiting = std::make_shared<int>(int(d->workers.size()));
    if (*waiting == 0)
        return QMetaObject::invokeMethod(this, done, Qt::QueuedConnection), void();
    for (Worker *worker : std::as_const(d->workers)) {
        QMetaObject::invokeMethod(worker, [this, waiting, done] {
            QMetaObject::invokeMethod(this, [waiting, done] {
                if (--*waiting == 0)
                    done();
            }, Qt::QueuedConnection);
        }, Qt::QueuedConnection);
    }
}

ProxyStats Proxy::stats() const
{
    ProxyStats stats;
    if (!d->metrics)
        return stats;
    const MetricsTotals t = d->metrics->totals();
    stats.connections = t.connections;
    stats.messagesIn = t.messagesIn;
    stats.messagesOut = t.messagesOut;
    stats.apiRequests = t.apiRequests();
    stats.apiErrors = t.apiErrors();
    stats.apiLatencyP50Ms = t.apiLatency.quantileMs(0.5);
    stats.apiLatencyP99Ms = t.apiLatency.quantileMs(0.99);
    for (quint64 count : t.pushes)
        stats.pushes += count;
    stats.pushesDelivered = t.pushes[size_t(WorkerCounters::Push::Delivered)];
    return stats;
}

qint64 Proxy::startedAtMs() const
{
    return d->startedAtMs;
}

void Proxy::connections(const QString &filter, qsizetype offset, qsizetype limit,
                        std::function<void(const ConnectionPage &)> done)
{
    // Every worker lists its own clients on its own thread; the last answer pages them.
    struct Gather
    {
        int waiting;
        QList<ConnectionInfo> all;
    };
    auto gather = std::make_shared<Gather>(Gather{int(d->workers.size()), {}});
    auto finish = [gather, offset, limit, done] {
        std::sort(gather->all.begin(), gather->all.end(), [](const ConnectionInfo &a, const ConnectionInfo &b) {
            return admin::clientIdLess(a.clientId, b.clientId);
        });
        ConnectionPage page;
        page.total = gather->all.size();
        const qsizetype from = std::clamp<qsizetype>(offset, 0, page.total);
        page.items = gather->all.mid(from, std::max<qsizetype>(0, limit));
        done(page);
    };
    if (gather->waiting == 0)
        return QMetaObject::invokeMethod(this, finish, Qt::QueuedConnection), void();
    for (Worker *worker : std::as_const(d->workers)) {
        QMetaObject::invokeMethod(worker, [this, worker, filter, gather, finish] {
            QList<ConnectionInfo> mine = worker->connections(filter);
            QMetaObject::invokeMethod(this, [gather, finish, mine = std::move(mine)] {
                gather->all += mine;
                if (--gather->waiting == 0)
                    finish();
            }, Qt::QueuedConnection);
        }, Qt::QueuedConnection);
    }
}

void Proxy::push(const AdminPush &push, std::function<void(int, const QByteArray &)> done)
{
    if (d->workers.isEmpty())
        return done(503, "not running");
    Worker *worker = d->workers.first();
    // A worker's mode is made before start() returns and never changes, so reading
    // it from this thread is safe.
    const WireMode &mode = worker->mode();
    const PushMessage message = mode.adminPush(push);
    if (const QByteArray problem = mode.pushProblem(message); !problem.isEmpty())
        return done(400, problem);
    QMetaObject::invokeMethod(worker, [this, worker, clientId = push.clientId, message, done] {
        worker->routePush(clientId, message, [this, worker, done](int status, const QByteArray &text) {
            worker->counters().countPush(WorkerCounters::pushOutcome(status));
            QMetaObject::invokeMethod(this, [done, status, text] { done(status, text); },
                                      Qt::QueuedConnection);
        });
    }, Qt::QueuedConnection);
}

bool Proxy::disconnectClient(const QByteArray &clientId, int code, const QString &reason)
{
    const auto owner = d->registry.find(clientId);
    if (!owner || owner->worker < 0 || owner->worker >= d->workers.size())
        return false;
    Worker *worker = d->workers.at(owner->worker);
    QMetaObject::invokeMethod(worker, [worker, serial = owner->session, code, reason] {
        worker->closeSession(serial, code, reason, true);
    }, Qt::QueuedConnection);
    return true;
}

quint16 Proxy::listenPort() const
{
    return d->listener ? d->listener->serverPort() : 0;
}

quint16 Proxy::pushPort() const
{
    if (d->pushListener)
        return d->pushListener->serverPort();
    return listenPort();
}

} // namespace ws2api
