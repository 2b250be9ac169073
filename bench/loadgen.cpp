// ws2api-loadgen: holds many WebSocket connections to one or several ws2api daemons
// on this machine, from one or several processes, sends messages (plain or OCPP-J)
// on a schedule or as fast as replies come back, and reports connection outcomes,
// throughput, round-trip latency and what the daemons spent doing it. See
// bench/README.md.

#include <sys/resource.h>

#include <csignal>

#include <algorithm>
#include <cstdio>
#include <string>

#include "Engine.h"
#include "LoadOptions.h"
#include "LoadProcesses.h"
#include "ProcStats.h"
#include "Report.h"
#include "TlsClient.h"

using namespace loadgen;

namespace {

// Besides one descriptor per connection: epoll sets, stdio, /proc reads.
constexpr rlim_t SpareDescriptors = 100;

// Soft limit up to the hard one, as the brief for a load generator goes; as root the
// hard limit is raised too when it is below what the run needs. The load processes
// inherit it; each holds `connections` of them.
void raiseFileLimit(int connections)
{
    const rlim_t wanted = rlim_t(connections) + SpareDescriptors;
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0)
        return;
    if (limit.rlim_max < wanted) {
        const rlimit higher{wanted, wanted};
        if (setrlimit(RLIMIT_NOFILE, &higher) == 0)
            limit = higher;
    }
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
    getrlimit(RLIMIT_NOFILE, &limit);
    if (wanted > limit.rlim_cur)
        std::fprintf(stderr,
                     "ws2api-loadgen: warning: open file limit %llu is below %llu (connections per process + %llu); "
                     "expect EMFILE connect errors, or use more --procs\n",
                     (unsigned long long)limit.rlim_cur, (unsigned long long)wanted,
                     (unsigned long long)SpareDescriptors);
}

// The daemon needs a descriptor per connection too (of its share, with several);
// say so before the run, not after.
void checkDaemonFileLimit(pid_t pid, int connections)
{
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/limits", int(pid));
    FILE *f = std::fopen(path, "re");
    if (!f)
        return;
    char line[256];
    unsigned long long soft = 0;
    while (std::fgets(line, sizeof line, f)) {
        if (std::sscanf(line, "Max open files %llu", &soft) == 1)
            break;
    }
    std::fclose(f);
    if (soft > 0 && soft < (unsigned long long)connections + 50)
        std::fprintf(stderr, "ws2api-loadgen: warning: daemon %d's open file limit is %llu, below %d connections\n",
                     int(pid), soft, connections);
}

// Wakes for progress lines and daemon samples until every load process has drained.
void monitor(const LoadOptions &options, const RunClock &clock, LoadProcesses *procs, DaemonSamples *daemon)
{
    const auto progressEveryUs = int64_t(options.progressSeconds * 1e6);
    Progress last{clock.startUs, 0, 0, 0};
    int64_t nextProgress = clock.startUs + progressEveryUs;
    bool windowStartTaken = false;
    bool windowEndTaken = false;
    while (!procs->allDrained()) {
        int64_t wake = nextProgress;
        if (!windowStartTaken)
            wake = std::min(wake, clock.windowStartUs);
        if (!windowEndTaken)
            wake = std::min(wake, clock.windowEndUs);
        procs->wait(wake);
        const int64_t now = nowUs();
        if (!windowStartTaken && now >= clock.windowStartUs) {
            daemon->windowStart = sampleProcesses(options.pids, now);
            windowStartTaken = true;
        }
        if (!windowEndTaken && now >= clock.windowEndUs) {
            daemon->windowEnd = sampleProcesses(options.pids, now);
            windowEndTaken = true;
        }
        if (now >= nextProgress) {
            printProgress(procs->stats(), clock, now, &last);
            nextProgress += progressEveryUs;
        }
    }
}

// Ctrl-C or SIGTERM ends the run early but still prints the report; a second one
// kills the process the default way, and the load processes with it.
void installStopHandler()
{
    struct sigaction action{};
    action.sa_handler = [](int) {
        Engine::stopAll();
        LoadProcesses::forwardStop();
    };
    action.sa_flags = SA_RESETHAND;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
}

} // namespace

int main(int argc, char **argv)
{
    LoadOptions options;
    if (!parseOptions(argc, argv, &options))
        return 2;
    raiseFileLimit((options.connections + options.procs - 1) / options.procs);
    for (const pid_t pid : options.pids) {
        if (!sampleProcess(pid, 0).valid) {
            std::fprintf(stderr, "ws2api-loadgen: --pid %d: no such process to watch\n", int(pid));
            return 1;
        }
        checkDaemonFileLimit(pid, (options.connections + int(options.pids.size()) - 1) / int(options.pids.size()));
    }

    std::string error;
    TlsContext tls; // one per process: made here, copied into each load process by fork
    if (options.anyTls() && !tls.setUp(options.caFile, &error)) {
        std::fprintf(stderr, "ws2api-loadgen: %s\n", error.c_str());
        return 1;
    }
    // OpenSSL's socket BIO writes with write(), not send(MSG_NOSIGNAL): a daemon that
    // drops a wss connection (say, at its handshake timeout) must not kill the load
    // process. The load processes inherit this.
    if (options.anyTls())
        std::signal(SIGPIPE, SIG_IGN);
    RunClock clock;
    LoadProcesses procs(options, clock, tls.get());
    if (!procs.setUp(&error)) {
        std::fprintf(stderr, "ws2api-loadgen: %s\n", error.c_str());
        return 1;
    }
    clock.startUs = nowUs();
    clock.windowStartUs = clock.startUs + int64_t(options.rampSeconds * 1e6);
    clock.windowEndUs = clock.windowStartUs + int64_t(options.durationSeconds * 1e6);
    clock.hardEndUs = clock.windowEndUs + int64_t(DrainSeconds * 1e6);
    DaemonSamples daemon;
    daemon.start = sampleProcesses(options.pids, clock.startUs);
    std::fprintf(stderr, "ws2api-loadgen: %d connections to %s over %.1f s, %s, %s, measuring %.1f s\n",
                 options.connections, options.urlList().c_str(), options.rampSeconds,
                 options.isOcpp() ? options.ocpp.c_str() : "plain",
                 options.mode == LoadOptions::Mode::Ceiling ? "ceiling" : "interval", options.durationSeconds);

    installStopHandler();
    if (!procs.start(&error)) {
        std::fprintf(stderr, "ws2api-loadgen: %s\n", error.c_str());
        return 1;
    }
    monitor(options, clock, &procs, &daemon);

    const int64_t endUs = nowUs();
    if (!daemon.windowEnd.valid)
        daemon.windowEnd = sampleProcesses(options.pids, endUs);
    daemon.end = sampleProcesses(options.pids, endUs);
    SelfUsage usage = selfUsage();
    const bool ok = procs.finish(&usage);

    printReport(options, clock, endUs, sumStats(procs.stats()), daemon, usage, Engine::stopped());
    return ok ? 0 : 1;
}
