// Connection churn against the real ws2apid: rounds of 800 connections,
// each reset (SO_LINGER 0, then close: an RST) or closed (FIN) at one stage of its
// life: half-way through its request head, while the API decides on it, just after
// its 101, and with messages waiting for the API. Meanwhile well-behaved clients
// talk to the API through the same daemon. Proves that every connection the API
// accepted is reported gone exactly once (X-Close-Code 1006), none it never accepted
// is, every message a client got in reaches the API before that notice, the
// well-behaved clients lose nothing, and the daemon's descriptors come back to their
// baseline and its memory stays flat from round to round (its own /metrics). In
// both modes: plain (DELETE <api>/<ClientId>) and ocpp (POST <api>/disconnect).
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QScopeGuard>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTest>
#include <QWebSocket>
#include <QWebSocketHandshakeOptions>

#include <memory>
#include <sys/socket.h>
#include <vector>

#include "DaemonProcess.h"
#include "FakeApi.h"
#include "HttpProbe.h"
#include "MetricsScrape.h"
#include "Sanitizers.h"

using namespace Qt::Literals::StringLiterals;
using namespace ws2api::test;

namespace {

const QString DaemonPath = QStringLiteral(WS2APID_PATH);

constexpr int Rounds = 3;             // the first one warms the allocator up
constexpr int ClientsPerRound = 800;
constexpr int AtOnce = 100;           // churning connections open at the same time
constexpr int GoodClients = 16;
constexpr int ApiDecisionMs = 50;     // the API's delay on a connect request while churning
constexpr int ApiMessageMs = 100;     // and on a churning client's message
// RSS may grow this much over the rounds after the first. A leak of one session
// (about 12 KiB held per client) per accepted connection would be ~6.5 MiB a round
// (550 of the 800 are accepted).
constexpr qint64 RssGrowthBound = 4 << 20;

enum class Stage { HalfHead, WhileApiDecides, After101, MessagesInFlight };
constexpr Stage Stages[] = {Stage::HalfHead, Stage::WhileApiDecides, Stage::After101, Stage::MessagesInFlight};
constexpr const char *StageNames[] = {"head", "decide", "open", "flight"};
constexpr int MessagesInFlight = 2;  // one at the API, one queued behind it

// A masked text frame (RFC 6455 5.2), payload under 126 bytes.
QByteArray textFrame(const QByteArray &payload)
{
    QByteArray out;
    out.append(char(0x81));
    out.append(char(0x80 | payload.size()));
    const char key[4] = {'\x21', '\x7e', '\x03', '\x5c'};
    out.append(key, 4);
    for (qsizetype i = 0; i < payload.size(); ++i)
        out.append(char(payload[i] ^ key[i % 4]));
    return out;
}

// What the API sees of a client, in the mode under test.
struct Wire
{
    bool ocpp = false;

    QList<QPair<QByteArray, QByteArray>> upgradeHeaders() const
    {
        if (!ocpp)
            return {};
        return {{"Sec-WebSocket-Protocol", "ocpp1.6"}};
    }
    bool isConnect(const RecordedRequest &r) const { return ocpp ? r.path == "/api/connect" : r.method == "GET"; }
    bool isMessage(const RecordedRequest &r) const
    {
        return ocpp ? r.path.startsWith("/api/call/") : r.method == "POST";
    }
    bool isNotice(const RecordedRequest &r) const { return ocpp ? r.path == "/api/disconnect" : r.method == "DELETE"; }
    // Whose request it is (ocpp: the connect and disconnect bodies name it).
    QByteArray clientIdOf(const RecordedRequest &r) const
    {
        if (!ocpp)
            return r.path.startsWith("/api/") ? QByteArray::fromPercentEncoding(r.path.mid(5)) : QByteArray();
        if (isConnect(r) || isNotice(r))
            return QJsonDocument::fromJson('[' + r.body + ']').array().at(0).toString().toUtf8();
        const QList<QByteArray> parts = r.path.split('/');  // "", api, call, Action, ClientId, MessageId
        return parts.size() == 6 ? QByteArray::fromPercentEncoding(parts[4]) : QByteArray();
    }
    // A message (ocpp: a CALL with MessageId `tag`) and what answers it when the API
    // echoes it.
    QByteArray message(const QByteArray &tag) const
    {
        return ocpp ? R"([2,")" + tag + R"(","Heartbeat",{"tag":")" + tag + R"("}])" : tag;
    }
    QByteArray answer(const QByteArray &tag) const
    {
        return ocpp ? R"([3,")" + tag + R"(",{"tag":")" + tag + R"("}])" : tag;
    }
};

// One connection that goes at its stage, with a reset or a FIN.
class ChurnClient : public QObject
{
    Q_OBJECT
public:
    ChurnClient(const Wire &wire, quint16 port, QByteArray id, Stage stage, bool reset)
        : m_wire(wire)
        , m_id(std::move(id))
        , m_stage(stage)
        , m_reset(reset)
    {
        const QByteArray head = HttpProbe::upgrade('/' + m_id, wire.upgradeHeaders());
        connect(&m_socket, &QTcpSocket::connected, this, [this, head] {
            m_socket.write(m_stage == Stage::HalfHead ? head.left(head.size() / 2) : head);
        });
        connect(&m_socket, &QTcpSocket::bytesWritten, this, [this] {
            if (m_stage == Stage::HalfHead && m_socket.bytesToWrite() == 0)
                end();
        });
        connect(&m_socket, &QTcpSocket::readyRead, this, &ChurnClient::onRead);
        connect(&m_socket, &QTcpSocket::disconnected, this, [this] { unexpected(u"closed by the daemon"_s); });
        connect(&m_socket, &QTcpSocket::errorOccurred, this, [this] { unexpected(m_socket.errorString()); });
        m_socket.connectToHost(QHostAddress::LocalHost, port);
    }

    const QByteArray &id() const { return m_id; }
    Stage stage() const { return m_stage; }
    bool done() const { return m_done; }
    QString problem() const { return m_problem; }

    // The API has seen the request this client waits for: it goes now.
    void apiSaw(const RecordedRequest &request)
    {
        if ((m_stage == Stage::WhileApiDecides && m_wire.isConnect(request))
            || (m_stage == Stage::MessagesInFlight && m_wire.isMessage(request)))
            end();
    }

Q_SIGNALS:
    void finished();

private:
    void onRead()
    {
        m_in += m_socket.readAll();
        if (m_opened || !m_in.contains("\r\n\r\n"))
            return;
        if (!m_in.startsWith("HTTP/1.1 101"))
            return unexpected(QString::fromLatin1(m_in.left(m_in.indexOf('\r'))));
        m_opened = true;
        if (m_stage == Stage::After101)
            return end();
        if (m_stage == Stage::MessagesInFlight) {
            QByteArray frames;
            for (int i = 0; i < MessagesInFlight; ++i)
                frames += textFrame(m_wire.message('m' + QByteArray::number(i)));
            m_socket.write(frames);  // one segment: the daemon reads both at once
        }
    }

    void end()
    {
        if (m_done)
            return;
        m_done = true;
        m_socket.disconnect(this);
        if (m_reset) {
            const linger hard{1, 0};
            ::setsockopt(int(m_socket.socketDescriptor()), SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
            m_socket.abort();
        } else {
            m_socket.disconnectFromHost();
        }
        Q_EMIT finished();
    }

    void unexpected(const QString &what)
    {
        if (m_done)
            return;
        m_problem = QStringLiteral("%1 at stage %2: %3")
                        .arg(QString::fromLatin1(m_id), QLatin1StringView(StageNames[int(m_stage)]), what);
        end();
    }

    const Wire &m_wire;
    QTcpSocket m_socket;
    QByteArray m_id;
    QByteArray m_in;
    Stage m_stage;
    bool m_reset;
    bool m_opened = false;
    bool m_done = false;
    QString m_problem;
};

// Clients that behave: each sends a message when the echo of its last one is back.
class GoodTraffic : public QObject
{
public:
    explicit GoodTraffic(const Wire &wire)
        : m_wire(wire)
    {
    }

    bool open(quint16 port)
    {
        QWebSocketHandshakeOptions options;
        if (m_wire.ocpp)
            options.setSubprotocols({u"ocpp1.6"_s});
        for (int i = 0; i < GoodClients; ++i) {
            auto socket = std::make_unique<QWebSocket>();
            QWebSocket *s = socket.get();
            connect(s, &QWebSocket::textMessageReceived, this, [this, i](const QString &text) { echoed(i, text); });
            connect(s, &QWebSocket::disconnected, this, [this] { ++m_disconnected; });
            QSignalSpy connected(s, &QWebSocket::connected);
            s->open(QUrl(u"ws://127.0.0.1:%1/good%2"_s.arg(port).arg(i)), options);
            if (!connected.wait(10000) && connected.isEmpty())
                return false;
            m_sockets.push_back(std::move(socket));
            m_sent.push_back(0);
        }
        return true;
    }

    void start()
    {
        m_running = true;
        for (int i = 0; i < GoodClients; ++i)
            send(i);
    }
    // Stops sending; true once every message sent has come back.
    void stop() { m_running = false; }
    bool settled() const { return m_outstanding == 0; }

    int exchanged() const { return m_exchanged; }
    int disconnected() const { return m_disconnected; }
    const QStringList &problems() const { return m_problems; }

private:
    void send(int i)
    {
        ++m_sent[i];
        ++m_outstanding;
        m_sockets[i]->sendTextMessage(QString::fromLatin1(m_wire.message(tag(i))));
    }
    QByteArray tag(int i) const { return 'g' + QByteArray::number(i) + '-' + QByteArray::number(m_sent[i]); }

    void echoed(int i, const QString &text)
    {
        --m_outstanding;
        ++m_exchanged;
        const QString expected = QString::fromLatin1(m_wire.answer(tag(i)));
        if (text != expected && m_problems.size() < 10)
            m_problems.append(u"got %1, expected %2"_s.arg(text, expected));
        if (m_running)
            send(i);
    }

    const Wire &m_wire;
    std::vector<std::unique_ptr<QWebSocket>> m_sockets;
    std::vector<int> m_sent;
    int m_outstanding = 0;
    int m_exchanged = 0;
    int m_disconnected = 0;
    bool m_running = false;
    QStringList m_problems;
};

// What the API must have heard of one churning client by the end.
struct Expected
{
    Stage stage;
    bool apiAccepts;
};

} // namespace

class TestChurn : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void init();
    void cleanup();
    void churn_data();
    void churn();
    void backWhileItsMessagesWait_data();
    void backWhileItsMessagesWait();

private:
    bool startDaemon(bool ocpp);
    FakeReply reply(const RecordedRequest &request) const;
    void runRound(int round);
    void checkNotices();
    qint64 daemonVital(const QByteArray &name);
    void quiesce();

    Wire m_wire;
    std::unique_ptr<FakeApi> m_api;
    std::unique_ptr<DaemonProcess> m_daemon;
    quint16 m_port = 0;
    QHash<QByteArray, ChurnClient *> m_waiting;  // by ClientId, until the API saw their request
    QHash<QByteArray, Expected> m_expected;       // every churning ClientId so far
};

// Connect requests are accepted, after a while for churning clients, except those
// whose ClientId ends in "-no"; messages are echoed (a churning client's later).
FakeReply TestChurn::reply(const RecordedRequest &request) const
{
    const QByteArray id = m_wire.clientIdOf(request);
    const bool churning = !id.startsWith("good");
    FakeReply reply;
    if (m_wire.isConnect(request)) {
        const bool refused = id.endsWith("-no");
        reply.status = refused ? 403 : 200;
        reply.body = refused ? "no" : m_wire.ocpp ? "\"ok\"" : "ok";
        reply.delayMs = churning ? ApiDecisionMs : 0;
    } else if (m_wire.isMessage(request)) {
        reply.body = request.body;
        reply.delayMs = churning ? ApiMessageMs : 0;
    } else {
        reply.status = 204;
    }
    return reply;
}

void TestChurn::init()
{
    m_api = std::make_unique<FakeApi>();
    m_api->setHandler([this](const RecordedRequest &request) { return reply(request); });
    connect(m_api.get(), &FakeApi::requestReceived, this, [this](const RecordedRequest &request) {
        if (ChurnClient *client = m_waiting.value(m_wire.clientIdOf(request)))
            client->apiSaw(request);
    });
    QVERIFY(m_api->listen());
}

bool TestChurn::startDaemon(bool ocpp)
{
    m_wire.ocpp = ocpp;
    QStringList arguments{u"--listen"_s, u"127.0.0.1:0"_s, u"--api"_s, m_api->url(u"/api"_s).toString(),
                          u"--admin"_s, u"none"_s, u"--threads"_s, u"2"_s, u"--api-timeout"_s, u"5000"_s};
    if (ocpp)
        arguments += {u"--mode"_s, u"ocpp"_s};
    m_daemon = std::make_unique<DaemonProcess>(DaemonPath);
    m_port = m_daemon->start(arguments);
    if (m_port == 0)
        qWarning("ws2apid did not start: %s", m_daemon->errorOutput().constData());
    return m_port != 0;
}

void TestChurn::cleanup()
{
    m_daemon.reset();
    m_api.reset();
    m_waiting.clear();
    m_expected.clear();
}

qint64 TestChurn::daemonVital(const QByteArray &name)
{
    return metricValue(m_port, name).value_or(-1);
}

// Lets the API's keep-alive connections go (the daemon keeps idle ones 4 s), once
// nothing is on its way to the API.
void TestChurn::quiesce()
{
    m_api->closeAllConnections();
    QTRY_COMPARE(m_api->openConnections(), 0);
}

void TestChurn::churn_data()
{
    QTest::addColumn<bool>("ocpp");
    QTest::addRow("plain") << false;
    QTest::addRow("ocpp") << true;
}

void TestChurn::churn()
{
    QFETCH(bool, ocpp);
    QVERIFY(startDaemon(ocpp));
    GoodTraffic good(m_wire);
    QVERIFY(good.open(m_port));
    QTRY_COMPARE(daemonVital("ws2api_connections"), qint64(GoodClients));
    quiesce();
    // The daemon's own: listeners, epoll, event fds, its stderr, the good clients, and
    // the connection that reads /metrics.
    const qint64 baselineFds = daemonVital("process_open_fds");
    QVERIFY(baselineFds > GoodClients);

    qint64 warmRss = 0;
    for (int round = 0; round < Rounds; ++round) {
        good.start();
        runRound(round);
        if (QTest::currentTestFailed())
            return;
        good.stop();
        QTRY_VERIFY(good.settled());
        checkNotices();
        if (QTest::currentTestFailed())
            return;
        quiesce();
        // Lingering closes end as their peers have gone.
        QTRY_COMPARE_WITH_TIMEOUT(daemonVital("process_open_fds"), baselineFds, 30000);
        const qint64 rss = daemonVital("process_resident_memory_bytes");
        QVERIFY(rss > 0);
        qInfo("round %d: RSS %.1f MiB, %d messages of the well-behaved clients", round, double(rss) / (1 << 20),
              good.exchanged());
        if (round == 0)
            warmRss = rss;
        else if (RssIsMeaningful)
            QVERIFY2(rss - warmRss < RssGrowthBound,
                     qPrintable(u"RSS grew by %1 KiB since the first round"_s.arg((rss - warmRss) / 1024)));
    }
    QCOMPARE(good.disconnected(), 0);
    QVERIFY2(good.problems().isEmpty(), qPrintable(good.problems().join(u"; "_s)));
    QVERIFY(good.exchanged() > 0);
    QCOMPARE(daemonVital("ws2api_connections"), qint64(GoodClients));
}

// ClientsPerRound churning connections, AtOnce at a time, the stages and the
// reset/FIN choice interleaved; returns when every one has gone.
void TestChurn::runRound(int round)
{
    QObject scope;  // queued calls into this round die with it
    std::vector<std::unique_ptr<ChurnClient>> clients;
    const auto forget = qScopeGuard([this] { m_waiting.clear(); });  // before the clients go
    int started = 0;
    int finished = 0;
    QStringList problems;
    std::function<void()> startNext = [&] {
        if (started == ClientsPerRound)
            return;
        const int i = started++;
        const Stage stage = Stages[i % 4];
        const bool reset = (i / 4) % 2 == 0;
        // A few of those the API decides on are refused by it.
        const bool refused = stage == Stage::WhileApiDecides && (i / 8) % 4 == 3;
        QByteArray id = "r" + QByteArray::number(round) + '-' + StageNames[int(stage)] + '-'
                        + QByteArray::number(i) + (reset ? "-rst" : "-fin") + (refused ? "-no" : "");
        m_expected.insert(id, Expected{stage, !refused});
        auto client = std::make_unique<ChurnClient>(m_wire, m_port, id, stage, reset);
        ChurnClient *c = client.get();
        if (stage == Stage::WhileApiDecides || stage == Stage::MessagesInFlight)
            m_waiting.insert(id, c);
        connect(c, &ChurnClient::finished, this, [&, c] {
            ++finished;
            m_waiting.remove(c->id());
            if (!c->problem().isEmpty() && problems.size() < 10)
                problems.append(c->problem());
            // Not from inside the client's own signal: it may still be on the stack.
            QMetaObject::invokeMethod(&scope, [&] { startNext(); }, Qt::QueuedConnection);
        });
        clients.push_back(std::move(client));
    };
    for (int i = 0; i < AtOnce; ++i)
        startNext();
    QTRY_COMPARE_WITH_TIMEOUT(finished, ClientsPerRound, 60000);
    QVERIFY2(problems.isEmpty(), qPrintable(problems.join(u"; "_s)));
}

// Every accepted churning client is reported gone once, after all its messages; no
// other is; none of the half heads reached the API at all.
void TestChurn::checkNotices()
{
    qsizetype wanted = 0;
    for (const Expected &e : std::as_const(m_expected))
        wanted += e.apiAccepts && e.stage != Stage::HalfHead;
    const auto notices = [this] {
        qsizetype n = 0;
        for (const RecordedRequest &r : m_api->requests())
            n += m_wire.isNotice(r) && !m_wire.clientIdOf(r).startsWith("good");
        return n;
    };
    QTRY_COMPARE_WITH_TIMEOUT(notices(), wanted, 20000);

    struct Heard
    {
        int connects = 0;
        int messages = 0;
        int notices = 0;
        int messagesAfterNotice = 0;
        QByteArray code;
        QByteArray reason;
    };
    QHash<QByteArray, Heard> heard;
    for (const RecordedRequest &r : m_api->requests()) {
        const QByteArray id = m_wire.clientIdOf(r);
        if (id.startsWith("good"))
            continue;
        Heard &h = heard[id];
        if (m_wire.isConnect(r)) {
            ++h.connects;
        } else if (m_wire.isMessage(r)) {
            ++h.messages;
            h.messagesAfterNotice += h.notices;
        } else if (m_wire.isNotice(r)) {
            ++h.notices;
            h.code = r.header("X-Close-Code");
            h.reason = QByteArray::fromPercentEncoding(r.header("X-Close-Reason"));
        }
    }
    for (auto it = m_expected.cbegin(); it != m_expected.cend(); ++it) {
        const Heard h = heard.value(it.key());
        const Stage stage = it->stage;
        const QByteArray what = it.key() + ": " + QByteArray::number(h.connects) + " connects, "
                                + QByteArray::number(h.messages) + " messages, " + QByteArray::number(h.notices)
                                + " notices, code " + h.code + " reason " + h.reason;
        QVERIFY2(h.connects == (stage == Stage::HalfHead ? 0 : 1), what.constData());
        QVERIFY2(h.notices == (it->apiAccepts && stage != Stage::HalfHead ? 1 : 0), what.constData());
        if (h.notices == 1)
            QVERIFY2(h.code == "1006", what.constData());
        if (stage == Stage::After101 || stage == Stage::MessagesInFlight)
            QVERIFY2(h.reason.isEmpty(), what.constData());
        if (stage == Stage::WhileApiDecides && h.notices == 1)
            QVERIFY2(h.reason.isEmpty() || h.reason == "left before the upgrade completed", what.constData());
        QVERIFY2(h.messages == (stage == Stage::MessagesInFlight ? MessagesInFlight : 0), what.constData());
        QVERIFY2(h.messagesAfterNotice == 0, what.constData());
    }
}

// A station drops (a reset) with messages at the API and is back at once, as after
// a network blip. The API must not be left believing it gone: what it hears last
// about the ClientId, once the new connection is open, may not be the old one's
// disconnect notice.
void TestChurn::backWhileItsMessagesWait_data()
{
    churn_data();
}

void TestChurn::backWhileItsMessagesWait()
{
    QFETCH(bool, ocpp);
    QVERIFY(startDaemon(ocpp));
    const QByteArray id = "blip";
    auto dropped = std::make_unique<ChurnClient>(m_wire, m_port, id, Stage::MessagesInFlight, true);
    m_waiting.insert(id, dropped.get());
    QSignalSpy droppedGone(dropped.get(), &ChurnClient::finished);
    QTRY_COMPARE(droppedGone.size(), 1);
    m_waiting.clear();
    QVERIFY2(dropped->problem().isEmpty(), qPrintable(dropped->problem()));

    QWebSocket back;
    QSignalSpy connected(&back, &QWebSocket::connected);
    QWebSocketHandshakeOptions options;
    if (ocpp)
        options.setSubprotocols({u"ocpp1.6"_s});
    back.open(QUrl(u"ws://127.0.0.1:%1/%2"_s.arg(m_port).arg(QString::fromLatin1(id))), options);
    QTRY_COMPARE(connected.size(), 1);
    // The old connection's messages are answered (the API holds each a while), and
    // its session ends; only then does the new one say goodbye.
    const auto heard = [&] {
        QList<RecordedRequest> about;
        for (const RecordedRequest &r : m_api->requests()) {
            if (m_wire.clientIdOf(r) == id)
                about.append(r);
        }
        return about;
    };
    const auto messages = [&] {
        const QList<RecordedRequest> about = heard();
        return std::count_if(about.cbegin(), about.cend(), [&](const RecordedRequest &r) { return m_wire.isMessage(r); });
    };
    QTRY_COMPARE(messages(), qsizetype(MessagesInFlight));
    // Both connect requests and the messages came to their outcome.
    QTRY_VERIFY(daemonVital("ws2api_api_requests_total{outcome=\"ok\"}") >= 2 + MessagesInFlight);
    back.close(QWebSocketProtocol::CloseCode(4000), u"bye"_s);
    const auto goodbyes = [&] {
        QList<QByteArray> codes;
        for (const RecordedRequest &r : heard()) {
            if (m_wire.isNotice(r))
                codes.append(r.header("X-Close-Code"));
        }
        return codes;
    };
    QTRY_VERIFY(goodbyes().contains("4000"));
    // Since the API accepted the new connection, it has heard nothing but its goodbye.
    QList<RecordedRequest> about = heard();
    qsizetype lastConnect = about.size() - 1;
    while (lastConnect >= 0 && !m_wire.isConnect(about.at(lastConnect)))
        --lastConnect;
    QList<QByteArray> noticesSince;
    for (qsizetype i = lastConnect + 1; i < about.size(); ++i) {
        if (m_wire.isNotice(about.at(i)))
            noticesSince.append(about.at(i).header("X-Close-Code"));
    }
    QCOMPARE(noticesSince, QList<QByteArray>{"4000"});
}

QTEST_GUILESS_MAIN(TestChurn)
#include "tst_churn.moc"
