#pragma once

// The load runs in --procs child processes, each with --threads event loops and its
// own share of the connections, so that each stays under a per-process open-file
// limit. The loops' stats live in memory shared with the parent, which prints the
// progress lines, samples the daemons while the connections are still up, and merges
// everything into one report.
//
// Parent and children meet twice, through two pipes: each child writes one byte to
// `drained` when its loops have drained, and all of them wait for `release` to be
// closed (by the parent, or by its death) before they close their connections.

#include <span>
#include <string>
#include <vector>

#include <sys/types.h>

#include "Engine.h"
#include "LoadOptions.h"
#include "ProcStats.h"

namespace loadgen {

class LoadProcesses
{
public:
    // tls: the client context the loops share (null without wss:// targets); each
    // child has its copy of it from the fork.
    LoadProcesses(const LoadOptions &options, const RunClock &clock, SSL_CTX *tls);
    ~LoadProcesses();
    LoadProcesses(const LoadProcesses &) = delete;
    LoadProcesses &operator=(const LoadProcesses &) = delete;

    // Maps the shared stats and opens the pipes.
    bool setUp(std::string *error);
    // Forks the children, which start their loops at once; returns in the parent only.
    // Call with the clock set and no other thread running.
    bool start(std::string *error);

    // Every loop's stats, loop i being connection i's loop modulo the number of loops.
    std::span<const ThreadStats> stats() const { return {m_stats, m_statsCount}; }

    // Parent: waits until untilUs, or until a child reports or a signal arrives.
    void wait(int64_t untilUs);
    // Every child has drained, or none is left to.
    bool allDrained() const { return m_drained >= int(m_children.size()) || m_gone; }
    // Lets the children close their connections and waits for them. Adds their CPU
    // time and peak RSS to *usage; false when one of them failed.
    bool finish(SelfUsage *usage);

    // Async-signal-safe: passes a stop request on to the children.
    static void forwardStop();

private:
    [[noreturn]] void runChild(int index);

    const LoadOptions &m_options;
    const RunClock &m_clock;
    SSL_CTX *m_tls;
    ThreadStats *m_stats = nullptr; // procs * threads of them, in shared memory
    size_t m_statsCount = 0;
    pid_t m_parent = 0;
    std::vector<pid_t> m_children;
    int m_drainedRead = -1;
    int m_drainedWrite = -1;
    int m_releaseRead = -1;
    int m_releaseWrite = -1;
    int m_drained = 0;
    bool m_gone = false; // every child has closed its end of `drained`
};

} // namespace loadgen
