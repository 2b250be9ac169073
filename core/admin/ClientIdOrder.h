#pragma once

#include <QByteArrayView>

namespace ws2api::admin {

// ClientIds in the order an operator counts them: CP-2 before CP-10. Runs of ASCII
// digits compare by value, all other bytes as bytes (UTF-8: by code point); ties
// such as CP-01 and CP-1 fall back to plain byte order, so the order is total and
// the same on every machine, unlike a locale's collation. The daemon pages the
// admin `connections` listing in this order; the GUI sorts its completions by it.
int compareClientIds(QByteArrayView a, QByteArrayView b);

inline bool clientIdLess(QByteArrayView a, QByteArrayView b)
{
    return compareClientIds(a, b) < 0;
}

} // namespace ws2api::admin
