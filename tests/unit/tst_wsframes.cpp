// ClientFrameChecker: the RFC 6455 rules a client's frames must keep, and how much of
// a stream may be handed on. Every input is also fed split at every byte boundary
// and byte by byte, and must give the same verdict.
#include <QTest>

#include "ws/ClientFrameChecker.h"

using namespace ws2api;
using Status = ClientFrameChecker::Status;

Q_DECLARE_METATYPE(ClientFrameChecker::Status)

namespace {

constexpr char Key[4] = {'\x37', '\xfa', '\x21', '\x3d'};

// A frame's header: first byte `b0` (FIN, RSV1-3, opcode), the length in the form
// `lengthBytes` asks (0: seven bits, 2 or 8 more), the mask key unless `masked` is off.
QByteArray header(quint8 b0, quint64 length, int lengthBytes = -1, bool masked = true)
{
    if (lengthBytes < 0)
        lengthBytes = length < 126 ? 0 : length <= 0xffff ? 2 : 8;
    QByteArray out(1, char(b0));
    const char maskBit = masked ? char(0x80) : char(0);
    if (lengthBytes == 0) {
        out.append(char(maskBit | char(length)));
    } else {
        out.append(char(maskBit | (lengthBytes == 2 ? 126 : 127)));
        for (int i = lengthBytes - 1; i >= 0; --i)
            out.append(char(length >> (8 * i)));
    }
    if (masked)
        out.append(Key, 4);
    return out;
}

QByteArray frame(quint8 b0, const QByteArray &payload, bool masked = true)
{
    QByteArray out = header(b0, quint64(payload.size()), -1, masked);
    for (qsizetype i = 0; i < payload.size(); ++i)
        out.append(masked ? char(payload[i] ^ Key[i % 4]) : payload[i]);
    return out;
}

QByteArray closePayload(quint16 code, const QByteArray &reason = {})
{
    return QByteArray(1, char(code >> 8)) + char(code & 0xff) + reason;
}

struct Verdict
{
    Status status;
    quint16 code;
    quint64 vouched;
    quint64 fed;
};

Verdict verdict(const ClientFrameChecker &checker)
{
    return {checker.status(), checker.closeCode(), checker.vouched(), checker.fed()};
}

const QByteArray Good = frame(0x81, "hello") + frame(0x82, QByteArray(3, '\0'));

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
        ok("empty frames", frame(0x81, {}) + frame(0x82, {}) + frame(0x89, {}) + frame(0x8a, {}));
        ok("fragmented text", frame(0x01, "hel") + frame(0x00, "l") + frame(0x80, "o"));
        ok("control frames inside a fragmented message",
           frame(0x01, "a") + frame(0x89, "p") + frame(0x8a, "q") + frame(0x80, "b"));
        ok("UTF-8 split across fragments", frame(0x01, "\xe2\x82") + frame(0x80, "\xac"));
        ok("UTF-8 at its limits", frame(0x81, "\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80"
                                               "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf"));
        ok("binary need not be UTF-8", frame(0x82, "\xff\xfe\xc0\xaf"));
        ok("16-bit length", frame(0x82, QByteArray(126, 'x')));
        ok("64-bit length", frame(0x82, QByteArray(65536, 'x')));
        ok("125-byte ping", frame(0x89, QByteArray(125, 'p')));
        ok("message of exactly the limit", frame(0x01, "12345678") + frame(0x80, "12345678"), 16);
        QTest::addRow("incomplete header") << Good + header(0x81, 300).left(3) << qint64(1 << 20) << Status::Ok
                                           << 0 << qint64(Good.size());
        for (const quint16 code : {1000, 1001, 1003, 1007, 1011, 1012, 1014, 3000, 4999}) {
            QTest::addRow("close %d", code) << Good + frame(0x88, closePayload(code, "bye")) + "junk after it"
                                            << qint64(1 << 20) << Status::Closed << 0 << qint64(-1);
        }
        QTest::addRow("close without a code") << Good + frame(0x88, {}) << qint64(1 << 20) << Status::Closed << 0
                                              << qint64(-1);

        refused("unmasked", frame(0x81, "hi", false), 1002);
        refused("RSV1", frame(0xc1, "hi"), 1002);
        refused("RSV2", frame(0xa1, "hi"), 1002);
        refused("RSV3", frame(0x91, "hi"), 1002);
        for (const int opcode : {0x3, 0x7, 0xb, 0xf})
            QTest::addRow("opcode %x", opcode) << Good + frame(quint8(0x80 | opcode), "x") << qint64(1 << 20)
                                               << Status::Violation << 1002 << qint64(Good.size());
        refused("ping over 125 bytes", frame(0x89, QByteArray(126, 'p')), 1002);
        refused("close over 125 bytes", frame(0x88, closePayload(1000, QByteArray(124, 'r'))), 1002);
        refused("fragmented ping", frame(0x09, "p"), 1002);
        refused("fragmented close", frame(0x08, closePayload(1000)), 1002);
        refused("stray continuation", frame(0x80, "x"), 1002);
        // The first fragment passed: only the offending frame is held back.
        QTest::addRow("text inside a fragmented message")
            << Good + frame(0x01, "a") + frame(0x81, "b") << qint64(1 << 20) << Status::Violation << 1002
            << qint64(Good.size() + frame(0x01, "a").size());
        QTest::addRow("binary inside a fragmented message")
            << Good + frame(0x02, "a") + frame(0x82, "b") << qint64(1 << 20) << Status::Violation << 1002
            << qint64(Good.size() + frame(0x02, "a").size());
        refused("length with its top bit set", header(0x82, quint64(1) << 63) + "x", 1002);
        refused("length 2^64-1", header(0x82, ~quint64(0)) + "x", 1002);
        refused("16-bit length under 126", header(0x82, 5, 2) + "xxxxx", 1002);
        refused("64-bit length under 65536", header(0x82, 5, 8) + "xxxxx", 1002);
        refused("message over the limit", frame(0x81, QByteArray(17, 'x')), 1009, 16);
        refused("huge length", header(0x82, quint64(1) << 40), 1009);
        refused("close with one byte", frame(0x88, "x"), 1002);

        // Inside a payload, the offending byte and what follows are held back.
        const qint64 textStart = Good.size() + 6;
        const auto badText = [&](const char *name, const QByteArray &payload, int at) {
            QTest::addRow("text %s", name) << Good + frame(0x81, payload) + Good << qint64(1 << 20)
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
                << Good + frame(0x81, payload) + Good << qint64(1 << 20) << Status::Violation << 1007
                << textStart + at;
            const QByteArray mixed = QByteArray(at, 'b') + "\xc3\xa9" + QByteArray(30, 'c') + "\xe2\x82";
            QTest::addRow("text cut short after %d ASCII, a sequence and a run", at)
                << Good + frame(0x81, mixed) << qint64(1 << 20) << Status::Violation << 1007
                << textStart + mixed.size() - 1;
        }
        ok("long ASCII runs around sequences", frame(0x81, QByteArray(37, 'x') + "\xc3\xa9" + QByteArray(21, 'y')
                                                           + "\xf0\x9f\x98\x80" + QByteArray(17, 'z')));
        QTest::addRow("text cut short by an empty last fragment")
            << Good + frame(0x01, "\xe2") + frame(0x80, {}) << qint64(1 << 20) << Status::Violation << 1007
            << qint64(Good.size() + 7);
        for (const quint16 code : {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535}) {
            QTest::addRow("close code %d", code) << Good + frame(0x88, closePayload(code)) << qint64(1 << 20)
                                                 << Status::Violation << 1002 << textStart + 1;
        }
        QTest::addRow("close reason not UTF-8") << Good + frame(0x88, closePayload(4000, "ok\xff"))
                                                << qint64(1 << 20) << Status::Violation << 1007
                                                << textStart + 4;
        QTest::addRow("close reason cut short") << Good + frame(0x88, closePayload(4000, "\xc3"))
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

        ClientFrameChecker whole{quint64(maxMessage)};
        QCOMPARE(whole.feed(stream), status);
        QCOMPARE(whole.closeCode(), quint16(code));
        QCOMPARE(whole.vouched(), quint64(vouched));
        QCOMPARE(whole.fed(), quint64(stream.size()));
        QCOMPARE(QByteArrayView(whole.reason()).isEmpty(), status != Status::Violation);

        const Verdict expected = verdict(whole);
        for (qsizetype cut = 1; cut < stream.size() && stream.size() < 4096; ++cut) {
            ClientFrameChecker split{quint64(maxMessage)};
            split.feed(QByteArrayView(stream).first(cut));
            QVERIFY(split.vouched() <= quint64(cut));
            split.feed(QByteArrayView(stream).sliced(cut));
            const Verdict got = verdict(split);
            QVERIFY2(got.status == expected.status && got.code == expected.code
                         && got.vouched == expected.vouched && got.fed == expected.fed,
                     qPrintable(QStringLiteral("cut at %1").arg(cut)));
        }
        ClientFrameChecker bytewise{quint64(maxMessage)};
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

    // A verdict stays; what comes after it counts as fed, never as vouched.
    void violationStays()
    {
        ClientFrameChecker checker(1 << 20);
        QCOMPARE(checker.feed(frame(0x81, "a", false)), Status::Violation);
        QCOMPARE(checker.feed(Good), Status::Violation);
        QCOMPARE(checker.vouched(), quint64(0));
        QCOMPARE(checker.fed(), quint64(frame(0x81, "a", false).size() + Good.size()));
    }
};

QTEST_GUILESS_MAIN(TestWsFrames)
#include "tst_wsframes.moc"
