#pragma once

// One load generator connection. Kept small on purpose: tens of thousands live at
// once. The buffers stay empty (no allocation) unless a socket leaves a partial frame
// behind or will not take a whole write.

#include <cstdint>
#include <vector>

namespace loadgen {

struct Conn
{
    // Interval mode tolerates a few unanswered messages per connection before it
    // skips sends; ceiling mode never has more than one.
    static constexpr uint8_t RingSize = 8;

    // TlsHandshake only for wss:// targets, between Connecting and Upgrading.
    // Closing: --churn is closing it (after a close frame, until the server's answer;
    // or on its way to an abrupt close); a reconnect follows.
    enum class State : uint8_t { Idle, Connecting, TlsHandshake, Upgrading, Open, Closing, Done };

    // wss://: an SSL call that must be repeated when the socket is ready the other way.
    static constexpr uint8_t WriteWantsRead = 1;
    static constexpr uint8_t ReadWantsWrite = 2;

    int fd = -1;
    uint32_t id = 0;     // the global connection index
    uint32_t events = 0; // what epoll watches for
    State state = State::Idle;
    uint8_t ringHead = 0;
    uint8_t ringCount = 0;
    uint8_t fragmentOpcode = 0; // a fragmented message is being reassembled
    uint32_t nextSeq = 0;       // outstanding messages are nextSeq - ringCount ... nextSeq - 1
    uint8_t target = 0;         // index into LoadOptions::targets (fits in the padding)
    uint8_t tlsWants = 0;       // WriteWantsRead | ReadWantsWrite (in the padding too)
    // --churn: 0 for the first attempt, n for the n-th reconnect (1 after 65535), which
    // uses ClientId <prefix><id>.<n>. In the padding as well.
    uint16_t generation = 0;
    // Until the upgrade is answered, sentAt[0] holds when the connection was opened;
    // while Closing, when the close began.
    int64_t sentAt[RingSize] = {};
    std::vector<uint8_t> rx;
    std::vector<uint8_t> tx;
    std::vector<uint8_t> fragment;
};

// 160 bytes with libstdc++'s vectors; a new member should find room in the padding.
// A wss connection's SSL object is not here but in its loop's table, which plaintext
// runs leave empty.
static_assert(sizeof(Conn) <= 160, "Conn grew: tens of thousands of them are alive at once");

} // namespace loadgen
