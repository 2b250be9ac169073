// Engine, the receiving side: WebSocket frames as they arrive, the messages they
// make up, and each reply matched against what its connection has outstanding.
#include "Engine.h"

#include <cstring>

#include "Message.h"
#include "OcppMessage.h"
#include "WsFrame.h"

namespace loadgen {

size_t Engine::frames(Conn &c, const uint8_t *data, size_t size, int64_t now)
{
    size_t pos = 0;
    while (pos < size) {
        ws::FrameHeader h;
        const ws::ParseResult r = ws::parseHeader(data + pos, size - pos, false, MaxFrame, &h);
        if (r == ws::ParseResult::Incomplete)
            break;
        if (r != ws::ParseResult::Ok) {
            m_stats->protocolErrors.add();
            closeConnection(c);
            return pos;
        }
        if (size - pos - h.headerSize < h.length)
            break;
        const uint8_t *payload = data + pos + h.headerSize;
        pos += h.headerSize + size_t(h.length);
        if (!frame(c, h.opcode, h.fin, payload, size_t(h.length), now))
            return pos;
    }
    return pos;
}

// Returns false when the connection is gone.
bool Engine::frame(Conn &c, uint8_t opcode, bool fin, const uint8_t *payload, size_t size, int64_t now)
{
    switch (opcode) {
    case ws::Text:
    case ws::Binary:
        if (c.fragmentOpcode != 0)
            break; // a new message inside a fragmented one
        if (fin) {
            message(c, payload, size, now);
        } else {
            c.fragmentOpcode = opcode;
            c.fragment.assign(payload, payload + size);
        }
        return c.state != Conn::State::Done;
    case ws::Continuation:
        if (c.fragmentOpcode == 0)
            break;
        c.fragment.insert(c.fragment.end(), payload, payload + size);
        if (c.fragment.size() > MaxFrame)
            break;
        if (fin) {
            c.fragmentOpcode = 0;
            std::vector<uint8_t> whole;
            whole.swap(c.fragment); // the buffer is released after this rare message
            message(c, whole.data(), whole.size(), now);
        }
        return c.state != Conn::State::Done;
    case ws::Ping:
        if (c.state == Conn::State::Closing)
            return true; // our close frame is out: nothing more goes after it
        return sendControl(c, ws::Pong, payload, size);
    case ws::Pong:
        return true;
    case ws::Close: {
        if (c.state == Conn::State::Closing) {
            closeConnection(c); // the answer to our churn close
            return false;
        }
        const int code = size >= 2 ? int(payload[0]) << 8 | payload[1] : 1005;
        m_stats->closedByServer.add();
        m_stats->closeCodes.add(code);
        sendControl(c, ws::Close, payload, std::min<size_t>(size, 2));
        closeConnection(c);
        return false;
    }
    }
    m_stats->protocolErrors.add();
    closeConnection(c);
    return false;
}

// A reply. echo: it must be "<conn>:<seq>:" of an outstanding message, plus the same
// filler; replies skipped over count as lost. any: it answers the oldest message.
// ocpp: see ocppMessage().
void Engine::message(Conn &c, const uint8_t *payload, size_t size, int64_t now)
{
    m_stats->received.add();
    if (c.state == Conn::State::Closing) {
        m_stats->churnLateReplies.add(); // its message was counted as abandoned
        return;
    }
    if (c.ringCount == 0) {
        m_stats->unexpected.add();
        return;
    }
    if (m_options.isOcpp()) {
        ocppMessage(c, payload, size, now);
    } else if (m_options.expect == LoadOptions::Expect::Any) {
        pop(c, Outcome::Answered, now);
    } else {
        uint32_t id = 0;
        uint32_t seq = 0;
        const bool parsed = parseMessagePrefix(payload, size, &id, &seq);
        const uint32_t oldest = c.nextSeq - c.ringCount;
        if (!parsed || id != c.id || seq - oldest >= c.ringCount) {
            m_stats->mismatched.add(); // not the reply to anything outstanding here
            return;
        }
        while (c.nextSeq - c.ringCount != seq)
            pop(c, Outcome::Lost, now);
        pop(c, echoMatches(c, seq, payload, size) ? Outcome::Answered : Outcome::Mismatched, now);
    }
    if (m_options.mode == LoadOptions::Mode::Ceiling && c.ringCount == 0 && now < m_clock.windowEndUs)
        sendMessage(c, now);
}

// The daemon answers a station's CALLs in order, so a reply must be the CALLRESULT (or
// CALLERROR) to the oldest one; anything else is mismatched and answers nothing.
void Engine::ocppMessage(Conn &c, const uint8_t *payload, size_t size, int64_t now)
{
    const OcppReply reply = parseOcppReply(payload, size);
    char expected[MaxPrefix];
    const size_t expectedSize = ocppMessageId(expected, c.id, c.nextSeq - c.ringCount);
    if (reply.kind == OcppReply::Kind::Other || reply.messageId != std::string_view(expected, expectedSize)) {
        m_stats->mismatched.add();
        return;
    }
    pop(c, reply.kind == OcppReply::Kind::CallResult ? Outcome::Answered : Outcome::CallError, now);
}

bool Engine::echoMatches(const Conn &c, uint32_t seq, const uint8_t *payload, size_t size) const
{
    char prefix[MaxPrefix];
    const size_t prefixSize = messagePrefix(prefix, c.id, seq);
    const size_t expected = std::max(prefixSize, m_options.size);
    return size == expected && std::memcmp(payload, prefix, prefixSize) == 0
        && std::memcmp(payload + prefixSize, m_padding.data() + prefixSize, size - prefixSize) == 0;
}

void Engine::pop(Conn &c, Outcome outcome, int64_t now)
{
    const int64_t sentAt = c.sentAt[c.ringHead];
    c.ringHead = uint8_t((c.ringHead + 1) % Conn::RingSize);
    --c.ringCount;
    m_stats->outstanding.add(-1);
    switch (outcome) {
    case Outcome::Answered:
        m_stats->answered.add();
        if (inWindow(now))
            m_stats->answeredInWindow.add();
        if (sentAt >= m_clock.windowStartUs)
            m_stats->rtt.record(now - sentAt);
        if (now - sentAt > SlowReplyUs)
            m_stats->slow.add();
        break;
    case Outcome::Mismatched:
        m_stats->mismatched.add();
        break;
    case Outcome::Lost:
        m_stats->lost.add();
        break;
    case Outcome::CallError:
        m_stats->callErrors.add();
        break;
    case Outcome::Abandoned:
        m_stats->churnAbandoned.add();
        break;
    }
}

} // namespace loadgen
