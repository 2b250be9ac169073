// Disconnect notices end to end, in both modes (plain: DELETE <api>/<ClientId>;
// ocpp: POST <api>/disconnect): X-Close-Code and X-Close-Reason tell the API how a
// client went. The code of the client's close frame, 1005 for a close frame without
// one, 1006 for a connection that dropped without any (FIN, reset), or the code
// ws2apid closed it with. Real loopback sockets, raw ones where Qt's client cannot
// misbehave as needed.
#include <QSignalSpy>
#include <QTest>
#include <QWebSocket>

#include <sys/socket.h>

#include "HttpProbe.h"
#include "TestProxy.h"

using namespace ws2api;
using namespace ws2api::test;

namespace {

// A masked client frame (RFC 6455 5.2) with a payload under 126 bytes.
QByteArray clientFrame(int opcode, const QByteArray &payload)
{
    Q_ASSERT(payload.size() < 126);
    QByteArray out;
    out.append(char(0x80 | opcode));
    out.append(char(0x80 | payload.size()));
    const char key[4] = {'\x5a', '\x13', '\xc7', '\x01'};
    out.append(key, 4);
    for (qsizetype i = 0; i < payload.size(); ++i)
        out.append(char(payload[i] ^ key[i % 4]));
    return out;
}

QByteArray closePayload(quint16 code, const QByteArray &reason = {})
{
    return QByteArray(1, char(code >> 8)) + char(code & 0xff) + reason;
}

bool hasHeader(const RecordedRequest &request, QByteArrayView name)
{
    return std::any_of(request.headers.cbegin(), request.headers.cend(), [&](const auto &header) {
        return QByteArrayView(header.first).compare(name, Qt::CaseInsensitive) == 0;
    });
}

// Ends the connection with a reset instead of a FIN.
void resetConnection(QTcpSocket *socket)
{
    const linger hard{1, 0};
    ::setsockopt(int(socket->socketDescriptor()), SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    socket->abort();
}

// A proxy in either mode, before an API that accepts everyone.
class Gateway
{
public:
    explicit Gateway(bool ocpp)
        : m_ocpp(ocpp)
    {
        t.config.threads = 1;
        if (ocpp) {
            t.config.mode = ProxyConfig::Mode::Ocpp;
            t.config.subprotocols = {QStringLiteral("ocpp1.6")};
        }
        t.api.setHandler([this](const RecordedRequest &r) { return reply(r); });
    }

    TestProxy t;
    int connectDelayMs = 0;  // the API's answer to a connect request
    int messageDelayMs = 0;  // to a client's message

    bool start() { return t.start(QStringLiteral("/api")); }

    // Every disconnect notice so far.
    QList<RecordedRequest> notices() const
    {
        QList<RecordedRequest> out;
        for (const RecordedRequest &r : t.api.requests()) {
            if (m_ocpp ? r.path == "/api/disconnect" : r.method == "DELETE")
                out.append(r);
        }
        return out;
    }

    std::unique_ptr<QWebSocket> connectClient(const QString &id)
    {
        return t.connectClient(u'/' + id, m_ocpp ? QStringList{QStringLiteral("ocpp1.6")} : QStringList{});
    }

    QByteArray upgrade(const QByteArray &id) const
    {
        QList<QPair<QByteArray, QByteArray>> headers;
        if (m_ocpp)
            headers.emplaceBack("Sec-WebSocket-Protocol", "ocpp1.6");
        return HttpProbe::upgrade('/' + id, headers);
    }

    // A message of this mode's kind (ocpp: a CALL).
    QByteArray message(int n) const
    {
        return m_ocpp ? QByteArray(R"([2,"m)" + QByteArray::number(n) + R"(","Heartbeat",{}])")
                      : "message " + QByteArray::number(n);
    }
    int messagesSeen() const
    {
        int n = 0;
        for (const RecordedRequest &r : t.api.requests())
            n += m_ocpp ? r.path.startsWith("/api/call/") : r.method == "POST";
        return n;
    }

    // The notice's target and body are as before: only the headers are new.
    void checkNotice(const RecordedRequest &notice, const QByteArray &id, int code, const QByteArray &reason) const
    {
        QCOMPARE(notice.header("X-Close-Code"), QByteArray::number(code));
        QVERIFY(hasHeader(notice, "X-Close-Reason"));
        QCOMPARE(notice.header("X-Close-Reason"), reason.toPercentEncoding());
        if (m_ocpp) {
            QCOMPARE(notice.method, QByteArray("POST"));
            QCOMPARE(notice.body, '"' + id + '"');
        } else {
            QCOMPARE(notice.path, "/api/" + id);
            QCOMPARE(notice.body, reason.isEmpty() ? "closed (" + QByteArray::number(code) + ')' : reason);
        }
    }

private:
    FakeReply reply(const RecordedRequest &r) const
    {
        FakeReply reply;
        if (m_ocpp ? r.path == "/api/connect" : r.method == "GET") {
            reply.body = m_ocpp ? "\"ok\"" : "ok";
            reply.delayMs = connectDelayMs;
        } else if (m_ocpp ? r.path.startsWith("/api/call/") : r.method == "POST") {
            reply.body = m_ocpp ? "{}" : "";
            reply.delayMs = messageDelayMs;
        } else {
            reply.status = 204;
        }
        return reply;
    }

    bool m_ocpp;
};

void addModes()
{
    QTest::addColumn<bool>("ocpp");
    QTest::addRow("plain") << false;
    QTest::addRow("ocpp") << true;
}

} // namespace

class TestDisconnect : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void clientCloseCarriesItsCodeAndReason_data()
    {
        QTest::addColumn<bool>("ocpp");
        QTest::addColumn<int>("code");
        QTest::addColumn<QString>("reason");
        for (const bool ocpp : {false, true}) {
            const char *mode = ocpp ? "ocpp" : "plain";
            QTest::addRow("%s: 4000 bye", mode) << ocpp << 4000 << QStringLiteral("bye");
            QTest::addRow("%s: 1000 without a reason", mode) << ocpp << 1000 << QString();
            QTest::addRow("%s: 4001 non-ASCII", mode) << ocpp << 4001 << QStringLiteral("à bientôt, 50% / ok");
            QTest::addRow("%s: CR LF in the reason", mode) << ocpp << 4002 << QStringLiteral("a\r\nX-Evil: 1");
        }
    }

    void clientCloseCarriesItsCodeAndReason()
    {
        QFETCH(bool, ocpp);
        QFETCH(int, code);
        QFETCH(QString, reason);
        Gateway g(ocpp);
        QVERIFY(g.start());
        auto client = g.connectClient(QStringLiteral("CP1"));
        QVERIFY(client);
        client->close(QWebSocketProtocol::CloseCode(code), reason);
        QTRY_COMPARE(g.notices().size(), 1);
        g.checkNotice(g.notices().first(), "CP1", code, reason.toUtf8());
    }

    void encodingOfTheReason()
    {
        Gateway g(false);
        QVERIFY(g.start());
        auto client = g.connectClient(QStringLiteral("CP1"));
        QVERIFY(client);
        client->close(QWebSocketProtocol::CloseCode(4001), QStringLiteral("à bientôt, 50% / ok\r\n"));
        QTRY_COMPARE(g.notices().size(), 1);
        QCOMPARE(g.notices().first().header("X-Close-Reason"),
                 QByteArray("%C3%A0%20bient%C3%B4t%2C%2050%25%20%2F%20ok%0D%0A"));
    }

    void closeFrameWithoutCodeIs1005_data()
    {
        QTest::addColumn<bool>("ocpp");
        QTest::addColumn<bool>("afterMessage");
        for (const bool ocpp : {false, true}) {
            QTest::addRow("%s: alone", ocpp ? "ocpp" : "plain") << ocpp << false;
            QTest::addRow("%s: in one write after a message", ocpp ? "ocpp" : "plain") << ocpp << true;
        }
    }

    void closeFrameWithoutCodeIs1005()
    {
        QFETCH(bool, ocpp);
        QFETCH(bool, afterMessage);
        Gateway g(ocpp);
        QVERIFY(g.start());
        HttpProbe raw(g.t.port(), g.upgrade("CP1"));
        QTRY_VERIFY(raw.finished());
        QCOMPARE(raw.status(), 101);
        QByteArray bytes;
        if (afterMessage)
            bytes += clientFrame(0x1, g.message(1));
        bytes += clientFrame(0x8, {});
        raw.socket()->write(bytes);
        QTRY_COMPARE(g.notices().size(), 1);
        const RecordedRequest notice = g.notices().first();
        QCOMPARE(notice.header("X-Close-Code"), QByteArray("1005"));
        g.checkNotice(notice, "CP1", notice.header("X-Close-Code").toInt(), {});
        QCOMPARE(g.messagesSeen(), afterMessage ? 1 : 0);
        // The daemon answered the close frame with one without a code, as it came.
        QTRY_VERIFY(raw.closed());
        QVERIFY(raw.raw().endsWith(QByteArray("\x88\x00", 2)));
    }

    void droppedConnectionIs1006_data()
    {
        QTest::addColumn<bool>("ocpp");
        QTest::addColumn<bool>("reset");
        for (const bool ocpp : {false, true}) {
            QTest::addRow("%s: FIN", ocpp ? "ocpp" : "plain") << ocpp << false;
            QTest::addRow("%s: reset", ocpp ? "ocpp" : "plain") << ocpp << true;
        }
    }

    void droppedConnectionIs1006()
    {
        QFETCH(bool, ocpp);
        QFETCH(bool, reset);
        Gateway g(ocpp);
        QVERIFY(g.start());
        HttpProbe raw(g.t.port(), g.upgrade("CP1"));
        QTRY_VERIFY(raw.finished());
        QCOMPARE(raw.status(), 101);
        raw.socket()->write(clientFrame(0x1, g.message(1)));
        QTRY_COMPARE(g.messagesSeen(), 1);
        if (reset)
            resetConnection(raw.socket());
        else
            raw.socket()->disconnectFromHost();
        QTRY_COMPARE(g.notices().size(), 1);
        g.checkNotice(g.notices().first(), "CP1", 1006, {});
    }

    // A close frame RFC 6455 forbids is refused by the daemon, whose answer the API
    // hears of: 1002 for a code that may not be sent, 1007 for a reason that is not
    // UTF-8.
    void badCloseFrameIsReportedAsTheDaemonsAnswer_data()
    {
        QTest::addColumn<QByteArray>("payload");
        QTest::addColumn<int>("code");
        QTest::addRow("code 1005 on the wire") << closePayload(1005) << 1002;
        QTest::addRow("code 999") << closePayload(999) << 1002;
        QTest::addRow("one-byte payload") << QByteArray("x") << 1002;
        QTest::addRow("reason not UTF-8") << closePayload(4000, "\xff\xfe") << 1007;
    }

    void badCloseFrameIsReportedAsTheDaemonsAnswer()
    {
        QFETCH(QByteArray, payload);
        QFETCH(int, code);
        Gateway g(false);
        QVERIFY(g.start());
        HttpProbe raw(g.t.port(), g.upgrade("CP1"));
        QTRY_VERIFY(raw.finished());
        QCOMPARE(raw.status(), 101);
        raw.socket()->write(clientFrame(0x8, payload));
        QTRY_COMPARE(g.notices().size(), 1);
        QCOMPARE(g.notices().first().header("X-Close-Code"), QByteArray::number(code));
    }

    // When ws2apid closes a client, the API hears the code and reason it sent.
    void adminDisconnect_data() { addModes(); }
    void adminDisconnect()
    {
        QFETCH(bool, ocpp);
        Gateway g(ocpp);
        QVERIFY(g.start());
        auto client = g.connectClient(QStringLiteral("CP1"));
        QVERIFY(client);
        QSignalSpy closed(client.get(), &QWebSocket::disconnected);
        QVERIFY(g.t.proxy->disconnectClient("CP1", 4010, QStringLiteral("maintenance")));
        QTRY_COMPARE(closed.size(), 1);
        QCOMPARE(int(client->closeCode()), 4010);
        QTRY_COMPARE(g.notices().size(), 1);
        g.checkNotice(g.notices().first(), "CP1", 4010, "maintenance");
    }

    void shutdown_data() { addModes(); }
    void shutdown()
    {
        QFETCH(bool, ocpp);
        Gateway g(ocpp);
        QVERIFY(g.start());
        auto client = g.connectClient(QStringLiteral("CP1"));
        QVERIFY(client);
        g.t.stop();
        QCOMPARE(g.notices().size(), 1);
        g.checkNotice(g.notices().first(), "CP1", 1001, "server shutting down");
    }

    void tooManyMessagesWaiting_data() { addModes(); }
    void tooManyMessagesWaiting()
    {
        QFETCH(bool, ocpp);
        Gateway g(ocpp);
        g.t.config.maxPendingMessages = 2;
        g.messageDelayMs = 100;
        QVERIFY(g.start());
        auto client = g.connectClient(QStringLiteral("CP1"));
        QVERIFY(client);
        QSignalSpy closed(client.get(), &QWebSocket::disconnected);
        for (int i = 0; i < 6; ++i)
            client->sendTextMessage(QString::fromUtf8(g.message(i)));
        QTRY_COMPARE(closed.size(), 1);
        QCOMPARE(int(client->closeCode()), 1008);
        QTRY_COMPARE(g.notices().size(), 1);
        g.checkNotice(g.notices().first(), "CP1", 1008, "too many messages waiting for the API");
    }

    void sendQueueFull()
    {
        Gateway g(false);
        g.t.config.sendQueueBytes = 256 * 1024;
        g.t.config.maxMessage = 64 * 1024;
        QVERIFY(g.start());
        HttpProbe stuck(g.t.port(), g.upgrade("stuck"));
        QTRY_VERIFY(stuck.finished());
        QCOMPARE(stuck.status(), 101);
        stuck.socket()->setReadBufferSize(1);
        disconnect(stuck.socket(), &QTcpSocket::readyRead, nullptr, nullptr);
        QCOMPARE(HttpProbe::postUntilRefused(g.t.pushPort(), "/stuck", QByteArray(60 * 1024, 'z'), 2000), 503);
        // The close handshake cannot finish with a client that does not read: the
        // notice comes when the daemon gives up on it.
        stuck.socket()->abort();
        QTRY_COMPARE_WITH_TIMEOUT(g.notices().size(), 1, 15000);
        g.checkNotice(g.notices().first(), "stuck", 1008, "send queue full");
    }

    void pingTimeout_data() { addModes(); }
    void pingTimeout()
    {
        QFETCH(bool, ocpp);
        Gateway g(ocpp);
        g.t.config.pingIntervalMs = 100;
        QVERIFY(g.start());
        HttpProbe silent(g.t.port(), g.upgrade("silent"));
        QTRY_VERIFY(silent.finished());
        QCOMPARE(silent.status(), 101);
        QTRY_VERIFY_WITH_TIMEOUT(silent.closed(), 10000);
        QTRY_COMPARE(g.notices().size(), 1);
        g.checkNotice(g.notices().first(), "silent", 1006, "ping timeout");
    }

    // Qt refuses a message over --max-message with 1009 and its own reason.
    void messageTooBig()
    {
        Gateway g(false);
        g.t.config.maxMessage = 1024;
        QVERIFY(g.start());
        auto client = g.connectClient(QStringLiteral("CP1"));
        QVERIFY(client);
        client->sendBinaryMessage(QByteArray(2048, 'x'));
        QTRY_COMPARE(g.notices().size(), 1);
        QCOMPARE(g.notices().first().header("X-Close-Code"), QByteArray("1009"));
        QCOMPARE(g.notices().first().header("X-Close-Reason"), client->closeReason().toUtf8().toPercentEncoding());
    }

    // A replaced connection is not announced (SPEC); its successor is, as any other.
    void replacedConnectionIsNotAnnounced_data() { addModes(); }
    void replacedConnectionIsNotAnnounced()
    {
        QFETCH(bool, ocpp);
        Gateway g(ocpp);
        QVERIFY(g.start());
        auto first = g.connectClient(QStringLiteral("CP1"));
        QVERIFY(first);
        QSignalSpy firstClosed(first.get(), &QWebSocket::disconnected);
        auto second = g.connectClient(QStringLiteral("CP1"));
        QVERIFY(second);
        QTRY_COMPARE(firstClosed.size(), 1);
        second->close(QWebSocketProtocol::CloseCode(4000), QStringLiteral("second"));
        QTRY_COMPARE(g.notices().size(), 1);
        g.checkNotice(g.notices().first(), "CP1", 4000, "second");
    }

    // A client the API accepted that left before its upgrade completed dropped
    // without a close frame, as far as the API can tell.
    void goneBeforeTheUpgrade_data() { addModes(); }
    void goneBeforeTheUpgrade()
    {
        QFETCH(bool, ocpp);
        Gateway g(ocpp);
        g.connectDelayMs = 300;
        QVERIFY(g.start());
        auto raw = std::make_unique<HttpProbe>(g.t.port(), g.upgrade("early"));
        QTRY_COMPARE(g.t.api.requestCount(), 1);
        raw.reset();
        QTRY_COMPARE(g.notices().size(), 1);
        g.checkNotice(g.notices().first(), "early", 1006, "left before the upgrade completed");
    }
};

QTEST_GUILESS_MAIN(TestDisconnect)
#include "tst_disconnect.moc"
