// ServerFrame: what the daemon writes to a WebSocket client. A frame header's exact
// bytes for every length form; a close payload whose reason is cut to fit a control
// frame without breaking a UTF-8 character; the handshake's Sec-WebSocket-Accept (RFC
// 6455's own example) and the whole 101 answer.
#include <QTest>

#include "ClientFrames.h"
#include "ws/ClientFrameReader.h"
#include "ws/ServerFrame.h"

#include <algorithm>
#include <iterator>
#include <optional>

using namespace ws2api;

Q_DECLARE_METATYPE(ws2api::ws::Opcode)

namespace {

// The close frame a client would send with this payload, read back: its code and
// reason, or nothing if the reader refuses it.
class CloseRecorder final : public ClientFrameReader::Sink
{
public:
    std::optional<quint16> code;
    QByteArray reason;
    int closes = 0;

    void frameMessage(QByteArray, bool) override {}
    void framePing(QByteArray) override {}
    void framePong() override {}
    void frameClose(std::optional<quint16> c, QByteArray r) override
    {
        ++closes;
        code = c;
        reason = r;
    }
};

} // namespace

class TestServerFrame : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void header_data()
    {
        QTest::addColumn<ws::Opcode>("opcode");
        QTest::addColumn<quint64>("length");
        QTest::addColumn<QByteArray>("bytes");

        QTest::addRow("text 0") << ws::Opcode::Text << quint64(0) << QByteArray::fromHex("8100");
        QTest::addRow("text 125") << ws::Opcode::Text << quint64(125) << QByteArray::fromHex("817d");
        QTest::addRow("binary 126") << ws::Opcode::Binary << quint64(126) << QByteArray::fromHex("827e007e");
        QTest::addRow("binary 65535") << ws::Opcode::Binary << quint64(65535) << QByteArray::fromHex("827effff");
        QTest::addRow("binary 65536") << ws::Opcode::Binary << quint64(65536)
                                      << QByteArray::fromHex("827f0000000000010000");
        QTest::addRow("text 2^32") << ws::Opcode::Text << (quint64(1) << 32)
                                   << QByteArray::fromHex("817f0000000100000000");
        QTest::addRow("binary 2^63-1") << ws::Opcode::Binary << ((quint64(1) << 63) - 1)
                                       << QByteArray::fromHex("827f7fffffffffffffff");
        QTest::addRow("close 2") << ws::Opcode::Close << quint64(2) << QByteArray::fromHex("8802");
        QTest::addRow("ping 0") << ws::Opcode::Ping << quint64(0) << QByteArray::fromHex("8900");
        QTest::addRow("pong 125") << ws::Opcode::Pong << quint64(125) << QByteArray::fromHex("8a7d");
    }

    void header()
    {
        QFETCH(ws::Opcode, opcode);
        QFETCH(quint64, length);
        QFETCH(QByteArray, bytes);

        // Room for the longest header and a guard after it, which must stay as it was.
        char out[ws::MaxServerHeader + 4];
        std::fill(std::begin(out), std::end(out), '\xee');
        const int size = ws::serverFrameHeader(out, opcode, length);
        QCOMPARE(QByteArray(out, size), bytes);
        QVERIFY(size <= ws::MaxServerHeader);
        QCOMPARE(QByteArray(out + size, qsizetype(sizeof out) - size),
                 QByteArray(qsizetype(sizeof out) - size, '\xee'));
    }

    void closePayload_data()
    {
        QTest::addColumn<int>("code");
        QTest::addColumn<QByteArray>("reason");
        QTest::addColumn<QByteArray>("kept");  // of the reason

        const QByteArray euro = "\xe2\x82\xac";             // 3 bytes
        const QByteArray emoji = "\xf0\x9f\x98\x80";        // 4 bytes
        const QByteArray eAcute = "\xc3\xa9";               // 2 bytes
        QTest::addRow("no reason") << 1000 << QByteArray() << QByteArray();
        QTest::addRow("short reason") << 1001 << QByteArray("going away") << QByteArray("going away");
        QTest::addRow("UTF-8 reason") << 4000 << "caf" + eAcute + " " + euro << "caf" + eAcute + " " + euro;
        QTest::addRow("123 ASCII") << 1011 << QByteArray(123, 'a') << QByteArray(123, 'a');
        QTest::addRow("124 ASCII") << 1011 << QByteArray(124, 'a') << QByteArray(123, 'a');
        QTest::addRow("1000 ASCII") << 1011 << QByteArray(1000, 'a') << QByteArray(123, 'a');
        QTest::addRow("122 ASCII and a 3-byte character")
            << 1008 << QByteArray(122, 'a') + euro << QByteArray(122, 'a');
        QTest::addRow("121 ASCII, a 3-byte character and more")
            << 1008 << QByteArray(121, 'a') + euro + "bc" << QByteArray(121, 'a');
        QTest::addRow("120 ASCII and a 3-byte character, whole at 123")
            << 1008 << QByteArray(120, 'a') + euro + "x" << QByteArray(120, 'a') + euro;
        QTest::addRow("120 ASCII and a 4-byte character")
            << 3000 << QByteArray(120, 'a') + emoji << QByteArray(120, 'a');
        QTest::addRow("119 ASCII and a 4-byte character, whole at 123")
            << 3000 << QByteArray(119, 'a') + emoji + "x" << QByteArray(119, 'a') + emoji;
        QTest::addRow("122 ASCII and a 2-byte character")
            << 4999 << QByteArray(122, 'a') + eAcute << QByteArray(122, 'a');
        QTest::addRow("2-byte characters only") << 1000 << eAcute.repeated(70) << eAcute.repeated(61);
        QTest::addRow("3-byte characters only") << 1000 << euro.repeated(50) << euro.repeated(41);
        QTest::addRow("4-byte characters only") << 1000 << emoji.repeated(40) << emoji.repeated(30);
    }

    void closePayload()
    {
        QFETCH(int, code);
        QFETCH(QByteArray, reason);
        QFETCH(QByteArray, kept);

        const QByteArray payload = ws::closePayload(quint16(code), reason);
        QCOMPARE(payload, QByteArray(1, char(code >> 8)) + char(code & 0xff) + kept);
        QVERIFY(payload.size() <= 125);

        // A peer's reader takes it as a sound close frame, the reason UTF-8.
        CloseRecorder recorder;
        ClientFrameReader reader(1 << 20, &recorder);
        QCOMPARE(reader.feed(test::clientFrame(0x88, payload)), ClientFrameReader::Status::Closed);
        QCOMPARE(recorder.closes, 1);
        QCOMPARE(recorder.code, std::optional<quint16>(quint16(code)));
        QCOMPARE(recorder.reason, kept);
    }

    void acceptKey_data()
    {
        QTest::addColumn<QByteArray>("key");
        QTest::addColumn<QByteArray>("accept");

        // RFC 6455 section 1.3.
        QTest::addRow("RFC 6455") << QByteArray("dGhlIHNhbXBsZSBub25jZQ==")
                                  << QByteArray("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        // Computed apart (Python's hashlib and base64).
        QTest::addRow("another key") << QByteArray("x3JJHMbDL1EzLkh9GBhXDw==")
                                     << QByteArray("HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
    }

    void acceptKey()
    {
        QFETCH(QByteArray, key);
        QFETCH(QByteArray, accept);
        QCOMPARE(ws::acceptKey(key), accept);
    }

    void switchingProtocols_data()
    {
        QTest::addColumn<QByteArray>("protocol");
        QTest::addColumn<QByteArray>("answer");

        const QByteArray head = "HTTP/1.1 101 Switching Protocols\r\n"
                                "Upgrade: websocket\r\n"
                                "Connection: Upgrade\r\n"
                                "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n";
        QTest::addRow("without a protocol") << QByteArray() << head + "\r\n";
        QTest::addRow("with a protocol") << QByteArray("ocpp1.6")
                                         << head + "Sec-WebSocket-Protocol: ocpp1.6\r\n\r\n";
    }

    void switchingProtocols()
    {
        QFETCH(QByteArray, protocol);
        QFETCH(QByteArray, answer);
        QCOMPARE(ws::switchingProtocols(QByteArrayView("dGhlIHNhbXBsZSBub25jZQ=="), protocol), answer);
    }
};

QTEST_GUILESS_MAIN(TestServerFrame)
#include "tst_serverframe.moc"
