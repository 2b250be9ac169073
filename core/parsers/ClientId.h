#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <optional>

namespace ws2api::ClientId {

// The ClientId of an upgrade path: its last segment, percent-decoded; 1-255 bytes,
// no control characters (0x00-0x1f, 0x7f), no '/'. nullopt when the path gives none
// (empty last segment, bad percent escape, over 255 bytes, ...).
std::optional<QByteArray> fromPath(QByteArrayView path);

// Percent-encodes one path segment so that any byte string round-trips and none can
// inject a path, query, fragment or header: everything but RFC 3986 unreserved
// characters is encoded.
QByteArray encodeSegment(QByteArrayView segment);

// Decodes one percent-encoded segment; nullopt on a malformed escape.
std::optional<QByteArray> decodeSegment(QByteArrayView segment);

} // namespace ws2api::ClientId
