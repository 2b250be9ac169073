// ConnectGate: the cap on clients and the connect rate, on a clock the test moves.
#include <QTest>

#include "ConnectGate.h"

using ws2api::ConnectGate;
using Verdict = ConnectGate::Verdict;

namespace {

constexpr qint64 Second = 1000000000;

struct Gate
{
    qint64 now = 1000 * Second;
    ConnectGate gate{[this] { return now; }};

    explicit Gate(const ConnectGate::Limits &limits) { gate.setLimits(limits); }
    Verdict admit(const char *address = "192.0.2.1") { return gate.admit(QHostAddress(QString::fromLatin1(address))).verdict; }
    // How many of `n` attempts from `address` are admitted at this instant.
    int admitted(int n, const char *address = "192.0.2.1")
    {
        int count = 0;
        for (int i = 0; i < n; ++i)
            count += admit(address) == Verdict::Admitted;
        return count;
    }
};

ConnectGate::Limits cap(qint64 max)
{
    ConnectGate::Limits limits;
    limits.maxConnections = max;
    return limits;
}

ConnectGate::Limits rates(double total, double perSource)
{
    ConnectGate::Limits limits;
    limits.rate = total;
    limits.ratePerSource = perSource;
    return limits;
}

} // namespace

class TestConnectGate : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void noLimitsAdmitsAll()
    {
        Gate g{ConnectGate::Limits()};
        QCOMPARE(g.admitted(100000), 100000);
        QCOMPARE(g.gate.held(), 100000);
        QCOMPARE(g.gate.trackedSources(), 0);
    }

    void capCountsHeldSlots()
    {
        Gate g{cap(3)};
        QCOMPARE(g.admitted(5), 3);
        const ConnectGate::Decision refused = g.gate.admit(QHostAddress::LocalHost);
        QCOMPARE(refused.verdict, Verdict::MaxConnections);
        QVERIFY(refused.retryAfterS >= ConnectGate::CapRetryMinS && refused.retryAfterS <= ConnectGate::CapRetryMaxS);
        g.gate.release();  // a client left
        QCOMPARE(g.admit(), Verdict::Admitted);
        QCOMPARE(g.admit(), Verdict::MaxConnections);
        QCOMPARE(g.gate.held(), 3);
    }

    // A lower cap leaves those held; new ones wait until enough have gone.
    void lowerCapAtRunTime()
    {
        Gate g{cap(4)};
        QCOMPARE(g.admitted(4), 4);
        g.gate.setLimits(cap(2));
        QCOMPARE(g.admit(), Verdict::MaxConnections);
        g.gate.release();
        g.gate.release();
        QCOMPARE(g.admit(), Verdict::MaxConnections);
        g.gate.release();
        QCOMPARE(g.admit(), Verdict::Admitted);
        g.gate.setLimits(cap(0));  // no cap
        QCOMPARE(g.admitted(10), 10);
    }

    void totalRateIsATokenBucket()
    {
        Gate g{rates(5, 0)};
        QCOMPARE(g.admitted(30), 5);  // a full bucket: one second's worth
        g.now += Second / 5;
        QCOMPARE(g.admitted(30, "192.0.2.2"), 1);
        g.now += 10 * Second;  // refills up to the burst, no more
        QCOMPARE(g.admitted(30, "192.0.2.3"), 5);
        QCOMPARE(g.gate.held(), 11);
    }

    void burstCanBeSet()
    {
        ConnectGate::Limits limits = rates(0.001, 0);
        limits.burst = 7;
        Gate g{limits};
        QCOMPARE(g.admitted(100), 7);
    }

    void refusalsByRateHoldNoSlot()
    {
        ConnectGate::Limits limits = rates(2, 0);
        limits.maxConnections = 3;
        Gate g{limits};
        QCOMPARE(g.admitted(10), 2);
        QCOMPARE(g.gate.held(), 2);
        g.now += Second;
        QCOMPARE(g.admit(), Verdict::Admitted);
        QCOMPARE(g.admit(), Verdict::MaxConnections);  // the cap is checked first
    }

    void perSourceRate()
    {
        Gate g{rates(100, 2)};
        QCOMPARE(g.admitted(10, "192.0.2.1"), 2);
        QCOMPARE(g.admit("192.0.2.1"), Verdict::SourceRate);
        QCOMPARE(g.admitted(10, "192.0.2.2"), 2);
        QCOMPARE(g.admitted(10, "::ffff:192.0.2.2"), 0);  // the same IPv4 source via a dual-stack listener
        g.now += Second;
        QCOMPARE(g.admitted(10, "192.0.2.1"), 2);
    }

    // One host may pick a new IPv6 address in its /64 for every connection.
    void ipv6CountsPerSlash64()
    {
        Gate g{rates(100, 1)};
        QCOMPARE(g.admit("2001:db8:1:2::1"), Verdict::Admitted);
        QCOMPARE(g.admit("2001:db8:1:2:ffff:1:2:3"), Verdict::SourceRate);
        QCOMPARE(g.admit("2001:db8:1:3::1"), Verdict::Admitted);
    }

    // A connection takes a token from both buckets or from neither.
    void bothBucketsOrNeither()
    {
        Gate g{rates(3, 2)};
        QCOMPARE(g.admitted(5, "192.0.2.1"), 2);  // its own bucket refuses the rest: the total keeps 1
        QCOMPARE(g.admitted(5, "192.0.2.2"), 1);  // the total refuses the rest: this source keeps 1
        QCOMPARE(g.admit("192.0.2.2"), Verdict::Rate);
        g.now += Second / 2;                       // a total token back
        QCOMPARE(g.admit("192.0.2.2"), Verdict::Admitted);
    }

    void retryAfterOfThePerSourceRate()
    {
        Gate g{rates(100, 0.1)};  // one every 10 s
        const QHostAddress source(QStringLiteral("192.0.2.1"));
        QCOMPARE(g.admit(), Verdict::Admitted);
        const ConnectGate::Decision refused = g.gate.admit(source);
        QCOMPARE(refused.verdict, Verdict::SourceRate);
        QCOMPARE(refused.retryAfterS, 10);
        g.now += 9 * Second + Second / 2;
        QCOMPARE(g.gate.admit(source).retryAfterS, 11);  // after the one told 10 s
        g.now += 60 * Second;
        QCOMPARE(g.admit(), Verdict::Admitted);
        QCOMPARE(g.gate.admit(source).retryAfterS, 10);  // the advice has passed
        // Many stations behind one address: told to come back one per token, up to the cap.
        for (int i = 0; i < 10; ++i)
            g.gate.admit(source);
        QCOMPARE(g.gate.admit(source).retryAfterS, ConnectGate::MaxRetryAfterS);
    }

    // Clients refused by the total rate are told to come back spread at the rate,
    // not all in the next second; and never later than MaxRetryAfterS.
    void retryAfterSpreadsAStorm()
    {
        Gate g{rates(10, 0)};
        QCOMPARE(g.admitted(10), 10);
        QList<int> advised;
        for (int i = 0; i < 1000; ++i) {
            const ConnectGate::Decision d = g.gate.admit(QHostAddress(quint32(0x0a000000 + i)));
            QCOMPARE(d.verdict, Verdict::Rate);
            advised.append(d.retryAfterS);
        }
        // 10 a second: the first ten are told 1 s, the next ten 2 s, ...
        QCOMPARE(advised.at(0), 1);
        QCOMPARE(advised.at(9), 1);
        QCOMPARE(advised.at(10), 2);
        QCOMPARE(advised.at(100), 11);
        QVERIFY(std::is_sorted(advised.cbegin(), advised.cend()));
        QCOMPARE(advised.last(), ConnectGate::MaxRetryAfterS);
        // Once the advice has passed, it starts again from the next token.
        g.now += 120 * Second;
        QCOMPARE(g.admitted(10, "192.0.2.9"), 10);
        QCOMPARE(g.gate.admit(QHostAddress(QStringLiteral("192.0.2.9"))).retryAfterS, 1);
    }

    // A scanner with a million addresses must not grow the per-source table without bound.
    void perSourceMemoryIsBounded()
    {
        Gate g{rates(1e9, 1)};
        for (quint32 i = 0; i < 1000000; ++i) {
            QCOMPARE(g.gate.admit(QHostAddress(0x0a000000 + i)).verdict, Verdict::Admitted);
            g.gate.release();
            QVERIFY(g.gate.trackedSources() <= 2 * ConnectGate::MaxSourcesPerGeneration);
        }
    }

    // A source seen within the last generation keeps its bucket across a turnover.
    void activeSourceSurvivesATurnover()
    {
        Gate g{rates(1e9, 1)};
        QCOMPARE(g.admit("192.0.2.1"), Verdict::Admitted);
        for (quint32 i = 0; i < ConnectGate::MaxSourcesPerGeneration + 10; ++i)
            g.gate.admit(QHostAddress(0x0a000000 + i));
        QCOMPARE(g.admit("192.0.2.1"), Verdict::SourceRate);
    }

    void rateChangesAtRunTime()
    {
        Gate g{rates(5, 0)};
        QCOMPARE(g.admitted(5), 5);
        g.gate.setLimits(rates(50, 0));  // the tokens there are stay: none
        QCOMPARE(g.admit(), Verdict::Rate);
        g.now += Second;
        QCOMPARE(g.admitted(100), 50);
        g.gate.setLimits(rates(0, 0));   // off
        QCOMPARE(g.admitted(100), 100);
        g.gate.setLimits(rates(3, 0));   // on again: a full bucket
        QCOMPARE(g.admitted(100), 3);
        g.now += 10 * Second;
        g.gate.setLimits(rates(2, 0));   // a smaller burst caps what was saved
        QCOMPARE(g.admitted(100), 2);
    }
};

QTEST_GUILESS_MAIN(TestConnectGate)
#include "tst_connectgate.moc"
