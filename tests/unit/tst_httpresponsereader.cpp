// HttpResponseReader, what ApiConnection reads the API's responses with: every input
// is also given split at every byte boundary and byte by byte, and must give the same
// result.
#include <QTest>

#include "HttpResponseReader.h"

using namespace ws2api;
using Status = HttpResponseReader::Status;

namespace {

QByteArray statusName(Status status)
{
    switch (status) {
    case Status::Incomplete: return "Incomplete";
    case Status::Complete: return "Complete";
    case Status::BodyTooLarge: return "BodyTooLarge";
    case Status::Upgrade: return "Upgrade";
    case Status::Malformed: return "Malformed";
    }
    return "?";
}

// The reader's whole observable outcome for one way of feeding the input, then (if
// `close`) the end of the stream.
QByteArray run(const QList<QByteArrayView> &pieces, qint64 maxBody, bool close)
{
    HttpResponseReader reader(maxBody);
    Status status = Status::Incomplete;
    for (const QByteArrayView piece : pieces)
        status = reader.feed(piece);
    if (close)
        status = reader.finish();
    if (status != Status::Complete)
        return statusName(status) + ' ' + reader.errorString().toUtf8();
    const HttpResponseReader::Response response = reader.takeResponse();
    QByteArray s = QByteArray::number(response.status) + " ka=" + QByteArray::number(reader.keepAlive());
    for (const auto &[name, value] : response.headers)
        s += " [" + name + ": " + value + ']';
    return s + " body=" + response.body;
}

QByteArray ok(const QByteArray &body, const QByteArray &extraHeaders = {})
{
    return "HTTP/1.1 200 OK\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n"
        + extraHeaders + "\r\n" + body;
}

} // namespace

class TestHttpResponseReader : public QObject
{
    Q_OBJECT

private slots:
    void read_data();
    void read();
    void excessBytes();
    void reset();
};

void TestHttpResponseReader::read_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<qint64>("maxBody");
    QTest::addColumn<bool>("close");  // the API closes the connection after the input
    QTest::addColumn<QByteArray>("expected");

    const auto row = [](const char *name, const QByteArray &input, bool close, const QByteArray &expected) {
        QTest::addRow("%s", name) << input << qint64(16) << close << expected;
    };
    row("content-length", ok("{\"a\":1}"), false, "200 ka=1 [Content-Length: 7] body={\"a\":1}");
    row("headers as sent", ok("", "x-Trace:  a b \r\nX-Empty:\r\n"), false,
        "200 ka=1 [Content-Length: 0] [x-Trace: a b ] [X-Empty: ] body=");
    row("chunked with trailer",
        "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3;x=1\r\nabc\r\n2\r\nde\r\n"
        "0\r\nX-T: t\r\n\r\n",
        false, "201 ka=1 [Transfer-Encoding: chunked] [X-T: t] body=abcde");
    row("no content", "HTTP/1.1 204 No Content\r\n\r\n", false, "204 ka=1 body=");
    row("100 Continue first", "HTTP/1.1 100 Continue\r\n\r\n" + ok("x"), false,
        "200 ka=1 [Content-Length: 1] body=x");
    row("103 Early Hints first", "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" + ok("x"), false,
        "200 ka=1 [Content-Length: 1] body=x");
    // RFC 9112 6.3: these end with their head, whatever it announces (http_parser
    // waited for the body, and the request timed out or took the next response for it).
    row("no content with a length", "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n", false,
        "204 ka=1 [Content-Length: 5] body=");
    row("no content, chunked", "HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n", false,
        "204 ka=1 [Transfer-Encoding: chunked] body=");
    row("not modified with a length", "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n", false,
        "304 ka=1 [Content-Length: 5] body=");
    row("not modified with a length over the cap",
        "HTTP/1.1 304 Not Modified\r\nContent-Length: 99999999999\r\n\r\n", false,
        "304 ka=1 [Content-Length: 99999999999] body=");
    row("100 Continue with a length", "HTTP/1.1 100 Continue\r\nContent-Length: 99999999999\r\n\r\n"
        + ok("x"), false, "200 ka=1 [Content-Length: 1] body=x");
    row("HTTP/1.0", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi", false,
        "200 ka=0 [Content-Length: 2] body=hi");
    row("Connection: close", ok("hi", "Connection: close\r\n"), false,
        "200 ka=0 [Content-Length: 2] [Connection: close] body=hi");
    row("body to the close", "HTTP/1.1 200 OK\r\n\r\nuntil eof", true, "200 ka=0 body=until eof");
    row("body to the close, not closed yet", "HTTP/1.1 200 OK\r\n\r\nuntil eof", false, "Incomplete ");
    row("cut short", ok("hello").chopped(1), true, "Incomplete ");
    row("head cut short", "HTTP/1.1 200 OK\r\nContent-", true, "Incomplete ");
    row("nothing", "", true, "Incomplete ");
    row("body at the cap", ok(QByteArray(16, 'b')), false,
        "200 ka=1 [Content-Length: 16] body=" + QByteArray(16, 'b'));
    row("content-length over the cap", "HTTP/1.1 200 OK\r\nContent-Length: 17\r\n\r\n", false,
        "BodyTooLarge response body over 16 bytes");
    row("chunked over the cap",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n9\r\n123456789\r\n8\r\n12345678\r\n",
        false, "BodyTooLarge response body over 16 bytes");
    row("chunk announced over the cap",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffff\r\n", false,
        "BodyTooLarge response body over 16 bytes");
    row("body to the close over the cap", "HTTP/1.1 200 OK\r\n\r\n" + QByteArray(17, 'x'), false,
        "BodyTooLarge response body over 16 bytes");
    row("switching protocols",
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x00",
        false, "Upgrade unexpected protocol upgrade");
    row("garbage", "hello\r\n\r\n", false, "Malformed malformed response: invalid constant string");
    row("a request", "GET / HTTP/1.1\r\n\r\n", false,
        "Malformed malformed response: invalid constant string");
    row("bad chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", false,
        "Malformed malformed response: invalid character in chunk size header");
    row("two content-lengths", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        false, "Malformed malformed response: unexpected content-length header");
}

void TestHttpResponseReader::read()
{
    QFETCH(QByteArray, input);
    QFETCH(qint64, maxBody);
    QFETCH(bool, close);
    QFETCH(QByteArray, expected);

    QCOMPARE(run({input}, maxBody, close), expected);
    for (qsizetype i = 0; i <= input.size(); ++i) {
        const QByteArray split = run({input.first(i), input.sliced(i)}, maxBody, close);
        if (split != expected)
            QFAIL(qPrintable(QStringLiteral("split at %1: %2").arg(i).arg(QString::fromUtf8(split))));
    }
    QList<QByteArrayView> bytes;
    for (qsizetype i = 0; i < input.size(); ++i)
        bytes.append(QByteArrayView(input).sliced(i, 1));
    QCOMPARE(run(bytes, maxBody, close), expected);
}

// We never pipeline: bytes after the response in the same read mean a confused server,
// whose connection is not used again. Once complete, the reader takes nothing more.
void TestHttpResponseReader::excessBytes()
{
    HttpResponseReader reader(100);
    QCOMPARE(reader.feed(ok("a") + "HTTP/1.1 200 OK\r\n"), Status::Complete);
    QVERIFY(reader.hasExcessBytes());
    QCOMPARE(reader.feed("garbage"), Status::Complete);
    QCOMPARE(reader.takeResponse().body, QByteArray("a"));

    HttpResponseReader exact(100);
    QCOMPARE(exact.feed(ok("a")), Status::Complete);
    QVERIFY(!exact.hasExcessBytes());
}

// One reader serves every request on a keep-alive connection.
void TestHttpResponseReader::reset()
{
    HttpResponseReader reader(4);
    QCOMPARE(reader.feed(ok("12345")), Status::BodyTooLarge);
    reader.reset();
    QCOMPARE(reader.feed(ok("1234", "Connection: close\r\n")), Status::Complete);
    QVERIFY(!reader.keepAlive());
    reader.reset();
    QCOMPARE(reader.status(), Status::Incomplete);
    QVERIFY(reader.keepAlive());
    QCOMPARE(reader.feed(ok("ab")), Status::Complete);
    QCOMPARE(reader.takeResponse().body, QByteArray("ab"));
}

QTEST_GUILESS_MAIN(TestHttpResponseReader)
#include "tst_httpresponsereader.moc"
