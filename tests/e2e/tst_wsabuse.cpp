// WebSocket protocol abuse after the upgrade (issue 11): raw frames over a real
// upgraded connection. Each abuse is answered with the close code RFC 6455 names,
// which the API's disconnect request carries too; nothing the bad frame carried
// reaches the API; a client connected before it keeps getting every echo; the
// daemon's descriptors come back to where they were. A client that floods pings and
// never reads the pongs is held back by TCP instead of filling the daemon's memory.
#include <QScopeGuard>
#include <QSignalSpy>
#include <QSslKey>
#include <QSslSocket>
#include <QTest>
#include <QWebSocket>

#include <arpa/inet.h>
#include <cerrno>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ClientFrames.h"
#include "HttpProbe.h"
#include "MetricsScrape.h"
#include "Sanitizers.h"
#include "TestPki.h"
#include "TestProxy.h"

using namespace ws2api;
using namespace ws2api::test;

namespace {

constexpr qint64 MaxMessage = 4096;  // --max-message of every proxy here
const QByteArray Marker = "EVIL";    // in every bad frame's payload; the API must never see it

// The code of the first close frame among the server's (unmasked) frames; 0 for none,
// -1 when there is a close frame without a code.
int closeCodeIn(QByteArray frames)
{
    while (frames.size() >= 2) {
        const quint8 opcode = quint8(frames[0]) & 0x0f;
        quint64 length = quint8(frames[1]) & 0x7f;
        qsizetype at = 2;
        if (length == 126) {
            if (frames.size() < 4)
                return 0;
            length = quint64(quint8(frames[2])) << 8 | quint8(frames[3]);
            at = 4;
        } else if (length == 127) {
            return 0;  // nothing the daemon sends here is that long
        }
        if (frames.size() < at + qsizetype(length))
            return 0;
        if (opcode == 0x8)
            return length >= 2 ? quint8(frames[at]) << 8 | quint8(frames[at + 1]) : -1;
        frames.remove(0, at + qsizetype(length));
    }
    return 0;
}

qint64 metric(quint16 port, const QByteArray &name)
{
    return metricValue(port, name).value_or(-1);
}

// A client that behaves, connected before the abuse: every message it sends is echoed.
class GoodClient
{
public:
    explicit GoodClient(TestProxy &t)
        : m_socket(t.connectClient(QStringLiteral("/good")))
    {
        if (m_socket) {
            QObject::connect(m_socket.get(), &QWebSocket::textMessageReceived,
                             [this](const QString &text) { m_echoes.append(text); });
        }
    }
    bool isOpen() const { return m_socket && m_socket->state() == QAbstractSocket::ConnectedState; }
    void send(const QString &text)
    {
        m_sent.append(text);
        m_socket->sendTextMessage(text);
    }
    bool allEchoed() const { return m_echoes == m_sent; }
    QStringList echoes() const { return m_echoes; }

private:
    std::unique_ptr<QWebSocket> m_socket;
    QStringList m_sent;
    QStringList m_echoes;
};

void startProxy(TestProxy &t)
{
    t.config.threads = 1;
    t.config.apiPoolSize = 1;  // one API connection, so descriptors can be counted exactly
    t.config.maxMessage = MaxMessage;
    t.config.handshakeTimeoutMs = 500;  // the lingering close of a failed client
    QVERIFY(t.start());
}

QList<RecordedRequest> requestsFor(const TestProxy &t, QByteArrayView method, QByteArrayView path)
{
    QList<RecordedRequest> out;
    for (const RecordedRequest &r : t.api.requests()) {
        if (r.method == method && r.path == path)
            out.append(r);
    }
    return out;
}

} // namespace

class TestWsAbuse : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void abuseIsAnsweredWithItsCode_data()
    {
        QTest::addColumn<QByteArray>("bad");
        QTest::addColumn<int>("code");

        QTest::addRow("unmasked text") << clientFrame(0x81, Marker, false) << 1002;
        QTest::addRow("unmasked binary") << clientFrame(0x82, Marker, false) << 1002;
        QTest::addRow("length 2^63") << frameHeader(0x82, quint64(1) << 63) + Marker << 1002;
        QTest::addRow("length 2^64-1") << frameHeader(0x82, ~quint64(0)) + Marker << 1002;
        QTest::addRow("16-bit length under 126") << frameHeader(0x82, 4, 2) + Marker << 1002;
        QTest::addRow("64-bit length under 65536") << frameHeader(0x82, 4, 8) + Marker << 1002;
        QTest::addRow("length 2^40") << frameHeader(0x82, quint64(1) << 40) + Marker << 1009;
        QTest::addRow("one byte over --max-message")
            << clientFrame(0x82, Marker + QByteArray(MaxMessage + 1 - Marker.size(), 'x')) << 1009;
        QTest::addRow("fragments over --max-message")
            << clientFrame(0x02, Marker + QByteArray(MaxMessage / 2, 'x')) + clientFrame(0x80, QByteArray(MaxMessage / 2, 'x'))
            << 1009;
        const auto badText = [](const char *name, const QByteArray &bytes) {
            QTest::addRow("text: %s", name) << clientFrame(0x81, Marker + bytes) << 1007;
        };
        badText("0xff", "\xff");
        badText("overlong slash", "\xc0\xaf");
        badText("overlong NUL, 3 bytes", "\xe0\x80\x80");
        badText("surrogate", "\xed\xa0\x80");
        badText("over U+10FFFF", "\xf4\x90\x80\x80");
        badText("lone continuation byte", "\x80");
        badText("cut short at its end", "\xe2\x82");
        QTest::addRow("text: invalid in a later fragment")
            << clientFrame(0x01, Marker + "\xe2\x82") + clientFrame(0x80, "\x28") << 1007;
        QTest::addRow("stray continuation") << clientFrame(0x80, Marker) << 1002;
        QTest::addRow("text inside a fragmented message") << clientFrame(0x01, Marker) + clientFrame(0x81, Marker) << 1002;
        QTest::addRow("binary inside a fragmented message") << clientFrame(0x02, Marker) + clientFrame(0x82, Marker) << 1002;
        QTest::addRow("ping of 126 bytes") << clientFrame(0x89, Marker + QByteArray(122, 'p')) << 1002;
        QTest::addRow("close of 126 bytes") << clientFrame(0x88, closePayload(1000, Marker + QByteArray(120, 'r')))
                                            << 1002;
        QTest::addRow("fragmented ping") << clientFrame(0x09, Marker) + clientFrame(0x80, Marker) << 1002;
        QTest::addRow("fragmented close") << clientFrame(0x08, closePayload(1000, Marker)) << 1002;
        QTest::addRow("RSV1") << clientFrame(0xc1, Marker) << 1002;
        QTest::addRow("RSV2") << clientFrame(0xa1, Marker) << 1002;
        QTest::addRow("RSV3") << clientFrame(0x91, Marker) << 1002;
        for (const int opcode : {0x3, 0x4, 0x5, 0x6, 0x7, 0xb, 0xc, 0xd, 0xe, 0xf})
            QTest::addRow("opcode 0x%x", opcode) << clientFrame(quint8(0x80 | opcode), Marker) << 1002;
        for (const int code : {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535})
            QTest::addRow("close code %d", code) << clientFrame(0x88, closePayload(quint16(code), Marker)) << 1002;
        QTest::addRow("close payload of one byte") << clientFrame(0x88, "E") << 1002;
        QTest::addRow("close reason not UTF-8") << clientFrame(0x88, closePayload(4000, Marker + "\xff")) << 1007;
    }

    void abuseIsAnsweredWithItsCode()
    {
        QFETCH(QByteArray, bad);
        QFETCH(int, code);
        TestProxy t;
        startProxy(t);
        GoodClient good(t);
        QVERIFY(good.isOpen());
        good.send(QStringLiteral("before"));
        QTRY_VERIFY(good.allEchoed());
        const qint64 fds = metric(t.pushPort(), "process_open_fds");
        QVERIFY(fds > 0);

        {
            HttpProbe abuser(t.port(), HttpProbe::upgrade("/abuser"));
            QTRY_VERIFY(abuser.finished());
            QCOMPARE(abuser.status(), 101);
            const qsizetype headEnd = abuser.raw().indexOf("\r\n\r\n") + 4;
            // A sound message first, in the same write: it is the client's, and arrives.
            abuser.socket()->write(clientFrame(0x81, "fine") + bad + clientFrame(0x81, Marker + " after"));
            good.send(QStringLiteral("during"));
            QTRY_VERIFY(abuser.closed());
            QCOMPARE(closeCodeIn(abuser.raw().mid(headEnd)), code);
        }
        QTRY_COMPARE(requestsFor(t, "DELETE", "/abuser").size(), 1);
        const RecordedRequest notice = requestsFor(t, "DELETE", "/abuser").first();
        QCOMPARE(notice.header("X-Close-Code"), QByteArray::number(code));
        QVERIFY(!notice.header("X-Close-Reason").contains(Marker));
        QVERIFY(!notice.body.contains(Marker));
        const QList<RecordedRequest> messages = requestsFor(t, "POST", "/abuser");
        QCOMPARE(messages.size(), 1);
        QCOMPARE(messages.first().body, QByteArray("fine"));

        good.send(QStringLiteral("after"));
        QTRY_COMPARE(good.echoes(), (QStringList{QStringLiteral("before"), QStringLiteral("during"), QStringLiteral("after")}));
        QVERIFY(good.isOpen());
        QTRY_COMPARE(metric(t.pushPort(), "process_open_fds"), fds);
    }

    // Over TLS the check runs on the decrypted bytes: the same abuse, the same answer.
    void abuseOverTlsIsAnsweredToo()
    {
        TestPki pki;
        QVERIFY(pki.make());
        TestProxy t;
        t.config.tlsChains = {{pki.certificate(QStringLiteral("server"))}};
        t.config.tlsKeys = {QSslKey(pki.read(QStringLiteral("server.key")), QSsl::Ec)};
        t.config.hasPushListener = true;  // plaintext, for /metrics
        t.config.pushAddress = QHostAddress::LocalHost;
        t.config.pushPort = 0;
        startProxy(t);
        QSslSocket abuser;
        abuser.setSslConfiguration(pki.clientTls({}));
        QByteArray in;
        bool closed = false;
        connect(&abuser, &QSslSocket::readyRead, &abuser, [&] { in += abuser.readAll(); });
        connect(&abuser, &QSslSocket::disconnected, &abuser, [&] { closed = true; });
        connect(&abuser, &QSslSocket::encrypted, &abuser, [&] { abuser.write(HttpProbe::upgrade("/abuser")); });
        abuser.connectToHostEncrypted(QStringLiteral("127.0.0.1"), t.port());
        QTRY_VERIFY(in.contains("\r\n\r\n"));
        QVERIFY(in.startsWith("HTTP/1.1 101"));
        const qsizetype headEnd = in.indexOf("\r\n\r\n") + 4;
        abuser.write(clientFrame(0x81, "fine") + clientFrame(0x81, Marker, false));
        QTRY_VERIFY(closed);
        QCOMPARE(closeCodeIn(in.mid(headEnd)), 1002);
        QTRY_COMPARE(requestsFor(t, "DELETE", "/abuser").size(), 1);
        QCOMPARE(requestsFor(t, "DELETE", "/abuser").first().header("X-Close-Code"), QByteArray("1002"));
        const QList<RecordedRequest> messages = requestsFor(t, "POST", "/abuser");
        QCOMPARE(messages.size(), 1);
        QCOMPARE(messages.first().body, QByteArray("fine"));
    }

    // The codes a client may close with reach the API as they are (1012-1014 too: IANA
    // registered them after RFC 6455).
    void soundCloseCodesPass_data()
    {
        QTest::addColumn<int>("code");
        for (const int code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999})
            QTest::addRow("%d", code) << code;
    }

    void soundCloseCodesPass()
    {
        QFETCH(int, code);
        TestProxy t;
        startProxy(t);
        HttpProbe client(t.port(), HttpProbe::upgrade("/closer"));
        QTRY_VERIFY(client.finished());
        QCOMPARE(client.status(), 101);
        const qsizetype headEnd = client.raw().indexOf("\r\n\r\n") + 4;
        client.socket()->write(clientFrame(0x81, "fine") + clientFrame(0x88, closePayload(quint16(code), "bye")));
        QTRY_COMPARE(requestsFor(t, "DELETE", "/closer").size(), 1);
        QCOMPARE(requestsFor(t, "DELETE", "/closer").first().header("X-Close-Code"), QByteArray::number(code));
        QTRY_VERIFY(client.closed());
        QCOMPARE(closeCodeIn(client.raw().mid(headEnd)), code);  // the echo RFC 6455 5.5.1 asks for
        QCOMPARE(requestsFor(t, "POST", "/closer").size(), 1);
    }

    // Frames written in the same segment as the upgrade request (a client that does not
    // wait for the 101) are read at once, not when more bytes come.
    void framesBehindTheUpgradeRequestAreRead()
    {
        TestProxy t;
        startProxy(t);
        HttpProbe client(t.port(), HttpProbe::upgrade("/eager") + clientFrame(0x81, "early")
                                       + clientFrame(0x88, closePayload(1000, "done")));
        QTRY_COMPARE(requestsFor(t, "DELETE", "/eager").size(), 1);
        QCOMPARE(requestsFor(t, "DELETE", "/eager").first().header("X-Close-Code"), QByteArray("1000"));
        const QList<RecordedRequest> messages = requestsFor(t, "POST", "/eager");
        QCOMPARE(messages.size(), 1);
        QCOMPARE(messages.first().body, QByteArray("early"));
        QTRY_VERIFY(client.closed());
        QCOMPARE(client.status(), 101);
    }

    // A client that sends pings and never reads the pongs: the daemon stops reading
    // from it once its unsent output is over a bound, so TCP holds the client back
    // (it meets a zero window) and the pongs do not pile up in memory. Run once to
    // warm up, then again: resident memory must not grow by more than a fraction of
    // what one flood would have cost (the pongs of 24 MiB of pings, unsent).
    void pingFloodIsHeldBackByTcp()
    {
        TestProxy t;
        startProxy(t);
        GoodClient good(t);
        QVERIFY(good.isOpen());
        const qint64 fds = metric(t.pushPort(), "process_open_fds");
        qint64 rss = metric(t.pushPort(), "process_resident_memory_bytes");
        qInfo("resident memory before: %lld KiB", rss / 1024);
        for (int round = 0; round < 3; ++round) {
            if (round == 1)
                rss = metric(t.pushPort(), "process_resident_memory_bytes");
            flood(t, &good, round);
            if (QTest::currentTestFailed())
                return;
        }
        const qint64 grown = metric(t.pushPort(), "process_resident_memory_bytes") - rss;
        qInfo("resident memory after two more floods: %+lld KiB", grown / 1024);
        if (RssIsMeaningful)
            QVERIFY2(grown < 4 * 1024 * 1024, qPrintable(QString::number(grown)));
        QTRY_COMPARE(metric(t.pushPort(), "process_open_fds"), fds);
    }

private:
    void flood(TestProxy &t, GoodClient *good, int round)
    {
        constexpr qint64 Total = 24 << 20;
        int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        QVERIFY(fd >= 0);
        const auto closeFd = qScopeGuard([&fd] {
            if (fd >= 0)
                ::close(fd);
        });
        // Small buffers on our side: what the daemon sends us stays with the daemon.
        const int small = 16 * 1024;
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
        ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
        sockaddr_in address = {};
        address.sin_family = AF_INET;
        address.sin_port = htons(t.port());
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        QCOMPARE(::connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof address), 0);
        const QByteArray upgrade = HttpProbe::upgrade("/flooder");
        QCOMPARE(::send(fd, upgrade.constData(), size_t(upgrade.size()), MSG_NOSIGNAL), ssize_t(upgrade.size()));
        QByteArray in;
        QTRY_VERIFY(([&] {
            char buffer[1024];
            const ssize_t got = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
            if (got > 0)
                in.append(buffer, got);
            return in.contains("\r\n\r\n");
        }()));
        QVERIFY(in.startsWith("HTTP/1.1 101"));

        QByteArray pings;
        while (pings.size() < 64 * 1024)
            pings += clientFrame(0x89, QByteArray(125, 'p'));
        qint64 sent = 0;
        qsizetype at = 0;
        bool heldBack = false;
        int echoes = 0;
        QVERIFY(QTest::qWaitFor([&] {
            const ssize_t n = ::send(fd, pings.constData() + at, size_t(pings.size() - at), MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n > 0) {
                sent += n;
                at = (at + n) % pings.size();
            } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
                tcp_info info = {};
                socklen_t size = sizeof info;
                ::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &size);
                heldBack = info.tcpi_snd_wnd == 0;
            }
            // The well-behaved client is served all along.
            if (good->allEchoed())
                good->send(QStringLiteral("during flood %1, %2").arg(round).arg(++echoes));
            return heldBack || sent >= Total;
        }, 60000));
        qInfo("round %d: %lld KiB of pings taken, %s; resident memory %lld KiB", round, sent / 1024,
              heldBack ? "then the daemon stopped reading" : "all read",
              metric(t.pushPort(), "process_resident_memory_bytes") / 1024);
        QVERIFY2(heldBack, "the daemon read every ping");
        QTRY_VERIFY(good->allEchoed());
        QVERIFY(echoes > 0);
        // The flooder goes; the API hears it went without a close frame.
        const int before = requestsFor(t, "DELETE", "/flooder").size();
        const linger hard{1, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
        ::close(fd);
        fd = -1;
        QTRY_COMPARE(requestsFor(t, "DELETE", "/flooder").size(), before + 1);
    }
};

QTEST_GUILESS_MAIN(TestWsAbuse)
#include "tst_wsabuse.moc"
