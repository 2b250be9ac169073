// HttpHead::parse and HttpRequestReader: every input is also given split at every
// byte boundary and byte by byte, and must give the same result.
#include <QTest>

#include <algorithm>

#include "HttpHead.h"
#include "HttpRequestReader.h"

using namespace ws2api;
using Status = HttpHead::Status;
using Error = HttpRequestReader::Error;

namespace {

QByteArray statusName(Status status)
{
    switch (status) {
    case Status::Complete: return "Complete";
    case Status::Incomplete: return "Incomplete";
    case Status::TooLarge: return "TooLarge";
    case Status::Invalid: return "Invalid";
    }
    return "?";
}

QByteArray errorName(Error error)
{
    switch (error) {
    case Error::None: return "None";
    case Error::HeadTooLarge: return "HeadTooLarge";
    case Error::RequestLineTooLong: return "RequestLineTooLong";
    case Error::BodyTooLarge: return "BodyTooLarge";
    case Error::Malformed: return "Malformed";
    }
    return "?";
}

// Everything parse() fills in, as one comparable line.
QByteArray describe(const HttpHead &h)
{
    QByteArray s = h.method + ' ' + h.target + " path=" + h.path + " query=" + h.query
        + " HTTP/" + QByteArray::number(h.versionMajor) + '.'
        + QByteArray::number(h.versionMinor) + " ka=" + QByteArray::number(h.keepAlive)
        + " ws=" + QByteArray::number(h.upgradeWebSocket)
        + " cl=" + QByteArray::number(h.contentLength) + " te=" + QByteArray::number(h.chunked);
    for (const auto &[name, value] : h.headers)
        s += " [" + name + ": " + value + ']';
    return s;
}

struct HeadResult
{
    Status status = Status::Incomplete;
    qsizetype length = -1;
    QByteArray head;  // describe() of the head when Complete
};

HeadResult parseOnce(QByteArrayView data, qsizetype maxHead)
{
    HttpHead head;
    HeadResult r;
    r.status = HttpHead::parse(data, &head, &r.length, maxHead);
    if (r.status == Status::Complete)
        r.head = describe(head);
    else
        r.length = -1;
    return r;
}

// parse() is stateless, so "split at byte i" means: the prefix [0, i) says
// Incomplete, or already says the final answer, which no longer changes.
HeadResult parseEveryPrefix(const QByteArray &input, qsizetype maxHead)
{
    const HeadResult whole = parseOnce(input, maxHead);
    bool decided = false;
    for (qsizetype i = 0; i <= input.size(); ++i) {
        const HeadResult r = parseOnce(input.first(i), maxHead);
        if (r.status == Status::Incomplete && !decided)
            continue;
        decided = true;
        if (r.status != whole.status || r.length != whole.length || r.head != whole.head) {
            qWarning("prefix %lld: %s, whole input: %s", qlonglong(i),
                     statusName(r.status).constData(), statusName(whole.status).constData());
            return {Status::Incomplete, -2, "prefix disagrees"};
        }
    }
    return whole;
}

// Padded with lines of at most 4 KiB, within HttpHead's line limit at any size.
QByteArray headOfSize(qsizetype size)
{
    QByteArray head = "GET /ocpp/CP1 HTTP/1.1\r\n";
    qsizetype remaining = size - head.size() - 2;
    while (remaining > 0) {
        qsizetype line = std::min<qsizetype>(remaining, 4096);
        if (remaining - line > 0 && remaining - line < 10)
            line -= 10;  // the last line needs room for "X-Pad: a\r\n"
        head += "X-Pad: " + QByteArray(line - 9, 'a') + "\r\n";
        remaining -= line;
    }
    return head + "\r\n";
}

// A head with `fields` header fields, the last padded so its line (with CRLF) is `lastLine` bytes.
QByteArray headWithFields(int fields, qsizetype lastLine = 8)
{
    QByteArray head = "GET /ocpp/CP1 HTTP/1.1\r\n";
    for (int i = 1; i < fields; ++i)
        head += "X-" + QByteArray::number(i) + ": v\r\n";
    return head + "X: " + QByteArray(lastLine - 5, 'v') + "\r\n\r\n";
}

const QByteArray upgradeRequest =
    "GET /ocpp/CP1?token=abc&x=1 HTTP/1.1\r\n"
    "Host: gw.example:8080\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "Authorization:   Basic Q1AxOnNlY3JldA==  \r\n"
    "Cookie: a=1; b=2\r\n"
    "Origin: https://example.com\r\n"
    "User-Agent: Charger/1.0 (x86_64)\r\n"
    "Sec-WebSocket-Protocol: ocpp2.0.1, ocpp1.6\r\n"
    "X-Forwarded-For: 10.0.0.1\r\n"
    "\r\n";

// The reader's whole observable output for one way of feeding the input: each
// request as a line, then the error, then the rejected head if there is one. The
// caller drains after every feed, as a socket's readyRead handler would.
QByteArrayList runReader(const QList<QByteArrayView> &pieces, qint64 maxBody, qsizetype maxHead)
{
    HttpRequestReader reader(maxBody, maxHead);
    QByteArrayList out;
    for (const QByteArrayView piece : pieces) {
        reader.feed(piece);
        HttpRequest request;
        while (reader.next(&request)) {
            out += request.head.method + ' ' + request.head.target
                + " ka=" + QByteArray::number(request.head.keepAlive) + " body=" + request.body;
        }
    }
    out += "error=" + errorName(reader.error());
    if (reader.error() == Error::BodyTooLarge)
        out += "rejected=" + reader.headOfRejected().method + ' ' + reader.headOfRejected().target;
    return out;
}

QByteArray chunkedPost(const QByteArray &target, const QByteArray &chunks)
{
    return "POST " + target + " HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks;
}

QByteArray post(const QByteArray &target, const QByteArray &body)
{
    return "POST " + target + " HTTP/1.1\r\nContent-Length: "
        + QByteArray::number(body.size()) + "\r\n\r\n" + body;
}

} // namespace

class TestHttpHead : public QObject
{
    Q_OBJECT

private slots:
    void parse_data();
    void parse();
    void invalidEarly_data();
    void invalidEarly();
    void upgradeHeaders();
    void headerLookup();
    void reader_data();
    void reader();
    void readerHeadLimit_data();
    void readerHeadLimit();
};

void TestHttpHead::parse_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QByteArray>("status");
    QTest::addColumn<int>("length");  // the head's length when Complete
    QTest::addColumn<QByteArray>("head");  // describe() when Complete

    const QByteArray get = "GET /ocpp/CP1 HTTP/1.1\r\n\r\n";
    QTest::addRow("minimal") << get << QByteArray("Complete") << int(get.size())
        << QByteArray("GET /ocpp/CP1 path=/ocpp/CP1 query= HTTP/1.1 ka=1 ws=0 cl=-1 te=0");
    QTest::addRow("bytes after the head are not part of it")
        << QByteArray(get + "\x81\x05hello") << QByteArray("Complete") << int(get.size())
        << QByteArray("GET /ocpp/CP1 path=/ocpp/CP1 query= HTTP/1.1 ka=1 ws=0 cl=-1 te=0");
    QTest::addRow("upgrade") << upgradeRequest << QByteArray("Complete")
        << int(upgradeRequest.size())
        << QByteArray("GET /ocpp/CP1?token=abc&x=1 path=/ocpp/CP1 query=token=abc&x=1 HTTP/1.1 "
                      "ka=1 ws=1 cl=-1 te=0 [Host: gw.example:8080] [Upgrade: websocket] "
                      "[Connection: Upgrade] [Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==] "
                      "[Sec-WebSocket-Version: 13] [Authorization: Basic Q1AxOnNlY3JldA==] "
                      "[Cookie: a=1; b=2] [Origin: https://example.com] "
                      "[User-Agent: Charger/1.0 (x86_64)] "
                      "[Sec-WebSocket-Protocol: ocpp2.0.1, ocpp1.6] [X-Forwarded-For: 10.0.0.1]");

    const auto row = [](const char *name, const QByteArray &input, const QByteArray &head) {
        QTest::addRow("%s", name) << input << QByteArray("Complete") << int(input.size()) << head;
    };
    row("empty query", "GET /a? HTTP/1.1\r\n\r\n",
        "GET /a? path=/a query= HTTP/1.1 ka=1 ws=0 cl=-1 te=0");
    row("query with ?", "GET /a?b?c=%20 HTTP/1.1\r\n\r\n",
        "GET /a?b?c=%20 path=/a query=b?c=%20 HTTP/1.1 ka=1 ws=0 cl=-1 te=0");
    row("absolute form", "GET http://h:1/x/CP2?q=1 HTTP/1.1\r\n\r\n",
        "GET http://h:1/x/CP2?q=1 path=/x/CP2 query=q=1 HTTP/1.1 ka=1 ws=0 cl=-1 te=0");
    row("bare LF line ends", "GET / HTTP/1.1\nHost: a\n\n",
        "GET / path=/ query= HTTP/1.1 ka=1 ws=0 cl=-1 te=0 [Host: a]");
    row("HTTP/1.0 closes", "GET / HTTP/1.0\r\n\r\n",
        "GET / path=/ query= HTTP/1.0 ka=0 ws=0 cl=-1 te=0");
    row("HTTP/1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
        "GET / path=/ query= HTTP/1.0 ka=1 ws=0 cl=-1 te=0 [Connection: Keep-Alive]");
    row("HTTP/1.1 close", "GET / HTTP/1.1\r\nConnection: close\r\n\r\n",
        "GET / path=/ query= HTTP/1.1 ka=0 ws=0 cl=-1 te=0 [Connection: close]");
    row("upgrade token in a list", "GET / HTTP/1.1\r\nUpgrade: h2c, WebSocket\r\n\r\n",
        "GET / path=/ query= HTTP/1.1 ka=1 ws=1 cl=-1 te=0 [Upgrade: h2c, WebSocket]");
    row("upgrade: not the token", "GET / HTTP/1.1\r\nUpgrade: websockets\r\n\r\n",
        "GET / path=/ query= HTTP/1.1 ka=1 ws=0 cl=-1 te=0 [Upgrade: websockets]");
    row("upgrade: not a GET", "POST / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n",
        "POST / path=/ query= HTTP/1.1 ka=1 ws=0 cl=-1 te=0 [Upgrade: websocket]");
    row("content-length", "POST /p HTTP/1.1\r\nContent-Length: 12\r\n\r\n",
        "POST /p path=/p query= HTTP/1.1 ka=1 ws=0 cl=12 te=0 [Content-Length: 12]");
    row("chunked", "POST /p HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
        "POST /p path=/p query= HTTP/1.1 ka=1 ws=0 cl=-1 te=1 [Transfer-Encoding: chunked]");
    row("empty value", "GET / HTTP/1.1\r\nX-Empty:\r\n\r\n",
        "GET / path=/ query= HTTP/1.1 ka=1 ws=0 cl=-1 te=0 [X-Empty: ]");

    const QByteArray atLimit = headOfSize(16 * 1024);
    QByteArray padding;
    for (const QByteArray &line : atLimit.split('\n')) {
        if (line.startsWith("X-Pad: "))
            padding += " [" + line.chopped(1) + ']';  // without its CR
    }
    QTest::addRow("head of exactly 16 KiB") << atLimit << QByteArray("Complete")
        << int(atLimit.size())
        << QByteArray("GET /ocpp/CP1 path=/ocpp/CP1 query= HTTP/1.1 ka=1 ws=0 cl=-1 te=0" + padding);

    const auto bad = [](const char *name, const QByteArray &input, const char *status) {
        QTest::addRow("%s", name) << input << QByteArray(status) << -1 << QByteArray();
    };
    bad("head of 16 KiB + 1", headOfSize(16 * 1024 + 1), "TooLarge");
    bad("no end within 16 KiB", "GET / HTTP/1.1\r\nX: " + QByteArray(20000, 'a'), "TooLarge");
    bad("empty", "", "Incomplete");
    bad("no blank line yet", "GET / HTTP/1.1\r\nHost: a\r\n", "Incomplete");
    bad("TLS client hello", QByteArray::fromHex("160301020001000001fc0303") + "\r\n\r\n", "Invalid");
    bad("binary", QByteArray::fromHex("00ff10807f0d0a0d0a"), "Invalid");
    bad("empty lines", "\r\n\r\n", "Invalid");
    bad("empty lines, bare LF", "\n\n", "Invalid");
    bad("empty line before a request", "\r\nGET / HTTP/1.1\r\n\r\n", "Invalid");
    bad("hello", "hello\r\n\r\n", "Invalid");
    bad("no version (HTTP/0.9)", "GET /ocpp/CP1\r\n\r\n", "Invalid");
    bad("HTTP/2.0", "GET / HTTP/2.0\r\n\r\n", "Invalid");
    bad("HTTP/0.9 spelled out", "GET / HTTP/0.9\r\n\r\n", "Invalid");
    bad("space in target", "GET /a b HTTP/1.1\r\n\r\n", "Invalid");
    bad("unknown method", "BREW /pot HTTP/1.1\r\n\r\n", "Invalid");
    bad("obsolete line folding", "GET / HTTP/1.1\r\nX-A: one\r\n two\r\n\r\n", "Invalid");
    bad("folding with a tab", "GET / HTTP/1.1\r\nX-A: one\r\n\ttwo\r\n\r\n", "Invalid");
    bad("space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", "Invalid");
    bad("header without colon", "GET / HTTP/1.1\r\nHost\r\n\r\n", "Invalid");
    bad("empty header name", "GET / HTTP/1.1\r\n: a\r\n\r\n", "Invalid");
    bad("control char in value", "GET / HTTP/1.1\r\nX: a\x01z\r\n\r\n", "Invalid");
    bad("bare CR in value", "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", "Invalid");
    bad("CR then not LF ends head", "GET / HTTP/1.1\r\nX: a\r\n\rZ", "Invalid");
    bad("both lengths", "POST / HTTP/1.1\r\nContent-Length: 1\r\n"
        "Transfer-Encoding: chunked\r\n\r\n", "Invalid");
    bad("two content-lengths", "POST / HTTP/1.1\r\nContent-Length: 1\r\n"
        "Content-Length: 2\r\n\r\n", "Invalid");
    bad("content-length not a number", "POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", "Invalid");
    bad("content-length over 2^63", "POST / HTTP/1.1\r\n"
        "Content-Length: 9223372036854775808\r\n\r\n", "Invalid");
    bad("transfer-encoding not chunked", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
        "Invalid");
}

void TestHttpHead::parse()
{
    QFETCH(QByteArray, input);
    QFETCH(QByteArray, status);
    QFETCH(int, length);
    QFETCH(QByteArray, head);

    const HeadResult r = parseEveryPrefix(input, 16 * 1024);
    QCOMPARE(statusName(r.status), status);
    QCOMPARE(r.length, qsizetype(length));
    QCOMPARE(r.head, head);
}

// Non-HTTP bytes are turned away before a blank line arrives, so a TLS client or a
// port scanner does not hold the connection until the head timeout.
void TestHttpHead::invalidEarly_data()
{
    QTest::addColumn<QByteArray>("prefix");
    QTest::addRow("TLS record, first byte") << QByteArray("\x16");
    QTest::addRow("TLS hello") << QByteArray::fromHex("160301020001000001fc0303");
    QTest::addRow("NUL") << QByteArray(1, '\0');
    QTest::addRow("empty line") << QByteArray("\r\n");
    QTest::addRow("hello") << QByteArray("hel");
    QTest::addRow("SSH banner") << QByteArray("SSH-2.0-OpenSSH_9.2");
    QTest::addRow("no version") << QByteArray("GET /ocpp/CP1\r\n");
    QTest::addRow("HTTP/2") << QByteArray("GET / HTTP/2");
    QTest::addRow("folding") << QByteArray("GET / HTTP/1.1\r\nA: b\r\n c");
    QTest::addRow("space before colon") << QByteArray("GET / HTTP/1.1\r\nA :");
}

void TestHttpHead::invalidEarly()
{
    QFETCH(QByteArray, prefix);
    QCOMPARE(statusName(parseEveryPrefix(prefix, 16 * 1024).status), QByteArray("Invalid"));
}

void TestHttpHead::upgradeHeaders()
{
    HttpHead head;
    qsizetype length = 0;
    QCOMPARE(HttpHead::parse(upgradeRequest, &head, &length), Status::Complete);
    QCOMPARE(head.header("authorization"), QByteArray("Basic Q1AxOnNlY3JldA=="));
    QCOMPARE(head.header("COOKIE"), QByteArray("a=1; b=2"));
    QCOMPARE(head.header("Origin"), QByteArray("https://example.com"));
    QCOMPARE(head.header("user-agent"), QByteArray("Charger/1.0 (x86_64)"));
    QCOMPARE(head.header("sec-websocket-protocol"), QByteArray("ocpp2.0.1, ocpp1.6"));
    QCOMPARE(head.header("x-forwarded-for"), QByteArray("10.0.0.1"));
    QCOMPARE(head.header("X-Absent"), QByteArray());
    QVERIFY(head.headerValues("X-Absent").isEmpty());
}

void TestHttpHead::headerLookup()
{
    const QByteArray input = "GET / HTTP/1.1\r\nx-forwarded-FOR: 10.0.0.1\r\nAccept: a\r\n"
                             "X-Forwarded-For:\t 10.0.0.2, 10.0.0.3 \t\r\n\r\n";
    QCOMPARE(statusName(parseEveryPrefix(input, 1024).status), QByteArray("Complete"));
    HttpHead head;
    qsizetype length = 0;
    QCOMPARE(HttpHead::parse(input, &head, &length), Status::Complete);
    QCOMPARE(head.headers.size(), 3);
    QCOMPARE(head.headers.at(0).first, QByteArray("x-forwarded-FOR"));  // as sent
    QCOMPARE(head.headers.at(2).first, QByteArray("X-Forwarded-For"));
    QCOMPARE(head.header("X-FORWARDED-for"), QByteArray("10.0.0.1"));
    QCOMPARE(head.headerValues("x-forwarded-for"),
             QList<QByteArray>({"10.0.0.1", "10.0.0.2, 10.0.0.3"}));
}

void TestHttpHead::reader_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<qint64>("maxBody");
    QTest::addColumn<QByteArrayList>("expected");

    QTest::addRow("pipelined, content-length")
        << QByteArray(post("/a", "hello") + post("/b?q=1", "") + "GET /c HTTP/1.1\r\n\r\n")
        << qint64(100)
        << QByteArrayList{"POST /a ka=1 body=hello", "POST /b?q=1 ka=1 body=",
                          "GET /c ka=1 body=", "error=None"};
    QTest::addRow("pipelined, chunked")
        << QByteArray(chunkedPost("/p", "5\r\nhello\r\n6;ext=1\r\n world\r\nA\r\n0123456789\r\n"
                                        "0\r\nX-Trailer: t\r\n\r\n")
                      + chunkedPost("/q", "0\r\n\r\n") + post("/r", "ok"))
        << qint64(100)
        << QByteArrayList{"POST /p ka=1 body=hello world0123456789", "POST /q ka=1 body=",
                          "POST /r ka=1 body=ok", "error=None"};
    QTest::addRow("binary body")
        << post("/bin", QByteArray::fromHex("000d0a0d0aff")) << qint64(100)
        << QByteArrayList{"POST /bin ka=1 body=" + QByteArray::fromHex("000d0a0d0aff"),
                          "error=None"};
    QTest::addRow("empty lines between requests")
        << QByteArray("\r\n" + post("/a", "x") + "\r\n\r\n" + post("/b", "y"))
        << qint64(100)
        << QByteArrayList{"POST /a ka=1 body=x", "POST /b ka=1 body=y", "error=None"};
    QTest::addRow("only empty lines") << QByteArray("\r\n\r\n\n") << qint64(100)
                                      << QByteArrayList{"error=None"};
    QTest::addRow("incomplete body") << post("/a", "hello").chopped(1) << qint64(100)
                                     << QByteArrayList{"error=None"};
    QTest::addRow("HTTP/1.0 ends the connection")
        << QByteArray("GET /a HTTP/1.0\r\n\r\nGET /b HTTP/1.0\r\n\r\n") << qint64(100)
        << QByteArrayList{"GET /a ka=0 body=", "error=None"};
    QTest::addRow("HTTP/1.0 keep-alive")
        << QByteArray("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /b HTTP/1.0\r\n\r\n")
        << qint64(100) << QByteArrayList{"GET /a ka=1 body=", "GET /b ka=0 body=", "error=None"};
    QTest::addRow("Connection: close, then garbage")
        << QByteArray("GET /a HTTP/1.1\r\nConnection: close\r\n\r\n\x16\x03\x01") << qint64(100)
        << QByteArrayList{"GET /a ka=0 body=", "error=None"};
    QTest::addRow("upgrade request, then another")
        << QByteArray("GET /u HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
                      "GET /v HTTP/1.1\r\n\r\n")
        << qint64(100) << QByteArrayList{"GET /u ka=1 body=", "GET /v ka=1 body=", "error=None"};

    QTest::addRow("content-length at max") << post("/a", "12345") << qint64(5)
                                           << QByteArrayList{"POST /a ka=1 body=12345", "error=None"};
    QTest::addRow("content-length over max, before the body arrives")
        << QByteArray(post("/ok", "1") + "POST /big?x HTTP/1.1\r\nContent-Length: 6\r\n\r\n")
        << qint64(5)
        << QByteArrayList{"POST /ok ka=1 body=1", "error=BodyTooLarge", "rejected=POST /big?x"};
    QTest::addRow("content-length far over max")
        << QByteArray("POST /big HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n") << qint64(5)
        << QByteArrayList{"error=BodyTooLarge", "rejected=POST /big"};
    QTest::addRow("chunked at max") << chunkedPost("/c", "2\r\n12\r\n3\r\n345\r\n0\r\n\r\n")
                                    << qint64(5)
                                    << QByteArrayList{"POST /c ka=1 body=12345", "error=None"};
    QTest::addRow("chunked over max") << chunkedPost("/c", "3\r\n123\r\n3\r\n456\r\n0\r\n\r\n")
                                      << qint64(5)
                                      << QByteArrayList{"error=BodyTooLarge", "rejected=POST /c"};
    QTest::addRow("chunk size over max") << chunkedPost("/c", "ffffffff\r\n") << qint64(5)
                                         << QByteArrayList{"error=BodyTooLarge", "rejected=POST /c"};

    const auto malformed = [](const char *name, const QByteArray &input) {
        QTest::addRow("%s", name) << input << qint64(100)
                                  << QByteArrayList{"error=Malformed"};
    };
    malformed("chunk size not hex", chunkedPost("/c", "zz\r\nabc\r\n0\r\n\r\n"));
    malformed("chunk size negative", chunkedPost("/c", "-1\r\nabc\r\n0\r\n\r\n"));
    malformed("chunk size overflows", chunkedPost("/c", "10000000000000000\r\n"));
    malformed("chunk size missing", chunkedPost("/c", "\r\nabc\r\n0\r\n\r\n"));
    malformed("conflicting content-length",
              "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!");
    malformed("repeated content-length",
              "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello");
    malformed("content-length and chunked",
              "POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
              "5\r\nhello\r\n0\r\n\r\n");
    malformed("content-length negative", "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n");
    malformed("content-length not a number", "POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n");
    malformed("content-length list", "POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\nhello");
    malformed("transfer-encoding gzip", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n");
    malformed("TLS client hello", QByteArray::fromHex("160301020001000001fc0303"));
    malformed("hello", "hello\r\n\r\n");
    malformed("no version", "GET /x\r\n\r\n");
    malformed("obsolete line folding", "POST / HTTP/1.1\r\nX: a\r\n b\r\n\r\n");
    // The request before the error still comes out; then the error shows.
    QTest::addRow("garbage after a request")
        << QByteArray(post("/a", "x") + QByteArray::fromHex("000102")) << qint64(100)
        << QByteArrayList{"POST /a ka=1 body=x", "error=Malformed"};
}

void TestHttpHead::reader()
{
    QFETCH(QByteArray, input);
    QFETCH(qint64, maxBody);
    QFETCH(QByteArrayList, expected);

    QCOMPARE(runReader({input}, maxBody, 16 * 1024), expected);
    for (qsizetype i = 0; i <= input.size(); ++i) {
        const QByteArrayList split = runReader({input.first(i), input.sliced(i)}, maxBody, 16 * 1024);
        if (split != expected)
            QFAIL(qPrintable(QStringLiteral("split at %1: %2").arg(i).arg(QString::fromLatin1(split.join('|')))));
    }
    QList<QByteArrayView> bytes;
    for (qsizetype i = 0; i < input.size(); ++i)
        bytes.append(QByteArrayView(input).sliced(i, 1));
    QCOMPARE(runReader(bytes, maxBody, 16 * 1024), expected);
}

void TestHttpHead::readerHeadLimit_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<int>("maxHead");
    QTest::addColumn<QByteArrayList>("expected");

    const QByteArray ok{"error=None"};
    QTest::addRow("head at 16 KiB") << headOfSize(16 * 1024) << 16 * 1024
                                    << QByteArrayList{"GET /ocpp/CP1 ka=1 body=", ok};
    QTest::addRow("head over 16 KiB") << headOfSize(16 * 1024 + 1) << 16 * 1024
                                      << QByteArrayList{"error=HeadTooLarge"};
    QTest::addRow("head at 64") << headOfSize(64) << 64
                                << QByteArrayList{"GET /ocpp/CP1 ka=1 body=", ok};
    QTest::addRow("head over 64, no end yet") << headOfSize(80).first(64) << 64
                                              << QByteArrayList{"error=HeadTooLarge"};
    QTest::addRow("second head over 64")
        << QByteArray(headOfSize(64) + headOfSize(65)) << 64
        << QByteArrayList{"GET /ocpp/CP1 ka=1 body=", "error=HeadTooLarge"};
    QTest::addRow("empty lines count") << QByteArray("\r\n" + headOfSize(62)) << 64
                                       << QByteArrayList{"GET /ocpp/CP1 ka=1 body=", ok};
    QTest::addRow("empty lines over 64") << QByteArray("\r\n\r" + headOfSize(62)) << 64
                                         << QByteArrayList{"error=HeadTooLarge"};
    QTest::addRow("only empty lines, over 64") << QByteArray(64, '\n') << 64
                                               << QByteArrayList{"error=HeadTooLarge"};

    // QWebSocketServer's limits (HttpHead::LineLimits), on the push listener too.
    const QByteArray line8k = "GET /" + QByteArray(8 * 1024 - 16, 'a') + " HTTP/1.1\r\n";
    QTest::addRow("request line of 8 KiB") << QByteArray(line8k + "\r\n") << 16 * 1024
                                           << QByteArrayList{"GET " + line8k.sliced(4).chopped(11) + " ka=1 body=", ok};
    QTest::addRow("request line over 8 KiB")
        << QByteArray("GET /a" + line8k.sliced(5) + "\r\n") << 16 * 1024
        << QByteArrayList{"error=RequestLineTooLong"};
    QTest::addRow("request line over 8 KiB, no end yet") << QByteArray("GET /" + QByteArray(9000, 'a')) << 16 * 1024
                                                         << QByteArrayList{"error=RequestLineTooLong"};
    QTest::addRow("100 fields") << headWithFields(100) << 16 * 1024
                                << QByteArrayList{"GET /ocpp/CP1 ka=1 body=", ok};
    QTest::addRow("101 fields") << headWithFields(101) << 16 * 1024 << QByteArrayList{"error=HeadTooLarge"};
    QTest::addRow("field line of 8 KiB") << headWithFields(2, 8 * 1024) << 16 * 1024
                                         << QByteArrayList{"GET /ocpp/CP1 ka=1 body=", ok};
    QTest::addRow("field line over 8 KiB") << headWithFields(2, 8 * 1024 + 1) << 16 * 1024
                                           << QByteArrayList{"error=HeadTooLarge"};
}

void TestHttpHead::readerHeadLimit()
{
    QFETCH(QByteArray, input);
    QFETCH(int, maxHead);
    QFETCH(QByteArrayList, expected);

    QCOMPARE(runReader({input}, 100, maxHead), expected);
    for (qsizetype i = 0; i <= input.size(); ++i) {
        if (runReader({input.first(i), input.sliced(i)}, 100, maxHead) != expected)
            QFAIL(qPrintable(QStringLiteral("split at %1").arg(i)));
    }
    QList<QByteArrayView> bytes;
    for (qsizetype i = 0; i < input.size(); ++i)
        bytes.append(QByteArrayView(input).sliced(i, 1));
    QCOMPARE(runReader(bytes, 100, maxHead), expected);
}

QTEST_GUILESS_MAIN(TestHttpHead)
#include "tst_httphead.moc"
