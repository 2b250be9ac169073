// ClientFrameReader: the RFC 6455 rules a client's frames must keep, how much of a
// stream may be handed on, and (with a sink) the messages and control frames it tells.
// Every input is also fed split at every byte boundary and byte by byte, and must give
// the same verdict and the same events, each told by the feed() that brings its last
// byte.
#include <QTest>

#include <algorithm>
#include <optional>

#include "ClientFrames.h"
#include "ws/ClientFrameReader.h"

using namespace ws2api;
using namespace ws2api::test;
using Status = ClientFrameReader::Status;

Q_DECLARE_METATYPE(ClientFrameReader::Status)

namespace {

struct Verdict
{
    Status status;
    quint16 code;
    quint64 vouched;
    quint64 fed;
};

Verdict verdict(const ClientFrameReader &checker)
{
    return {checker.status(), checker.closeCode(), checker.vouched(), checker.fed()};
}

const QByteArray Good = clientFrame(0x81, "hello") + clientFrame(0x82, QByteArray(3, '\0'));

// What a reader tells its sink, as text, and how many bytes it had been given (the
// current feed() included) when it told each.
class Recorder final : public ClientFrameReader::Sink
{
public:
    QList<QByteArray> events;
    QList<qint64> toldBy;
    qint64 given = 0;

    void frameMessage(QByteArray payload, bool binary) override { tell((binary ? "binary " : "text ") + payload); }
    void framePing(QByteArray payload) override { tell("ping " + payload); }
    void framePong() override { tell("pong"); }
    void frameClose(std::optional<quint16> code, QByteArray reason) override
    {
        tell("close " + (code ? QByteArray::number(*code) : QByteArray("none")) + " [" + reason + "]");
    }

private:
    void tell(const QByteArray &what)
    {
        events.append(what);
        toldBy.append(given);
    }
};

// A stream built frame by frame, with the events it must give, each at the end of
// the frame that completes it.
struct Script
{
    QByteArray stream;
    QList<QByteArray> events;
    QList<qint64> ends;

    Script &frame(const QByteArray &bytes)
    {
        stream += bytes;
        return *this;
    }
    Script &told(const QByteArray &what)
    {
        events.append(what);
        ends.append(stream.size());
        return *this;
    }
};

// Every byte value, shuffled: a payload unmasked with the key turned wrong, or with
// bytes out of place, does not come back equal.
QByteArray varied(qsizetype size)
{
    QByteArray bytes(size, Qt::Uninitialized);
    for (qsizetype i = 0; i < size; ++i)
        bytes[i] = char((i * 167 + i / 256) & 0xff);
    return bytes;
}

QByteArray asciiText(qsizetype size)
{
    QByteArray text(size, Qt::Uninitialized);
    for (qsizetype i = 0; i < size; ++i)
        text[i] = char(' ' + (i * 31 + i / 95) % 95);
    return text;
}

// The stream fed in pieces ending at `ends` (the last is the stream's size): what is
// wrong with the events, or nothing.
QString mismatch(const QByteArray &stream, const QList<qint64> &ends, quint64 maxMessage, Status status,
                 const QList<QByteArray> &events, const QList<qint64> &eventEnds)
{
    Recorder recorder;
    ClientFrameReader reader(maxMessage, &recorder);
    qint64 at = 0;
    for (const qint64 end : ends) {
        recorder.given = end;
        reader.feed(QByteArrayView(stream).sliced(at, end - at));
        at = end;
    }
    if (reader.status() != status)
        return QStringLiteral("status %1, not %2").arg(int(reader.status())).arg(int(status));
    if (recorder.events.size() != events.size())
        return QStringLiteral("%1 events, not %2").arg(recorder.events.size()).arg(events.size());
    for (qsizetype i = 0; i < events.size(); ++i) {
        if (recorder.events[i] != events[i])
            return QStringLiteral("event %1 is \"%2\", not \"%3\"")
                .arg(i)
                .arg(QString::fromLatin1(recorder.events[i].left(60).toPercentEncoding(" []")),
                     QString::fromLatin1(events[i].left(60).toPercentEncoding(" []")));
        // Told by the feed() that brought the frame's last byte: not before, not later.
        const qint64 due = *std::lower_bound(ends.begin(), ends.end(), eventEnds[i]);
        if (recorder.toldBy[i] != due)
            return QStringLiteral("event %1 told after %2 bytes, not %3").arg(i).arg(recorder.toldBy[i]).arg(due);
    }
    return {};
}

// One row of events_data().
void eventRow(const char *name, const Script &script, Status status = Status::Ok, qint64 max = 1 << 20)
{
    QTest::addRow("%s", name) << script.stream << max << status << script.events << script.ends;
}

Script goodScript()
{
    return Script().frame(clientFrame(0x81, "hello")).told("text hello")
        .frame(clientFrame(0x82, QByteArray(3, '\0'))).told("binary " + QByteArray(3, '\0'));
}

void messageRows()
{
    const QByteArray notUtf8 = QByteArray::fromHex("00ff80c0afeda080f4908080fe");
    eventRow("text in one frame", Script().frame(clientFrame(0x81, "hello")).told("text hello"));
    eventRow("UTF-8 text", Script().frame(clientFrame(0x81, "gr\xc3\xbc\xc3\x9f\x65 \xe2\x82\xac\xf0\x9f\x98\x80"))
                          .told("text gr\xc3\xbc\xc3\x9f\x65 \xe2\x82\xac\xf0\x9f\x98\x80"));
    eventRow("binary", Script().frame(clientFrame(0x82, notUtf8)).told("binary " + notUtf8));
    eventRow("text then binary", goodScript());
    eventRow("fragmented text with a ping",
        Script().frame(clientFrame(0x01, "hel")).frame(clientFrame(0x00, "lo w\xc3"))
            .frame(clientFrame(0x89, "are you there")).told("ping are you there")
            .frame(clientFrame(0x80, "\xb6rld")).told("text hello w\xc3\xb6rld"));
    eventRow("fragmented binary with a pong",
        Script().frame(clientFrame(0x02, notUtf8)).frame(clientFrame(0x8a, "late")).told("pong")
            .frame(clientFrame(0x00, "\x01\x02")).frame(clientFrame(0x80, varied(9)))
            .told("binary " + notUtf8 + "\x01\x02" + varied(9)));
    eventRow("fragments, empty ones too",
        Script().frame(clientFrame(0x01, {})).frame(clientFrame(0x00, "a")).frame(clientFrame(0x00, {}))
            .frame(clientFrame(0x89, {})).told("ping ").frame(clientFrame(0x80, {})).told("text a"));
    eventRow("fragments then a whole message",
        Script().frame(clientFrame(0x02, "ab")).frame(clientFrame(0x80, "cd")).told("binary abcd")
            .frame(clientFrame(0x81, "ef")).told("text ef"));
    eventRow("empty text", Script().frame(clientFrame(0x81, {})).told("text "));
    eventRow("empty binary", Script().frame(clientFrame(0x82, {})).told("binary "));
    eventRow("empty fragmented text",
        Script().frame(clientFrame(0x01, {})).frame(clientFrame(0x80, {})).told("text "));
    eventRow("text of 200 bytes (16-bit length)", Script().frame(clientFrame(0x81, asciiText(200)))
                                                 .told("text " + asciiText(200)));
    eventRow("binary of 200 bytes (16-bit length)", Script().frame(clientFrame(0x82, varied(200)))
                                                   .told("binary " + varied(200)));
    eventRow("binary of 70,000 bytes (64-bit length)", Script().frame(clientFrame(0x82, varied(70000)))
                                                      .told("binary " + varied(70000)));
    const QByteArray longText = asciiText(40000) + "\xe2\x82\xac" + asciiText(29997);
    eventRow("text of 70,000 bytes (64-bit length)", Script().frame(clientFrame(0x81, longText))
                                                    .told("text " + longText));
    eventRow("binary of 70,000 bytes in two fragments",
        Script().frame(clientFrame(0x02, varied(70000).left(40000)))
            .frame(clientFrame(0x80, varied(70000).sliced(40000))).told("binary " + varied(70000)));
    eventRow("message of exactly the limit",
        Script().frame(clientFrame(0x01, "12345678")).frame(clientFrame(0x80, "12345678"))
            .told("text 1234567812345678"), Status::Ok, 16);
}

void controlRows()
{
    const QByteArray pingPayload("\0\xff ping", 7);
    eventRow("ping with a payload", Script().frame(clientFrame(0x89, pingPayload)).told("ping " + pingPayload));
    eventRow("ping of 125 bytes", Script().frame(clientFrame(0x89, varied(125))).told("ping " + varied(125)));
    eventRow("pong, its payload dropped", Script().frame(clientFrame(0x8a, "ignored")).told("pong")
                                         .frame(clientFrame(0x8a, {})).told("pong"));

    eventRow("close with a code and a reason",
        Script().frame(clientFrame(0x88, closePayload(1000, "bye"))).told("close 1000 [bye]"), Status::Closed);
    eventRow("close with a code only",
        Script().frame(clientFrame(0x88, closePayload(4999))).told("close 4999 []"), Status::Closed);
    eventRow("close without a code", Script().frame(clientFrame(0x88, {})).told("close none []"), Status::Closed);
    const QByteArray longReason = QByteArray(120, 'r') + "\xe2\x82\xac";
    eventRow("close with a reason of 123 bytes",
        Script().frame(clientFrame(0x88, closePayload(3000, longReason))).told("close 3000 [" + longReason + "]"),
        Status::Closed);
}

// The last events: the close frame, or a violation.
void endRows()
{
    // Nothing is told after the close frame, even what would be sound.
    eventRow("nothing after the close",
        goodScript().frame(clientFrame(0x88, closePayload(1001, "away"))).told("close 1001 [away]")
            .frame(Good).frame(clientFrame(0x89, "p")).frame(clientFrame(0x88, {})),
        Status::Closed);
    eventRow("close inside a fragmented message",
        Script().frame(clientFrame(0x01, "a")).frame(clientFrame(0x88, closePayload(1000))).told("close 1000 []")
            .frame(clientFrame(0x80, "b")),
        Status::Closed);

    // A violation: what came before it is told, nothing of it or after it.
    eventRow("after an unmasked frame", goodScript().frame(clientFrame(0x81, "hi", false)).frame(Good), Status::Violation);
    eventRow("after a message inside a fragmented one",
        goodScript().frame(clientFrame(0x01, "a")).frame(clientFrame(0x89, "p")).told("ping p")
            .frame(clientFrame(0x81, "b")).frame(Good),
        Status::Violation);
    eventRow("text not UTF-8 in the last fragment",
        goodScript().frame(clientFrame(0x01, "ab")).frame(clientFrame(0x80, "c\xff")).frame(Good), Status::Violation);
    eventRow("text cut short by an empty last fragment",
        goodScript().frame(clientFrame(0x01, "\xe2")).frame(clientFrame(0x80, {})).frame(Good), Status::Violation);
    eventRow("message over the limit in its second fragment",
        goodScript().frame(clientFrame(0x01, "12345678")).frame(clientFrame(0x80, "123456789")).frame(Good),
        Status::Violation, 16);
    eventRow("ping over 125 bytes", goodScript().frame(clientFrame(0x89, varied(126))).frame(Good), Status::Violation);
    eventRow("close code that may not be sent",
        goodScript().frame(clientFrame(0x88, closePayload(1005))).frame(Good), Status::Violation);
    eventRow("close reason not UTF-8",
        goodScript().frame(clientFrame(0x88, closePayload(1000, "ok\xff"))).frame(Good), Status::Violation);
}

} // namespace

class TestWsFrames : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void rules_data()
    {
        QTest::addColumn<QByteArray>("stream");
        QTest::addColumn<qint64>("maxMessage");
        QTest::addColumn<Status>("status");
        QTest::addColumn<int>("code");
        QTest::addColumn<qint64>("vouched");  // -1: all of it

        const auto ok = [](const char *name, const QByteArray &stream, qint64 max = 1 << 20) {
            QTest::addRow("%s", name) << stream << max << Status::Ok << 0 << qint64(-1);
        };
        // A violation in the frame after Good, found in its header: nothing of it passes.
        const auto refused = [](const char *name, const QByteArray &bad, int code, qint64 max = 1 << 20) {
            QTest::addRow("%s", name) << Good + bad + Good << max << Status::Violation << code
                                      << qint64(Good.size());
        };
        ok("text and binary", Good);
        ok("empty frames", clientFrame(0x81, {}) + clientFrame(0x82, {}) + clientFrame(0x89, {}) + clientFrame(0x8a, {}));
        ok("fragmented text", clientFrame(0x01, "hel") + clientFrame(0x00, "l") + clientFrame(0x80, "o"));
        ok("control frames inside a fragmented message",
           clientFrame(0x01, "a") + clientFrame(0x89, "p") + clientFrame(0x8a, "q") + clientFrame(0x80, "b"));
        ok("UTF-8 split across fragments", clientFrame(0x01, "\xe2\x82") + clientFrame(0x80, "\xac"));
        ok("UTF-8 at its limits", clientFrame(0x81, "\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80"
                                               "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf"));
        ok("binary need not be UTF-8", clientFrame(0x82, "\xff\xfe\xc0\xaf"));
        ok("16-bit length", clientFrame(0x82, QByteArray(126, 'x')));
        ok("64-bit length", clientFrame(0x82, QByteArray(65536, 'x')));
        ok("125-byte ping", clientFrame(0x89, QByteArray(125, 'p')));
        ok("message of exactly the limit", clientFrame(0x01, "12345678") + clientFrame(0x80, "12345678"), 16);
        QTest::addRow("incomplete header") << Good + frameHeader(0x81, 300).left(3) << qint64(1 << 20) << Status::Ok
                                           << 0 << qint64(Good.size());
        for (const quint16 code : {1000, 1001, 1003, 1007, 1011, 1012, 1014, 3000, 4999}) {
            QTest::addRow("close %d", code) << Good + clientFrame(0x88, closePayload(code, "bye")) + "junk after it"
                                            << qint64(1 << 20) << Status::Closed << 0 << qint64(-1);
        }
        QTest::addRow("close without a code") << Good + clientFrame(0x88, {}) << qint64(1 << 20) << Status::Closed << 0
                                              << qint64(-1);

        refused("unmasked", clientFrame(0x81, "hi", false), 1002);
        refused("RSV1", clientFrame(0xc1, "hi"), 1002);
        refused("RSV2", clientFrame(0xa1, "hi"), 1002);
        refused("RSV3", clientFrame(0x91, "hi"), 1002);
        for (const int opcode : {0x3, 0x7, 0xb, 0xf})
            QTest::addRow("opcode %x", opcode) << Good + clientFrame(quint8(0x80 | opcode), "x") << qint64(1 << 20)
                                               << Status::Violation << 1002 << qint64(Good.size());
        refused("ping over 125 bytes", clientFrame(0x89, QByteArray(126, 'p')), 1002);
        refused("close over 125 bytes", clientFrame(0x88, closePayload(1000, QByteArray(124, 'r'))), 1002);
        refused("fragmented ping", clientFrame(0x09, "p"), 1002);
        refused("fragmented close", clientFrame(0x08, closePayload(1000)), 1002);
        refused("stray continuation", clientFrame(0x80, "x"), 1002);
        // The first fragment passed: only the offending frame is held back.
        QTest::addRow("text inside a fragmented message")
            << Good + clientFrame(0x01, "a") + clientFrame(0x81, "b") << qint64(1 << 20) << Status::Violation << 1002
            << qint64(Good.size() + clientFrame(0x01, "a").size());
        QTest::addRow("binary inside a fragmented message")
            << Good + clientFrame(0x02, "a") + clientFrame(0x82, "b") << qint64(1 << 20) << Status::Violation << 1002
            << qint64(Good.size() + clientFrame(0x02, "a").size());
        refused("length with its top bit set", frameHeader(0x82, quint64(1) << 63) + "x", 1002);
        refused("length 2^64-1", frameHeader(0x82, ~quint64(0)) + "x", 1002);
        refused("16-bit length under 126", frameHeader(0x82, 5, 2) + "xxxxx", 1002);
        refused("64-bit length under 65536", frameHeader(0x82, 5, 8) + "xxxxx", 1002);
        refused("message over the limit", clientFrame(0x81, QByteArray(17, 'x')), 1009, 16);
        refused("huge length", frameHeader(0x82, quint64(1) << 40), 1009);
        refused("close with one byte", clientFrame(0x88, "x"), 1002);

        // Inside a payload, the offending byte and what follows are held back.
        const qint64 textStart = Good.size() + 6;
        const auto badText = [&](const char *name, const QByteArray &payload, int at) {
            QTest::addRow("text %s", name) << Good + clientFrame(0x81, payload) + Good << qint64(1 << 20)
                                           << Status::Violation << 1007 << textStart + at;
        };
        badText("0xff", "ab\xff", 2);
        badText("overlong", "\xc0\xaf", 0);
        badText("overlong 3 bytes", "\xe0\x80\x80", 1);
        badText("surrogate", "\xed\xa0\x80", 1);
        badText("over U+10FFFF", "\xf4\x90\x80\x80", 1);
        badText("lone continuation", "a\x80", 1);
        badText("cut short at its end", "a\xe2\x82", 2);
        // ASCII is checked eight bytes at a time: a bad byte anywhere in a run, and
        // after a sequence that ends off the eight-byte grid.
        for (int at = 0; at < 20; ++at) {
            QByteArray payload(40, 'a');
            payload[at] = '\xff';
            QTest::addRow("text 0xff at %d of an ASCII run", at)
                << Good + clientFrame(0x81, payload) + Good << qint64(1 << 20) << Status::Violation << 1007
                << textStart + at;
            const QByteArray mixed = QByteArray(at, 'b') + "\xc3\xa9" + QByteArray(30, 'c') + "\xe2\x82";
            QTest::addRow("text cut short after %d ASCII, a sequence and a run", at)
                << Good + clientFrame(0x81, mixed) << qint64(1 << 20) << Status::Violation << 1007
                << textStart + mixed.size() - 1;
        }
        ok("long ASCII runs around sequences", clientFrame(0x81, QByteArray(37, 'x') + "\xc3\xa9" + QByteArray(21, 'y')
                                                           + "\xf0\x9f\x98\x80" + QByteArray(17, 'z')));
        QTest::addRow("text cut short by an empty last fragment")
            << Good + clientFrame(0x01, "\xe2") + clientFrame(0x80, {}) << qint64(1 << 20) << Status::Violation << 1007
            << qint64(Good.size() + 7);
        for (const quint16 code : {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535}) {
            QTest::addRow("close code %d", code) << Good + clientFrame(0x88, closePayload(code)) << qint64(1 << 20)
                                                 << Status::Violation << 1002 << textStart + 1;
        }
        QTest::addRow("close reason not UTF-8") << Good + clientFrame(0x88, closePayload(4000, "ok\xff"))
                                                << qint64(1 << 20) << Status::Violation << 1007
                                                << textStart + 4;
        QTest::addRow("close reason cut short") << Good + clientFrame(0x88, closePayload(4000, "\xc3"))
                                                << qint64(1 << 20) << Status::Violation << 1007
                                                << textStart + 2;
    }

    void rules()
    {
        QFETCH(QByteArray, stream);
        QFETCH(qint64, maxMessage);
        QFETCH(Status, status);
        QFETCH(int, code);
        QFETCH(qint64, vouched);
        if (vouched < 0)
            vouched = stream.size();

        ClientFrameReader whole{quint64(maxMessage)};
        QCOMPARE(whole.feed(stream), status);
        QCOMPARE(whole.closeCode(), quint16(code));
        QCOMPARE(whole.vouched(), quint64(vouched));
        QCOMPARE(whole.fed(), quint64(stream.size()));
        QCOMPARE(QByteArrayView(whole.reason()).isEmpty(), status != Status::Violation);

        const Verdict expected = verdict(whole);
        Recorder recorder;
        ClientFrameReader withSink(quint64(maxMessage), &recorder);
        withSink.feed(stream);
        const Verdict told = verdict(withSink);
        QVERIFY2(told.status == expected.status && told.code == expected.code && told.vouched == expected.vouched
                     && told.fed == expected.fed,
                 "a sink changes the verdict");

        for (qsizetype cut = 1; cut < stream.size() && stream.size() < 4096; ++cut) {
            ClientFrameReader split{quint64(maxMessage)};
            split.feed(QByteArrayView(stream).first(cut));
            QVERIFY(split.vouched() <= quint64(cut));
            split.feed(QByteArrayView(stream).sliced(cut));
            const Verdict got = verdict(split);
            QVERIFY2(got.status == expected.status && got.code == expected.code
                         && got.vouched == expected.vouched && got.fed == expected.fed,
                     qPrintable(QStringLiteral("cut at %1").arg(cut)));
        }
        ClientFrameReader bytewise{quint64(maxMessage)};
        quint64 before = 0;
        for (const char c : stream) {
            bytewise.feed(QByteArrayView(&c, 1));
            QVERIFY(bytewise.vouched() >= before);
            before = bytewise.vouched();
        }
        const Verdict got = verdict(bytewise);
        QCOMPARE(got.status, expected.status);
        QCOMPARE(got.code, expected.code);
        QCOMPARE(got.vouched, expected.vouched);
    }

    // With a sink: the messages and control frames, told in stream order, each once.
    void events_data()
    {
        QTest::addColumn<QByteArray>("stream");
        QTest::addColumn<qint64>("maxMessage");
        QTest::addColumn<Status>("status");
        QTest::addColumn<QList<QByteArray>>("events");
        QTest::addColumn<QList<qint64>>("ends");  // where each event's last frame ends
        messageRows();
        controlRows();
        endRows();
    }

    void events()
    {
        QFETCH(QByteArray, stream);
        QFETCH(qint64, maxMessage);
        QFETCH(Status, status);
        QFETCH(QList<QByteArray>, events);
        QFETCH(QList<qint64>, ends);

        const auto check = [&](const QList<qint64> &pieceEnds, const QString &how) {
            const QString wrong = mismatch(stream, pieceEnds, quint64(maxMessage), status, events, ends);
            QVERIFY2(wrong.isEmpty(), qPrintable(how + QStringLiteral(": ") + wrong));
        };
        check({stream.size()}, QStringLiteral("whole"));
        if (QTest::currentTestFailed())
            return;
        for (qsizetype cut = 1; cut < stream.size(); ++cut) {
            check({cut, stream.size()}, QStringLiteral("cut at %1").arg(cut));
            if (QTest::currentTestFailed())
                return;
        }
        QList<qint64> bytes;
        for (qsizetype end = 1; end <= stream.size(); ++end)
            bytes.append(end);
        check(bytes, QStringLiteral("byte by byte"));
    }

    // A verdict stays; what comes after it counts as fed, never as vouched.
    void violationStays()
    {
        ClientFrameReader checker(1 << 20);
        QCOMPARE(checker.feed(clientFrame(0x81, "a", false)), Status::Violation);
        QCOMPARE(checker.feed(Good), Status::Violation);
        QCOMPARE(checker.vouched(), quint64(0));
        QCOMPARE(checker.fed(), quint64(clientFrame(0x81, "a", false).size() + Good.size()));
    }
};

QTEST_GUILESS_MAIN(TestWsFrames)
#include "tst_wsframes.moc"
