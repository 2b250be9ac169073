#include "ConfigReload.h"

using namespace Qt::Literals::StringLiterals;

namespace ws2apid {

namespace {

using ws2api::ProxyConfig;

// One option as a reload sees it: how to compare it, and how to take a new value
// into a running daemon (null: only a restart can).
struct Field
{
    QLatin1StringView name;
    bool (*same)(const ParsedOptions &, const ParsedOptions &);
    void (*take)(ParsedOptions *, const ParsedOptions &);
};

template <auto... Members>
bool sameValues(const ParsedOptions &a, const ParsedOptions &b)
{
    return ((a.config.*Members == b.config.*Members) && ...);
}

template <auto... Members>
void takeValues(ParsedOptions *to, const ParsedOptions &from)
{
    ((to->config.*Members = from.config.*Members), ...);
}

template <auto... Members>
constexpr Field atRunTime(QLatin1StringView name)
{
    return {name, sameValues<Members...>, takeValues<Members...>};
}

template <auto... Members>
constexpr Field atRestart(QLatin1StringView name)
{
    return {name, sameValues<Members...>, nullptr};
}

const Field Fields[] = {
    atRestart<&ProxyConfig::listenAddress, &ProxyConfig::listenPort>("listen"_L1),
    atRestart<&ProxyConfig::hasPushListener, &ProxyConfig::pushAddress, &ProxyConfig::pushPort>(
        "push-listen"_L1),
    atRestart<&ProxyConfig::demoApi, &ProxyConfig::api>("api"_L1),
    atRestart<&ProxyConfig::apiCaFile, &ProxyConfig::apiCaCertificates>("api-ca"_L1),
    atRestart<&ProxyConfig::mode>("mode"_L1),
    atRestart<&ProxyConfig::threads>("threads"_L1),
    atRestart<&ProxyConfig::adminName>("admin"_L1),
    atRestart<&ProxyConfig::adminGroup>("admin-group"_L1),
    atRestart<&ProxyConfig::apiPoolSize>("api-connections"_L1),
    atRestart<&ProxyConfig::apiPipeline>("api-pipeline"_L1),
    atRestart<&ProxyConfig::subprotocols>("subprotocols"_L1),
    atRestart<&ProxyConfig::defaultSubprotocol>("default-subprotocol"_L1),
    atRestart<&ProxyConfig::cpuProfile>("cpuprofile"_L1),
    atRestart<&ProxyConfig::memProfile>("memprofile"_L1),
    atRunTime<&ProxyConfig::pushToken>("push-token"_L1),
    atRunTime<&ProxyConfig::pushAllow>("push-allow"_L1),
    atRunTime<&ProxyConfig::apiTimeoutMs>("api-timeout"_L1),
    atRunTime<&ProxyConfig::callTimeoutMs>("call-timeout"_L1),
    atRunTime<&ProxyConfig::callQueue>("call-queue"_L1),
    atRunTime<&ProxyConfig::maxMessage>("max-message"_L1),
    atRunTime<&ProxyConfig::pingIntervalMs>("ping-interval"_L1),
    // Read when each connection, close or request needs it.
    atRunTime<&ProxyConfig::handshakeTimeoutMs>("handshake-timeout"_L1),
    atRunTime<&ProxyConfig::gatherDelayUs>("gather-delay"_L1),
    atRunTime<&ProxyConfig::notifyDisconnect>("notify-disconnect"_L1),
    atRunTime<&ProxyConfig::forwardHeaders>("forward-headers"_L1),
    atRunTime<&ProxyConfig::maxConnections>("max-connections"_L1),
    atRunTime<&ProxyConfig::connectRate, &ProxyConfig::connectRatePerSource>("connect-rate"_L1),
    atRunTime<&ProxyConfig::tlsChains>("tls-cert"_L1),
    atRunTime<&ProxyConfig::tlsKeys>("tls-key"_L1),
    atRunTime<&ProxyConfig::tlsClientCa>("tls-client-ca"_L1),
    atRunTime<&ProxyConfig::tlsVerifyClient>("tls-verify-client"_L1),
    atRunTime<&ProxyConfig::pushTls>("push-tls"_L1),
    {"log-rules"_L1,
     [](const ParsedOptions &a, const ParsedOptions &b) { return a.logRules == b.logRules; },
     [](ParsedOptions *to, const ParsedOptions &from) { to->logRules = from.logRules; }},
};

} // namespace

ReloadPlan planReload(const ParsedOptions &running, const ParsedOptions &fresh)
{
    ReloadPlan plan{running, {}, {}};
    for (const Field &f : Fields) {
        if (f.same(running, fresh))
            continue;
        if (f.take) {
            f.take(&plan.next, fresh);
            plan.changed.append(f.name);
        } else {
            plan.needRestart.append(f.name);
        }
    }
    return plan;
}

QStringList reloadedOptionNames()
{
    QStringList names;
    for (const Field &f : Fields)
        names.append(f.name);
    return names;
}

} // namespace ws2apid
