#pragma once

#include <QByteArray>

// Client-to-server WebSocket frames built by hand, for tests that send what no
// WebSocket library would: unmasked frames, lengths not in the fewest bytes, reserved
// bits and opcodes.
namespace ws2api::test {

inline constexpr char FrameMaskKey[4] = {'\x5a', '\x13', '\xc7', '\x01'};

// A frame's header: first byte `b0` (FIN, RSV1-3, opcode), the length in the form
// `lengthBytes` asks (0: seven bits, 2 or 8 more; -1: the fewest), masked with
// FrameMaskKey unless `masked` is off.
inline QByteArray frameHeader(quint8 b0, quint64 length, int lengthBytes = -1, bool masked = true)
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
        out.append(FrameMaskKey, 4);
    return out;
}

inline QByteArray clientFrame(quint8 b0, const QByteArray &payload, bool masked = true)
{
    QByteArray out = frameHeader(b0, quint64(payload.size()), -1, masked);
    for (qsizetype i = 0; i < payload.size(); ++i)
        out.append(masked ? char(payload[i] ^ FrameMaskKey[i % 4]) : payload[i]);
    return out;
}

inline QByteArray closePayload(quint16 code, const QByteArray &reason = {})
{
    return QByteArray(1, char(code >> 8)) + char(code & 0xff) + reason;
}

} // namespace ws2api::test
