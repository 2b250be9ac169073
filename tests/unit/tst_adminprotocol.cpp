// The admin protocol codec: every encoder's exact bytes, every parse path and its
// error, and the line reader fed at every byte boundary, with lines at and over the cap.
#include <QJsonArray>
#include <QTest>

#include "AdminProtocol.h"
#include "ClientIdOrder.h"

using namespace ws2api::admin;
using namespace Qt::Literals::StringLiterals;

namespace {

// Feeds `chunks` one after another, draining after each; "TOO LONG" marks a TooLong.
QList<QByteArray> readAll(const QList<QByteArrayView> &chunks)
{
    LineReader reader;
    QList<QByteArray> out;
    for (const QByteArrayView chunk : chunks) {
        reader.feed(chunk);
        QByteArray line;
        for (;;) {
            const LineReader::Status status = reader.next(&line);
            if (status == LineReader::Status::Incomplete)
                break;
            out.append(status == LineReader::Status::Line ? line : "TOO LONG"_ba);
        }
    }
    return out;
}

QList<QByteArrayView> inChunks(QByteArrayView data, qsizetype size)
{
    QList<QByteArrayView> chunks;
    for (qsizetype i = 0; i < data.size(); i += size)
        chunks.append(data.sliced(i, qMin(size, data.size() - i)));
    return chunks;
}

} // namespace

class TestAdminProtocol : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void encoders_data()
    {
        QTest::addColumn<QByteArray>("encoded");
        QTest::addColumn<QByteArray>("expected");
        const QJsonObject body{{u"clientId"_s, u"CP1"_s}, {u"n"_s, 2}};
        QTest::addRow("request") << encodeRequest(7, u"push"_s, body)
                                 << R"({"body":{"clientId":"CP1","n":2},"id":7,"type":"push"})"_ba;
        QTest::addRow("request, no body") << encodeRequest(1, u"stats"_s)
                                          << R"({"body":{},"id":1,"type":"stats"})"_ba;
        QTest::addRow("big id") << encodeRequest(9007199254740993LL, u"hello"_s)
                                << R"({"body":{},"id":9007199254740993,"type":"hello"})"_ba;
        QTest::addRow("reply") << encodeReply(7, body) << R"({"body":{"clientId":"CP1","n":2},"id":7,"ok":true})"_ba;
        QTest::addRow("error") << encodeError(7, u"unknown_client"_s, u"no \"CP1\""_s)
                               << "{\"error\":{\"code\":\"unknown_client\",\"message\":\"no \\\"CP1\\\"\"},\"id\":7,\"ok\":false}"_ba;
        QTest::addRow("error, no id") << encodeError(std::nullopt, u"bad_request"_s, u"not JSON"_s)
                                      << R"({"error":{"code":"bad_request","message":"not JSON"},"ok":false})"_ba;
        QTest::addRow("event") << encodeEvent(u"stats"_s, {{u"connections"_s, 3}})
                               << R"({"body":{"connections":3},"type":"stats"})"_ba;
        QTest::addRow("newline in a value") << encodeEvent(u"x"_s, {{u"s"_s, u"a\nb"_s}})
                                            << R"({"body":{"s":"a\nb"},"type":"x"})"_ba;
    }

    void encoders()
    {
        QFETCH(QByteArray, encoded);
        QFETCH(QByteArray, expected);
        QVERIFY(encoded.endsWith('\n'));
        QCOMPARE(encoded.count('\n'), 1);  // compact: one line, whatever the values hold
        encoded.chop(1);
        QCOMPARE(encoded, expected);
    }

    void parseRequest_data()
    {
        QTest::addColumn<QByteArray>("line");
        QTest::addColumn<QString>("error");  // empty: parses
        QTest::addColumn<qint64>("id");      // -1: none readable
        QTest::addColumn<QString>("type");
        QTest::addColumn<QJsonObject>("body");
        const QJsonObject none;
        QTest::addRow("full") << R"({"id":7,"type":"push","body":{"a":1}})"_ba << QString() << 7LL << u"push"_s
                              << QJsonObject{{u"a"_s, 1}};
        QTest::addRow("no body") << R"({"id":0,"type":"stats"})"_ba << QString() << 0LL << u"stats"_s << none;
        QTest::addRow("null body") << R"({"id":1,"type":"stats","body":null})"_ba << QString() << 1LL << u"stats"_s << none;
        QTest::addRow("negative id") << R"({"id":-5,"type":"t"})"_ba << QString() << -5LL << u"t"_s << none;
        QTest::addRow("id 1.0") << R"({"id":1.0,"type":"t"})"_ba << QString() << 1LL << u"t"_s << none;
        QTest::addRow("id 2^53") << R"({"id":9007199254740992,"type":"t"})"_ba << QString() << 9007199254740992LL
                                 << u"t"_s << none;
        QTest::addRow("extra fields, spaces, CR") << "  {\"id\":2, \"type\":\"t\", \"x\":[]}\r"_ba << QString()
                                                  << 2LL << u"t"_s << none;
        QTest::addRow("empty") << ""_ba << u"not JSON"_s << -1LL << QString() << none;
        QTest::addRow("garbage") << "hello"_ba << u"not JSON"_s << -1LL << QString() << none;
        QTest::addRow("truncated") << "{\"id\":3,\"type\":\"st"_ba << u"not JSON"_s << -1LL << QString() << none;
        QTest::addRow("bad utf-8") << "{\"id\":3,\"type\":\"\xff\"}"_ba << u"not JSON"_s << -1LL << QString() << none;
        QTest::addRow("array") << R"([1,2])"_ba << u"not an object"_s << -1LL << QString() << none;
        QTest::addRow("number") << "5"_ba << u"not an object"_s << -1LL << QString() << none;
        QTest::addRow("string") << R"("text")"_ba << u"not an object"_s << -1LL << QString() << none;
        QTest::addRow("two values") << "1,2"_ba << u"not JSON"_s << -1LL << QString() << none;
        QTest::addRow("bracket injection") << "1],[2"_ba << u"not JSON"_s << -1LL << QString() << none;
        QTest::addRow("no id") << R"({"type":"stats"})"_ba << u"no id"_s << -1LL << QString() << none;
        QTest::addRow("string id") << R"({"id":"7","type":"stats"})"_ba << u"id is not an integer"_s << -1LL
                                   << QString() << none;
        QTest::addRow("fraction id") << R"({"id":1.5,"type":"stats"})"_ba << u"id is not an integer"_s << -1LL
                                     << QString() << none;
        QTest::addRow("huge id") << R"({"id":1e300,"type":"stats"})"_ba << u"id is not an integer"_s << -1LL
                                 << QString() << none;
        QTest::addRow("null id") << R"({"id":null,"type":"stats"})"_ba << u"id is not an integer"_s << -1LL
                                 << QString() << none;
        QTest::addRow("no type") << R"({"id":4})"_ba << u"no type"_s << 4LL << QString() << none;
        QTest::addRow("empty type") << R"({"id":4,"type":""})"_ba << u"no type"_s << 4LL << QString() << none;
        QTest::addRow("number type") << R"({"id":4,"type":5})"_ba << u"no type"_s << 4LL << QString() << none;
        QTest::addRow("array body") << R"({"id":5,"type":"t","body":[]})"_ba << u"body is not an object"_s << 5LL
                                    << QString() << none;
        QTest::addRow("string body") << R"({"id":5,"type":"t","body":"{}"})"_ba << u"body is not an object"_s
                                     << 5LL << QString() << none;
    }

    void parseRequest()
    {
        QFETCH(QByteArray, line);
        QFETCH(QString, error);
        QFETCH(qint64, id);
        QFETCH(QString, type);
        QFETCH(QJsonObject, body);
        QString why = u"untouched"_s;
        std::optional<qint64> readId = 42;  // must be reset when no id is readable
        const std::optional<Request> request = ws2api::admin::parseRequest(line, &why, &readId);
        QCOMPARE(readId.value_or(-1), id);
        if (!error.isEmpty()) {
            QVERIFY(!request);
            QCOMPARE(why, error);
            return;
        }
        QVERIFY2(request, qPrintable(why));
        QCOMPARE(request->id.value_or(-1), id);
        QCOMPARE(request->type, type);
        QCOMPARE(request->body, body);
    }

    void requestRoundTrip()
    {
        const QJsonObject body{{u"message"_s, u"héllo\n\"x\""_s}, {u"list"_s, QJsonArray{1, u"2"_s}}};
        const QByteArray line = encodeRequest(123456789012LL, u"push"_s, body);
        QString error;
        std::optional<qint64> id;
        const auto request = ws2api::admin::parseRequest(QByteArrayView(line).chopped(1), &error, &id);
        QVERIFY2(request, qPrintable(error));
        QCOMPARE(*request->id, 123456789012LL);
        QCOMPARE(request->type, u"push"_s);
        QCOMPARE(request->body, body);
    }

    void parseIncoming_data()
    {
        QTest::addColumn<QByteArray>("line");
        QTest::addColumn<QString>("error");  // empty: parses
        QTest::addColumn<qint64>("id");      // -1: none
        QTest::addColumn<QString>("type");
        QTest::addColumn<bool>("ok");
        QTest::addColumn<QJsonObject>("body");
        QTest::addColumn<QString>("errorCode");
        QTest::addColumn<QString>("errorMessage");
        const QJsonObject none;
        const QJsonObject one{{u"a"_s, 1}};
        auto chopped = [](const QByteArray &encoded) { return encoded.chopped(1); };
        QTest::addRow("reply") << chopped(encodeReply(3, one)) << QString() << 3LL << QString() << true << one
                               << QString() << QString();
        QTest::addRow("reply, no body") << R"({"id":3,"ok":true})"_ba << QString() << 3LL << QString() << true
                                        << none << QString() << QString();
        QTest::addRow("error") << chopped(encodeError(4, u"unknown_client"_s, u"gone"_s)) << QString() << 4LL
                               << QString() << false << none << u"unknown_client"_s << u"gone"_s;
        QTest::addRow("error, no id") << chopped(encodeError(std::nullopt, u"bad_request"_s, u"not JSON"_s))
                                      << QString() << -1LL << QString() << false << none << u"bad_request"_s
                                      << u"not JSON"_s;
        QTest::addRow("error, no message") << R"({"id":4,"ok":false,"error":{"code":"x"}})"_ba << QString()
                                           << 4LL << QString() << false << none << u"x"_s << QString();
        QTest::addRow("event") << chopped(encodeEvent(u"stats"_s, one)) << QString() << -1LL << u"stats"_s
                               << false << one << QString() << QString();
        QTest::addRow("event, no body") << R"({"type":"stats"})"_ba << QString() << -1LL << u"stats"_s << false
                                        << none << QString() << QString();
        const auto bad = [&](const char *name, const QByteArray &line, const QString &error) {
            QTest::addRow("%s", name) << line << error << -1LL << QString() << false << none << QString()
                                      << QString();
        };
        bad("not JSON", "{\"id\":"_ba, u"not JSON"_s);
        bad("not an object", "\"text\""_ba, u"not an object"_s);
        bad("event without type", R"({"body":{}})"_ba, u"no type"_s);
        bad("event, array body", R"({"type":"stats","body":[]})"_ba, u"body is not an object"_s);
        bad("fraction id", R"({"id":0.5,"ok":true})"_ba, u"id is not an integer"_s);
        bad("no ok", R"({"id":1,"body":{}})"_ba, u"ok is not a boolean"_s);
        bad("string ok", R"({"id":1,"ok":"true"})"_ba, u"ok is not a boolean"_s);
        bad("reply, array body", R"({"id":1,"ok":true,"body":[]})"_ba, u"body is not an object"_s);
        bad("error without error", R"({"id":1,"ok":false})"_ba, u"error is not an object with a code"_s);
        bad("error without code", R"({"id":1,"ok":false,"error":{"message":"m"}})"_ba,
            u"error is not an object with a code"_s);
    }

    void parseIncoming()
    {
        QFETCH(QByteArray, line);
        QFETCH(QString, error);
        QFETCH(qint64, id);
        QFETCH(QString, type);
        QFETCH(bool, ok);
        QFETCH(QJsonObject, body);
        QFETCH(QString, errorCode);
        QFETCH(QString, errorMessage);
        QString why;
        const std::optional<Incoming> incoming = ws2api::admin::parseIncoming(line, &why);
        if (!error.isEmpty()) {
            QVERIFY(!incoming);
            QCOMPARE(why, error);
            return;
        }
        QVERIFY2(incoming, qPrintable(why));
        QCOMPARE(incoming->id.value_or(-1), id);
        QCOMPARE(incoming->type, type);
        QCOMPARE(incoming->ok, ok);
        QCOMPARE(incoming->body, body);
        QCOMPARE(incoming->errorCode, errorCode);
        QCOMPARE(incoming->errorMessage, errorMessage);
    }

    void lineReaderAtEveryByteBoundary()
    {
        const QByteArray stream = encodeRequest(1, u"hello"_s, {{u"version"_s, 1}}) + "\n"_ba  // an empty line
                                  + encodeRequest(2, u"stats"_s) + "{\"partial"_ba;
        const QList<QByteArray> expected = {encodeRequest(1, u"hello"_s, {{u"version"_s, 1}}).chopped(1),
                                            QByteArray(), encodeRequest(2, u"stats"_s).chopped(1)};
        const QByteArrayView all(stream);
        for (qsizetype i = 0; i <= stream.size(); ++i) {
            for (qsizetype j = i; j <= stream.size(); ++j)
                QCOMPARE(readAll({all.first(i), all.sliced(i, j - i), all.sliced(j)}), expected);
        }
        QCOMPARE(readAll(inChunks(all, 1)), expected);
    }

    void lineReaderIncompleteIsNotInvalid()
    {
        LineReader reader;
        QByteArray line = "untouched"_ba;
        QCOMPARE(reader.next(&line), LineReader::Status::Incomplete);
        reader.feed("{\"id\":1,\"type\":\"st");  // an incomplete line is no error yet
        QCOMPARE(reader.next(&line), LineReader::Status::Incomplete);
        QCOMPARE(line, "untouched"_ba);
        reader.feed("ats\"}\n");
        QCOMPARE(reader.next(&line), LineReader::Status::Line);
        QString error;
        std::optional<qint64> id;
        QVERIFY(ws2api::admin::parseRequest(line, &error, &id));
        QCOMPARE(reader.next(&line), LineReader::Status::Incomplete);
    }

    void lineReaderCap_data()
    {
        QTest::addColumn<qsizetype>("length");
        QTest::addColumn<bool>("fits");
        QTest::addRow("cap - 1") << MaxLineBytes - 1 << true;
        QTest::addRow("cap") << MaxLineBytes << true;
        QTest::addRow("cap + 1") << MaxLineBytes + 1 << false;
        QTest::addRow("2 MiB") << 2 * MaxLineBytes << false;
    }

    // A line of `length` bytes between two short ones, fed in one piece, in 64 KiB
    // chunks, and split at every byte boundary around the cap.
    void lineReaderCap()
    {
        QFETCH(qsizetype, length);
        QFETCH(bool, fits);
        const QByteArray big(length, 'x');
        const QByteArray stream = "before\n"_ba + big + "\nafter\n"_ba;
        const QList<QByteArray> expected = {"before"_ba, fits ? big : "TOO LONG"_ba, "after"_ba};
        const QByteArrayView all(stream);
        QCOMPARE(readAll({all}), expected);
        QCOMPARE(readAll(inChunks(all, 64 * 1024)), expected);
        const qsizetype start = 7;  // where the big line begins
        for (qsizetype split = start + MaxLineBytes - 2; split <= start + MaxLineBytes + 3; ++split) {
            if (split <= stream.size())
                QCOMPARE(readAll({all.first(split), all.sliced(split)}), expected);
        }
        QCOMPARE(readAll({all.first(start + length), all.sliced(start + length, 1), all.sliced(start + length + 1)}),
                 expected);
    }

    void lineReaderReportsAnUnterminatedLongLineOnce()
    {
        LineReader reader;
        QByteArray line;
        const QByteArray chunk(MaxLineBytes / 2, 'y');
        reader.feed(chunk);
        reader.feed(chunk);
        QCOMPARE(reader.next(&line), LineReader::Status::Incomplete);  // exactly the cap: may still end
        reader.feed("y");
        QCOMPARE(reader.next(&line), LineReader::Status::TooLong);
        QCOMPARE(reader.next(&line), LineReader::Status::Incomplete);
        for (int i = 0; i < 3; ++i) {  // more of the same line: dropped, not reported again
            reader.feed(chunk);
            QCOMPARE(reader.next(&line), LineReader::Status::Incomplete);
        }
        reader.feed("yyy\n{\"id\":9");
        QCOMPARE(reader.next(&line), LineReader::Status::Incomplete);
        reader.feed(",\"type\":\"stats\"}\n");
        QCOMPARE(reader.next(&line), LineReader::Status::Line);
        QCOMPARE(line, R"({"id":9,"type":"stats"})"_ba);
    }

    // The order `connections` pages in (and the GUI's completions): numbers by value.
    void clientIdOrder_data()
    {
        QTest::addColumn<QByteArray>("a");
        QTest::addColumn<QByteArray>("b");
        QTest::addColumn<int>("order");
        QTest::addRow("2 < 10") << "CP-2"_ba << "CP-10"_ba << -1;
        QTest::addRow("1 < 10") << "CP-1"_ba << "CP-10"_ba << -1;
        QTest::addRow("text first") << "CP-9"_ba << "DP-1"_ba << -1;
        QTest::addRow("prefix") << "CP"_ba << "CP-1"_ba << -1;
        QTest::addRow("zeros tie") << "CP-01"_ba << "CP-1"_ba << -1;
        QTest::addRow("zeros by value") << "CP-010"_ba << "CP-9"_ba << 1;
        QTest::addRow("same") << "CP-7"_ba << "CP-7"_ba << 0;
        QTest::addRow("empty") << ""_ba << "0"_ba << -1;
        QTest::addRow("long numbers") << "x99999999999999999999"_ba << "x100000000000000000000"_ba << -1;
        QTest::addRow("inner runs") << "a2b10"_ba << "a2b9"_ba << 1;
        QTest::addRow("digits before letters") << "CP1"_ba << "CPA"_ba << -1;
        QTest::addRow("UTF-8 by code point") << "z"_ba << "\xc3\xa9"_ba << -1;
    }

    void clientIdOrder()
    {
        QFETCH(QByteArray, a);
        QFETCH(QByteArray, b);
        QFETCH(int, order);
        QCOMPARE(ws2api::admin::compareClientIds(a, b), order);
        QCOMPARE(ws2api::admin::compareClientIds(b, a), -order);
        QCOMPARE(ws2api::admin::clientIdLess(a, b), order < 0);
    }
};

QTEST_GUILESS_MAIN(TestAdminProtocol)
#include "tst_adminprotocol.moc"
