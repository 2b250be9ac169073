// The admin interface end to end: a real Proxy (TestProxy), a real AdminServer on a
// unique local socket, and real QLocalSocket clients speaking the line protocol.
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLocalSocket>
#include <QRegularExpression>
#include <QScopeGuard>
#include <QSignalSpy>
#include <QTest>
#include <QUuid>
#include <QWebSocket>

#include <algorithm>
#include <cstring>
#include <grp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "AdminProtocol.h"
#include "AdminServer.h"
#include "TestProxy.h"

using namespace ws2api;
using namespace ws2api::test;
using namespace Qt::Literals::StringLiterals;
using ws2apid::AdminServer;
namespace proto = ws2api::admin;

namespace {

constexpr int WaitMs = 10000;

QString uniqueName()
{
    return u"ws2api-test-"_s + QUuid::createUuid().toString(QUuid::WithoutBraces);
}

// One admin connection: sends requests, collects every line the server writes.
class AdminLink
{
public:
    bool connectTo(const QString &name)
    {
        QObject::connect(&m_socket, &QLocalSocket::readyRead, &m_socket, [this] { read(); });
        QSignalSpy connected(&m_socket, &QLocalSocket::connected);
        m_socket.connectToServer(name);
        return m_socket.state() == QLocalSocket::ConnectedState || connected.wait(WaitMs);
    }

    qint64 send(const QString &type, const QJsonObject &body = {})
    {
        const qint64 id = m_nextId++;
        m_socket.write(proto::encodeRequest(id, type, body));
        return id;
    }

    void sendRaw(const QByteArray &bytes) { m_socket.write(bytes); }

    // The reply to `id`; nullopt when none came in time.
    std::optional<proto::Incoming> reply(qint64 id)
    {
        const auto find = [&]() -> std::optional<proto::Incoming> {
            for (const proto::Incoming &in : m_received) {
                if (in.id == id)
                    return in;
            }
            return std::nullopt;
        };
        (void)QTest::qWaitFor([&] { return find().has_value(); }, WaitMs);  // a timeout shows as nullopt below
        return find();
    }

    std::optional<proto::Incoming> call(const QString &type, const QJsonObject &body = {})
    {
        return reply(send(type, body));
    }

    // Replies to requests whose id could not be read, in order.
    QList<proto::Incoming> idlessReplies() const
    {
        QList<proto::Incoming> out;
        for (const proto::Incoming &in : m_received) {
            if (!in.id && in.type.isEmpty())
                out.append(in);
        }
        return out;
    }

    QList<proto::Incoming> events() const
    {
        QList<proto::Incoming> out;
        for (const proto::Incoming &in : m_received) {
            if (!in.id && !in.type.isEmpty())
                out.append(in);
        }
        return out;
    }

    // What a stats reply says about the connections; -1 without a reply.
    qint64 connections()
    {
        const auto stats = call(u"stats"_s);
        return stats && stats->ok ? stats->body.value(u"connections"_s).toInteger(-1) : -1;
    }

    QStringList badLines() const { return m_badLines; }
    QLocalSocket &socket() { return m_socket; }

private:
    void read()
    {
        m_reader.feed(m_socket.readAll());
        QByteArray line;
        for (;;) {
            const auto status = m_reader.next(&line);
            if (status == proto::LineReader::Status::Incomplete)
                return;
            QString error;
            const auto in = status == proto::LineReader::Status::Line ? proto::parseIncoming(line, &error)
                                                                      : std::nullopt;
            if (in)
                m_received.append(*in);
            else
                m_badLines.append(error.isEmpty() ? u"too long"_s : error);
        }
    }

    QLocalSocket m_socket;
    proto::LineReader m_reader;
    QList<proto::Incoming> m_received;
    QStringList m_badLines;
    qint64 m_nextId = 1;
};

// A proxy, its admin server and one admin connection.
struct Fixture
{
    TestProxy t;
    std::unique_ptr<AdminServer> admin;
    AdminLink link;

    bool start()
    {
        if (!t.start())
            return false;
        admin = std::make_unique<AdminServer>(t.proxy.get(), t.config, u"9.9.9-test"_s);
        QString error;
        if (!admin->listen(uniqueName(), {}, &error)) {
            qWarning("admin server did not listen: %s", qPrintable(error));
            return false;
        }
        return link.connectTo(admin->fullServerName());
    }
};

// Opens a client per id, a batch at a time so that the handshakes do not time out;
// *opened counts those that connected.
std::vector<std::unique_ptr<QWebSocket>> openClients(TestProxy &t, const QStringList &ids, int *opened)
{
    constexpr qsizetype Batch = 200;
    std::vector<std::unique_ptr<QWebSocket>> clients;
    for (qsizetype batch = 0; batch < ids.size(); batch += Batch) {
        for (qsizetype i = batch; i < qMin(batch + Batch, ids.size()); ++i) {
            clients.push_back(std::make_unique<QWebSocket>());
            QObject::connect(clients.back().get(), &QWebSocket::connected, [opened] { ++*opened; });
            clients.back()->open(t.wsUrl(u'/' + ids.at(i)));
        }
        if (!QTest::qWaitFor([&] { return *opened == qsizetype(clients.size()); }, 30000))
            break;
    }
    return clients;
}

} // namespace

// Each evaluates `expression` (a request) once.
#define VERIFY_ERROR(expression, code)                                                             \
    do {                                                                                           \
        const std::optional<proto::Incoming> reply_ = (expression);                               \
        QVERIFY(reply_);                                                                           \
        QVERIFY2(!reply_->ok, "expected an error reply");                                          \
        QCOMPARE(reply_->errorCode, QStringLiteral(code));                                         \
        QVERIFY(!reply_->errorMessage.isEmpty());                                                  \
    } while (false)

#define VERIFY_OK(expression)                                                                      \
    do {                                                                                           \
        const std::optional<proto::Incoming> reply_ = (expression);                               \
        QVERIFY(reply_);                                                                           \
        QVERIFY2(reply_->ok, qPrintable(reply_->errorCode + u": "_s + reply_->errorMessage));      \
    } while (false)

class TestAdminServer : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        // 2,000 clients are 4,000+ sockets in this one process.
        rlimit limit = {};
        QCOMPARE(::getrlimit(RLIMIT_NOFILE, &limit), 0);
        limit.rlim_cur = limit.rlim_max;
        QCOMPARE(::setrlimit(RLIMIT_NOFILE, &limit), 0);
    }

    void helloDescribesTheDaemon()
    {
        Fixture f;
        QVERIFY(f.start());
        const auto hello = f.link.call(u"hello"_s, {{u"version"_s, 1}});
        VERIFY_OK(hello);
        QCOMPARE(hello->body.value(u"version"_s).toInt(), 1);
        QCOMPARE(hello->body.value(u"daemonVersion"_s).toString(), u"9.9.9-test"_s);
        QCOMPARE(hello->body.value(u"mode"_s).toString(), u"plain"_s);
        QCOMPARE(hello->body.value(u"listen"_s).toString(), u"127.0.0.1:%1"_s.arg(f.t.port()));
        QVERIFY(hello->body.value(u"uptimeS"_s).isDouble());
        QVERIFY(hello->body.value(u"uptimeS"_s).toInteger() >= 0);
        VERIFY_ERROR(f.link.call(u"hello"_s, {{u"version"_s, 2}}), "unsupported_version");
        VERIFY_ERROR(f.link.call(u"hello"_s), "unsupported_version");
        QVERIFY(f.link.badLines().isEmpty());
    }

    void statsCountTheTraffic()
    {
        Fixture f;
        QVERIFY(f.start());
        auto client = f.t.connectClient(u"/CP1"_s);
        QVERIFY(client);
        QSignalSpy echoed(client.get(), &QWebSocket::textMessageReceived);
        client->sendTextMessage(u"one"_s);
        QTRY_COMPARE(echoed.size(), 1);
        const auto stats = f.link.call(u"stats"_s);
        VERIFY_OK(stats);
        for (const char *key : {"connections", "messagesIn", "messagesOut", "messagesInPerS", "messagesOutPerS",
                                "apiErrors", "apiLatencyP50Ms", "apiLatencyP99Ms", "pushes"})
            QVERIFY2(stats->body.value(QLatin1StringView(key)).isDouble(), key);
        QCOMPARE(stats->body.value(u"connections"_s).toInteger(), 1);
        QCOMPARE(stats->body.value(u"messagesIn"_s).toInteger(), 1);
        QCOMPARE(stats->body.value(u"messagesOut"_s).toInteger(), 1);
        QCOMPARE(stats->body.value(u"apiErrors"_s).toInteger(), 0);
        QCOMPARE(stats->body.value(u"pushes"_s).toInteger(), 0);
    }

    void connectionsArePagedFilteredAndCapped()
    {
        Fixture f;
        QVERIFY(f.start());
        constexpr int Clients = 2000;
        // Pages come in natural order: cp-2 before cp-10 (byte order would not).
        const auto idOf = [](int i) { return u"cp-%1"_s.arg(i); };
        QStringList ids;
        for (int i = 0; i < Clients; ++i)
            ids.append(idOf(i));
        int opened = 0;
        const auto clients = openClients(f.t, ids, &opened);
        QCOMPARE(opened, Clients);
        QTRY_COMPARE_WITH_TIMEOUT(f.link.connections(), Clients, 30000);

        const auto page = [&](const QJsonObject &body) { return f.link.call(u"connections"_s, body); };
        for (int offset : {0, 1000}) {
            const auto reply = page({{u"offset"_s, offset}, {u"limit"_s, 1000}, {u"sort"_s, u"clientId"_s}});
            VERIFY_OK(reply);
            QCOMPARE(reply->body.value(u"total"_s).toInteger(), Clients);
            const QJsonArray items = reply->body.value(u"items"_s).toArray();
            QCOMPARE(items.size(), 1000);
            for (int i = 0; i < items.size(); ++i)
                QCOMPARE(items.at(i)[u"clientId"_s].toString(), idOf(offset + i));
        }
        const auto beyond = page({{u"offset"_s, Clients}, {u"limit"_s, 1000}});
        VERIFY_OK(beyond);
        QCOMPARE(beyond->body.value(u"total"_s).toInteger(), Clients);
        QVERIFY(beyond->body.value(u"items"_s).toArray().isEmpty());
        const auto byDefault = page({});
        VERIFY_OK(byDefault);
        QCOMPARE(byDefault->body.value(u"items"_s).toArray().size(), AdminServer::DefaultPageSize);

        int matching = 0;
        for (int i = 0; i < Clients; ++i)
            matching += idOf(i).contains(u"99"_s) ? 1 : 0;
        const auto filtered = page({{u"filter"_s, u"99"_s}, {u"limit"_s, 1000}});
        VERIFY_OK(filtered);
        QCOMPARE(filtered->body.value(u"total"_s).toInteger(), matching);
        const QJsonArray items = filtered->body.value(u"items"_s).toArray();
        QCOMPARE(items.size(), matching);
        for (const QJsonValue &item : items)
            QVERIFY(item[u"clientId"_s].toString().contains(u"99"_s));

        const QJsonObject first = items.first().toObject();
        QVERIFY(first.value(u"remote"_s).toString().startsWith(u"127.0.0.1:"_s));
        QCOMPARE(first.value(u"protocol"_s).toString(), QString());
        QCOMPARE(first.value(u"messagesIn"_s).toInteger(), 0);
        QCOMPARE(first.value(u"messagesOut"_s).toInteger(), 0);
        for (const char *key : {"connectedAt", "lastActivity"}) {
            const QDateTime at = QDateTime::fromString(first.value(QLatin1StringView(key)).toString(), Qt::ISODateWithMs);
            QVERIFY2(at.isValid() && at.timeSpec() == Qt::UTC, key);
            QVERIFY(at <= QDateTime::currentDateTimeUtc());
        }

        VERIFY_ERROR(page({{u"limit"_s, 1001}}), "bad_request");
        VERIFY_ERROR(page({{u"offset"_s, -1}}), "bad_request");
        VERIFY_ERROR(page({{u"filter"_s, 5}}), "bad_request");
        VERIFY_ERROR(page({{u"sort"_s, u"remote"_s}}), "bad_request");
    }

    void pushReachesAPlainClient()
    {
        Fixture f;
        QVERIFY(f.start());
        auto client = f.t.connectClient(u"/CP1"_s);
        QVERIFY(client);
        QSignalSpy texts(client.get(), &QWebSocket::textMessageReceived);
        QSignalSpy binaries(client.get(), &QWebSocket::binaryMessageReceived);

        const auto text = f.link.call(u"push"_s, {{u"clientId"_s, u"CP1"_s}, {u"message"_s, u"héllo"_s}});
        VERIFY_OK(text);
        QCOMPARE(text->body.value(u"status"_s).toInt(), 200);
        QVERIFY(text->body.value(u"message"_s).isString());
        QTRY_COMPARE(texts.size(), 1);
        QCOMPARE(texts.first().first().toString(), u"héllo"_s);

        const auto binary = f.link.call(u"push"_s, {{u"clientId"_s, u"CP1"_s}, {u"message"_s, u"bytes"_s},
                                                    {u"binary"_s, true}});
        VERIFY_OK(binary);
        QTRY_COMPARE(binaries.size(), 1);
        QCOMPARE(binaries.first().first().toByteArray(), "bytes"_ba);

        VERIFY_ERROR(f.link.call(u"push"_s, {{u"clientId"_s, u"nobody"_s}, {u"message"_s, u"x"_s}}),
                     "unknown_client");
        VERIFY_ERROR(f.link.call(u"push"_s, {{u"clientId"_s, u"CP1"_s}}), "bad_request");
        VERIFY_ERROR(f.link.call(u"push"_s, {{u"message"_s, u"x"_s}}), "bad_request");
        VERIFY_ERROR(f.link.call(u"push"_s, {{u"clientId"_s, u"CP1"_s}, {u"message"_s, u"x"_s}, {u"binary"_s, 1}}),
                     "bad_request");
        QCOMPARE(texts.size(), 1);

        // Pushes made here count like those from the push listener: two delivered, one
        // to an unknown client (the malformed ones never reached the proxy).
        const auto stats = f.link.call(u"stats"_s);
        VERIFY_OK(stats);
        QCOMPARE(stats->body.value(u"pushes"_s).toInteger(), 3);
    }

    void pushSendsAnOcppCall()
    {
        Fixture f;
        f.t.config.mode = ProxyConfig::Mode::Ocpp;
        f.t.api.setHandler([](const RecordedRequest &r) {
            if (r.path.endsWith("/connect"))
                return FakeReply{200, "\"ok\"", {}, false, false, false, 0};
            return FakeReply{200, {}, {}, false, false, false, 0};
        });
        QVERIFY(f.start());
        QCOMPARE(f.link.call(u"hello"_s, {{u"version"_s, 1}})->body.value(u"mode"_s).toString(), u"ocpp"_s);
        auto station = f.t.connectClient(u"/CP1"_s, {u"ocpp1.6"_s});
        QVERIFY(station);
        QCOMPARE(station->subprotocol(), u"ocpp1.6"_s);
        QList<QJsonArray> calls;
        connect(station.get(), &QWebSocket::textMessageReceived, station.get(), [&](const QString &message) {
            const QJsonArray call = QJsonDocument::fromJson(message.toUtf8()).array();
            calls.append(call);
            const QJsonArray result{3, call.at(1), QJsonObject{{u"status"_s, u"Accepted"_s}}};
            station->sendTextMessage(QString::fromUtf8(QJsonDocument(result).toJson(QJsonDocument::Compact)));
        });

        const qint64 id = f.link.send(u"push"_s, {{u"clientId"_s, u"CP1"_s}, {u"action"_s, u"Reset"_s},
                                                  {u"payload"_s, QJsonObject{{u"type"_s, u"Hard"_s}}},
                                                  {u"messageId"_s, u"m-1"_s}});
        QTRY_COMPARE(calls.size(), 1);
        QCOMPARE(calls.first(), (QJsonArray{2, u"m-1"_s, u"Reset"_s, QJsonObject{{u"type"_s, u"Hard"_s}}}));
        const auto reply = f.link.reply(id);
        VERIFY_OK(reply);
        QCOMPARE(reply->body.value(u"status"_s).toInt(), 200);
        QCOMPARE(reply->body.value(u"messageId"_s).toString(), u"m-1"_s);

        const auto asText = f.link.call(u"push"_s, {{u"clientId"_s, u"CP1"_s}, {u"action"_s, u"Reset"_s},
                                                    {u"payload"_s, u"{\"type\":\"Soft\"}"_s}});
        VERIFY_OK(asText);
        QCOMPARE(calls.size(), 2);
        QCOMPARE(calls.last().at(2).toString(), u"Reset"_s);
        QVERIFY(!calls.last().at(1).toString().isEmpty());  // a generated message id, named in the reply
        QCOMPARE(asText->body.value(u"messageId"_s).toString(), calls.last().at(1).toString());
        QCOMPARE(calls.last().at(3).toObject(), (QJsonObject{{u"type"_s, u"Soft"_s}}));

        VERIFY_ERROR(f.link.call(u"push"_s, {{u"clientId"_s, u"CP9"_s}, {u"action"_s, u"Reset"_s},
                                             {u"payload"_s, QJsonObject{}}}), "unknown_client");
        VERIFY_ERROR(f.link.call(u"push"_s, {{u"clientId"_s, u"CP1"_s}, {u"message"_s, u"x"_s}}), "bad_request");
        VERIFY_ERROR(f.link.call(u"push"_s, {{u"clientId"_s, u"CP1"_s}, {u"action"_s, u"Reset"_s},
                                             {u"payload"_s, 5}}), "bad_request");
        // The mode's own push checks, shared with the push listener, answer 400.
        VERIFY_ERROR(f.link.call(u"push"_s, {{u"clientId"_s, u"CP1"_s}, {u"action"_s, u"Reset"_s},
                                             {u"payload"_s, u"[1,2]"_s}}), "push_failed");
        VERIFY_ERROR(f.link.call(u"push"_s, {{u"clientId"_s, u"CP1"_s}, {u"action"_s, u"Reset"_s},
                                             {u"messageId"_s, QString(37, u'x')}, {u"payload"_s, QJsonObject{}}}),
                     "push_failed");
        QCOMPARE(calls.size(), 2);
    }

    void disconnectClosesTheClientWithTheCode()
    {
        Fixture f;
        QVERIFY(f.start());
        auto client = f.t.connectClient(u"/CP1"_s);
        QVERIFY(client);
        QSignalSpy closed(client.get(), &QWebSocket::disconnected);
        VERIFY_ERROR(f.link.call(u"disconnect"_s, {{u"clientId"_s, u"CP1"_s}, {u"code"_s, 1005}}), "bad_request");
        VERIFY_ERROR(f.link.call(u"disconnect"_s, {{u"clientId"_s, u"CP1"_s}, {u"reason"_s, QString(124, u'r')}}),
                     "bad_request");
        VERIFY_OK(f.link.call(u"disconnect"_s, {{u"clientId"_s, u"CP1"_s}, {u"code"_s, 4001}, {u"reason"_s, u"bye"_s}}));
        QTRY_COMPARE(closed.size(), 1);
        QCOMPARE(int(client->closeCode()), 4001);
        QCOMPARE(client->closeReason(), u"bye"_s);
        QTRY_COMPARE(f.link.connections(), 0);
        VERIFY_ERROR(f.link.call(u"disconnect"_s, {{u"clientId"_s, u"CP1"_s}}), "unknown_client");

        auto second = f.t.connectClient(u"/CP2"_s);
        QVERIFY(second);
        QSignalSpy secondClosed(second.get(), &QWebSocket::disconnected);
        VERIFY_OK(f.link.call(u"disconnect"_s, {{u"clientId"_s, u"CP2"_s}}));
        QTRY_COMPARE(secondClosed.size(), 1);
        QCOMPARE(int(second->closeCode()), 1000);
    }

    // An operator's push or disconnect is an info line naming the local user behind
    // the admin connection, so "who dropped CP9?" has an answer in the journal.
    void adminActionsAreLoggedWithTheUser()
    {
        const QString who = uR"(admin connection #\d+ \(\S+ \(uid %1\)\))"_s.arg(::getuid());
        QTest::ignoreMessage(QtInfoMsg, QRegularExpression(u"^%1 opened$"_s.arg(who)));
        Fixture f;
        QVERIFY(f.start());
        auto client = f.t.connectClient(u"/CP9"_s);
        QVERIFY(client);
        QTest::ignoreMessage(QtInfoMsg, QRegularExpression(u"^%1 pushed to \"CP9\": status 200$"_s.arg(who)));
        VERIFY_OK(f.link.call(u"push"_s, {{u"clientId"_s, u"CP9"_s}, {u"message"_s, u"hi"_s}}));
        QTest::ignoreMessage(QtInfoMsg, QRegularExpression(
            u"^%1 disconnected \"CP9\" with code 4002 reason \"maintenance\"$"_s.arg(who)));
        VERIFY_OK(f.link.call(u"disconnect"_s, {{u"clientId"_s, u"CP9"_s}, {u"code"_s, 4002},
                                                {u"reason"_s, u"maintenance"_s}}));
        QTest::ignoreMessage(QtInfoMsg, QRegularExpression(
            u"^%1 disconnected \"CP9\" with code 1000 reason \"\" \\(not connected\\)$"_s.arg(who)));
        QTRY_COMPARE(f.link.connections(), 0);
        VERIFY_ERROR(f.link.call(u"disconnect"_s, {{u"clientId"_s, u"CP9"_s}}), "unknown_client");
    }

    void subscribersGetStatsEventsUntilTheyUnsubscribe()
    {
        Fixture f;
        QVERIFY(f.start());
        AdminLink other;
        QVERIFY(other.connectTo(f.admin->fullServerName()));
        VERIFY_ERROR(f.link.call(u"subscribe"_s, {{u"intervalMs"_s, 99}}), "bad_request");
        const auto subscribed = f.link.call(u"subscribe"_s, {{u"intervalMs"_s, 100}});
        VERIFY_OK(subscribed);
        QCOMPARE(subscribed->body.value(u"intervalMs"_s).toInt(), 100);
        QCOMPARE(f.admin->subscriberCount(), 1);
        QTRY_VERIFY(f.link.events().size() >= 2);
        for (const proto::Incoming &event : f.link.events()) {
            QCOMPARE(event.type, u"stats"_s);
            QVERIFY(event.body.value(u"messagesInPerS"_s).isDouble());
        }

        // Traffic shows up in the totals, then in the rate at the next sample.
        auto client = f.t.connectClient(u"/CP1"_s);
        QVERIFY(client);
        client->sendTextMessage(u"one"_s);
        client->sendTextMessage(u"two"_s);
        const auto sawRate = [&] {
            const QList<proto::Incoming> events = f.link.events();
            return std::any_of(events.begin(), events.end(), [](const proto::Incoming &e) {
                return e.body.value(u"messagesIn"_s).toInteger() == 2 && e.body.value(u"messagesInPerS"_s).toDouble() > 0;
            });
        };
        QTRY_VERIFY(sawRate());

        VERIFY_OK(f.link.call(u"unsubscribe"_s));
        QCOMPARE(f.admin->subscriberCount(), 0);
        const qsizetype events = f.link.events().size();
        VERIFY_OK(f.link.call(u"stats"_s));
        QCOMPARE(f.link.events().size(), events);
        VERIFY_OK(other.call(u"stats"_s));
        QVERIFY(other.events().isEmpty());  // subscriptions are per connection
    }

    void malformedLinesGetErrorsAndTheConnectionStays()
    {
        Fixture f;
        QVERIFY(f.start());
        f.link.sendRaw("not json\n[1,2]\n{\"id\":\"x\",\"type\":\"hello\"}\n\n");
        QTRY_COMPARE(f.link.idlessReplies().size(), 4);
        for (const proto::Incoming &reply : f.link.idlessReplies())
            QCOMPARE(reply.errorCode, u"bad_request"_s);
        QCOMPARE(f.link.idlessReplies().at(0).errorMessage, u"not JSON"_s);
        QCOMPARE(f.link.idlessReplies().at(1).errorMessage, u"not an object"_s);
        QCOMPARE(f.link.idlessReplies().at(2).errorMessage, u"id is not an integer"_s);

        f.link.sendRaw(R"({"id":41,"type":"hello","body":[]})" "\n");
        VERIFY_ERROR(f.link.reply(41), "bad_request");
        f.link.sendRaw(R"({"id":42})" "\n");
        VERIFY_ERROR(f.link.reply(42), "bad_request");
        VERIFY_ERROR(f.link.call(u"reboot"_s), "unknown_type");

        // A 2 MiB line, then a good one: one line_too_long, then the answer.
        f.link.sendRaw(QByteArray(2 * proto::MaxLineBytes, 'x') + '\n');
        VERIFY_OK(f.link.call(u"hello"_s, {{u"version"_s, 1}}));
        QCOMPARE(f.link.idlessReplies().size(), 5);
        QCOMPARE(f.link.idlessReplies().last().errorCode, u"line_too_long"_s);
        QCOMPARE(f.admin->connectionCount(), 1);
        QVERIFY(f.link.badLines().isEmpty());
    }

    void anAdminConnectionThatDoesNotReadIsDroppedAlone()
    {
        Fixture f;
        QVERIFY(f.start());
        QLocalSocket silent;
        silent.setReadBufferSize(1024);  // so that Qt stops reading: the kernel buffers fill
        silent.connectToServer(f.admin->fullServerName());
        QTRY_COMPARE(f.admin->connectionCount(), 2);
        // Stats answers are ~300 bytes: enough requests to queue past the cap.
        const QByteArray request = proto::encodeRequest(1, u"stats"_s);
        const qint64 count = 2 * AdminServer::MaxBufferedBytes / 250;
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(u"does not read its answers"_s));
        silent.write(request.repeated(count));
        QTRY_COMPARE_WITH_TIMEOUT(f.admin->connectionCount(), 1, 30000);
        VERIFY_OK(f.link.call(u"hello"_s, {{u"version"_s, 1}}));
    }

    // As `echo '{...}' | socat - UNIX-CONNECT:PATH` does: requests, then EOF at once.
    void answersReachAPeerThatClosedItsSendingSide()
    {
        Fixture f;
        QVERIFY(f.start());
        sockaddr_un address = {};
        address.sun_family = AF_UNIX;
        const QByteArray path = QFile::encodeName(f.admin->fullServerName());
        std::memcpy(address.sun_path, path.constData(), size_t(path.size()));
        const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        QVERIFY(fd >= 0);
        const auto closeFd = qScopeGuard([fd] { ::close(fd); });
        QCOMPARE(::connect(fd, reinterpret_cast<const sockaddr *>(&address), sizeof address), 0);
        const QByteArray requests = proto::encodeRequest(1, u"hello"_s, {{u"version"_s, 1}})
                                    + proto::encodeRequest(2, u"stats"_s);
        QCOMPARE(::write(fd, requests.constData(), size_t(requests.size())), requests.size());
        QCOMPARE(::shutdown(fd, SHUT_WR), 0);
        // Non-blocking reads while the event loop runs the server, until its EOF.
        QByteArray answers;
        const auto readToEnd = [&] {
            char buffer[4096];
            ssize_t n;
            while ((n = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT)) > 0)
                answers.append(buffer, n);
            return n == 0;
        };
        QTRY_VERIFY(readToEnd());
        QCOMPARE(f.admin->connectionCount(), 1);  // f.link only
        const QList<QByteArray> lines = answers.split('\n');
        QCOMPARE(lines.size(), 3);  // two answers and the empty rest after the last '\n'
        QString error;
        QCOMPARE(proto::parseIncoming(lines.at(0), &error)->id, 1);
        QCOMPARE(proto::parseIncoming(lines.at(1), &error)->id, 2);
    }

    void socketIsOwnerOnlyAndReplacesAStaleOne()
    {
        TestProxy t;
        QVERIFY(t.start());
        const QString name = uniqueName();
        const QString path = QDir::tempPath() + u'/' + name;
        {
            QFile stale(path);  // what a crashed daemon leaves behind
            QVERIFY(stale.open(QIODevice::WriteOnly));
        }
        AdminServer admin(t.proxy.get(), t.config, u"x"_s);
        QString error;
        QVERIFY2(admin.listen(name, {}, &error), qPrintable(error));
        QCOMPARE(QFileInfo(admin.fullServerName()).canonicalFilePath(), QFileInfo(path).canonicalFilePath());
        const QFileDevice::Permissions permissions = QFileInfo(path).permissions();
        QVERIFY(permissions & QFileDevice::ReadOwner);
        QVERIFY(permissions & QFileDevice::WriteOwner);
        QCOMPARE(permissions & (QFileDevice::ReadGroup | QFileDevice::WriteGroup | QFileDevice::ExeGroup
                                | QFileDevice::ReadOther | QFileDevice::WriteOther | QFileDevice::ExeOther),
                 QFileDevice::Permissions());
        AdminLink link;
        QVERIFY(link.connectTo(name));
        VERIFY_OK(link.call(u"hello"_s, {{u"version"_s, 1}}));

        // A live socket is not taken over.
        AdminServer second(t.proxy.get(), t.config, u"x"_s);
        QVERIFY(!second.listen(name, {}, &error));
        QVERIFY2(error.contains(u"in use"_s), qPrintable(error));
        VERIFY_OK(link.call(u"stats"_s));
    }

    void groupAccess()
    {
        TestProxy t;
        QVERIFY(t.start());
        const struct group *own = ::getgrgid(::getegid());
        QVERIFY(own);
        AdminServer admin(t.proxy.get(), t.config, u"x"_s);
        QString error;
        QVERIFY2(admin.listen(uniqueName(), QString::fromLocal8Bit(own->gr_name), &error), qPrintable(error));
        const QFileInfo info(admin.fullServerName());
        QCOMPARE(info.groupId(), uint(::getegid()));
        QVERIFY(info.permissions() & QFileDevice::ReadGroup);
        QVERIFY(info.permissions() & QFileDevice::WriteGroup);
        QVERIFY(!(info.permissions() & (QFileDevice::ReadOther | QFileDevice::WriteOther)));

        AdminServer unknown(t.proxy.get(), t.config, u"x"_s);
        const QString name = uniqueName();
        QVERIFY(!unknown.listen(name, u"no-such-group-ws2api"_s, &error));
        QVERIFY2(error.contains(u"unknown group"_s), qPrintable(error));
        QVERIFY(!QFileInfo::exists(QDir::tempPath() + u'/' + name));
    }
};

QTEST_GUILESS_MAIN(TestAdminServer)
#include "tst_adminserver.moc"
