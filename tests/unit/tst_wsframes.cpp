// ClientFrameChecker: the RFC 6455 rules a client's frames must keep, and how much of
// a stream may be handed on. Every input is also fed split at every byte boundary
// and byte by byte, and must give the same verdict.
#include <QTest>

#include "ClientFrames.h"
#include "ws/ClientFrameChecker.h"

using namespace ws2api;
using namespace ws2api::test;
using Status = ClientFrameChecker::Status;

Q_DECLARE_METATYPE(ClientFrameChecker::Status)

namespace {

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

const QByteArray Good = clientFrame(0x81, "hello") + clientFrame(0x82, QByteArray(3, '\0'));

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
        QCOMPARE(checker.feed(clientFrame(0x81, "a", false)), Status::Violation);
        QCOMPARE(checker.feed(Good), Status::Violation);
        QCOMPARE(checker.vouched(), quint64(0));
        QCOMPARE(checker.fed(), quint64(clientFrame(0x81, "a", false).size() + Good.size()));
    }
};

QTEST_GUILESS_MAIN(TestWsFrames)
#include "tst_wsframes.moc"
