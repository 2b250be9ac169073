#pragma once

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QSslCertificate>
#include <QPair>
#include <QString>
#include <functional>
#include <memory>

namespace ws2api {

using HeaderList = QList<QPair<QByteArray, QByteArray>>;

struct ApiRequest
{
    QByteArray method;   // GET, POST, DELETE
    QByteArray target;   // origin-form path and query, already percent-encoded: "/base/CP1?x=1"
    HeaderList headers;  // extra headers; Host, Content-Length and Connection are added by the client
    QByteArray body;
};

struct ApiResponse
{
    enum class Outcome {
        Ok,           // a complete HTTP response arrived (any status)
        Timeout,      // no complete response within the timeout
        Unreachable,  // connect failed, or the connection broke before a response
        Overloaded,   // too many requests queued in this client; never sent
        BadResponse,  // unparsable response, or a body over the size cap
    };
    Outcome outcome = Outcome::Unreachable;
    int status = 0;
    HeaderList headers;  // names as sent by the server
    QByteArray body;
    QString error;       // human-readable, for logs, when outcome != Ok
    qint64 queuedUs = 0; // how long it waited for a free pooled connection

    QByteArray header(QByteArrayView name) const;  // case-insensitive, first match
};

struct ApiClientConfig
{
    QString host = QStringLiteral("127.0.0.1");
    quint16 port = 5000;
    int poolSize = 32;           // keep-alive connections at most
    // Requests in flight per connection: 1 = one at a time; more = HTTP/1.1
    // pipelining (plaintext only), the requests of one loop pass in one write.
    int pipelineDepth = 1;
    int maxQueued = 100000;      // requests waiting for a free connection; beyond: Overloaded
    int timeoutMs = 10000;       // from send() to a complete response
    qint64 maxResponseBody = 1 << 20;
    int idleTimeoutMs = 4000;    // close a pooled connection unused this long
    // https: TLS to the API, its certificate checked against caCertificates (empty:
    // the system's store) and `host`.
    bool tls = false;
    QList<QSslCertificate> caCertificates;
};

class ApiClientPrivate;

// A lean HTTP/1.1 keep-alive client for one API origin, living on one thread
// (a worker's): a bounded pool of QTcpSockets, one request at a time on each
// (or up to pipelineDepth, pipelined), FIFO dispatch, responses parsed by
// http_parser. Replaces QNetworkAccessManager
// on the message path (see issue 2: ~13 µs instead of ~350 µs per request).
class ApiClient : public QObject
{
    Q_OBJECT
public:
    using Callback = std::function<void(const ApiResponse &)>;

    explicit ApiClient(const ApiClientConfig &config, QObject *parent = nullptr);
    // Callbacks still due are dropped, never run. Safe from inside a callback.
    ~ApiClient() override;

    // Called on the owning thread. `done` runs exactly once, later, from the event
    // loop (never from inside send()), unless `context` is destroyed first, in which
    // case it never runs (the request itself still completes or times out).
    void send(ApiRequest request, QObject *context, Callback done);

    // Called on the owning thread: the timeout applies to requests sent from now on,
    // the body cap to connections opened from now on.
    void setLimits(int timeoutMs, qint64 maxResponseBody);

    int inFlight() const;  // written to a connection, awaiting the response
    int queued() const;    // waiting for a free connection

Q_SIGNALS:
    // Emitted when the last pending request (queued or in flight) has completed.
    void idle();

private:
    std::unique_ptr<ApiClientPrivate> d;
};

} // namespace ws2api
