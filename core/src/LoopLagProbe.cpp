#include "LoopLagProbe.h"

#include <QThread>
#include <QTimer>
#include <algorithm>

#include "Metrics.h"

namespace ws2api {

LoopLagProbe::LoopLagProbe(LoopLag *lag, QObject *parent)
    : QObject(parent)
    , m_lag(*lag)
    , m_timer(new QTimer(this))
{
    // Precise: a coarse timer may fire up to 5 % late on purpose, which would read as lag.
    m_timer->setTimerType(Qt::PreciseTimer);
    m_timer->setSingleShot(true);
    m_timer->callOnTimeout(this, &LoopLagProbe::probe);
    arm(LoopLag::nowNs());
}

LoopLagProbe::~LoopLagProbe()
{
    // A stopped probe is not a stalled loop.
    m_lag.dueNs.store(0, std::memory_order_relaxed);
}

// Called on the probed thread.
void LoopLagProbe::probe()
{
    Q_ASSERT(QThread::currentThread() == thread());
    const qint64 now = LoopLag::nowNs();
    const quint64 lateUs = quint64(std::max<qint64>(0, now - m_dueNs)) / 1000;
    m_lag.histogram.record(lateUs);
    if (++m_windowProbes > WindowProbes) {
        // Previous before current: LoopLag::recentWorstUs() reads them the other way round.
        m_lag.previousWorstUs.store(m_lag.worstUs.load(std::memory_order_relaxed),
                                    std::memory_order_release);
        m_lag.worstUs.store(0, std::memory_order_release);
        m_windowProbes = 1;
    }
    if (lateUs > m_lag.worstUs.load(std::memory_order_relaxed))
        m_lag.worstUs.store(lateUs, std::memory_order_release);
    arm(now);
}

void LoopLagProbe::arm(qint64 nowNs)
{
    // Re-armed from now rather than kept on a fixed beat: a late shot then never
    // makes the next one look early, and a missed one is not fired twice.
    m_dueNs = nowNs + qint64(IntervalMs) * 1000 * 1000;
    m_lag.dueNs.store(m_dueNs, std::memory_order_relaxed);
    m_timer->start(IntervalMs);
}

} // namespace ws2api
