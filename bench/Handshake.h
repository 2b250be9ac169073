#pragma once

// The client's half of the WebSocket opening handshake (RFC 6455 section 4): the
// upgrade request, and the check of the server's 101 response.

#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "Sha1.h"

namespace loadgen {

// The key is derived from a secret and the connection index, so it is unpredictable
// yet needs no per-connection storage until the response is checked.
inline void makeKey(uint64_t secret, uint32_t id, char *out)
{
    const auto mix = [](uint64_t x) { // splitmix64
        x += 0x9E3779B97F4A7C15ull;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
        return x ^ (x >> 31);
    };
    uint8_t raw[16];
    const uint64_t a = mix(secret ^ (uint64_t(id) << 1));
    const uint64_t b = mix(secret ^ (uint64_t(id) << 1 | 1));
    std::memcpy(raw, &a, 8);
    std::memcpy(raw + 8, &b, 8);
    base64(raw, sizeof raw, out);
}

// Writes the GET request into out; returns its length, or 0 if it does not fit.
// The path ends in the ClientId: <idPrefix><id> for a connection's first attempt,
// <idPrefix><id>.<generation> for its reconnects under --churn (each a new ClientId).
// protocol: the subprotocol to offer, or empty for none.
inline size_t buildUpgradeRequest(char *out, size_t capacity, const char *basePath, const char *idPrefix,
                                  uint32_t id, unsigned generation, const char *host, const char *key,
                                  std::string_view protocol)
{
    char suffix[16] = "";
    if (generation > 0)
        std::snprintf(suffix, sizeof suffix, ".%u", generation);
    const int n = std::snprintf(out, capacity,
                                "GET %s%s%u%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
                                "Connection: Upgrade\r\nSec-WebSocket-Key: %.*s\r\n"
                                "Sec-WebSocket-Version: 13\r\n%s%.*s%s\r\n",
                                basePath, idPrefix, id, suffix, host, int(KeyLength), key,
                                protocol.empty() ? "" : "Sec-WebSocket-Protocol: ", int(protocol.size()),
                                protocol.empty() ? "" : protocol.data(), protocol.empty() ? "" : "\r\n");
    return n > 0 && size_t(n) < capacity ? size_t(n) : 0;
}

inline bool startsWithNoCase(std::string_view text, std::string_view prefix)
{
    if (text.size() < prefix.size())
        return false;
    for (size_t i = 0; i < prefix.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(text[i])) != std::tolower(static_cast<unsigned char>(prefix[i])))
            return false;
    }
    return true;
}

// The value of header `name` in a response head, without surrounding blanks.
inline std::string_view headerValue(std::string_view head, std::string_view name)
{
    size_t pos = head.find("\r\n");
    while (pos != std::string_view::npos && pos + 2 < head.size()) {
        const size_t start = pos + 2;
        const size_t end = head.find("\r\n", start);
        const std::string_view line = head.substr(start, end == std::string_view::npos ? head.npos : end - start);
        if (startsWithNoCase(line, name) && line.size() > name.size() && line[name.size()] == ':') {
            std::string_view value = line.substr(name.size() + 1);
            while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
                value.remove_prefix(1);
            while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
                value.remove_suffix(1);
            return value;
        }
        pos = end;
    }
    return {};
}

struct UpgradeResponse
{
    enum class Result { Incomplete, Malformed, Refused, BadAccept, BadSubprotocol, Accepted };
    Result result = Result::Incomplete;
    int status = 0;         // the HTTP status, when there was one
    size_t headSize = 0;    // bytes up to and including the blank line
};

// Checks the response in [data, data + size) against the key that was sent and, when
// one was offered, the subprotocol: a server that does not name it in its 101 would
// speak something else. Bytes after the head already belong to the WebSocket stream.
inline UpgradeResponse parseUpgradeResponse(std::string_view data, std::string_view key, std::string_view protocol,
                                            size_t maxHead)
{
    using Result = UpgradeResponse::Result;
    UpgradeResponse r;
    const size_t end = data.find("\r\n\r\n");
    if (end == std::string_view::npos) {
        r.result = data.size() > maxHead ? Result::Malformed : Result::Incomplete;
        return r;
    }
    r.headSize = end + 4;
    const std::string_view head = data.substr(0, end + 2);
    if (head.size() < 12 || !startsWithNoCase(head, "HTTP/1.1 ")
        || std::from_chars(head.data() + 9, head.data() + 12, r.status).ec != std::errc()) {
        r.result = Result::Malformed;
        return r;
    }
    if (r.status != 101) {
        r.result = Result::Refused;
        return r;
    }
    const auto accept = websocketAccept(key);
    const bool matches = headerValue(head, "Sec-WebSocket-Accept") == std::string_view(accept.data(), accept.size());
    if (!matches)
        r.result = Result::BadAccept;
    else if (!protocol.empty() && headerValue(head, "Sec-WebSocket-Protocol") != protocol)
        r.result = Result::BadSubprotocol;
    else
        r.result = Result::Accepted;
    return r;
}

} // namespace loadgen
