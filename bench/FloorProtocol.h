#pragma once

// The server's half of what ws2api-floor speaks: unmasked WebSocket frames out (RFC
// 6455 section 5; the masked frames coming in are read by WsFrame.h's parseHeader,
// which the load generator reads the server's with), and the API's HTTP/1.1
// response with a Content-Length or a chunked body. The handshake's header lookup
// comes from Handshake.h.

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "Handshake.h"
#include "WsFrame.h"

namespace wsfloor {

// An unmasked server frame header (at most 10 bytes) into out; returns its size.
inline size_t writeServerHeader(uint8_t *out, uint8_t opcode, uint64_t length)
{
    out[0] = uint8_t(0x80 | opcode);
    if (length < 126) {
        out[1] = uint8_t(length);
        return 2;
    }
    if (length <= 0xffff) {
        out[1] = 126;
        out[2] = uint8_t(length >> 8);
        out[3] = uint8_t(length);
        return 4;
    }
    out[1] = 127;
    for (int i = 0; i < 8; ++i)
        out[2 + i] = uint8_t(length >> (8 * (7 - i)));
    return 10;
}

struct ApiResponse
{
    enum class Result { Incomplete, Invalid, Complete };
    Result result = Result::Incomplete;
    int status = 0;
    bool close = false;   // the server said Connection: close
    size_t consumed = 0;  // bytes of the response, head and body
};

namespace detail {

// A chunked body from data[pos...]: appends the chunks to body. Returns the
// position after the last chunk's trailer, 0 when incomplete, npos when invalid.
inline size_t decodeChunked(std::string_view data, size_t pos, size_t maxBody, std::string *body)
{
    for (;;) {
        const size_t lineEnd = data.find("\r\n", pos);
        if (lineEnd == std::string_view::npos)
            return data.size() - pos > 64 ? std::string_view::npos : 0;
        size_t chunk = 0;
        const auto [end, ec] = std::from_chars(data.data() + pos, data.data() + lineEnd, chunk, 16);
        if (ec != std::errc() || end == data.data() + pos || chunk > maxBody - body->size())
            return std::string_view::npos;
        pos = lineEnd + 2;
        if (chunk == 0) {
            // Trailers, if any, end with an empty line; without them that line is next.
            if (data.substr(pos, 2) == "\r\n")
                return pos + 2;
            const size_t trailersEnd = data.find("\r\n\r\n", pos);
            return trailersEnd == std::string_view::npos ? 0 : trailersEnd + 4;
        }
        if (data.size() < pos + chunk + 2)
            return 0;
        if (data.substr(pos + chunk, 2) != "\r\n")
            return std::string_view::npos;
        body->append(data.data() + pos, chunk);
        pos += chunk + 2;
    }
}

} // namespace detail

// One HTTP/1.1 response at the start of data. The body is written to *body (cleared
// first), so a connection's buffer can be reused for the next response. A response
// without Content-Length or chunked encoding (a body up to the close) is Invalid:
// keep-alive needs one of them.
inline ApiResponse parseApiResponse(std::string_view data, size_t maxBody, std::string *body)
{
    using Result = ApiResponse::Result;
    ApiResponse r;
    body->clear();
    const size_t end = data.find("\r\n\r\n");
    if (end == std::string_view::npos) {
        r.result = data.size() > 16384 ? Result::Invalid : Result::Incomplete;
        return r;
    }
    const std::string_view head = data.substr(0, end + 2);
    if (head.size() < 12 || !loadgen::startsWithNoCase(head, "HTTP/1.")
        || std::from_chars(head.data() + 9, head.data() + 12, r.status).ec != std::errc()) {
        r.result = Result::Invalid;
        return r;
    }
    r.close = loadgen::startsWithNoCase(loadgen::headerValue(head, "Connection"), "close");
    const size_t bodyStart = end + 4;
    if (r.status < 200 || r.status == 204 || r.status == 304) {
        r.consumed = bodyStart;
        r.result = r.status < 200 ? Result::Invalid : Result::Complete;  // no 1xx is ever asked for
        return r;
    }
    if (loadgen::startsWithNoCase(loadgen::headerValue(head, "Transfer-Encoding"), "chunked")) {
        const size_t after = detail::decodeChunked(data, bodyStart, maxBody, body);
        r.result = after == std::string_view::npos ? Result::Invalid : after == 0 ? Result::Incomplete : Result::Complete;
        r.consumed = after == std::string_view::npos ? 0 : after;
        return r;
    }
    const std::string_view lengthText = loadgen::headerValue(head, "Content-Length");
    size_t length = 0;
    const auto [lengthEnd, ec] = std::from_chars(lengthText.data(), lengthText.data() + lengthText.size(), length);
    if (lengthText.empty() || ec != std::errc() || lengthEnd != lengthText.data() + lengthText.size() || length > maxBody) {
        r.result = Result::Invalid;
        return r;
    }
    if (data.size() - bodyStart < length)
        return r;  // Incomplete
    body->assign(data.data() + bodyStart, length);
    r.consumed = bodyStart + length;
    r.result = Result::Complete;
    return r;
}

} // namespace wsfloor
