#include "ws/ServerFrame.h"

#include <QCryptographicHash>

#include <algorithm>

namespace ws2api::ws {

int serverFrameHeader(char *out, Opcode opcode, quint64 length)
{
    out[0] = char(0x80 | quint8(opcode));
    if (length < 126) {
        out[1] = char(length);
        return 2;
    }
    const int lengthBytes = length <= 0xffff ? 2 : 8;
    out[1] = char(lengthBytes == 2 ? 126 : 127);
    for (int i = 0; i < lengthBytes; ++i)
        out[2 + i] = char(length >> (8 * (lengthBytes - 1 - i)));
    return 2 + lengthBytes;
}

QByteArray closePayload(quint16 code, QByteArrayView reason)
{
    constexpr qsizetype MaxReason = 125 - 2;
    qsizetype size = std::min(reason.size(), MaxReason);
    if (size < reason.size()) {
        while (size > 0 && (quint8(reason[size]) & 0xc0) == 0x80)
            --size;  // a continuation byte: the character starts before
    }
    QByteArray payload;
    payload.reserve(2 + size);
    payload.append(char(code >> 8)).append(char(code & 0xff)).append(reason.first(size));
    return payload;
}

QByteArray acceptKey(QByteArrayView clientKey)
{
    QCryptographicHash sha1(QCryptographicHash::Sha1);
    sha1.addData(clientKey);
    sha1.addData(QByteArrayView("258EAFA5-E914-47DA-95CA-C5AB0DC85B11"));
    return sha1.result().toBase64();
}

QByteArray switchingProtocols(QByteArrayView clientKey, QByteArrayView protocol)
{
    QByteArray answer = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Accept: " + acceptKey(clientKey) + "\r\n";
    if (!protocol.isEmpty())
        answer += "Sec-WebSocket-Protocol: " + protocol.toByteArray() + "\r\n";
    return answer + "\r\n";
}

} // namespace ws2api::ws
