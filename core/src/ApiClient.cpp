#include "ApiClient.h"

#include <QElapsedTimer>
#include <QMetaObject>
#include <QPointer>
#include <QThread>
#include <QTimer>
#include <algorithm>
#include <charconv>
#include <deque>
#include <limits>
#include <vector>

#include "ApiConnection.h"

namespace ws2api {

Q_LOGGING_CATEGORY(lcApiClient, "ws2api.api", QtInfoMsg)

namespace {

using Outcome = ApiResponse::Outcome;

bool equalsIgnoringCase(QByteArrayView a, QByteArrayView b)
{
    return a.size() == b.size() && qstrnicmp(a.data(), a.size(), b.data(), b.size()) == 0;
}

// The client writes these itself; a caller's copy would contradict them, and a
// CR or LF would let a header value smuggle in another header or request.
bool isUsableHeader(const QPair<QByteArray, QByteArray> &header)
{
    const QByteArray &name = header.first;
    if (name.isEmpty() || equalsIgnoringCase(name, "Host") || equalsIgnoringCase(name, "Content-Length")
        || equalsIgnoringCase(name, "Connection") || equalsIgnoringCase(name, "Transfer-Encoding"))
        return false;
    const auto hasLineBreak = [](const QByteArray &s) { return s.contains('\r') || s.contains('\n'); };
    return !hasLineBreak(name) && !hasLineBreak(header.second);
}

QByteArray hostLine(const QString &host, quint16 port)
{
    QByteArray line = "Host: ";
    line += host.contains(u':') ? '[' + host.toLatin1() + ']' : host.toLatin1();
    if (port != 80)
        line += ':' + QByteArray::number(port);
    return line + "\r\n";
}

// Built once, into a buffer of the exact size; the socket then shares it.
QByteArray buildRequest(const QByteArray &host, const ApiRequest &request)
{
    const QByteArrayView method = request.method.isEmpty() ? QByteArrayView("GET") : request.method;
    const QByteArrayView target = request.target.isEmpty() ? QByteArrayView("/") : request.target;
    // A POST or PUT without a length is refused by some servers (nginx: 411).
    const bool withLength = !request.body.isEmpty() || method == "POST" || method == "PUT"
                            || method == "PATCH";
    char digits[24];
    const auto lengthEnd = std::to_chars(digits, digits + sizeof digits, request.body.size()).ptr;
    const QByteArrayView length(digits, lengthEnd - digits);
    constexpr QByteArrayView version = " HTTP/1.1\r\n";
    constexpr QByteArrayView lengthName = "Content-Length: ";
    constexpr QByteArrayView keepAlive = "Connection: keep-alive\r\n";

    qsizetype size = method.size() + 1 + target.size() + version.size() + host.size()
                     + keepAlive.size() + 2 + request.body.size();
    if (withLength)
        size += lengthName.size() + length.size() + 2;
    for (const auto &header : request.headers) {
        if (isUsableHeader(header))
            size += header.first.size() + 2 + header.second.size() + 2;
    }

    QByteArray wire;
    wire.reserve(size);
    wire.append(method).append(' ').append(target).append(version).append(host);
    if (withLength)
        wire.append(lengthName).append(length).append("\r\n");
    wire.append(keepAlive);
    for (const auto &header : request.headers) {
        if (isUsableHeader(header))
            wire.append(header.first).append(": ").append(header.second).append("\r\n");
    }
    wire.append("\r\n").append(request.body);
    return wire;
}

ApiResponse failure(Outcome outcome, const QString &error)
{
    ApiResponse response;
    response.outcome = outcome;
    response.error = error;
    return response;
}

} // namespace

QByteArray ApiResponse::header(QByteArrayView name) const
{
    for (const auto &header : headers) {
        if (equalsIgnoringCase(header.first, name))
            return header.second;
    }
    return {};
}

class ApiClientPrivate final : public ApiConnectionOwner
{
public:
    ApiClientPrivate(ApiClient *q, const ApiClientConfig &config);
    ~ApiClientPrivate();

    void send(ApiRequest &&request, QObject *context, ApiClient::Callback &&done);
    int inFlight() const { return m_inFlight; }
    int queued() const { return int(m_queue.size()); }

    void responseArrived(ApiConnection *connection, ApiResponse &response) override;
    void connectionLost(ApiConnection *connection, const QString &error) override;

    void setLimits(int timeoutMs, qint64 maxResponseBody)
    {
        m_config.timeoutMs = timeoutMs;
        m_config.maxResponseBody = std::max<qint64>(0, maxResponseBody);
    }

private:
    qint64 now() const { return m_clock.elapsed(); }
    qint64 nowUs() const { return m_clock.nsecsElapsed() / 1000; }
    void dispatch();
    ApiConnection *pickConnection();
    ApiConnection *newConnection();
    void settle(std::deque<PendingRequest> &&requests, bool requeue, const QString &error);
    void removeConnection(ApiConnection *connection);
    void onTimer();
    void expireInFlight(qint64 now, std::vector<PendingRequest> *expired,
                        std::vector<PendingRequest> *dropped);
    void closeIdleConnections(qint64 now);
    void scheduleAt(qint64 when);
    void rearm(qint64 now);
    bool deliver(PendingRequest &request, ApiResponse response);
    QString origin() const;

    ApiClient *q;
    ApiClientConfig m_config;
    QByteArray m_hostLine;
    QElapsedTimer m_clock;
    QTimer m_timer;  // the one timer for every deadline and idle expiry
    qint64 m_armedAt = 0;
    std::deque<PendingRequest> m_queue;  // FIFO; deadlines ascend (see send())
    std::vector<ApiConnection *> m_connections;  // all, whatever their state
    std::vector<ApiConnection *> m_idle;         // LIFO: the warmest connection serves first
    ApiConnection *m_lastWritten = nullptr;      // pipelining: where this pass's requests gather
    int m_inFlight = 0;
    qint64 m_outstanding = 0;  // accepted requests whose callback is still due
};

ApiClientPrivate::ApiClientPrivate(ApiClient *q, const ApiClientConfig &config)
    : q(q)
    , m_config(config)
    , m_hostLine(hostLine(config.host, config.port))
    , m_timer(q)  // a child, so it follows the client to its worker thread
{
    m_config.poolSize = std::max(1, m_config.poolSize);
    // Pipelining is plaintext only: QSslSocket gathers its writes on its own.
    m_config.pipelineDepth = m_config.tls ? 1 : std::max(1, m_config.pipelineDepth);
    m_config.maxQueued = std::max(0, m_config.maxQueued);
    m_config.maxResponseBody = std::max<qint64>(0, m_config.maxResponseBody);
    m_clock.start();
    m_timer.setSingleShot(true);
    QObject::connect(&m_timer, &QTimer::timeout, q, [this] { onTimer(); });
}

ApiClientPrivate::~ApiClientPrivate()
{
    // Pending callbacks are dropped: their owner is going away with us.
    for (ApiConnection *connection : m_connections) {
        connection->close();
        // A callback may destroy us from inside that connection's own signal.
        if (connection->handling())
            connection->deleteLater();
        else
            delete connection;
    }
}

QString ApiClientPrivate::origin() const
{
    return m_config.host + u':' + QString::number(m_config.port);
}

void ApiClientPrivate::send(ApiRequest &&request, QObject *context, ApiClient::Callback &&done)
{
    const bool canStartNow = !m_idle.empty() || int(m_connections.size()) < m_config.poolSize
                             || m_inFlight < int(m_connections.size()) * m_config.pipelineDepth;
    if (!canStartNow && int(m_queue.size()) >= m_config.maxQueued) {
        // Back-pressure: the caller answers its client now instead of piling up work.
        QMetaObject::invokeMethod(
            q,
            [context = QPointer<QObject>(context), hasContext = context != nullptr,
             done = std::move(done)] {
                if (done && (!hasContext || context))
                    done(failure(Outcome::Overloaded, QStringLiteral("too many API requests queued")));
            },
            Qt::QueuedConnection);
        return;
    }
    // Deadlines ascend through the queue: after a reload shortened the timeout, a
    // request queued behind older ones expires no earlier than they do.
    qint64 deadline = now() + m_config.timeoutMs;
    if (!m_queue.empty())
        deadline = std::max(deadline, m_queue.back().deadline);
    m_queue.push_back(PendingRequest{buildRequest(m_hostLine, request), QPointer<QObject>(context),
                                     context != nullptr, std::move(done), deadline, false, nowUs()});
    ++m_outstanding;
    dispatch();
    scheduleAt(deadline);
}

void ApiClientPrivate::dispatch()
{
    while (!m_queue.empty()) {
        ApiConnection *connection = pickConnection();
        if (!connection)
            return;
        PendingRequest request = std::move(m_queue.front());
        m_queue.pop_front();
        if (request.waitedUs < 0)
            request.waitedUs = nowUs() - request.queuedAtUs;
        ++m_inFlight;
        connection->send(m_config.host, m_config.port, std::move(request));
        m_lastWritten = connection;
    }
}

// One request at a time: an idle connection, else a new one while the pool has
// room. Pipelining adds two choices: first, the connection written to earlier in
// this loop pass, so that the pass's requests share one send(); last, when every
// connection is busy, the one with the fewest requests open.
ApiConnection *ApiClientPrivate::pickConnection()
{
    const int depth = m_config.pipelineDepth;
    if (depth > 1 && m_lastWritten && m_lastWritten->reusable() && m_lastWritten->writePending()
        && m_lastWritten->openRequests() < depth) {
        return m_lastWritten;
    }
    if (!m_idle.empty()) {
        ApiConnection *connection = m_idle.back();
        m_idle.pop_back();
        return connection;
    }
    if (int(m_connections.size()) < m_config.poolSize)
        return newConnection();
    ApiConnection *least = nullptr;
    if (depth > 1) {
        for (ApiConnection *connection : m_connections) {
            if (connection->reusable() && connection->openRequests() < depth
                && (!least || connection->openRequests() < least->openRequests())) {
                least = connection;
            }
        }
    }
    return least;
}

ApiConnection *ApiClientPrivate::newConnection()
{
    auto *connection = new ApiConnection(this, m_config);
    m_connections.push_back(connection);
    return connection;
}

void ApiClientPrivate::removeConnection(ApiConnection *connection)
{
    connection->close();
    m_connections.erase(std::find(m_connections.begin(), m_connections.end(), connection));
    const auto idle = std::find(m_idle.begin(), m_idle.end(), connection);
    if (idle != m_idle.end())
        m_idle.erase(idle);
    if (m_lastWritten == connection)
        m_lastWritten = nullptr;
    connection->deleteLater();  // it may be the one whose signal brought us here
}

// The open requests of a connection given up: back to the head of the queue, in
// order (the server cannot have processed them), or failed.
void ApiClientPrivate::settle(std::deque<PendingRequest> &&requests, bool requeue, const QString &error)
{
    m_inFlight -= int(requests.size());
    if (requeue) {
        for (auto it = requests.rbegin(); it != requests.rend(); ++it)
            m_queue.push_front(std::move(*it));
        return;
    }
    for (PendingRequest &request : requests) {
        if (!deliver(request, failure(Outcome::Unreachable, error)))
            return;  // a callback destroyed the client
    }
}

void ApiClientPrivate::responseArrived(ApiConnection *connection, ApiResponse &response)
{
    // Out of the connection first: dispatch() below may give it more requests.
    ApiResponse result = std::move(response);
    PendingRequest request = connection->takeRequest();
    --m_inFlight;
    if (result.outcome != Outcome::Ok)
        qCDebug(lcApiClient, "API at %ls sent a bad response: %ls", qUtf16Printable(origin()), qUtf16Printable(result.error));
    std::deque<PendingRequest> behind;
    if (!connection->reusable()) {
        while (connection->hasRequest())
            behind.push_back(connection->takeRequest());
        removeConnection(connection);
    } else if (!connection->hasRequest()) {
        const qint64 t = now();
        connection->setIdleSince(t);
        m_idle.push_back(connection);
        scheduleAt(t + m_config.idleTimeoutMs);
    }
    // Requests pipelined behind a Connection: close were never read by the server;
    // behind a bad response their fate is unknown.
    const bool requeue = connection->laterRequestsUnread();
    const bool failBehind = !behind.empty() && !requeue;
    if (!behind.empty() && requeue)
        settle(std::move(behind), true, {});
    dispatch();
    if (!deliver(request, std::move(result)) || !failBehind)
        return;
    settle(std::move(behind), false, QStringLiteral("connection dropped after a bad response to an earlier request"));
}

void ApiClientPrivate::connectionLost(ApiConnection *connection, const QString &error)
{
    removeConnection(connection);
    if (!connection->hasRequest()) {
        dispatch();
        return;
    }
    // The keep-alive race: a server may close an idle connection (Apache after its
    // KeepAliveTimeout, any server on restart) just as we write to it. When a
    // connection that already carried a response dies before a single byte of the
    // answer, the server almost certainly never processed the request (nor those
    // pipelined behind it), so they go out once more, on a fresh connection. Only
    // once: a fresh connection failing means the API itself is in trouble, and a
    // non-idempotent POST must not be repeated on a guess.
    const bool race = connection->reused() && !connection->responseStarted();
    std::deque<PendingRequest> retry, lost;
    while (connection->hasRequest()) {
        PendingRequest request = connection->takeRequest();
        (race && !request.retried ? retry : lost).push_back(std::move(request));
    }
    if (!retry.empty()) {
        qCDebug(lcApiClient, "keep-alive connection closed under %d request(s), retrying: %ls",
                int(retry.size()), qUtf16Printable(error));
        ApiConnection *fresh = newConnection();
        for (PendingRequest &request : retry) {
            request.retried = true;
            fresh->send(m_config.host, m_config.port, std::move(request));
        }
    }
    if (lost.empty())
        return;
    qCDebug(lcApiClient, "API unreachable at %ls: %ls", qUtf16Printable(origin()), qUtf16Printable(error));
    dispatch();
    settle(std::move(lost), false, error);
}

void ApiClientPrivate::onTimer()
{
    const qint64 t = now();
    std::vector<PendingRequest> expired, dropped;
    expireInFlight(t, &expired, &dropped);
    while (!m_queue.empty() && m_queue.front().deadline <= t) {
        expired.push_back(std::move(m_queue.front()));
        m_queue.pop_front();
    }
    closeIdleConnections(t);
    dispatch();  // connections killed above leave room for the queue
    rearm(t);
    if (expired.empty())
        return;
    const QString error = QStringLiteral("no response within %1 ms").arg(m_config.timeoutMs);
    qCDebug(lcApiClient, "API at %ls: %ls", qUtf16Printable(origin()), qUtf16Printable(error));
    const ApiResponse response = failure(Outcome::Timeout, error);
    for (PendingRequest &request : expired) {
        if (!deliver(request, response))
            return;  // a callback destroyed the client
    }
    const ApiResponse cut = failure(Outcome::Unreachable,
                                    QStringLiteral("connection dropped: an earlier request on it timed out"));
    for (PendingRequest &request : dropped) {
        if (!deliver(request, cut))
            return;
    }
}

void ApiClientPrivate::expireInFlight(qint64 t, std::vector<PendingRequest> *expired,
                                      std::vector<PendingRequest> *dropped)
{
    std::vector<ApiConnection *> late;
    for (ApiConnection *connection : m_connections) {
        const auto &open = connection->requests();
        if (std::any_of(open.begin(), open.end(), [t](const PendingRequest &r) { return r.deadline <= t; }))
            late.push_back(connection);
    }
    // Half a response may still be on its way, so the connection cannot be reused;
    // requests pipelined behind a late one go with it (the server may have read them).
    for (ApiConnection *connection : late) {
        while (connection->hasRequest()) {
            PendingRequest request = connection->takeRequest();
            (request.deadline <= t ? expired : dropped)->push_back(std::move(request));
            --m_inFlight;
        }
        removeConnection(connection);
    }
}

void ApiClientPrivate::closeIdleConnections(qint64 t)
{
    std::vector<ApiConnection *> stale;
    for (ApiConnection *connection : m_idle) {
        if (connection->idleSince() + m_config.idleTimeoutMs <= t)
            stale.push_back(connection);
    }
    for (ApiConnection *connection : stale)
        removeConnection(connection);
}

// Deadlines rarely shrink (only after a shorter timeout is set), so a new one rarely moves the timer;
// one that fires early for a request already answered just re-arms.
void ApiClientPrivate::scheduleAt(qint64 when)
{
    if (m_timer.isActive() && when >= m_armedAt)
        return;
    m_armedAt = when;
    m_timer.start(int(std::clamp<qint64>(when - now(), 0, std::numeric_limits<int>::max())));
}

void ApiClientPrivate::rearm(qint64 t)
{
    qint64 next = std::numeric_limits<qint64>::max();
    if (!m_queue.empty())
        next = m_queue.front().deadline;
    for (ApiConnection *connection : m_connections) {
        for (const PendingRequest &request : connection->requests())
            next = std::min(next, request.deadline);
    }
    for (ApiConnection *connection : m_idle)
        next = std::min(next, connection->idleSince() + m_config.idleTimeoutMs);
    if (next == std::numeric_limits<qint64>::max()) {
        m_timer.stop();
        return;
    }
    m_armedAt = next;
    m_timer.start(int(std::clamp<qint64>(next - t, 0, std::numeric_limits<int>::max())));
}

// Runs the callback (unless its context is gone), then emits idle() if nothing is
// left. Returns false when the client did not survive the callback.
bool ApiClientPrivate::deliver(PendingRequest &request, ApiResponse response)
{
    --m_outstanding;
    const QPointer<ApiClient> alive(q);
    // A request that expired in the queue waited all along.
    response.queuedUs = request.waitedUs >= 0 ? request.waitedUs : nowUs() - request.queuedAtUs;
    if (request.done && (!request.hasContext || request.context))
        request.done(response);
    if (!alive)
        return false;
    if (m_outstanding == 0)
        Q_EMIT q->idle();
    return true;
}

ApiClient::ApiClient(const ApiClientConfig &config, QObject *parent)
    : QObject(parent)
    , d(std::make_unique<ApiClientPrivate>(this, config))
{
}

ApiClient::~ApiClient() = default;

void ApiClient::send(ApiRequest request, QObject *context, Callback done)
{
    // Called on the owning (worker) thread.
    Q_ASSERT(QThread::currentThread() == thread());
    d->send(std::move(request), context, std::move(done));
}

void ApiClient::setLimits(int timeoutMs, qint64 maxResponseBody)
{
    d->setLimits(timeoutMs, maxResponseBody);
}

int ApiClient::inFlight() const
{
    return d->inFlight();
}

int ApiClient::queued() const
{
    return d->queued();
}

} // namespace ws2api
