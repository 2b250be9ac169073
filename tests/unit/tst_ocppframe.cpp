// OcppFrame: the OCPP-J codec. Frames of every type and version, every malformed
// shape, payload bytes that must survive untouched, serializers, error codes, and the
// JSON checks on API bodies.
#include <QRandomGenerator>
#include <QTest>

#include "modes/OcppFrame.h"

using namespace ws2api::ocpp;

namespace {

constexpr Version AllVersions[] = {Version::V16, Version::V201, Version::V21};

const char *name(Version version)
{
    static constexpr const char *Names[] = {"1.6", "2.0.1", "2.1"};
    return Names[int(version)];
}

const QByteArray Emoji = "\xf0\x9f\x98\x80";  // U+1F600: 4 UTF-8 bytes, 2 UTF-16 units, 1 character
const QByteArray Numbers = R"({"big":12345678901234567890,"neg":-98765432109876543210,)"
                           R"("one":1.0,"k":1e3,"f":-0.50E-7,"z":-0,"list":[1.10,2.000]})";

} // namespace

class TestOcppFrame : public QObject
{
    Q_OBJECT

private slots:
    void subprotocols();
    void messageIds();
    void validFrames_data();
    void validFrames();
    void malformed_data();
    void malformed();
    void everyPrefixIsIncomplete();
    void randomEdits();
    void bigPayload();
    void roundTrip_data();
    void roundTrip();
    void serializers_data();
    void serializers();
    void errorCodes_data();
    void errorCodes();
    void errorReplies_data();
    void errorReplies();
    void jsonChecks_data();
    void jsonChecks();
    void apiErrors_data();
    void apiErrors();
};

void TestOcppFrame::subprotocols()
{
    for (const Version version : AllVersions)
        QCOMPARE(versionFromSubprotocol(subprotocol(version)), version);
    QCOMPARE(subprotocol(Version::V16), QStringLiteral("ocpp1.6"));
    QCOMPARE(subprotocol(Version::V201), QStringLiteral("ocpp2.0.1"));
    QCOMPARE(subprotocol(Version::V21), QStringLiteral("ocpp2.1"));
    for (const char16_t *other : {u"", u"ocpp2.0", u"OCPP1.6", u"ocpp1.6 ", u"ocpp1.5", u"ocpp2.1.0"})
        QVERIFY2(!versionFromSubprotocol(other), QString::fromUtf16(other).toUtf8());
}

void TestOcppFrame::messageIds()
{
    QVERIFY(isValidMessageId("1"));
    QVERIFY(isValidMessageId(QByteArray("x").repeated(36)));
    QVERIFY(isValidMessageId(Emoji.repeated(36)));  // 144 bytes, 72 UTF-16 units
    QVERIFY(!isValidMessageId(""));
    QVERIFY(!isValidMessageId(QByteArray("x").repeated(37)));
    QVERIFY(!isValidMessageId(Emoji.repeated(37)));
}

void TestOcppFrame::validFrames_data()
{
    QTest::addColumn<Version>("version");
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<MessageType>("type");
    QTest::addColumn<QByteArray>("messageId");
    QTest::addColumn<QByteArray>("action");
    QTest::addColumn<QByteArray>("payload");
    QTest::addColumn<QByteArray>("errorCode");
    QTest::addColumn<QByteArray>("errorDescription");

    const auto call = [](const char *tag, Version v, const QByteArray &text, const QByteArray &id,
                         const QByteArray &action, const QByteArray &payload) {
        QTest::addRow("%s %s", tag, name(v))
            << v << text << MessageType::Call << id << action << payload << QByteArray() << QByteArray();
    };
    for (const Version v : AllVersions) {
        call("call", v, R"([2,"19223201","BootNotification",{"chargePointVendor":"VendorX"}])",
             "19223201", "BootNotification", R"({"chargePointVendor":"VendorX"})");
        call("call empty payload", v, R"([2,"1","Heartbeat",{}])", "1", "Heartbeat", "{}");
        QTest::addRow("callresult %s", name(v))
            << v << QByteArray(R"([3,"19223201",{"status":"Accepted","interval":300}])")
            << MessageType::CallResult << QByteArray("19223201") << QByteArray()
            << QByteArray(R"({"status":"Accepted","interval":300})") << QByteArray() << QByteArray();
        QTest::addRow("callerror %s", name(v))
            << v << QByteArray(R"([4,"162376037","NotSupported","SetDisplayMessageRequest not implemented",{}])")
            << MessageType::CallError << QByteArray("162376037") << QByteArray() << QByteArray("{}")
            << QByteArray("NotSupported") << QByteArray("SetDisplayMessageRequest not implemented");
        QTest::addRow("callerror any code, empty description %s", name(v))
            << v << QByteArray(R"([4,"7","OccurenceConstraintViolation","",{"field":"x"}])")
            << MessageType::CallError << QByteArray("7") << QByteArray() << QByteArray(R"({"field":"x"})")
            << QByteArray("OccurenceConstraintViolation") << QByteArray();
        call("numbers byte for byte", v, R"([2,"n","DataTransfer",)" + Numbers + "]", "n",
             "DataTransfer", Numbers);
        call("whitespace everywhere", v, " \t\r\n[ 2 ,\n\"a\" , \"Heartbeat\"\t, { \"k\" : [ 1 , 2 ] } ] \r\n",
             "a", "Heartbeat", R"({ "k" : [ 1 , 2 ] })");
        call("brackets and quotes in strings", v, R"([2,"[1]","A]",{"k":"]},[{\"","o":{"}":"{"}}])",
             "[1]", "A]", R"({"k":"]},[{\"","o":{"}":"{"}})");
        call("escapes in id", v, R"([2,"a\"b\\c\/d\u0041\n","A",{}])", "a\"b\\c/dA\n", "A", "{}");
        call("surrogate pair escape in id", v, R"([2,"\ud83d\ude00","A",{}])", Emoji, "A", "{}");
        call("unicode id, action and payload", v,
             "[2,\"\xc3\xa9t\xc3\xa9" + Emoji + "\",\"Act\xc3\xafon\",{\"t\":\"\xe6\xbc\xa2" + Emoji + "\"}]",
             "\xc3\xa9t\xc3\xa9" + Emoji, "Act\xc3\xafon", "{\"t\":\"\xe6\xbc\xa2" + Emoji + "\"}");
        call("nested payload", v, R"([2,"1","A",{"a":[{"b":[1,{"c":"d"}],"e":null,"f":true}]}])", "1", "A",
             R"({"a":[{"b":[1,{"c":"d"}],"e":null,"f":true}]})");
        const QByteArray id36 = QByteArray("x").repeated(36);
        call("36 character id", v, "[2,\"" + id36 + "\",\"A\",{}]", id36, "A", "{}");
        call("36 character id of emoji", v, "[2,\"" + Emoji.repeated(36) + "\",\"A\",{}]",
             Emoji.repeated(36), "A", "{}");
        call("id -1", v, R"([2,"-1","A",{}])", "-1", "A", "{}");
    }
    QTest::addRow("callresulterror 2.1")
        << Version::V21 << QByteArray(R"([5,"42","InternalError","oops",{"why":1.0}])")
        << MessageType::CallResultError << QByteArray("42") << QByteArray() << QByteArray(R"({"why":1.0})")
        << QByteArray("InternalError") << QByteArray("oops");
    QTest::addRow("send 2.1")
        << Version::V21 << QByteArray(R"([6,"43","NotifyPeriodicEventStream",{"id":12345678901234567890}])")
        << MessageType::Send << QByteArray("43") << QByteArray("NotifyPeriodicEventStream")
        << QByteArray(R"({"id":12345678901234567890})") << QByteArray() << QByteArray();
}

void TestOcppFrame::validFrames()
{
    QFETCH(Version, version);
    QFETCH(QByteArray, text);

    const Parsed parsed = parse(text, version);
    QCOMPARE(parsed.problem, Problem::None);
    QVERIFY2(parsed.detail.isEmpty(), parsed.detail);
    QFETCH(MessageType, type);
    QCOMPARE(parsed.frame.type, type);
    QCOMPARE(parsed.rawType, int(type));
    QTEST(parsed.frame.messageId, "messageId");
    QTEST(parsed.messageId, "messageId");
    QTEST(parsed.frame.action, "action");
    QTEST(parsed.frame.payload, "payload");
    QTEST(parsed.frame.errorCode, "errorCode");
    QTEST(parsed.frame.errorDescription, "errorDescription");
    QCOMPARE(errorReplyFor(parsed, version), std::nullopt);
}

void TestOcppFrame::malformed_data()
{
    QTest::addColumn<Version>("version");
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<Problem>("problem");
    QTest::addColumn<QByteArray>("messageId");
    QTest::addColumn<int>("rawType");

    struct Case
    {
        const char *tag;
        QByteArray text;
        Problem problem;
        QByteArray messageId;
        int rawType;
    };
    const QByteArray longId = QByteArray("x").repeated(37);
    const QByteArray longEmojiId = Emoji.repeated(37);
    const QList<Case> everywhere = {
        {"empty", "", Problem::NotJson, "-1", -1},
        {"blank", " \r\n\t", Problem::NotJson, "-1", -1},
        {"garbage", "hello", Problem::NotJson, "-1", -1},
        {"trailing garbage", R"([2,"1","A",{}] x)", Problem::NotJson, "-1", -1},
        {"trailing bracket", R"([2,"1","A",{}]])", Problem::NotJson, "-1", -1},
        {"trailing comma", R"([2,"1","A",{}],)", Problem::NotJson, "-1", -1},
        {"two arrays", R"([2,"1","A",{}][])", Problem::NotJson, "-1", -1},
        {"comma before end", R"([2,"1","A",{},])", Problem::NotJson, "-1", -1},
        {"truncated", R"([2,"1","A",{})", Problem::NotJson, "-1", -1},
        {"unterminated id", R"([2,"1,"A",{}])", Problem::NotJson, "-1", -1},
        {"unterminated payload string", R"([2,"1","A",{"k":"v}])", Problem::NotJson, "-1", -1},
        {"escaped quote ends nothing", R"([2,"1\","A",{}])", Problem::NotJson, "-1", -1},
        {"nested garbage: bad close", R"([2,"1","A",{"k":[1,2}])", Problem::NotJson, "-1", -1},
        {"nested garbage: missing value", R"([2,"1","A",{"k":}])", Problem::NotJson, "-1", -1},
        {"nested garbage: bare word", R"([2,"1","A",{"k":tru}])", Problem::NotJson, "-1", -1},
        {"single quotes", R"([2,'1','A',{}])", Problem::NotJson, "-1", -1},
        {"invalid escape", R"([2,"a\x","A",{}])", Problem::NotJson, "-1", -1},
        {"short \\u escape", R"([2,"a\u12","A",{}])", Problem::NotJson, "-1", -1},
        {"raw control character in string", "[2,\"a\x01\",\"A\",{}]", Problem::NotJson, "-1", -1},
        {"raw newline in string", "[2,\"a\nb\",\"A\",{}]", Problem::NotJson, "-1", -1},
        {"invalid UTF-8", "[2,\"\xff\",\"A\",{}]", Problem::NotJson, "-1", -1},
        {"number .5", R"([2,"1","A",{"n":.5}])", Problem::NotJson, "-1", -1},
        {"number 1.", R"([2,"1","A",{"n":1.}])", Problem::NotJson, "-1", -1},
        {"number 1.e3", R"([2,"1","A",{"n":1.e3}])", Problem::NotJson, "-1", -1},
        {"number 01", R"([2,"1","A",{"n":01}])", Problem::NotJson, "-1", -1},
        {"number +1", R"([2,"1","A",{"n":+1}])", Problem::NotJson, "-1", -1},
        {"NaN", R"([2,"1","A",{"n":NaN}])", Problem::NotJson, "-1", -1},
        {"byte order mark", "\xef\xbb\xbf[2,\"1\",\"A\",{}]", Problem::NotJson, "-1", -1},
        {"form feed is not JSON whitespace", "\f[2,\"1\",\"A\",{}]", Problem::NotJson, "-1", -1},
        {"nested too deep", QByteArray("[").repeated(2000) + QByteArray("]").repeated(2000), Problem::NotJson, "-1",
         -1},
        {"object", R"({"type":2})", Problem::NotArray, "-1", -1},
        {"empty object", "{}", Problem::NotArray, "-1", -1},
        {"string", R"("[2,\"1\",\"A\",{}]")", Problem::NotArray, "-1", -1},
        {"number", "2", Problem::NotArray, "-1", -1},
        {"null", " null ", Problem::NotArray, "-1", -1},
        {"empty array", "[]", Problem::BadFields, "-1", -1},
        {"type as string", R"(["2","id","A",{}])", Problem::BadFields, "id", -1},
        {"type as string, id unreadable", R"(["2",5,"A",{}])", Problem::BadFields, "-1", -1},
        {"type 2.0", R"([2.0,"id","A",{}])", Problem::BadFields, "id", -1},
        {"type 2e0", R"([2e0,"id","A",{}])", Problem::BadFields, "id", -1},
        {"type null", R"([null,"id","A",{}])", Problem::BadFields, "id", -1},
        {"type in array", R"([[2],"id","A",{}])", Problem::BadFields, "id", -1},
        {"call: 1 element", "[2]", Problem::BadFields, "-1", 2},
        {"call: 2 elements", R"([2,"id"])", Problem::BadFields, "id", 2},
        {"call: 3 elements", R"([2,"id","A"])", Problem::BadFields, "id", 2},
        {"call: 5 elements", R"([2,"id","A",{},{}])", Problem::BadFields, "id", 2},
        {"call: id number", R"([2,1,"A",{}])", Problem::BadFields, "-1", 2},
        {"call: id null", R"([2,null,"A",{}])", Problem::BadFields, "-1", 2},
        {"call: id empty", R"([2,"","A",{}])", Problem::BadFields, "-1", 2},
        {"call: action number", R"([2,"id",5,{}])", Problem::BadFields, "id", 2},
        {"call: action empty", R"([2,"id","",{}])", Problem::BadFields, "id", 2},
        {"call: payload array", R"([2,"id","A",[]])", Problem::BadFields, "id", 2},
        {"call: payload string", R"([2,"id","A","{}"])", Problem::BadFields, "id", 2},
        {"call: payload null", R"([2,"id","A",null])", Problem::BadFields, "id", 2},
        {"callresult: 2 elements", R"([3,"id"])", Problem::BadFields, "id", 3},
        {"callresult: 4 elements", R"([3,"id",{},{}])", Problem::BadFields, "id", 3},
        {"callresult: payload array", R"([3,"id",[1]])", Problem::BadFields, "id", 3},
        {"callresult: id number", R"([3,7,{}])", Problem::BadFields, "-1", 3},
        {"callerror: 4 elements", R"([4,"id","GenericError","d"])", Problem::BadFields, "id", 4},
        {"callerror: 6 elements", R"([4,"id","GenericError","d",{},1])", Problem::BadFields, "id", 4},
        {"callerror: code number", R"([4,"id",1,"d",{}])", Problem::BadFields, "id", 4},
        {"callerror: description null", R"([4,"id","GenericError",null,{}])", Problem::BadFields, "id", 4},
        {"callerror: details array", R"([4,"id","GenericError","d",[]])", Problem::BadFields, "id", 4},
        {"unknown type 7", R"([7,"id","A",{}])", Problem::UnknownType, "id", 7},
        {"unknown type 1", R"([1,"id"])", Problem::UnknownType, "id", 1},
        {"unknown type 0, no id", "[0]", Problem::UnknownType, "-1", 0},
        {"unknown type -2", R"([-2,"id",{}])", Problem::UnknownType, "id", -2},
        {"unknown type beyond int", R"([99999999999,"id",{}])", Problem::UnknownType, "id", -1},
        {"unknown type of 200 digits", "[" + QByteArray("9").repeated(200) + R"(,"id"])", Problem::UnknownType,
         "id", -1},
        {"id 37 characters", "[2,\"" + longId + "\",\"A\",{}]", Problem::MessageIdTooLong, longId, 2},
        {"id 37 emoji", "[3,\"" + longEmojiId + "\",{}]", Problem::MessageIdTooLong, longEmojiId, 3},
        {"id too long and bad shape", "[2,\"" + longId + "\",\"A\"]", Problem::BadFields, longId, 2},
    };
    const QList<Case> onlyIn21 = {
        {"callresulterror", R"([5,"id","InternalError","d",{}])", Problem::UnknownType, "id", 5},
        {"send", R"([6,"id","A",{}])", Problem::UnknownType, "id", 6},
    };
    const QList<Case> in21 = {
        {"callresulterror: 4 elements", R"([5,"id","InternalError","d"])", Problem::BadFields, "id", 5},
        {"callresulterror: details string", R"([5,"id","E","d","x"])", Problem::BadFields, "id", 5},
        {"send: 3 elements", R"([6,"id","A"])", Problem::BadFields, "id", 6},
        {"send: payload array", R"([6,"id","A",[]])", Problem::BadFields, "id", 6},
        {"send: action null", R"([6,"id",null,{}])", Problem::BadFields, "id", 6},
        {"send: id too long", "[6,\"" + longId + "\",\"A\",{}]", Problem::MessageIdTooLong, longId, 6},
    };
    const auto add = [](const Case &c, Version v) {
        QTest::addRow("%s %s", c.tag, name(v)) << v << c.text << c.problem << c.messageId << c.rawType;
    };
    for (const Version v : AllVersions) {
        for (const Case &c : everywhere)
            add(c, v);
    }
    for (const Case &c : onlyIn21) {
        add(c, Version::V16);
        add(c, Version::V201);
    }
    for (const Case &c : in21)
        add(c, Version::V21);
}

void TestOcppFrame::malformed()
{
    QFETCH(Version, version);
    QFETCH(QByteArray, text);

    const Parsed parsed = parse(text, version);
    QTEST(parsed.problem, "problem");
    QTEST(parsed.messageId, "messageId");
    QTEST(parsed.rawType, "rawType");
    QVERIFY(!parsed.detail.isEmpty());
    // The detail goes into a CALLERROR description: short, and never the payload.
    QVERIFY2(parsed.detail.size() < 100, parsed.detail);
}

// A WebSocket message arrives whole, so there is no stream to split; the analogue is
// that no cut of a valid frame is taken for one.
void TestOcppFrame::everyPrefixIsIncomplete()
{
    const QList<QByteArray> frames = {
        R"([2,"a\"b\u0041","A",{"k":"]}\\","n":[1.0,-2e3,{"x":null}]}])",
        "[3,\"" + Emoji + "\",{\"t\":true,\"f\":false}]",
        R"([4,"1","GenericError","d",{"x":12345678901234567890}])",
    };
    for (const QByteArray &frame : frames) {
        QCOMPARE(parse(frame, Version::V21).problem, Problem::None);
        for (qsizetype n = 0; n < frame.size(); ++n) {
            const Parsed parsed = parse(frame.first(n), Version::V21);
            QVERIFY2(parsed.problem != Problem::None, frame.first(n));
        }
    }
}

// Random byte edits of valid frames: whatever parse() accepts carries a payload cut
// from the input that is a JSON object and round-trips; NotJson agrees with isJson().
void TestOcppFrame::randomEdits()
{
    const QList<QByteArray> seeds = {R"([2,"a\"b\u0041","A",{"k":"]}\\","n":[1.0,-2e3,{"x":null}]}])",
                                     R"([3,"x",{"a":[true,false,null,"s"]}])",
                                     R"([5,"1","GenericError","d",{"x":12345678901234567890}])"};
    static constexpr char Alphabet[] = "[]{}\",:\\ 0123456789.eE-+tfnulrs\x01\xc3\xa9";
    QRandomGenerator random(20240601);
    for (int round = 0; round < 20000; ++round) {
        QByteArray text = seeds[random.bounded(int(seeds.size()))];
        for (int edit = random.bounded(1, 4); edit > 0; --edit) {
            const int at = random.bounded(int(text.size()));
            const char c = Alphabet[random.bounded(int(sizeof Alphabet) - 1)];
            switch (random.bounded(3)) {
            case 0: text.remove(at, 1); break;
            case 1: text.insert(at, c); break;
            default: text[at] = c;
            }
        }
        const Parsed parsed = parse(text, Version::V21);
        QVERIFY2((parsed.problem == Problem::NotJson) != isJson(text), text);
        if (parsed.problem != Problem::None)
            continue;
        QVERIFY2(text.contains(parsed.frame.payload) && isJsonObject(parsed.frame.payload), text);
        const Parsed again = parse(serialize(parsed.frame), Version::V21);
        QVERIFY2(again.problem == Problem::None && again.frame == parsed.frame, text);
    }
}

void TestOcppFrame::bigPayload()
{
    QByteArray payload = R"({"numbers":[)";
    while (payload.size() < 1024 * 1024)
        payload += Numbers + ",\"\xc3\xa9\\u00e9" + Emoji + "\\\"]\",";
    payload += R"(0],"end":12345678901234567890})";
    QVERIFY(isJsonObject(payload));

    const QByteArray text = call("big", "DataTransfer", payload);
    QCOMPARE(text, "[2,\"big\",\"DataTransfer\"," + payload + ']');
    for (const Version version : AllVersions) {
        const Parsed parsed = parse(text, version);
        QCOMPARE(parsed.problem, Problem::None);
        QVERIFY(parsed.frame.payload == payload);
    }
    const Parsed result = parse(callResult("big", payload), Version::V16);
    QCOMPARE(result.problem, Problem::None);
    QVERIFY(result.frame.payload == payload);
}

void TestOcppFrame::roundTrip_data()
{
    QTest::addColumn<Version>("version");
    QTest::addColumn<QByteArray>("id");
    QTest::addColumn<QByteArray>("action");
    QTest::addColumn<QByteArray>("payload");

    const QList<QByteArray> ids = {"1", "a\"b\\c/d", "tab\there\nnl\x01\x1f", "\xc3\xa9" + Emoji,
                                   QByteArray("z").repeated(36), "]},[{"};
    int row = 0;
    for (const Version v : AllVersions) {
        for (const QByteArray &id : ids) {
            QTest::addRow("%s #%d", name(v), row++)
                << v << id << QByteArray("Act\"ion\\") << QByteArray(R"({"n":12345678901234567890,"s":"\"]"})");
        }
    }
}

void TestOcppFrame::roundTrip()
{
    QFETCH(Version, version);
    QFETCH(QByteArray, id);
    QFETCH(QByteArray, action);
    QFETCH(QByteArray, payload);

    Parsed parsed = parse(call(id, action, payload), version);
    QCOMPARE(parsed.problem, Problem::None);
    QCOMPARE(parsed.frame.type, MessageType::Call);
    QCOMPARE(parsed.frame.messageId, id);
    QCOMPARE(parsed.frame.action, action);
    QCOMPARE(parsed.frame.payload, payload);

    parsed = parse(callResult(id, payload), version);
    QCOMPARE(parsed.problem, Problem::None);
    QCOMPARE(parsed.frame.type, MessageType::CallResult);
    QCOMPARE(parsed.frame.messageId, id);
    QCOMPARE(parsed.frame.payload, payload);

    parsed = parse(callError(id, action, id, payload), version);
    QCOMPARE(parsed.problem, Problem::None);
    QCOMPARE(parsed.frame.type, MessageType::CallError);
    QCOMPARE(parsed.frame.errorCode, action);
    QCOMPARE(parsed.frame.errorDescription, id);
    QCOMPARE(parsed.frame.payload, payload);

    // 2.1's extra types through the generic writer.
    for (const MessageType type : {MessageType::CallResultError, MessageType::Send}) {
        Frame frame;
        frame.type = type;
        frame.messageId = id;
        frame.payload = payload;
        (type == MessageType::Send ? frame.action : frame.errorCode) = action;
        parsed = parse(serialize(frame), Version::V21);
        QCOMPARE(parsed.problem, Problem::None);
        QVERIFY(parsed.frame == frame);
    }
}

void TestOcppFrame::serializers_data()
{
    QTest::addColumn<QByteArray>("written");
    QTest::addColumn<QByteArray>("expected");

    QTest::addRow("call") << call("1", "Heartbeat", "{}") << QByteArray(R"([2,"1","Heartbeat",{}])");
    QTest::addRow("call, empty payload") << call("1", "Heartbeat", "") << QByteArray(R"([2,"1","Heartbeat",{}])");
    QTest::addRow("call, blank payload") << call("1", "A", " \n") << QByteArray(R"([2,"1","A",{}])");
    QTest::addRow("call, payload trimmed, inside kept")
        << call("1", "A", " { \"a\" : 1.0 }\n") << QByteArray(R"([2,"1","A",{ "a" : 1.0 }])");
    QTest::addRow("callresult") << callResult("x", R"({"s":1e3})") << QByteArray(R"([3,"x",{"s":1e3}])");
    QTest::addRow("callresult, empty") << callResult("x", {}) << QByteArray(R"([3,"x",{}])");
    QTest::addRow("callerror") << callError("-1", "RpcFrameworkError", "bad \"frame\"", {})
                               << QByteArray(R"([4,"-1","RpcFrameworkError","bad \"frame\"",{}])");
    QTest::addRow("callerror details") << callError("7", "Timeout", "", R"({"a":[1]})")
                                       << QByteArray(R"([4,"7","Timeout","",{"a":[1]}])");
    QTest::addRow("string escapes") << jsonString("q\"b\\s/\b\f\n\r\t\x01\x1f\x7f")
                                    << QByteArray(R"("q\"b\\s/\b\f\n\r\t\u0001\u001f)" "\x7f\"");
    QTest::addRow("string unicode stays") << jsonString("\xc3\xa9" + Emoji) << "\"\xc3\xa9" + Emoji + '"';
    QTest::addRow("string invalid UTF-8") << jsonString("a\xff" "b") << QByteArray("\"a\xef\xbf\xbd" "b\"");
    QTest::addRow("string empty") << jsonString("") << QByteArray(R"("")");
}

void TestOcppFrame::serializers()
{
    QFETCH(QByteArray, written);
    QTEST(written, "expected");
    QVERIFY(isJson(written));
}

// Every ErrorKind appears under its 2.x name; the 1.6-only spellings map onto theirs.
void TestOcppFrame::errorCodes_data()
{
    QTest::addColumn<QByteArray>("code");
    QTest::addColumn<std::optional<ErrorKind>>("kind");
    QTest::addColumn<QByteArray>("v16");
    QTest::addColumn<QByteArray>("v2");

    const auto row = [](const char *code, std::optional<ErrorKind> kind, const char *v16, const char *v2) {
        QTest::addRow("%s", code) << QByteArray(code) << kind << QByteArray(v16) << QByteArray(v2);
    };
    using K = ErrorKind;
    row("FormatViolation", K::FormatViolation, "FormationViolation", "FormatViolation");
    row("FormationViolation", K::FormatViolation, "FormationViolation", "FormatViolation");
    row("OccurrenceConstraintViolation", K::OccurrenceConstraintViolation, "OccurenceConstraintViolation",
        "OccurrenceConstraintViolation");
    row("OccurenceConstraintViolation", K::OccurrenceConstraintViolation, "OccurenceConstraintViolation",
        "OccurrenceConstraintViolation");
    row("RpcFrameworkError", K::RpcFrameworkError, "FormationViolation", "RpcFrameworkError");
    row("MessageTypeNotSupported", K::MessageTypeNotSupported, "NotSupported", "MessageTypeNotSupported");
    row("NotSupported", K::NotSupported, "NotSupported", "NotSupported");
    row("NotImplemented", K::NotImplemented, "NotImplemented", "NotImplemented");
    row("GenericError", K::GenericError, "GenericError", "GenericError");
    row("InternalError", K::InternalError, "InternalError", "InternalError");
    row("ProtocolError", K::ProtocolError, "ProtocolError", "ProtocolError");
    row("SecurityError", K::SecurityError, "SecurityError", "SecurityError");
    row("PropertyConstraintViolation", K::PropertyConstraintViolation, "PropertyConstraintViolation",
        "PropertyConstraintViolation");
    row("TypeConstraintViolation", K::TypeConstraintViolation, "TypeConstraintViolation",
        "TypeConstraintViolation");
    row("Timeout", std::nullopt, "Timeout", "Timeout");
    row("Disconnected", std::nullopt, "Disconnected", "Disconnected");
    row("formatviolation", std::nullopt, "formatviolation", "formatviolation");
    row("", std::nullopt, "", "");
}

void TestOcppFrame::errorCodes()
{
    QFETCH(QByteArray, code);
    QFETCH(std::optional<ErrorKind>, kind);
    QFETCH(QByteArray, v16);
    QFETCH(QByteArray, v2);

    QCOMPARE(errorKind(code), kind);
    QCOMPARE(normalizeErrorCode(code, Version::V16), v16);
    QCOMPARE(normalizeErrorCode(code, Version::V201), v2);
    QCOMPARE(normalizeErrorCode(code, Version::V21), v2);
    if (kind) {
        QCOMPARE(errorCode(*kind, Version::V16), v16);
        QCOMPARE(errorCode(*kind, Version::V201), v2);
        QCOMPARE(errorCode(*kind, Version::V21), v2);
    }
}

void TestOcppFrame::errorReplies_data()
{
    QTest::addColumn<Version>("version");
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<bool>("answered");
    QTest::addColumn<QByteArray>("messageId");
    QTest::addColumn<QByteArray>("code");

    const QByteArray longId = QByteArray("L").repeated(40);
    for (const Version v : AllVersions) {
        const QByteArray framework = v == Version::V16 ? "FormationViolation" : "RpcFrameworkError";
        QTest::addRow("valid %s", name(v)) << v << QByteArray(R"([2,"1","A",{}])") << false
                                           << QByteArray() << QByteArray();
        QTest::addRow("not JSON %s", name(v)) << v << QByteArray("[2,\"1\"") << true << QByteArray("-1") << framework;
        QTest::addRow("not array %s", name(v)) << v << QByteArray("{}") << true << QByteArray("-1") << framework;
        QTest::addRow("bad fields, id read %s", name(v))
            << v << QByteArray(R"([2,"q\"1","A",[]])") << true << QByteArray("q\"1") << framework;
        QTest::addRow("bad fields, no id %s", name(v))
            << v << QByteArray(R"([2,5,"A",{}])") << true << QByteArray("-1") << framework;
        QTest::addRow("id too long %s", name(v))
            << v << "[2,\"" + longId + "\",\"A\",{}]" << true << longId << framework;
        const bool answered = v != Version::V16;
        QTest::addRow("unknown type %s", name(v))
            << v << QByteArray(R"([9,"u","A",{}])") << answered << QByteArray(answered ? "u" : "")
            << QByteArray(answered ? "MessageTypeNotSupported" : "");
    }
    QTest::addRow("send in 2.0.1") << Version::V201 << QByteArray(R"([6,"s","A",{}])") << true
                                   << QByteArray("s") << QByteArray("MessageTypeNotSupported");
    QTest::addRow("send in 1.6") << Version::V16 << QByteArray(R"([6,"s","A",{}])") << false
                                 << QByteArray() << QByteArray();
}

void TestOcppFrame::errorReplies()
{
    QFETCH(Version, version);
    QFETCH(QByteArray, text);
    QFETCH(bool, answered);

    const Parsed parsed = parse(text, version);
    const std::optional<QByteArray> reply = errorReplyFor(parsed, version);
    QCOMPARE(reply.has_value(), answered);
    if (!answered)
        return;
    QFETCH(QByteArray, messageId);
    QFETCH(QByteArray, code);
    QCOMPARE(*reply, callError(messageId, code, parsed.detail, {}));
    // And it is a well-formed CALLERROR of this version (an over-long id echoed back
    // is the one thing a strict reader would flag).
    const Parsed back = parse(*reply, version);
    if (messageId.size() <= MaxMessageIdLength) {
        QCOMPARE(back.problem, Problem::None);
        QCOMPARE(back.frame.type, MessageType::CallError);
        QCOMPARE(back.frame.errorCode, code);
        QCOMPARE(back.frame.errorDescription, parsed.detail);
    } else {
        QCOMPARE(back.problem, Problem::MessageIdTooLong);
    }
}

void TestOcppFrame::jsonChecks_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<bool>("json");
    QTest::addColumn<bool>("object");

    const auto row = [](const char *tag, const QByteArray &text, bool json, bool object) {
        QTest::addRow("%s", tag) << text << json << object;
    };
    row("object", R"({"a":1})", true, true);
    row("empty object, whitespace", " \r\n{ }\t", true, true);
    row("object with big numbers", "{\"n\":12345678901234567890,\"f\":1.0,\"e\":1E+3}", true, true);
    row("array", "[1,2]", true, false);
    row("string", R"("s")", true, false);
    row("unicode string", "\"\xc3\xa9\\u00e9\"", true, false);
    row("number", " -0.5e3 ", true, false);
    row("true", "true", true, false);
    row("null", "null", true, false);
    row("empty", "", false, false);
    row("blank", " \n ", false, false);
    row("open brace", "{", false, false);
    row("two objects", "{}{}", false, false);
    row("two numbers", "1 2", false, false);
    row("comma list", "1,2", false, false);
    row("closing and opening", "1],[2", false, false);
    row("trailing comma", R"({"a":1,})", false, false);
    row("number .5", ".5", false, false);
    row("number 1.", "1.", false, false);
    row("invalid escape", R"("a\x")", false, false);
    row("raw tab in string", "{\"a\":\"\t\"}", false, false);
    row("BOM", "\xef\xbb\xbf{}", false, false);
    row("form feed", "{}\f", false, false);
    row("invalid UTF-8", "{\"a\":\"\xc3\"}", false, false);
    row("bare word", "nul", false, false);
    row("plain text ok", "ok", false, false);
}

void TestOcppFrame::jsonChecks()
{
    QFETCH(QByteArray, text);
    QTEST(isJson(text), "json");
    QTEST(isJsonObject(text), "object");
}

void TestOcppFrame::apiErrors_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<bool>("valid");
    QTest::addColumn<QByteArray>("code");
    QTest::addColumn<QByteArray>("description");
    QTest::addColumn<QByteArray>("details");

    const auto good = [](const char *tag, const QByteArray &body, const char *code, const char *description,
                         const char *details) {
        QTest::addRow("%s", tag) << body << true << QByteArray(code) << QByteArray(description)
                                 << QByteArray(details);
    };
    const auto bad = [](const char *tag, const QByteArray &body) {
        QTest::addRow("%s", tag) << body << false << QByteArray() << QByteArray() << QByteArray();
    };
    good("all fields", R"({"code":"NotImplemented","description":"no","details":{"a":12345678901234567890}})",
         "NotImplemented", "no", R"({"a":12345678901234567890})");
    good("whitespace kept inside details", "\n{ \"code\" : \"X\" , \"details\" : { \"a\" : 1.0 } }\n", "X", "",
         R"({ "a" : 1.0 })");
    good("code only", R"({"code":"GenericError"})", "GenericError", "", "{}");
    good("nulls", R"({"code":"E","description":null,"details":null})", "E", "", "{}");
    good("escaped strings", R"({"code":"E\u0021","description":"say \"hi\"\n","det\u0061ils":{"b":1}})", "E!",
         "say \"hi\"\n", R"({"b":1})");
    good("duplicate details, last wins", R"({"code":"E","details":{"first":1},"details":{"last":2}})", "E", "",
         R"({"last":2})");
    good("details key nested elsewhere", R"({"code":"E","other":{"details":{"no":1}},"details":{"yes":1}})", "E",
         "", R"({"yes":1})");
    good("only nested details", R"({"code":"E","other":{"details":{"no":1}}})", "E", "", "{}");
    good("details as a value", R"({"code":"E","description":"details","details":{"d":"]}"}})", "E", "details",
         R"({"d":"]}"})");
    good("unicode", "{\"code\":\"E\",\"description\":\"\xc3\xa9" + Emoji + "\"}", "E",
         "\xc3\xa9\xf0\x9f\x98\x80", "{}");
    bad("empty", "");
    bad("not JSON", "Internal Server Error");
    bad("array", R"(["E","d",{}])");
    bad("string", R"("E")");
    bad("no code", R"({"description":"d"})");
    bad("empty code", R"({"code":""})");
    bad("code number", R"({"code":5})");
    bad("description number", R"({"code":"E","description":5})");
    bad("details array", R"({"code":"E","details":[]})");
    bad("details string", R"({"code":"E","details":"{}"})");
    bad("trailing garbage", R"({"code":"E"} x)");
}

void TestOcppFrame::apiErrors()
{
    QFETCH(QByteArray, body);
    QFETCH(bool, valid);

    const std::optional<ApiError> error = apiError(body);
    QCOMPARE(error.has_value(), valid);
    if (!valid)
        return;
    QTEST(error->code, "code");
    QTEST(error->description, "description");
    QTEST(error->details, "details");
}

QTEST_GUILESS_MAIN(TestOcppFrame)
#include "tst_ocppframe.moc"
