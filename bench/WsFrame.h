#pragma once

// The client side of RFC 6455 framing: masked frames out, unmasked frames in.
// Works on caller-owned buffers so the per-message path allocates nothing.

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace loadgen::ws {

enum Opcode : uint8_t {
    Continuation = 0x0,
    Text = 0x1,
    Binary = 0x2,
    Close = 0x8,
    Ping = 0x9,
    Pong = 0xA,
};

// A client header is at most 2 + 8 (length) + 4 (mask) bytes.
constexpr size_t MaxClientHeader = 14;

struct FrameHeader
{
    bool fin = false;
    uint8_t opcode = 0;
    uint64_t length = 0;
    size_t headerSize = 0;            // a client frame's four mask bytes included
    const uint8_t *mask = nullptr;    // a client frame's mask, in the header
};

enum class ParseResult { Incomplete, Invalid, TooLarge, Ok };

// Reads one frame header from [data, data + size): a server's (unmasked), or with
// `masked` a client's (ws2api-floor's side). Invalid covers what the reader must
// fail the connection for: reserved bits, a mask bit other than `masked`, an unknown
// opcode, and a fragmented or oversized control frame; TooLarge a payload over
// maxPayload, told as soon as the length is read.
inline ParseResult parseHeader(const uint8_t *data, size_t size, bool masked, uint64_t maxPayload,
                               FrameHeader *out)
{
    if (size < 2)
        return ParseResult::Incomplete;
    const uint8_t b0 = data[0];
    const uint8_t b1 = data[1];
    out->fin = b0 & 0x80;
    out->opcode = b0 & 0x0f;
    if ((b0 & 0x70) != 0 || bool(b1 & 0x80) != masked)
        return ParseResult::Invalid;
    const bool control = out->opcode & 0x8;
    if (out->opcode > Binary && !(control && out->opcode <= Pong))
        return ParseResult::Invalid;
    uint64_t length = b1 & 0x7f;
    size_t header = 2;
    if (length == 126) {
        if (size < 4)
            return ParseResult::Incomplete;
        length = uint64_t(data[2]) << 8 | data[3];
        header = 4;
    } else if (length == 127) {
        if (size < 10)
            return ParseResult::Incomplete;
        length = 0;
        for (int i = 0; i < 8; ++i)
            length = length << 8 | data[2 + i];
        header = 10;
    }
    if (control && (!out->fin || length > 125))
        return ParseResult::Invalid;
    if (length > maxPayload)
        return ParseResult::TooLarge;
    if (masked) {
        if (size < header + 4)
            return ParseResult::Incomplete;
        out->mask = data + header;
        header += 4;
    }
    out->length = length;
    out->headerSize = header;
    return ParseResult::Ok;
}

// Writes a masked frame header into out (MaxClientHeader bytes) and returns its size.
inline size_t writeHeader(uint8_t *out, uint8_t opcode, uint64_t length, uint32_t mask)
{
    size_t n = 0;
    out[n++] = uint8_t(0x80 | opcode);
    if (length < 126) {
        out[n++] = uint8_t(0x80 | length);
    } else if (length <= 0xffff) {
        out[n++] = 0x80 | 126;
        out[n++] = uint8_t(length >> 8);
        out[n++] = uint8_t(length);
    } else {
        out[n++] = 0x80 | 127;
        for (int i = 7; i >= 0; --i)
            out[n++] = uint8_t(length >> (8 * i));
    }
    std::memcpy(out + n, &mask, 4);
    return n + 4;
}

// XORs the payload with the mask the header carries (its last four bytes).
inline void applyMask(uint8_t *payload, size_t size, const uint8_t *maskBytes)
{
    // Eight bytes at a time: large --size payloads would otherwise cost a byte loop.
    uint32_t mask32;
    std::memcpy(&mask32, maskBytes, 4);
    const uint64_t mask64 = uint64_t(mask32) << 32 | mask32;
    size_t i = 0;
    for (; i + 8 <= size; i += 8) {
        uint64_t word;
        std::memcpy(&word, payload + i, 8);
        word ^= mask64;
        std::memcpy(payload + i, &word, 8);
    }
    for (; i < size; ++i)
        payload[i] ^= maskBytes[i & 3];
}

// Builds a complete masked frame in out (needs MaxClientHeader + size bytes).
inline size_t buildFrame(uint8_t *out, uint8_t opcode, const void *payload, size_t size, uint32_t mask)
{
    const size_t header = writeHeader(out, opcode, size, mask);
    if (size > 0)
        std::memcpy(out + header, payload, size);
    applyMask(out + header, size, out + header - 4);
    return header + size;
}

} // namespace loadgen::ws
