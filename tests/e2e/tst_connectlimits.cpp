// --max-connections and --connect-rate end to end: the excess of a reconnect storm
// gets 503 with Retry-After before the API is asked, over TLS too; a client that
// leaves frees its slot; pushes are never counted; /metrics says why; a reload
// changes the limits of a running proxy.
#include <QSignalSpy>
#include <QSslKey>
#include <QSslSocket>
#include <QTest>
#include <QWebSocket>

#include <memory>
#include <vector>

#include "HttpProbe.h"
#include "TestPki.h"
#include "TestProxy.h"

using namespace Qt::Literals::StringLiterals;
using namespace ws2api;
using namespace ws2api::test;

namespace {

// One upgrade request from a chosen loopback source address (any of 127/8 is
// ours on Linux), plaintext or TLS; keeps the connection, so a 101 stays a client.
class Upgrade : public QObject
{
public:
    Upgrade(quint16 port, const QByteArray &clientId, const char *source = "127.0.0.1",
            const QSslConfiguration *tls = nullptr)
    {
        connect(&m_socket, &QTcpSocket::readyRead, this, [this] {
            m_raw += m_socket.readAll();
            m_headDone = m_raw.contains("\r\n\r\n");
        });
        connect(&m_socket, &QTcpSocket::disconnected, this, [this] { m_closed = true; });
        connect(&m_socket, &QTcpSocket::errorOccurred, this, [this] { m_closed = true; });
        const QByteArray request = HttpProbe::upgrade("/" + clientId);
        m_socket.bind(QHostAddress(QString::fromLatin1(source)), 0);
        if (tls) {
            m_socket.setSslConfiguration(*tls);
            connect(&m_socket, &QSslSocket::encrypted, this, [this, request] { m_socket.write(request); });
            m_socket.connectToHostEncrypted(u"127.0.0.1"_s, port);
        } else {
            connect(&m_socket, &QTcpSocket::connected, this, [this, request] { m_socket.write(request); });
            m_socket.connectToHost(QHostAddress::LocalHost, port);
        }
    }
    ~Upgrade() override
    {
        m_socket.disconnect(this);
        m_socket.abort();
    }

    bool answered() const { return m_headDone || m_closed; }
    int status() const
    {
        const QList<QByteArray> words = m_raw.left(m_raw.indexOf("\r\n")).split(' ');
        return words.size() > 1 ? words.at(1).toInt() : 0;
    }
    QByteArray header(const QByteArray &name) const
    {
        const QByteArray head = m_raw.left(m_raw.indexOf("\r\n\r\n"));
        for (const QByteArray &line : head.split('\n')) {
            const qsizetype colon = line.indexOf(':');
            if (colon > 0 && line.left(colon).trimmed().compare(name, Qt::CaseInsensitive) == 0)
                return line.mid(colon + 1).trimmed();
        }
        return {};
    }
    int retryAfter() const
    {
        bool ok = false;
        const int seconds = header("Retry-After").toInt(&ok);
        return ok ? seconds : -1;
    }

private:
    QSslSocket m_socket;
    QByteArray m_raw;
    bool m_headDone = false;
    bool m_closed = false;
};

using Upgrades = std::vector<std::unique_ptr<Upgrade>>;

// Starts `count` upgrades at once, all before any is answered.
void storm(Upgrades *out, quint16 port, int count, const char *source, const QByteArray &prefix)
{
    for (int i = 0; i < count; ++i)
        out->push_back(std::make_unique<Upgrade>(port, prefix + QByteArray::number(i), source));
}

bool allAnswered(const Upgrades &upgrades)
{
    return std::all_of(upgrades.cbegin(), upgrades.cend(), [](const auto &u) { return u->answered(); });
}

int countStatus(const Upgrades &upgrades, int status)
{
    return int(std::count_if(upgrades.cbegin(), upgrades.cend(), [status](const auto &u) { return u->status() == status; }));
}

int connectRequests(const FakeApi &api)
{
    const QList<RecordedRequest> requests = api.requests();
    return int(std::count_if(requests.cbegin(), requests.cend(), [](const RecordedRequest &r) { return r.method == "GET"; }));
}

QByteArray metrics(quint16 port)
{
    HttpProbe probe(port, HttpProbe::request("GET", "/metrics"));
    if (!QTest::qWaitFor([&] { return probe.finished(); }, 10000))
        return {};
    return probe.body();
}

QByteArray refusedLine(const char *reason, int count)
{
    return "ws2api_connections_refused_total{reason=\"" + QByteArray(reason) + "\"} " + QByteArray::number(count) + "\n";
}

// The status one more upgrade gets (its connection closed at once).
int upgradeStatus(quint16 port, const QByteArray &clientId)
{
    Upgrade upgrade(port, clientId);
    if (!QTest::qWaitFor([&] { return upgrade.answered(); }, 10000))
        return 0;
    return upgrade.status();
}

} // namespace

class TestConnectLimits : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void capRefusesBeforeTheApi();
    void aClientLeavingFreesItsSlot();
    void aRefusalByTheApiFreesItsSlot();
    void everyWayOutGivesTheSlotBack();
    void stormAgainstASlowApi();
    void perSourceRate();
    void totalRate();
    void pushesAreNotCounted();
    void refusalOverTls();
    void reconfigure();
};

void TestConnectLimits::capRefusesBeforeTheApi()
{
    TestProxy t;
    t.config.maxConnections = 2;
    QVERIFY(t.start());
    auto a = t.connectClient(u"/a"_s);
    auto b = t.connectClient(u"/b"_s);
    QVERIFY(a && b);
    Upgrade third(t.port(), "c");
    QTRY_VERIFY(third.answered());
    QCOMPARE(third.status(), 503);
    QVERIFY2(third.retryAfter() >= 10 && third.retryAfter() <= 30, third.header("Retry-After").constData());
    QCOMPARE(connectRequests(t.api), 2);
    const QByteArray text = metrics(t.pushPort());
    QVERIFY2(text.contains(refusedLine("max_connections", 1)), text.constData());
    QVERIFY(text.contains(refusedLine("rate", 0)));
    QVERIFY(text.contains("ws2api_connections_max 2\n"));
}

void TestConnectLimits::aClientLeavingFreesItsSlot()
{
    TestProxy t;
    t.config.maxConnections = 1;
    QVERIFY(t.start());
    auto a = t.connectClient(u"/a"_s);
    QVERIFY(a);
    QCOMPARE(upgradeStatus(t.port(), "b"), 503);
    a->close();
    // The slot is back once the session has ended, a moment after the close.
    int status = 0;
    QVERIFY(QTest::qWaitFor([&] { return (status = upgradeStatus(t.port(), "b")) != 503; }, 10000));
    QCOMPARE(status, 101);
    QCOMPARE(connectRequests(t.api), 2);
}

void TestConnectLimits::aRefusalByTheApiFreesItsSlot()
{
    TestProxy t;
    t.config.maxConnections = 1;
    t.api.setHandler([](const RecordedRequest &r) {
        FakeReply reply;
        reply.status = r.path.endsWith("/refused") ? 403 : 200;
        reply.body = reply.status == 200 ? "ok" : "no";
        return reply;
    });
    QVERIFY(t.start());
    QCOMPARE(upgradeStatus(t.port(), "refused"), 403);
    QCOMPARE(upgradeStatus(t.port(), "refused"), 403);
    QVERIFY(t.connectClient(u"/welcome"_s));
    QCOMPARE(connectRequests(t.api), 3);
}

// A slot that leaked would shrink the cap for good: every way a connection can end
// must give its slot back.
void TestConnectLimits::everyWayOutGivesTheSlotBack()
{
    TestProxy t;
    t.config.maxConnections = 10;
    t.api.setHandler([](const RecordedRequest &r) {
        FakeReply reply;
        reply.status = r.path.endsWith("/refused") ? 403 : 200;
        reply.body = reply.status == 200 ? "ok" : "no";
        reply.delayMs = r.method == "GET" && r.path.endsWith("/slow") ? 300 : 0;
        return reply;
    });
    QVERIFY(t.start());
    QCOMPARE(upgradeStatus(t.port(), "refused"), 403);       // refused by the API
    {
        Upgrade slow(t.port(), "slow");                       // gone while the API decides
        QTRY_COMPARE(connectRequests(t.api), 2);
    }
    auto a = t.connectClient(u"/a"_s);                        // closes cleanly
    auto b = t.connectClient(u"/b"_s);                        // drops
    auto c1 = t.connectClient(u"/c"_s);                       // replaced by c2
    QVERIFY(a && b && c1);
    auto c2 = t.connectClient(u"/c"_s);
    QVERIFY(c2);
    // a, b and c2, once the API has answered about the slow one and c1 is closed
    QTRY_VERIFY(metrics(t.pushPort()).contains("ws2api_connection_slots 3\n"));
    a->close();
    b->abort();
    c2->close();
    QTRY_VERIFY(metrics(t.pushPort()).contains("ws2api_connection_slots 0\n"));
    QTRY_VERIFY(std::any_of(t.api.requests().cbegin(), t.api.requests().cend(), [](const RecordedRequest &r) {
        return r.method == "DELETE" && r.path.endsWith("/slow");
    }));
}

// The point of the cap: however many reconnect at once, the API is never asked
// about more than the free slots. 40 at once against 5 slots and an API that takes
// its time: exactly 5 asked, 35 refused, whatever the machine's speed.
void TestConnectLimits::stormAgainstASlowApi()
{
    TestProxy t;
    t.config.maxConnections = 5;
    t.api.setHandler([](const RecordedRequest &) {
        FakeReply reply;
        reply.body = "ok";
        reply.delayMs = 300;
        return reply;
    });
    QVERIFY(t.start());
    Upgrades upgrades;
    storm(&upgrades, t.port(), 40, "127.0.0.1", "cp");
    QTRY_VERIFY_WITH_TIMEOUT(allAnswered(upgrades), 20000);
    QCOMPARE(countStatus(upgrades, 101), 5);
    QCOMPARE(countStatus(upgrades, 503), 35);
    QCOMPARE(connectRequests(t.api), 5);
    QVERIFY(metrics(t.pushPort()).contains(refusedLine("max_connections", 35)));
}

// A rate so slow that no token comes back during the test: what passes is exactly
// each source's burst.
void TestConnectLimits::perSourceRate()
{
    TestProxy t;
    t.config.connectRatePerSource = 0.001;
    t.config.connectBurstPerSource = 3;
    QVERIFY(t.start());
    Upgrades one, two;
    storm(&one, t.port(), 10, "127.0.0.1", "one");
    storm(&two, t.port(), 10, "127.0.0.2", "two");
    QTRY_VERIFY(allAnswered(one) && allAnswered(two));
    QCOMPARE(countStatus(one, 101), 3);
    QCOMPARE(countStatus(two, 101), 3);
    QCOMPARE(connectRequests(t.api), 6);
    for (const Upgrades *group : {&one, &two}) {
        for (const auto &u : *group) {
            if (u->status() == 503)
                QCOMPARE(u->retryAfter(), 60);  // 1000 s to the next token, capped
        }
    }
    QVERIFY(metrics(t.pushPort()).contains(refusedLine("source_rate", 14)));
}

void TestConnectLimits::totalRate()
{
    TestProxy t;
    t.config.connectRate = 0.001;
    t.config.connectBurst = 4;
    QVERIFY(t.start());
    Upgrades upgrades;
    storm(&upgrades, t.port(), 10, "127.0.0.1", "one");
    storm(&upgrades, t.port(), 10, "127.0.0.3", "three");
    QTRY_VERIFY(allAnswered(upgrades));
    QCOMPARE(countStatus(upgrades, 101), 4);
    QCOMPARE(countStatus(upgrades, 503), 16);
    QCOMPARE(connectRequests(t.api), 4);
    for (const auto &u : upgrades) {
        if (u->status() == 503) {
            QVERIFY(u->retryAfter() >= 1 && u->retryAfter() <= 60);
            QCOMPARE(u->header("Connection"), "close");
        }
    }
    const QByteArray text = metrics(t.pushPort());
    QVERIFY2(text.contains(refusedLine("rate", 16)), text.constData());
    QVERIFY(text.contains(refusedLine("source_rate", 0)));
}

// Pushes, /metrics and /healthz share the listener here, and none of them is a client.
void TestConnectLimits::pushesAreNotCounted()
{
    TestProxy t;
    t.config.maxConnections = 1;
    t.config.connectRate = 0.001;
    t.config.connectBurst = 1;
    QVERIFY(t.start());
    auto a = t.connectClient(u"/a"_s);
    QVERIFY(a);
    QSignalSpy received(a.get(), &QWebSocket::textMessageReceived);
    for (int i = 0; i < 20; ++i) {
        HttpProbe push(t.port(), HttpProbe::request("POST", "/a", "hello"));
        QTRY_VERIFY(push.finished());
        QCOMPARE(push.status(), 200);
        HttpProbe health(t.port(), HttpProbe::request("GET", "/healthz"));
        QTRY_VERIFY(health.finished());
        QCOMPARE(health.status(), 200);
    }
    QTRY_COMPARE(received.size(), 20);
    const QByteArray text = metrics(t.port());
    QVERIFY(text.contains(refusedLine("max_connections", 0)));
    QVERIFY(text.contains(refusedLine("rate", 0)));
}

// Over TLS the refusal is still HTTP: after the handshake, inside the session.
void TestConnectLimits::refusalOverTls()
{
    TestPki pki;
    QVERIFY(pki.make());
    TestProxy t;
    t.config.tlsChains = {{pki.certificate(u"server"_s)}};
    t.config.tlsKeys = {QSslKey(pki.read(u"server.key"_s), QSsl::Ec)};
    t.config.maxConnections = 1;
    QVERIFY(t.start());
    const QSslConfiguration tls = pki.clientTls({});
    Upgrade first(t.port(), "first", "127.0.0.1", &tls);
    QTRY_VERIFY(first.answered());
    QCOMPARE(first.status(), 101);
    Upgrade second(t.port(), "second", "127.0.0.1", &tls);
    QTRY_VERIFY(second.answered());
    QCOMPARE(second.status(), 503);
    QVERIFY(second.retryAfter() >= 10);
    QCOMPARE(connectRequests(t.api), 1);
}

// What a SIGHUP does to a running proxy: new limits for the next connections.
void TestConnectLimits::reconfigure()
{
    TestProxy t;
    t.config.maxConnections = 1;
    QVERIFY(t.start());
    auto a = t.connectClient(u"/a"_s);
    QVERIFY(a);
    QCOMPARE(upgradeStatus(t.port(), "b"), 503);

    t.config.maxConnections = 3;
    t.proxy->reconfigure(t.config);
    auto b = t.connectClient(u"/b"_s);
    QVERIFY(b);
    QVERIFY(metrics(t.pushPort()).contains("ws2api_connections_max 3\n"));

    t.config.connectRate = 0.001;  // on: a full bucket of one
    t.config.connectBurst = 1;
    t.proxy->reconfigure(t.config);
    auto c = t.connectClient(u"/c"_s);
    QVERIFY(c);
    // Held: 3 of 3 now; lowered to 2, nobody is cut off and nobody new gets in.
    t.config.maxConnections = 2;
    t.config.connectRate = 0;
    t.proxy->reconfigure(t.config);
    QCOMPARE(upgradeStatus(t.port(), "d"), 503);
    QSignalSpy stillThere(c.get(), &QWebSocket::textMessageReceived);
    c->sendTextMessage(u"echo"_s);
    QTRY_COMPARE(stillThere.size(), 1);
    const QByteArray text = metrics(t.pushPort());
    QVERIFY2(text.contains(refusedLine("max_connections", 2)), text.constData());
}

QTEST_GUILESS_MAIN(TestConnectLimits)
#include "tst_connectlimits.moc"
