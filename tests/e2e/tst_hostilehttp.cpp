// Hostile HTTP on the WebSocket and push listeners, against the real ws2apid binary:
// slowloris heads and bodies, header floods, endless and oversized push bodies, a
// pipeline whose answers are never read, and pushes to clients that stopped reading.
// Each attack runs while well-behaved clients keep talking (every echo and every push
// must arrive), and afterwards the daemon must hold exactly the descriptors it held
// before and, attack after attack, no more memory than a stated bound.
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTest>
#include <QWebSocket>

#include <memory>
#include <vector>

#include "DaemonProcess.h"
#include "FakeApi.h"
#include "HostileClients.h"
#include "HttpProbe.h"
#include "Sanitizers.h"

using namespace Qt::Literals::StringLiterals;
using namespace ws2api::test;

namespace {

const QString DaemonPath = QStringLiteral(WS2APID_PATH);
constexpr int HandshakeTimeoutMs = 1000;  // the daemon's, short for the test
constexpr int MaxMessage = 64 * 1024;
constexpr int GoodClients = 12;
constexpr int WaitMs = 20000;  // an upper bound for a busy box, never a timing check
constexpr qint64 MiB = 1024 * 1024;

QByteArray upgradeHead(const QByteArray &path, const QByteArray &extra = {})
{
    return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" + extra + "\r\n";
}

} // namespace

class TestHostileHttp : public QObject
{
    Q_OBJECT

private:
    struct Daemon
    {
        std::unique_ptr<DaemonProcess> process;
        quint16 port = 0;
        quint16 pushPort = 0;
        std::unique_ptr<MetricsReader> metrics;
    };

    // ws2apid on 127.0.0.1 with a separate push listener, in front of m_api.
    void startDaemon(Daemon *d, const QStringList &extra, const QString &apiPath = u"/"_s)
    {
        d->process = std::make_unique<DaemonProcess>(DaemonPath);
        d->process->process().setArguments(QStringList{u"--listen"_s, u"127.0.0.1:0"_s, u"--push-listen"_s,
                                                       u"127.0.0.1:0"_s, u"--api"_s, m_api.url(apiPath).toString(),
                                                       u"--admin"_s, u"none"_s, u"--threads"_s, u"2"_s,
                                                       u"--handshake-timeout"_s, QString::number(HandshakeTimeoutMs),
                                                       u"--max-message"_s, QString::number(MaxMessage)}
                                           + extra);
        d->process->process().start();
        static const QRegularExpression listening(
            u"listening on 127\\.0\\.0\\.1:(\\d+), pushes on 127\\.0\\.0\\.1:(\\d+) "_s);
        QRegularExpressionMatch match;
        QVERIFY(QTest::qWaitFor([&] {
            match = listening.match(QString::fromUtf8(d->process->errorOutput()));
            return match.hasMatch() || d->process->process().state() == QProcess::NotRunning;
        }, DaemonProcess::StartTimeoutMs));
        QVERIFY2(match.hasMatch(), d->process->errorOutput().constData());
        d->port = quint16(match.captured(1).toUInt());
        d->pushPort = quint16(match.captured(2).toUInt());
        d->metrics = std::make_unique<MetricsReader>(d->pushPort);
    }

    qint64 fds(Daemon &d) { return d.metrics->value("process_open_fds"); }
    qint64 rss(Daemon &d) { return d.metrics->value("process_resident_memory_bytes"); }

    // The daemon's descriptors once nothing is in flight: the API's keep-alive
    // connections closed (they come and go with the traffic) and the count steady.
    qint64 settledFds(Daemon &d)
    {
        m_api.closeAllConnections();
        qint64 previous = -2;
        qint64 now = fds(d);
        for (int i = 0; i < 50 && now != previous; ++i) {
            QTest::qWait(100);  // no signal tells that the daemon saw the closes
            previous = now;
            now = fds(d);
        }
        return now;
    }

    // The descriptors come back exactly (lingering closes end within the handshake
    // timeout), and the daemon still serves every good client.
    void expectBaseline(Daemon &d, qint64 baselineFds)
    {
        QTRY_VERIFY_WITH_TIMEOUT((m_api.closeAllConnections(), fds(d) == baselineFds), WaitMs);
    }

    void connectGoodClients()
    {
        for (int i = 0; i < GoodClients; ++i) {
            auto client = std::make_unique<QWebSocket>();
            QSignalSpy opened(client.get(), &QWebSocket::connected);
            client->open(QUrl(u"ws://127.0.0.1:%1/good-%2"_s.arg(m_plain.port).arg(i)));
            QTRY_COMPARE_WITH_TIMEOUT(opened.size(), 1, WaitMs);
            m_good.push_back(std::move(client));
        }
    }

    // Every good client sends a message and gets its echo, and gets a push: nothing lost.
    void exercise(const QByteArray &tag)
    {
        std::vector<std::unique_ptr<QSignalSpy>> received;
        std::vector<std::unique_ptr<HttpProbe>> pushes;
        for (int i = 0; i < GoodClients; ++i) {
            received.push_back(std::make_unique<QSignalSpy>(m_good[i].get(), &QWebSocket::textMessageReceived));
            m_good[i]->sendTextMessage(QString::fromLatin1(tag + "-echo-" + QByteArray::number(i)));
            pushes.push_back(std::make_unique<HttpProbe>(
                m_plain.pushPort, HttpProbe::request("POST", "/good-" + QByteArray::number(i),
                                                     tag + "-push-" + QByteArray::number(i))));
        }
        for (int i = 0; i < GoodClients; ++i) {
            QTRY_VERIFY_WITH_TIMEOUT(pushes[i]->finished(), WaitMs);
            QCOMPARE(pushes[i]->status(), 200);
            QTRY_COMPARE_WITH_TIMEOUT(received[i]->size(), 2, WaitMs);
            QStringList got{received[i]->at(0).at(0).toString(), received[i]->at(1).at(0).toString()};
            got.sort();
            QCOMPARE(got, (QStringList{QString::fromLatin1(tag + "-echo-" + QByteArray::number(i)),
                                       QString::fromLatin1(tag + "-push-" + QByteArray::number(i))}));
        }
    }

    // Runs `attack` once to warm up, then `rounds` more times, each followed by the
    // descriptors' return to the baseline; RSS after the last may exceed RSS after
    // the warm-up by `bound` at most. `attack` returns what holding it cost the
    // daemon (RSS at its height less RSS before), which a leak would add every round.
    void steadyState(const char *name, int rounds, qint64 bound, const std::function<qint64()> &attack)
    {
        const qint64 baselineFds = settledFds(m_plain);
        qint64 cost = attack();
        QVERIFY(!QTest::currentTestFailed());
        expectBaseline(m_plain, baselineFds);
        const qint64 warm = rss(m_plain);
        for (int i = 0; i < rounds; ++i) {
            cost = std::max(cost, attack());
            QVERIFY(!QTest::currentTestFailed());
            expectBaseline(m_plain, baselineFds);
        }
        const qint64 after = rss(m_plain);
        qInfo("%s: RSS %.1f MiB after the warm-up, %.1f MiB after %d more rounds; holding the attack "
              "cost up to %.1f MiB", name, double(warm) / MiB, double(after) / MiB, rounds, double(cost) / MiB);
        if (RssIsMeaningful)
            QVERIFY2(after - warm <= bound, qPrintable(u"RSS grew by %1 KiB (bound %2 KiB)"_s
                                                       .arg((after - warm) / 1024).arg(bound / 1024)));
    }

    // A crowd that never completes what it sends, cut by the daemon (with `status`,
    // or silently when empty) while the good clients are served.
    qint64 slowCrowd(quint16 port, int count, const QByteArray &prefix, const QByteArray &trickle,
                     const QByteArray &status)
    {
        const qint64 before = rss(m_plain);
        TrickleCrowd crowd(port, count, prefix, trickle, 100);
        if (!QTest::qWaitFor([&] { return crowd.connected() == count; }, WaitMs)) {
            QTest::qFail("the crowd did not connect", __FILE__, __LINE__);
            return 0;
        }
        const qint64 held = rss(m_plain);
        exercise("slow" + QByteArray::number(++m_round));
        if (QTest::currentTestFailed())
            return 0;
        // Slots are for upgrades the API decides on; a head that never ends takes none.
        if (MetricsReader::valueIn(m_plain.metrics->fetch(), "ws2api_connection_slots") != GoodClients)
            QTest::qFail("a slow head holds a connection slot", __FILE__, __LINE__);
        if (!QTest::qWaitFor([&] { return crowd.closed() == count; }, WaitMs)) {
            QTest::qFail(qPrintable(u"%1 of %2 slow connections still open"_s.arg(count - crowd.closed()).arg(count)),
                         __FILE__, __LINE__);
            return 0;
        }
        if (status.isEmpty() ? crowd.answered() != 0 : crowd.answeredWith(status) != count)
            QTest::qFail(qPrintable(u"%1 of %2 answered with %3"_s.arg(crowd.answeredWith(status)).arg(count)
                                        .arg(QString::fromLatin1(status))), __FILE__, __LINE__);
        return held - before;
    }

    FakeApi m_api;
    Daemon m_plain;
    std::vector<std::unique_ptr<QWebSocket>> m_good;
    int m_round = 0;

    // A raw WebSocket client that completes its upgrade and then never reads.
    std::unique_ptr<HttpProbe> stuckClient(quint16 port, const QByteArray &path, const QByteArray &extra = {})
    {
        auto stuck = std::make_unique<HttpProbe>(port, upgradeHead(path, extra));
        if (!QTest::qWaitFor([&] { return stuck->finished(); }, WaitMs) || stuck->status() != 101)
            return nullptr;
        stuck->socket()->setReadBufferSize(1);
        disconnect(stuck->socket(), &QTcpSocket::readyRead, nullptr, nullptr);
        return stuck;
    }

    // One push on a connection of its own: its status, 0 when none came.
    static int push(quint16 pushPort, const QByteArray &target, const QByteArray &body)
    {
        HttpProbe probe(pushPort, HttpProbe::request("POST", target, body));
        return QTest::qWaitFor([&] { return probe.finished(); }, WaitMs) ? probe.status() : 0;
    }

    QList<RecordedRequest> apiRequestsTo(QByteArrayView pathStart) const
    {
        QList<RecordedRequest> out;
        for (const RecordedRequest &r : m_api.requests()) {
            if (r.path.startsWith(pathStart))
                out.append(r);
        }
        return out;
    }

private Q_SLOTS:
    void initTestCase()
    {
        // Plain clients as FakeApi's default answers them; OCPP under /ocpp/.
        m_api.setHandler([](const RecordedRequest &r) {
            if (r.path.startsWith("/ocpp/")) {
                if (r.path == "/ocpp/connect")
                    return FakeReply{200, "\"ok\"", {{"Content-Type", "application/json"}}};
                if (r.path.startsWith("/ocpp/call/"))
                    return FakeReply{200, "{}", {{"Content-Type", "application/json"}}};
                return FakeReply{204, {}, {}};
            }
            if (r.method == "GET")
                return FakeReply{200, "ok", {}};
            if (r.method == "POST")
                return FakeReply{200, r.body, {}};
            return FakeReply{204, {}, {}};
        });
        QVERIFY(m_api.listen());
        startDaemon(&m_plain, {});
        connectGoodClients();
        QVERIFY(fds(m_plain) > 0);
        QVERIFY(rss(m_plain) > 0);
    }

    void cleanupTestCase()
    {
        m_good.clear();
        m_plain.process.reset();
    }

    void slowlorisHeads_data()
    {
        QTest::addColumn<bool>("pushListener");
        QTest::addColumn<QByteArray>("head");
        QTest::addRow("websocket listener") << false << upgradeHead("/slow", "X-Slow: " + QByteArray(200, 'a'));
        QTest::addRow("push listener") << true << HttpProbe::request("POST", "/good-0", QByteArray(200, 'b'));
    }

    // Heads sent a byte every 100 ms: each is cut at the handshake timeout, without an
    // answer, holds no slot, and costs nothing once gone.
    void slowlorisHeads()
    {
        QFETCH(bool, pushListener);
        QFETCH(QByteArray, head);
        const quint16 port = pushListener ? m_plain.pushPort : m_plain.port;
        steadyState(QTest::currentDataTag(), 2, 2 * MiB, [&] { return slowCrowd(port, 600, {}, head, {}); });
    }

    // A push whose body trickles in (or stops) is cut at the handshake timeout with 408,
    // and nothing of it is delivered.
    void slowPushBodies()
    {
        const QByteArray head = "POST /good-0 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 60000\r\n\r\n";
        QSignalSpy received(m_good[0].get(), &QWebSocket::textMessageReceived);
        steadyState("slow push bodies", 2, 2 * MiB, [&] {
            return slowCrowd(m_plain.pushPort, 300, head, "x", "HTTP/1.1 408 ");
        });
        for (const QList<QVariant> &message : received)
            QVERIFY(!message.at(0).toString().contains(u"xxx"_s));
    }

    void headerFloods_data()
    {
        QTest::addColumn<bool>("pushListener");
        QTest::addColumn<QByteArray>("request");
        QTest::addColumn<int>("status");
        const QByteArray thousands = QByteArray("a:b\r\n").repeated(3000);  // 15 KB, under the 16 KiB head limit
        const QByteArray longLine = "X-Big: " + QByteArray(8500, 'l') + "\r\n";
        const QByteArray longTarget = "/" + QByteArray(9000, 't');
        const QByteArray push = HttpProbe::request("POST", "/good-0", "flood");
        QTest::addRow("ws: thousands of tiny headers") << false << upgradeHead("/flood", thousands) << 431;
        QTest::addRow("ws: head over 16 KiB") << false << upgradeHead("/flood", thousands + thousands) << 431;
        QTest::addRow("ws: a header line over 8 KiB") << false << upgradeHead("/flood", longLine) << 431;
        QTest::addRow("ws: request line over 8 KiB") << false << upgradeHead(longTarget) << 414;
        QTest::addRow("ws: request line over 16 KiB") << false << upgradeHead(longTarget.repeated(2)) << 414;
        QTest::addRow("push: thousands of tiny headers")
            << true << QByteArray(push).insert(push.indexOf("\r\n") + 2, thousands) << 431;
        QTest::addRow("push: head over 16 KiB")
            << true << QByteArray(push).insert(push.indexOf("\r\n") + 2, thousands + thousands) << 431;
        QTest::addRow("push: a header line over 8 KiB")
            << true << QByteArray(push).insert(push.indexOf("\r\n") + 2, longLine) << 431;
        QTest::addRow("push: request line over 8 KiB")
            << true << HttpProbe::request("POST", longTarget, "flood") << 414;
    }

    // Heads over a limit are answered with their status before anything else happens
    // (the API is not asked, nothing is pushed) and closed; the daemon goes on.
    void headerFloods()
    {
        QFETCH(bool, pushListener);
        QFETCH(QByteArray, request);
        QFETCH(int, status);
        const qint64 baselineFds = settledFds(m_plain);
        const int apiRequests = m_api.requestCount();
        QSignalSpy received(m_good[0].get(), &QWebSocket::textMessageReceived);
        std::vector<std::unique_ptr<HttpProbe>> flood;
        for (int i = 0; i < 50; ++i)
            flood.push_back(std::make_unique<HttpProbe>(pushListener ? m_plain.pushPort : m_plain.port, request));
        for (const auto &probe : flood) {
            QTRY_VERIFY_WITH_TIMEOUT(probe->closed(), WaitMs);
            QCOMPARE(probe->status(), status);
        }
        QCOMPARE(m_api.requestCount(), apiRequests);
        QCOMPARE(received.size(), 0);
        exercise("flood" + QByteArray::number(++m_round));
        expectBaseline(m_plain, baselineFds);
    }

    void pushBodies_data()
    {
        QTest::addColumn<QByteArray>("request");
        QTest::addColumn<int>("status");
        const QByteArray head = "POST /good-0 HTTP/1.1\r\nHost: 127.0.0.1\r\n";
        QTest::addRow("content-length far over --max-message")
            << QByteArray(head + "Content-Length: 10000000000\r\n\r\n") << 413;
        QTest::addRow("chunk announced over --max-message")
            << QByteArray(head + "Transfer-Encoding: chunked\r\n\r\nfffffff\r\n") << 413;
        QTest::addRow("body stops halfway")
            << QByteArray(head + "Content-Length: 100\r\n\r\n" + QByteArray(50, 'h')) << 408;
        QTest::addRow("chunked body stops halfway")
            << QByteArray(head + "Transfer-Encoding: chunked\r\n\r\n64\r\n" + QByteArray(50, 'h')) << 408;
    }

    // Answered at once (413) or at the handshake timeout (408), closed, never delivered.
    void pushBodies()
    {
        QFETCH(QByteArray, request);
        QFETCH(int, status);
        const qint64 baselineFds = settledFds(m_plain);
        QSignalSpy received(m_good[0].get(), &QWebSocket::textMessageReceived);
        HttpProbe probe(m_plain.pushPort, request);
        QTRY_VERIFY_WITH_TIMEOUT(probe.closed(), WaitMs);
        QCOMPARE(probe.status(), status);
        exercise("body" + QByteArray::number(++m_round));
        QCOMPARE(received.size(), 2);  // the exercise's echo and push only
        expectBaseline(m_plain, baselineFds);
    }

    // A push that never ends (chunks for ever) is refused with 413 once over
    // --max-message and closed; what it sends meanwhile is not kept.
    void endlessChunkedPushes()
    {
        const QByteArray chunk = "1000\r\n" + QByteArray(4096, 'c') + "\r\n";
        QSignalSpy received(m_good[0].get(), &QWebSocket::textMessageReceived);
        // 3 MiB: the 64 KiB bodies come and go in blocks the allocator keeps some of.
        steadyState("endless chunked pushes", 2, 3 * MiB, [&]() -> qint64 {
            const qint64 before = rss(m_plain);
            constexpr int Senders = 20;
            constexpr qint64 Limit = 16 * MiB;  // each stops there, should nothing stop it before
            std::vector<std::unique_ptr<QTcpSocket>> senders;
            std::vector<qint64> sent(Senders, 0);
            std::vector<QByteArray> answers(Senders);
            for (int i = 0; i < Senders; ++i) {
                auto socket = std::make_unique<QTcpSocket>();
                QTcpSocket *s = socket.get();
                const auto feed = [s, &sent, i, &chunk] {
                    while (s->state() == QAbstractSocket::ConnectedState && s->bytesToWrite() < 256 * 1024
                           && sent[i] < Limit) {
                        s->write(chunk);
                        sent[i] += chunk.size();
                    }
                };
                connect(s, &QTcpSocket::connected, this, [s, feed] {
                    s->write("POST /good-0 HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n");
                    feed();
                });
                connect(s, &QTcpSocket::bytesWritten, this, feed);
                connect(s, &QTcpSocket::readyRead, this, [s, &answers, i] { answers[i] += s->readAll(); });
                s->connectToHost(QHostAddress::LocalHost, m_plain.pushPort);
                senders.push_back(std::move(socket));
            }
            [&] {
                for (int i = 0; i < Senders; ++i) {
                    // Closed by the daemon (the sender would stop at Limit and stay open).
                    QTRY_VERIFY_WITH_TIMEOUT(senders[i]->state() == QAbstractSocket::UnconnectedState, WaitMs);
                    QVERIFY2(answers[i].startsWith("HTTP/1.1 413 "), answers[i].left(40).constData());
                }
            }();
            return rss(m_plain) - before;
        });
        QCOMPARE(received.size(), 0);
    }

    // One connection pipelines pushes without end and never reads an answer: the
    // daemon parses one at a time and stops taking them once its answers wait, so
    // its memory stays put while the sender's bytes wait in the sender.
    void pipelineNeverRead()
    {
        const qint64 baselineFds = settledFds(m_plain);
        const qint64 before = rss(m_plain);
        const QByteArray one = HttpProbe::request("POST", "/nobody", "x");
        QTcpSocket attacker;
        attacker.connectToHost(QHostAddress::LocalHost, m_plain.pushPort);
        QVERIFY(attacker.waitForConnected(WaitMs));
        attacker.setReadBufferSize(1);
        const int count = int(48 * MiB / one.size());
        attacker.write(one.repeated(count));
        // Unbounded, the daemon would read it all at once; bounded, it stops taking.
        const bool allTaken = QTest::qWaitFor([&] { return attacker.bytesToWrite() == 0; }, 3000);
        const qint64 held = rss(m_plain) - before;
        const qint64 answered = MetricsReader::valueIn(m_plain.metrics->fetch(),
                                                       "ws2api_pushes_total{outcome=\"unknown_client\"}");
        qInfo("%d pushes (%.1f MiB) pipelined: %lld answered, %.1f MiB not yet taken by the daemon, "
              "its RSS up %.1f MiB", count, double(count * one.size()) / MiB, answered,
              double(attacker.bytesToWrite()) / MiB, double(held) / MiB);
        QVERIFY(!allTaken);  // 48 MiB of requests, and their answers, cannot all fit in kernel buffers
        if (RssIsMeaningful)
            QVERIFY2(held < 8 * MiB, qPrintable(u"RSS grew by %1 KiB"_s.arg(held / 1024)));
        exercise("pipeline" + QByteArray::number(++m_round));
        attacker.abort();
        expectBaseline(m_plain, baselineFds);
    }

    // Pushes to a client that keeps its socket open but never reads: 200 while they
    // fit its send queue, then 503 and the client closed with 1008 (404 after);
    // the queue's memory comes back.
    void pushesToAClientThatStoppedReading()
    {
        const QByteArray message(32 * 1024, 'q');
        // 3 MiB: the allocator keeps some of the 4 MiB send queue; a leak of it would add 4 MiB a round.
        steadyState("stuck client", 2, 3 * MiB, [&]() -> qint64 {
            const qint64 before = rss(m_plain);
            const QByteArray id = "stuck-" + QByteArray::number(++m_round);
            const auto stuck = stuckClient(m_plain.port, "/" + id);
            if (!stuck) {
                QTest::qFail("the stuck client did not connect", __FILE__, __LINE__);
                return 0;
            }
            int delivered = 0;
            int status = 200;
            while (status == 200 && delivered < 2000) {
                status = push(m_plain.pushPort, "/" + id, message);
                delivered += status == 200 ? 1 : 0;
            }
            const qint64 held = rss(m_plain) - before;
            [&] {
                QCOMPARE(status, 503);
                // What was answered 200 fits the 4 MiB queue and what the kernel holds.
                QVERIFY2(delivered * message.size() < 24 * MiB, qPrintable(QString::number(delivered)));
                QCOMPARE(push(m_plain.pushPort, "/" + id, message), 404);
                QTRY_COMPARE_WITH_TIMEOUT(apiRequestsTo("/" + id).size(), 2, WaitMs);  // connect, disconnect
                const RecordedRequest gone = apiRequestsTo("/" + id).last();
                QCOMPARE(gone.method, QByteArray("DELETE"));
                QCOMPARE(gone.header("X-Close-Code"), QByteArray("1008"));
                QCOMPARE(gone.header("X-Close-Reason"), QByteArray("send%20queue%20full"));
                exercise("stuck" + QByteArray::number(m_round));
            }();
            return held;
        });
    }

    // OCPP: CALLs to a station that stopped reading go out one at a time; --call-queue
    // more are taken (200), then 503. Every one taken reaches the API once more, as
    // an /error/ (Disconnected) when the station goes.
    void callsToAStationThatStoppedReading()
    {
        Daemon ocpp;
        startDaemon(&ocpp, {u"--mode"_s, u"ocpp"_s, u"--default-subprotocol"_s, u"ocpp1.6"_s,
                            u"--call-queue"_s, u"4"_s}, u"/ocpp"_s);
        const qint64 baselineFds = settledFds(ocpp);
        qint64 warm = 0;
        const QByteArray payload = "{\"data\":\"" + QByteArray(32 * 1024, 'd') + "\"}";
        for (int round = 0; round < 3; ++round) {
            const QByteArray id = "cp-stuck-" + QByteArray::number(++m_round);
            auto stuck = stuckClient(ocpp.port, "/" + id, "Sec-WebSocket-Protocol: ocpp1.6\r\n");
            QVERIFY(stuck);
            QList<int> statuses;
            for (int k = 0; k < 8; ++k)
                statuses.append(push(ocpp.pushPort, "/call/Reset/" + id + "/m" + QByteArray::number(k), payload));
            QCOMPARE(statuses, (QList<int>{200, 200, 200, 200, 200, 503, 503, 503}));
            stuck.reset();  // the station goes
            QTRY_COMPARE_WITH_TIMEOUT(apiRequestsTo("/ocpp/error/Reset/" + id + "/").size(), 5, WaitMs);
            QStringList errors;
            for (const RecordedRequest &r : apiRequestsTo("/ocpp/error/Reset/" + id + "/")) {
                errors.append(QString::fromLatin1(r.path.sliced(r.path.lastIndexOf('/') + 1)));
                QVERIFY2(r.body.contains("\"Disconnected\""), r.body.constData());
            }
            errors.sort();
            QCOMPARE(errors, (QStringList{u"m0"_s, u"m1"_s, u"m2"_s, u"m3"_s, u"m4"_s}));
            expectBaseline(ocpp, baselineFds);
            if (round == 0)
                warm = rss(ocpp);
        }
        const qint64 grown = rss(ocpp) - warm;
        if (RssIsMeaningful)
            QVERIFY2(grown <= 2 * MiB, qPrintable(u"RSS grew by %1 KiB"_s.arg(grown / 1024)));
    }
};

QTEST_GUILESS_MAIN(TestHostileHttp)
#include "tst_hostilehttp.moc"
