#pragma once

#include <QObject>

class QTimer;

namespace ws2api {

struct LoopLag;

// Measures how late its thread's event loop serves a timer: a single shot due every
// IntervalMs, re-armed from its handler, whose lateness goes into a LoopLag. The
// loop serves timers after the sockets ready in the same pass, so a pass that runs
// long, a handler that blocks or a starved thread makes it late just as it makes
// ready sockets wait. Costs one clock read every IntervalMs, nothing per socket.
//
// Windows of WindowProbes probes (~5 s) keep LoopLag's recent worst; while the
// loop is stuck no probe runs, which LoopLag::recentWorstUs() sees from the
// overdue due time.
class LoopLagProbe : public QObject
{
    Q_OBJECT
public:
    static constexpr int IntervalMs = 100;
    static constexpr int WindowProbes = 50;

    // Lives on, and measures, the thread it is made on; `lag` must outlive it.
    LoopLagProbe(LoopLag *lag, QObject *parent = nullptr);
    ~LoopLagProbe() override;

private:
    void probe();
    void arm(qint64 nowNs);

    LoopLag &m_lag;
    QTimer *m_timer;
    qint64 m_dueNs = 0;
    int m_windowProbes = 0;
};

} // namespace ws2api
