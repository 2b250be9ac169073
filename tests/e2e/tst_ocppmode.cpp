// OCPP mode end to end with Qt's WebSocket client: negotiation, the connect request,
// station CALLs, malformed frames, pushed CALLs and the station's answers.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTest>
#include <QWebSocket>

#include "HttpProbe.h"
#include "TestProxy.h"

using namespace ws2api;
using namespace ws2api::test;

namespace {

const QStringList V16 = {QStringLiteral("ocpp1.6")};
const QStringList V201 = {QStringLiteral("ocpp2.0.1")};
const QStringList V21 = {QStringLiteral("ocpp2.1")};

// An OCPP API: accepts every station, answers CALLs with what `onCall` returns.
struct OcppApi
{
    std::function<FakeReply(const RecordedRequest &)> onCall = [](const RecordedRequest &) {
        return FakeReply{200, "{\"status\":\"Accepted\"}", {}, false, false, false, 0};
    };

    void install(FakeApi &api)
    {
        api.setHandler([this](const RecordedRequest &r) {
            if (r.path.endsWith("/connect"))
                return FakeReply{200, "\"ok\"", {}, false, false, false, 0};
            if (r.path.contains("/call/"))
                return onCall(r);
            return FakeReply{200, {}, {}, false, false, false, 0};
        });
    }
};

QList<RecordedRequest> withPathPrefix(const FakeApi &api, const QByteArray &prefix)
{
    QList<RecordedRequest> out;
    for (const RecordedRequest &r : api.requests()) {
        if (r.path.startsWith(prefix))
            out.append(r);
    }
    return out;
}

QJsonArray frame(const QVariant &message)
{
    return QJsonDocument::fromJson(message.toString().toUtf8()).array();
}

QByteArray ocppPush(const QByteArray &target, const QByteArray &payload)
{
    return HttpProbe::request("POST", target, payload, {{"Content-Type", "application/json"}});
}

// Pushes a CALL and waits for its answer: the HTTP status, or -1 when none came.
int pushCall(quint16 port, const QByteArray &target, const QByteArray &payload = "{}")
{
    HttpProbe probe(port, ocppPush(target, payload));
    return QTest::qWaitFor([&] { return probe.finished(); }, 5000) ? probe.status() : -1;
}

QString errorCodeOf(const RecordedRequest &error)
{
    return QJsonDocument::fromJson(error.body).object().value(QStringLiteral("code")).toString();
}

} // namespace

class TestOcppMode : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<TestProxy> startProxy(OcppApi &ocpp, void (*tune)(ProxyConfig &) = nullptr)
    {
        auto t = std::make_unique<TestProxy>();
        t->config.mode = ProxyConfig::Mode::Ocpp;
        if (tune)
            tune(t->config);
        ocpp.install(t->api);
        if (!t->start())
            return nullptr;
        return t;
    }

private Q_SLOTS:
    void negotiation_data()
    {
        QTest::addColumn<QByteArray>("offered");
        QTest::addColumn<QString>("defaultProtocol");
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("chosen");
        QTest::addRow("client order wins") << QByteArray("ocpp2.0.1, ocpp1.6") << QString() << 101 << QByteArray("ocpp2.0.1");
        QTest::addRow("client order wins 2") << QByteArray("ocpp1.6,ocpp2.1") << QString() << 101 << QByteArray("ocpp1.6");
        QTest::addRow("skips unsupported") << QByteArray("ocpp1.5, ocpp2.1") << QString() << 101 << QByteArray("ocpp2.1");
        QTest::addRow("none supported") << QByteArray("ocpp1.5") << QString() << 400 << QByteArray();
        QTest::addRow("none offered") << QByteArray() << QString() << 400 << QByteArray();
        QTest::addRow("none offered, default") << QByteArray() << QStringLiteral("ocpp1.6") << 101 << QByteArray();
    }

    void negotiation()
    {
        QFETCH(QByteArray, offered);
        QFETCH(QString, defaultProtocol);
        QFETCH(int, status);
        QFETCH(QByteArray, chosen);
        TestProxy t;
        t.config.mode = ProxyConfig::Mode::Ocpp;
        t.config.defaultSubprotocol = defaultProtocol;
        OcppApi ocpp;
        ocpp.install(t.api);
        QVERIFY(t.start());
        QList<QPair<QByteArray, QByteArray>> headers;
        if (!offered.isEmpty())
            headers.append({"Sec-WebSocket-Protocol", offered});
        HttpProbe probe(t.port(), HttpProbe::upgrade("/CP1", headers));
        QTRY_VERIFY(probe.finished());
        QCOMPARE(probe.status(), status);
        QCOMPARE(probe.header("Sec-WebSocket-Protocol"), chosen);
        if (status != 101) {
            QCOMPARE(t.api.requestCount(), 0);
            return;
        }
        const RecordedRequest connect = t.api.requests().first();
        QCOMPARE(connect.header("X-OCPP-Version"),
                 chosen.isEmpty() ? defaultProtocol.toLatin1() : chosen);
    }

    void configuredSubprotocolsLimitTheChoice()
    {
        TestProxy t;
        t.config.mode = ProxyConfig::Mode::Ocpp;
        t.config.subprotocols = {QStringLiteral("ocpp1.6")};
        OcppApi ocpp;
        ocpp.install(t.api);
        QVERIFY(t.start());
        HttpProbe probe(t.port(), HttpProbe::upgrade("/CP1", {{"Sec-WebSocket-Protocol", "ocpp2.0.1"}}));
        QTRY_VERIFY(probe.finished());
        QCOMPARE(probe.status(), 400);
    }

    void connectRequestCarriesClientIdQueryAndAuth()
    {
        OcppApi ocpp;
        auto t = startProxy(ocpp);
        QVERIFY(t);
        HttpProbe probe(t->port(), HttpProbe::upgrade("/ocpp/CP%201?site=7",
            {{"Sec-WebSocket-Protocol", "ocpp1.6"}, {"Authorization", "Basic Q1AxOnB3"}}));
        QTRY_VERIFY(probe.finished());
        QCOMPARE(probe.status(), 101);
        const RecordedRequest r = t->api.requests().first();
        QCOMPARE(r.method, QByteArray("POST"));
        QCOMPARE(r.path, QByteArray("/connect"));
        QCOMPARE(r.query, QByteArray("site=7"));
        QCOMPARE(r.body, QByteArray("\"CP 1\""));
        QCOMPARE(r.header("Content-Type"), QByteArray("application/json"));
        QCOMPARE(r.header("Authorization"), QByteArray("Basic Q1AxOnB3"));
        QCOMPARE(r.header("Sec-WebSocket-Protocol"), QByteArray("ocpp1.6"));
    }

    void bareOkIsAcceptedToo()
    {
        TestProxy t;
        t.config.mode = ProxyConfig::Mode::Ocpp;
        t.api.setHandler([](const RecordedRequest &) { return FakeReply{200, "ok", {}, false, false, false, 0}; });
        QVERIFY(t.start());
        QVERIFY(t.connectClient(QStringLiteral("/CP1"), V16));
    }

    void stationCallGetsCallResultWithTheApiPayloadUntouched()
    {
        OcppApi ocpp;
        const QByteArray payload = "{\"currentTime\":\"2026-01-01T00:00:00Z\",\"interval\":300,\"big\":12345678901234567890,\"f\":1.0,\"status\":\"Accepted\"}";
        ocpp.onCall = [&](const RecordedRequest &) { return FakeReply{200, payload, {}, false, false, false, 0}; };
        auto t = startProxy(ocpp);
        QVERIFY(t);
        auto station = t->connectClient(QStringLiteral("/CP1"), V16);
        QVERIFY(station);
        QSignalSpy frames(station.get(), &QWebSocket::textMessageReceived);
        station->sendTextMessage(QStringLiteral(R"([2,"m/1 ?","BootNotification",{"chargePointVendor":"V","n":1.50}])"));
        QTRY_COMPARE(frames.size(), 1);
        QCOMPARE(frames.first().first().toString().toUtf8(), "[3,\"m/1 ?\"," + payload + "]");
        const RecordedRequest call = withPathPrefix(t->api, "/call/").first();
        QCOMPARE(call.path, QByteArray("/call/BootNotification/CP1/m%2F1%20%3F"));
        QCOMPARE(call.body, QByteArray(R"({"chargePointVendor":"V","n":1.50})"));
        QCOMPARE(call.header("Content-Type"), QByteArray("application/json"));
    }

    void apiErrorsBecomeCallErrors_data()
    {
        QTest::addColumn<QStringList>("protocol");
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<bool>("hang");
        QTest::addColumn<QString>("code");
        QTest::addColumn<QString>("description");
        const QByteArray error = R"({"code":"OccurrenceConstraintViolation","description":"no id","details":{"field":"idTag"}})";
        QTest::addRow("api error, 1.6 spelling") << V16 << 400 << error << false << "OccurenceConstraintViolation" << "no id";
        QTest::addRow("api error, 2.0.1 spelling") << V201 << 400 << error << false << "OccurrenceConstraintViolation" << "no id";
        QTest::addRow("500 not json") << V16 << 500 << QByteArray("oops") << false << "InternalError" << QString();
        QTest::addRow("2xx not an object") << V201 << 200 << QByteArray("\"fine\"") << false << "InternalError" << QString();
        QTest::addRow("2xx empty") << V201 << 200 << QByteArray() << false << "InternalError" << QString();
        QTest::addRow("timeout") << V16 << 200 << QByteArray() << true << "InternalError" << QString();
    }

    void apiErrorsBecomeCallErrors()
    {
        QFETCH(QStringList, protocol);
        QFETCH(int, status);
        QFETCH(QByteArray, body);
        QFETCH(bool, hang);
        QFETCH(QString, code);
        QFETCH(QString, description);
        OcppApi ocpp;
        ocpp.onCall = [&](const RecordedRequest &) {
            FakeReply reply{status, body, {}, false, false, false, 0};
            reply.hang = hang;
            return reply;
        };
        auto t = startProxy(ocpp, [](ProxyConfig &c) { c.apiTimeoutMs = 300; });
        QVERIFY(t);
        auto station = t->connectClient(QStringLiteral("/CP1"), protocol);
        QVERIFY(station);
        QSignalSpy frames(station.get(), &QWebSocket::textMessageReceived);
        station->sendTextMessage(QStringLiteral(R"([2,"42","Authorize",{}])"));
        QTRY_COMPARE_WITH_TIMEOUT(frames.size(), 1, 10000);
        const QJsonArray reply = frame(frames.first().first());
        QCOMPARE(reply.size(), 5);
        QCOMPARE(reply[0].toInt(), 4);
        QCOMPARE(reply[1].toString(), QStringLiteral("42"));
        QCOMPARE(reply[2].toString(), code);
        if (!description.isEmpty())
            QCOMPARE(reply[3].toString(), description);
        QVERIFY(reply[4].isObject());
        QCOMPARE(station->state(), QAbstractSocket::ConnectedState);
    }

    void malformedFramesGetTheVersionsCallError_data()
    {
        QTest::addColumn<QStringList>("protocol");
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("expected");  // empty: no answer
        QTest::addRow("1.6 not json") << V16 << "[2,\"1\"," << R"([4,"-1","FormationViolation")";
        QTest::addRow("2.0.1 not json") << V201 << "{{" << R"([4,"-1","RpcFrameworkError")";
        QTest::addRow("1.6 not array") << V16 << R"({"a":1})" << R"([4,"-1","FormationViolation")";
        QTest::addRow("1.6 call missing payload") << V16 << R"([2,"7","Heartbeat"])" << R"([4,"7","FormationViolation")";
        QTest::addRow("2.0.1 wrong field type") << V201 << R"([2,"7",5,{}])" << R"([4,"7","RpcFrameworkError")";
        QTest::addRow("2.0.1 unknown type") << V201 << R"([9,"8","X",{}])" << R"([4,"8","MessageTypeNotSupported")";
        QTest::addRow("1.6 unknown type is ignored") << V16 << R"([9,"8","X",{}])" << QString();
        QTest::addRow("2.0.1 id too long") << V201 << R"([2,"0123456789012345678901234567890123456","Heartbeat",{}])"
                                           << R"([4,"0123456789012345678901234567890123456","RpcFrameworkError")";
        QTest::addRow("2.0.1 has no SEND") << V201 << R"([6,"9","X",{}])" << R"([4,"9","MessageTypeNotSupported")";
    }

    void malformedFramesGetTheVersionsCallError()
    {
        QFETCH(QStringList, protocol);
        QFETCH(QString, text);
        QFETCH(QString, expected);
        OcppApi ocpp;
        auto t = startProxy(ocpp);
        QVERIFY(t);
        auto station = t->connectClient(QStringLiteral("/CP1"), protocol);
        QVERIFY(station);
        QSignalSpy frames(station.get(), &QWebSocket::textMessageReceived);
        station->sendTextMessage(text);
        // A well-formed CALL after it is answered: the connection stayed, and any
        // answer to the bad frame came first.
        station->sendTextMessage(QStringLiteral(R"([2,"after","Heartbeat",{}])"));
        QTRY_COMPARE(frames.size(), expected.isEmpty() ? 1 : 2);
        if (!expected.isEmpty())
            QVERIFY2(frames.first().first().toString().startsWith(expected),
                     qPrintable(frames.first().first().toString()));
        QVERIFY(frames.last().first().toString().startsWith(QStringLiteral("[3,\"after\"")));
        QCOMPARE(withPathPrefix(t->api, "/call/").size(), 1);
    }

    void pushedCallGoesOutAndItsResultReachesTheApi()
    {
        OcppApi ocpp;
        auto t = startProxy(ocpp);
        QVERIFY(t);
        auto station = t->connectClient(QStringLiteral("/CP1"), V201);
        QVERIFY(station);
        QSignalSpy frames(station.get(), &QWebSocket::textMessageReceived);
        HttpProbe push(t->pushPort(), ocppPush("/call/RequestStartTransaction/CP1/r%201", R"({"idToken":{"idToken":"A","type":"Central"},"remoteStartId":1})"));
        QTRY_VERIFY(push.finished());
        QCOMPARE(push.status(), 200);
        QTRY_COMPARE(frames.size(), 1);
        QCOMPARE(frames.first().first().toString(),
                 QStringLiteral(R"([2,"r 1","RequestStartTransaction",{"idToken":{"idToken":"A","type":"Central"},"remoteStartId":1}])"));
        station->sendTextMessage(QStringLiteral(R"([3,"r 1",{"status":"Accepted"}])"));
        QTRY_COMPARE(withPathPrefix(t->api, "/result/").size(), 1);
        const RecordedRequest result = withPathPrefix(t->api, "/result/").first();
        QCOMPARE(result.path, QByteArray("/result/RequestStartTransaction/CP1/r%201"));
        QCOMPARE(result.body, QByteArray(R"({"status":"Accepted"})"));
    }

    void stationCallErrorReachesTheApiAsError()
    {
        OcppApi ocpp;
        auto t = startProxy(ocpp);
        QVERIFY(t);
        auto station = t->connectClient(QStringLiteral("/CP1"), V16);
        QVERIFY(station);
        QSignalSpy frames(station.get(), &QWebSocket::textMessageReceived);
        HttpProbe push(t->pushPort(), ocppPush("/call/Reset/CP1/x1", R"({"type":"Hard"})"));
        QTRY_COMPARE(frames.size(), 1);
        station->sendTextMessage(QStringLiteral(R"([4,"x1","OccurrenceConstraintViolation","nope",{"a":1}])"));
        QTRY_COMPARE(withPathPrefix(t->api, "/error/").size(), 1);
        const RecordedRequest error = withPathPrefix(t->api, "/error/").first();
        QCOMPARE(error.path, QByteArray("/error/Reset/CP1/x1"));
        const QJsonObject body = QJsonDocument::fromJson(error.body).object();
        QCOMPARE(body.value(QStringLiteral("code")).toString(), QStringLiteral("OccurenceConstraintViolation"));
        QCOMPARE(body.value(QStringLiteral("description")).toString(), QStringLiteral("nope"));
        QCOMPARE(body.value(QStringLiteral("details")).toObject().value(QStringLiteral("a")).toInt(), 1);
    }

    void answersToUnknownIdsAreNotForwarded()
    {
        OcppApi ocpp;
        auto t = startProxy(ocpp);
        QVERIFY(t);
        auto station = t->connectClient(QStringLiteral("/CP1"), V16);
        QVERIFY(station);
        QSignalSpy frames(station.get(), &QWebSocket::textMessageReceived);
        station->sendTextMessage(QStringLiteral(R"([3,"never-sent",{}])"));
        station->sendTextMessage(QStringLiteral(R"([4,"never-sent","GenericError","",{}])"));
        station->sendTextMessage(QStringLiteral(R"([2,"after","Heartbeat",{}])"));
        QTRY_COMPARE(frames.size(), 1);
        QCOMPARE(withPathPrefix(t->api, "/result/").size(), 0);
        QCOMPARE(withPathPrefix(t->api, "/error/").size(), 0);
        HttpProbe metrics(t->pushPort(), HttpProbe::request("GET", "/metrics"));
        QTRY_VERIFY(metrics.finished());
        QVERIFY(metrics.body().contains("ws2api_frames_rejected_total 2\n"));
    }

    void pushChecks()
    {
        OcppApi ocpp;
        auto t = startProxy(ocpp);
        QVERIFY(t);
        auto station = t->connectClient(QStringLiteral("/CP1"), V16);
        QVERIFY(station);
        const QList<QPair<QByteArray, int>> cases = {
            {"/call/Reset/nobody/1", 404}, {"/call/Reset/CP1", 404}, {"/CP1", 404},
            {"/call//CP1/1", 404}, {"/call/Reset/CP1/" + QByteArray(37, 'x'), 400}};
        for (const auto &[target, status] : cases) {
            HttpProbe push(t->pushPort(), ocppPush(target, "{}"));
            QTRY_VERIFY(push.finished());
            QCOMPARE(push.status(), status);
        }
        HttpProbe notJson(t->pushPort(), ocppPush("/call/Reset/CP1/1", "{nope"));
        QTRY_VERIFY(notJson.finished());
        QCOMPARE(notJson.status(), 400);
    }

    void callsGoOutOneAtATimeWithABoundedQueue()
    {
        OcppApi ocpp;
        auto t = startProxy(ocpp, [](ProxyConfig &c) { c.callQueue = 1; });
        QVERIFY(t);
        auto station = t->connectClient(QStringLiteral("/CP1"), V16);
        QVERIFY(station);
        QSignalSpy frames(station.get(), &QWebSocket::textMessageReceived);
        QCOMPARE(pushCall(t->pushPort(), "/call/A/CP1/1"), 200);
        QCOMPARE(pushCall(t->pushPort(), "/call/B/CP1/2"), 200);
        QCOMPARE(pushCall(t->pushPort(), "/call/C/CP1/3"), 503);
        QTRY_COMPARE(frames.size(), 1);
        QVERIFY(frames.first().first().toString().startsWith(QStringLiteral("[2,\"1\",\"A\"")));
        station->sendTextMessage(QStringLiteral(R"([3,"1",{}])"));
        QTRY_COMPARE(frames.size(), 2);
        QVERIFY(frames.last().first().toString().startsWith(QStringLiteral("[2,\"2\",\"B\"")));
    }

    void unansweredCallTimesOutAndTheNextGoesOut()
    {
        OcppApi ocpp;
        auto t = startProxy(ocpp, [](ProxyConfig &c) { c.callTimeoutMs = 200; });
        QVERIFY(t);
        auto station = t->connectClient(QStringLiteral("/CP1"), V16);
        QVERIFY(station);
        QSignalSpy frames(station.get(), &QWebSocket::textMessageReceived);
        QCOMPARE(pushCall(t->pushPort(), "/call/A/CP1/1"), 200);
        QCOMPARE(pushCall(t->pushPort(), "/call/B/CP1/2"), 200);
        QTRY_COMPARE_WITH_TIMEOUT(withPathPrefix(t->api, "/error/").size(), 1, 10000);
        const RecordedRequest error = withPathPrefix(t->api, "/error/").first();
        QCOMPARE(error.path, QByteArray("/error/A/CP1/1"));
        QCOMPARE(errorCodeOf(error),
                 QStringLiteral("Timeout"));
        QTRY_COMPARE(frames.size(), 2);
        QVERIFY(frames.last().first().toString().startsWith(QStringLiteral("[2,\"2\",\"B\"")));
        // A late answer to the timed-out CALL is not forwarded.
        station->sendTextMessage(QStringLiteral(R"([3,"1",{}])"));
        station->sendTextMessage(QStringLiteral(R"([3,"2",{}])"));
        QTRY_COMPARE(withPathPrefix(t->api, "/result/").size(), 1);
        QCOMPARE(withPathPrefix(t->api, "/result/").first().path, QByteArray("/result/B/CP1/2"));
    }

    void disconnectFailsPendingCallsThenAnnouncesTheDisconnect()
    {
        OcppApi ocpp;
        auto t = startProxy(ocpp);
        QVERIFY(t);
        auto station = t->connectClient(QStringLiteral("/CP1"), V16);
        QVERIFY(station);
        QSignalSpy frames(station.get(), &QWebSocket::textMessageReceived);
        QCOMPARE(pushCall(t->pushPort(), "/call/A/CP1/1"), 200);
        QCOMPARE(pushCall(t->pushPort(), "/call/B/CP1/2"), 200);
        QTRY_COMPARE(frames.size(), 1);
        station->close();
        QTRY_COMPARE(withPathPrefix(t->api, "/disconnect").size(), 1);
        const auto errors = withPathPrefix(t->api, "/error/");
        QCOMPARE(errors.size(), 2);
        for (const RecordedRequest &error : errors)
            QCOMPARE(errorCodeOf(error),
                     QStringLiteral("Disconnected"));
        QCOMPARE(withPathPrefix(t->api, "/disconnect").first().body, QByteArray("\"CP1\""));
        // The disconnect notice comes after the errors.
        const auto all = t->api.requests();
        QVERIFY(all.last().path == "/disconnect");
    }

    void ocpp21SendAndCallResultError()
    {
        OcppApi ocpp;
        auto t = startProxy(ocpp);
        QVERIFY(t);
        auto station = t->connectClient(QStringLiteral("/CP1"), V21);
        QVERIFY(station);
        QSignalSpy frames(station.get(), &QWebSocket::textMessageReceived);
        station->sendTextMessage(QStringLiteral(R"([6,"s1","NotifyPeriodicEventStream",{"id":1}])"));
        station->sendTextMessage(QStringLiteral(R"([2,"c1","Heartbeat",{}])"));
        QTRY_COMPARE(frames.size(), 1);  // only the CALLRESULT; SEND gets nothing back
        QCOMPARE(withPathPrefix(t->api, "/send/").first().path, QByteArray("/send/NotifyPeriodicEventStream/CP1/s1"));
        station->sendTextMessage(QStringLiteral(R"([5,"c1","FormatViolation","bad result",{}])"));
        QTRY_COMPARE(withPathPrefix(t->api, "/error/").size(), 1);
        QCOMPARE(withPathPrefix(t->api, "/error/").first().path, QByteArray("/error/Heartbeat/CP1/c1"));
    }
};

QTEST_GUILESS_MAIN(TestOcppMode)
#include "tst_ocppmode.moc"
