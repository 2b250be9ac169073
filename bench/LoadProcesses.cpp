#include "LoadProcesses.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <thread>

namespace loadgen {

// The counters are read across processes: that needs atomics that take no lock.
static_assert(std::atomic<uint64_t>::is_always_lock_free);

namespace {

// The children, for the signal handler.
pid_t s_children[MaxProcs];
std::atomic<int> s_childCount{0};

void closeFd(int *fd)
{
    if (*fd >= 0)
        ::close(*fd);
    *fd = -1;
}

// In a child: where its loops report that their drain is over and wait for the word
// to close, so the daemons' last sample is taken while the connections are still up.
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

// A child stops its loops on every SIGINT or SIGTERM: it may get one from the terminal
// and one from the parent. It dies with the parent (PR_SET_PDEATHSIG).
void installChildStopHandler()
{
    struct sigaction action{};
    action.sa_handler = [](int) { Engine::stopAll(); };
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
}

} // namespace

LoadProcesses::LoadProcesses(const LoadOptions &options, const RunClock &clock, SSL_CTX *tls)
    : m_options(options)
    , m_clock(clock)
    , m_tls(tls)
{
}

LoadProcesses::~LoadProcesses()
{
    for (int *fd : {&m_drainedRead, &m_drainedWrite, &m_releaseRead, &m_releaseWrite})
        closeFd(fd);
    if (m_stats) {
        std::destroy_n(m_stats, m_statsCount);
        munmap(m_stats, m_statsCount * sizeof(ThreadStats));
    }
}

bool LoadProcesses::setUp(std::string *error)
{
    m_statsCount = size_t(m_options.procs) * size_t(m_options.threads);
    void *shared = mmap(nullptr, m_statsCount * sizeof(ThreadStats), PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED) {
        m_statsCount = 0;
        *error = std::string("mmap: ") + std::strerror(errno);
        return false;
    }
    m_stats = static_cast<ThreadStats *>(shared);
    for (size_t i = 0; i < m_statsCount; ++i)
        new (m_stats + i) ThreadStats;
    int drained[2], release[2];
    if (pipe2(drained, O_CLOEXEC) != 0 || pipe2(release, O_CLOEXEC) != 0) {
        *error = std::string("pipe2: ") + std::strerror(errno);
        return false;
    }
    m_drainedRead = drained[0];
    m_drainedWrite = drained[1];
    m_releaseRead = release[0];
    m_releaseWrite = release[1];
    return true;
}

bool LoadProcesses::start(std::string *error)
{
    m_parent = getpid();
    std::fflush(nullptr); // or the children would print the parent's buffered output again
    for (int k = 0; k < m_options.procs; ++k) {
        const pid_t pid = fork();
        if (pid < 0) {
            *error = std::string("fork: ") + std::strerror(errno);
            return false; // those already started die with the parent
        }
        if (pid == 0)
            runChild(k);
        m_children.push_back(pid);
        s_children[k] = pid;
        s_childCount.store(k + 1);
    }
    closeFd(&m_drainedWrite); // from now on, end of file means every child has gone
    closeFd(&m_releaseRead);
    return true;
}

void LoadProcesses::runChild(int index)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != m_parent)
        _exit(1); // the parent died before the line above
    installChildStopHandler();
    closeFd(&m_drainedRead);
    closeFd(&m_releaseWrite);

    // Loop j of child k is loop k + procs * j of all of them: connection i then
    // belongs to child i % procs.
    const int loops = int(m_statsCount);
    std::vector<std::unique_ptr<Engine>> engines;
    for (int j = 0; j < m_options.threads; ++j) {
        const int loop = index + m_options.procs * j;
        engines.push_back(std::make_unique<Engine>(m_options, m_clock, loop, loops, m_stats + loop, m_tls));
        std::string error;
        if (!engines.back()->setUp(&error)) {
            std::fprintf(stderr, "ws2api-loadgen: %s\n", error.c_str());
            _exit(1);
        }
    }
    Rendezvous rendezvous;
    std::vector<std::thread> threads;
    for (auto &engine : engines)
        threads.emplace_back(loopThread, engine.get(), &rendezvous);
    {
        std::unique_lock lock(rendezvous.mutex);
        rendezvous.changed.wait(lock, [&] { return rendezvous.drained == m_options.threads; });
    }
    // One byte says "drained"; closing the pipe as well lets the parent see the end of
    // it once every child has drained or died, even if one died without a word.
    const char byte = 'd';
    while (::write(m_drainedWrite, &byte, 1) < 0 && errno == EINTR) {
    }
    closeFd(&m_drainedWrite);
    char word = 0;
    while (::read(m_releaseRead, &word, 1) < 0 && errno == EINTR) {
    }
    {
        std::lock_guard lock(rendezvous.mutex);
        rendezvous.mayClose = true;
    }
    rendezvous.changed.notify_all();
    for (auto &t : threads)
        t.join();
    _exit(0); // not exit(): the parent's atexit work and stdio buffers are not ours
}

void LoadProcesses::wait(int64_t untilUs)
{
    if (allDrained())
        return;
    pollfd p{m_drainedRead, POLLIN, 0};
    const int64_t waitUs = std::max<int64_t>(0, untilUs - nowUs());
    if (poll(&p, 1, int((waitUs + 999) / 1000)) <= 0)
        return; // the time has come, or a signal
    char bytes[MaxProcs];
    const ssize_t n = ::read(m_drainedRead, bytes, sizeof bytes);
    if (n > 0)
        m_drained += int(n);
    else if (n == 0)
        m_gone = true;
}

bool LoadProcesses::finish(SelfUsage *usage)
{
    s_childCount.store(0); // no more signals to pass on: they are closing anyway
    closeFd(&m_releaseWrite);
    bool ok = true;
    for (size_t k = 0; k < m_children.size(); ++k) {
        int status = 0;
        rusage ru{};
        pid_t got = -1;
        while ((got = wait4(m_children[k], &status, 0, &ru)) < 0 && errno == EINTR) {
        }
        if (got < 0)
            continue;
        const SelfUsage child = usageOf(ru);
        usage->cpuSeconds += child.cpuSeconds;
        usage->maxRssKb += child.maxRssKb;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
            continue;
        ok = false;
        if (WIFSIGNALED(status))
            std::fprintf(stderr, "ws2api-loadgen: load process %zu was killed by signal %d\n", k, WTERMSIG(status));
        else
            std::fprintf(stderr, "ws2api-loadgen: load process %zu failed (exit status %d)\n", k, WEXITSTATUS(status));
    }
    m_children.clear();
    return ok;
}

void LoadProcesses::forwardStop()
{
    const int n = s_childCount.load();
    for (int i = 0; i < n; ++i)
        kill(s_children[i], SIGINT);
}

} // namespace loadgen
