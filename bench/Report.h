#pragma once

// Turns the loops' counters into the progress line and the final report: aligned
// `key: value` lines for people and one `RESULT {...}` JSON line for scripts.

#include <span>

#include "Engine.h"
#include "LoadOptions.h"
#include "ProcStats.h"

namespace loadgen {

// The sum over all loops, taken after they stopped.
struct Totals
{
    uint64_t attempted = 0, established = 0, connectFailed = 0, handshakeFailed = 0;
    uint64_t handshakeBadAccept = 0, handshakeBadSubprotocol = 0, handshakeMalformed = 0, handshakeEof = 0;
    uint64_t handshakeTls = 0;
    uint64_t closedByServer = 0, protocolErrors = 0, notEstablished = 0;
    uint64_t sent = 0, received = 0, answered = 0, mismatched = 0, unexpected = 0, lost = 0;
    uint64_t skipped = 0, sentInWindow = 0, answeredInWindow = 0, callErrors = 0;
    uint64_t churnClean = 0, churnAbrupt = 0, churnCloseTimeouts = 0, churnReopened = 0;
    uint64_t reconnectAttempted = 0, reconnected = 0, reconnectFailed = 0;
    uint64_t churnAbandoned = 0, churnLateReplies = 0;
    CountMap connectErrors, handshakeStatus, closeCodes, tlsFailures;
    std::array<uint64_t, MaxTargets> establishedByTarget{};
    Histogram rtt, setup, reconnectSetup;
    std::string tlsSession; // one loop's first wss connection: all share the context
    int64_t lastOpenUs = 0, lastSettledUs = 0;
};

Totals sumStats(std::span<const ThreadStats> stats);

// The daemon at the start, when the measure window opens and closes (connections
// still held: RSS growth is taken there) and when the drain is over.
struct DaemonSamples
{
    ProcSample start, windowStart, windowEnd, end;
};

// The running totals a progress line compares against the previous one.
struct Progress
{
    int64_t atUs = 0;
    uint64_t sent = 0;
    uint64_t answered = 0;
    uint64_t slow = 0;
};

void printProgress(std::span<const ThreadStats> stats, const RunClock &clock,
                   int64_t now, Progress *last);

void printReport(const LoadOptions &options, const RunClock &clock, int64_t endUs, const Totals &totals,
                 const DaemonSamples &daemon, const SelfUsage &self, bool interrupted);

} // namespace loadgen
