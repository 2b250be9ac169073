#pragma once

// One event loop of the load generator: an epoll instance and its share of the
// connections (global index i belongs to loop i % loops, over all processes).
// Nothing is shared between loops but the read-only options and each loop's own
// ThreadStats, which lives in memory shared with the parent process: counters are
// single-writer atomics the progress line reads, the rest is merged after the loops
// have stopped.

#include <array>
#include <atomic>
#include <cstdint>
#include <ctime>
#include <deque>
#include <string>
#include <vector>

#include <openssl/types.h>

#include "Conn.h"
#include "Histogram.h"
#include "LoadOptions.h"

namespace loadgen {

// The largest frame or message a connection accepts from the server.
constexpr uint64_t MaxFrame = 64 << 20;

inline int64_t nowUs()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}

// Written by one thread, read by any: a plain add, no locked instruction.
class Counter
{
public:
    void add(int64_t n = 1) { m_value.store(m_value.load(std::memory_order_relaxed) + uint64_t(n), std::memory_order_relaxed); }
    uint64_t get() const { return m_value.load(std::memory_order_relaxed); }

private:
    std::atomic<uint64_t> m_value{0};
};

// Counts by a small integer key (errno, HTTP status, close code) without allocating;
// keys beyond the first Slots distinct ones go to `other`.
struct CountMap
{
    static constexpr int Slots = 16;
    struct Entry
    {
        int key = 0;
        uint64_t count = 0;
    };
    std::array<Entry, Slots> entries{};
    int used = 0;
    uint64_t other = 0;

    void add(int key, uint64_t n = 1)
    {
        for (int i = 0; i < used; ++i) {
            if (entries[i].key == key) {
                entries[i].count += n;
                return;
            }
        }
        if (used < Slots)
            entries[used++] = {key, n};
        else
            other += n;
    }

    void merge(const CountMap &from)
    {
        for (int i = 0; i < from.used; ++i)
            add(from.entries[i].key, from.entries[i].count);
        other += from.other;
    }
};

struct ThreadStats
{
    // Connections.
    Counter attempted, established, openNow;
    Counter connectFailed;   // socket/bind/connect errors, by errno in connectErrors
    Counter handshakeFailed; // by status in handshakeStatus, or the three below
    Counter handshakeBadAccept, handshakeBadSubprotocol, handshakeMalformed, handshakeEof;
    Counter handshakeTls;    // wss: the TLS handshake failed, why in tlsFailures
    Counter closedByServer;  // after the upgrade, by code in closeCodes (1006: no close frame)
    Counter protocolErrors;  // the server broke framing rules; we closed
    Counter notEstablished;  // still connecting or upgrading when the run ended
    // Messages. received: every data message; answered: those that were a valid reply
    // to an outstanding message; unexpected: one arrived with nothing outstanding;
    // callErrors: OCPP CALLERRORs to the oldest outstanding CALL (not answered).
    Counter sent, received, answered, mismatched, unexpected, lost, skipped, outstanding, callErrors;
    Counter sentInWindow, answeredInWindow;
    Counter slow; // answered after more than SlowReplyUs (for the progress lines)
    // --churn. Closes the generator chose (clean: close frame 1000; abrupt: reset) and
    // clean ones the server did not answer in time (then reset); dead connections
    // (closed by the server, or a failed attempt) opened again in their turn.
    Counter churnClean, churnAbrupt, churnCloseTimeouts, churnReopened;
    // Attempts after the first, those that got their 101, those that failed (also in
    // the failure counters above, which count every attempt).
    Counter reconnectAttempted, reconnected, reconnectFailed;
    // Messages outstanding when the generator closed their connection (not lost), and
    // replies that still arrived while it was closing.
    Counter churnAbandoned, churnLateReplies;

    // Read only after the loop has stopped.
    CountMap connectErrors, handshakeStatus, closeCodes;
    CountMap tlsFailures; // keys of tlsFailure(), TLS handshakes only
    std::array<uint64_t, MaxTargets> establishedByTarget{};
    Histogram rtt;   // messages sent inside the measure window
    Histogram setup; // connect() to the 101, per established connection
    Histogram reconnectSetup; // the same for reconnects (--churn)
    char tlsSession[96] = {}; // the first wss connection's protocol, cipher, group, key
    int64_t lastOpenUs = 0;    // when the last connection attempt started
    int64_t lastSettledUs = 0; // when the last attempt was established or failed
};

// The run's timeline on the CLOCK_MONOTONIC µs scale.
struct RunClock
{
    int64_t startUs = 0;       // ramp starts
    int64_t windowStartUs = 0; // ramp ends, measuring starts
    int64_t windowEndUs = 0;   // sending stops, drain starts
    int64_t hardEndUs = 0;     // the run stops whatever is outstanding
};

class Engine
{
public:
    // tls: the process's client context, null when no target is wss://.
    Engine(const LoadOptions &options, const RunClock &clock, int index, int count, ThreadStats *stats,
           SSL_CTX *tls);
    ~Engine();
    Engine(const Engine &) = delete;
    Engine &operator=(const Engine &) = delete;

    bool setUp(std::string *error);
    // Returns when every reply is in after the measure window, or at the hard end.
    void run();
    // Makes every loop's run() return soon, as if the hard end had come (Ctrl-C).
    // Async-signal-safe.
    static void stopAll();
    static bool stopped();
    // Says goodbye (close 1000) and closes every socket; the last outstanding
    // messages count as lost.
    void closeAll();

private:
    enum class Outcome { Answered, Mismatched, Lost, CallError, Abandoned };

    uint32_t globalIndex(size_t local) const { return uint32_t(local) * uint32_t(m_count) + uint32_t(m_index); }
    size_t localIndex(const Conn &c) const { return c.id / uint32_t(m_count); }
    SSL *tlsOf(const Conn &c) const { return m_ssl.empty() ? nullptr : m_ssl[localIndex(c)]; }
    int64_t openTime(size_t local) const;
    int64_t slotTime(int64_t cycle, size_t local) const;
    bool inWindow(int64_t t) const { return t >= m_clock.windowStartUs && t < m_clock.windowEndUs; }
    int64_t nextWake(int64_t now, bool busy) const;

    bool openDue(int64_t now);
    bool sendDue(int64_t now);
    void openConnection(Conn &c, int64_t now);
    void connectFailed(Conn &c, int error, int64_t now);
    void connected(Conn &c);
    void upgrade(Conn &c);
    void handleEvent(Conn &c, uint32_t events);
    void readable(Conn &c);
    void received(Conn &c, size_t size, int64_t now);
    void peerGone(Conn &c, int64_t now);
    size_t handshake(Conn &c, const uint8_t *data, size_t size, int64_t now);
    void handshakeFailed(Conn &c, Counter *reason, int status, int64_t now);
    size_t frames(Conn &c, const uint8_t *data, size_t size, int64_t now);
    bool frame(Conn &c, uint8_t opcode, bool fin, const uint8_t *payload, size_t size, int64_t now);
    void message(Conn &c, const uint8_t *payload, size_t size, int64_t now);
    void ocppMessage(Conn &c, const uint8_t *payload, size_t size, int64_t now);
    bool echoMatches(const Conn &c, uint32_t seq, const uint8_t *payload, size_t size) const;
    void pop(Conn &c, Outcome outcome, int64_t now);
    void sendMessage(Conn &c, int64_t now);
    size_t writePayload(uint8_t *out, const Conn &c, uint32_t seq) const;
    bool sendControl(Conn &c, uint8_t opcode, const uint8_t *payload, size_t size);
    bool write(Conn &c, const uint8_t *data, size_t size);
    void flush(Conn &c);
    void watch(Conn &c, uint32_t events);
    void closeConnection(Conn &c);
    void attemptSettled(Conn &c, bool established, int64_t now);

    // --churn (EngineChurn.cpp).
    int64_t churnTime(uint64_t event) const;
    bool churnStep(int64_t now);
    bool churnDue(int64_t now);
    void churnNext(int64_t now);
    void churnClose(Conn &c, bool clean, int64_t now);
    void abortConnection(Conn &c);
    void closeTimeouts(int64_t now);
    void reconnect(Conn &c, int64_t now);
    void makeKeyOf(const Conn &c, char *key) const;

    // wss:// (EngineTls.cpp): the same steps over the connection's SSL object.
    void startTls(Conn &c);
    void tlsHandshake(Conn &c, SSL *ssl);
    void tlsEvent(Conn &c, SSL *ssl, uint32_t events);
    void tlsReadable(Conn &c, SSL *ssl);
    bool tlsWrite(Conn &c, SSL *ssl, const uint8_t *data, size_t size);
    bool tlsFlush(Conn &c, SSL *ssl);
    bool tlsWriteFailed(Conn &c, SSL *ssl, int ret);
    void tlsWatch(Conn &c);
    uint32_t nextMask();

    const LoadOptions &m_options;
    const RunClock &m_clock; // filled in by main before the loops start
    const int m_index;
    const int m_count;
    ThreadStats *m_stats;
    SSL_CTX *m_tls;
    int m_epoll = -1;
    std::vector<Conn> m_conns;
    std::vector<SSL *> m_ssl; // by local index; empty unless a target is wss://
    size_t m_openCursor = 0;
    size_t m_slotCursor = 0;
    int64_t m_slotCycle = 0;
    int64_t m_rampUs = 0;
    int64_t m_intervalUs = 0;
    uint64_t m_keySeed = 0;
    uint64_t m_maskState = 0;
    std::vector<uint8_t> m_readBuffer; // one per loop: sockets are read into it
    std::vector<uint8_t> m_sendBuffer; // one frame is built here, then written
    std::vector<uint8_t> m_padding;    // the message filler, position-dependent
    // --churn: this loop's events are number m_churnEvents, m_churnEvents + 1, ...; the
    // next victim is found from m_churnCursor on.
    uint64_t m_churnEvents = 0;
    int64_t m_churnNextUs = 0; // when the next event is due; 0: no churn
    size_t m_churnCursor = 0;
    size_t m_churnPending = 0; // churned or reopened, reconnect not yet settled
    std::vector<uint32_t> m_reconnectQueue; // closed while Closing: reconnect next step
    struct ClosingDeadline
    {
        uint32_t local;
        int64_t atUs;
    };
    std::deque<ClosingDeadline> m_closing; // clean closes in the order begun
};

} // namespace loadgen
