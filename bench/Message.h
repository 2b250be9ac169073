#pragma once

// The load generator's message format: "<conn>:<seq>:" then filler up to --size.
// The prefix lets an echoed reply be traced to its sender and its place in order.

#include <charconv>
#include <cstddef>
#include <cstdint>

namespace loadgen {

// Two uint32_t of at most 10 digits each and two colons.
constexpr size_t MaxPrefix = 24;

// Writes the prefix to out (MaxPrefix bytes) and returns its length.
inline size_t messagePrefix(char *out, uint32_t id, uint32_t seq)
{
    char *end = std::to_chars(out, out + 10, id).ptr;
    *end++ = ':';
    end = std::to_chars(end, end + 10, seq).ptr;
    *end++ = ':';
    return size_t(end - out);
}

// Reads the connection index and sequence number back from a reply.
inline bool parseMessagePrefix(const uint8_t *payload, size_t size, uint32_t *id, uint32_t *seq)
{
    const char *text = reinterpret_cast<const char *>(payload);
    const char *end = text + size;
    const auto [idEnd, idError] = std::from_chars(text, end, *id);
    if (idError != std::errc() || idEnd == end || *idEnd != ':')
        return false;
    const auto [seqEnd, seqError] = std::from_chars(idEnd + 1, end, *seq);
    return seqError == std::errc() && seqEnd != end && *seqEnd == ':';
}

// The filler byte at payload position i; position-dependent so that a reply with
// bytes moved around does not pass for the message.
inline uint8_t paddingAt(size_t i)
{
    return uint8_t('a' + i % 26);
}

} // namespace loadgen
