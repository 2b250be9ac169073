// LoopLagProbe and the ws2api_event_loop_lag_* metrics: one of two probed threads is
// stuck on purpose (a queued call that blocks until the test lets it go; the block is
// the subject, not a wait), and /metrics must show it for that worker only, while it
// lasts and after.
#include <QCoreApplication>
#include <QScopeGuard>
#include <QSemaphore>
#include <QTest>
#include <QThread>

#include "LoopLagProbe.h"
#include "Metrics.h"
#include "MetricsScrape.h"
#ifdef WS2API_HAVE_EPOLL
#include "EpollEventDispatcher.h"
#endif

using ws2api::LoopLag;
using ws2api::LoopLagProbe;
using ws2api::Metrics;

namespace {

// A LoopLagProbe on a thread of its own, on the daemon's event dispatcher where it
// has one; joined on scope exit even when a check fails half-way.
class ProbedThread : public QThread
{
public:
    explicit ProbedThread(LoopLag *lag)
        : m_anchor(new QObject)
    {
#ifdef WS2API_HAVE_EPOLL
        setEventDispatcher(new ws2api::EpollEventDispatcher);
#endif
        m_anchor->moveToThread(this);
        // Deleted on its thread, its dispatcher still there to unregister the timer.
        connect(this, &QThread::finished, this, [anchor = m_anchor] { delete anchor; },
                Qt::DirectConnection);
        start();
        QObject *anchor = m_anchor;
        QMetaObject::invokeMethod(m_anchor, [lag, anchor] { new LoopLagProbe(lag, anchor); },
                                  Qt::BlockingQueuedConnection);
    }
    ~ProbedThread() override
    {
        quit();
        wait();
    }

    // Blocks this thread's event loop until `gate` is released.
    void block(QSemaphore *gate)
    {
        QMetaObject::invokeMethod(m_anchor, [gate] { gate->acquire(); }, Qt::QueuedConnection);
    }

private:
    QObject *m_anchor;
};

QByteArray worker(int index)
{
    return "{worker=\"" + QByteArray::number(index) + "\"}";
}

// One reading of /metrics' text, so that the samples compared agree with each other.
struct Scrape
{
    explicit Scrape(const Metrics &metrics)
        : text(metrics.prometheusText())
        , samples(ws2api::test::parseMetrics(text))
    {
    }

    double probes(int index) const
    {
        return samples.value("ws2api_event_loop_lag_seconds_count" + worker(index), -1);
    }
    // Probes served at most `le` seconds late (a bucket bound as /metrics prints it).
    double probesWithin(int index, const QByteArray &le) const
    {
        return samples.value("ws2api_event_loop_lag_seconds_bucket{worker=\"" + QByteArray::number(index)
                                 + "\",le=\"" + le + "\"}", -1);
    }
    double lateSeconds(int index) const
    {
        return samples.value("ws2api_event_loop_lag_seconds_sum" + worker(index), -1);
    }
    double recentWorst(int index) const
    {
        return samples.value("ws2api_event_loop_lag_max_seconds" + worker(index), -1);
    }

    QByteArray text;
    QHash<QByteArray, double> samples;
};

} // namespace

class TestLoopLag : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void eachWorkerHasItsSeries();
    void aStallShowsForItsWorkerOnly();
    void theGaugeForgetsAnOldStall();
    void aStoppedProbeIsNoStall();
};

void TestLoopLag::eachWorkerHasItsSeries()
{
    Metrics metrics(3);
    ProbedThread first(&metrics.worker(0).loopLag);
    ProbedThread third(&metrics.worker(2).loopLag);
    QTRY_VERIFY(Scrape(metrics).probes(0) > 0 && Scrape(metrics).probes(2) > 0);
    const Scrape scrape(metrics);
    QCOMPARE(scrape.text.count("# TYPE ws2api_event_loop_lag_seconds histogram\n"), 1);
    QCOMPARE(scrape.text.count("# TYPE ws2api_event_loop_lag_max_seconds gauge\n"), 1);
    for (int i = 0; i < 3; ++i) {
        QVERIFY(scrape.lateSeconds(i) >= 0);
        QVERIFY(scrape.recentWorst(i) >= 0);
        QCOMPARE(scrape.probesWithin(i, "+Inf"), scrape.probes(i));
    }
    // A worker whose loop never ran a probe shows none, and no lag.
    QCOMPARE(scrape.probes(1), 0.0);
    QCOMPARE(scrape.recentWorst(1), 0.0);
    QVERIFY(!scrape.text.contains(worker(3)));
}

void TestLoopLag::aStallShowsForItsWorkerOnly()
{
    Metrics metrics(2);
    ProbedThread stalled(&metrics.worker(0).loopLag);
    ProbedThread quiet(&metrics.worker(1).loopLag);
    QSemaphore gate;
    auto letGo = qScopeGuard([&gate] { gate.release(); });
    QTRY_VERIFY(Scrape(metrics).probes(0) > 0 && Scrape(metrics).probes(1) > 0);

    stalled.block(&gate);
    // No probe runs on a stuck loop, yet the gauge shows the stall while it lasts.
    QTRY_VERIFY_WITH_TIMEOUT(Scrape(metrics).recentWorst(0) >= 1.5, 20000);
    const Scrape during(metrics);
    QCOMPARE(during.probesWithin(0, "1"), during.probes(0));
    letGo.dismiss();
    gate.release();

    // Served at last, the overdue probe lands in the histogram's tail, at least as
    // late as the stall was seen to be.
    QTRY_VERIFY(Scrape(metrics).probes(0) > during.probes(0));
    const Scrape after(metrics);
    QVERIFY(after.probesWithin(0, "1") < after.probes(0));
    QVERIFY(after.lateSeconds(0) >= 1.5);
    QVERIFY(after.recentWorst(0) >= 1.5);
    // The other loop was not stuck: none of its probes came a second late.
    QVERIFY(after.probes(1) > 0);
    QCOMPARE(after.probesWithin(1, "1"), after.probes(1));
    QVERIFY(after.recentWorst(1) < 1.0);
}

// The gauge covers the last 5 to 10 s; the histogram keeps everything.
void TestLoopLag::theGaugeForgetsAnOldStall()
{
    Metrics metrics(1);
    ProbedThread stalled(&metrics.worker(0).loopLag);
    QSemaphore gate;
    auto letGo = qScopeGuard([&gate] { gate.release(); });
    stalled.block(&gate);
    QTRY_VERIFY(Scrape(metrics).recentWorst(0) >= 0.5);
    letGo.dismiss();
    gate.release();
    const auto lateProbeServed = [&metrics] {
        const Scrape scrape(metrics);
        return scrape.probesWithin(0, "0.25") < scrape.probes(0);
    };
    QTRY_VERIFY(lateProbeServed());

    const int windowsMs = 2 * LoopLagProbe::WindowProbes * LoopLagProbe::IntervalMs;
    QTRY_VERIFY_WITH_TIMEOUT(Scrape(metrics).recentWorst(0) < 0.5, 3 * windowsMs);
    QVERIFY(lateProbeServed());
}

void TestLoopLag::aStoppedProbeIsNoStall()
{
    Metrics metrics(1);
    const LoopLag &lag = metrics.worker(0).loopLag;
    {
        ProbedThread probed(&metrics.worker(0).loopLag);
        QTRY_VERIFY(Scrape(metrics).probes(0) > 0);
        QVERIFY(lag.dueNs.load() > 0);
    }
    const qint64 now = LoopLag::nowNs();
    constexpr qint64 Minute = qint64(60) * 1000 * 1000 * 1000;
    QCOMPARE(lag.recentWorstUs(now + Minute), lag.recentWorstUs(now));
}

int main(int argc, char **argv)
{
#ifdef WS2API_HAVE_EPOLL
    QCoreApplication::setEventDispatcher(new ws2api::EpollEventDispatcher);
#endif
    QCoreApplication app(argc, argv);
    TestLoopLag test;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&test, argc, argv);
}

#include "tst_looplag.moc"
