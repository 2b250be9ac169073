#pragma once

// The load generator's OCPP-J messages: a Heartbeat CALL per message, MessageId
// "<conn>.<seq>", and a quick look at a reply's type and MessageId. Works on
// caller-owned buffers, so the per-message path allocates nothing.

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace loadgen {

// The MessageId is "<conn>.<seq>": two uint32_t, so at most 21 of OCPP's 36 characters.
inline size_t ocppMessageId(char *out, uint32_t id, uint32_t seq)
{
    char *end = std::to_chars(out, out + 10, id).ptr;
    *end++ = '.';
    end = std::to_chars(end, end + 10, seq).ptr;
    return size_t(end - out);
}

// [2,"<MessageId>","Heartbeat",{}] around a MessageId of MaxPrefix characters at most.
constexpr size_t MaxOcppCallOverhead = 64;

// The CALL frame's size: `size` when there is room for the padding, else the bare frame.
inline size_t ocppCallSize(size_t idSize, size_t size)
{
    constexpr size_t Bare = std::string_view(R"([2,"","Heartbeat",{}])").size();
    return std::max(Bare + idSize, size);
}

// Writes [2,"<id>","Heartbeat",{...}] of exactly ocppCallSize(idSize, size) bytes.
// The payload is padded with a "pad" string taken from filler (size bytes of letters);
// a gap too short for that is padded with blanks, which JSON allows.
inline size_t writeOcppCall(uint8_t *out, const char *messageId, size_t idSize, size_t size, const uint8_t *filler)
{
    constexpr std::string_view Head = R"([2,")";
    constexpr std::string_view Action = R"(","Heartbeat",{)";
    constexpr std::string_view PadKey = R"("pad":")";
    const size_t total = ocppCallSize(idSize, size);
    char *p = reinterpret_cast<char *>(out);
    p = std::copy(Head.begin(), Head.end(), p);
    p = std::copy(messageId, messageId + idSize, p);
    p = std::copy(Action.begin(), Action.end(), p);
    const size_t gap = total - (Head.size() + idSize + Action.size() + 2);
    if (gap >= PadKey.size() + 1) {
        p = std::copy(PadKey.begin(), PadKey.end(), p);
        p = std::copy(filler, filler + (gap - PadKey.size() - 1), p);
        *p++ = '"';
    } else {
        p = std::fill_n(p, gap, ' ');
    }
    *p++ = '}';
    *p++ = ']';
    return size_t(p - reinterpret_cast<char *>(out));
}

struct OcppReply
{
    enum class Kind { Other, CallResult, CallError };
    Kind kind = Kind::Other;
    std::string_view messageId;
};

// Reads a frame's type and MessageId and checks it is an array of the right shape
// ([3,"id",{...}] or [4,"id","code",...]); the payload itself is not parsed. A
// MessageId with escapes is never one of ours, so it reads as Other.
inline OcppReply parseOcppReply(const uint8_t *payload, size_t size)
{
    const std::string_view text(reinterpret_cast<const char *>(payload), size);
    size_t pos = 0;
    const auto skipBlanks = [&] {
        while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t' || text[pos] == '\n' || text[pos] == '\r'))
            ++pos;
    };
    const auto take = [&](char c) {
        skipBlanks();
        if (pos >= text.size() || text[pos] != c)
            return false;
        ++pos;
        return true;
    };
    OcppReply reply;
    if (!take('['))
        return reply;
    skipBlanks();
    if (pos >= text.size() || (text[pos] != '3' && text[pos] != '4'))
        return reply;
    const char type = text[pos++];
    if (!take(',') || !take('"'))
        return reply;
    const size_t idEnd = text.find_first_of("\"\\", pos);
    if (idEnd == std::string_view::npos || text[idEnd] != '"')
        return reply;
    const std::string_view messageId = text.substr(pos, idEnd - pos);
    pos = idEnd + 1;
    if (!take(',') || !take(type == '3' ? '{' : '"'))
        return reply;
    const size_t last = text.find_last_not_of(" \t\r\n");
    if (last == std::string_view::npos || text[last] != ']')
        return reply;
    reply.kind = type == '3' ? OcppReply::Kind::CallResult : OcppReply::Kind::CallError;
    reply.messageId = messageId;
    return reply;
}

} // namespace loadgen
