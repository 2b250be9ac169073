// An API that misbehaves, against the real ws2apid in both modes: garbage instead
// of HTTP, responses cut short, bodies over the cap, responses that never end, a
// very slow API, one that closes every connection after one response, and one that
// restarts under traffic. For each: a newcomer's upgrade gets the status the SPEC
// names (502, 504), a plain client's messages get nothing back and are counted, a
// station's CALLs each get exactly one CALLRESULT or CALLERROR; a bystander on the
// same worker (the same API pool) is served all along; once the API behaves the
// victim's next messages go through; the daemon's descriptors come back.
#include <QJsonArray>
#include <QJsonDocument>
#include <QSignalSpy>
#include <QTest>
#include <QWebSocket>
#include <QWebSocketHandshakeOptions>

#include <map>
#include <memory>

#include "DaemonProcess.h"
#include "FakeApi.h"
#include "HttpProbe.h"
#include "MetricsScrape.h"

using namespace Qt::Literals::StringLiterals;
using namespace ws2api::test;

namespace {

const QString DaemonPath = QStringLiteral(WS2APID_PATH);
constexpr int ApiTimeoutMs = 800;
constexpr int MaxMessage = 4096;  // the daemon's cap on API response bodies too
constexpr int FaultyMessages = 2;
const QByteArray OverCap(2 * MaxMessage, 'a');

// What a misbehaving API does instead of `normal`.
using Fault = std::function<FakeReply(FakeReply normal)>;

struct Scenario
{
    Fault fault;
    int connectStatus;    // a newcomer's upgrade during the fault
    QByteArray outcome;   // ws2api_api_requests_total{outcome=...} of each faulty request
};

FakeReply rawThenClose(const QByteArray &bytes)
{
    FakeReply reply;
    reply.raw = bytes;
    reply.cutAfter = bytes.size();
    return reply;
}

std::map<QByteArray, Scenario> scenarios()
{
    std::map<QByteArray, Scenario> all;
    all["garbage instead of HTTP"] = {[](FakeReply) {
        FakeReply reply;
        reply.raw = "SSH-2.0-OpenSSH_9.2p1\r\nthis is not HTTP\r\n\r\n";
        return reply;
    }, 502, "bad_response"};
    all["head cut short"] = {[](FakeReply) { return rawThenClose("HTTP/1.1 200 OK\r\nContent-Le"); },
                             502, "unreachable"};
    all["headers, then close"] = {[](FakeReply) {
        return rawThenClose("HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n");
    }, 502, "unreachable"};
    all["half a body, then close"] = {[](FakeReply) {
        return rawThenClose("HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n{\"half\":\"of it");
    }, 502, "unreachable"};
    all["closed without an answer"] = {[](FakeReply) {
        FakeReply reply;
        reply.dropConnection = true;
        return reply;
    }, 502, "unreachable"};
    all["body over the cap, Content-Length"] = {[](FakeReply normal) {
        normal.body = OverCap;
        return normal;
    }, 502, "bad_response"};
    all["body over the cap, chunked"] = {[](FakeReply normal) {
        normal.body = OverCap;
        normal.chunked = true;
        return normal;
    }, 502, "bad_response"};
    all["body over the cap, to the close"] = {[](FakeReply) {
        return rawThenClose("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + OverCap);
    }, 502, "bad_response"};
    all["headers, then a trickle"] = {[](FakeReply) {
        FakeReply reply;
        reply.raw = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{";
        reply.trickleMs = 50;
        return reply;
    }, 504, "timeout"};
    all["interim responses without end"] = {[](FakeReply) {
        FakeReply reply;
        reply.raw = "HTTP/1.1 102 Processing\r\n\r\n";
        reply.trickle = reply.raw;
        reply.trickleMs = 50;
        return reply;
    }, 504, "timeout"};
    all["interim responses, a flood"] = {[](FakeReply) {
        FakeReply reply;
        reply.raw = "HTTP/1.1 102 Processing\r\n\r\n";
        reply.trickle = reply.raw.repeated(2048);
        reply.flood = true;
        return reply;
    }, 504, "timeout"};
    all["no answer at all"] = {[](FakeReply) {
        FakeReply reply;
        reply.hang = true;
        return reply;
    }, 504, "timeout"};
    all["very slow"] = {[](FakeReply normal) {
        normal.delayMs = 2 * ApiTimeoutMs;
        return normal;
    }, 504, "timeout"};
    all["a protocol switch instead of an answer"] = {[](FakeReply) {
        FakeReply reply;
        reply.raw = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n";
        return reply;
    }, 502, "bad_response"};
    all["two answers to one request"] = {[](FakeReply normal) {
        FakeReply twice = normal;
        twice.raw = "HTTP/1.1 200 OK\r\nContent-Length: " + QByteArray::number(normal.body.size()) + "\r\n\r\n"
                    + normal.body;
        twice.raw += twice.raw;
        return twice;
    }, 101, "ok"};
    all["slow, but in time"] = {[](FakeReply normal) {
        normal.delayMs = ApiTimeoutMs / 3;
        return normal;
    }, 101, "ok"};
    all["closes after every response"] = {[](FakeReply normal) {
        normal.closeAfter = true;
        return normal;
    }, 101, "ok"};
    return all;
}

// ClientIds: the API misbehaves towards these while the fault is on.
const QByteArray Victim = "victim";
const QByteArray Newcomer = "newcomer";
const QByteArray Bystander = "bystander";

// One daemon before one FakeApi, in one mode, shared by a mode's scenarios.
class Gateway
{
public:
    explicit Gateway(bool ocpp)
        : m_ocpp(ocpp)
    {
        api.setHandler([this](const RecordedRequest &r) { return reply(r); });
    }

    FakeApi api;
    DaemonProcess daemon{DaemonPath};
    quint16 port = 0;
    qint64 baselineFds = -1;
    Fault fault;  // applied while set

    bool start()
    {
        if (!api.listen())
            return false;
        QStringList arguments{u"--listen"_s, u"127.0.0.1:0"_s, u"--api"_s, api.url(u"/api"_s).toString(),
                              u"--admin"_s, u"none"_s, u"--threads"_s, u"1"_s,
                              u"--api-timeout"_s, QString::number(ApiTimeoutMs),
                              u"--max-message"_s, QString::number(MaxMessage)};
        if (m_ocpp)
            arguments += {u"--mode"_s, u"ocpp"_s};
        port = daemon.start(arguments);
        return port != 0;
    }
    bool ocpp() const { return m_ocpp; }

    // Whose request this is (the connect and disconnect bodies name it in ocpp mode).
    QByteArray clientIdOf(const RecordedRequest &r) const
    {
        if (!m_ocpp)
            return r.path.mid(5);
        if (r.path == "/api/connect" || r.path == "/api/disconnect")
            return QJsonDocument::fromJson("[" + r.body + "]").array().at(0).toString().toUtf8();
        const QList<QByteArray> parts = r.path.split('/');  // "", api, call, Action, id, MessageId
        return parts.size() == 6 ? parts[4] : QByteArray();
    }
    bool isConnect(const RecordedRequest &r) const
    {
        return m_ocpp ? r.path == "/api/connect" : r.method == "GET";
    }
    bool isMessage(const RecordedRequest &r) const
    {
        return m_ocpp ? r.path.startsWith("/api/call/") : r.method == "POST";
    }

    std::unique_ptr<QWebSocket> connectClient(const QByteArray &id)
    {
        auto socket = std::make_unique<QWebSocket>();
        QSignalSpy connected(socket.get(), &QWebSocket::connected);
        QWebSocketHandshakeOptions options;
        if (m_ocpp)
            options.setSubprotocols({u"ocpp1.6"_s});
        socket->open(QUrl(u"ws://127.0.0.1:%1/%2"_s.arg(port).arg(QString::fromLatin1(id))), options);
        if (!connected.wait(10000) && connected.isEmpty())
            return nullptr;
        return socket;
    }

    // A message of this mode (a CALL whose MessageId is `tag`), and the one frame
    // that answers it when the API does.
    QByteArray message(const QByteArray &tag) const
    {
        return m_ocpp ? R"([2,")" + tag + R"(","Heartbeat",{"tag":")" + tag + R"("}])" : tag;
    }
    QByteArray answer(const QByteArray &tag) const
    {
        return m_ocpp ? R"([3,")" + tag + R"(",{"tag":")" + tag + R"("}])" : tag;
    }

private:
    FakeReply reply(const RecordedRequest &r) const
    {
        FakeReply normal;
        if (isConnect(r)) {
            normal.body = m_ocpp ? "\"ok\"" : "ok";
        } else if (isMessage(r)) {
            normal.body = r.body;  // echo; an ocpp CALL's payload comes back as its result
        } else {
            normal.status = 204;
        }
        const QByteArray id = clientIdOf(r);
        const bool targeted = (id == Newcomer && isConnect(r)) || (id.startsWith(Victim) && isMessage(r));
        return fault && targeted ? fault(normal) : normal;
    }

    bool m_ocpp;
};

// What a client receives, in order.
struct Inbox
{
    explicit Inbox(QWebSocket *socket)
    {
        QObject::connect(socket, &QWebSocket::textMessageReceived, socket,
                         [this](const QString &text) { frames.append(text.toUtf8()); });
    }
    QList<QByteArray> frames;
};

qint64 metric(quint16 port, const QByteArray &name)
{
    return metricValue(port, name).value_or(-1);
}

QByteArray outcomeMetric(const QByteArray &outcome)
{
    return "ws2api_api_requests_total{outcome=\"" + outcome + "\"}";
}

} // namespace

class TestApiFaults : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void cleanupTestCase();
    void misbehavingApi_data();
    void misbehavingApi();
    void restartUnderTraffic_data();
    void restartUnderTraffic();

private:
    Gateway *gateway(bool ocpp);
    void checkBaseline(Gateway *g);

    std::unique_ptr<Gateway> m_gateways[2];
};

Gateway *TestApiFaults::gateway(bool ocpp)
{
    std::unique_ptr<Gateway> &g = m_gateways[ocpp];
    if (!g) {
        g = std::make_unique<Gateway>(ocpp);
        if (!g->start()) {
            qWarning("ws2apid did not start: %s", g->daemon.errorOutput().constData());
            g.reset();
            return nullptr;
        }
        g->baselineFds = metric(g->port, "process_open_fds");
    }
    return g.get();
}

void TestApiFaults::cleanupTestCase()
{
    m_gateways[0].reset();
    m_gateways[1].reset();
}

// Once the clients are gone and the API's connections closed, the daemon holds what
// it held before the scenario.
void TestApiFaults::checkBaseline(Gateway *g)
{
    QTRY_COMPARE(metric(g->port, "ws2api_connections"), 0);
    g->api.closeAllConnections();
    QTRY_COMPARE(g->api.openConnections(), 0);
    // An upper bound for a loaded box and the sanitizers' pass, not a timing check.
    QTRY_COMPARE_WITH_TIMEOUT(metric(g->port, "process_open_fds"), g->baselineFds, 30000);
    QCOMPARE(g->daemon.process().state(), QProcess::Running);
}

void TestApiFaults::misbehavingApi_data()
{
    QTest::addColumn<bool>("ocpp");
    QTest::addColumn<QByteArray>("name");
    for (const bool ocpp : {false, true}) {
        for (const auto &[name, scenario] : scenarios())
            QTest::addRow("%s: %s", ocpp ? "ocpp" : "plain", name.constData()) << ocpp << name;
    }
}

void TestApiFaults::misbehavingApi()
{
    QFETCH(bool, ocpp);
    QFETCH(QByteArray, name);
    const Scenario scenario = scenarios().at(name);
    Gateway *g = gateway(ocpp);
    QVERIFY(g);
    auto victim = g->connectClient(Victim);
    auto bystander = g->connectClient(Bystander);
    QVERIFY(victim && bystander);
    Inbox victimGot(victim.get());
    Inbox bystanderGot(bystander.get());
    const auto counted = [&] { return metric(g->port, outcomeMetric(scenario.outcome)); };
    const qint64 countedBefore = counted();

    g->fault = scenario.fault;
    HttpProbe newcomer(g->port, HttpProbe::upgrade('/' + Newcomer, ocpp ? QList<QPair<QByteArray, QByteArray>>{
                                                       {"Sec-WebSocket-Protocol", "ocpp1.6"}} : QList<QPair<QByteArray, QByteArray>>{}));
    QList<QByteArray> faultyTags;
    for (int i = 0; i < FaultyMessages; ++i) {
        faultyTags.append("faulty-" + QByteArray::number(i));
        victim->sendTextMessage(QString::fromLatin1(g->message(faultyTags.last())));
        bystander->sendTextMessage(QString::fromLatin1(g->message("by-" + QByteArray::number(i))));
    }
    // The bystander shares the worker's API pool with the victim, and is served.
    QTRY_COMPARE(bystanderGot.frames.size(), FaultyMessages);
    for (int i = 0; i < FaultyMessages; ++i)
        QCOMPARE(bystanderGot.frames.at(i), g->answer("by-" + QByteArray::number(i)));
    QTRY_VERIFY(newcomer.finished());
    QCOMPARE(newcomer.status(), scenario.connectStatus);
    // Each faulty request came to an outcome, counted as such.
    const qint64 faulty = FaultyMessages + (scenario.connectStatus == 101 ? 0 : 1);
    if (scenario.outcome != "ok")
        QTRY_COMPARE_WITH_TIMEOUT(counted() - countedBefore, faulty, 10000);

    // The API behaves again: the victim's next message goes through.
    g->fault = {};
    victim->sendTextMessage(QString::fromLatin1(g->message("after")));
    QTRY_VERIFY(victimGot.frames.contains(g->answer("after")));
    QCOMPARE(victimGot.frames.last(), g->answer("after"));
    const QList<QByteArray> during = victimGot.frames.mid(0, victimGot.frames.size() - 1);
    if (scenario.outcome == "ok") {
        // Late, or on a connection closed after it, but answered.
        QCOMPARE(during.size(), FaultyMessages);
        for (int i = 0; i < FaultyMessages; ++i)
            QCOMPARE(during.at(i), g->answer(faultyTags.at(i)));
    } else if (!ocpp) {
        // Plain: nothing is sent for a failed request; the connection stays.
        QCOMPARE(during, QList<QByteArray>());
    } else {
        // Exactly one CALLERROR InternalError for each CALL, in order.
        QCOMPARE(during.size(), FaultyMessages);
        for (int i = 0; i < FaultyMessages; ++i) {
            const QJsonArray frame = QJsonDocument::fromJson(during.at(i)).array();
            QCOMPARE(frame.size(), 5);
            QCOMPARE(frame.at(0).toInt(), 4);
            QCOMPARE(frame.at(1).toString().toLatin1(), faultyTags.at(i));
            QCOMPARE(frame.at(2).toString(), u"InternalError"_s);
        }
    }
    QCOMPARE(victim->state(), QAbstractSocket::ConnectedState);
    QCOMPARE(bystander->state(), QAbstractSocket::ConnectedState);

    victim->close();
    bystander->close();
    newcomer.socket()->abort();  // a client when it got its 101
    checkBaseline(g);
}

void TestApiFaults::restartUnderTraffic_data()
{
    QTest::addColumn<bool>("ocpp");
    QTest::addRow("plain") << false;
    QTest::addRow("ocpp") << true;
}

// The API goes down with requests in flight (and more queued behind them), and
// comes back on the same port. Every message gets its answer or is counted as
// failed (ocpp: exactly one CALLRESULT or CALLERROR per CALL); after the restart,
// everything goes through.
void TestApiFaults::restartUnderTraffic()
{
    QFETCH(bool, ocpp);
    constexpr int Clients = 8;
    constexpr int PerBatch = 20;
    constexpr int StopAfter = 30;  // requests seen by the API
    Gateway *g = gateway(ocpp);
    QVERIFY(g);
    g->fault = [](FakeReply normal) {
        normal.delayMs = 100;
        return normal;
    };
    std::vector<std::unique_ptr<QWebSocket>> clients;
    std::vector<std::unique_ptr<Inbox>> inboxes;
    for (int c = 0; c < Clients; ++c) {
        clients.push_back(g->connectClient(Victim + QByteArray::number(c)));
        QVERIFY(clients.back());
        inboxes.push_back(std::make_unique<Inbox>(clients.back().get()));
    }
    // API requests that came to an outcome, and those that were answered.
    const auto outcomes = [&](bool answeredOnly = false) {
        const QHash<QByteArray, double> samples = scrapeMetrics(g->port);
        qint64 sum = 0;
        for (const char *o : {"ok", "error_status", "timeout", "unreachable", "overloaded", "bad_response"}) {
            if (!answeredOnly || o == "ok"_ba)
                sum += qint64(samples.value(outcomeMetric(o)));
        }
        return sum;
    };
    const qint64 before = outcomes();
    const qint64 answeredBefore = outcomes(true);
    int seen = 0;
    const quint16 apiPort = g->api.port();
    QMetaObject::Connection stopper = connect(&g->api, &FakeApi::requestReceived, this, [&] {
        if (++seen == StopAfter)
            QMetaObject::invokeMethod(&g->api, [&] { g->api.stop(); }, Qt::QueuedConnection);
    });
    for (int i = 0; i < PerBatch; ++i) {
        for (int c = 0; c < Clients; ++c)
            clients[c]->sendTextMessage(QString::fromLatin1(g->message(
                "c" + QByteArray::number(c) + "-" + QByteArray::number(i))));
    }
    QTRY_VERIFY(seen >= StopAfter);
    disconnect(stopper);
    // Every request of the first batch came to an outcome.
    QTRY_COMPARE_WITH_TIMEOUT(outcomes() - before, qint64(Clients * PerBatch), 15000);
    const qint64 answered = outcomes(true) - answeredBefore;
    QVERIFY(answered > 0 && answered < Clients * PerBatch);
    g->fault = {};  // the API behaves from its restart on
    QVERIFY(g->api.listen(apiPort));
    for (int i = 0; i < PerBatch; ++i) {
        for (int c = 0; c < Clients; ++c)
            clients[c]->sendTextMessage(QString::fromLatin1(g->message(
                "again-c" + QByteArray::number(c) + "-" + QByteArray::number(i))));
    }
    qint64 echoed = 0;
    for (int c = 0; c < Clients; ++c) {
        QTRY_VERIFY_WITH_TIMEOUT(inboxes[c]->frames.contains(g->answer(
            "again-c" + QByteArray::number(c) + "-" + QByteArray::number(PerBatch - 1))), 15000);
        const QList<QByteArray> &frames = inboxes[c]->frames;
        // The second batch, whole and in order, at the end.
        QVERIFY(frames.size() >= PerBatch);
        for (int i = 0; i < PerBatch; ++i)
            QCOMPARE(frames.at(frames.size() - PerBatch + i),
                     g->answer("again-c" + QByteArray::number(c) + "-" + QByteArray::number(i)));
        const QList<QByteArray> first = frames.mid(0, frames.size() - PerBatch);
        echoed += first.size();
        if (ocpp) {
            // One answer per CALL of the first batch, in order.
            QCOMPARE(first.size(), PerBatch);
            for (int i = 0; i < PerBatch; ++i) {
                const QJsonArray frame = QJsonDocument::fromJson(first.at(i)).array();
                QCOMPARE(frame.at(1).toString().toLatin1(), "c" + QByteArray::number(c) + "-" + QByteArray::number(i));
            }
        } else {
            // Echoes of a prefix-free subset, in order.
            int at = 0;
            for (const QByteArray &frame : first) {
                while (at < PerBatch && g->answer("c" + QByteArray::number(c) + "-" + QByteArray::number(at)) != frame)
                    ++at;
                QVERIFY2(at < PerBatch, frame.constData());
                ++at;
            }
        }
    }
    // Plain: what the API answered came back, nothing else (a failure sends nothing).
    if (!ocpp)
        QCOMPARE(echoed, answered);
    for (auto &client : clients) {
        QCOMPARE(client->state(), QAbstractSocket::ConnectedState);
        client->close();
    }
    g->fault = {};
    checkBaseline(g);
}

QTEST_GUILESS_MAIN(TestApiFaults)
#include "tst_apifaults.moc"
