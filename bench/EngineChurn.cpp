// Engine under --churn: during the measure window the loops close connections in turn
// and reconnect them, so a long run sees clients come and go as in the field.
//
// - Rate: --churn R per second over all loops. Loop k of L has events number e at
//   windowStart + (e * L + k) / R, so they interleave evenly; none after the window.
// - Victim: the loop's connections in index order, round and round, skipping those
//   still connecting or closing. An open one is closed, every other event of a loop
//   cleanly (close frame 1000, then the server's close frame or its end of stream; a
//   reset after ChurnCloseTimeoutUs without either), the others abruptly (SO_LINGER 0:
//   a reset, no close frame). A dead one (closed by the server, or whose last attempt
//   failed) is opened again in its turn instead.
// - Reconnect: at once, with a new ClientId <prefix><i>.<n> for the n-th reconnect of
//   connection i, so anything the daemon keeps per ClientId and fails to let go
//   shows up as growth (reusing the ClientId would hide it), and a reconnect never
//   races the daemon's notice of the close it follows (a live ClientId would be
//   replaced, SPEC: 1008 `replaced`).
// - Messages: those outstanding when the generator decides to close a connection are
//   counted as abandoned, neither answered nor lost, and replies still arriving before
//   the server's close frame are counted apart. Lost keeps its meaning for every other
//   message, reconnected connections' included.
#include "Engine.h"

#include <sys/socket.h>

#include <cstring>

#include "Handshake.h"
#include "WsFrame.h"

namespace loadgen {

namespace {

// Churn events handled between two epoll_wait calls.
constexpr int ChurnBudget = 64;

} // namespace

int64_t Engine::churnTime(uint64_t event) const
{
    const double slot = double(event) * double(m_count) + double(m_index);
    return m_clock.windowStartUs + int64_t(slot * 1e6 / m_options.churnPerSecond);
}

// Returns true when it stopped for its budget with work still due.
bool Engine::churnStep(int64_t now)
{
    // Closed while being read: reconnected here, outside the event handling.
    std::vector<uint32_t> queue;
    queue.swap(m_reconnectQueue);
    for (const uint32_t local : queue) {
        if (m_conns[local].state == Conn::State::Done)
            reconnect(m_conns[local], now);
    }
    closeTimeouts(now);
    return churnDue(now) || !m_reconnectQueue.empty();
}

bool Engine::churnDue(int64_t now)
{
    int budget = ChurnBudget;
    while (m_churnNextUs > 0 && m_churnNextUs <= now) {
        if (m_churnNextUs >= m_clock.windowEndUs) {
            m_churnNextUs = 0; // the window is over: no more churn
            return false;
        }
        if (budget-- == 0)
            return true;
        churnNext(now);
        m_churnNextUs = churnTime(++m_churnEvents);
    }
    return false;
}

void Engine::churnNext(int64_t now)
{
    for (size_t tries = 0; tries < m_conns.size(); ++tries) {
        Conn &c = m_conns[m_churnCursor];
        m_churnCursor = (m_churnCursor + 1) % m_conns.size();
        if (c.state == Conn::State::Open)
            return churnClose(c, m_churnEvents % 2 == 0, now);
        if (c.state == Conn::State::Done) {
            m_stats->churnReopened.add();
            ++m_churnPending;
            return reconnect(c, now);
        }
    }
}

void Engine::churnClose(Conn &c, bool clean, int64_t now)
{
    while (c.ringCount > 0)
        pop(c, Outcome::Abandoned, now);
    m_stats->openNow.add(-1);
    c.state = Conn::State::Closing;
    ++m_churnPending;
    if (!clean) {
        m_stats->churnAbrupt.add();
        return abortConnection(c);
    }
    m_stats->churnClean.add();
    c.sentAt[0] = now;
    m_closing.push_back({uint32_t(localIndex(c)), now + ChurnCloseTimeoutUs});
    static constexpr uint8_t Normal[2] = {1000 >> 8, 1000 & 0xff};
    sendControl(c, ws::Close, Normal, sizeof Normal); // on failure the connection is closed and queued
}

// A reset: with a zero linger time close() sends RST and drops what is unsent.
void Engine::abortConnection(Conn &c)
{
    const linger reset{1, 0};
    if (c.fd >= 0)
        setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    closeConnection(c);
}

// Clean closes the server has not answered in time are reset. The deadlines are in
// the order the closes began; one whose connection has moved on since is skipped.
void Engine::closeTimeouts(int64_t now)
{
    while (!m_closing.empty() && m_closing.front().atUs <= now) {
        Conn &c = m_conns[m_closing.front().local];
        const bool same = c.state == Conn::State::Closing && c.sentAt[0] + ChurnCloseTimeoutUs == m_closing.front().atUs;
        m_closing.pop_front();
        if (same) {
            m_stats->churnCloseTimeouts.add();
            abortConnection(c);
        }
    }
}

void Engine::reconnect(Conn &c, int64_t now)
{
    c.generation = c.generation == UINT16_MAX ? 1 : uint16_t(c.generation + 1);
    openConnection(c, now);
}

// A key per attempt: the connection index and its generation.
void Engine::makeKeyOf(const Conn &c, char *key) const
{
    makeKey(m_keySeed ^ (uint64_t(c.generation) << 40), c.id, key);
}

} // namespace loadgen
