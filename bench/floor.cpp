// ws2api-floor: a measuring stick, not a product. It does the least a WebSocket-to-HTTP
// gateway must, so that `bench/run compare` can set ws2apid's cost beside the cost of
// the two loopback hops alone:
//   - accepts the WebSocket upgrade on any path (the path after '/' is the ClientId),
//     with no API call for the connect and none for the disconnect;
//   - sends each client message as `POST <api base>/<ClientId>` (the message as body)
//     over a small pool of keep-alive HTTP/1.1 connections, one request at a time per
//     connection (no pipelining) and one per client at a time (its replies in order);
//   - writes a 2xx response's non-empty body back to that client as one frame of the
//     message's type;
//   - answers `GET /healthz` with 200, so bench/run can wait for it.
// No TLS, no OCPP, no pushes, no timeouts, no limits but --max-message: one thread,
// one epoll loop, non-blocking sockets, loopback only. See bench/README.md.

#include <arpa/inet.h>
#include <sys/resource.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "FloorServer.h"

using wsfloor::FloorOptions;

namespace {

volatile sig_atomic_t g_stop = 0;

void onSignal(int) { g_stop = 1; }

const char Usage[] =
    "usage: ws2api-floor --api http://127.0.0.1:PORT[/BASE] [--listen 127.0.0.1:PORT]\n"
    "                    [--api-connections N] [--max-message BYTES]\n"
    "  --listen            where clients connect (default 127.0.0.1:4000; port 0: any free one)\n"
    "  --api               the API's base URL; a message goes as POST <base>/<ClientId>\n"
    "  --api-connections   keep-alive connections to the API (default 32, 1..1024)\n"
    "  --max-message       largest client message and API response body (default 1048576)\n"
    "Both addresses must be IPv4 loopback (127.0.0.0/8).\n";

// "127.x.y.z:PORT" into *out; anything but IPv4 loopback is refused.
bool parseAddress(std::string_view text, sockaddr_in *out)
{
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos)
        return false;
    const std::string host(text.substr(0, colon));
    const std::string portText(text.substr(colon + 1));
    char *end = nullptr;
    const long port = std::strtol(portText.c_str(), &end, 10);
    if (portText.empty() || *end != '\0' || port < 0 || port > 65535)
        return false;
    out->sin_family = AF_INET;
    out->sin_port = htons(uint16_t(port));
    return inet_pton(AF_INET, host.c_str(), &out->sin_addr) == 1 && (ntohl(out->sin_addr.s_addr) >> 24) == 127;
}

// "http://127.0.0.1:PORT[/BASE]": the address, the Host header and the base path
// with a '/' at its end.
bool parseApiUrl(std::string_view url, FloorOptions *options)
{
    constexpr std::string_view Scheme = "http://";
    if (url.substr(0, Scheme.size()) != Scheme)
        return false;
    url.remove_prefix(Scheme.size());
    const size_t slash = url.find('/');
    const std::string_view authority = url.substr(0, slash);
    if (authority.find(':') == std::string_view::npos || !parseAddress(authority, &options->api)
        || options->api.sin_port == 0)
        return false;
    options->apiHost.assign(authority);
    options->apiBasePath.assign(slash == std::string_view::npos ? "/" : url.substr(slash));
    if (options->apiBasePath.back() != '/')
        options->apiBasePath.push_back('/');
    return options->apiBasePath.find_first_of(" \r\n?#") == std::string::npos;
}

bool parseNumber(const char *text, long min, long max, long *out)
{
    char *end = nullptr;
    errno = 0;
    *out = std::strtol(text, &end, 10);
    return *text != '\0' && *end == '\0' && errno == 0 && *out >= min && *out <= max;
}

int fail(const char *message, const char *value)
{
    std::fprintf(stderr, "ws2api-floor: %s%s%s\n%s", message, value ? ": " : "", value ? value : "", Usage);
    return 2;
}

// One descriptor per client: soft limit up to the hard one.
void raiseFileLimit()
{
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
    }
}

} // namespace

int main(int argc, char **argv)
{
    FloorOptions options;
    parseAddress("127.0.0.1:4000", &options.listen);
    bool haveApi = false;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            std::fputs(Usage, stdout);
            return 0;
        }
        if (i + 1 >= argc)
            return fail("missing value or unknown option", argv[i]);
        const char *value = argv[++i];
        long number = 0;
        if (arg == "--listen") {
            if (!parseAddress(value, &options.listen))
                return fail("--listen must be 127.x.y.z:PORT", value);
        } else if (arg == "--api") {
            if (!parseApiUrl(value, &options))
                return fail("--api must be http://127.x.y.z:PORT[/BASE]", value);
            haveApi = true;
        } else if (arg == "--api-connections") {
            if (!parseNumber(value, 1, 1024, &number))
                return fail("--api-connections must be 1..1024", value);
            options.apiConnections = int(number);
        } else if (arg == "--max-message") {
            if (!parseNumber(value, 1, 64L << 20, &number))
                return fail("--max-message must be 1..67108864", value);
            options.maxMessage = size_t(number);
        } else {
            return fail("unknown option", argv[i - 1]);
        }
    }
    if (!haveApi)
        return fail("--api is required", nullptr);

    raiseFileLimit();
    struct sigaction action{};
    action.sa_handler = onSignal;  // no SA_RESTART: epoll_wait returns and sees the flag
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    wsfloor::FloorServer server(options);
    std::string error;
    if (!server.start(&error)) {
        std::fprintf(stderr, "ws2api-floor: %s\n", error.c_str());
        return 1;
    }
    char listen[INET_ADDRSTRLEN] = "";
    inet_ntop(AF_INET, &options.listen.sin_addr, listen, sizeof listen);
    std::fprintf(stderr, "ws2api-floor: listening on %s:%u, api %s%s over %d connections\n", listen,
                 unsigned(server.port()), options.apiHost.c_str(), options.apiBasePath.c_str(), options.apiConnections);
    std::fflush(stderr);
    server.run(&g_stop);
    const wsfloor::FloorCounters &c = server.counters();
    std::fprintf(stderr,
                 "ws2api-floor: stopped: %llu clients accepted, %llu messages, %llu replies, %llu API errors, "
                 "%llu API reconnects\n",
                 (unsigned long long)c.accepted, (unsigned long long)c.messages, (unsigned long long)c.replies,
                 (unsigned long long)c.apiErrors, (unsigned long long)c.apiReconnects);
    return 0;
}
