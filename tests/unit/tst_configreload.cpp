// What a SIGHUP takes into a running daemon (planReload).
#include <QTest>

#include "ConfigReload.h"
#include "Options.h"

using namespace Qt::Literals::StringLiterals;
using ws2apid::ParsedOptions;

namespace {

ParsedOptions parsed(const QStringList &arguments)
{
    ParsedOptions options;
    QString output;
    int exitCode = 0;
    const auto outcome = ws2apid::parseOptions(QStringList{u"ws2apid"_s} + arguments, &options, &output, &exitCode);
    if (outcome != ws2apid::ParseOutcome::Run)
        qWarning("%s", qPrintable(output));
    return options;
}

} // namespace

class TestConfigReload : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void everyOptionIsKnown();
    void plan_data();
    void plan();
    void runtimeValuesAreTaken();
    void connectLimitsAreTaken();
};

// A new option that planReload() does not know would be silently ignored on reload.
void TestConfigReload::everyOptionIsKnown()
{
    QStringList known = ws2apid::reloadedOptionNames();
    QStringList options = ws2apid::optionNames();
    known.sort();
    options.sort();
    QCOMPARE(known, options);
}

void TestConfigReload::plan_data()
{
    QTest::addColumn<QStringList>("running");
    QTest::addColumn<QStringList>("fresh");
    QTest::addColumn<QStringList>("changed");
    QTest::addColumn<QStringList>("needRestart");
    QTest::addRow("nothing") << QStringList{u"--threads"_s, u"2"_s} << QStringList{u"--threads"_s, u"2"_s}
                             << QStringList() << QStringList();
    QTest::addRow("token and timeouts")
        << QStringList{u"--push-token"_s, u"a"_s}
        << QStringList{u"--push-token"_s, u"b"_s, u"--api-timeout"_s, u"5"_s, u"--call-timeout"_s, u"9"_s}
        << QStringList{u"push-token"_s, u"api-timeout"_s, u"call-timeout"_s} << QStringList();
    QTest::addRow("limits, pings, notices, logs")
        << QStringList()
        << QStringList{u"--max-message"_s, u"10"_s, u"--call-queue"_s, u"1"_s, u"--ping-interval"_s, u"0"_s,
                       u"--notify-disconnect"_s, u"off"_s, u"--log-rules"_s, u"ws2api.*.debug=true"_s,
                       u"--push-allow"_s, u"10.0.0.0/8"_s}
        << QStringList{u"push-allow"_s, u"call-queue"_s, u"max-message"_s, u"ping-interval"_s,
                       u"notify-disconnect"_s, u"log-rules"_s}
        << QStringList();
    QTest::addRow("handshake timeout, gathering")
        << QStringList{u"--gather-delay"_s, u"500"_s}
        << QStringList{u"--handshake-timeout"_s, u"3000"_s, u"--gather-delay"_s, u"0"_s}
        << QStringList{u"handshake-timeout"_s, u"gather-delay"_s} << QStringList();
    QTest::addRow("connection limits")
        << QStringList{u"--max-connections"_s, u"10"_s}
        << QStringList{u"--max-connections"_s, u"20"_s, u"--connect-rate"_s, u"50,5"_s}
        << QStringList{u"max-connections"_s, u"connect-rate"_s} << QStringList();
    QTest::addRow("per-source rate only changed")
        << QStringList{u"--connect-rate"_s, u"50,5"_s} << QStringList{u"--connect-rate"_s, u"50"_s}
        << QStringList{u"connect-rate"_s} << QStringList();
    QTest::addRow("listeners, threads, mode")
        << QStringList{u"--listen"_s, u"127.0.0.1:1"_s, u"--threads"_s, u"1"_s}
        << QStringList{u"--listen"_s, u"127.0.0.1:2"_s, u"--threads"_s, u"2"_s, u"--mode"_s, u"ocpp"_s,
                       u"--push-listen"_s, u"127.0.0.1:3"_s}
        << QStringList()
        << QStringList{u"listen"_s, u"push-listen"_s, u"mode"_s, u"threads"_s};
    QTest::addRow("API, pool, admin")
        << QStringList()
        << QStringList{u"--api"_s, u"demo:"_s, u"--api-connections"_s, u"4"_s, u"--admin"_s, u"x"_s,
                       u"--subprotocols"_s, u"ocpp1.6"_s}
        << QStringList()
        << QStringList{u"api"_s, u"admin"_s, u"api-connections"_s, u"subprotocols"_s};
    QTest::addRow("both") << QStringList() << QStringList{u"--threads"_s, u"9"_s, u"--push-token"_s, u"t"_s}
                          << QStringList{u"push-token"_s} << QStringList{u"threads"_s};
}

void TestConfigReload::plan()
{
    QFETCH(QStringList, running);
    QFETCH(QStringList, fresh);
    QFETCH(QStringList, changed);
    QFETCH(QStringList, needRestart);
    const ws2apid::ReloadPlan plan = ws2apid::planReload(parsed(running), parsed(fresh));
    QCOMPARE(plan.changed, changed);
    QCOMPARE(plan.needRestart, needRestart);
}

// What changes is taken; what needs a restart keeps its running value.
void TestConfigReload::runtimeValuesAreTaken()
{
    const ParsedOptions running = parsed({u"--listen"_s, u"127.0.0.1:1"_s, u"--push-token"_s, u"a"_s});
    const ParsedOptions fresh = parsed({u"--listen"_s, u"127.0.0.1:2"_s, u"--push-token"_s, u"b"_s,
                                        u"--api-timeout"_s, u"77"_s, u"--log-rules"_s, u"x.debug=true"_s});
    const ws2apid::ReloadPlan plan = ws2apid::planReload(running, fresh);
    QCOMPARE(plan.next.config.pushToken, "b"_ba);
    QCOMPARE(plan.next.config.apiTimeoutMs, 77);
    QCOMPARE(plan.next.logRules, u"x.debug=true"_s);
    QCOMPARE(plan.next.config.listenPort, quint16(1));
}

void TestConfigReload::connectLimitsAreTaken()
{
    const ParsedOptions running = parsed({u"--max-connections"_s, u"10"_s, u"--connect-rate"_s, u"50,5"_s});
    const ParsedOptions fresh = parsed({u"--max-connections"_s, u"20"_s, u"--connect-rate"_s, u"80"_s});
    const ws2apid::ReloadPlan plan = ws2apid::planReload(running, fresh);
    QCOMPARE(plan.next.config.maxConnections, 20);
    QCOMPARE(plan.next.config.connectRate, 80.0);
    QCOMPARE(plan.next.config.connectRatePerSource, 0.0);
}

QTEST_GUILESS_MAIN(TestConfigReload)
#include "tst_configreload.moc"
