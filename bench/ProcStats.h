#pragma once

// CPU time and memory of a process, read from /proc, and of the load generator
// itself from getrusage(). Samples are plain values so the report can subtract them.

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <sys/resource.h>
#include <sys/types.h>
#include <unistd.h>

namespace loadgen {

struct ProcSample
{
    bool valid = false;
    double cpuSeconds = 0; // utime + stime
    int64_t rssKb = 0;     // VmRSS
    int64_t hwmKb = 0;     // VmHWM: the peak RSS over the process's life
    int64_t atUs = 0;      // when taken, on the run clock
};

inline bool readProcCpu(pid_t pid, double *seconds)
{
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/stat", int(pid));
    FILE *f = std::fopen(path, "re");
    if (!f)
        return false;
    char line[1024];
    const bool got = std::fgets(line, sizeof line, f) != nullptr;
    std::fclose(f);
    // The command name may hold spaces and ')', so fields are counted from the last ')'.
    const char *p = got ? std::strrchr(line, ')') : nullptr;
    if (!p)
        return false;
    unsigned long utime = 0, stime = 0;
    // After ")": state(3) ... utime is field 14 and stime field 15.
    if (std::sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
        return false;
    *seconds = double(utime + stime) / double(sysconf(_SC_CLK_TCK));
    return true;
}

inline bool readProcMemory(pid_t pid, int64_t *rssKb, int64_t *hwmKb)
{
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/status", int(pid));
    FILE *f = std::fopen(path, "re");
    if (!f)
        return false;
    char line[256];
    int found = 0;
    while (std::fgets(line, sizeof line, f)) {
        long long kb = 0;
        if (std::sscanf(line, "VmRSS: %lld kB", &kb) == 1) {
            *rssKb = kb;
            ++found;
        } else if (std::sscanf(line, "VmHWM: %lld kB", &kb) == 1) {
            *hwmKb = kb;
            ++found;
        }
    }
    std::fclose(f);
    return found == 2;
}

inline ProcSample sampleProcess(pid_t pid, int64_t atUs)
{
    ProcSample s;
    s.atUs = atUs;
    s.valid = pid > 0 && readProcCpu(pid, &s.cpuSeconds) && readProcMemory(pid, &s.rssKb, &s.hwmKb);
    return s;
}

// Several daemons as one: CPU and memory summed (VmHWM too: the sum of each one's
// peak, which they need not have reached at the same moment). Valid when all are.
inline ProcSample sampleProcesses(const std::vector<pid_t> &pids, int64_t atUs)
{
    ProcSample total;
    total.atUs = atUs;
    total.valid = !pids.empty();
    for (const pid_t pid : pids) {
        const ProcSample s = sampleProcess(pid, atUs);
        total.valid = total.valid && s.valid;
        total.cpuSeconds += s.cpuSeconds;
        total.rssKb += s.rssKb;
        total.hwmKb += s.hwmKb;
    }
    return total;
}

// The load generator's own use: the parent's and, once they have been waited for,
// its children's (peak RSS summed over the processes).
struct SelfUsage
{
    double cpuSeconds = 0;
    int64_t maxRssKb = 0;
};

inline SelfUsage usageOf(const rusage &ru)
{
    const auto seconds = [](const timeval &tv) { return double(tv.tv_sec) + double(tv.tv_usec) / 1e6; };
    return {seconds(ru.ru_utime) + seconds(ru.ru_stime), int64_t(ru.ru_maxrss)};
}

inline SelfUsage selfUsage()
{
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return usageOf(ru);
}

} // namespace loadgen
