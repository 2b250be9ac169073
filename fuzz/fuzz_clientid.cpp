// ClientId: the id from an upgrade path's last segment (percent-decoded, 1-255 bytes,
// no control character, no '/'), and the encoding that puts any byte string back
// into a path as one segment.
#include "ClientId.h"
#include "FuzzSupport.h"

using namespace ws2api;
using fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size)
{
    const QByteArrayView data = fuzz::input(bytes, size);
    if (const std::optional<QByteArray> id = ClientId::fromPath(data)) {
        require(!id->isEmpty() && id->size() <= 255 && !id->contains('/'), "an id", {}, *id);
        for (const char c : *id)
            require(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f, "no control character", {},
                    *id);
        require(ClientId::fromPath("/ocpp/" + ClientId::encodeSegment(*id)) == id,
                "an id goes back into a path", *id);
    }
    // Nothing but RFC 3986 unreserved characters and escapes: no '/', '?', '#', space,
    // CR or LF can reach a path or a header.
    const QByteArray encoded = ClientId::encodeSegment(data);
    for (const char c : encoded) {
        require((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                    || QByteArrayView("-._~%").contains(c),
                "an encoded segment", {}, encoded);
    }
    require(ClientId::decodeSegment(encoded) == data.toByteArray(), "decode(encode(x)) == x",
            data.toByteArray(), encoded);
    ClientId::decodeSegment(data);
    return 0;
}
