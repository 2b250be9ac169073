#include "NaturalOrder.h"

namespace ws2api::gui {

namespace {

bool isDigit(QChar c)
{
    return c >= u'0' && c <= u'9';
}

// The end of the digit run starting at `from`.
qsizetype digitsEnd(QStringView s, qsizetype from)
{
    while (from < s.size() && isDigit(s[from]))
        ++from;
    return from;
}

int sign(int v)
{
    return (v > 0) - (v < 0);
}

} // namespace

int naturalCompare(QStringView a, QStringView b)
{
    qsizetype i = 0;
    qsizetype j = 0;
    while (i < a.size() && j < b.size()) {
        if (!isDigit(a[i]) || !isDigit(b[j])) {
            if (a[i] != b[j])
                return a[i] < b[j] ? -1 : 1;
            ++i;
            ++j;
            continue;
        }
        // Numbers of any length: without leading zeros, the longer one is larger, and
        // equal lengths compare digit by digit.
        const qsizetype endA = digitsEnd(a, i);
        const qsizetype endB = digitsEnd(b, j);
        while (i < endA - 1 && a[i] == u'0')
            ++i;
        while (j < endB - 1 && b[j] == u'0')
            ++j;
        if (endA - i != endB - j)
            return endA - i < endB - j ? -1 : 1;
        if (const int c = a.sliced(i, endA - i).compare(b.sliced(j, endB - j)); c != 0)
            return sign(c);
        i = endA;
        j = endB;
    }
    if (i < a.size() || j < b.size())
        return i < a.size() ? 1 : -1;
    return sign(a.compare(b));
}

} // namespace ws2api::gui
