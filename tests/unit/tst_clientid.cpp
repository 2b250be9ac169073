// ClientId: which upgrade paths give an id, and percent-encoding that round-trips
// any id into one path segment.
#include <QRandomGenerator>
#include <QTest>

#include "ClientId.h"

using namespace ws2api;

namespace {

bool isAllowedInId(char c)
{
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u != 0x7f && c != '/';
}

// Random bytes drawn from `allowed`, length 1..255.
QByteArray randomId(QRandomGenerator &random, bool (*allowed)(char))
{
    QByteArray s(random.bounded(1, 256), Qt::Uninitialized);
    for (char &c : s) {
        do {
            c = char(random.bounded(256));
        } while (!allowed(c));
    }
    return s;
}

bool isEncodedChar(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'
        || c == '.' || c == '_' || c == '~' || c == '%';
}

} // namespace

class TestClientId : public QObject
{
    Q_OBJECT

private slots:
    void fromPath_data();
    void fromPath();
    void encodeSegment_data();
    void encodeSegment();
    void decodeSegment_data();
    void decodeSegment();
    void everyByte();
    void randomIds();
    void randomBytesRoundTrip();
};

void TestClientId::fromPath_data()
{
    QTest::addColumn<QByteArray>("path");
    QTest::addColumn<bool>("valid");
    QTest::addColumn<QByteArray>("id");

    const auto ok = [](const char *name, const QByteArray &path, const QByteArray &id) {
        QTest::addRow("%s", name) << path << true << id;
    };
    const auto bad = [](const char *name, const QByteArray &path) {
        QTest::addRow("%s", name) << path << false << QByteArray();
    };
    ok("root segment", "/CP1", "CP1");
    ok("last of two", "/ocpp/CP1", "CP1");
    ok("last of many", "/a/b/c/CP-001", "CP-001");
    ok("no leading slash", "CP1", "CP1");
    ok("one byte", "/x", "x");
    ok("255 bytes", "/" + QByteArray(255, 'a'), QByteArray(255, 'a'));
    ok("255 bytes, all escaped", "/" + QByteArray("%41").repeated(255), QByteArray(255, 'A'));
    ok("encoded space", "/CP%201", "CP 1");
    ok("raw space", "/CP 1", "CP 1");
    ok("plus is a plus", "/CP+1", "CP+1");
    ok("encoded plus", "/CP%2B1", "CP+1");
    ok("encoded question mark", "/CP%3F1", "CP?1");
    ok("encoded hash", "/CP%231", "CP#1");
    ok("encoded percent", "/100%25", "100%");
    ok("lowercase escape", "/%c3%a4", "\xc3\xa4");
    ok("unicode, encoded", "/Ladepunkt-%C3%84%E2%82%AC", "Ladepunkt-\xc3\x84\xe2\x82\xac");
    ok("unicode, raw", "/\xe5\x85\x85\xe7\x94\xb5", "\xe5\x85\x85\xe7\x94\xb5");
    ok("encoded DEL neighbour 0x80", "/%80", "\x80");
    ok("dots", "/..", "..");
    ok("unreserved", "/AZaz09-._~", "AZaz09-._~");

    bad("empty", "");
    bad("root", "/");
    bad("trailing slash", "/ocpp/");
    bad("trailing slash after id", "/ocpp/CP1/");
    bad("256 bytes", "/" + QByteArray(256, 'a'));
    bad("256 bytes, all escaped", "/" + QByteArray("%41").repeated(256));
    bad("encoded slash", "/CP%2F1");
    bad("encoded slash, lowercase", "/CP%2f1");
    bad("raw NUL", QByteArray("/CP\0" "1", 5));
    bad("raw tab", "/CP\t1");
    bad("raw newline", "/CP\n1");
    bad("raw DEL", "/CP\x7f" "1");
    bad("encoded NUL", "/CP%001");
    bad("encoded CR", "/CP%0D1");
    bad("encoded LF", "/CP%0A1");
    bad("encoded 0x1f", "/CP%1F");
    bad("encoded DEL", "/CP%7F");
    bad("lone percent", "/CP%");
    bad("one hex digit", "/CP%4");
    bad("one hex digit inside", "/CP%4G1");
    bad("not hex", "/CP%zz");
    bad("percent percent", "/%%41");
}

void TestClientId::fromPath()
{
    QFETCH(QByteArray, path);
    QFETCH(bool, valid);
    QFETCH(QByteArray, id);

    const std::optional<QByteArray> result = ClientId::fromPath(path);
    QCOMPARE(result.has_value(), valid);
    if (valid)
        QCOMPARE(*result, id);
}

void TestClientId::encodeSegment_data()
{
    QTest::addColumn<QByteArray>("raw");
    QTest::addColumn<QByteArray>("encoded");
    QTest::addRow("unreserved") << QByteArray("AZaz09-._~") << QByteArray("AZaz09-._~");
    QTest::addRow("space and plus") << QByteArray("CP 1+2") << QByteArray("CP%201%2B2");
    QTest::addRow("path and query") << QByteArray("a/b?c#d&e=f") << QByteArray("a%2Fb%3Fc%23d%26e%3Df");
    QTest::addRow("header injection") << QByteArray("x\r\nSet-Cookie: y")
                                      << QByteArray("x%0D%0ASet-Cookie%3A%20y");
    QTest::addRow("percent") << QByteArray("%41") << QByteArray("%2541");
    QTest::addRow("utf-8, uppercase hex") << QByteArray("\xc3\xa4\xff") << QByteArray("%C3%A4%FF");
    QTest::addRow("NUL") << QByteArray(1, '\0') << QByteArray("%00");
    QTest::addRow("empty") << QByteArray() << QByteArray();
}

void TestClientId::encodeSegment()
{
    QFETCH(QByteArray, raw);
    QFETCH(QByteArray, encoded);
    QCOMPARE(ClientId::encodeSegment(raw), encoded);
    QCOMPARE(ClientId::decodeSegment(encoded), std::optional<QByteArray>(raw));
}

void TestClientId::decodeSegment_data()
{
    QTest::addColumn<QByteArray>("encoded");
    QTest::addColumn<bool>("valid");
    QTest::addColumn<QByteArray>("raw");
    QTest::addRow("plain") << QByteArray("abc") << true << QByteArray("abc");
    QTest::addRow("plus stays") << QByteArray("a+b") << true << QByteArray("a+b");
    QTest::addRow("mixed case hex") << QByteArray("%2f%2F%aB") << true << QByteArray("//\xab");
    QTest::addRow("escape at end") << QByteArray("a%41") << true << QByteArray("aA");
    QTest::addRow("empty") << QByteArray() << true << QByteArray();
    QTest::addRow("lone percent") << QByteArray("%") << false << QByteArray();
    QTest::addRow("one digit at end") << QByteArray("a%4") << false << QByteArray();
    QTest::addRow("bad second digit") << QByteArray("%4z") << false << QByteArray();
    QTest::addRow("bad first digit") << QByteArray("%g1") << false << QByteArray();
    QTest::addRow("sign") << QByteArray("%-1") << false << QByteArray();
}

void TestClientId::decodeSegment()
{
    QFETCH(QByteArray, encoded);
    QFETCH(bool, valid);
    QFETCH(QByteArray, raw);
    const std::optional<QByteArray> result = ClientId::decodeSegment(encoded);
    QCOMPARE(result.has_value(), valid);
    if (valid)
        QCOMPARE(*result, raw);
}

void TestClientId::everyByte()
{
    QByteArray all;
    for (int b = 0; b < 256; ++b) {
        const QByteArray one(1, char(b));
        const QByteArray encoded = ClientId::encodeSegment(one);
        QVERIFY(std::all_of(encoded.cbegin(), encoded.cend(), isEncodedChar));
        QCOMPARE(ClientId::decodeSegment(encoded), std::optional<QByteArray>(one));
        const std::optional<QByteArray> id = ClientId::fromPath(QByteArray("/ocpp/" + encoded));
        QCOMPARE(id.has_value(), isAllowedInId(char(b)));
        if (id)
            QCOMPARE(*id, one);
        all += one;
    }
    QCOMPARE(ClientId::decodeSegment(ClientId::encodeSegment(all)), std::optional<QByteArray>(all));
}

void TestClientId::randomIds()
{
    QRandomGenerator random(20240601);
    for (int i = 0; i < 2000; ++i) {
        const QByteArray id = randomId(random, isAllowedInId);
        const QByteArray encoded = ClientId::encodeSegment(id);
        QVERIFY(!encoded.contains('/'));
        QCOMPARE(ClientId::fromPath(QByteArray("/" + encoded)), std::optional<QByteArray>(id));
        QCOMPARE(ClientId::fromPath(QByteArray("/ocpp/v16/" + encoded)), std::optional<QByteArray>(id));
    }
}

void TestClientId::randomBytesRoundTrip()
{
    QRandomGenerator random(7);
    const auto anyByte = [](char) { return true; };
    for (int i = 0; i < 2000; ++i) {
        const QByteArray bytes = randomId(random, anyByte);
        const QByteArray encoded = ClientId::encodeSegment(bytes);
        QVERIFY(std::all_of(encoded.cbegin(), encoded.cend(), isEncodedChar));
        QCOMPARE(ClientId::decodeSegment(encoded), std::optional<QByteArray>(bytes));
        const bool allowed = std::all_of(bytes.cbegin(), bytes.cend(), isAllowedInId);
        QCOMPARE(ClientId::fromPath(QByteArray("/" + encoded)).has_value(), allowed);
    }
}

QTEST_GUILESS_MAIN(TestClientId)
#include "tst_clientid.moc"
