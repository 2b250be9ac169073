// The OCPP per-station state machine (OcppSession) over a fake SessionHost: no socket,
// no worker, no event loop. What a station's frames, pushes, the API's answers, the
// call timer and the station going become, frame by frame and request by request.
// tests/e2e/tst_ocppmode.cpp checks the same behaviour through real sockets.
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include "FakeSessionHost.h"
#include "modes/OcppMode.h"
#include "modes/OcppSession.h"
#include "ws2api/ProxyConfig.h"

Q_DECLARE_METATYPE(ws2api::ApiResponse)

using namespace ws2api;
using ws2api::test::FakeSessionHost;

namespace {

const QString V16 = QStringLiteral("ocpp1.6");
const QString V201 = QStringLiteral("ocpp2.0.1");
const QString V21 = QStringLiteral("ocpp2.1");

ApiResponse answer(int status, QByteArray body = {})
{
    ApiResponse response;
    response.outcome = ApiResponse::Outcome::Ok;
    response.status = status;
    response.body = std::move(body);
    return response;
}

ApiResponse failure(ApiResponse::Outcome outcome)
{
    ApiResponse response;
    response.outcome = outcome;
    return response;
}

PushMessage pushed(QByteArray action, QByteArray messageId, QByteArray payload = "{}")
{
    PushMessage push;
    push.action = std::move(action);
    push.messageId = std::move(messageId);
    push.payload = std::move(payload);
    return push;
}

QJsonObject jsonBody(const ApiRequest &request)
{
    return QJsonDocument::fromJson(request.body).object();
}

QString errorCodeOf(const ApiRequest &request)
{
    return jsonBody(request).value(QStringLiteral("code")).toString();
}

// One station: its host and its session, wired as ClientSession wires them.
struct Station
{
    explicit Station(const QString &protocol = V16, int callQueue = 16)
        : host("CP1", protocol)
    {
        config.apiBasePath = "/ocpp";
        config.callQueue = callQueue;
        config.callTimeoutMs = 60000;
        session = std::make_unique<OcppSession>(config, host);
        host.attach(session.get());
    }

    void frame(const char *text) { session->clientMessage(ClientMessage{QByteArray(text), false}); }

    int push(QByteArray action, QByteArray messageId, QByteArray *error = nullptr)
    {
        QByteArray ignored;
        return session->push(pushed(std::move(action), std::move(messageId)), error ? error : &ignored);
    }

    QList<QByteArray> sentFrames() const
    {
        QList<QByteArray> out;
        for (const auto &sent : host.sent)
            out.append(sent.data);
        return out;
    }

    QList<QByteArray> apiTargets() const
    {
        QList<QByteArray> out;
        for (const ApiRequest &request : host.apiLog)
            out.append(request.target);
        return out;
    }

    OcppSession::Config config;
    FakeSessionHost host;
    std::unique_ptr<OcppSession> session;
};

} // namespace

class TestOcppSession : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void stationCallBecomesOneOrderedApiCall()
    {
        Station s;
        s.frame(R"([2,"m/1 ?","BootNotification",{"chargePointVendor":"V","n":1.50}])");
        QCOMPARE(s.host.apiLog.size(), 1);
        const ApiRequest &call = s.host.apiLog.first();
        QCOMPARE(call.method, QByteArray("POST"));
        QCOMPARE(call.target, QByteArray("/ocpp/call/BootNotification/CP1/m%2F1%20%3F"));
        QCOMPARE(call.body, QByteArray(R"({"chargePointVendor":"V","n":1.50})"));
        QCOMPARE(call.headers, HeaderList({{"Content-Type", "application/json"}}));
        QCOMPARE(s.host.ordered.size(), 1);
        QVERIFY(s.host.unordered.isEmpty());
        QVERIFY(s.host.sent.isEmpty());  // nothing until the API answers
    }

    void apiAnswerBecomesCallResultOrCallError_data()
    {
        QTest::addColumn<QString>("protocol");
        QTest::addColumn<ApiResponse>("response");
        QTest::addColumn<QByteArray>("expected");
        const QByteArray error = R"({"code":"OccurrenceConstraintViolation","description":"no id","details":{"field":"idTag"}})";
        QTest::addRow("ok, payload untouched")
            << V16 << answer(200, " {\"big\":12345678901234567890,\"f\":1.0} ")
            << QByteArray(R"([3,"42",{"big":12345678901234567890,"f":1.0}])");
        QTest::addRow("ok, 204 with an object") << V16 << answer(204, "{}") << QByteArray(R"([3,"42",{}])");
        QTest::addRow("error body, 1.6 spelling")
            << V16 << answer(400, error)
            << QByteArray(R"([4,"42","OccurenceConstraintViolation","no id",{"field":"idTag"}])");
        QTest::addRow("error body, 2.0.1 spelling")
            << V201 << answer(409, error)
            << QByteArray(R"([4,"42","OccurrenceConstraintViolation","no id",{"field":"idTag"}])");
        QTest::addRow("error body without details")
            << V201 << answer(500, R"({"code":"NotSupported"})") << QByteArray(R"([4,"42","NotSupported","",{}])");
        QTest::addRow("error status, no body")
            << V16 << answer(500) << QByteArray(R"([4,"42","InternalError","API answered HTTP 500 without a usable body",{}])");
        QTest::addRow("error status, body not an error")
            << V16 << answer(404, "oops") << QByteArray(R"([4,"42","InternalError","API answered HTTP 404 without a usable body",{}])");
        QTest::addRow("2xx with an error body is a result")
            << V16 << answer(200, error) << QByteArray(R"([3,"42",)" + error + ']');
        QTest::addRow("2xx not an object")
            << V201 << answer(200, "\"fine\"") << QByteArray(R"([4,"42","InternalError","API answered HTTP 200 without a usable body",{}])");
        QTest::addRow("2xx empty")
            << V201 << answer(200) << QByteArray(R"([4,"42","InternalError","API answered HTTP 200 without a usable body",{}])");
        QTest::addRow("timeout") << V16 << failure(ApiResponse::Outcome::Timeout)
                                 << QByteArray(R"([4,"42","InternalError","API did not answer in time",{}])");
        QTest::addRow("unreachable") << V201 << failure(ApiResponse::Outcome::Unreachable)
                                     << QByteArray(R"([4,"42","InternalError","API unreachable",{}])");
        QTest::addRow("overloaded") << V21 << failure(ApiResponse::Outcome::Overloaded)
                                    << QByteArray(R"([4,"42","InternalError","gateway overloaded",{}])");
        QTest::addRow("bad response") << V16 << failure(ApiResponse::Outcome::BadResponse)
                                      << QByteArray(R"([4,"42","InternalError","API sent an invalid response",{}])");
    }

    void apiAnswerBecomesCallResultOrCallError()
    {
        QFETCH(QString, protocol);
        QFETCH(ApiResponse, response);
        QFETCH(QByteArray, expected);
        Station s(protocol);
        s.frame(R"([2,"42","Authorize",{}])");
        QVERIFY(s.host.answerOrdered(response));
        QCOMPARE(s.sentFrames(), QList<QByteArray>{expected});
        QCOMPARE(s.host.sent.first().binary, false);
        QVERIFY(s.host.idle());
        QCOMPARE(s.host.rejected, 0);
    }

    void stationCallsReachTheApiOneAtATimeInOrder()
    {
        Station s;
        s.frame(R"([2,"1","Heartbeat",{}])");
        s.frame(R"([2,"2","StatusNotification",{}])");
        s.frame(R"([2,"3","Heartbeat",{}])");
        // The API has the first only; the others wait for its answer.
        QCOMPARE(s.apiTargets(), QList<QByteArray>{"/ocpp/call/Heartbeat/CP1/1"});
        QVERIFY(s.host.answerOrdered(answer(200, "{\"n\":1}")));
        QCOMPARE(s.apiTargets().last(), QByteArray("/ocpp/call/StatusNotification/CP1/2"));
        QVERIFY(s.host.answerOrdered(failure(ApiResponse::Outcome::Timeout)));
        QVERIFY(s.host.answerOrdered(answer(200, "{\"n\":3}")));
        QCOMPARE(s.apiTargets(), QList<QByteArray>({"/ocpp/call/Heartbeat/CP1/1",
                                                    "/ocpp/call/StatusNotification/CP1/2",
                                                    "/ocpp/call/Heartbeat/CP1/3"}));
        QCOMPARE(s.sentFrames().size(), 3);
        QCOMPARE(s.sentFrames()[0], QByteArray(R"([3,"1",{"n":1}])"));
        QVERIFY(s.sentFrames()[1].startsWith(R"([4,"2","InternalError")"));
        QCOMPARE(s.sentFrames()[2], QByteArray(R"([3,"3",{"n":3}])"));
    }

    void sendGoesToTheApiInOrderWithoutAnAnswer()
    {
        Station s(V21);
        s.frame(R"([6,"s1","NotifyPeriodicEventStream",{"id":1}])");
        s.frame(R"([2,"c1","Heartbeat",{}])");
        QCOMPARE(s.apiTargets(), QList<QByteArray>{"/ocpp/send/NotifyPeriodicEventStream/CP1/s1"});
        QVERIFY(s.host.answerOrdered(answer(200, "{\"ignored\":true}")));
        QVERIFY(s.host.sent.isEmpty());  // SEND gets nothing back
        QCOMPARE(s.apiTargets().last(), QByteArray("/ocpp/call/Heartbeat/CP1/c1"));
        QVERIFY(s.host.answerOrdered(answer(200, "{}")));
        QCOMPARE(s.sentFrames(), QList<QByteArray>{R"([3,"c1",{}])"});
    }

    void malformedFramesAreAnsweredAndCounted_data()
    {
        QTest::addColumn<QString>("protocol");
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QByteArray>("reply");  // its start; empty: none
        QTest::addRow("1.6 not json") << V16 << QByteArray("[2,\"1\",") << QByteArray(R"([4,"-1","FormationViolation")");
        QTest::addRow("2.0.1 call without payload") << V201 << QByteArray(R"([2,"7","Heartbeat"])")
                                                    << QByteArray(R"([4,"7","RpcFrameworkError")");
        QTest::addRow("2.0.1 unknown type") << V201 << QByteArray(R"([9,"8","X",{}])")
                                            << QByteArray(R"([4,"8","MessageTypeNotSupported")");
        QTest::addRow("1.6 unknown type") << V16 << QByteArray(R"([9,"8","X",{}])") << QByteArray();
        QTest::addRow("1.6 has no CALLRESULTERROR") << V16 << QByteArray(R"([5,"8","X","",{}])") << QByteArray();
    }

    void malformedFramesAreAnsweredAndCounted()
    {
        QFETCH(QString, protocol);
        QFETCH(QByteArray, text);
        QFETCH(QByteArray, reply);
        Station s(protocol);
        s.frame(text.constData());
        QCOMPARE(s.host.rejected, 1);
        QVERIFY(s.host.apiLog.isEmpty());
        QCOMPARE(s.host.sent.size(), reply.isEmpty() ? 0 : 1);
        if (!reply.isEmpty())
            QVERIFY2(s.sentFrames().first().startsWith(reply), s.sentFrames().first().constData());
    }

    void pushGoesOutAsACallWithItsTimer()
    {
        Station s(V201);
        s.config.callTimeoutMs = 1234;
        QCOMPARE(s.push("RequestStartTransaction", "r 1"), 200);
        QCOMPARE(s.sentFrames(), QList<QByteArray>{R"([2,"r 1","RequestStartTransaction",{}])"});
        QCOMPARE(s.host.timerMs, std::optional<int>(1234));
        QVERIFY(s.host.apiLog.isEmpty());
        s.frame(R"([3,"r 1",{"status":"Accepted"}])");
        QVERIFY(!s.host.timerMs);
        QCOMPARE(s.host.apiLog.size(), 1);
        QCOMPARE(s.host.apiLog.first().target, QByteArray("/ocpp/result/RequestStartTransaction/CP1/r%201"));
        QCOMPARE(s.host.apiLog.first().body, QByteArray(R"({"status":"Accepted"})"));
        QCOMPARE(s.host.unordered.size(), 1);  // at once, not behind station CALLs
    }

    void oneOutstandingCallPerDirection()
    {
        Station s;
        QCOMPARE(s.push("A", "1"), 200);
        QCOMPARE(s.push("B", "2"), 200);
        QCOMPARE(s.sentFrames(), QList<QByteArray>{R"([2,"1","A",{}])"});
        // The station's own CALL is the other direction: it goes to the API at once.
        s.frame(R"([2,"s","Heartbeat",{}])");
        QCOMPARE(s.apiTargets(), QList<QByteArray>{"/ocpp/call/Heartbeat/CP1/s"});
        s.frame(R"([3,"1",{}])");
        QCOMPARE(s.sentFrames().size(), 2);
        QCOMPARE(s.sentFrames().last(), QByteArray(R"([2,"2","B",{}])"));
        QVERIFY(s.host.timerMs);
    }

    void queueIsBounded_data()
    {
        QTest::addColumn<int>("callQueue");
        QTest::addRow("16") << 16;
        QTest::addRow("1") << 1;
        QTest::addRow("none") << 0;
    }

    void queueIsBounded()
    {
        QFETCH(int, callQueue);
        Station s(V16, callQueue);
        QCOMPARE(s.push("A", "out"), 200);  // outstanding
        for (int i = 0; i < callQueue; ++i)
            QCOMPARE(s.push("A", QByteArray::number(i)), 200);
        QByteArray error;
        QCOMPARE(s.push("A", "over", &error), 503);
        QCOMPARE(error, QByteArray("call queue full"));
        QCOMPARE(s.host.sent.size(), 1);
        // An answer makes room for one more.
        s.frame(R"([3,"out",{}])");
        QCOMPARE(s.push("A", "fits"), 200);
        QCOMPARE(s.push("A", "over again", &error), 503);
        // The refused ones never reach the station or the API.
        for (int i = 0; i <= callQueue; ++i) {
            const QByteArray id = s.sentFrames().last().split('"').value(1);
            QVERIFY(id != "over" && id != "over again");
            s.frame(("[3,\"" + id + "\",{}]").constData());
        }
        QCOMPARE(s.sentFrames().size(), callQueue + 2);
        QCOMPARE(s.sentFrames().last(), QByteArray(R"([2,"fits","A",{}])"));
        QCOMPARE(s.host.rejected, 0);
    }

    void answerIsMatchedByMessageId_data()
    {
        QTest::addColumn<QString>("protocol");
        QTest::addColumn<QByteArray>("answer");
        QTest::addColumn<QByteArray>("target");
        QTest::addColumn<QByteArray>("body");
        QTest::addRow("result") << V16 << QByteArray(R"([3,"x1",{"status":"Accepted"}])")
                                << QByteArray("/ocpp/result/Reset/CP1/x1") << QByteArray(R"({"status":"Accepted"})");
        QTest::addRow("error, 1.6 spelling")
            << V16 << QByteArray(R"([4,"x1","OccurrenceConstraintViolation","nope",{"a":1}])")
            << QByteArray("/ocpp/error/Reset/CP1/x1")
            << QByteArray(R"({"code":"OccurenceConstraintViolation","description":"nope","details":{"a":1}})");
        QTest::addRow("error, 2.0.1 spelling")
            << V201 << QByteArray(R"([4,"x1","OccurenceConstraintViolation","",{}])")
            << QByteArray("/ocpp/error/Reset/CP1/x1")
            << QByteArray(R"({"code":"OccurrenceConstraintViolation","description":"","details":{}})");
        QTest::addRow("2.1 CALLRESULTERROR to our CALL")
            << V21 << QByteArray(R"([5,"x1","FormatViolation","odd",{}])") << QByteArray("/ocpp/error/Reset/CP1/x1")
            << QByteArray(R"({"code":"FormatViolation","description":"odd","details":{}})");
    }

    void answerIsMatchedByMessageId()
    {
        QFETCH(QString, protocol);
        QFETCH(QByteArray, answer);
        QFETCH(QByteArray, target);
        QFETCH(QByteArray, body);
        Station s(protocol);
        QCOMPARE(s.push("Reset", "x1"), 200);
        // Another id is no answer to it.
        s.frame(R"([3,"x2",{}])");
        QCOMPARE(s.host.rejected, 1);
        QVERIFY(s.host.apiLog.isEmpty());
        QVERIFY(s.host.timerMs);
        s.frame(answer.constData());
        QCOMPARE(s.host.apiLog.size(), 1);
        QCOMPARE(s.host.apiLog.first().target, target);
        QCOMPARE(s.host.apiLog.first().body, body);
        QVERIFY(!s.host.timerMs);
        // Answered once: the same answer again is stray.
        s.frame(answer.constData());
        QCOMPARE(s.host.rejected, 2);
        QCOMPARE(s.host.apiLog.size(), 1);
    }

    void strayAnswersAreRejectedAndCounted()
    {
        Station s;
        s.frame(R"([3,"never-sent",{}])");
        s.frame(R"([4,"never-sent","GenericError","",{}])");
        QCOMPARE(s.host.rejected, 2);
        QVERIFY(s.host.apiLog.isEmpty());
        QVERIFY(s.host.sent.isEmpty());
    }

    void unansweredCallTimesOutAndTheNextGoesOut()
    {
        Station s;
        QCOMPARE(s.push("A", "1"), 200);
        QCOMPARE(s.push("B", "2"), 200);
        QVERIFY(s.host.fireTimer());
        QCOMPARE(s.apiTargets(), QList<QByteArray>{"/ocpp/error/A/CP1/1"});
        QCOMPARE(errorCodeOf(s.host.apiLog.first()), QStringLiteral("Timeout"));
        QCOMPARE(s.sentFrames().last(), QByteArray(R"([2,"2","B",{}])"));
        QVERIFY(s.host.timerMs);  // B's own
        // A late answer to the timed-out CALL is not forwarded; B's is.
        s.frame(R"([3,"1",{}])");
        QCOMPARE(s.host.rejected, 1);
        s.frame(R"([3,"2",{}])");
        QCOMPARE(s.apiTargets().last(), QByteArray("/ocpp/result/B/CP1/2"));
        QCOMPARE(s.host.apiLog.size(), 2);
        QVERIFY(!s.host.timerMs);
    }

    void callResultErrorNamesARecentStationCall()
    {
        Station s(V21);
        s.frame(R"([2,"c1","Heartbeat",{}])");
        QVERIFY(s.host.answerOrdered(answer(200, "{}")));
        s.frame(R"([5,"c1","FormatViolation","bad result",{"why":1}])");
        QCOMPARE(s.apiTargets().last(), QByteArray("/ocpp/error/Heartbeat/CP1/c1"));
        QCOMPARE(s.host.apiLog.last().body,
                 QByteArray(R"({"code":"FormatViolation","description":"bad result","details":{"why":1}})"));
        QCOMPARE(s.host.unordered.size(), 1);
        QCOMPARE(s.host.rejected, 0);
        // One CALLRESULT, one refusal: a second one is stray, as is one for an unknown id.
        s.frame(R"([5,"c1","FormatViolation","again",{}])");
        s.frame(R"([5,"zz","FormatViolation","",{}])");
        QCOMPARE(s.host.rejected, 2);
        QCOMPARE(s.host.apiLog.size(), 2);
    }

    void onlyTheLast16StationCallsAreRemembered()
    {
        Station s(V21);
        for (int i = 0; i < 17; ++i) {
            s.frame(("[2,\"c" + QByteArray::number(i) + "\",\"Heartbeat\",{}]").constData());
            QVERIFY(s.host.answerOrdered(answer(200, "{}")));
        }
        s.frame(R"([5,"c0","FormatViolation","",{}])");
        QCOMPARE(s.host.rejected, 1);
        s.frame(R"([5,"c1","FormatViolation","",{}])");
        QCOMPARE(s.host.rejected, 1);
        QCOMPARE(s.apiTargets().last(), QByteArray("/ocpp/error/Heartbeat/CP1/c1"));
    }

    void stationGoingReportsEveryCallOnceInOrder()
    {
        Station s;
        QCOMPARE(s.push("A", "1"), 200);
        QCOMPARE(s.push("B", "2"), 200);
        QCOMPARE(s.push("C", "3"), 200);
        s.frame(R"([2,"s1","Heartbeat",{}])");  // at the API when the station goes
        s.host.goAway();
        QCOMPARE(s.apiTargets(), QList<QByteArray>({"/ocpp/call/Heartbeat/CP1/s1", "/ocpp/error/A/CP1/1",
                                                    "/ocpp/error/B/CP1/2", "/ocpp/error/C/CP1/3"}));
        for (qsizetype i = 1; i < s.host.apiLog.size(); ++i)
            QCOMPARE(errorCodeOf(s.host.apiLog[i]), QStringLiteral("Disconnected"));
        QCOMPARE(jsonBody(s.host.apiLog[1]).value(QStringLiteral("description")).toString(),
                 QStringLiteral("station disconnected before answering"));
        QCOMPARE(jsonBody(s.host.apiLog[2]).value(QStringLiteral("description")).toString(),
                 QStringLiteral("station disconnected before the CALL was sent"));
        QVERIFY(!s.host.timerMs);
        QCOMPARE(s.push("D", "4"), 404);
        // The station's CALL is still answered by the API; its answer reaches no one.
        QVERIFY(s.host.answerOrdered(answer(200, "{}")));
        QCOMPARE(s.host.sent.size(), 2);
        QCOMPARE(s.host.sent.last().status, 404);
        QCOMPARE(s.host.sent.first().data, QByteArray(R"([2,"1","A",{}])"));
        // Nothing is reported twice: going again, or the reports' own answers, add nothing.
        s.host.goAway();
        while (!s.host.unordered.isEmpty())
            QVERIFY(s.host.answerUnordered(0, answer(200)));
        QCOMPARE(s.host.apiLog.size(), 4);
        QVERIFY(s.host.idle());
    }

    void stationThatStopsReadingGetsNoMoreCalls()
    {
        Station s;
        s.host.sendQueueFull = true;
        // Accepted (the pusher's 200 means queued), but its frame could not be queued to
        // the station, which the host now closes: the API hears of it at once.
        QCOMPARE(s.push("A", "1"), 200);
        QCOMPARE(s.host.sent.size(), 1);
        QCOMPARE(s.host.sent.first().status, 503);
        QCOMPARE(s.apiTargets(), QList<QByteArray>{"/ocpp/error/A/CP1/1"});
        QCOMPARE(errorCodeOf(s.host.apiLog.first()), QStringLiteral("Disconnected"));
        QVERIFY(!s.host.timerMs);
        QCOMPARE(s.push("B", "2"), 404);
        s.host.goAway();
        QCOMPARE(s.host.apiLog.size(), 1);
        QCOMPARE(s.host.sent.size(), 1);
    }

    void closingStationKeepsItsQueueUntilItGoes()
    {
        Station s;
        QCOMPARE(s.push("A", "1"), 200);
        QCOMPARE(s.push("B", "2"), 200);
        s.host.closing = true;  // e.g. replaced by a newer connection: close handshake under way
        s.frame(R"([3,"1",{}])");  // its answer may still arrive
        QCOMPARE(s.apiTargets(), QList<QByteArray>{"/ocpp/result/A/CP1/1"});
        QCOMPARE(s.host.sent.size(), 1);  // B is not sent to a closing station
        QVERIFY(!s.host.timerMs);
        s.host.goAway();
        QCOMPARE(s.apiTargets().last(), QByteArray("/ocpp/error/B/CP1/2"));
        QCOMPARE(s.host.apiLog.size(), 2);
    }

    void tooManyStationCallsWaitingCloseTheStation()
    {
        Station s;
        s.host.maxOrdered = 2;
        s.frame(R"([2,"1","Heartbeat",{}])");
        s.frame(R"([2,"2","Heartbeat",{}])");
        QVERIFY(s.host.isOpen());
        s.frame(R"([2,"3","Heartbeat",{}])");
        QVERIFY(!s.host.isOpen());
        QCOMPARE(s.host.refusedOrdered, 1);
        QCOMPARE(s.host.ordered.size(), 2);
    }

    void modeSharesItsSettingsWithItsSessions()
    {
        OcppMode::Settings settings;
        settings.callQueue = 1;
        settings.callTimeoutMs = 5000;
        OcppMode mode("/ocpp/", settings);
        FakeSessionHost host("CP 1", V201);
        const std::unique_ptr<ModeSession> session = mode.newSession(host);
        host.attach(session.get());
        QByteArray error;
        QCOMPARE(session->push(pushed("A", "1"), &error), 200);
        QCOMPARE(host.timerMs, std::optional<int>(5000));
        QCOMPARE(session->push(pushed("A", "2"), &error), 200);
        QCOMPARE(session->push(pushed("A", "3"), &error), 503);
        // A reload applies to CALLs pushed from then on.
        ProxyConfig config;
        config.callQueue = 2;
        config.callTimeoutMs = 7000;
        mode.reconfigure(config);
        QCOMPARE(session->push(pushed("A", "3"), &error), 200);
        session->clientMessage(ClientMessage{R"([3,"1",{}])", false});
        QCOMPARE(host.timerMs, std::optional<int>(7000));
        QCOMPARE(host.apiLog.first().target, QByteArray("/ocpp/result/A/CP%201/1"));
    }
};

QTEST_GUILESS_MAIN(TestOcppSession)
#include "tst_ocppsession.moc"
