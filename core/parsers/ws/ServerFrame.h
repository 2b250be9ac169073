#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QtGlobal>

namespace ws2api::ws {

// What the daemon writes to a WebSocket client (RFC 6455): frames are whole (FIN),
// unmasked, and never compressed (no extension is agreed).
enum class Opcode : quint8 { Text = 0x1, Binary = 0x2, Close = 0x8, Ping = 0x9, Pong = 0xa };

// The longest header a server frame has: 2 bytes and 8 of length.
constexpr int MaxServerHeader = 10;

// Writes the header of a frame with `length` payload bytes to `out` (room for
// MaxServerHeader): how many bytes it took.
int serverFrameHeader(char *out, Opcode opcode, quint64 length);

// A close frame's payload: `code`, then `reason` cut to the 123 bytes a control frame
// has room for, at a UTF-8 character's start so that it stays UTF-8.
QByteArray closePayload(quint16 code, QByteArrayView reason);

// The Sec-WebSocket-Accept answering a client's Sec-WebSocket-Key (RFC 6455 4.2.2).
QByteArray acceptKey(QByteArrayView clientKey);

// The whole 101 answer to an upgrade: with `protocol` when the client offered any.
QByteArray switchingProtocols(QByteArrayView clientKey, QByteArrayView protocol);

} // namespace ws2api::ws
