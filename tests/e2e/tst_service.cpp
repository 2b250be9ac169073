// ws2apid as a system service runs it: SIGHUP re-reads the config file, systemd
// hears READY/RELOADING/STOPPING/WATCHDOG on NOTIFY_SOCKET, and the log suits the
// journal (or carries UTC timestamps elsewhere) with a line per connect and disconnect.
#include <QFile>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QSocketNotifier>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QWebSocket>

#include <csignal>
#include <cstring>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "DaemonProcess.h"
#include "FakeApi.h"
#include "HttpProbe.h"

using namespace Qt::Literals::StringLiterals;
using ws2api::test::DaemonProcess;
using ws2api::test::HttpProbe;

namespace {

const QString DaemonPath = QStringLiteral(WS2APID_PATH);

void writeFile(const QString &path, const QByteArray &contents)
{
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
    QCOMPARE(file.write(contents), contents.size());
}

// What systemd's end of NOTIFY_SOCKET sees: one datagram per sd_notify().
class NotifySocket
{
public:
    explicit NotifySocket(const QString &path) : m_path(path)
    {
        m_fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        sockaddr_un address = {};
        address.sun_family = AF_UNIX;
        const QByteArray encoded = QFile::encodeName(path);
        std::memcpy(address.sun_path, encoded.constData(), size_t(encoded.size()));
        m_bound = ::bind(m_fd, reinterpret_cast<const sockaddr *>(&address), sizeof address) == 0;
        m_notifier = std::make_unique<QSocketNotifier>(m_fd, QSocketNotifier::Read);
        QObject::connect(m_notifier.get(), &QSocketNotifier::activated, [this] {
            char buffer[4096];
            ssize_t n = 0;
            while ((n = ::recv(m_fd, buffer, sizeof buffer, 0)) > 0)
                m_messages.append(QByteArray(buffer, n));
        });
    }
    ~NotifySocket()
    {
        m_notifier.reset();
        ::close(m_fd);
    }
    bool isBound() const { return m_bound; }
    const QList<QByteArray> &messages() const { return m_messages; }
    qsizetype count(QByteArrayView line) const
    {
        return std::count_if(m_messages.begin(), m_messages.end(), [line](const QByteArray &message) {
            return message.split('\n').contains(line);
        });
    }

private:
    QString m_path;
    int m_fd = -1;
    bool m_bound = false;
    std::unique_ptr<QSocketNotifier> m_notifier;
    QList<QByteArray> m_messages;
};

// A push over a fresh connection; waits for its answer and returns the status.
int push(quint16 port, const QByteArray &clientId, const QByteArray &body, const QByteArray &token)
{
    HttpProbe probe(port, HttpProbe::request("POST", "/" + clientId, body,
                                             {{"Authorization", "Bearer " + token}}));
    if (!QTest::qWaitFor([&] { return probe.finished(); }, DaemonProcess::StartTimeoutMs))
        return 0;
    return probe.status();
}

} // namespace

class TestService : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void sighupReloadsTheConfigFile();
    void notifiesSystemd();
    void journalLines();
    void startFailureIsAnErrorInTheJournal();
    void timestampedLines();
    void connectAndDisconnectLines();
    void apiFaultIsAWarning();
};

// A changed token takes effect, a file that no longer parses keeps the running
// config, what needs a restart is said so, and connected clients stay connected.
void TestService::sighupReloadsTheConfigFile()
{
    QTemporaryDir dir;
    const QString config = dir.filePath(u"ws2apid.conf"_s);
    writeFile(config, "push-token = first\nthreads = 1\n");
    DaemonProcess daemon(DaemonPath);
    const quint16 port = daemon.start({u"--config"_s, config, u"--listen"_s, u"127.0.0.1:0"_s,
                                       u"--api"_s, u"demo:"_s, u"--admin"_s, u"none"_s});
    QVERIFY2(port != 0, daemon.errorOutput().constData());

    QWebSocket client;
    QSignalSpy received(&client, &QWebSocket::textMessageReceived);
    QSignalSpy disconnected(&client, &QWebSocket::disconnected);
    client.open(QUrl(u"ws://127.0.0.1:%1/CP1"_s.arg(port)));
    QTRY_COMPARE(client.state(), QAbstractSocket::ConnectedState);
    QCOMPARE(push(port, "CP1", "one", "first"), 200);
    QTRY_COMPARE(received.size(), 1);

    writeFile(config, "push-token = second\nthreads = 2\n");
    daemon.signal(SIGHUP);
    QTRY_VERIFY(daemon.errorOutput().contains("reload: applied push-token"));
    QVERIFY(daemon.errorOutput().contains("warning ws2api.daemon: reload: changed threads needs a restart"));
    QCOMPARE(push(port, "CP1", "two", "first"), 401);
    QCOMPARE(push(port, "CP1", "three", "second"), 200);
    QTRY_COMPARE(received.size(), 2);
    QCOMPARE(received.at(1).at(0).toString(), u"three"_s);

    writeFile(config, "push-token = third\nthreads = many\n");
    daemon.signal(SIGHUP);
    QTRY_VERIFY(daemon.errorOutput().contains(
        "reload failed, the running config stays: " + QFile::encodeName(config) + ": threads: \"many\""));
    QCOMPARE(push(port, "CP1", "four", "third"), 401);
    QCOMPARE(push(port, "CP1", "five", "second"), 200);
    QTRY_COMPARE(received.size(), 3);
    QCOMPARE(disconnected.size(), 0);
    QCOMPARE(client.state(), QAbstractSocket::ConnectedState);
}

// READY=1 comes once the listener is bound (its port, from the status, takes a
// connection at once); a reload is RELOADING=1 then READY=1; the watchdog is fed
// while the workers answer; SIGTERM says STOPPING=1.
void TestService::notifiesSystemd()
{
    QTemporaryDir dir;
    NotifySocket notify(dir.filePath(u"notify"_s));
    QVERIFY(notify.isBound());
    DaemonProcess daemon(DaemonPath);
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert(u"NOTIFY_SOCKET"_s, dir.filePath(u"notify"_s));
    environment.insert(u"WATCHDOG_USEC"_s, u"200000"_s);
    daemon.process().setProcessEnvironment(environment);
    QVERIFY2(daemon.start({u"--listen"_s, u"127.0.0.1:0"_s, u"--api"_s, u"demo:"_s, u"--admin"_s, u"none"_s}),
             daemon.errorOutput().constData());

    QTRY_COMPARE(notify.count("READY=1"), 1);
    const QByteArray ready = notify.messages().constFirst();
    const QRegularExpression status(u"STATUS=ws2apid \\S+ listening on 127\\.0\\.0\\.1:(\\d+) "_s);
    const QRegularExpressionMatch match = status.match(QString::fromUtf8(ready));
    QVERIFY2(match.hasMatch(), ready.constData());
    QTcpSocket probe;
    probe.connectToHost(QHostAddress::LocalHost, quint16(match.captured(1).toUInt()));
    QTRY_COMPARE(probe.state(), QAbstractSocket::ConnectedState);

    QTRY_VERIFY(notify.count("WATCHDOG=1") >= 2);

    daemon.signal(SIGHUP);
    QTRY_COMPARE(notify.count("READY=1"), 2);
    QCOMPARE(notify.count("RELOADING=1"), 1);

    daemon.signal(SIGTERM);
    QTRY_COMPARE(notify.count("STOPPING=1"), 1);
    QVERIFY(daemon.waitForExit());
    QCOMPARE(daemon.process().exitCode(), 0);
    QCOMPARE(notify.count("READY=1"), 2);
}

// Under systemd stderr is the journal (JOURNAL_STREAM names it): every line is
// "<priority>category: message", with no timestamp of ours.
void TestService::journalLines()
{
    QTemporaryDir dir;
    const QString log = dir.filePath(u"stderr"_s);
    const QString config = dir.filePath(u"ws2apid.conf"_s);
    writeFile(log, {});
    writeFile(config, "threads = 1\n");
    struct stat st = {};
    QCOMPARE(::stat(QFile::encodeName(log).constData(), &st), 0);
    QProcess daemon;
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert(u"JOURNAL_STREAM"_s, u"%1:%2"_s.arg(qulonglong(st.st_dev)).arg(qulonglong(st.st_ino)));
    daemon.setProcessEnvironment(environment);
    daemon.setStandardErrorFile(log, QIODevice::Append);
    daemon.start(DaemonPath, {u"--listen"_s, u"127.0.0.1:0"_s, u"--api"_s, u"demo:"_s, u"--admin"_s, u"none"_s,
                              u"--config"_s, config});
    QVERIFY(daemon.waitForStarted());
    const auto contents = [&] {
        QFile file(log);
        return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
    };
    QTRY_VERIFY_WITH_TIMEOUT(contents().contains("demo API works"), DaemonProcess::StartTimeoutMs);
    writeFile(config, "threads = 2\n");
    ::kill(pid_t(daemon.processId()), SIGHUP);  // a warning: threads needs a restart
    QTRY_VERIFY(contents().contains("needs a restart"));
    daemon.terminate();
    QVERIFY(daemon.waitForFinished());
    QCOMPARE(daemon.exitCode(), 0);

    const QList<QByteArray> lines = contents().trimmed().split('\n');
    const QRegularExpression journal(u"^<[0-7]>ws2api\\.[a-z]+: \\S"_s);
    for (const QByteArray &line : lines)
        QVERIFY2(journal.match(QString::fromUtf8(line)).hasMatch(), line.constData());
    QVERIFY(contents().contains("<6>ws2api.daemon: ws2apid "));
    QVERIFY(contents().contains("<4>ws2api.daemon: reload: changed threads needs a restart"));
    QVERIFY(!contents().contains(QDate::currentDate().toString(Qt::ISODate).toLatin1()));
}

// Why the service did not start must pass `journalctl -p warning`: err priority, for
// a bad option as for a listener that cannot bind.
void TestService::startFailureIsAnErrorInTheJournal()
{
    QTemporaryDir dir;
    const QString log = dir.filePath(u"stderr"_s);
    writeFile(log, {});
    struct stat st = {};
    QCOMPARE(::stat(QFile::encodeName(log).constData(), &st), 0);
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert(u"JOURNAL_STREAM"_s, u"%1:%2"_s.arg(qulonglong(st.st_dev)).arg(qulonglong(st.st_ino)));
    QTcpServer taken;
    QVERIFY(taken.listen(QHostAddress::LocalHost));
    const QStringList bind{u"--listen"_s, u"127.0.0.1:%1"_s.arg(taken.serverPort()), u"--admin"_s, u"none"_s};
    for (const QStringList &arguments : {QStringList{u"--threads"_s, u"0"_s}, bind}) {
        writeFile(log, {});
        QProcess daemon;
        daemon.setProcessEnvironment(environment);
        daemon.setStandardErrorFile(log, QIODevice::Append);
        daemon.start(DaemonPath, arguments);
        QVERIFY(daemon.waitForFinished(DaemonProcess::StartTimeoutMs));
        QVERIFY(daemon.exitCode() != 0);
        QFile file(log);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QByteArray last = file.readAll().trimmed().split('\n').last();
        QVERIFY2(last.startsWith("<3>ws2apid: "), last.constData());
    }
}

// Anywhere else every line starts with an ISO 8601 UTC timestamp and its level.
void TestService::timestampedLines()
{
    DaemonProcess daemon(DaemonPath);
    QVERIFY(daemon.start({u"--listen"_s, u"127.0.0.1:0"_s, u"--api"_s, u"demo:"_s, u"--admin"_s, u"none"_s}));
    QTRY_VERIFY(daemon.errorOutput().contains("demo API works"));
    daemon.process().terminate();
    QVERIFY(daemon.waitForExit());
    const QRegularExpression stamped(
        u"^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z (debug|info|warning|critical) ws2api\\.[a-z]+: \\S"_s);
    for (const QByteArray &line : daemon.errorOutput().trimmed().split('\n'))
        QVERIFY2(stamped.match(QString::fromUtf8(line)).hasMatch(), line.constData());
    const QDateTime first = QDateTime::fromString(QString::fromLatin1(daemon.errorOutput().left(24)), Qt::ISODateWithMs);
    QVERIFY(first.isValid());
    QCOMPARE(first.timeSpec(), Qt::UTC);
}

// One info line per connect accepted or refused (ClientId, address, protocol, status)
// and per disconnect (code, reason, duration, messages in and out).
void TestService::connectAndDisconnectLines()
{
    ws2api::test::FakeApi api;
    api.setHandler([](const ws2api::test::RecordedRequest &request) {
        ws2api::test::FakeReply reply;
        if (request.method == "GET")
            reply = request.path == "/denied" ? ws2api::test::FakeReply{403, "no"} : ws2api::test::FakeReply{200, "ok"};
        else if (request.method == "POST")
            reply.body = request.body;
        return reply;
    });
    QVERIFY(api.listen());
    DaemonProcess daemon(DaemonPath);
    const quint16 port = daemon.start({u"--listen"_s, u"127.0.0.1:0"_s, u"--api"_s, api.url().toString(),
                                       u"--admin"_s, u"none"_s});
    QVERIFY2(port != 0, daemon.errorOutput().constData());

    QWebSocket client;
    QSignalSpy received(&client, &QWebSocket::textMessageReceived);
    client.open(QUrl(u"ws://127.0.0.1:"_s + QString::number(port) + u"/CP%20%221"_s));  // ClientId: CP "1
    QTRY_COMPARE(client.state(), QAbstractSocket::ConnectedState);
    const QString from = u"127.0.0.1:%1"_s.arg(client.localPort());
    client.sendTextMessage(u"a"_s);
    client.sendTextMessage(u"b"_s);
    QTRY_COMPARE(received.size(), 2);
    client.close(QWebSocketProtocol::CloseCode(4000), u"bye"_s);
    QTRY_VERIFY(daemon.errorOutput().contains("disconnected"));
    const QString log = QString::fromUtf8(daemon.errorOutput());
    QVERIFY2(log.contains(u"info ws2api.worker: client \"CP \\\"1\" from %1 connected (no subprotocol): 101"_s.arg(from)),
             qPrintable(log));
    const QRegularExpression gone(u"info ws2api.session: client \"CP \\\\\"1\" from %1 disconnected \\(by the "
                                  "client\\): code 4000 reason \"bye\", after \\d+\\.\\d s, 2 messages in, 2 out"_s
                                      .arg(QRegularExpression::escape(from)));
    QVERIFY2(gone.match(log).hasMatch(), qPrintable(log));

    QWebSocket denied;
    denied.open(QUrl(u"ws://127.0.0.1:%1/denied"_s.arg(port)));
    QTRY_VERIFY(daemon.errorOutput().contains("\"denied\" from"));
    QVERIFY2(daemon.errorOutput().contains(
                 "info ws2api.handshake: client \"denied\" from 127.0.0.1:"),
             daemon.errorOutput().constData());
    QVERIFY(daemon.errorOutput().contains(" refused: 403 (no subprotocol; the API answered 403)"));

    HttpProbe noClientId(port, HttpProbe::upgrade("/"));
    QTRY_VERIFY(noClientId.finished());
    QCOMPARE(noClientId.status(), 400);
    QTRY_VERIFY(daemon.errorOutput().contains("info ws2api.handshake: connection from 127.0.0.1:"));
    QVERIFY(daemon.errorOutput().contains(" refused: 400 \"bad ClientId in path\""));
}

// The API not answering is a fault (warning); its refusal above was an answer (info).
void TestService::apiFaultIsAWarning()
{
    QTcpServer nobody;  // a port on which nothing listens once it is closed
    QVERIFY(nobody.listen(QHostAddress::LocalHost));
    const QString unreachable = u"http://127.0.0.1:%1/"_s.arg(nobody.serverPort());
    nobody.close();
    DaemonProcess daemon(DaemonPath);
    const quint16 port = daemon.start({u"--listen"_s, u"127.0.0.1:0"_s, u"--api"_s, unreachable,
                                       u"--admin"_s, u"none"_s});
    QVERIFY2(port != 0, daemon.errorOutput().constData());
    QWebSocket client;
    client.open(QUrl(u"ws://127.0.0.1:%1/CP1"_s.arg(port)));
    QTRY_VERIFY(daemon.errorOutput().contains("refused: 502"));
    QVERIFY2(daemon.errorOutput().contains("warning ws2api.worker: API request GET /CP1 to"),
             daemon.errorOutput().constData());
    QVERIFY(daemon.errorOutput().contains("info ws2api.handshake: client \"CP1\""));
}

QTEST_GUILESS_MAIN(TestService)
#include "tst_service.moc"
