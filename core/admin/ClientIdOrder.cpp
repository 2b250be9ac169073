#include "ClientIdOrder.h"

namespace ws2api::admin {

namespace {

bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

// The end of the digit run starting at `from`.
qsizetype digitsEnd(QByteArrayView s, qsizetype from)
{
    while (from < s.size() && isDigit(s[from]))
        ++from;
    return from;
}

int sign(int v)
{
    return (v > 0) - (v < 0);
}

int compareBytes(QByteArrayView a, QByteArrayView b)
{
    return sign(a.compare(b, Qt::CaseSensitive));
}

} // namespace

int compareClientIds(QByteArrayView a, QByteArrayView b)
{
    qsizetype i = 0;
    qsizetype j = 0;
    while (i < a.size() && j < b.size()) {
        if (!isDigit(a[i]) || !isDigit(b[j])) {
            if (a[i] != b[j])
                return quint8(a[i]) < quint8(b[j]) ? -1 : 1;
            ++i;
            ++j;
            continue;
        }
        // Numbers of any length: past their leading zeros the longer one is larger,
        // and equal lengths compare digit by digit.
        const qsizetype endA = digitsEnd(a, i);
        const qsizetype endB = digitsEnd(b, j);
        while (i < endA - 1 && a[i] == '0')
            ++i;
        while (j < endB - 1 && b[j] == '0')
            ++j;
        if (endA - i != endB - j)
            return endA - i < endB - j ? -1 : 1;
        if (const int c = compareBytes(a.sliced(i, endA - i), b.sliced(j, endB - j)); c != 0)
            return c;
        i = endA;
        j = endB;
    }
    if (i < a.size() || j < b.size())
        return i < a.size() ? 1 : -1;
    return compareBytes(a, b);
}

} // namespace ws2api::admin
