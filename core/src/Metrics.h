#pragma once

#include <QByteArray>
#include <array>
#include <atomic>
#include <memory>
#include <vector>

namespace ws2api {

class ConnectGate;

// Upper bounds in microseconds of the latency histograms; a last bucket is +Inf.
inline constexpr std::array<quint64, 13> LatencyBoundsUs = {
    500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000,
    2500000, 10000000};

// A latency histogram written by one thread (relaxed, as WorkerCounters below).
struct LatencyHistogram
{
    std::array<std::atomic<quint64>, LatencyBoundsUs.size() + 1> buckets{};
    std::atomic<quint64> sumUs{0};

    void record(quint64 us);
};

// Histograms of several workers added up.
struct LatencyTotals
{
    std::array<quint64, LatencyBoundsUs.size() + 1> buckets{};
    quint64 sumUs = 0;

    void add(const LatencyHistogram &histogram);
    // Approximate quantile (0..1) in milliseconds from the bucket bounds.
    double quantileMs(double q) const;
};

// How late a worker's event loop serves a timer (LoopLagProbe writes it, from the
// worker's thread only; any thread reads it). Times are steady clock nanoseconds.
struct LoopLag
{
    LatencyHistogram histogram;
    // The worst lag of the window under way and of the one before it.
    std::atomic<quint64> worstUs{0};
    std::atomic<quint64> previousWorstUs{0};
    // When the probe now pending is due; 0 while none is.
    std::atomic<qint64> dueNs{0};

    static qint64 nowNs();
    // The worst lag of the last window or two, or of a stall going on at `nowNs`
    // (the pending probe overdue), whichever is longer.
    quint64 recentWorstUs(qint64 nowNs) const;
};

// One worker's counters. Each field has exactly one writing thread (the worker that
// owns it), so an increment is a relaxed load and store: no locked instruction on
// the message path. Any thread may read them at any time for /metrics or the admin
// interface; a reader sees each counter's value at some recent instant.
struct WorkerCounters
{
    enum class Api { Ok, ErrorStatus, Timeout, Unreachable, Overloaded, BadResponse, Count };
    enum class Push { Delivered, Forbidden, Unauthorized, TooLarge, BadRequest, UnknownClient,
                      QueueFull, Count };
    // Why an upgrade got 503 before the API was asked (ConnectGate).
    enum class Refusal { MaxConnections, Rate, SourceRate, Count };
    std::atomic<qint64> connections{0};  // open now
    std::atomic<quint64> connectionsAccepted{0};
    std::atomic<quint64> connectionsRejected{0};
    std::atomic<quint64> messagesIn{0};
    std::atomic<quint64> messagesOut{0};
    std::array<std::atomic<quint64>, size_t(Api::Count)> api{};
    LatencyHistogram apiLatency;
    // The part of it spent waiting for one of the worker's pooled connections.
    LatencyHistogram apiQueue;
    std::array<std::atomic<quint64>, size_t(Push::Count)> pushes{};
    std::atomic<quint64> framesRejected{0};  // ocpp: malformed or unmatched frames
    std::atomic<quint64> tlsHandshakesFailed{0};
    std::array<std::atomic<quint64>, size_t(Refusal::Count)> refused{};
    LoopLag loopLag;

    static void bump(std::atomic<quint64> &counter, quint64 by = 1)
    {
        counter.store(counter.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
    }
    static void add(std::atomic<qint64> &gauge, qint64 by)
    {
        gauge.store(gauge.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
    }
    void countApi(Api outcome, quint64 latencyUs, quint64 queuedUs);
    void countPush(Push outcome) { bump(pushes[size_t(outcome)]); }
    void countRefusal(Refusal reason) { bump(refused[size_t(reason)]); }
    // The outcome a push answered with `status` counts as.
    static Push pushOutcome(int status);
};

struct MetricsTotals
{
    qint64 connections = 0;
    quint64 connectionsAccepted = 0;
    quint64 connectionsRejected = 0;
    quint64 messagesIn = 0;
    quint64 messagesOut = 0;
    std::array<quint64, size_t(WorkerCounters::Api::Count)> api{};
    LatencyTotals apiLatency;
    LatencyTotals apiQueue;
    std::array<quint64, size_t(WorkerCounters::Push::Count)> pushes{};
    quint64 framesRejected = 0;
    quint64 tlsHandshakesFailed = 0;
    std::array<quint64, size_t(WorkerCounters::Refusal::Count)> refused{};
    quint64 refusedOpenFiles = 0;
    qint64 connectionSlots = 0;  // held by clients and upgrades in progress
    qint64 maxConnections = 0;

    quint64 apiErrors() const;
    quint64 apiRequests() const;
};

// Every worker's counters, aggregated on demand.
class Metrics
{
public:
    explicit Metrics(int workers);
    WorkerCounters &worker(int index) { return *m_workers[size_t(index)]; }
    // Written by the listeners' (main) thread only: connections refused at accept
    // because the open files limit was near.
    std::atomic<quint64> &refusedOpenFiles() { return m_refusedOpenFiles; }
    // Where the slots held and the cap in force are read from.
    void setConnectGate(const ConnectGate *gate) { m_gate = gate; }
    MetricsTotals totals() const;
    QByteArray prometheusText() const;

private:
    void appendLoopLag(QByteArray &out) const;

    std::vector<std::unique_ptr<WorkerCounters>> m_workers;
    std::atomic<quint64> m_refusedOpenFiles{0};
    const ConnectGate *m_gate = nullptr;
};

} // namespace ws2api
