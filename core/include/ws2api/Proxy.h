#pragma once

#include <QObject>
#include <QString>
#include <functional>
#include <memory>

#include "ws2api/AdminTypes.h"
#include "ws2api/ProxyConfig.h"

namespace ws2api {

class ProxyPrivate;

// Facade on the main thread: owns listeners, workers, registry and metrics.
class Proxy : public QObject
{
    Q_OBJECT
public:
    explicit Proxy(QObject *parent = nullptr);
    ~Proxy() override;

    // Blocks until every worker has started or one failed; on failure *error says why.
    bool start(const ProxyConfig &config, QString *error);

    // Stops accepting, closes clients with 1001, lets in-flight API requests finish
    // (up to the drain timeout), joins the workers, then emits stopped().
    void stop();

    // Takes what can change while running from `config`: the push token and allow
    // list, timeouts, limits, pings, disconnect notices. Listeners, threads, mode, the
    // API and its pool stay as started (the caller keeps those fields as they were).
    // Limits apply to connections made from now on.
    void reconfigure(const ProxyConfig &config);

    // `done` runs on this thread once every worker's event loop has answered a call
    // (for a watchdog: a stuck worker never answers).
    void checkWorkers(std::function<void()> done);

    // The bound addresses (useful with port 0).
    quint16 listenPort() const;
    quint16 pushPort() const;

    // What the admin interface needs; all called on the Proxy's (main) thread, and
    // every callback runs there too, later.
    ProxyStats stats() const;
    qint64 startedAtMs() const;
    // Clients whose ClientId contains `filter`, sorted by ClientId, `limit` of them
    // from `offset`.
    void connections(const QString &filter, qsizetype offset, qsizetype limit,
                     std::function<void(const ConnectionPage &)> done);
    // `done(status, message)`: 200 queued, 404 unknown client, 400 bad payload, 503 full.
    void push(const AdminPush &push, std::function<void(int status, const QByteArray &message)> done);
    // Closes a client (the API hears of it as of any close); false when not connected.
    bool disconnectClient(const QByteArray &clientId, int code, const QString &reason);

    // Makes the calling thread's future event loops use the epoll dispatcher where
    // available; call before constructing QCoreApplication.
    static void installEventDispatcher();

Q_SIGNALS:
    void stopped();

private:
    std::unique_ptr<ProxyPrivate> d;
};

} // namespace ws2api
