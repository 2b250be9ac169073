#include "ClientId.h"

#include <algorithm>

namespace ws2api::ClientId {

namespace {

constexpr qsizetype MaxLength = 255;

bool isUnreserved(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
        || c == '-' || c == '.' || c == '_' || c == '~';
}

bool isControl(char c)
{
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
}

int hexValue(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

} // namespace

std::optional<QByteArray> fromPath(QByteArrayView path)
{
    const QByteArrayView segment = path.sliced(path.lastIndexOf('/') + 1);
    // Each escape decodes to one byte, so a longer segment can only be rejected;
    // checking first bounds the work for hostile paths.
    if (segment.isEmpty() || segment.size() > 3 * MaxLength)
        return std::nullopt;
    std::optional<QByteArray> id = decodeSegment(segment);
    if (!id || id->isEmpty() || id->size() > MaxLength)
        return std::nullopt;
    // '/' can only come from "%2F": an id with one could not be put back into a path
    // as one segment by a component that does not encode it.
    if (id->contains('/') || std::any_of(id->cbegin(), id->cend(), isControl))
        return std::nullopt;
    return id;
}

QByteArray encodeSegment(QByteArrayView segment)
{
    static constexpr char Hex[] = "0123456789ABCDEF";
    QByteArray encoded;
    encoded.reserve(segment.size() * 3);
    for (const char c : segment) {
        if (isUnreserved(c)) {
            encoded.append(c);
        } else {
            const auto u = static_cast<unsigned char>(c);
            encoded.append('%');
            encoded.append(Hex[u >> 4]);
            encoded.append(Hex[u & 0xf]);
        }
    }
    return encoded;
}

// '+' stays a plus: form encoding's "space" does not apply to paths.
std::optional<QByteArray> decodeSegment(QByteArrayView segment)
{
    QByteArray decoded;
    decoded.reserve(segment.size());
    for (qsizetype i = 0; i < segment.size(); ++i) {
        if (segment[i] != '%') {
            decoded.append(segment[i]);
            continue;
        }
        if (i + 2 >= segment.size())
            return std::nullopt;
        const int high = hexValue(segment[i + 1]);
        const int low = hexValue(segment[i + 2]);
        if (high < 0 || low < 0)
            return std::nullopt;
        decoded.append(char(high * 16 + low));
        i += 2;
    }
    return decoded;
}

} // namespace ws2api::ClientId
