#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QHash>
#include <QList>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

// What every target shares. Inputs are the bytes a peer sends, with no header of
// parameters, so that seeds are plain requests and frames; the ways of feeding them
// (whole, split, byte by byte) and the small limits are derived from the bytes.
namespace ws2api::fuzz {

inline QByteArrayView input(const uint8_t *data, size_t size)
{
    return {reinterpret_cast<const char *>(data), qsizetype(size)};
}

// A number the input chooses, stable for one input.
inline size_t choice(QByteArrayView data)
{
    return qHash(data, 0);
}

// The input as a socket might deliver it: cut at points the input chooses.
inline QList<QByteArrayView> split(QByteArrayView data)
{
    QList<QByteArrayView> pieces;
    size_t state = choice(data) | 1;
    while (!data.isEmpty()) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        const qsizetype size = std::min<qsizetype>(data.size(), qsizetype(1 + (state >> 33) % 97));
        pieces.append(data.first(size));
        data = data.sliced(size);
    }
    return pieces;
}

inline QList<QByteArrayView> bytewise(QByteArrayView data)
{
    QList<QByteArrayView> pieces;
    for (qsizetype i = 0; i < data.size(); ++i)
        pieces.append(data.sliced(i, 1));
    return pieces;
}

// A property that does not hold is a finding like a crash: print both sides and abort
// so that libFuzzer keeps the input.
inline void require(bool holds, const char *what, const QByteArray &expected = {},
                    const QByteArray &actual = {})
{
    if (holds)
        return;
    std::fprintf(stderr, "property failed: %s\n  expected: %s\n  actual:   %s\n", what,
                 expected.constData(), actual.constData());
    std::abort();
}

} // namespace ws2api::fuzz
