#pragma once

// The load generator's command line: a plain struct of validated values.

#include <cstdint>
#include <string>

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>

namespace loadgen {

struct LoadOptions
{
    enum class Mode { Interval, Ceiling };
    enum class Expect { Echo, Any };

    std::string url = "ws://127.0.0.1:4000/";
    std::string hostHeader;  // "127.0.0.1:4000", sent as Host:
    std::string basePath;    // the URL path up to and including its last '/'
    sockaddr_storage target{};
    socklen_t targetLength = 0;
    bool ipv6 = false;

    int connections = 100;
    double rampSeconds = 0;
    double intervalSeconds = 1;
    Mode mode = Mode::Interval;
    double durationSeconds = 30;
    size_t size = 40;
    int sources = 0; // 0: ceil(connections / 20000)
    pid_t pid = 0;
    std::string idPrefix = "lg";
    bool binary = false;
    Expect expect = Expect::Echo;
    int threads = 1;
};

// The drain after the measure window: replies still due get this long to arrive.
constexpr double DrainSeconds = 5;

// Fills *out from argv. On a bad option writes one line to stderr and returns false
// (the caller exits 2). --help prints usage and exits 0 from here.
bool parseOptions(int argc, char **argv, LoadOptions *out);

} // namespace loadgen
