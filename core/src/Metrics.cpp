#include "Metrics.h"

#include <algorithm>
#include <chrono>

#include "ConnectGate.h"
#include "platform/Platform.h"

namespace ws2api {

namespace {

constexpr const char *ApiOutcomeNames[] = {"ok", "error_status", "timeout", "unreachable",
                                           "overloaded", "bad_response"};
constexpr const char *PushOutcomeNames[] = {"delivered", "forbidden", "unauthorized", "too_large",
                                            "bad_request", "unknown_client", "queue_full"};
static_assert(std::size(ApiOutcomeNames) == size_t(WorkerCounters::Api::Count));
static_assert(std::size(PushOutcomeNames) == size_t(WorkerCounters::Push::Count));
constexpr const char *RefusalNames[] = {"max_connections", "rate", "source_rate"};
static_assert(std::size(RefusalNames) == size_t(WorkerCounters::Refusal::Count));

quint64 get(const std::atomic<quint64> &c) { return c.load(std::memory_order_relaxed); }

void appendMetric(QByteArray &out, const char *name, const char *type, const char *help)
{
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
}

void appendSample(QByteArray &out, const QByteArray &name, quint64 value)
{
    out += name;
    out += ' ';
    out += QByteArray::number(value);
    out += '\n';
}

} // namespace

void LatencyHistogram::record(quint64 us)
{
    const auto bucket = std::lower_bound(LatencyBoundsUs.begin(), LatencyBoundsUs.end(), us);
    WorkerCounters::bump(buckets[size_t(bucket - LatencyBoundsUs.begin())]);
    WorkerCounters::bump(sumUs, us);
}

qint64 LoopLag::nowNs()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::steady_clock::now().time_since_epoch()).count();
}

quint64 LoopLag::recentWorstUs(qint64 nowNs) const
{
    // The current window first: LoopLagProbe moves it to previousWorstUs before it
    // clears it, so a rotation between the two reads cannot hide its value.
    quint64 worst = worstUs.load(std::memory_order_acquire);
    worst = std::max(worst, previousWorstUs.load(std::memory_order_acquire));
    const qint64 due = dueNs.load(std::memory_order_relaxed);
    if (due > 0 && nowNs > due)
        worst = std::max(worst, quint64(nowNs - due) / 1000);
    return worst;
}

void LatencyTotals::add(const LatencyHistogram &histogram)
{
    for (size_t i = 0; i < buckets.size(); ++i)
        buckets[i] += get(histogram.buckets[i]);
    sumUs += get(histogram.sumUs);
}

double LatencyTotals::quantileMs(double q) const
{
    quint64 count = 0;
    for (quint64 v : buckets)
        count += v;
    if (count == 0)
        return 0;
    const quint64 rank = std::max<quint64>(1, quint64(q * double(count) + 0.5));
    quint64 seen = 0;
    for (size_t i = 0; i < buckets.size(); ++i) {
        seen += buckets[i];
        if (seen >= rank)
            return double(i < LatencyBoundsUs.size() ? LatencyBoundsUs[i] : LatencyBoundsUs.back()) / 1000.0;
    }
    return double(LatencyBoundsUs.back()) / 1000.0;
}

void WorkerCounters::countApi(Api outcome, quint64 latencyUs, quint64 queuedUs)
{
    bump(api[size_t(outcome)]);
    apiLatency.record(latencyUs);
    apiQueue.record(queuedUs);
}

WorkerCounters::Push WorkerCounters::pushOutcome(int status)
{
    switch (status) {
    case 200: return Push::Delivered;
    case 401: return Push::Unauthorized;
    case 403: return Push::Forbidden;
    case 413: return Push::TooLarge;
    case 503: return Push::QueueFull;
    case 404: return Push::UnknownClient;
    default: return Push::BadRequest;
    }
}

quint64 MetricsTotals::apiRequests() const
{
    quint64 sum = 0;
    for (quint64 v : api)
        sum += v;
    return sum;
}

quint64 MetricsTotals::apiErrors() const
{
    return apiRequests() - api[size_t(WorkerCounters::Api::Ok)];
}


Metrics::Metrics(int workers)
{
    for (int i = 0; i < workers; ++i)
        m_workers.push_back(std::make_unique<WorkerCounters>());
}

MetricsTotals Metrics::totals() const
{
    MetricsTotals t;
    for (const auto &w : m_workers) {
        t.connections += w->connections.load(std::memory_order_relaxed);
        t.connectionsAccepted += get(w->connectionsAccepted);
        t.connectionsRejected += get(w->connectionsRejected);
        t.messagesIn += get(w->messagesIn);
        t.messagesOut += get(w->messagesOut);
        for (size_t i = 0; i < t.api.size(); ++i)
            t.api[i] += get(w->api[i]);
        t.apiLatency.add(w->apiLatency);
        t.apiQueue.add(w->apiQueue);
        for (size_t i = 0; i < t.pushes.size(); ++i)
            t.pushes[i] += get(w->pushes[i]);
        t.framesRejected += get(w->framesRejected);
        t.tlsHandshakesFailed += get(w->tlsHandshakesFailed);
        for (size_t i = 0; i < t.refused.size(); ++i)
            t.refused[i] += get(w->refused[i]);
    }
    t.refusedOpenFiles = get(m_refusedOpenFiles);
    if (m_gate) {
        t.connectionSlots = m_gate->held();
        t.maxConnections = m_gate->maxConnections();
    }
    return t;
}

namespace {
// The samples of one histogram; `labels` (`worker="0"`) may be empty.
void appendHistogramSamples(QByteArray &out, const QByteArray &name, const QByteArray &labels,
                            const LatencyTotals &histogram)
{
    const QByteArray prefix = labels.isEmpty() ? QByteArray("{") : '{' + labels + ',';
    const QByteArray suffix = labels.isEmpty() ? QByteArray() : '{' + labels + '}';
    quint64 cumulative = 0;
    for (size_t i = 0; i < histogram.buckets.size(); ++i) {
        cumulative += histogram.buckets[i];
        const QByteArray le = i < LatencyBoundsUs.size()
            ? QByteArray::number(double(LatencyBoundsUs[i]) / 1e6)
            : QByteArray("+Inf");
        appendSample(out, name + "_bucket" + prefix + "le=\"" + le + "\"}", cumulative);
    }
    out += name + "_sum" + suffix + ' ' + QByteArray::number(double(histogram.sumUs) / 1e6) + '\n';
    appendSample(out, name + "_count" + suffix, cumulative);
}

void appendHistogram(QByteArray &out, const QByteArray &name, const char *help,
                     const LatencyTotals &histogram)
{
    appendMetric(out, name.constData(), "histogram", help);
    appendHistogramSamples(out, name, {}, histogram);
}
} // namespace

void Metrics::appendLoopLag(QByteArray &out) const
{
    appendMetric(out, "ws2api_event_loop_lag_seconds", "histogram",
                 "How late each worker's event loop served a timer due every 0.1 s; a ready socket "
                 "waits about as long.");
    for (size_t i = 0; i < m_workers.size(); ++i) {
        LatencyTotals lag;
        lag.add(m_workers[i]->loopLag.histogram);
        appendHistogramSamples(out, "ws2api_event_loop_lag_seconds",
                               "worker=\"" + QByteArray::number(qulonglong(i)) + '"', lag);
    }
    appendMetric(out, "ws2api_event_loop_lag_max_seconds", "gauge",
                 "The worst of that in the last 5 to 10 s, or of a stall going on now.");
    const qint64 now = LoopLag::nowNs();
    for (size_t i = 0; i < m_workers.size(); ++i) {
        out += "ws2api_event_loop_lag_max_seconds{worker=\"" + QByteArray::number(qulonglong(i)) + "\"} "
            + QByteArray::number(double(m_workers[i]->loopLag.recentWorstUs(now)) / 1e6) + '\n';
    }
}

QByteArray Metrics::prometheusText() const
{
    const MetricsTotals t = totals();
    QByteArray out;
    out.reserve(4096);
    appendMetric(out, "ws2api_connections", "gauge", "WebSocket clients connected now.");
    appendSample(out, "ws2api_connections", quint64(std::max<qint64>(0, t.connections)));
    appendMetric(out, "ws2api_connections_total", "counter",
                 "WebSocket upgrades by outcome (accepted by the API, or rejected).");
    appendSample(out, "ws2api_connections_total{outcome=\"accepted\"}", t.connectionsAccepted);
    appendSample(out, "ws2api_connections_total{outcome=\"rejected\"}", t.connectionsRejected);
    appendMetric(out, "ws2api_connection_slots", "gauge",
                 "WebSocket clients held plus upgrades in progress (the API deciding, the handshake): "
                 "what --max-connections caps.");
    appendSample(out, "ws2api_connection_slots", quint64(std::max<qint64>(0, t.connectionSlots)));
    appendMetric(out, "ws2api_connections_max", "gauge",
                 "The cap on ws2api_connection_slots: --max-connections, or what the open files limit allows.");
    appendSample(out, "ws2api_connections_max", quint64(std::max<qint64>(0, t.maxConnections)));
    appendMetric(out, "ws2api_connections_refused_total", "counter",
                 "Connections answered 503 before the API was asked, by reason (the cap, the "
                 "connect rate in total or per source address, the open files limit at accept).");
    for (size_t i = 0; i < t.refused.size(); ++i)
        appendSample(out, QByteArray("ws2api_connections_refused_total{reason=\"") + RefusalNames[i] + "\"}",
                     t.refused[i]);
    appendSample(out, "ws2api_connections_refused_total{reason=\"open_files\"}", t.refusedOpenFiles);
    appendMetric(out, "ws2api_messages_in_total", "counter", "Messages received from clients.");
    appendSample(out, "ws2api_messages_in_total", t.messagesIn);
    appendMetric(out, "ws2api_messages_out_total", "counter", "Messages sent to clients.");
    appendSample(out, "ws2api_messages_out_total", t.messagesOut);
    appendMetric(out, "ws2api_api_requests_total", "counter", "Requests to the API by outcome.");
    for (size_t i = 0; i < t.api.size(); ++i)
        appendSample(out, QByteArray("ws2api_api_requests_total{outcome=\"") + QByteArray(ApiOutcomeNames[i]) + "\"}",
                     t.api[i]);
    appendHistogram(out, "ws2api_api_latency_seconds",
                    "Time from sending a request to the API to its outcome.", t.apiLatency);
    appendHistogram(out, "ws2api_api_queue_seconds",
                    "Part of that time spent waiting for a free pooled connection to the API.",
                    t.apiQueue);
    appendMetric(out, "ws2api_pushes_total", "counter", "Pushes from the API by outcome.");
    for (size_t i = 0; i < t.pushes.size(); ++i)
        appendSample(out, QByteArray("ws2api_pushes_total{outcome=\"") + QByteArray(PushOutcomeNames[i]) + "\"}",
                     t.pushes[i]);
    appendMetric(out, "ws2api_frames_rejected_total", "counter",
                 "OCPP frames from clients that were malformed or answered nothing we sent.");
    appendSample(out, "ws2api_frames_rejected_total", t.framesRejected);
    appendMetric(out, "ws2api_tls_handshakes_failed_total", "counter",
                 "TLS handshakes on the listeners that failed (protocol, cipher, certificate).");
    appendSample(out, "ws2api_tls_handshakes_failed_total", t.tlsHandshakesFailed);
    appendLoopLag(out);
    // The usual process metrics, as Prometheus's client libraries name them.
    const platform::ProcessVitals vitals = platform::processVitals();
    if (vitals.openFiles >= 0) {
        appendMetric(out, "process_open_fds", "gauge", "Open file descriptors (handles on Windows).");
        appendSample(out, "process_open_fds", quint64(vitals.openFiles));
    }
    if (const qint64 limit = platform::openFileLimit(); limit >= 0) {
        appendMetric(out, "process_max_fds", "gauge", "The open files limit.");
        appendSample(out, "process_max_fds", quint64(limit));
    }
    if (vitals.residentBytes >= 0) {
        appendMetric(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
        appendSample(out, "process_resident_memory_bytes", quint64(vitals.residentBytes));
    }
    if (vitals.cpuSeconds >= 0) {
        appendMetric(out, "process_cpu_seconds_total", "counter", "User and system CPU time spent, in seconds.");
        out += "process_cpu_seconds_total " + QByteArray::number(vitals.cpuSeconds, 'f', 3) + '\n';
    }
    return out;
}

} // namespace ws2api
