#pragma once

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QObject>
#include <QString>
#include <functional>
#include <memory>
#include <optional>

#include "ListenerRole.h"
#include "LogThrottle.h"
#include "ws2api/ProxyConfig.h"
#include "modes/WireMode.h"
#include "ws2api/AdminTypes.h"

class QTcpSocket;
class QTimer;

namespace ws2api {

class AcceptedSocket;
class ApiClient;
class ClientRegistry;
class ClientSession;
class ConnectGate;
class Metrics;
class PushEndpoint;
namespace transport {
class TlsServerContext;
}
struct WorkerCounters;

// An outcome of a push, as the pushing side's HTTP status.
using PushReply = std::function<void(int status, const QByteArray &message)>;

// One event loop on its own thread, owning the connections it was handed: their
// handshakes, WebSocket sessions and push connections, and its own API client.
// Other threads talk to it only by queued calls.
class Worker : public QObject
{
    Q_OBJECT
public:
    struct Shared
    {
        ProxyConfig config;      // a copy per worker
        QByteArray apiHost;      // resolved from config.api, or the demo API
        quint16 apiPort = 0;
        QByteArray apiBasePath;  // encoded
        ClientRegistry *registry = nullptr;
        ConnectGate *gate = nullptr;  // --max-connections, --connect-rate: daemon-wide
        Metrics *metrics = nullptr;
    };

    Worker(int index, Shared shared);
    ~Worker() override;

    // Called on the worker thread once it runs; everything thread-bound is made here.
    void start(const QList<Worker *> &allWorkers);
    // Called on the worker thread: takes an accepted socket descriptor.
    void takeConnection(qintptr descriptor, ListenerRole role);
    // Called on the worker thread: closes every client with 1001, lets in-flight API
    // requests finish up to the drain timeout, then emits drained().
    void shutdown();

    // Called on the worker thread: takes the values of `config` that may change while
    // running (see Proxy::reconfigure).
    void reconfigure(const ProxyConfig &config);

    // Called on the worker thread: delivers a push to session `serial`; `reply` runs on
    // this thread with the outcome.
    void deliverPush(quint64 serial, const QByteArray &clientId, const PushMessage &push,
                     const PushReply &reply);
    // Called on the worker thread: closes session `serial` (if still here).
    void closeSession(quint64 serial, int code, const QString &reason, bool notifyApi);

    // Called on the worker thread: a client's frame broke RFC 6455 (it went no
    // further); the client is closed with `code`, which the API hears.
    void clientBrokeProtocol(ClientSession *session, int code, const QString &reason);

    // Called on the worker thread: the open clients whose ClientId contains `filter`.
    QList<ConnectionInfo> connections(const QString &filter) const;

    // Routes a push for `clientId` to its owning worker; `reply` runs on this thread.
    void routePush(const QByteArray &clientId, const PushMessage &push, const PushReply &reply);

    int index() const { return m_index; }
    const ProxyConfig &config() const { return m_shared.config; }
    const WireMode &mode() const { return *m_mode; }
    ApiClient &api() { return *m_api; }
    WorkerCounters &counters();
    Metrics &metrics() { return *m_shared.metrics; }
    ClientRegistry &registry() { return *m_shared.registry; }
    // Whether an upgrade may ask the API. A slot admitted by IncomingConnection passes
    // to upgrade() with the socket; the worker gives it back when that upgrade fails
    // or its session ends (every session holds one).
    ConnectGate &gate() { return *m_shared.gate; }

    // Whether a non-2xx answer is logged here, or by a caller that logs what it meant.
    enum class StatusLog { Here, ByCaller };
    // Sends a request to the API and counts its outcome and latency; `done` runs on
    // this thread unless `context` is gone by then. Failures are logged here.
    void callApi(ApiRequest request, QObject *context, std::function<void(const ApiResponse &)> done,
                 StatusLog statusLog = StatusLog::Here);

    // An upgrade the API accepted.
    struct Upgrade
    {
        qsizetype headLength = 0;   // the request head's bytes, still unread on the socket
        QByteArray key;             // its Sec-WebSocket-Key
        QByteArray clientId;
        QString protocol;           // the subprotocol spoken
        QString answeredProtocol;   // the one the 101 names: none if the client offered none
    };
    // Called by IncomingConnection once the API accepted an upgrade: the client's
    // session starts, and the 101 answers the client.
    void upgrade(QTcpSocket *socket, const Upgrade &upgrade);
    // A client the API accepted left before its WebSocket was up: the API hears
    // of it as of any other disconnect (when disconnects are notified).
    void notifyGoneBeforeUpgrade(const QByteArray &clientId);
    // Called by IncomingConnection for a request that is not an upgrade.
    void adoptHttp(QTcpSocket *socket);
    // Refusals of connections before the API is asked, one line a second at most.
    LogThrottle &handshakeLog() { return m_handshakeLog; }
    // Problems with single client messages (malformed frames, stray answers), likewise.
    LogThrottle &messageProblemLog() { return m_messageProblemLog; }
    // Called by ClientSession when its socket is gone.
    void sessionEnded(ClientSession *session);

Q_SIGNALS:
    void drained();

private:
    void watchTlsHandshake(AcceptedSocket *socket);
    void updateTls();
    void updateGathering();
    void pingSweep();
    void startPings();
    void maybeDrained();
    void logApiFailure(const QByteArray &method, const QByteArray &target, const ApiResponse &response);

    int m_index;
    Shared m_shared;
    QList<Worker *> m_workers;
    std::unique_ptr<WireMode> m_mode;
    ApiClient *m_api = nullptr;
    PushEndpoint *m_push = nullptr;
    // Parent of connections still being sorted out and sockets mid-handshake. Not
    // the worker itself: QObject finds a child to remove by a linear scan, and the
    // worker would otherwise parent every session too (19k children make each
    // accept and each close a scan of 19k pointers). Sessions have no parent; the
    // worker owns them through m_sessions.
    QObject *m_incoming = nullptr;
    QTimer *m_pingTimer = nullptr;
    int m_pingSlices = 1;
    quint64 m_pingTick = 0;
    QHash<quint64, ClientSession *> m_sessions;
    bool m_shuttingDown = false;
    bool m_drained = false;
    LogThrottle m_apiAnswerLog;
    LogThrottle m_apiFailureLog;
    LogThrottle m_handshakeLog;
    LogThrottle m_messageProblemLog;
    QHash<QString, LogThrottle> m_tlsFailureLogs;  // by cause
    std::shared_ptr<const transport::TlsServerContext> m_listenTls;  // null: plaintext
    std::shared_ptr<const transport::TlsServerContext> m_pushTls;
};

} // namespace ws2api
