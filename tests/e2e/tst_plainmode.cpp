// Plain mode end to end: a real Proxy, real WebSocket clients, a real HTTP API
// (FakeApi) over loopback.
#include <QSignalSpy>
#include <QTest>
#include <QTimer>
#include <QWebSocket>

#include "ClientFrames.h"
#include "HttpProbe.h"
#include "TestProxy.h"

using namespace ws2api;
using namespace ws2api::test;

class TestPlainMode : public QObject
{
    Q_OBJECT

private:
    QList<RecordedRequest> requestsWithMethod(const TestProxy &t, const QByteArray &method)
    {
        QList<RecordedRequest> out;
        for (const RecordedRequest &r : t.api.requests()) {
            if (r.method == method)
                out.append(r);
        }
        return out;
    }

private Q_SLOTS:
    void connectForwardsPathQueryAndHeaders()
    {
        TestProxy t;
        QVERIFY(t.start(QStringLiteral("/base")));
        HttpProbe probe(t.port(), HttpProbe::upgrade("/ocpp/CP%201?token=abc&x=1",
            {{"Authorization", "Basic Q1AxOnNlY3JldA=="}, {"Cookie", "s=1"},
             {"Origin", "http://example.test"}, {"User-Agent", "charger/1.0"},
             {"X-Forwarded-For", "10.1.2.3"}, {"X-Other", "not forwarded"},
             {"Client-Cert", ":forged:"}}));
        QTRY_VERIFY(probe.finished());
        QCOMPARE(probe.status(), 101);
        QCOMPARE(t.api.requestCount(), 1);
        const RecordedRequest r = t.api.requests().first();
        QCOMPARE(r.method, QByteArray("GET"));
        QCOMPARE(r.path, QByteArray("/base/CP%201"));
        QCOMPARE(r.query, QByteArray("token=abc&x=1"));
        QCOMPARE(r.header("Authorization"), QByteArray("Basic Q1AxOnNlY3JldA=="));
        QCOMPARE(r.header("Cookie"), QByteArray("s=1"));
        QCOMPARE(r.header("Origin"), QByteArray("http://example.test"));
        QCOMPARE(r.header("User-Agent"), QByteArray("charger/1.0"));
        QCOMPARE(r.header("X-Forwarded-For"), QByteArray("10.1.2.3, 127.0.0.1"));
        QVERIFY(r.header("X-Other").isEmpty());
        QVERIFY(r.header("Client-Cert").isEmpty());  // only when named in --forward-headers
    }

    // --forward-headers: what a balancer in front adds reaches the API, whatever the
    // case it is written in, every value of it; a reload changes the list.
    void forwardHeadersPassesTheNamedOnes()
    {
        TestProxy t;
        t.config.forwardHeaders = {"client-cert", "Traceparent"};
        QVERIFY(t.start());
        HttpProbe first(t.port(), HttpProbe::upgrade("/CP1",
            {{"Client-Cert", ":MIIB:"}, {"traceparent", "00-abc-def-01"}, {"traceparent", "00-second-01"},
             {"X-Other", "not forwarded"}}));
        QTRY_VERIFY(first.finished());
        QCOMPARE(first.status(), 101);
        const RecordedRequest r = t.api.requests().first();
        QCOMPARE(r.header("Client-Cert"), QByteArray(":MIIB:"));
        QList<QByteArray> traces;
        for (const auto &[name, value] : r.headers) {
            if (name.compare("traceparent", Qt::CaseInsensitive) == 0)
                traces.append(value);
        }
        QCOMPARE(traces, (QList<QByteArray>{"00-abc-def-01", "00-second-01"}));
        QVERIFY(r.header("X-Other").isEmpty());

        ProxyConfig reloaded = t.config;
        reloaded.forwardHeaders = {"X-Other"};
        t.proxy->reconfigure(reloaded);
        HttpProbe second(t.port(), HttpProbe::upgrade("/CP2", {{"Client-Cert", ":MIIB:"}, {"X-Other", "now"}}));
        QTRY_VERIFY(second.finished());
        QCOMPARE(second.status(), 101);
        QTRY_COMPARE(t.api.requestCount(), 2);
        const RecordedRequest after = t.api.requests().at(1);
        QCOMPARE(after.header("X-Other"), QByteArray("now"));
        QVERIFY(after.header("Client-Cert").isEmpty());
    }

    void connectVerdict_data()
    {
        QTest::addColumn<int>("apiStatus");
        QTest::addColumn<QByteArray>("apiBody");
        QTest::addColumn<int>("expected");
        QTest::addColumn<QByteArray>("expectedBody");
        QTest::addRow("ok") << 200 << QByteArray("ok") << 101 << QByteArray();
        QTest::addRow("ok with whitespace") << 200 << QByteArray(" ok\n") << 101 << QByteArray();
        QTest::addRow("201 ok") << 201 << QByteArray("ok") << 101 << QByteArray();
        QTest::addRow("2xx other body") << 200 << QByteArray("no thanks") << 403 << QByteArray("no thanks");
        QTest::addRow("2xx empty") << 200 << QByteArray() << 403 << QByteArray();
        QTest::addRow("401") << 401 << QByteArray("who are you") << 401 << QByteArray("who are you");
        QTest::addRow("403") << 403 << QByteArray("go away") << 403 << QByteArray("go away");
        QTest::addRow("404") << 404 << QByteArray("unknown station") << 403 << QByteArray("unknown station");
        QTest::addRow("500") << 500 << QByteArray("boom") << 502 << QByteArray();
        QTest::addRow("503") << 503 << QByteArray() << 502 << QByteArray();
    }

    void connectVerdict()
    {
        QFETCH(int, apiStatus);
        QFETCH(QByteArray, apiBody);
        QFETCH(int, expected);
        QFETCH(QByteArray, expectedBody);
        TestProxy t;
        t.api.setHandler([&](const RecordedRequest &) {
            FakeReply reply;
            reply.status = apiStatus;
            reply.body = apiBody;
            if (apiStatus == 401)
                reply.headers.emplaceBack("WWW-Authenticate", "Basic realm=\"ocpp\"");
            return reply;
        });
        QVERIFY(t.start());
        HttpProbe probe(t.port(), HttpProbe::upgrade("/CP1"));
        QTRY_VERIFY(probe.finished());
        QCOMPARE(probe.status(), expected);
        if (expected != 101)
            QCOMPARE(probe.body(), expectedBody);
        if (expected == 401)
            QCOMPARE(probe.header("WWW-Authenticate"), QByteArray("Basic realm=\"ocpp\""));
    }

    // The API answers a text message with bytes that are not UTF-8: the client gets a
    // text frame all the same, the bad bytes as U+FFFD, and stays connected (a frame
    // with the raw bytes would be one a compliant client fails the connection for).
    void textReplyThatIsNotUtf8IsMadeUtf8()
    {
        TestProxy t;
        t.api.setHandler([](const RecordedRequest &r) {
            FakeReply reply;
            reply.body = r.method == "POST" ? QByteArray("ok \xff\xfe end") : QByteArray("ok");
            return reply;
        });
        QVERIFY(t.start());
        auto client = t.connectClient(QStringLiteral("/CP1"));
        QVERIFY(client);
        QSignalSpy texts(client.get(), &QWebSocket::textMessageReceived);
        QSignalSpy closed(client.get(), &QWebSocket::disconnected);
        client->sendTextMessage(QStringLiteral("hello"));
        QTRY_COMPARE(texts.size(), 1);
        QCOMPARE(texts.first().first().toString(), QStringLiteral("ok \uFFFD\uFFFD end"));
        client->sendTextMessage(QStringLiteral("again"));
        QTRY_COMPARE(texts.size(), 2);
        QCOMPARE(closed.size(), 0);
    }

    void apiUnreachableGives502()
    {
        TestProxy t;
        QTcpServer closed;  // a port nobody listens on once closed
        QVERIFY(closed.listen(QHostAddress::LocalHost));
        t.config.api = QUrl(QStringLiteral("http://127.0.0.1:%1/").arg(closed.serverPort()));
        closed.close();
        QVERIFY(t.start());
        HttpProbe probe(t.port(), HttpProbe::upgrade("/CP1"));
        QTRY_VERIFY_WITH_TIMEOUT(probe.finished(), 10000);
        QCOMPARE(probe.status(), 502);
        // The daemon keeps serving.
        HttpProbe health(t.port(), HttpProbe::request("GET", "/healthz"));
        QTRY_VERIFY(health.finished());
        QCOMPARE(health.status(), 200);
    }

    void apiHangingGives504()
    {
        TestProxy t;
        t.config.apiTimeoutMs = 300;
        t.api.setHandler([](const RecordedRequest &) { FakeReply r; r.hang = true; return r; });
        QVERIFY(t.start());
        HttpProbe probe(t.port(), HttpProbe::upgrade("/CP1"));
        QTRY_VERIFY_WITH_TIMEOUT(probe.finished(), 10000);
        QCOMPARE(probe.status(), 504);
    }

    void badClientIdGives400WithoutApiCall_data()
    {
        QTest::addColumn<QByteArray>("target");
        QTest::addRow("empty") << QByteArray("/");
        QTest::addRow("trailing slash") << QByteArray("/ocpp/");
        QTest::addRow("encoded slash") << QByteArray("/a%2Fb");
        QTest::addRow("control char") << QByteArray("/a%0Ab");
        QTest::addRow("bad escape") << QByteArray("/a%zz");
        QTest::addRow("too long") << QByteArray("/" + QByteArray(256, 'x'));
    }

    void badClientIdGives400WithoutApiCall()
    {
        QFETCH(QByteArray, target);
        TestProxy t;
        QVERIFY(t.start());
        HttpProbe probe(t.port(), HttpProbe::upgrade(target));
        QTRY_VERIFY(probe.finished());
        QCOMPARE(probe.status(), 400);
        QCOMPARE(t.api.requestCount(), 0);
    }

    void plainGetGives404WithoutApiCall()
    {
        TestProxy t;
        QVERIFY(t.start());
        HttpProbe probe(t.port(), HttpProbe::request("GET", "/CP1"));
        QTRY_VERIFY(probe.finished());
        QCOMPARE(probe.status(), 404);
        QCOMPARE(t.api.requestCount(), 0);
    }

    void textAndBinaryEchoKeepFrameType()
    {
        TestProxy t;
        QVERIFY(t.start());
        auto client = t.connectClient(QStringLiteral("/CP1"));
        QVERIFY(client);
        QSignalSpy texts(client.get(), &QWebSocket::textMessageReceived);
        QSignalSpy binaries(client.get(), &QWebSocket::binaryMessageReceived);
        client->sendTextMessage(QStringLiteral("héllo"));
        QTRY_COMPARE(texts.size(), 1);
        QCOMPARE(texts.first().first().toString(), QStringLiteral("héllo"));
        client->sendBinaryMessage(QByteArray("\x00\x01\xff", 3));
        QTRY_COMPARE(binaries.size(), 1);
        QCOMPARE(binaries.first().first().toByteArray(), QByteArray("\x00\x01\xff", 3));
        QCOMPARE(texts.size(), 1);

        const auto posts = requestsWithMethod(t, "POST");
        QCOMPARE(posts.size(), 2);
        QCOMPARE(posts[0].path, QByteArray("/CP1"));
        QCOMPARE(posts[0].body, QStringLiteral("héllo").toUtf8());
        QCOMPARE(posts[0].header("Content-Type"), QByteArray("text/plain; charset=utf-8"));
        QCOMPARE(posts[1].header("Content-Type"), QByteArray("application/octet-stream"));
    }

    void orderIsKeptWhenTheApiIsSlowForSomeMessages()
    {
        TestProxy t;
        t.api.setHandler([](const RecordedRequest &r) {
            FakeReply reply;
            if (r.method == "POST") {
                reply.body = "re:" + r.body;
                reply.delayMs = r.body.toInt() % 3 == 0 ? 30 : 0;
            } else {
                reply.body = "ok";
            }
            return reply;
        });
        QVERIFY(t.start());
        auto client = t.connectClient(QStringLiteral("/CP1"));
        QVERIFY(client);
        QSignalSpy texts(client.get(), &QWebSocket::textMessageReceived);
        constexpr int Count = 40;
        for (int i = 0; i < Count; ++i)
            client->sendTextMessage(QString::number(i));
        QTRY_COMPARE_WITH_TIMEOUT(texts.size(), Count, 20000);
        for (int i = 0; i < Count; ++i)
            QCOMPARE(texts.at(i).first().toString(), QStringLiteral("re:%1").arg(i));
        const auto posts = requestsWithMethod(t, "POST");
        for (int i = 0; i < Count; ++i)
            QCOMPARE(posts.at(i).body, QByteArray::number(i));
    }

    // --api-pipeline: a message reaches the API while an earlier one still waits for
    // its answer on the worker's only API connection; each client still gets its
    // own replies, in order.
    void pipelinedApiRequestsShareAConnection()
    {
        TestProxy t;
        t.config.threads = 1;
        t.config.apiPoolSize = 1;
        t.config.apiPipeline = 4;
        t.api.setHandler([](const RecordedRequest &r) {
            FakeReply reply;
            reply.body = r.method == "POST" ? "re:" + r.body : "ok";
            reply.delayMs = r.body == "slow" ? 2000 : 0;
            return reply;
        });
        QVERIFY(t.start());
        auto a = t.connectClient(QStringLiteral("/A"));
        auto b = t.connectClient(QStringLiteral("/B"));
        QVERIFY(a && b);
        QSignalSpy aTexts(a.get(), &QWebSocket::textMessageReceived);
        QSignalSpy bTexts(b.get(), &QWebSocket::textMessageReceived);
        QSignalSpy received(&t.api, &FakeApi::requestReceived);
        a->sendTextMessage(QStringLiteral("slow"));
        QTRY_COMPARE(received.size(), 1);
        b->sendTextMessage(QStringLiteral("fast"));
        QTRY_COMPARE(received.size(), 2);
        QCOMPARE(aTexts.size(), 0);  // the slow one is still unanswered
        const auto posts = requestsWithMethod(t, "POST");
        QCOMPARE(posts.size(), 2);
        QCOMPARE(posts[1].connection, posts[0].connection);
        for (int i = 0; i < 5; ++i)
            a->sendTextMessage(QString::number(i));
        QTRY_COMPARE_WITH_TIMEOUT(aTexts.size(), 6, 10000);
        QTRY_COMPARE(bTexts.size(), 1);
        QCOMPARE(aTexts.first().first().toString(), QStringLiteral("re:slow"));
        for (int i = 0; i < 5; ++i)
            QCOMPARE(aTexts.at(i + 1).first().toString(), QStringLiteral("re:%1").arg(i));
        QCOMPARE(bTexts.first().first().toString(), QStringLiteral("re:fast"));
    }

    void emptyOrFailedReplySendsNothingAndKeepsTheConnection()
    {
        TestProxy t;
        t.api.setHandler([](const RecordedRequest &r) {
            FakeReply reply;
            if (r.method != "POST")
                reply.body = "ok";
            else if (r.body == "empty")
                reply.body = {};
            else if (r.body == "fail")
                reply = FakeReply{500, "internal", {}, false, false, false, 0};
            else
                reply.body = "re:" + r.body;
            return reply;
        });
        QVERIFY(t.start());
        auto client = t.connectClient(QStringLiteral("/CP1"));
        QVERIFY(client);
        QSignalSpy texts(client.get(), &QWebSocket::textMessageReceived);
        client->sendTextMessage(QStringLiteral("empty"));
        client->sendTextMessage(QStringLiteral("fail"));
        client->sendTextMessage(QStringLiteral("last"));
        QTRY_COMPARE(texts.size(), 1);
        QCOMPARE(texts.first().first().toString(), QStringLiteral("re:last"));
        QCOMPARE(client->state(), QAbstractSocket::ConnectedState);
        QCOMPARE(requestsWithMethod(t, "POST").size(), 3);
    }

    // A message as one frame up to --max-message (1 MiB by default) arrives whole:
    // QWebSocket takes a frame's payload only once all of it is there, so the
    // transport must read that far ahead. (It stopped at 256 KiB: a 600 KiB frame
    // waited for bytes that were never read, and the client was dropped.)
    void largeSingleFrameMessageArrives()
    {
        TestProxy t;
        QCOMPARE(t.config.maxMessage, qint64(1024 * 1024));
        QVERIFY(t.start());
        auto client = t.connectClient(QStringLiteral("/big"));
        QVERIFY(client);
        client->setOutgoingFrameSize(1024 * 1024);
        QSignalSpy binaries(client.get(), &QWebSocket::binaryMessageReceived);
        QByteArray message(600 * 1024, '\0');
        for (qsizetype i = 0; i < message.size(); ++i)
            message[i] = char(i * 7);
        client->sendBinaryMessage(message);
        QTRY_COMPARE_WITH_TIMEOUT(binaries.size(), 1, 20000);
        QCOMPARE(binaries.first().first().toByteArray(), message);
        QCOMPARE(requestsWithMethod(t, "POST").size(), 1);
        QCOMPARE(client->state(), QAbstractSocket::ConnectedState);
    }

    // A client with a large head (cookies): the API sees its headers, the 101 is the
    // one its head asks for, and the connection carries messages as any other.
    void clientWithABigHeadIsUpgradedAsAnyOther()
    {
        TestProxy t;
        QVERIFY(t.start());
        const QByteArray cookie(6000, 'c');
        HttpProbe probe(t.port(), HttpProbe::upgrade("/CP1?x=1", {{"Cookie", cookie}, {"Origin", "http://example.test"}}));
        QTRY_VERIFY(probe.finished());
        QCOMPARE(probe.status(), 101);
        QVERIFY(probe.header("Sec-WebSocket-Protocol").isEmpty());
        QCOMPARE(probe.header("Sec-WebSocket-Accept"), QByteArray("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
        probe.socket()->write(clientFrame(0x81, "early") + clientFrame(0x82, "second"));
        QTRY_COMPARE(requestsWithMethod(t, "POST").size(), 2);
        const RecordedRequest connect = requestsWithMethod(t, "GET").first();
        QCOMPARE(connect.header("Cookie"), cookie);
        QCOMPARE(connect.query, QByteArray("x=1"));
        QCOMPARE(requestsWithMethod(t, "POST").at(0).body, QByteArray("early"));
        QCOMPARE(requestsWithMethod(t, "POST").at(1).body, QByteArray("second"));
        QCOMPARE(requestsWithMethod(t, "POST").at(1).header("Content-Type"), QByteArray("application/octet-stream"));
    }

    void oversizedMessageClosesWith1009()
    {
        TestProxy t;
        t.config.maxMessage = 1024;
        QVERIFY(t.start());
        auto client = t.connectClient(QStringLiteral("/CP1"));
        QVERIFY(client);
        QSignalSpy closed(client.get(), &QWebSocket::disconnected);
        client->sendBinaryMessage(QByteArray(2048, 'x'));
        QTRY_COMPARE(closed.size(), 1);
        QCOMPARE(client->closeCode(), QWebSocketProtocol::CloseCodeTooMuchData);
        QCOMPARE(requestsWithMethod(t, "POST").size(), 0);
    }

    void disconnectSendsDeleteWithReason()
    {
        TestProxy t;
        QVERIFY(t.start());
        auto client = t.connectClient(QStringLiteral("/CP%201"));
        QVERIFY(client);
        client->close(QWebSocketProtocol::CloseCodeNormal, QStringLiteral("bye now"));
        QTRY_COMPARE(requestsWithMethod(t, "DELETE").size(), 1);
        const RecordedRequest del = requestsWithMethod(t, "DELETE").first();
        QCOMPARE(del.path, QByteArray("/CP%201"));
        QCOMPARE(del.body, QByteArray("bye now"));
    }

    void notifyDisconnectOff()
    {
        TestProxy t;
        t.config.notifyDisconnect = false;
        t.config.threads = 1;
        QVERIFY(t.start());
        auto client = t.connectClient(QStringLiteral("/CP1"));
        QVERIFY(client);
        QSignalSpy echoed(client.get(), &QWebSocket::textMessageReceived);
        client->sendTextMessage(QStringLiteral("x"));
        QTRY_COMPARE(echoed.size(), 1);
        client->close();
        QTRY_COMPARE(client->state(), QAbstractSocket::UnconnectedState);
        // A later client's round trip on the same worker marks that the first one's
        // close was handled; with notifications on, its DELETE would be seen by now.
        auto marker = t.connectClient(QStringLiteral("/marker"));
        QVERIFY(marker);
        QSignalSpy markerEcho(marker.get(), &QWebSocket::textMessageReceived);
        marker->sendTextMessage(QStringLiteral("y"));
        QTRY_COMPARE(markerEcho.size(), 1);
        QCOMPARE(requestsWithMethod(t, "DELETE").size(), 0);
    }

    void messagesSentBeforeCloseStillReachTheApiBeforeTheDelete()
    {
        TestProxy t;
        t.api.setHandler([](const RecordedRequest &r) {
            FakeReply reply;
            reply.body = r.method == "GET" ? QByteArray("ok") : QByteArray();
            reply.delayMs = r.method == "POST" ? 20 : 0;
            return reply;
        });
        QVERIFY(t.start());
        auto client = t.connectClient(QStringLiteral("/CP1"));
        QVERIFY(client);
        client->sendTextMessage(QStringLiteral("1"));
        client->sendTextMessage(QStringLiteral("2"));
        client->sendTextMessage(QStringLiteral("3"));
        client->close();
        QTRY_COMPARE(t.api.requestCount(), 5);
        const auto all = t.api.requests();
        QCOMPARE(all[1].body, QByteArray("1"));
        QCOMPARE(all[2].body, QByteArray("2"));
        QCOMPARE(all[3].body, QByteArray("3"));
        QCOMPARE(all[4].method, QByteArray("DELETE"));
    }

    void newerConnectionReplacesOlderWithoutDelete()
    {
        TestProxy t;
        QVERIFY(t.start());
        auto first = t.connectClient(QStringLiteral("/CP1"));
        QVERIFY(first);
        QSignalSpy firstClosed(first.get(), &QWebSocket::disconnected);
        auto second = t.connectClient(QStringLiteral("/CP1"));
        QVERIFY(second);
        QTRY_COMPARE(firstClosed.size(), 1);
        QCOMPARE(first->closeCode(), QWebSocketProtocol::CloseCodePolicyViolated);
        QCOMPARE(first->closeReason(), QStringLiteral("replaced"));

        // Pushes now reach the newer connection.
        QSignalSpy pushed(second.get(), &QWebSocket::textMessageReceived);
        HttpProbe push(t.pushPort(), HttpProbe::request("POST", "/CP1", "hello"));
        QTRY_VERIFY(push.finished());
        QCOMPARE(push.status(), 200);
        QTRY_COMPARE(pushed.size(), 1);

        second->close();
        QTRY_COMPARE(requestsWithMethod(t, "DELETE").size(), 1);  // only the newer one's
    }

    void deadPeerIsClosedAfterTwoPingIntervals()
    {
        TestProxy t;
        t.config.pingIntervalMs = 100;
        QVERIFY(t.start());
        // A raw TCP client that completes the upgrade and then never answers a ping.
        HttpProbe silent(t.port(), HttpProbe::upgrade("/silent"));
        QTRY_VERIFY(silent.finished());
        QCOMPARE(silent.status(), 101);
        // A real client answers pings and stays.
        auto alive = t.connectClient(QStringLiteral("/alive"));
        QVERIFY(alive);
        QTRY_VERIFY_WITH_TIMEOUT(silent.closed(), 10000);
        QTRY_COMPARE(requestsWithMethod(t, "DELETE").size(), 1);
        QCOMPARE(requestsWithMethod(t, "DELETE").first().path, QByteArray("/silent"));
        QCOMPARE(requestsWithMethod(t, "DELETE").first().body, QByteArray("ping timeout"));
        QCOMPARE(alive->state(), QAbstractSocket::ConnectedState);
    }

    // A message that trickles in for longer than two ping intervals: its bytes are
    // signs of life, so the dead-peer check leaves the client be, and the message
    // arrives whole.
    void aTricklingMessageIsNoDeadPeer()
    {
        TestProxy t;
        t.config.pingIntervalMs = 300;
        QVERIFY(t.start());
        HttpProbe slow(t.port(), HttpProbe::upgrade("/slow"));
        QTRY_VERIFY(slow.finished());
        QCOMPARE(slow.status(), 101);
        const QByteArray payload(30, 't');
        const QByteArray frame = clientFrame(0x81, payload);
        qsizetype sent = frame.size() - payload.size();
        slow.socket()->write(frame.first(sent));
        QTimer trickle;  // a byte every 60 ms: 1.8 s, six ping intervals
        trickle.callOnTimeout([&] {
            if (sent < frame.size())
                slow.socket()->write(frame.sliced(sent++, 1));
        });
        trickle.start(60);
        QTRY_COMPARE_WITH_TIMEOUT(requestsWithMethod(t, "POST").size(), 1, 10000);
        QCOMPARE(requestsWithMethod(t, "POST").first().body, payload);
        QVERIFY(!slow.closed());
        QCOMPARE(requestsWithMethod(t, "DELETE").size(), 0);
        // Silent from now on (it never answers a ping): the check still ends it.
        QTRY_VERIFY_WITH_TIMEOUT(slow.closed(), 10000);
        QTRY_COMPARE(requestsWithMethod(t, "DELETE").size(), 1);
        QCOMPARE(requestsWithMethod(t, "DELETE").first().body, QByteArray("ping timeout"));
    }

    void stopClosesClientsWith1001AndNotifiesTheApi()
    {
        TestProxy t;
        QVERIFY(t.start());
        auto client = t.connectClient(QStringLiteral("/CP1"));
        QVERIFY(client);
        QSignalSpy closed(client.get(), &QWebSocket::disconnected);
        t.stop();
        QTRY_COMPARE(closed.size(), 1);
        QCOMPARE(client->closeCode(), QWebSocketProtocol::CloseCodeGoingAway);
        QCOMPARE(requestsWithMethod(t, "DELETE").size(), 1);
    }
};

QTEST_GUILESS_MAIN(TestPlainMode)
#include "tst_plainmode.moc"
