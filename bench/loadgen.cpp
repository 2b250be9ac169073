// ws2api-loadgen: holds many WebSocket connections to a ws2api daemon on this
// machine, sends messages on a schedule (or as fast as replies come back) and
// reports connection outcomes, throughput, round-trip latency and what the daemon
// spent doing it. See bench/README.md.

#include <sys/resource.h>

#include <csignal>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "Engine.h"
#include "LoadOptions.h"
#include "ProcStats.h"
#include "Report.h"

using namespace loadgen;

namespace {

constexpr int64_t ProgressEveryUs = 5'000'000;
// Besides one descriptor per connection: epoll sets, stdio, /proc reads.
constexpr rlim_t SpareDescriptors = 100;

// Soft limit up to the hard one, as the brief for a load generator goes; as root the
// hard limit is raised too when it is below what the run needs.
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
                     "ws2api-loadgen: warning: open file limit %llu is below %llu (connections + %llu); "
                     "expect EMFILE connect errors\n",
                     (unsigned long long)limit.rlim_cur, (unsigned long long)wanted,
                     (unsigned long long)SpareDescriptors);
}

// The daemon needs a descriptor per connection too; say so before the run, not after.
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
        std::fprintf(stderr, "ws2api-loadgen: warning: the daemon's open file limit is %llu, below %d connections\n",
                     soft, connections);
}

// Where the loops report that their drain is over and wait for the word to close,
// so the daemon's final CPU sample is taken while the connections are still up.
struct Rendezvous
{
    std::mutex mutex;
    std::condition_variable changed;
    int drained = 0;
    bool mayClose = false;
};

void loopThread(Engine *engine, Rendezvous *r)
{
    engine->run();
    std::unique_lock lock(r->mutex);
    ++r->drained;
    r->changed.notify_all();
    r->changed.wait(lock, [r] { return r->mayClose; });
    lock.unlock();
    engine->closeAll();
}

// Wakes for progress lines and daemon samples until every loop has drained.
void monitor(const LoadOptions &options, const RunClock &clock, Rendezvous *r,
             const std::vector<std::unique_ptr<ThreadStats>> &stats, DaemonSamples *daemon)
{
    Progress last{clock.startUs, 0, 0};
    int64_t nextProgress = clock.startUs + ProgressEveryUs;
    bool windowStartTaken = false;
    bool windowEndTaken = false;
    std::unique_lock lock(r->mutex);
    while (r->drained < options.threads) {
        int64_t wake = nextProgress;
        if (!windowStartTaken)
            wake = std::min(wake, clock.windowStartUs);
        if (!windowEndTaken)
            wake = std::min(wake, clock.windowEndUs);
        const int64_t wait = std::max<int64_t>(0, wake - nowUs());
        r->changed.wait_for(lock, std::chrono::microseconds(wait),
                            [&] { return r->drained == options.threads; });
        const int64_t now = nowUs();
        if (!windowStartTaken && now >= clock.windowStartUs) {
            daemon->windowStart = sampleProcess(options.pid, now);
            windowStartTaken = true;
        }
        if (!windowEndTaken && now >= clock.windowEndUs) {
            daemon->windowEnd = sampleProcess(options.pid, now);
            windowEndTaken = true;
        }
        if (now >= nextProgress) {
            printProgress(stats, clock, now, &last);
            nextProgress += ProgressEveryUs;
        }
    }
}

// Ctrl-C or SIGTERM ends the run early but still prints the report; a second one
// kills the process the default way.
void installStopHandler()
{
    struct sigaction action{};
    action.sa_handler = [](int) { Engine::stopAll(); };
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
    raiseFileLimit(options.connections);
    if (options.pid > 0) {
        if (!sampleProcess(options.pid, 0).valid) {
            std::fprintf(stderr, "ws2api-loadgen: --pid %d: no such process to watch\n", int(options.pid));
            return 1;
        }
        checkDaemonFileLimit(options.pid, options.connections);
    }

    RunClock clock;
    Rendezvous rendezvous;
    std::vector<std::unique_ptr<ThreadStats>> stats;
    std::vector<std::unique_ptr<Engine>> engines;
    for (int i = 0; i < options.threads; ++i) {
        stats.push_back(std::make_unique<ThreadStats>());
        engines.push_back(std::make_unique<Engine>(options, clock, i, options.threads, stats.back().get()));
        std::string error;
        if (!engines.back()->setUp(&error)) {
            std::fprintf(stderr, "ws2api-loadgen: %s\n", error.c_str());
            return 1;
        }
    }

    clock.startUs = nowUs();
    clock.windowStartUs = clock.startUs + int64_t(options.rampSeconds * 1e6);
    clock.windowEndUs = clock.windowStartUs + int64_t(options.durationSeconds * 1e6);
    clock.hardEndUs = clock.windowEndUs + int64_t(DrainSeconds * 1e6);
    DaemonSamples daemon;
    daemon.start = sampleProcess(options.pid, clock.startUs);
    std::fprintf(stderr, "ws2api-loadgen: %d connections to %s over %.1f s, %s, measuring %.1f s\n",
                 options.connections, options.url.c_str(), options.rampSeconds,
                 options.mode == LoadOptions::Mode::Ceiling ? "ceiling" : "interval",
                 options.durationSeconds);

    installStopHandler();
    std::vector<std::thread> threads;
    for (auto &engine : engines)
        threads.emplace_back(loopThread, engine.get(), &rendezvous);
    monitor(options, clock, &rendezvous, stats, &daemon);

    const int64_t endUs = nowUs();
    if (!daemon.windowEnd.valid)
        daemon.windowEnd = sampleProcess(options.pid, endUs);
    daemon.end = sampleProcess(options.pid, endUs);
    {
        std::lock_guard lock(rendezvous.mutex);
        rendezvous.mayClose = true;
    }
    rendezvous.changed.notify_all();
    for (auto &t : threads)
        t.join();

    printReport(options, clock, endUs, sumStats(stats), daemon, selfUsage(), Engine::stopped());
    return 0;
}
