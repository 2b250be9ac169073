// The real ws2apid binary: exit codes and stderr for bad options, --help, and a full
// life: start on port 0 with the demo API, echo a message, SIGTERM -> 1001 and exit 0.
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QWebSocket>
#include <QWebSocketHandshakeOptions>

#include <algorithm>
#include <memory>
#include <sys/resource.h>
#include <vector>

#include "DaemonProcess.h"
#include "FakeApi.h"
#include "MetricsScrape.h"
#include "TestPki.h"

using namespace Qt::Literals::StringLiterals;

namespace {

using Daemon = ws2api::test::DaemonProcess;

const QString DaemonPath = QStringLiteral(WS2APID_PATH);
constexpr int StartTimeoutMs = Daemon::StartTimeoutMs;

} // namespace

class TestDaemon : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void badOption_data();
    void badOption();
    void help();
    void echoThenSigterm();
    void demoApiInOcppMode();
    void tlsFilesFromTheCommandLine();
    void refusesCleanlyAtTheOpenFilesLimit();
    void secondSignalExitsAtOnce();
    void profiles();
};

void TestDaemon::badOption_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addRow("unknown") << QStringList{u"--bogus"_s};
    QTest::addRow("bad listen") << QStringList{u"--listen"_s, u"foo"_s};
    QTest::addRow("bad threads") << QStringList{u"--threads"_s, u"0"_s};
    QTest::addRow("unreadable api-ca") << QStringList{u"--api"_s, u"https://a/"_s, u"--api-ca"_s, u"/nonexistent/ca.pem"_s};
    QTest::addRow("tls-verify-client without a CA") << QStringList{u"--tls-verify-client"_s, u"required"_s};
    QTest::addRow("positional") << QStringList{u"extra"_s};
    QTest::addRow("missing config") << QStringList{u"--config"_s, u"/nonexistent/ws2apid.conf"_s};
}

void TestDaemon::badOption()
{
    QFETCH(QStringList, arguments);
    QProcess process;
    process.start(DaemonPath, arguments);
    QVERIFY(process.waitForFinished());
    QCOMPARE(process.exitStatus(), QProcess::NormalExit);
    QCOMPARE(process.exitCode(), 2);
    const QByteArray err = process.readAllStandardError();
    QVERIFY2(err.startsWith("ws2apid: ") && err.endsWith('\n') && err.count('\n') == 1, err.constData());
    QCOMPARE(process.readAllStandardOutput(), QByteArray());
}

void TestDaemon::help()
{
    QProcess process;
    process.start(DaemonPath, {u"--help"_s});
    QVERIFY(process.waitForFinished());
    QCOMPARE(process.exitCode(), 0);
    const QByteArray out = process.readAllStandardOutput();
    QVERIFY2(out.contains("--listen") && out.contains("-cpuprofile=FILE"), out.constData());
}

void TestDaemon::echoThenSigterm()
{
    Daemon daemon(DaemonPath);
    const quint16 port = daemon.start({u"--listen"_s, u"127.0.0.1:0"_s, u"--api"_s, u"demo:"_s,
                                       u"--admin"_s, u"none"_s, u"--threads"_s, u"2"_s});
    QVERIFY2(port != 0, daemon.errorOutput().constData());

    QWebSocket client;
    QSignalSpy connected(&client, &QWebSocket::connected);
    QSignalSpy received(&client, &QWebSocket::textMessageReceived);
    QSignalSpy disconnected(&client, &QWebSocket::disconnected);
    client.open(QUrl(u"ws://127.0.0.1:%1/test1"_s.arg(port)));
    QTRY_COMPARE(connected.size(), 1);
    client.sendTextMessage(u"hi"_s);
    QTRY_COMPARE(received.size(), 1);
    QCOMPARE(received.at(0).at(0).toString(), u"hi"_s);
    // The daemon greets itself through the demo API, so a newcomer sees an echo at once.
    QTRY_VERIFY(daemon.errorOutput().contains(
        "demo API works: sent \"hello from ws2api\", got back \"hello from ws2api\""));

    // /metrics (on --listen, there being no --push-listen) has each worker's event
    // loop lag: probes served, and the recent worst.
    const auto lagOf = [port](int worker) {
        const QByteArray label = "{worker=\"" + QByteArray::number(worker) + "\"}";
        const QHash<QByteArray, double> samples = ws2api::test::scrapeMetrics(port);
        return std::pair(samples.value("ws2api_event_loop_lag_seconds_count" + label, -1),
                         samples.value("ws2api_event_loop_lag_max_seconds" + label, -1));
    };
    QTRY_VERIFY(lagOf(0).first > 0 && lagOf(1).first > 0);
    QVERIFY(lagOf(0).second >= 0 && lagOf(1).second >= 0);
    QCOMPARE(lagOf(2), std::pair(-1.0, -1.0));

    daemon.process().terminate();  // SIGTERM
    QTRY_COMPARE(disconnected.size(), 1);
    QCOMPARE(client.closeCode(), QWebSocketProtocol::CloseCodeGoingAway);
    QVERIFY(daemon.waitForExit());
    QCOMPARE(daemon.process().exitStatus(), QProcess::NormalExit);
    QVERIFY2(daemon.process().exitCode() == 0, daemon.errorOutput().constData());
}

// --tls-cert and --tls-key as the daemon reads them: wss on --listen, the demo
// greeter speaking it too, the startup line saying so; a missing key is exit 2.
void TestDaemon::tlsFilesFromTheCommandLine()
{
    ws2api::test::TestPki pki;
    QVERIFY(pki.make());
    Daemon daemon(DaemonPath);
    const quint16 port = daemon.start({u"--listen"_s, u"127.0.0.1:0"_s, u"--api"_s, u"demo:"_s, u"--admin"_s,
                                       u"none"_s, u"--tls-cert"_s, pki.path(u"server.crt"_s), u"--tls-key"_s,
                                       pki.path(u"server.key"_s)});
    QVERIFY2(port != 0, daemon.errorOutput().constData());
    QVERIFY(daemon.errorOutput().contains(u"listening on 127.0.0.1:%1 (TLS)"_s.arg(port).toUtf8()));
    QTRY_VERIFY(daemon.errorOutput().contains("demo API works"));
    QWebSocket client;
    client.setSslConfiguration(pki.clientTls({}));
    QSignalSpy received(&client, &QWebSocket::textMessageReceived);
    connect(&client, &QWebSocket::connected, &client, [&client] { client.sendTextMessage(u"hi"_s); });
    client.open(QUrl(u"wss://127.0.0.1:%1/test1"_s.arg(port)));
    QTRY_COMPARE(received.size(), 1);

    QProcess noKey;
    noKey.start(DaemonPath, {u"--tls-cert"_s, pki.path(u"server.crt"_s)});
    QVERIFY(noKey.waitForFinished());
    QCOMPARE(noKey.exitCode(), 2);
    QVERIFY(noKey.readAllStandardError().contains("--tls-cert and --tls-key go together"));

    ws2api::test::TestPki other;
    QVERIFY(other.make());
    QProcess wrongKey;
    wrongKey.start(DaemonPath, {u"--tls-cert"_s, pki.path(u"server.crt"_s), u"--tls-key"_s, other.path(u"server.key"_s)});
    QVERIFY(wrongKey.waitForFinished());
    QCOMPARE(wrongKey.exitCode(), 2);
    QVERIFY(wrongKey.readAllStandardError().contains("--tls-key: not the key of the certificate in --tls-cert"));

    // An RSA and an ECDSA pair, the keys in either order (the file's list form too).
    const auto run = [&](const QStringList &tls) {
        QProcess check;
        check.start(DaemonPath, QStringList{u"--listen"_s, u"127.0.0.1:0"_s, u"--admin"_s, u"none"_s} + tls);
        // A good pair starts listening (and is stopped here); a bad one exits 2 with its line.
        QByteArray error;
        const bool done = QTest::qWaitFor([&] {
            error += check.readAllStandardError();
            return check.state() == QProcess::NotRunning || error.contains("listening on");
        }, 10000);
        if (!done || check.state() == QProcess::NotRunning)
            return error + check.readAllStandardError();
        check.terminate();
        check.waitForFinished();
        return QByteArray("running");
    };
    const QString rsa = pki.path(u"server-rsa.crt"_s);
    const QString rsaKey = pki.path(u"server-rsa.key"_s);
    const QString ec = pki.path(u"server.crt"_s);
    const QString ecKey = pki.path(u"server.key"_s);
    QCOMPARE(run({u"--tls-cert"_s, rsa, u"--tls-cert"_s, ec, u"--tls-key"_s, ecKey, u"--tls-key"_s, rsaKey}), "running");
    QCOMPARE(run({u"--tls-cert"_s, ec + u',' + rsa, u"--tls-key"_s, rsaKey + u", "_s + ecKey}), "running");
    QVERIFY(run({u"--tls-cert"_s, ec, u"--tls-cert"_s, other.path(u"server.crt"_s), u"--tls-key"_s, ecKey,
                 u"--tls-key"_s, other.path(u"server.key"_s)})
                .contains("--tls-cert: both certificates have ECDSA keys; two pairs are an RSA and an ECDSA one"));
    QVERIFY(run({u"--tls-cert"_s, rsa, u"--tls-cert"_s, ec, u"--tls-key"_s, ecKey})
                .contains("--tls-cert and --tls-key: 2 certificates but 1 keys"));
    QVERIFY(run({u"--tls-cert"_s, rsa, u"--tls-cert"_s, ec, u"--tls-key"_s, ecKey, u"--tls-key"_s,
                 other.path(u"server.key"_s)})
                .contains("--tls-key: none of the keys is the key of the certificate in \"" + rsa.toUtf8() + "\""));
}

// The demo API speaks OCPP too: every station accepted, every CALL answered {}.
void TestDaemon::demoApiInOcppMode()
{
    Daemon daemon(DaemonPath);
    const quint16 port = daemon.start({u"--listen"_s, u"127.0.0.1:0"_s, u"--api"_s, u"demo:"_s,
                                       u"--mode"_s, u"ocpp"_s, u"--admin"_s, u"none"_s});
    QVERIFY2(port != 0, daemon.errorOutput().constData());
    QTRY_VERIFY(daemon.errorOutput().contains(
        R"(demo API works: sent "[2,"1","Heartbeat",{}]", got back "[3,"1",{}]")"));

    QWebSocket station;
    QSignalSpy received(&station, &QWebSocket::textMessageReceived);
    QWebSocketHandshakeOptions options;
    options.setSubprotocols({u"ocpp1.6"_s});
    station.open(QUrl(u"ws://127.0.0.1:%1/CP1"_s.arg(port)), options);
    QTRY_COMPARE(station.state(), QAbstractSocket::ConnectedState);
    QCOMPARE(station.subprotocol(), u"ocpp1.6"_s);
    station.sendTextMessage(uR"([2,"42","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}])"_s);
    QTRY_COMPARE(received.size(), 1);
    QCOMPARE(received.at(0).at(0).toString(), uR"([3,"42",{}])"_s);
}

void TestDaemon::secondSignalExitsAtOnce()
{
    // The API never answers a message, so the first SIGTERM's drain has an API request
    // to wait for (up to the drain timeout); a second signal must not wait for it.
    ws2api::test::FakeApi api;
    api.setHandler([](const ws2api::test::RecordedRequest &request) {
        ws2api::test::FakeReply reply;
        reply.body = "ok";
        reply.hang = request.method == "POST";
        return reply;
    });
    QVERIFY(api.listen());
    Daemon daemon(DaemonPath);
    const quint16 port = daemon.start({u"--listen"_s, u"127.0.0.1:0"_s, u"--api"_s, api.url().toString(),
                                       u"--admin"_s, u"none"_s, u"--api-timeout"_s, u"600000"_s});
    QVERIFY2(port != 0, daemon.errorOutput().constData());

    QWebSocket client;
    QSignalSpy connected(&client, &QWebSocket::connected);
    client.open(QUrl(u"ws://127.0.0.1:%1/CP1"_s.arg(port)));
    QTRY_COMPARE(connected.size(), 1);
    client.sendTextMessage(u"never answered"_s);
    const auto messagePosted = [&] {
        const auto requests = api.requests();
        return std::any_of(requests.begin(), requests.end(),
                           [](const auto &request) { return request.method == "POST"; });
    };
    QTRY_VERIFY(messagePosted());  // in flight now, and never answered

    daemon.process().terminate();
    // The daemon logs that it is stopping once the first signal is handled; the drain
    // then waits for the hanging request, so the second signal finds it still stopping.
    QTRY_VERIFY_WITH_TIMEOUT(daemon.errorOutput().contains("stopping"), StartTimeoutMs);
    QCOMPARE(daemon.process().state(), QProcess::Running);
    daemon.process().terminate();
    QVERIFY(daemon.waitForExit());
    QCOMPARE(daemon.process().exitStatus(), QProcess::NormalExit);
    QCOMPARE(daemon.process().exitCode(), 1);
}

void TestDaemon::profiles()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString cpu = dir.filePath(u"cpu.prof"_s);
    const QString mem = dir.filePath(u"mem.prof"_s);
    const QStringList arguments = {u"--listen"_s, u"127.0.0.1:0"_s, u"--api"_s, u"demo:"_s,
                                   u"--admin"_s, u"none"_s, u"-cpuprofile="_s + cpu,
                                   u"-memprofile="_s + mem};
#ifdef WS2API_HAVE_GPERFTOOLS
    Daemon daemon(DaemonPath);
    QVERIFY2(daemon.start(arguments) != 0, daemon.errorOutput().constData());
    daemon.process().terminate();
    QVERIFY(daemon.waitForExit());
    QCOMPARE(daemon.process().exitCode(), 0);
    QVERIFY(QFileInfo(cpu).size() > 0);
    QFile heap(mem);
    QVERIFY(heap.open(QIODevice::ReadOnly));
    QVERIFY(heap.readLine().startsWith("heap profile:"));
#else
    QProcess process;
    process.start(DaemonPath, arguments);
    QVERIFY(process.waitForFinished());
    QCOMPARE(process.exitCode(), 2);
    QVERIFY(process.readAllStandardError().contains("built without gperftools"));
#endif
}

// A daemon allowed 150 open files: clients past what it can hold get a clean 503
// and a closed socket, those it holds keep working, and freed room is used again.
void TestDaemon::refusesCleanlyAtTheOpenFilesLimit()
{
    ws2api::test::FakeApi api;
    QVERIFY(api.listen());
    Daemon daemon(DaemonPath);
    daemon.process().setChildProcessModifier([] {
        const rlimit limit{150, 150};
        ::setrlimit(RLIMIT_NOFILE, &limit);
    });
    const quint16 port = daemon.start({u"--listen"_s, u"127.0.0.1:0"_s, u"--api"_s, api.url().toString(),
                                       u"--admin"_s, u"none"_s, u"--threads"_s, u"1"_s});
    QVERIFY2(port != 0, daemon.errorOutput().constData());

    constexpr int Clients = 80;
    std::vector<std::unique_ptr<QWebSocket>> clients;
    std::vector<int> outcome(Clients, 0);  // 1 opened, 2 refused
    for (int i = 0; i < Clients; ++i) {
        auto client = std::make_unique<QWebSocket>();
        QObject::connect(client.get(), &QWebSocket::connected, [&outcome, i] { outcome[i] = 1; });
        QObject::connect(client.get(), qOverload<QAbstractSocket::SocketError>(&QWebSocket::error),
                         [&outcome, i] { outcome[i] = outcome[i] ? outcome[i] : 2; });
        client->open(QUrl(u"ws://127.0.0.1:%1/cp%2"_s.arg(port).arg(i)));
        clients.push_back(std::move(client));
    }
    QTRY_VERIFY_WITH_TIMEOUT(std::count(outcome.begin(), outcome.end(), 0) == 0, StartTimeoutMs);
    const auto opened = std::count(outcome.begin(), outcome.end(), 1);
    const auto refused = std::count(outcome.begin(), outcome.end(), 2);
    QVERIFY2(opened > 0 && refused > 0, qPrintable(u"opened %1, refused %2"_s.arg(opened).arg(refused)));
    qInfo("%d clients held, %d refused", int(opened), int(refused));
    QVERIFY(daemon.errorOutput().contains("at capacity"));

    const auto held = std::find_if(clients.begin(), clients.end(), [](const auto &c) {
        return c->state() == QAbstractSocket::ConnectedState;
    });
    QSignalSpy echoed(held->get(), &QWebSocket::textMessageReceived);
    (*held)->sendTextMessage(u"still served"_s);
    QTRY_COMPARE(echoed.size(), 1);

    // Room freed by departing clients is used again.
    const int departing = int(std::min<qsizetype>(opened, 5));
    int closed = 0;
    for (auto &client : clients) {
        if (closed < departing && client->state() == QAbstractSocket::ConnectedState && client != *held) {
            client->close();
            ++closed;
        }
    }
    const auto deletes = [&api] {
        const auto all = api.requests();
        return std::count_if(all.begin(), all.end(), [](const auto &r) { return r.method == "DELETE"; });
    };
    QTRY_COMPARE(deletes(), closed);
    QWebSocket late;
    QSignalSpy lateConnected(&late, &QWebSocket::connected);
    late.open(QUrl(u"ws://127.0.0.1:%1/late"_s.arg(port)));
    QTRY_COMPARE(lateConnected.size(), 1);
}

QTEST_GUILESS_MAIN(TestDaemon)
#include "tst_daemon.moc"
