// Bad input on the listener: none of it may crash, hang or leak a connection.
#include <QSignalSpy>

#include <algorithm>
#include <QTest>
#include <QWebSocket>

#include "HttpProbe.h"
#include "TestProxy.h"

using namespace ws2api;
using namespace ws2api::test;

class TestBadInput : public QObject
{
    Q_OBJECT

private:
    // After the bad input the proxy must still serve a real client end to end.
    void expectStillServing(TestProxy &t)
    {
        auto client = t.connectClient(QStringLiteral("/still-here"));
        QVERIFY(client);
        QSignalSpy echoed(client.get(), &QWebSocket::textMessageReceived);
        client->sendTextMessage(QStringLiteral("ping"));
        QTRY_COMPARE(echoed.size(), 1);
    }

private Q_SLOTS:
    void garbage_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<int>("expected");
        QTest::addRow("tls hello") << QByteArray("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11) << 400;
        QTest::addRow("text line") << QByteArray("hello there\r\n\r\n") << 400;
        QTest::addRow("binary zeros") << QByteArray(64, '\0') << 400;
        QTest::addRow("no version") << QByteArray("GET /CP1\r\n\r\n") << 400;
        QTest::addRow("head too large")
            << (QByteArray("GET /CP1 HTTP/1.1\r\nX-Long: ") + QByteArray(17 * 1024, 'a') + "\r\n\r\n") << 431;
        QTest::addRow("upgrade without key")
            << QByteArray("GET /CP1 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Version: 13\r\n\r\n") << 400;
        // QWebSocketServer would refuse these after the API said yes.
        QTest::addRow("upgrade without Connection: Upgrade")
            << QByteArray("GET /CP1 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: keep-alive\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n") << 400;
        QTest::addRow("upgrade over HTTP/1.0")
            << QByteArray("GET /CP1 HTTP/1.0\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n") << 400;
        QTest::addRow("upgrade without Host")
            << QByteArray("GET /CP1 HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n") << 400;
        QTest::addRow("old websocket version")
            << QByteArray("GET /CP1 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n") << 426;
    }

    void garbage()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(int, expected);
        TestProxy t;
        QVERIFY(t.start());
        HttpProbe probe(t.port(), bytes);
        QTRY_VERIFY(probe.closed());
        QCOMPARE(probe.status(), expected);
        QCOMPARE(t.api.requestCount(), 0);
        expectStillServing(t);
    }

    void headThatNeverCompletesIsClosed()
    {
        TestProxy t;
        t.config.handshakeTimeoutMs = 200;
        QVERIFY(t.start());
        HttpProbe probe(t.port(), "GET /CP1 HTTP/1.1\r\nHost: x\r\n");
        QTRY_VERIFY_WITH_TIMEOUT(probe.closed(), 10000);
        QCOMPARE(t.api.requestCount(), 0);
        expectStillServing(t);
    }

    void silentConnectionIsClosed()
    {
        TestProxy t;
        t.config.handshakeTimeoutMs = 200;
        QVERIFY(t.start());
        HttpProbe probe(t.port(), QByteArray());
        QTRY_VERIFY_WITH_TIMEOUT(probe.closed(), 10000);
    }

    void pushWithMalformedRequest()
    {
        TestProxy t;
        QVERIFY(t.start());
        HttpProbe probe(t.port(), "POST /CP1 HTTP/1.1\r\nContent-Length: abc\r\n\r\n");
        QTRY_VERIFY(probe.closed());
        QCOMPARE(probe.status(), 400);
        expectStillServing(t);
    }

    void clientClosingDuringTheApiCallLeavesNothingBehind()
    {
        TestProxy t;
        t.api.setHandler([](const RecordedRequest &) {
            FakeReply reply;
            reply.body = "ok";
            reply.delayMs = 200;
            return reply;
        });
        QVERIFY(t.start());
        {
            HttpProbe probe(t.port(), HttpProbe::upgrade("/quitter"));
            QTRY_COMPARE(t.api.requestCount(), 1);
            probe.socket()->abort();
        }
        // The API accepted the client, so it hears that it left; but the client
        // was never registered.
        QTRY_VERIFY(std::any_of(t.api.requests().cbegin(), t.api.requests().cend(),
                                [](const RecordedRequest &r) { return r.method == "DELETE"; }));
        HttpProbe push(t.pushPort(), HttpProbe::request("POST", "/quitter", "x"));
        QTRY_VERIFY(push.finished());
        QCOMPARE(push.status(), 404);
        expectStillServing(t);
        HttpProbe metrics(t.pushPort(), HttpProbe::request("GET", "/metrics"));
        QTRY_VERIFY(metrics.finished());
        // Only the later client was ever accepted.
        QVERIFY(metrics.body().contains("ws2api_connections_total{outcome=\"accepted\"} 1\n"));
    }
};

QTEST_GUILESS_MAIN(TestBadInput)
#include "tst_badinput.moc"
