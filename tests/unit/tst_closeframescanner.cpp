// CloseFrameScanner: the client's close frame found in its byte stream, whatever
// came before it and however the stream is split; a close without a code told from
// one with code 1000.
#include <QTest>

#include "CloseFrameScanner.h"

using namespace ws2api;

namespace {

QByteArray frame(int opcode, const QByteArray &payload, bool fin = true, bool masked = true)
{
    QByteArray out;
    out.append(char((fin ? 0x80 : 0) | opcode));
    const char maskBit = masked ? char(0x80) : char(0);
    const qsizetype n = payload.size();
    if (n < 126) {
        out.append(char(maskBit | char(n)));
    } else if (n <= 0xffff) {
        out.append(char(maskBit | 126));
        out.append(char(n >> 8)).append(char(n & 0xff));
    } else {
        out.append(char(maskBit | 127));
        for (int shift = 56; shift >= 0; shift -= 8)
            out.append(char((quint64(n) >> shift) & 0xff));
    }
    const unsigned char key[4] = {0x37, 0xfa, 0x21, 0x3d};
    if (masked)
        out.append(reinterpret_cast<const char *>(key), 4);
    for (qsizetype i = 0; i < n; ++i)
        out.append(masked ? char(payload[i] ^ key[i % 4]) : payload[i]);
    return out;
}

QByteArray closePayload(quint16 code, const QByteArray &reason = {})
{
    return QByteArray(1, char(code >> 8)) + char(code & 0xff) + reason;
}

// Feeds `stream` in pieces of `step` bytes the way the session does: what the
// scanner may pass over is skipped, only the rest is shown to it.
CloseFrameScanner scan(const QByteArray &stream, qsizetype step)
{
    CloseFrameScanner scanner;
    for (qsizetype at = 0; at < stream.size();) {
        const qsizetype end = std::min(stream.size(), at + step);
        while (at < end) {
            const auto pass = qsizetype(std::min<quint64>(scanner.skippable(), quint64(end - at)));
            if (pass > 0) {
                scanner.skip(quint64(pass));
                at += pass;
            } else {
                scanner.feed(QByteArrayView(stream).sliced(at, end - at));
                at = end;
            }
        }
    }
    return scanner;
}

} // namespace

class TestCloseFrameScanner : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void findsTheClose_data()
    {
        QTest::addColumn<QByteArray>("stream");
        QTest::addColumn<bool>("closed");
        QTest::addColumn<int>("code");  // -1: none
        QTest::addColumn<QByteArray>("reason");
        QTest::addColumn<bool>("malformed");
        const QByteArray hello = frame(0x1, "hello");
        QTest::addRow("nothing") << QByteArray() << false << -1 << QByteArray() << false;
        QTest::addRow("messages, no close") << hello + frame(0x2, QByteArray(300, 'x')) << false << -1
                                            << QByteArray() << false;
        QTest::addRow("close without a code") << frame(0x8, {}) << true << -1 << QByteArray() << false;
        QTest::addRow("close 1000") << frame(0x8, closePayload(1000)) << true << 1000 << QByteArray() << false;
        QTest::addRow("close 4000 bye") << frame(0x8, closePayload(4000, "bye")) << true << 4000
                                        << QByteArray("bye") << false;
        QTest::addRow("non-ASCII reason") << frame(0x8, closePayload(4001, "à bientôt 50%")) << true << 4001
                                          << QByteArray("à bientôt 50%") << false;
        QTest::addRow("one-byte payload") << frame(0x8, "x") << true << -1 << QByteArray() << true;
        QTest::addRow("unmasked close") << frame(0x8, closePayload(1001, "away"), true, false) << true << 1001
                                        << QByteArray("away") << false;
        QTest::addRow("after text, 16-bit and 64-bit lengths")
            << hello + frame(0x2, QByteArray(200, 'a')) + frame(0x2, QByteArray(70000, 'b'))
                   + frame(0x8, closePayload(4002, "done"))
            << true << 4002 << QByteArray("done") << false;
        QTest::addRow("after pings, pongs and fragments")
            << frame(0x9, "ping") + frame(0x1, "frag", false) + frame(0xA, "pong") + frame(0x0, "ment")
                   + frame(0x8, {})
            << true << -1 << QByteArray() << false;
        QTest::addRow("payload that looks like a close")
            << frame(0x2, frame(0x8, {}) + frame(0x8, closePayload(1000)), true, false)
            << false << -1 << QByteArray() << false;
        QTest::addRow("only the first close counts")
            << frame(0x8, {}) + frame(0x8, closePayload(4000, "late")) << true << -1 << QByteArray() << false;
        QTest::addRow("oversized close payload is cut")
            << frame(0x8, closePayload(4003, QByteArray(200, 'r'))) << true << 4003 << QByteArray(123, 'r')
            << false;
    }

    // Split at every byte boundary, byte by byte, and whole.
    void findsTheClose()
    {
        QFETCH(QByteArray, stream);
        QFETCH(bool, closed);
        QFETCH(int, code);
        QFETCH(QByteArray, reason);
        QFETCH(bool, malformed);
        const auto check = [&](const CloseFrameScanner &scanner) {
            QCOMPARE(scanner.close().has_value(), closed);
            if (!closed)
                return;
            QCOMPARE(scanner.close()->code.has_value(), code >= 0);
            if (code >= 0)
                QCOMPARE(int(*scanner.close()->code), code);
            QCOMPARE(scanner.close()->reason, reason);
            QCOMPARE(scanner.close()->malformed, malformed);
        };
        check(scan(stream, stream.size() + 1));
        if (QTest::currentTestFailed())
            return;
        check(scan(stream, 1));
        if (QTest::currentTestFailed())
            return;
        if (stream.size() > 1000)
            return;  // every split of the small streams is enough
        for (qsizetype cut = 1; cut < stream.size(); ++cut) {
            CloseFrameScanner scanner;
            scanner.feed(QByteArrayView(stream).first(cut));
            scanner.feed(QByteArrayView(stream).sliced(cut));
            check(scanner);
            if (QTest::currentTestFailed()) {
                qWarning("split at %lld", qlonglong(cut));
                return;
            }
        }
    }

    // A payload is passed over by its length: the scanner never needs to see it.
    void payloadsAreSkippable()
    {
        CloseFrameScanner scanner;
        const QByteArray big = frame(0x2, QByteArray(100000, 'z'));
        const qsizetype header = big.size() - 100000;
        scanner.feed(QByteArrayView(big).first(header));
        QCOMPARE(scanner.skippable(), quint64(100000));
        scanner.skip(60000);
        QCOMPARE(scanner.skippable(), quint64(40000));
        scanner.skip(40000);
        QCOMPARE(scanner.skippable(), quint64(0));
        scanner.feed(frame(0x8, closePayload(1000)));
        QVERIFY(scanner.close());
        QCOMPARE(scanner.skippable(), std::numeric_limits<quint64>::max());
        // A close frame's payload is not skippable: it is read.
        CloseFrameScanner closing;
        closing.feed(QByteArrayView(frame(0x8, closePayload(1000, "x"))).first(6));
        QCOMPARE(closing.skippable(), quint64(0));
    }

    // Absurd lengths (2^63 and more) are followed without harm; nothing is allocated
    // for them.
    void absurdLengthsAreHarmless()
    {
        CloseFrameScanner scanner;
        QByteArray header("\x82\xff\xff\xff\xff\xff\xff\xff\xff\xff\0\0\0\0", 14);
        scanner.feed(header);
        QCOMPARE(scanner.skippable(), std::numeric_limits<quint64>::max());
        scanner.skip(1u << 20);
        scanner.feed(QByteArray(4096, '\x88'));
        QVERIFY(!scanner.close());
    }
};

QTEST_GUILESS_MAIN(TestCloseFrameScanner)
#include "tst_closeframescanner.moc"
