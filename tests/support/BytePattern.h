#pragma once

#include <QByteArray>

namespace ws2api::test {

// Bytes whose position shows in their value (letters, shifted every 64 KiB), so a
// stream that lost, repeated or reordered a piece compares unequal.
inline QByteArray bytePattern(qsizetype size)
{
    QByteArray out(size, Qt::Uninitialized);
    for (qsizetype i = 0; i < size; ++i)
        out[i] = char('a' + (i * 7 + i / 65536) % 26);
    return out;
}

} // namespace ws2api::test
