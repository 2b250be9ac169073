#pragma once

// SHA-1 and base64, just enough for Sec-WebSocket-Accept (RFC 6455 section 4.2.2).
// Self-contained so the load generator needs no OpenSSL; SHA-1 is not used for
// anything where its weakness matters.

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace loadgen {

class Sha1
{
public:
    void update(const void *data, size_t size)
    {
        const auto *p = static_cast<const uint8_t *>(data);
        m_total += size;
        while (size > 0) {
            const size_t take = std::min(size, size_t(64) - m_used);
            std::memcpy(m_block + m_used, p, take);
            m_used += take;
            p += take;
            size -= take;
            if (m_used == 64) {
                compress();
                m_used = 0;
            }
        }
    }

    std::array<uint8_t, 20> finish()
    {
        const uint64_t bits = m_total * 8;
        const uint8_t pad = 0x80;
        update(&pad, 1);
        const uint8_t zero = 0;
        while (m_used != 56)
            update(&zero, 1);
        uint8_t length[8];
        for (int i = 0; i < 8; ++i)
            length[i] = uint8_t(bits >> (56 - 8 * i));
        update(length, 8);
        std::array<uint8_t, 20> digest{};
        for (int i = 0; i < 20; ++i)
            digest[i] = uint8_t(m_h[i / 4] >> (24 - 8 * (i % 4)));
        return digest;
    }

private:
    static uint32_t rotl(uint32_t v, int n) { return (v << n) | (v >> (32 - n)); }

    void compress()
    {
        uint32_t w[80];
        for (int i = 0; i < 16; ++i)
            w[i] = uint32_t(m_block[4 * i]) << 24 | uint32_t(m_block[4 * i + 1]) << 16
                | uint32_t(m_block[4 * i + 2]) << 8 | uint32_t(m_block[4 * i + 3]);
        for (int i = 16; i < 80; ++i)
            w[i] = rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
        uint32_t a = m_h[0], b = m_h[1], c = m_h[2], d = m_h[3], e = m_h[4];
        for (int i = 0; i < 80; ++i) {
            uint32_t f, k;
            if (i < 20) {
                f = (b & c) | (~b & d);
                k = 0x5A827999;
            } else if (i < 40) {
                f = b ^ c ^ d;
                k = 0x6ED9EBA1;
            } else if (i < 60) {
                f = (b & c) | (b & d) | (c & d);
                k = 0x8F1BBCDC;
            } else {
                f = b ^ c ^ d;
                k = 0xCA62C1D6;
            }
            const uint32_t t = rotl(a, 5) + f + e + k + w[i];
            e = d;
            d = c;
            c = rotl(b, 30);
            b = a;
            a = t;
        }
        m_h[0] += a;
        m_h[1] += b;
        m_h[2] += c;
        m_h[3] += d;
        m_h[4] += e;
    }

    uint32_t m_h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
    uint8_t m_block[64] = {};
    size_t m_used = 0;
    uint64_t m_total = 0;
};

// Writes base64 of [data, data + size) to out ((size + 2) / 3 * 4 bytes) and returns
// the length; the caller owns the buffer so a handshake allocates nothing.
inline size_t base64(const uint8_t *data, size_t size, char *out)
{
    static constexpr char Alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = 0;
    for (size_t i = 0; i < size; i += 3) {
        const uint32_t v = uint32_t(data[i]) << 16 | (i + 1 < size ? uint32_t(data[i + 1]) << 8 : 0)
            | (i + 2 < size ? uint32_t(data[i + 2]) : 0);
        out[n++] = Alphabet[(v >> 18) & 63];
        out[n++] = Alphabet[(v >> 12) & 63];
        out[n++] = i + 1 < size ? Alphabet[(v >> 6) & 63] : '=';
        out[n++] = i + 2 < size ? Alphabet[v & 63] : '=';
    }
    return n;
}

// Sec-WebSocket-Key is 16 random bytes, base64: 24 characters. The accept value is
// base64 of a 20-byte digest: 28 characters.
constexpr size_t KeyLength = 24;
constexpr size_t AcceptLength = 28;

// The value a server must send back for a given Sec-WebSocket-Key.
inline std::array<char, AcceptLength> websocketAccept(std::string_view key)
{
    static constexpr std::string_view Guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    Sha1 sha;
    sha.update(key.data(), key.size());
    sha.update(Guid.data(), Guid.size());
    const auto digest = sha.finish();
    std::array<char, AcceptLength> accept{};
    base64(digest.data(), digest.size(), accept.data());
    return accept;
}

} // namespace loadgen
