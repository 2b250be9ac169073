#include "Report.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "TlsClient.h"

namespace loadgen {

namespace {

std::string number(double v, int decimals)
{
    char text[64];
    std::snprintf(text, sizeof text, "%.*f", decimals, v);
    return text;
}

std::string number(uint64_t v) { return std::to_string(v); }

double seconds(int64_t us) { return double(us) / 1e6; }
double ms(uint64_t us) { return double(us) / 1e3; }
double perSecond(uint64_t count, double secs) { return secs > 0 ? double(count) / secs : 0; }

std::string jsonString(const std::string &s)
{
    std::string out = "\"";
    for (const char c : s) {
        if (c == '"' || c == '\\')
            out += '\\';
        if (static_cast<unsigned char>(c) >= 0x20)
            out += c;
    }
    return out + "\"";
}

// One report line: the text for people, and the same value as JSON.
struct Field
{
    std::string key;
    std::string text;
    std::string json;
};

class Fields
{
public:
    void add(const std::string &key, const std::string &numeric) { m_fields.push_back({key, numeric, numeric}); }
    void add(const std::string &key, uint64_t v) { add(key, number(v)); }
    void add(const std::string &key, double v, int decimals) { add(key, number(v, decimals)); }
    void text(const std::string &key, const std::string &v) { m_fields.push_back({key, v, jsonString(v)}); }
    void missing(const std::string &key) { m_fields.push_back({key, "-", "null"}); }

    // A CountMap as "k=n, k=n" and {"k":n,...}; name() turns a key into its label.
    template<typename Name>
    void counts(const std::string &key, const CountMap &map, Name name)
    {
        std::vector<std::pair<std::string, uint64_t>> items;
        for (int i = 0; i < map.used; ++i)
            items.emplace_back(name(map.entries[i].key), map.entries[i].count);
        if (map.other)
            items.emplace_back("other", map.other);
        labelled(key, items);
    }

    // Labelled counts as "label=n, label=n" and {"label":n,...}.
    void labelled(const std::string &key, const std::vector<std::pair<std::string, uint64_t>> &items)
    {
        std::string text, json = "{";
        for (const auto &[label, count] : items) {
            if (!text.empty()) {
                text += ", ";
                json += ',';
            }
            text += label;
            text += '=';
            text += number(count);
            json += jsonString(label);
            json += ':';
            json += number(count);
        }
        m_fields.push_back({key, text.empty() ? "-" : text, json + "}"});
    }

    void print() const
    {
        size_t width = 0;
        for (const Field &f : m_fields)
            width = std::max(width, f.key.size());
        for (const Field &f : m_fields)
            std::printf("%-*s %s\n", int(width + 1), (f.key + ":").c_str(), f.text.c_str());
        std::string json = "{";
        for (const Field &f : m_fields) {
            if (json.size() > 1)
                json += ',';
            json += jsonString(f.key);
            json += ':';
            json += f.json;
        }
        std::printf("RESULT %s}\n", json.c_str());
        std::fflush(stdout);
    }

private:
    std::vector<Field> m_fields;
};

std::string errnoName(int error)
{
    const char *name = strerrorname_np(error);
    return name ? name : "errno" + std::to_string(error);
}

void addSetup(Fields &f, const LoadOptions &o)
{
    f.text("url", o.urlList());
    f.add("targets", uint64_t(o.targets.size()));
    f.text("protocol", o.isOcpp() ? o.ocpp : "plain");
    f.text("tls", !o.anyTls() ? "off" : o.caFile.empty() ? "on, certificate not verified" : "on, verified with " + o.caFile);
    f.text("mode", o.mode == LoadOptions::Mode::Ceiling ? "ceiling" : "interval");
    f.add("connections", uint64_t(o.connections));
    f.add("ramp_s", o.rampSeconds, 3);
    if (o.mode == LoadOptions::Mode::Interval)
        f.add("interval_s", o.intervalSeconds, 3);
    f.add("duration_s", o.durationSeconds, 3);
    f.add("size_bytes", uint64_t(o.size));
    f.text("frames", o.binary ? "binary" : "text");
    f.text("expect", o.isOcpp() ? "callresult" : o.expect == LoadOptions::Expect::Echo ? "echo" : "any");
    f.add("procs", uint64_t(o.procs));
    f.add("threads", uint64_t(o.threads));
    f.add("sources", uint64_t(o.sources));
    if (o.churnPerSecond > 0) {
        f.add("churn_per_s", o.churnPerSecond, 3);
        f.text("churn_ids", o.churnSameIds ? "same" : "new");
    }
}

void addConnections(Fields &f, const LoadOptions &o, const Totals &t, const RunClock &clock)
{
    f.add("conn_attempted", t.attempted);
    f.add("conn_established", t.established);
    if (o.targets.size() > 1) {
        std::vector<std::pair<std::string, uint64_t>> byTarget;
        for (size_t i = 0; i < o.targets.size(); ++i)
            byTarget.emplace_back(o.targets[i].hostHeader, t.establishedByTarget[i]);
        f.labelled("conn_established_by_target", byTarget);
    }
    f.add("conn_failed", t.connectFailed + t.handshakeFailed + t.notEstablished);
    f.add("conn_connect_errors", t.connectFailed);
    f.counts("conn_connect_errors_by_errno", t.connectErrors, errnoName);
    f.add("conn_handshake_failed", t.handshakeFailed);
    f.counts("conn_handshake_status", t.handshakeStatus, [](int s) { return std::to_string(s); });
    f.add("conn_handshake_bad_accept", t.handshakeBadAccept);
    f.add("conn_handshake_bad_subprotocol", t.handshakeBadSubprotocol);
    f.add("conn_handshake_malformed", t.handshakeMalformed);
    f.add("conn_handshake_eof", t.handshakeEof);
    if (o.anyTls()) {
        f.add("conn_handshake_tls_failed", t.handshakeTls);
        f.counts("conn_handshake_tls_failures", t.tlsFailures, tlsFailureName);
        f.text("tls_session", t.tlsSession.empty() ? "-" : t.tlsSession);
    }
    f.add("conn_not_established_at_end", t.notEstablished);
    f.add("conn_closed_by_server", t.closedByServer);
    f.counts("conn_close_codes", t.closeCodes, [](int c) { return std::to_string(c); });
    f.add("conn_protocol_errors", t.protocolErrors);
    if (t.lastOpenUs)
        f.add("ramp_last_open_s", seconds(t.lastOpenUs - clock.startUs), 3);
    else
        f.missing("ramp_last_open_s");
    if (t.lastSettledUs)
        f.add("ramp_taken_s", seconds(t.lastSettledUs - clock.startUs), 3);
    else
        f.missing("ramp_taken_s"); // no attempt was ever settled
    // connect() to the 101: TCP, TLS when wss, and the upgrade (with the daemon's API call).
    f.add("conn_setup_p50_ms", ms(t.setup.percentile(50)), 3);
    f.add("conn_setup_p99_ms", ms(t.setup.percentile(99)), 3);
    f.add("conn_setup_max_ms", ms(t.setup.max()), 3);
}

// --churn: what the generator closed and reopened, and how the reconnects went.
void addChurn(Fields &f, const Totals &t)
{
    f.add("conn_churned", t.churnClean + t.churnAbrupt);
    f.add("conn_churn_clean", t.churnClean);
    f.add("conn_churn_abrupt", t.churnAbrupt);
    f.add("conn_churn_close_timeouts", t.churnCloseTimeouts);
    f.add("conn_churn_reopened", t.churnReopened);
    f.add("conn_reconnect_attempted", t.reconnectAttempted);
    f.add("conn_reconnected", t.reconnected);
    f.add("conn_reconnect_failed", t.reconnectFailed);
    f.add("conn_reconnect_setup_p50_ms", ms(t.reconnectSetup.percentile(50)), 3);
    f.add("conn_reconnect_setup_p99_ms", ms(t.reconnectSetup.percentile(99)), 3);
    f.add("conn_reconnect_setup_max_ms", ms(t.reconnectSetup.max()), 3);
}

void addMessages(Fields &f, const Totals &t, const RunClock &clock, int64_t endUs)
{
    // An interrupted run measured only until it stopped.
    const double window = seconds(std::max<int64_t>(0, std::min(clock.windowEndUs, endUs) - clock.windowStartUs));
    f.add("msgs_sent", t.sent);
    f.add("msgs_replies_received", t.received);
    f.add("msgs_answered", t.answered);
    f.add("msgs_lost", t.lost);
    f.add("msgs_mismatched", t.mismatched);
    f.add("msgs_callerror", t.callErrors);
    f.add("msgs_unexpected", t.unexpected);
    f.add("msgs_skipped_backlog", t.skipped);
    if (t.churnClean + t.churnAbrupt > 0) {
        f.add("msgs_churn_abandoned", t.churnAbandoned);
        f.add("msgs_churn_late_replies", t.churnLateReplies);
    }
    f.add("window_s", window, 3);
    f.add("window_sent_per_s", perSecond(t.sentInWindow, window), 1);
    f.add("window_answered_per_s", perSecond(t.answeredInWindow, window), 1);
    f.add("rtt_samples", t.rtt.count());
    f.add("rtt_p50_ms", ms(t.rtt.percentile(50)), 3);
    f.add("rtt_p99_ms", ms(t.rtt.percentile(99)), 3);
    f.add("rtt_p999_ms", ms(t.rtt.percentile(99.9)), 3);
    f.add("rtt_max_ms", ms(t.rtt.max()), 3);
}

void addDaemon(Fields &f, const DaemonSamples &d, uint64_t established)
{
    if (!d.start.valid || !d.end.valid) {
        f.text("daemon", "unavailable");
        return;
    }
    const double cpu = d.end.cpuSeconds - d.start.cpuSeconds;
    const double wall = seconds(d.end.atUs - d.start.atUs);
    f.add("daemon_cpu_s", cpu, 2);
    f.add("daemon_cpu_pct", wall > 0 ? 100 * cpu / wall : 0.0, 1);
    if (d.windowStart.valid && d.windowEnd.valid) {
        const double windowCpu = d.windowEnd.cpuSeconds - d.windowStart.cpuSeconds;
        const double windowWall = seconds(d.windowEnd.atUs - d.windowStart.atUs);
        f.add("daemon_window_cpu_pct", windowWall > 0 ? 100 * windowCpu / windowWall : 0.0, 1);
    }
    f.add("daemon_rss_start_mb", double(d.start.rssKb) / 1024, 1);
    const ProcSample &held = d.windowEnd.valid ? d.windowEnd : d.end;
    f.add("daemon_rss_held_mb", double(held.rssKb) / 1024, 1);
    f.add("daemon_peak_rss_mb", double(d.end.hwmKb) / 1024, 1);
    const double growth = double(held.rssKb - d.start.rssKb);
    f.add("daemon_rss_per_conn_kb", established ? growth / double(established) : 0.0, 2);
}

} // namespace

Totals sumStats(std::span<const ThreadStats> stats)
{
    Totals t;
    for (const ThreadStats &s : stats) {
        t.attempted += s.attempted.get();
        t.established += s.established.get();
        t.connectFailed += s.connectFailed.get();
        t.handshakeFailed += s.handshakeFailed.get();
        t.handshakeBadAccept += s.handshakeBadAccept.get();
        t.handshakeBadSubprotocol += s.handshakeBadSubprotocol.get();
        t.handshakeMalformed += s.handshakeMalformed.get();
        t.handshakeEof += s.handshakeEof.get();
        t.handshakeTls += s.handshakeTls.get();
        t.closedByServer += s.closedByServer.get();
        t.protocolErrors += s.protocolErrors.get();
        t.notEstablished += s.notEstablished.get();
        t.sent += s.sent.get();
        t.received += s.received.get();
        t.answered += s.answered.get();
        t.mismatched += s.mismatched.get();
        t.unexpected += s.unexpected.get();
        t.lost += s.lost.get();
        t.skipped += s.skipped.get();
        t.sentInWindow += s.sentInWindow.get();
        t.answeredInWindow += s.answeredInWindow.get();
        t.callErrors += s.callErrors.get();
        t.churnClean += s.churnClean.get();
        t.churnAbrupt += s.churnAbrupt.get();
        t.churnCloseTimeouts += s.churnCloseTimeouts.get();
        t.churnReopened += s.churnReopened.get();
        t.reconnectAttempted += s.reconnectAttempted.get();
        t.reconnected += s.reconnected.get();
        t.reconnectFailed += s.reconnectFailed.get();
        t.churnAbandoned += s.churnAbandoned.get();
        t.churnLateReplies += s.churnLateReplies.get();
        for (size_t i = 0; i < t.establishedByTarget.size(); ++i)
            t.establishedByTarget[i] += s.establishedByTarget[i];
        t.connectErrors.merge(s.connectErrors);
        t.handshakeStatus.merge(s.handshakeStatus);
        t.closeCodes.merge(s.closeCodes);
        t.tlsFailures.merge(s.tlsFailures);
        t.rtt.merge(s.rtt);
        t.setup.merge(s.setup);
        t.reconnectSetup.merge(s.reconnectSetup);
        if (t.tlsSession.empty())
            t.tlsSession.assign(s.tlsSession, strnlen(s.tlsSession, sizeof s.tlsSession));
        t.lastOpenUs = std::max(t.lastOpenUs, s.lastOpenUs);
        t.lastSettledUs = std::max(t.lastSettledUs, s.lastSettledUs);
    }
    return t;
}

void printProgress(std::span<const ThreadStats> stats, const RunClock &clock, int64_t now, Progress *last)
{
    uint64_t attempted = 0, established = 0, open = 0, failed = 0, sent = 0, answered = 0;
    uint64_t outstanding = 0, lost = 0, mismatched = 0, slow = 0;
    uint64_t churned = 0, reconnected = 0, reconnectFailed = 0;
    for (const ThreadStats &s : stats) {
        churned += s.churnClean.get() + s.churnAbrupt.get();
        reconnected += s.reconnected.get();
        reconnectFailed += s.reconnectFailed.get();
        slow += s.slow.get();
        attempted += s.attempted.get();
        established += s.established.get();
        open += s.openNow.get();
        failed += s.connectFailed.get() + s.handshakeFailed.get();
        sent += s.sent.get();
        answered += s.answered.get();
        outstanding += s.outstanding.get();
        lost += s.lost.get();
        mismatched += s.mismatched.get();
    }
    const double span = seconds(now - last->atUs);
    char churn[96] = "";
    if (churned + reconnected + reconnectFailed > 0)
        std::snprintf(churn, sizeof churn, " | churned %llu reconnected %llu failed %llu",
                      (unsigned long long)churned, (unsigned long long)reconnected,
                      (unsigned long long)reconnectFailed);
    const char *phase = now < clock.windowStartUs ? "ramp" : now < clock.windowEndUs ? "hold" : "drain";
    std::fprintf(stderr,
                 "[%6.1fs %-5s] conns %llu/%llu up, %llu open, %llu failed | sent %llu (%.0f/s) "
                 "answered %llu (%.0f/s) outstanding %llu lost %llu mismatched %llu | over %lld ms: %llu%s\n",
                 seconds(now - clock.startUs), phase, (unsigned long long)established,
                 (unsigned long long)attempted, (unsigned long long)open, (unsigned long long)failed,
                 (unsigned long long)sent, perSecond(sent - last->sent, span), (unsigned long long)answered,
                 perSecond(answered - last->answered, span), (unsigned long long)outstanding,
                 (unsigned long long)lost, (unsigned long long)mismatched,
                 (long long)(SlowReplyUs / 1000), (unsigned long long)(slow - last->slow), churn);
    *last = {now, sent, answered, slow};
}

void printReport(const LoadOptions &options, const RunClock &clock, int64_t endUs, const Totals &totals,
                 const DaemonSamples &daemon, const SelfUsage &self, bool interrupted)
{
    Fields f;
    addSetup(f, options);
    addConnections(f, options, totals, clock);
    if (options.churnPerSecond > 0)
        addChurn(f, totals);
    addMessages(f, totals, clock, endUs);
    if (options.pids.size() == 1) {
        f.add("daemon_pid", uint64_t(options.pids[0]));
    } else if (!options.pids.empty()) {
        std::string list;
        for (const pid_t pid : options.pids) {
            if (!list.empty())
                list += ',';
            list += std::to_string(pid);
        }
        f.text("daemon_pid", list);
    }
    if (!options.pids.empty())
        addDaemon(f, daemon, totals.established);
    const double run = seconds(endUs - clock.startUs);
    f.add("run_s", run, 3);
    f.add("interrupted", uint64_t(interrupted));
    f.add("loadgen_cpu_s", self.cpuSeconds, 2);
    f.add("loadgen_cpu_pct", run > 0 ? 100 * self.cpuSeconds / run : 0.0, 1);
    f.add("loadgen_max_rss_mb", double(self.maxRssKb) / 1024, 1);
    f.print();
}

} // namespace loadgen
