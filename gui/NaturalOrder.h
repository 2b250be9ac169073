#pragma once

#include <QStringView>

namespace ws2api::gui {

// ClientIds in the order an operator counts them: CP-2 before CP-10. Runs of ASCII
// digits compare by value, everything else by UTF-16 code unit (for ASCII the byte
// order ws2apid uses); ties such as CP-01 and CP-1 fall back to plain text order, so
// the order is total and the same on every machine, unlike a locale's collation.
int naturalCompare(QStringView a, QStringView b);

inline bool naturalLess(QStringView a, QStringView b)
{
    return naturalCompare(a, b) < 0;
}

} // namespace ws2api::gui
