// ws2apid's options and INI config: every option's good values land in the right
// ProxyConfig fields (and nowhere else), every bad one is one error line and exit 2.
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QSslCertificate>
#include <QTest>
#include <QThread>

#include <csignal>

#include "Options.h"
#include "SignalWatcher.h"

using namespace Qt::Literals::StringLiterals;
using ws2apid::ParsedOptions;
using ws2apid::ParseOutcome;

namespace {

QStringList subnets(const QList<QPair<QHostAddress, int>> &list)
{
    QStringList out;
    for (const auto &[address, length] : list)
        out.append(address.toString() + u'/' + QString::number(length));
    return out;
}

// Every field the daemon fills, by name, so a case can say what it changes and the
// test can check that nothing else moved.
QVariantMap fields(const ParsedOptions &o)
{
    const ws2api::ProxyConfig &c = o.config;
    return {
        {u"listenAddress"_s, c.listenAddress.toString()}, {u"listenPort"_s, c.listenPort},
        {u"anyAddress"_s, c.listenAddress == QHostAddress::Any},
        {u"hasPushListener"_s, c.hasPushListener}, {u"pushAddress"_s, c.pushAddress.toString()},
        {u"pushPort"_s, c.pushPort}, {u"api"_s, c.api.toString()}, {u"demoApi"_s, c.demoApi},
        {u"mode"_s, c.mode == ws2api::ProxyConfig::Mode::Ocpp ? u"ocpp"_s : u"plain"_s},
        {u"pushToken"_s, c.pushToken}, {u"pushAllow"_s, subnets(c.pushAllow)},
        {u"threads"_s, c.threads}, {u"adminName"_s, c.adminName},
        {u"adminGroup"_s, c.adminGroup},
        {u"apiTimeoutMs"_s, c.apiTimeoutMs}, {u"apiPoolSize"_s, c.apiPoolSize},
        {u"apiPipeline"_s, c.apiPipeline},
        {u"gatherDelayUs"_s, c.gatherDelayUs},
        {u"handshakeTimeoutMs"_s, c.handshakeTimeoutMs},
        {u"callTimeoutMs"_s, c.callTimeoutMs},
        {u"callQueue"_s, c.callQueue}, {u"subprotocols"_s, c.subprotocols},
        {u"defaultSubprotocol"_s, c.defaultSubprotocol}, {u"maxMessage"_s, c.maxMessage},
        {u"pingIntervalMs"_s, c.pingIntervalMs}, {u"notifyDisconnect"_s, c.notifyDisconnect},
        {u"forwardHeaders"_s, QVariant::fromValue(c.forwardHeaders)},
        {u"maxConnections"_s, c.maxConnections}, {u"connectRate"_s, c.connectRate},
        {u"connectRatePerSource"_s, c.connectRatePerSource},
        {u"cpuProfile"_s, c.cpuProfile}, {u"memProfile"_s, c.memProfile},
        {u"logRules"_s, o.logRules},
    };
}

struct Result
{
    ParseOutcome outcome;
    ParsedOptions options;
    QString output;
    int exitCode = -1;
};

Result parse(const QStringList &arguments)
{
    Result r;
    r.outcome = ws2apid::parseOptions(QStringList{u"ws2apid"_s} + arguments, &r.options, &r.output,
                                      &r.exitCode);
    return r;
}

QVariantMap defaultFields()
{
    ParsedOptions defaults;
    defaults.config.threads = QThread::idealThreadCount();
    return fields(defaults);
}

void writeFile(const QString &path, const QByteArray &text)
{
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    QCOMPARE(file.write(text), text.size());
}

} // namespace

class TestOptions : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void defaults();
    void goodArguments_data();
    void goodArguments();
    void badArguments_data();
    void badArguments();
    void help();
    void version();
    void configFile();
    void configFileCommandLineWins();
    void configFileSection();
    void configFileErrors_data();
    void configFileErrors();
    void formatEndpoint();
    void startupLine();
    void loggingFilterRules();
    void signalWatcher();
};

void TestOptions::defaults()
{
    const Result r = parse({});
    QCOMPARE(r.outcome, ParseOutcome::Run);
    QCOMPARE(r.exitCode, 0);
    QVERIFY(r.output.isEmpty());
    QCOMPARE(fields(r.options), defaultFields());
    QVERIFY(r.options.config.pushAllow.isEmpty());  // core applies the default ranges
}

void TestOptions::goodArguments_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QVariantMap>("changes");
    const auto ipv4 = [](const char *address, int port) {
        return QVariantMap{{u"listenAddress"_s, QString::fromLatin1(address)}, {u"listenPort"_s, port},
                           {u"anyAddress"_s, false}};
    };
    QTest::addRow("listen") << QStringList{u"--listen"_s, u"127.0.0.1:4001"_s} << ipv4("127.0.0.1", 4001);
    QTest::addRow("listen=") << QStringList{u"--listen=10.1.2.3:0"_s} << ipv4("10.1.2.3", 0);
    QTest::addRow("listen go style") << QStringList{u"-listen=10.1.2.3:80"_s} << ipv4("10.1.2.3", 80);
    QTest::addRow("listen 0.0.0.0") << QStringList{u"--listen"_s, u"0.0.0.0:65535"_s}
                                    << ipv4("0.0.0.0", 65535);
    QTest::addRow("listen localhost") << QStringList{u"--listen"_s, u"localhost:1"_s} << ipv4("127.0.0.1", 1);
    QTest::addRow("listen ipv6") << QStringList{u"--listen"_s, u"[::1]:4000"_s}
                                 << QVariantMap{{u"listenAddress"_s, u"::1"_s}, {u"anyAddress"_s, false}};
    QTest::addRow("listen :port") << QStringList{u"--listen"_s, u":8080"_s}
                                  << QVariantMap{{u"listenPort"_s, 8080}};
    QTest::addRow("last one wins") << QStringList{u"--listen"_s, u":1"_s, u"--listen"_s, u":2"_s}
                                   << QVariantMap{{u"listenPort"_s, 2}};
    QTest::addRow("push-listen") << QStringList{u"--push-listen"_s, u"127.0.0.1:4001"_s}
                                 << QVariantMap{{u"hasPushListener"_s, true}, {u"pushPort"_s, 4001},
                                                {u"pushAddress"_s, u"127.0.0.1"_s}};
    QTest::addRow("api") << QStringList{u"--api"_s, u"http://api.example:8080/base"_s}
                         << QVariantMap{{u"api"_s, u"http://api.example:8080/base"_s}};
    QTest::addRow("api ipv6") << QStringList{u"--api"_s, u"http://[::1]/"_s}
                              << QVariantMap{{u"api"_s, u"http://[::1]/"_s}};
    QTest::addRow("api https") << QStringList{u"--api"_s, u"https://api.example/base"_s}
                               << QVariantMap{{u"api"_s, u"https://api.example/base"_s}};
    QTest::addRow("api demo") << QStringList{u"--api"_s, u"demo:"_s} << QVariantMap{{u"demoApi"_s, true}};
    QTest::addRow("mode ocpp") << QStringList{u"--mode"_s, u"ocpp"_s} << QVariantMap{{u"mode"_s, u"ocpp"_s}};
    QTest::addRow("mode plain") << QStringList{u"--mode=plain"_s} << QVariantMap{};
    QTest::addRow("push-token") << QStringList{u"--push-token"_s, u"s3cr3t-T0ken"_s}
                                << QVariantMap{{u"pushToken"_s, "s3cr3t-T0ken"_ba}};
    QTest::addRow("push-allow") << QStringList{u"--push-allow"_s, u"10.0.0.0/8, ::1/128,192.0.2.7"_s}
                                << QVariantMap{{u"pushAllow"_s, QStringList{u"10.0.0.0/8"_s, u"::1/128"_s,
                                                                           u"192.0.2.7/32"_s}}};
    QTest::addRow("threads") << QStringList{u"--threads"_s, u"3"_s} << QVariantMap{{u"threads"_s, 3}};
    QTest::addRow("threads max") << QStringList{u"--threads"_s, u"1024"_s} << QVariantMap{{u"threads"_s, 1024}};
    QTest::addRow("admin") << QStringList{u"--admin"_s, u"/run/ws2apid.sock"_s}
                           << QVariantMap{{u"adminName"_s, u"/run/ws2apid.sock"_s}};
    QTest::addRow("admin none") << QStringList{u"--admin"_s, u"none"_s} << QVariantMap{{u"adminName"_s, u"none"_s}};
    QTest::addRow("admin-group") << QStringList{u"--admin-group"_s, u"ws2api"_s}
                                 << QVariantMap{{u"adminGroup"_s, u"ws2api"_s}};
    QTest::addRow("api-timeout") << QStringList{u"--api-timeout"_s, u"250"_s}
                                 << QVariantMap{{u"apiTimeoutMs"_s, 250}};
    QTest::addRow("handshake-timeout") << QStringList{u"--handshake-timeout"_s, u"500"_s}
                                       << QVariantMap{{u"handshakeTimeoutMs"_s, 500}};
    QTest::addRow("api-connections") << QStringList{u"--api-connections"_s, u"4"_s}
                                     << QVariantMap{{u"apiPoolSize"_s, 4}};
    QTest::addRow("api-pipeline") << QStringList{u"--api-pipeline"_s, u"16"_s}
                                  << QVariantMap{{u"apiPipeline"_s, 16}};
    QTest::addRow("gather-delay") << QStringList{u"--gather-delay"_s, u"500"_s}
                                  << QVariantMap{{u"gatherDelayUs"_s, 500}};
    QTest::addRow("call-timeout") << QStringList{u"--call-timeout"_s, u"5"_s}
                                  << QVariantMap{{u"callTimeoutMs"_s, 5000}};
    QTest::addRow("call-queue 0") << QStringList{u"--call-queue"_s, u"0"_s} << QVariantMap{{u"callQueue"_s, 0}};
    QTest::addRow("subprotocols") << QStringList{u"--subprotocols"_s, u"ocpp1.6, ocpp2.0.1"_s}
                                  << QVariantMap{{u"subprotocols"_s, QStringList{u"ocpp1.6"_s, u"ocpp2.0.1"_s}}};
    QTest::addRow("default-subprotocol") << QStringList{u"--default-subprotocol"_s, u"ocpp1.6"_s}
                                         << QVariantMap{{u"defaultSubprotocol"_s, u"ocpp1.6"_s}};
    QTest::addRow("max-message") << QStringList{u"--max-message"_s, u"268435456"_s}
                                 << QVariantMap{{u"maxMessage"_s, qint64(268435456)}};
    QTest::addRow("max-message 1") << QStringList{u"--max-message"_s, u"1"_s}
                                   << QVariantMap{{u"maxMessage"_s, qint64(1)}};
    QTest::addRow("ping-interval") << QStringList{u"--ping-interval"_s, u"5"_s}
                                   << QVariantMap{{u"pingIntervalMs"_s, 5000}};
    QTest::addRow("ping-interval off") << QStringList{u"--ping-interval"_s, u"0"_s}
                                       << QVariantMap{{u"pingIntervalMs"_s, 0}};
    QTest::addRow("notify-disconnect") << QStringList{u"--notify-disconnect"_s, u"off"_s}
                                       << QVariantMap{{u"notifyDisconnect"_s, false}};
    QTest::addRow("forward-headers") << QStringList{u"--forward-headers"_s, u"Client-Cert, traceparent"_s}
                                     << QVariantMap{{u"forwardHeaders"_s,
                                                     QVariant::fromValue(QList<QByteArray>{"Client-Cert", "traceparent"})}};
    QTest::addRow("max-connections") << QStringList{u"--max-connections"_s, u"19000"_s}
                                     << QVariantMap{{u"maxConnections"_s, qint64(19000)}};
    QTest::addRow("max-connections max") << QStringList{u"--max-connections"_s, u"100000000"_s}
                                         << QVariantMap{{u"maxConnections"_s, qint64(100000000)}};
    QTest::addRow("connect-rate") << QStringList{u"--connect-rate"_s, u"200"_s}
                                  << QVariantMap{{u"connectRate"_s, 200.0}};
    QTest::addRow("connect-rate per source") << QStringList{u"--connect-rate"_s, u"200, 5"_s}
                                             << QVariantMap{{u"connectRate"_s, 200.0}, {u"connectRatePerSource"_s, 5.0}};
    QTest::addRow("connect-rate equal") << QStringList{u"--connect-rate=1,1"_s}
                                        << QVariantMap{{u"connectRate"_s, 1.0}, {u"connectRatePerSource"_s, 1.0}};
    QTest::addRow("connect-rate off") << QStringList{u"--connect-rate"_s, u"5,2"_s, u"--connect-rate"_s, u"off"_s}
                                      << QVariantMap{};
    QTest::addRow("-cpuprofile=FILE") << QStringList{u"-cpuprofile=/tmp/cpu.prof"_s}
                                      << QVariantMap{{u"cpuProfile"_s, u"/tmp/cpu.prof"_s}};
    QTest::addRow("--cpuprofile FILE") << QStringList{u"--cpuprofile"_s, u"cpu.prof"_s}
                                       << QVariantMap{{u"cpuProfile"_s, u"cpu.prof"_s}};
    QTest::addRow("-memprofile=FILE") << QStringList{u"-memprofile=/tmp/mem.prof"_s}
                                      << QVariantMap{{u"memProfile"_s, u"/tmp/mem.prof"_s}};
    QTest::addRow("-memprofile FILE") << QStringList{u"-memprofile"_s, u"mem.prof"_s}
                                      << QVariantMap{{u"memProfile"_s, u"mem.prof"_s}};
    QTest::addRow("log-rules") << QStringList{u"--log-rules"_s, u"ws2api.*.debug=true"_s}
                               << QVariantMap{{u"logRules"_s, u"ws2api.*.debug=true"_s}};
}

void TestOptions::goodArguments()
{
    QFETCH(QStringList, arguments);
    QFETCH(QVariantMap, changes);
    const Result r = parse(arguments);
    QCOMPARE(r.output, QString());
    QCOMPARE(r.outcome, ParseOutcome::Run);
    QVariantMap expected = defaultFields();
    expected.insert(changes);
    QCOMPARE(fields(r.options), expected);
}

void TestOptions::badArguments_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QString>("mentions");  // the option (or value) the line must name
    const auto bad = [](const QString &option, const QStringList &values) {
        for (const QString &value : values)
            QTest::addRow("%s %s", qPrintable(option), qPrintable(value)) << QStringList{option, value} << option;
    };
    QTest::addRow("unknown option") << QStringList{u"--bogus"_s} << u"bogus"_s;
    QTest::addRow("unknown go style") << QStringList{u"-bogus=1"_s} << u"bogus"_s;
    QTest::addRow("missing value") << QStringList{u"--listen"_s} << u"--listen"_s;
    QTest::addRow("positional") << QStringList{u"extra"_s} << u"\"extra\""_s;
    QTest::addRow("newline in value") << QStringList{u"--listen"_s, u"a\nb"_s} << u"\"a\\x0ab\""_s;
    QTest::addRow("three certificates") << QStringList{u"--tls-cert"_s, u"a.pem,b.pem"_s, u"--tls-cert"_s, u"c.pem"_s}
                                        << u"at most two certificates"_s;
    QTest::addRow("positional after --") << QStringList{u"--"_s, u"--listen"_s} << u"\"--listen\""_s;
    bad(u"--listen"_s, {u"foo"_s, u"1.2.3.4"_s, u"1.2.3.4:"_s, u"1.2.3.4:65536"_s, u"1.2.3.4:-1"_s,
                        u"1.2.3.4:+1"_s, u"::1:4000"_s, u"[1.2.3.4]:80"_s, u"1.2.3:80"_s,
                        u"host.example:80"_s, u""_s});
    bad(u"--push-listen"_s, {u"x"_s, u"[::1]"_s});
    bad(u"--api"_s, {u"ftp://a/"_s, u"http://"_s, u"http://a/?q=1"_s, u"http://a/#f"_s,
                     u"http://u:p@a/"_s, u"a.example"_s, u"demo"_s, u""_s});
    bad(u"--api"_s, {u"https://"_s, u"https://a/?q=1"_s});
    bad(u"--tls-cert"_s, {u"/nonexistent/cert.pem"_s, QStringLiteral(WS2API_OPTIONS_SOURCE)});
    bad(u"--tls-key"_s, {u"/nonexistent/key.pem"_s, QStringLiteral(WS2API_OPTIONS_SOURCE)});
    bad(u"--tls-client-ca"_s, {u"/nonexistent/ca.pem"_s, QStringLiteral(WS2API_OPTIONS_SOURCE)});
    bad(u"--tls-verify-client"_s, {u"yes"_s, u"Required"_s, u""_s});
    bad(u"--push-tls"_s, {u"yes"_s, u""_s});
    bad(u"--api-ca"_s, {u"/nonexistent/ca.pem"_s, QStringLiteral(WS2API_OPTIONS_SOURCE)});  // not PEM
    bad(u"--mode"_s, {u"OCPP"_s, u"json"_s, u""_s});
    bad(u"--threads"_s, {u"0"_s, u"1025"_s, u"-1"_s, u"x"_s, u"1.5"_s});
    bad(u"--api-timeout"_s, {u"0"_s, u"-5"_s, u"x"_s, u"2147483648"_s});
    bad(u"--call-timeout"_s, {u"0"_s, u"-1"_s, u"2147484"_s});
    bad(u"--handshake-timeout"_s, {u"99"_s, u"0"_s, u"x"_s, u"2147483648"_s});
    bad(u"--call-queue"_s, {u"-1"_s, u"x"_s});
    bad(u"--api-connections"_s, {u"0"_s, u"1025"_s, u"x"_s});
    bad(u"--api-pipeline"_s, {u"0"_s, u"65"_s, u"x"_s});
    bad(u"--gather-delay"_s, {u"-1"_s, u"10001"_s, u"x"_s});
    bad(u"--ping-interval"_s, {u"-1"_s, u"x"_s, u"2147484"_s});
    bad(u"--push-allow"_s, {u"10.0.0.0/33"_s, u"foo"_s, u"10.0.0.0/8,"_s, u""_s});
    bad(u"--push-token"_s, {u"a b"_s, u"t\u00e9"_s});
    bad(u"--max-message"_s, {u"0"_s, u"268435457"_s, u"1M"_s});
    bad(u"--notify-disconnect"_s, {u"yes"_s, u"ON"_s});
    bad(u"--subprotocols"_s, {u"ocpp1.6,,ocpp2.1"_s, u""_s, u"ocpp1.5"_s, u"ocpp1.6,ocpp1.6"_s});
    bad(u"--admin"_s, {u""_s});
    bad(u"--max-connections"_s, {u"0"_s, u"-1"_s, u"x"_s, u"1.5"_s, u"100000001"_s, u""_s});
    bad(u"--connect-rate"_s, {u""_s, u"0"_s, u"on"_s, u"OFF"_s, u"-1"_s, u"1.5"_s, u"1000001"_s, u"5,"_s,
                              u",5"_s, u"5,0"_s, u"5,6"_s, u"5,2,1"_s, u"5;2"_s});
    bad(u"--forward-headers"_s, {u"Client Cert"_s, u"X:1"_s, u"Content-Length"_s, u"host"_s,
                                 u"authorization"_s, u"X-Forwarded-For"_s, u"a,A"_s, u"t\u00e9"_s});
    bad(u"--admin-group"_s, {u""_s, u" "_s});
    QTest::addRow("default-subprotocol not offered")
        << QStringList{u"--subprotocols"_s, u"ocpp2.1"_s, u"--default-subprotocol"_s, u"ocpp1.6"_s}
        << u"--default-subprotocol"_s;
    QTest::addRow("same profile file") << QStringList{u"-cpuprofile=p"_s, u"-memprofile=p"_s}
                                       << u"--memprofile"_s;
    QTest::addRow("missing config") << QStringList{u"--config"_s, u"/nonexistent/ws2apid.conf"_s}
                                    << u"--config"_s;
}

void TestOptions::badArguments()
{
    QFETCH(QStringList, arguments);
    QFETCH(QString, mentions);
    const Result r = parse(arguments);
    QCOMPARE(r.outcome, ParseOutcome::Exit);
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.output.startsWith(u"ws2apid: "_s), qPrintable(r.output));
    QVERIFY2(r.output.endsWith(u'\n') && r.output.count(u'\n') == 1, qPrintable(r.output));
    QVERIFY2(r.output.contains(mentions), qPrintable(r.output));
}

void TestOptions::help()
{
    for (const QString &flag : {u"--help"_s, u"-h"_s}) {
        const Result r = parse({flag, u"--listen"_s, u"not-validated"_s});
        QCOMPARE(r.outcome, ParseOutcome::Exit);
        QCOMPARE(r.exitCode, 0);
        QVERIFY(r.output.startsWith(u"Usage: ws2apid [options]\n"_s));
        const QStringList extra = {u"config"_s, u"help"_s, u"version"_s};
        for (const QString &name : ws2apid::optionNames() + extra)
            QVERIFY2(r.output.contains(u"--"_s + name + u' '), qPrintable(name));
        QVERIFY(r.output.contains(u"-cpuprofile=FILE"_s));
        QVERIFY(r.output.contains(u"-memprofile=FILE"_s));
    }
    // SPEC's table plus --log-rules, --admin-group, --api-connections, --api-pipeline,
    // --gather-delay, --handshake-timeout
    QCOMPARE(ws2apid::optionNames().size(), 33);
}

void TestOptions::version()
{
    const Result r = parse({u"--version"_s});
    QCOMPARE(r.outcome, ParseOutcome::Exit);
    QCOMPARE(r.exitCode, 0);
    QCOMPARE(r.output, u"ws2apid "_s + ws2apid::daemonVersion() + u'\n');
    QVERIFY(!ws2apid::daemonVersion().isEmpty());
}

void TestOptions::configFile()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(u"ws2apid.conf"_s);
    writeFile(path, "; comment\n"
                    "listen = 0.0.0.0:4100\n"
                    "api = http://api.example/v1\n"
                    "mode = ocpp\n"
                    "push-listen = [::1]:4101\n"
                    "push-token = tok\n"
                    "push-allow = 10.0.0.0/8, 192.168.0.0/16\n"
                    "threads = 2\n"
                    "admin = none\n"
                    "api-timeout = 500\n"
                    "call-timeout = 7\n"
                    "call-queue = 3\n"
                    "subprotocols = ocpp2.0.1,ocpp1.6\n"
                    "default-subprotocol = ocpp1.6\n"
                    "max-message = 4096\n"
                    "ping-interval = 0\n"
                    "notify-disconnect = off\n"
                    "max-connections = 5000\n"
                    "connect-rate = 100, 2\n"
                    "cpuprofile = cpu.prof\n"
                    "memprofile = mem.prof\n"
                    "log-rules = \"ws2api.*.debug=true;ws2api.api.debug=false\"\n");
    const Result r = parse({u"--config"_s, path});
    QCOMPARE(r.output, QString());
    QCOMPARE(r.outcome, ParseOutcome::Run);
    QCOMPARE(r.options.configFile, path);
    QVariantMap expected = defaultFields();
    expected.insert({{u"listenAddress"_s, u"0.0.0.0"_s}, {u"listenPort"_s, 4100}, {u"anyAddress"_s, false},
                     {u"api"_s, u"http://api.example/v1"_s}, {u"mode"_s, u"ocpp"_s},
                     {u"hasPushListener"_s, true}, {u"pushAddress"_s, u"::1"_s}, {u"pushPort"_s, 4101},
                     {u"pushToken"_s, "tok"_ba},
                     {u"pushAllow"_s, QStringList{u"10.0.0.0/8"_s, u"192.168.0.0/16"_s}},
                     {u"threads"_s, 2}, {u"adminName"_s, u"none"_s}, {u"apiTimeoutMs"_s, 500},
                     {u"callTimeoutMs"_s, 7000}, {u"callQueue"_s, 3},
                     {u"subprotocols"_s, QStringList{u"ocpp2.0.1"_s, u"ocpp1.6"_s}},
                     {u"defaultSubprotocol"_s, u"ocpp1.6"_s}, {u"maxMessage"_s, qint64(4096)},
                     {u"pingIntervalMs"_s, 0}, {u"notifyDisconnect"_s, false},
                     {u"maxConnections"_s, qint64(5000)}, {u"connectRate"_s, 100.0},
                     {u"connectRatePerSource"_s, 2.0},
                     {u"cpuProfile"_s, u"cpu.prof"_s}, {u"memProfile"_s, u"mem.prof"_s},
                     {u"logRules"_s, u"ws2api.*.debug=true;ws2api.api.debug=false"_s}});
    QCOMPARE(fields(r.options), expected);
}

void TestOptions::configFileCommandLineWins()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(u"ws2apid.conf"_s);
    writeFile(path, "listen = 127.0.0.1:4100\nthreads = 2\nsubprotocols = ocpp1.6\n");
    // The command line replaces single values; a cross-check sees the merged result.
    const Result r = parse({u"--threads"_s, u"5"_s, u"--config"_s, path, u"--subprotocols"_s,
                            u"ocpp2.1,ocpp1.6"_s, u"--default-subprotocol"_s, u"ocpp2.1"_s});
    QCOMPARE(r.output, QString());
    QVariantMap expected = defaultFields();
    expected.insert({{u"listenAddress"_s, u"127.0.0.1"_s}, {u"listenPort"_s, 4100}, {u"anyAddress"_s, false},
                     {u"threads"_s, 5}, {u"subprotocols"_s, QStringList{u"ocpp2.1"_s, u"ocpp1.6"_s}},
                     {u"defaultSubprotocol"_s, u"ocpp2.1"_s}});
    QCOMPARE(fields(r.options), expected);

    // A bad value in the file is not reached when the command line replaces it.
    writeFile(path, "threads = lots\n");
    QCOMPARE(parse({u"--config"_s, path, u"--threads"_s, u"1"_s}).outcome, ParseOutcome::Run);
}

// An example config may put its options under [ws2apid]; comments start with ;.
void TestOptions::configFileSection()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(u"ws2apid.conf"_s);
    writeFile(path, "; ws2apid's settings\n"
                    "api = http://127.0.0.1:8080/\n"
                    "[ws2apid]\n"
                    "listen = 127.0.0.1:4100\n"
                    "  ; threads = 7\n"
                    "threads = 2\n");
    const Result r = parse({u"--config"_s, path});
    QCOMPARE(r.output, QString());
    QCOMPARE(r.outcome, ParseOutcome::Run);
    QVariantMap expected = defaultFields();
    expected.insert({{u"listenAddress"_s, u"127.0.0.1"_s}, {u"listenPort"_s, 4100}, {u"anyAddress"_s, false},
                     {u"api"_s, u"http://127.0.0.1:8080/"_s}, {u"threads"_s, 2}});
    QCOMPARE(fields(r.options), expected);
}

void TestOptions::configFileErrors_data()
{
    QTest::addColumn<QByteArray>("contents");
    QTest::addColumn<QString>("mentions");
    QTest::addRow("unknown key") << "listen = :1\nlisten-port = 4\n"_ba << u"unknown key \"listen-port\""_s;
    QTest::addRow("other section") << "[server]\nlisten = :1\n"_ba
                                   << u"unknown section [server] (options go at the top or under [ws2apid])"_s;
    QTest::addRow("unknown key in the section") << "[ws2apid]\nlisten-port = 4\n"_ba
                                                << u"unknown key \"ws2apid/listen-port\""_s;
    QTest::addRow("hash comment") << "# threads = 2\n"_ba << u"comments start with ; in this file, not #"_s;
    QTest::addRow("set twice") << "listen = :1\n[ws2apid]\nlisten = :2\n"_ba << u"listen is set twice"_s;
    QTest::addRow("config in config") << "config = other.conf\n"_ba << u"\"config\""_s;
    QTest::addRow("bad value") << "threads = 0\n"_ba << u"ws2apid.conf: threads: \"0\""_s;
    QTest::addRow("https") << "api = https://\n"_ba << u"ws2apid.conf: api: \"https://\""_s;
}

void TestOptions::configFileErrors()
{
    QFETCH(QByteArray, contents);
    QFETCH(QString, mentions);
    QTemporaryDir dir;
    const QString path = dir.filePath(u"ws2apid.conf"_s);
    writeFile(path, contents);
    const Result r = parse({u"--config"_s, path});
    QCOMPARE(r.outcome, ParseOutcome::Exit);
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.output.count(u'\n') == 1 && r.output.contains(mentions), qPrintable(r.output));

    // A directory is unreadable as a file.
    const Result d = parse({u"--config"_s, dir.path()});
    QCOMPARE(d.exitCode, 2);
    QVERIFY2(d.output.startsWith(u"ws2apid: --config: cannot read"_s), qPrintable(d.output));
}

void TestOptions::formatEndpoint()
{
    QCOMPARE(ws2apid::formatEndpoint(QHostAddress(u"127.0.0.1"_s), 4000), u"127.0.0.1:4000"_s);
    QCOMPARE(ws2apid::formatEndpoint(QHostAddress(u"::1"_s), 4000), u"[::1]:4000"_s);
    QCOMPARE(ws2apid::formatEndpoint(QHostAddress::Any, 80), u"*:80"_s);
    QCOMPARE(ws2apid::formatEndpoint(QHostAddress::AnyIPv4, 80), u"0.0.0.0:80"_s);
}

void TestOptions::startupLine()
{
    ws2api::ProxyConfig config;
    config.listenAddress = QHostAddress(u"127.0.0.1"_s);
    config.listenPort = 0;
    config.threads = 3;
    const QString version = ws2apid::daemonVersion();
    QCOMPARE(ws2apid::startupLine(config, 4321, 0),
             u"ws2apid "_s + version
                 + u" listening on 127.0.0.1:4321 (mode plain, 3 threads, API http://127.0.0.1:5000/)"_s);
    config.hasPushListener = true;
    config.pushAddress = QHostAddress(u"::1"_s);
    config.mode = ws2api::ProxyConfig::Mode::Ocpp;
    config.demoApi = true;
    QCOMPARE(ws2apid::startupLine(config, 4000, 4001),
             u"ws2apid "_s + version
                 + u" listening on 127.0.0.1:4000, pushes on [::1]:4001 (mode ocpp, 3 threads, API demo:)"_s);
    config.tlsChains = {{QSslCertificate()}};  // only whether there is one counts here
    QCOMPARE(ws2apid::startupLine(config, 4000, 4001),
             u"ws2apid "_s + version
                 + u" listening on 127.0.0.1:4000 (TLS), pushes on [::1]:4001 (mode ocpp, 3 threads, API demo:)"_s);
    config.pushTls = true;
    QVERIFY(ws2apid::startupLine(config, 4000, 4001).contains(u"pushes on [::1]:4001 (TLS)"_s));
}

void TestOptions::loggingFilterRules()
{
    QCOMPARE(ws2apid::loggingFilterRules(QString()), u"*.debug=false\n"_s);
    QCOMPARE(ws2apid::loggingFilterRules(u"ws2api.*.debug=true;ws2api.api.debug=false,qt.*=false"_s),
             u"*.debug=false\nws2api.*.debug=true\nws2api.api.debug=false\nqt.*=false"_s);
}

void TestOptions::signalWatcher()
{
    ws2apid::SignalWatcher watcher;
    QSignalSpy spy(&watcher, &ws2apid::SignalWatcher::signalReceived);
    QString error;
    QVERIFY2(watcher.watch(SIGUSR1, &error), qPrintable(error));
    QCOMPARE(::raise(SIGUSR1), 0);
    QCOMPARE(::raise(SIGUSR1), 0);
    QTRY_COMPARE(spy.size(), 2);
    QCOMPARE(spy.at(0).at(0).toInt(), SIGUSR1);
}

QTEST_GUILESS_MAIN(TestOptions)
#include "tst_options.moc"
