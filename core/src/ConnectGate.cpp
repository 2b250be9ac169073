#include "ConnectGate.h"

#include <QRandomGenerator>
#include <algorithm>
#include <chrono>
#include <cmath>

namespace ws2api {

namespace {

constexpr double NsPerS = 1e9;

double burstOf(double rate, double burst)
{
    return burst > 0 ? burst : std::max(1.0, rate);
}

// Whole seconds for Retry-After: rounded up, 1..MaxRetryAfterS.
int retrySeconds(double ns)
{
    return int(std::clamp(std::ceil(ns / NsPerS), 1.0, double(ConnectGate::MaxRetryAfterS)));
}

qint64 steadyNs()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch()).count();
}

} // namespace

ConnectGate::ConnectGate(Clock clock)
    : m_clock(clock ? std::move(clock) : Clock(steadyNs))
{
}

void ConnectGate::setLimits(const Limits &limits)
{
    QMutexLocker lock(&m_mutex);
    const qint64 now = m_clock();
    if (limits.rate > 0) {
        const double burst = burstOf(limits.rate, limits.burst);
        if (m_limits.rate > 0) {
            refill(m_total, m_limits.rate, burstOf(m_limits.rate, m_limits.burst), now);
            m_total.tokens = std::min(m_total.tokens, burst);
        } else {
            m_total = {burst, now};
        }
    }
    if (limits.ratePerSource != m_limits.ratePerSource || limits.burstPerSource != m_limits.burstPerSource) {
        m_sources.clear();
        m_olderSources.clear();
    }
    m_limits = limits;
    m_max.store(limits.maxConnections, std::memory_order_relaxed);
    m_rateLimited.store(limits.rate > 0 || limits.ratePerSource > 0, std::memory_order_relaxed);
}

ConnectGate::Limits ConnectGate::limits() const
{
    QMutexLocker lock(&m_mutex);
    return m_limits;
}

ConnectGate::Decision ConnectGate::admit(const QHostAddress &source)
{
    // The cap first, without a lock: a compare-and-swap on the daemon's count.
    const qint64 max = m_max.load(std::memory_order_relaxed);
    qint64 held = m_held.load(std::memory_order_relaxed);
    do {
        if (max > 0 && held >= max)
            return {Verdict::MaxConnections,
                    int(QRandomGenerator::global()->bounded(CapRetryMinS, CapRetryMaxS + 1))};
    } while (!m_held.compare_exchange_weak(held, held + 1, std::memory_order_relaxed));
    if (!m_rateLimited.load(std::memory_order_relaxed))
        return {};
    const Decision decision = admitRate(source);
    if (decision.verdict != Verdict::Admitted)
        release();
    return decision;
}

void ConnectGate::release()
{
    m_held.fetch_sub(1, std::memory_order_relaxed);
}

qsizetype ConnectGate::trackedSources() const
{
    QMutexLocker lock(&m_mutex);
    return m_sources.size() + m_olderSources.size();
}

ConnectGate::Decision ConnectGate::admitRate(const QHostAddress &address)
{
    QMutexLocker lock(&m_mutex);
    const qint64 now = m_clock();
    // Both buckets are checked before either gives a token: a source refused by the
    // total keeps its own, and one refused by its own leaves the total to the others.
    Bucket *source = nullptr;
    if (m_limits.ratePerSource > 0) {
        source = &sourceBucket(keyOf(address), now);
        refill(*source, m_limits.ratePerSource, burstOf(m_limits.ratePerSource, m_limits.burstPerSource), now);
        if (source->tokens < 1)
            return {Verdict::SourceRate, advise(*source, m_limits.ratePerSource, now)};
    }
    if (m_limits.rate > 0) {
        refill(m_total, m_limits.rate, burstOf(m_limits.rate, m_limits.burst), now);
        if (m_total.tokens < 1)
            return {Verdict::Rate, advise(m_total, m_limits.rate, now)};
        m_total.tokens -= 1;
    }
    if (source)
        source->tokens -= 1;
    return {};
}

ConnectGate::SourceKey ConnectGate::keyOf(const QHostAddress &address)
{
    bool isV4 = false;
    const quint32 v4 = address.toIPv4Address(&isV4);
    if (isV4)
        return {v4, false};
    const Q_IPV6ADDR v6 = address.toIPv6Address();
    quint64 prefix = 0;
    for (int i = 0; i < 8; ++i)
        prefix = (prefix << 8) | v6[i];
    return {prefix, true};
}

void ConnectGate::refill(Bucket &bucket, double rate, double burst, qint64 nowNs)
{
    const double earned = double(std::max<qint64>(0, nowNs - bucket.updatedNs)) * rate / NsPerS;
    bucket.tokens = std::min(burst, bucket.tokens + earned);
    bucket.updatedNs = nowNs;
}

int ConnectGate::advise(Bucket &bucket, double rate, qint64 nowNs)
{
    const qint64 nextToken = nowNs + qint64((1 - bucket.tokens) / rate * NsPerS);
    const qint64 advised = std::max(bucket.advisedUntilNs, nextToken);
    bucket.advisedUntilNs = std::min(advised + qint64(NsPerS / rate), nowNs + qint64(MaxRetryAfterS) * qint64(NsPerS));
    return retrySeconds(double(advised - nowNs));
}

ConnectGate::Bucket &ConnectGate::sourceBucket(const SourceKey &key, qint64 nowNs)
{
    if (const auto it = m_sources.find(key); it != m_sources.end())
        return *it;
    Bucket bucket{burstOf(m_limits.ratePerSource, m_limits.burstPerSource), nowNs};
    if (const auto old = m_olderSources.find(key); old != m_olderSources.end()) {
        bucket = *old;
        m_olderSources.erase(old);
    }
    if (m_sources.size() >= MaxSourcesPerGeneration)
        m_olderSources = std::exchange(m_sources, {});
    return *m_sources.insert(key, bucket);
}

} // namespace ws2api
