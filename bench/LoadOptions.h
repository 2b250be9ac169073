#pragma once

// The load generator's command line: a plain struct of validated values.

#include <cstdint>
#include <string>
#include <vector>

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>

namespace loadgen {

// One daemon to connect to (one --url).
struct Target
{
    std::string url;
    bool tls = false;       // wss://
    std::string host;       // "127.0.0.1", "::1" or "localhost": what --ca checks the certificate for
    std::string hostHeader; // "127.0.0.1:4000", sent as Host:
    std::string basePath;   // the URL path up to and including its last '/'
    sockaddr_storage address{};
    socklen_t addressLength = 0;
};

// A connection's target is a byte in Conn, and each has a counter in the report.
constexpr int MaxTargets = 32;
constexpr int MaxProcs = 64;

struct LoadOptions
{
    enum class Mode { Interval, Ceiling };
    enum class Expect { Echo, Any };

    // Several targets: each connection goes to one picked by a hash of its ClientId,
    // as a hash-based balancer in front of several daemons would send it.
    std::vector<Target> targets;
    bool ipv6 = false; // all targets share one address family

    int connections = 100;
    double rampSeconds = 0;
    double intervalSeconds = 1;
    Mode mode = Mode::Interval;
    double durationSeconds = 30;
    double progressSeconds = 5;
    size_t size = 40;
    int sources = 0; // 0: ceil(connections / 20000)
    std::vector<pid_t> pids; // the daemons whose CPU and memory are reported (summed)
    std::string idPrefix = "lg";
    bool binary = false;
    Expect expect = Expect::Echo;
    // Empty: plain messages. Otherwise the OCPP-J subprotocol to offer and require
    // ("ocpp1.6"); messages are then Heartbeat CALLs answered by CALLRESULTs.
    std::string ocpp;
    int threads = 1; // event loops per process
    int procs = 1;   // processes, each with its own share of the connections
    // wss:// targets: empty, the server's certificate is not checked (a loopback
    // bench with a throwaway certificate); otherwise the PEM CA file it must chain to.
    std::string caFile;
    // Connections closed and reconnected per second, over all of them, during the
    // measure window (0: none); see Engine's churn.
    double churnPerSecond = 0;
    // Reconnects take a new ClientId <prefix><i>.<n> (the default), or reuse <prefix><i>.
    bool churnSameIds = false;

    bool isOcpp() const { return !ocpp.empty(); }
    bool anyTls() const;
    // The target of connection i: FNV-1a (32 bit) of its ClientId "<idPrefix><i>"
    // modulo the number of targets.
    int targetOf(uint32_t connection) const;
    std::string urlList() const; // the targets' URLs, comma-separated
};

// The drain after the measure window: replies still due get this long to arrive.
constexpr double DrainSeconds = 5;

// --churn: how long a clean close waits for the server's close frame before the
// connection is reset instead.
constexpr int64_t ChurnCloseTimeoutUs = 3'000'000;

// A reply later than this counts as slow in the progress lines: the hold target's p99.
constexpr int64_t SlowReplyUs = 20'000;

// Fills *out from argv. On a bad option writes one line to stderr and returns false
// (the caller exits 2). --help prints usage and exits 0 from here.
bool parseOptions(int argc, char **argv, LoadOptions *out);

} // namespace loadgen
