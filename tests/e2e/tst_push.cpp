// The push listener end to end: pushes, their checks in SPEC order, /metrics,
// /healthz, a separate push port, routing across workers, full send queues.
#include <QSignalSpy>
#include <QTest>
#include <vector>
#include <QWebSocket>

#include "HttpProbe.h"
#include "MetricsScrape.h"
#include "TestProxy.h"

#include <sys/socket.h>

using namespace ws2api;
using namespace ws2api::test;

namespace {

QList<QPair<QHostAddress, int>> subnets(const QString &list)
{
    QList<QPair<QHostAddress, int>> out;
    for (const QString &cidr : list.split(QLatin1Char(',')))
        out.append(QHostAddress::parseSubnet(cidr));
    return out;
}

} // namespace

class TestPush : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void pushReachesTheClientAsTextOrBinary()
    {
        TestProxy t;
        QVERIFY(t.start());
        auto client = t.connectClient(QStringLiteral("/CP%201"));
        QVERIFY(client);
        QSignalSpy texts(client.get(), &QWebSocket::textMessageReceived);
        QSignalSpy binaries(client.get(), &QWebSocket::binaryMessageReceived);

        HttpProbe text(t.pushPort(), HttpProbe::request("POST", "/CP%201", "héllo"));
        QTRY_VERIFY(text.finished());
        QCOMPARE(text.status(), 200);
        QTRY_COMPARE(texts.size(), 1);
        QCOMPARE(texts.first().first().toString(), QStringLiteral("héllo"));

        HttpProbe binary(t.pushPort(), HttpProbe::request("POST", "/CP%201", QByteArray("\x00\xfe", 2),
                                                          {{"Content-Type", "application/octet-stream"}}));
        QTRY_VERIFY(binary.finished());
        QCOMPARE(binary.status(), 200);
        QTRY_COMPARE(binaries.size(), 1);
        QCOMPARE(binaries.first().first().toByteArray(), QByteArray("\x00\xfe", 2));
    }

    void clientReplyToAPushReachesTheApi()
    {
        TestProxy t;
        QVERIFY(t.start());
        auto client = t.connectClient(QStringLiteral("/CP1"));
        QVERIFY(client);
        connect(client.get(), &QWebSocket::textMessageReceived, client.get(), [&](const QString &m) {
            if (m == QLatin1String("ping?"))
                client->sendTextMessage(QStringLiteral("pong!"));
        });
        HttpProbe push(t.pushPort(), HttpProbe::request("POST", "/CP1", "ping?"));
        QTRY_VERIFY(push.finished());
        QTRY_COMPARE(t.api.requestCount(), 2);
        QCOMPARE(t.api.requests().at(1).method, QByteArray("POST"));
        QCOMPARE(t.api.requests().at(1).body, QByteArray("pong!"));
    }

    void unknownAndDepartedClientsGive404()
    {
        TestProxy t;
        QVERIFY(t.start());
        HttpProbe unknown(t.pushPort(), HttpProbe::request("POST", "/nobody", "x"));
        QTRY_VERIFY(unknown.finished());
        QCOMPARE(unknown.status(), 404);

        auto client = t.connectClient(QStringLiteral("/CP1"));
        QVERIFY(client);
        client->close();
        QTRY_COMPARE(t.api.requestCount(), 2);  // GET, then DELETE once gone
        HttpProbe departed(t.pushPort(), HttpProbe::request("POST", "/CP1", "x"));
        QTRY_VERIFY(departed.finished());
        QCOMPARE(departed.status(), 404);
    }

    void pushesAreRoutedToTheOwningWorker()
    {
        TestProxy t;
        t.config.threads = 3;
        QVERIFY(t.start());
        constexpr int Clients = 12;
        std::vector<std::unique_ptr<QWebSocket>> clients;
        std::vector<std::unique_ptr<QSignalSpy>> spies;
        for (int i = 0; i < Clients; ++i) {
            clients.push_back(t.connectClient(QStringLiteral("/c%1").arg(i)));
            QVERIFY(clients.back());
            spies.push_back(std::make_unique<QSignalSpy>(clients.back().get(),
                                                         &QWebSocket::textMessageReceived));
        }
        std::vector<std::unique_ptr<HttpProbe>> pushes;
        for (int i = 0; i < Clients; ++i)
            pushes.push_back(std::make_unique<HttpProbe>(
                t.pushPort(), HttpProbe::request("POST", "/c" + QByteArray::number(i),
                                                 "for " + QByteArray::number(i))));
        for (int i = 0; i < Clients; ++i) {
            QTRY_VERIFY(pushes[i]->finished());
            QCOMPARE(pushes[i]->status(), 200);
            QTRY_COMPARE(spies[i]->size(), 1);
            QCOMPARE(spies[i]->first().first().toString(), QStringLiteral("for %1").arg(i));
        }
    }

    void checksRunInSpecOrder_data()
    {
        QTest::addColumn<QString>("allow");
        QTest::addColumn<QByteArray>("authorization");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QByteArray>("target");
        QTest::addColumn<int>("expected");
        const QByteArray big(2048, 'x');
        const QByteArray badUtf8("\xff\xfe");
        const QByteArray good("Bearer s3cret");
        QTest::addRow("source first") << "10.0.0.0/8" << QByteArray("Bearer wrong") << big << QByteArray("/nobody") << 403;
        QTest::addRow("then token") << "127.0.0.0/8" << QByteArray("Bearer wrong") << big << QByteArray("/nobody") << 401;
        QTest::addRow("missing token") << "127.0.0.0/8" << QByteArray() << QByteArray("x") << QByteArray("/CP1") << 401;
        QTest::addRow("then size") << "127.0.0.0/8" << good << big << QByteArray("/nobody") << 413;
        QTest::addRow("then body") << "127.0.0.0/8" << good << badUtf8 << QByteArray("/nobody") << 400;
        QTest::addRow("empty body") << "127.0.0.0/8" << good << QByteArray() << QByteArray("/nobody") << 400;
        QTest::addRow("then client") << "127.0.0.0/8" << good << QByteArray("x") << QByteArray("/nobody") << 404;
        QTest::addRow("all good") << "127.0.0.0/8" << good << QByteArray("x") << QByteArray("/CP1") << 200;
    }

    void checksRunInSpecOrder()
    {
        QFETCH(QString, allow);
        QFETCH(QByteArray, authorization);
        QFETCH(QByteArray, body);
        QFETCH(QByteArray, target);
        QFETCH(int, expected);
        TestProxy t;
        t.config.maxMessage = 1024;
        t.config.pushToken = "s3cret";
        t.config.pushAllow = subnets(allow);
        QVERIFY(t.start());
        auto client = t.connectClient(QStringLiteral("/CP1"));
        QVERIFY(client);
        QList<QPair<QByteArray, QByteArray>> headers;
        if (!authorization.isEmpty())
            headers.emplaceBack("Authorization", authorization);
        HttpProbe push(t.pushPort(), HttpProbe::request("POST", target, body, headers));
        QTRY_VERIFY(push.finished());
        QCOMPARE(push.status(), expected);
        if (expected == 401)
            QCOMPARE(push.header("WWW-Authenticate"), QByteArray("Bearer"));
    }

    // RFC 7235: the scheme is case-insensitive and one or more spaces lead to the
    // token; the token itself is compared exactly.
    void bearerSchemeIsCaseInsensitive_data()
    {
        QTest::addColumn<QByteArray>("authorization");
        QTest::addColumn<int>("expected");
        QTest::addRow("Bearer") << QByteArray("Bearer s3cret") << 200;
        QTest::addRow("bearer") << QByteArray("bearer s3cret") << 200;
        QTest::addRow("BEARER") << QByteArray("BEARER s3cret") << 200;
        QTest::addRow("bEaReR") << QByteArray("bEaReR s3cret") << 200;
        QTest::addRow("three spaces") << QByteArray("Bearer   s3cret") << 200;
        QTest::addRow("token in another case") << QByteArray("bearer S3CRET") << 401;
        QTest::addRow("no space") << QByteArray("Bearers3cret") << 401;
        QTest::addRow("no token") << QByteArray("bearer") << 401;
        QTest::addRow("other scheme") << QByteArray("Basic s3cret") << 401;
        QTest::addRow("token with more") << QByteArray("Bearer s3cret s3cret") << 401;
    }

    void bearerSchemeIsCaseInsensitive()
    {
        QFETCH(QByteArray, authorization);
        QFETCH(int, expected);
        TestProxy t;
        t.config.pushToken = "s3cret";
        QVERIFY(t.start());
        auto client = t.connectClient(QStringLiteral("/CP1"));
        QVERIFY(client);
        HttpProbe push(t.pushPort(), HttpProbe::request("POST", "/CP1", "x", {{"Authorization", authorization}}));
        QTRY_VERIFY(push.finished());
        QCOMPARE(push.status(), expected);
        HttpProbe metrics(t.pushPort(), HttpProbe::request("GET", "/metrics", {}, {{"Authorization", authorization}}));
        QTRY_VERIFY(metrics.finished());
        QCOMPARE(metrics.status(), expected);
    }

    void healthzIsOpenAndMetricsAreGuarded()
    {
        TestProxy t;
        t.config.pushToken = "s3cret";
        t.config.pushAllow = subnets(QStringLiteral("10.0.0.0/8"));
        QVERIFY(t.start());
        HttpProbe health(t.pushPort(), HttpProbe::request("GET", "/healthz"));
        QTRY_VERIFY(health.finished());
        QCOMPARE(health.status(), 200);
        HttpProbe metrics(t.pushPort(), HttpProbe::request("GET", "/metrics", {},
                                                           {{"Authorization", "Bearer s3cret"}}));
        QTRY_VERIFY(metrics.finished());
        QCOMPARE(metrics.status(), 403);
    }

    void metricsCountWhatHappened()
    {
        TestProxy t;
        t.config.pushToken = "s3cret";
        QVERIFY(t.start());
        auto client = t.connectClient(QStringLiteral("/CP1"));
        QVERIFY(client);
        QSignalSpy echoed(client.get(), &QWebSocket::textMessageReceived);
        client->sendTextMessage(QStringLiteral("one"));
        QTRY_COMPARE(echoed.size(), 1);
        HttpProbe push(t.pushPort(), HttpProbe::request("POST", "/CP1", "p", {{"Authorization", "Bearer s3cret"}}));
        QTRY_VERIFY(push.finished());
        HttpProbe unknown(t.pushPort(), HttpProbe::request("POST", "/x", "p", {{"Authorization", "Bearer s3cret"}}));
        QTRY_VERIFY(unknown.finished());
        QTRY_COMPARE(echoed.size(), 2);

        HttpProbe noToken(t.pushPort(), HttpProbe::request("GET", "/metrics"));
        QTRY_VERIFY(noToken.finished());
        QCOMPARE(noToken.status(), 401);
        HttpProbe metrics(t.pushPort(), HttpProbe::request("GET", "/metrics", {},
                                                           {{"Authorization", "Bearer s3cret"}}));
        QTRY_VERIFY(metrics.finished());
        QCOMPARE(metrics.status(), 200);
        QVERIFY(metrics.header("Content-Type").startsWith("text/plain; version=0.0.4"));
        const QByteArray text = metrics.body();
        for (const char *line : {"ws2api_connections 1\n", "ws2api_messages_in_total 1\n",
                                 "ws2api_messages_out_total 2\n",
                                 "ws2api_api_requests_total{outcome=\"ok\"} 2\n",
                                 "ws2api_api_latency_seconds_count 2\n",
                                 "ws2api_api_queue_seconds_count 2\n",
                                 "ws2api_pushes_total{outcome=\"delivered\"} 1\n",
                                 "ws2api_pushes_total{outcome=\"unknown_client\"} 1\n",
                                 "ws2api_connections_total{outcome=\"accepted\"} 1\n"}) {
            QVERIFY2(text.contains(line), line);
        }
    }

    // The process_* metrics of Prometheus's client libraries: what an operator (and
    // the hostile-input suites) watch for leaks.
    void metricsShowTheProcess()
    {
        TestProxy t;
        QVERIFY(t.start());
        const auto sample = [&t](const QByteArray &name) { return scrapeMetrics(t.pushPort()).value(name, -1); };
        const double before = sample("process_open_fds");
        QVERIFY(before > 0);
        std::vector<std::unique_ptr<QWebSocket>> clients;
        for (int i = 0; i < 3; ++i) {
            clients.push_back(t.connectClient(QStringLiteral("/fd%1").arg(i)));
            QVERIFY(clients.back());
        }
        // Three more descriptors in the daemon, three for the clients in this process
        // (and perhaps more pooled API connections).
        QVERIFY(sample("process_open_fds") >= before + 6);
        QVERIFY(sample("process_max_fds") >= sample("process_open_fds"));
        QVERIFY(sample("process_resident_memory_bytes") > 1024 * 1024);
        QVERIFY(sample("process_cpu_seconds_total") > 0);
    }

    void separatePushListener()
    {
        TestProxy t;
        t.config.hasPushListener = true;
        t.config.pushAddress = QHostAddress::LocalHost;
        t.config.pushPort = 0;
        QVERIFY(t.start());
        QVERIFY(t.pushPort() != t.port());
        auto client = t.connectClient(QStringLiteral("/CP1"));
        QVERIFY(client);
        QSignalSpy texts(client.get(), &QWebSocket::textMessageReceived);

        HttpProbe onWsPort(t.port(), HttpProbe::request("POST", "/CP1", "x"));
        QTRY_VERIFY(onWsPort.finished());
        QCOMPARE(onWsPort.status(), 404);
        HttpProbe metricsOnWsPort(t.port(), HttpProbe::request("GET", "/metrics"));
        QTRY_VERIFY(metricsOnWsPort.finished());
        QCOMPARE(metricsOnWsPort.status(), 404);
        HttpProbe upgradeOnPushPort(t.pushPort(), HttpProbe::upgrade("/CP2"));
        QTRY_VERIFY(upgradeOnPushPort.finished());
        QCOMPARE(upgradeOnPushPort.status(), 404);

        HttpProbe push(t.pushPort(), HttpProbe::request("POST", "/CP1", "x"));
        QTRY_VERIFY(push.finished());
        QCOMPARE(push.status(), 200);
        QTRY_COMPARE(texts.size(), 1);
    }

    void keepAliveAndPipelinedPushesAreAnsweredInOrder()
    {
        TestProxy t;
        QVERIFY(t.start());
        auto client = t.connectClient(QStringLiteral("/CP1"));
        QVERIFY(client);
        QSignalSpy texts(client.get(), &QWebSocket::textMessageReceived);
        const QByteArray pipeline = HttpProbe::request("POST", "/CP1", "a")
            + HttpProbe::request("POST", "/nobody", "b") + HttpProbe::request("POST", "/CP1", "c");
        QTcpSocket raw;
        QByteArray answers;
        connect(&raw, &QTcpSocket::readyRead, &raw, [&] { answers += raw.readAll(); });
        raw.connectToHost(QHostAddress::LocalHost, t.pushPort());
        QTRY_COMPARE(raw.state(), QAbstractSocket::ConnectedState);
        raw.write(pipeline);
        QTRY_COMPARE(answers.count("HTTP/1.1 "), 3);
        const qsizetype first = answers.indexOf("HTTP/1.1 200");
        const qsizetype second = answers.indexOf("HTTP/1.1 404");
        const qsizetype third = answers.indexOf("HTTP/1.1 200", first + 1);
        QVERIFY(first >= 0 && second > first && third > second);
        QTRY_COMPARE(texts.size(), 2);
        QCOMPARE(raw.state(), QAbstractSocket::ConnectedState);
    }

    // A client may send its pushes and shut its side down at once (printf ... | socat,
    // nc -N): HTTP/1.1 allows it, and it still waits for the answers. Every push
    // on such a connection is answered, and delivered when answered 200 (issue 11
    // found 28 of 64 answered: the connection closed with pushes still in flight).
    void halfClosedConnectionsGetEveryAnswer()
    {
        TestProxy t;
        t.config.threads = 2;  // pushes cross to the other worker and back
        QVERIFY(t.start());
        constexpr int Clients = 8;
        std::vector<std::unique_ptr<QWebSocket>> clients;
        int delivered = 0;
        for (int i = 0; i < Clients; ++i) {
            clients.push_back(t.connectClient(QStringLiteral("/c%1").arg(i)));
            QVERIFY(clients.back());
            connect(clients.back().get(), &QWebSocket::textMessageReceived, this, [&] { ++delivered; });
        }
        const auto push = [](int n) {
            return HttpProbe::request("POST", "/c" + QByteArray::number(n % Clients), "push" + QByteArray::number(n));
        };
        std::vector<std::unique_ptr<QTcpSocket>> senders;
        std::vector<QByteArray> answers(28);
        for (int c = 0; c < 28; ++c) {  // 24 single pushes, then 4 pipelines of 10
            QByteArray requests;
            for (int k = 0; k < (c < 24 ? 1 : 10); ++k)
                requests += push(c < 24 ? c : 100 + c * 10 + k);
            auto sender = std::make_unique<QTcpSocket>();
            QTcpSocket *raw = sender.get();
            QByteArray *answer = &answers[size_t(c)];
            connect(raw, &QTcpSocket::readyRead, raw, [raw, answer] { *answer += raw->readAll(); });
            connect(raw, &QTcpSocket::connected, raw, [raw, requests] {
                raw->write(requests);
                raw->flush();
                ::shutdown(int(raw->socketDescriptor()), SHUT_WR);
            });
            raw->connectToHost(QHostAddress::LocalHost, t.pushPort());
            senders.push_back(std::move(sender));
        }
        // Each connection closes once its last answer is out.
        QTRY_VERIFY(std::all_of(senders.begin(), senders.end(), [](const auto &raw) {
            return raw->state() == QAbstractSocket::UnconnectedState;
        }));
        int answered = 0;
        for (const QByteArray &answer : answers)
            answered += int(answer.count("HTTP/1.1 200 "));
        QCOMPARE(answered, 64);
        QTRY_COMPARE(delivered, 64);
    }

    void clientThatStopsReadingGets503AndIsClosed()
    {
        TestProxy t;
        t.config.sendQueueBytes = 256 * 1024;
        t.config.maxMessage = 64 * 1024;
        QVERIFY(t.start());
        // A raw client completes the upgrade and then never reads.
        HttpProbe stuck(t.port(), HttpProbe::upgrade("/stuck"));
        QTRY_VERIFY(stuck.finished());
        QCOMPARE(stuck.status(), 101);
        stuck.socket()->setReadBufferSize(1);
        disconnect(stuck.socket(), &QTcpSocket::readyRead, nullptr, nullptr);

        // Bounded: loopback buffers hold a few MiB at most before the queue fills.
        QCOMPARE(HttpProbe::postUntilRefused(t.pushPort(), "/stuck", QByteArray(60 * 1024, 'z'), 2000), 503);
        HttpProbe after(t.pushPort(), HttpProbe::request("POST", "/stuck", "x"));
        QTRY_VERIFY(after.finished());
        QCOMPARE(after.status(), 404);  // closed 1008, gone from the registry
    }
};

QTEST_GUILESS_MAIN(TestPush)
#include "tst_push.moc"
