#include "LoadOptions.h"

#include <arpa/inet.h>
#include <getopt.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace loadgen {

namespace {

constexpr char Usage[] = R"(Usage: ws2api-loadgen [options]
Opens many WebSocket connections to ws2api daemons on this machine, sends messages
and measures the replies. Loopback targets only.

  --url URL[,URL...]    ws://HOST[:PORT][/PATH] or wss://..., HOST in 127.0.0.0/8,
                        [::1] or localhost (default ws://127.0.0.1:4000/); repeatable.
                        With several, each connection goes to URL number
                        FNV-1a-32(ClientId) mod count (at most 32)
  --ca FILE             wss://: verify the server's certificate against the PEM CA
                        certificates in FILE and its name against the URL's host.
                        Without it the certificate is NOT verified (a loopback bench
                        with a throwaway certificate); the traffic is still encrypted
  --connections N       connections to open (default 100)
  --ramp S              seconds over which to open them, evenly spread (default 0)
  --interval S          interval mode: one message per connection every S seconds,
                        phases spread evenly; fractions allowed (default 1)
  --mode interval|ceiling
                        ceiling: send the next message as soon as the reply arrives
  --duration S          measure window after the ramp (default 30); the run stops
                        by itself 5 s after it
  --progress S          a progress line on stderr every S seconds (default 5)
  --size BYTES          payload size, at least "<conn>:<seq>:"; with --ocpp the
                        whole CALL frame's (default 40)
  --sources K           spread connections over source addresses 127.0.0.2 ...
                        127.0.0.(K+1) (default ceil(N/20000))
  --pid PID[,PID...]    the daemons' pids: report their CPU time and memory (summed)
  --id-prefix STR       ClientId prefix; connection i uses path /<STR><i> (default lg)
  --binary              send binary frames instead of text
  --ocpp VERSION        OCPP-J: offer and require subprotocol VERSION (ocpp1.6,
                        ocpp2.0.1 or ocpp2.1); each message is a Heartbeat CALL
                        padded to --size, answered by a CALLRESULT in order
  --expect echo|any     echo: a reply must equal its message; any: any reply answers
                        the oldest outstanding message (default echo)
  --threads N           event loops per process, each with its share (default 1)
  --procs N             processes, each with its share of the connections and its
                        own open-file limit; one merged report (default 1)
  --churn PER_SECOND    during the measure window, close this many connections a
                        second (in turn; every other one with a close frame 1000, the
                        rest reset), and reconnect each at once with a new ClientId
                        <prefix><i>.<n>; messages outstanding at the close count as
                        abandoned, not lost (default 0: no churn)
  --churn-ids new|same  new: each reconnect a new ClientId (default); same: the
                        connection's own <prefix><i> again
  --help                this text
)";

bool fail(const char *format, const char *value)
{
    std::fprintf(stderr, "ws2api-loadgen: ");
    std::fprintf(stderr, format, value);
    std::fprintf(stderr, " (see --help)\n");
    return false;
}

bool parseInt(const char *text, long min, long max, long *out)
{
    char *end = nullptr;
    errno = 0;
    const long v = std::strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

bool parseSeconds(const char *text, double min, double max, double *out)
{
    char *end = nullptr;
    errno = 0;
    const double v = std::strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !std::isfinite(v) || v < min || v > max)
        return false;
    *out = v;
    return true;
}

// A prefix of unreserved characters needs no percent-encoding in the path and comes
// back unchanged as the daemon's ClientId.
bool isUnreservedText(const std::string &s)
{
    for (const char c : s) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
            || c == '-' || c == '.' || c == '_' || c == '~';
        if (!ok)
            return false;
    }
    return true;
}

// Only loopback targets: this tool must never put load on another machine.
bool resolveLoopback(const std::string &host, uint16_t port, Target *out)
{
    std::memset(&out->address, 0, sizeof out->address);
    if (host == "localhost" || host.find(':') == std::string::npos) {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        if (inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host.c_str(), &a.sin_addr) != 1)
            return false;
        if ((ntohl(a.sin_addr.s_addr) >> 24) != 127)
            return false;
        std::memcpy(&out->address, &a, sizeof a);
        out->addressLength = sizeof a;
        return true;
    }
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(port);
    if (inet_pton(AF_INET6, host.c_str(), &a.sin6_addr) != 1 || !IN6_IS_ADDR_LOOPBACK(&a.sin6_addr))
        return false;
    std::memcpy(&out->address, &a, sizeof a);
    out->addressLength = sizeof a;
    return true;
}

bool parseUrl(const std::string &url, Target *out)
{
    constexpr std::string_view Plain = "ws://";
    constexpr std::string_view Tls = "wss://";
    out->tls = url.compare(0, Tls.size(), Tls) == 0;
    if (!out->tls && url.compare(0, Plain.size(), Plain) != 0)
        return fail("--url %s: expected a ws:// or wss:// URL", url.c_str());
    if (url.find_first_of("?#") != std::string::npos)
        return fail("--url %s: no query or fragment, please", url.c_str());
    const std::string rest = url.substr(out->tls ? Tls.size() : Plain.size());
    const size_t slash = rest.find('/');
    const std::string authority = rest.substr(0, slash);
    std::string path = slash == std::string::npos ? "/" : rest.substr(slash);
    std::string host = authority;
    std::string portText = out->tls ? "443" : "80";
    if (!authority.empty() && authority[0] == '[') {
        const size_t close = authority.find(']');
        if (close == std::string::npos)
            return fail("--url %s: unterminated [IPv6] host", url.c_str());
        host = authority.substr(1, close - 1);
        if (close + 1 < authority.size()) {
            if (authority[close + 1] != ':')
                return fail("--url %s: bad port", url.c_str());
            portText = authority.substr(close + 2);
        }
    } else if (const size_t colon = authority.rfind(':'); colon != std::string::npos) {
        host = authority.substr(0, colon);
        portText = authority.substr(colon + 1);
    }
    long port = 0;
    if (!parseInt(portText.c_str(), 1, 65535, &port))
        return fail("--url %s: bad port", url.c_str());
    if (!resolveLoopback(host, uint16_t(port), out))
        return fail("--url %s: the host must be a loopback address (127.0.0.0/8, ::1 or localhost)",
                    url.c_str());
    if (path.back() != '/')
        path += '/';
    out->url = url;
    out->host = host;
    out->hostHeader = authority;
    out->basePath = path;
    return true;
}

// One --url value: a URL or a comma-separated list. The first --url replaces the default.
bool addTargets(const char *arg, bool *replaced, LoadOptions *out)
{
    if (!*replaced)
        out->targets.clear();
    *replaced = true;
    const std::string_view list(arg);
    size_t start = 0;
    for (;;) {
        const size_t comma = list.find(',', start);
        Target target;
        if (!parseUrl(std::string(list.substr(start, comma - start)), &target))
            return false;
        out->targets.push_back(std::move(target));
        if (comma == std::string_view::npos)
            break;
        start = comma + 1;
    }
    if (out->targets.size() > size_t(MaxTargets))
        return fail("--url %s: at most 32 targets", arg);
    return true;
}

bool addPids(const char *arg, LoadOptions *out)
{
    out->pids.clear();
    const std::string_view list(arg);
    size_t start = 0;
    for (;;) {
        const size_t comma = list.find(',', start);
        const std::string item(list.substr(start, comma - start));
        long n = 0;
        if (!parseInt(item.c_str(), 1, 1 << 30, &n))
            return fail("--pid %s: expected a process id or a comma-separated list of them", arg);
        out->pids.push_back(pid_t(n));
        if (comma == std::string_view::npos)
            return true;
        start = comma + 1;
    }
}

enum OptionId {
    OptUrl = 1000, OptConnections, OptRamp, OptInterval, OptMode, OptDuration, OptProgress, OptSize,
    OptSources, OptPid, OptIdPrefix, OptBinary, OptExpect, OptOcpp, OptThreads, OptProcs, OptCa, OptChurn, OptChurnIds, OptHelp,
};

constexpr option LongOptions[] = {
    {"url", required_argument, nullptr, OptUrl},
    {"connections", required_argument, nullptr, OptConnections},
    {"ramp", required_argument, nullptr, OptRamp},
    {"interval", required_argument, nullptr, OptInterval},
    {"mode", required_argument, nullptr, OptMode},
    {"duration", required_argument, nullptr, OptDuration},
    {"progress", required_argument, nullptr, OptProgress},
    {"size", required_argument, nullptr, OptSize},
    {"sources", required_argument, nullptr, OptSources},
    {"pid", required_argument, nullptr, OptPid},
    {"id-prefix", required_argument, nullptr, OptIdPrefix},
    {"binary", no_argument, nullptr, OptBinary},
    {"expect", required_argument, nullptr, OptExpect},
    {"ocpp", required_argument, nullptr, OptOcpp},
    {"threads", required_argument, nullptr, OptThreads},
    {"procs", required_argument, nullptr, OptProcs},
    {"ca", required_argument, nullptr, OptCa},
    {"churn", required_argument, nullptr, OptChurn},
    {"churn-ids", required_argument, nullptr, OptChurnIds},
    {"help", no_argument, nullptr, OptHelp},
    {nullptr, 0, nullptr, 0},
};

// The options that take a number.
bool applyNumber(int id, const char *arg, LoadOptions *out)
{
    long n = 0;
    switch (id) {
    case OptConnections:
        if (!parseInt(arg, 1, 1'000'000, &n))
            return fail("--connections %s: expected 1..1000000", arg);
        out->connections = int(n);
        return true;
    case OptRamp:
        return parseSeconds(arg, 0, 3600, &out->rampSeconds) || fail("--ramp %s: expected 0..3600 s", arg);
    case OptInterval:
        return parseSeconds(arg, 0.001, 3600, &out->intervalSeconds)
            || fail("--interval %s: expected 0.001..3600 s", arg);
    case OptDuration:
        return parseSeconds(arg, 0, 86400, &out->durationSeconds)
            || fail("--duration %s: expected 0..86400 s", arg);
    case OptProgress:
        return parseSeconds(arg, 0.1, 3600, &out->progressSeconds)
            || fail("--progress %s: expected 0.1..3600 s", arg);
    case OptSize:
        if (!parseInt(arg, 0, 16 << 20, &n))
            return fail("--size %s: expected 0..16777216 bytes", arg);
        out->size = size_t(n);
        return true;
    case OptSources:
        if (!parseInt(arg, 1, 254, &n))
            return fail("--sources %s: expected 1..254", arg);
        out->sources = int(n);
        return true;
    case OptThreads:
        if (!parseInt(arg, 1, 64, &n))
            return fail("--threads %s: expected 1..64", arg);
        out->threads = int(n);
        return true;
    case OptProcs:
        if (!parseInt(arg, 1, MaxProcs, &n))
            return fail("--procs %s: expected 1..64", arg);
        out->procs = int(n);
        return true;
    case OptChurn:
        return parseSeconds(arg, 0, 100000, &out->churnPerSecond)
            || fail("--churn %s: expected 0..100000 connections per second", arg);
    }
    return fail("%s: unknown option", arg ? arg : "?");
}

bool applyOption(int id, const char *arg, LoadOptions *out)
{
    switch (id) {
    case OptPid:
        return addPids(arg, out);
    case OptMode:
        if (std::strcmp(arg, "interval") == 0)
            out->mode = LoadOptions::Mode::Interval;
        else if (std::strcmp(arg, "ceiling") == 0)
            out->mode = LoadOptions::Mode::Ceiling;
        else
            return fail("--mode %s: expected interval or ceiling", arg);
        return true;
    case OptIdPrefix:
        out->idPrefix = arg;
        if (out->idPrefix.size() > 200 || !isUnreservedText(out->idPrefix))
            return fail("--id-prefix %s: expected up to 200 of A-Z a-z 0-9 - . _ ~", arg);
        return true;
    case OptBinary:
        out->binary = true;
        return true;
    case OptExpect:
        if (std::strcmp(arg, "echo") == 0)
            out->expect = LoadOptions::Expect::Echo;
        else if (std::strcmp(arg, "any") == 0)
            out->expect = LoadOptions::Expect::Any;
        else
            return fail("--expect %s: expected echo or any", arg);
        return true;
    case OptOcpp:
        if (std::strcmp(arg, "ocpp1.6") != 0 && std::strcmp(arg, "ocpp2.0.1") != 0 && std::strcmp(arg, "ocpp2.1") != 0)
            return fail("--ocpp %s: expected ocpp1.6, ocpp2.0.1 or ocpp2.1", arg);
        out->ocpp = arg;
        return true;
    case OptChurnIds:
        if (std::strcmp(arg, "new") != 0 && std::strcmp(arg, "same") != 0)
            return fail("--churn-ids %s: expected new or same", arg);
        out->churnSameIds = std::strcmp(arg, "same") == 0;
        return true;
    case OptCa:
        if (*arg == '\0')
            return fail("--ca %s: expected a file name", arg);
        out->caFile = arg;
        return true;
    case OptHelp:
        std::fputs(Usage, stdout);
        std::exit(0);
    }
    return applyNumber(id, arg, out);
}

// What a single option cannot check by itself.
bool checkCombination(bool expectGiven, LoadOptions *out)
{
    const auto family = [](const Target &t) { return t.address.ss_family; };
    out->ipv6 = family(out->targets[0]) == AF_INET6;
    for (const Target &t : out->targets) {
        if (family(t) != family(out->targets[0]))
            return fail("--url %s: all targets must be IPv4 or all IPv6", t.url.c_str());
    }
    if (!out->caFile.empty() && !out->anyTls())
        return fail("--ca %s: only for wss:// targets", out->caFile.c_str());
    if (out->isOcpp() && out->binary)
        return fail("--binary: %s", "OCPP-J frames are text; not with --ocpp");
    if (out->isOcpp() && expectGiven)
        return fail("--expect: %s", "with --ocpp a reply must be the CALLRESULT to the oldest CALL; no --expect");
    if (out->sources == 0)
        out->sources = out->ipv6 ? 1 : (out->connections + 19999) / 20000;
    if (out->ipv6 && out->sources > 1)
        return fail("--sources: %s has no other source addresses; use 1", "::1");
    if (out->sources > 254)
        return fail("--connections: %s; lower it or pass --sources", "would need more than 254 sources");
    // Every process and every loop gets at least one connection.
    out->procs = std::min(out->procs, out->connections);
    out->threads = std::min(out->threads, (out->connections + out->procs - 1) / out->procs);
    return true;
}

} // namespace

std::string LoadOptions::urlList() const
{
    std::string list;
    for (const Target &t : targets) {
        if (!list.empty())
            list += ',';
        list += t.url;
    }
    return list;
}

bool LoadOptions::anyTls() const
{
    return std::any_of(targets.begin(), targets.end(), [](const Target &t) { return t.tls; });
}

int LoadOptions::targetOf(uint32_t connection) const
{
    if (targets.size() == 1)
        return 0;
    uint32_t hash = 2166136261u;
    const auto add = [&hash](char c) { hash = (hash ^ uint8_t(c)) * 16777619u; };
    std::for_each(idPrefix.begin(), idPrefix.end(), add);
    char digits[10];
    const char *end = std::to_chars(digits, digits + sizeof digits, connection).ptr;
    std::for_each(static_cast<const char *>(digits), end, add);
    return int(hash % uint32_t(targets.size()));
}

bool parseOptions(int argc, char **argv, LoadOptions *out)
{
    out->targets.assign(1, Target{});
    if (!parseUrl("ws://127.0.0.1:4000/", &out->targets[0]))
        return false;
    opterr = 0; // our own one-line message instead of getopt's
    int id = 0;
    bool urlGiven = false;
    bool expectGiven = false;
    while ((id = getopt_long(argc, argv, ":", LongOptions, nullptr)) != -1) {
        if (id == '?' || id == ':') {
            const char *bad = argv[optind - 1];
            return fail(id == ':' ? "%s: missing value" : "%s: unknown option or missing value", bad);
        }
        expectGiven = expectGiven || id == OptExpect;
        if (!(id == OptUrl ? addTargets(optarg, &urlGiven, out) : applyOption(id, optarg, out)))
            return false;
    }
    if (optind < argc)
        return fail("%s: unexpected argument", argv[optind]);
    return checkCombination(expectGiven, out);
}

} // namespace loadgen
