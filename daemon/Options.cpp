#include "Options.h"

#include <QCommandLineParser>
#include <QFile>
#include <QMap>
#include <QSettings>
#include <QThread>
#include <QUrl>

#include <algorithm>
#include <climits>

#include "TlsOptions.h"

using namespace Qt::Literals::StringLiterals;

namespace ws2apid {

QString quoted(const QString &value)
{
    return u'"' + value + u'"';
}

bool parseOnOff(const QString &value, bool *on, QString *why)
{
    if (value != u"on" && value != u"off") {
        *why = u"%1 is not on or off"_s.arg(quoted(value));
        return false;
    }
    *on = value == u"on";
    return true;
}

namespace {

using ws2api::ProxyConfig;

// Qt timers take int milliseconds, so a limit in seconds must stay below this.
constexpr qint64 MaxSeconds = INT_MAX / 1000;
constexpr qint64 MaxMessageBytes = 256 << 20;
constexpr qint64 MaxConnections = 100000000;
constexpr qint64 MaxConnectRate = 1000000;
const QString ConfigSection = u"ws2apid"_s;
const QStringList KnownSubprotocols = {u"ocpp2.1"_s, u"ocpp2.0.1"_s, u"ocpp1.6"_s};

// "Setters" turn one option's text into config fields; on failure *why says what is
// wrong with the value, without the option's name (the caller knows where it came from).
using Setter = bool (*)(const QString &value, ParsedOptions *out, QString *why);

bool parseNumber(const QString &value, qint64 min, qint64 max, const QString &unit, qint64 *result,
                 QString *why)
{
    bool ok = false;
    *result = value.trimmed().toLongLong(&ok);
    if (ok && *result >= min && *result <= max)
        return true;
    *why = u"%1 is not a whole number of %2 in %3..%4"_s.arg(quoted(value), unit).arg(min).arg(max);
    return false;
}

// ADDR:PORT with ADDR an IPv4 address, [IPv6], "localhost", or empty (all addresses,
// both families, as Go's ":4000").
bool parseEndpoint(const QString &value, QHostAddress *address, quint16 *port, QString *why)
{
    *why = u"%1 is not ADDR:PORT"_s.arg(quoted(value));
    const qsizetype colon = value.lastIndexOf(u':');
    if (colon < 0)
        return false;
    QString host = value.left(colon);
    const QString portText = value.mid(colon + 1);
    bool ok = false;
    const uint number = portText.toUInt(&ok);
    if (!ok || portText.isEmpty() || !portText.front().isDigit() || number > 65535) {
        *why += u" (the port must be 0..65535)"_s;
        return false;
    }
    *port = quint16(number);
    if (host.isEmpty()) {
        *address = QHostAddress::Any;
        return true;
    }
    if (host == u"localhost") {
        *address = QHostAddress::LocalHost;
        return true;
    }
    const bool bracketed = host.startsWith(u'[') && host.endsWith(u']');
    if (!bracketed && host.contains(u':')) {
        *why += u" (write IPv6 addresses as [::1]:4000)"_s;
        return false;
    }
    if (bracketed)
        host = host.mid(1, host.size() - 2);
    // Qt also takes inet_aton's short forms ("127.1"), which here are more likely typos.
    if (!bracketed && host.count(u'.') != 3)
        return false;
    const auto wanted = bracketed ? QAbstractSocket::IPv6Protocol : QAbstractSocket::IPv4Protocol;
    return address->setAddress(host) && address->protocol() == wanted;
}

bool setListen(const QString &value, ParsedOptions *out, QString *why)
{
    return parseEndpoint(value, &out->config.listenAddress, &out->config.listenPort, why);
}

bool setPushListen(const QString &value, ParsedOptions *out, QString *why)
{
    out->config.hasPushListener = true;
    return parseEndpoint(value, &out->config.pushAddress, &out->config.pushPort, why);
}

bool setApi(const QString &value, ParsedOptions *out, QString *why)
{
    if (value == u"demo:") {
        out->config.demoApi = true;
        return true;
    }
    const QUrl url(value, QUrl::StrictMode);
    // The API paths are appended to this URL, so a query, fragment or credentials
    // would end up in the wrong place of every request.
    if (!url.isValid() || (url.scheme() != u"http" && url.scheme() != u"https") || url.host().isEmpty()
        || !url.userInfo().isEmpty() || url.hasQuery() || url.hasFragment()) {
        *why = u"%1 is not http(s)://host[:port][/path] or demo:"_s.arg(quoted(value));
        return false;
    }
    out->config.api = url;
    out->config.demoApi = false;
    return true;
}

bool setMode(const QString &value, ParsedOptions *out, QString *why)
{
    if (value == u"plain" || value == u"ocpp") {
        out->config.mode = value == u"plain" ? ProxyConfig::Mode::Plain : ProxyConfig::Mode::Ocpp;
        return true;
    }
    *why = u"%1 is not plain or ocpp"_s.arg(quoted(value));
    return false;
}

bool setPushToken(const QString &value, ParsedOptions *out, QString *why)
{
    // It is compared with a header value; the token itself stays out of the message.
    for (const QChar c : value) {
        if (c.unicode() < 0x21 || c.unicode() > 0x7e) {
            *why = u"the token must be printable ASCII without spaces"_s;
            return false;
        }
    }
    out->config.pushToken = value.toLatin1();
    return true;
}

bool setPushAllow(const QString &value, ParsedOptions *out, QString *why)
{
    QList<QPair<QHostAddress, int>> networks;
    for (const QString &entry : value.split(u',')) {
        const QString cidr = entry.trimmed();
        const auto network = QHostAddress::parseSubnet(cidr);
        if (cidr.isEmpty() || network.first.isNull()) {
            *why = u"%1 is not a CIDR such as 10.0.0.0/8 or ::1/128 (in %2)"_s.arg(quoted(cidr),
                                                                                  quoted(value));
            return false;
        }
        networks.append(network);
    }
    out->config.pushAllow = networks;
    return true;
}

bool setThreads(const QString &value, ParsedOptions *out, QString *why)
{
    qint64 n = 0;
    if (!parseNumber(value, 1, 1024, u"threads"_s, &n, why))
        return false;
    out->config.threads = int(n);
    return true;
}

bool setAdmin(const QString &value, ParsedOptions *out, QString *why)
{
    if (value.trimmed().isEmpty()) {
        *why = u"needs a local socket name or path, or none"_s;
        return false;
    }
    out->config.adminName = value;  // "none" is kept; core reads it as "disabled"
    return true;
}

bool setAdminGroup(const QString &value, ParsedOptions *out, QString *why)
{
    if (value.trimmed().isEmpty()) {
        *why = u"needs a group name"_s;
        return false;
    }
    out->config.adminGroup = value;  // looked up when the socket is made
    return true;
}

bool setApiTimeout(const QString &value, ParsedOptions *out, QString *why)
{
    qint64 ms = 0;
    if (!parseNumber(value, 1, INT_MAX, u"milliseconds"_s, &ms, why))
        return false;
    out->config.apiTimeoutMs = int(ms);
    return true;
}

bool setHandshakeTimeout(const QString &value, ParsedOptions *out, QString *why)
{
    qint64 ms = 0;
    if (!parseNumber(value, 100, INT_MAX, u"milliseconds"_s, &ms, why))
        return false;
    out->config.handshakeTimeoutMs = int(ms);
    return true;
}

bool setApiConnections(const QString &value, ParsedOptions *out, QString *why)
{
    qint64 n = 0;
    if (!parseNumber(value, 1, 1024, u"connections"_s, &n, why))
        return false;
    out->config.apiPoolSize = int(n);
    return true;
}

bool setApiPipeline(const QString &value, ParsedOptions *out, QString *why)
{
    qint64 n = 0;
    if (!parseNumber(value, 1, 64, u"requests"_s, &n, why))
        return false;
    out->config.apiPipeline = int(n);
    return true;
}

bool setGatherDelay(const QString &value, ParsedOptions *out, QString *why)
{
    qint64 us = 0;
    if (!parseNumber(value, 0, 10000, u"microseconds"_s, &us, why))
        return false;
    out->config.gatherDelayUs = int(us);
    return true;
}

bool setCallTimeout(const QString &value, ParsedOptions *out, QString *why)
{
    qint64 s = 0;
    if (!parseNumber(value, 1, MaxSeconds, u"seconds"_s, &s, why))
        return false;
    out->config.callTimeoutMs = int(s) * 1000;
    return true;
}

bool setCallQueue(const QString &value, ParsedOptions *out, QString *why)
{
    qint64 n = 0;
    if (!parseNumber(value, 0, 1000000, u"calls"_s, &n, why))
        return false;
    out->config.callQueue = int(n);
    return true;
}

bool setSubprotocols(const QString &value, ParsedOptions *out, QString *why)
{
    QStringList list;
    for (const QString &entry : value.split(u',')) {
        const QString protocol = entry.trimmed();
        if (protocol.isEmpty()) {
            *why = u"empty entry in %1"_s.arg(quoted(value));
            return false;
        }
        if (!KnownSubprotocols.contains(protocol)) {
            *why = u"%1 is not one of %2"_s.arg(quoted(protocol), KnownSubprotocols.join(u", "));
            return false;
        }
        if (list.contains(protocol)) {
            *why = u"%1 is listed twice"_s.arg(quoted(protocol));
            return false;
        }
        list.append(protocol);
    }
    out->config.subprotocols = list;
    return true;
}

bool setDefaultSubprotocol(const QString &value, ParsedOptions *out, QString *)
{
    out->config.defaultSubprotocol = value.trimmed();  // checked against the final list later
    return true;
}

bool setMaxMessage(const QString &value, ParsedOptions *out, QString *why)
{
    return parseNumber(value, 1, MaxMessageBytes, u"bytes"_s, &out->config.maxMessage, why);
}

bool setPingInterval(const QString &value, ParsedOptions *out, QString *why)
{
    qint64 s = 0;
    if (!parseNumber(value, 0, MaxSeconds, u"seconds"_s, &s, why))
        return false;
    out->config.pingIntervalMs = int(s * 1000);
    return true;
}

bool setMaxConnections(const QString &value, ParsedOptions *out, QString *why)
{
    return parseNumber(value, 1, MaxConnections, u"connections"_s, &out->config.maxConnections, why);
}

// off, N or N,PER_SOURCE (connections per second in total, and per source address).
bool setConnectRate(const QString &value, ParsedOptions *out, QString *why)
{
    if (value.trimmed() == u"off") {
        out->config.connectRate = 0;
        out->config.connectRatePerSource = 0;
        return true;
    }
    const QStringList parts = value.split(u',');
    qint64 total = 0;
    qint64 perSource = 0;
    if (parts.size() > 2) {
        *why = u"%1 is not off, N or N,PER_SOURCE"_s.arg(quoted(value));
        return false;
    }
    if (!parseNumber(parts.at(0), 1, MaxConnectRate, u"connections per second"_s, &total, why))
        return false;
    if (parts.size() == 2 && !parseNumber(parts.at(1), 1, total, u"connections per second per source"_s,
                                          &perSource, why)) {
        *why += u" (at most the total)"_s;
        return false;
    }
    out->config.connectRate = double(total);
    out->config.connectRatePerSource = double(perSource);
    return true;
}

bool setNotifyDisconnect(const QString &value, ParsedOptions *out, QString *why)
{
    return parseOnOff(value, &out->config.notifyDisconnect, why);
}

// RFC 9110 token characters: what a header name may be made of.
bool isHeaderName(const QString &name)
{
    static const QString Others = u"!#$%&'*+-.^_`|~"_s;
    return !name.isEmpty() && std::all_of(name.begin(), name.end(), [](QChar c) {
        return (c >= u'a' && c <= u'z') || (c >= u'A' && c <= u'Z') || (c >= u'0' && c <= u'9') || Others.contains(c);
    });
}

bool setForwardHeaders(const QString &value, ParsedOptions *out, QString *why)
{
    // Passed on always, or written by ws2apid itself, or framing the API request.
    static const QStringList Passed = {u"Authorization"_s, u"Cookie"_s, u"Origin"_s, u"User-Agent"_s,
                                       u"Sec-WebSocket-Protocol"_s, u"X-Forwarded-For"_s};
    static const QStringList Refused = {u"Host"_s, u"Content-Length"_s, u"Transfer-Encoding"_s, u"Connection"_s,
                                        u"Upgrade"_s, u"Keep-Alive"_s, u"TE"_s, u"Trailer"_s, u"Expect"_s,
                                        u"Proxy-Connection"_s, u"Content-Type"_s, u"X-OCPP-Version"_s};
    QList<QByteArray> names;
    for (const QString &entry : value.split(u',', Qt::SkipEmptyParts)) {
        const QString name = entry.trimmed();
        if (!isHeaderName(name)) {
            *why = u"%1 is not a header name (in %2)"_s.arg(quoted(name), quoted(value));
            return false;
        }
        if (Passed.contains(name, Qt::CaseInsensitive)) {
            *why = u"%1 is passed on already"_s.arg(name);
            return false;
        }
        if (Refused.contains(name, Qt::CaseInsensitive)) {
            *why = u"%1 is written by ws2apid for the API request itself"_s.arg(name);
            return false;
        }
        const QByteArray latin1 = name.toLatin1();
        if (std::any_of(names.begin(), names.end(),
                        [&](const QByteArray &n) { return n.compare(latin1, Qt::CaseInsensitive) == 0; })) {
            *why = u"%1 is listed twice"_s.arg(name);
            return false;
        }
        names.append(latin1);
    }
    out->config.forwardHeaders = names;
    return true;
}

bool setCpuProfile(const QString &value, ParsedOptions *out, QString *)
{
    out->config.cpuProfile = value;
    return true;
}

bool setMemProfile(const QString &value, ParsedOptions *out, QString *)
{
    out->config.memProfile = value;
    return true;
}

bool setLogRules(const QString &value, ParsedOptions *out, QString *)
{
    out->logRules = value;
    return true;
}

struct OptionSpec
{
    QLatin1StringView name;
    QLatin1StringView valueName;
    QLatin1StringView help;
    Setter apply;
};

// Applied in this order; every entry is also an INI key of the same name.
const OptionSpec Specs[] = {
    {"listen"_L1, "ADDR:PORT"_L1, "WebSocket listener; also pushes, /metrics and /healthz "
     "unless --push-listen is set. IPv6 as [::1]:4000, :4000 for all addresses "
     "(default :4000, every IPv4 and IPv6 address)."_L1, setListen},
    {"api"_L1, "URL"_L1, "API base URL, http(s)://host[:port][/path], or demo: for the built-in "
     "echo API (default http://127.0.0.1:5000/)."_L1, setApi},
    {"api-ca"_L1, "FILE"_L1, "PEM CA certificates that an https API's certificate must chain to "
     "(default: the system's store)."_L1, tlsoptions::setApiCa},
    {"mode"_L1, "plain|ocpp"_L1, "Wire mode (default plain)."_L1, setMode},
    {"push-listen"_L1, "ADDR:PORT"_L1, "Separate listener for pushes, /metrics and /healthz "
     "(default: the --listen one)."_L1, setPushListen},
    {"push-token"_L1, "TOKEN"_L1, "Pushes and /metrics need Authorization: Bearer TOKEN "
     "(scheme in any case; default: none)."_L1, setPushToken},
    {"push-allow"_L1, "CIDR,..."_L1, "Sources allowed to push and read /metrics; replaces the "
     "default loopback and private ranges."_L1, setPushAllow},
    {"threads"_L1, "N"_L1, "Worker event loops, 1..1024 (default: the number of cores)."_L1,
     setThreads},
    {"admin"_L1, "NAME"_L1, "Local socket name or path of the admin interface; none disables "
     "it (default ws2apid)."_L1, setAdmin},
    {"admin-group"_L1, "GROUP"_L1, "Members of GROUP may use the admin socket too "
     "(default: its owner only)."_L1, setAdminGroup},
    {"api-timeout"_L1, "MS"_L1, "Timeout per API request (default 10000)."_L1, setApiTimeout},
    {"handshake-timeout"_L1, "MS"_L1, "A request head, a push's body and a WebSocket "
     "handshake must arrive whole within this; a closing connection lingers this long for "
     "the peer's close, 100.. (default 10000)."_L1, setHandshakeTimeout},
    {"api-connections"_L1, "N"_L1, "Keep-alive connections to the API per worker thread, "
     "1..1024; more requests wait for one (default 32)."_L1, setApiConnections},
    {"api-pipeline"_L1, "N"_L1, "Requests in flight per API connection, 1..64: over 1, "
     "HTTP/1.1 pipelining, the requests of one event-loop pass sent together; for an http:// "
     "API that answers pipelined requests (default 1: off)."_L1, setApiPipeline},
    {"gather-delay"_L1, "US"_L1, "After an event-loop pass that found work, a worker waits "
     "this many microseconds, 0..10000, and then takes all that came in one pass: less CPU "
     "per message under load, up to that much latency per hop (default 0: off)."_L1, setGatherDelay},
    {"call-timeout"_L1, "S"_L1, "ocpp: how long a CALL pushed to a client waits for its "
     "answer (default 60)."_L1, setCallTimeout},
    {"call-queue"_L1, "N"_L1, "ocpp: CALLs waiting per client behind the outstanding one; "
     "503 when full (default 16)."_L1, setCallQueue},
    {"subprotocols"_L1, "LIST"_L1, "ocpp: versions offered, comma separated (default "
     "ocpp2.1,ocpp2.0.1,ocpp1.6)."_L1, setSubprotocols},
    {"default-subprotocol"_L1, "P"_L1, "ocpp: accept clients that offer no subprotocol as "
     "version P, one of --subprotocols (default: refuse them)."_L1, setDefaultSubprotocol},
    {"max-message"_L1, "BYTES"_L1, "Larger client message: close 1009; larger push: 413; "
     "1..268435456 (default 1048576)."_L1, setMaxMessage},
    {"ping-interval"_L1, "S"_L1, "Server pings; a client silent for two intervals is closed; "
     "0 turns pings and the dead-peer check off (default 30)."_L1, setPingInterval},
    {"max-connections"_L1, "N"_L1, "WebSocket clients held at most, the upgrades the API is "
     "deciding on included; beyond: 503 with Retry-After before the API is asked, 1..100000000 "
     "(default: as many as the open files limit allows)."_L1, setMaxConnections},
    {"connect-rate"_L1, "N[,PER_SOURCE]"_L1, "New connections per second that may ask the API, in "
     "total and optionally per source address (an IPv6 /64 counts as one), each with a burst of one "
     "second's worth; the excess gets 503 with Retry-After (default off)."_L1, setConnectRate},
    {"notify-disconnect"_L1, "on|off"_L1, "Tell the API when a client goes (default on)."_L1,
     setNotifyDisconnect},
    {"tls-cert"_L1, "FILE"_L1, "PEM certificate chain, leaf first: --listen speaks TLS (wss) "
     "with it, TLS 1.2+ with the OCPP cipher suites (default: plaintext). Twice (or a "
     "comma-separated list) for an RSA and an ECDSA certificate."_L1, tlsoptions::setTlsCert},
    {"tls-key"_L1, "FILE"_L1, "PEM private key (RSA or EC, unencrypted) of --tls-cert; one "
     "per certificate, in any order."_L1, tlsoptions::setTlsKey},
    {"tls-client-ca"_L1, "FILE"_L1, "PEM CA certificates that client certificates must chain to."_L1,
     tlsoptions::setTlsClientCa},
    {"tls-verify-client"_L1, "none|optional|required"_L1, "Ask clients for a certificate and check "
     "it against --tls-client-ca; a verified one reaches the API as Client-Cert (default none)."_L1,
     tlsoptions::setTlsVerifyClient},
    {"push-tls"_L1, "on|off"_L1, "The --push-listen listener speaks TLS too, with the same "
     "certificate (default off; without --push-listen pushes share --listen's TLS)."_L1,
     tlsoptions::setPushTls},
    {"forward-headers"_L1, "LIST"_L1, "More upgrade-request headers passed on to the connect "
     "request, comma separated, e.g. Client-Cert set by a TLS-terminating balancer "
     "(default: none beyond Authorization, Cookie, Origin, User-Agent, "
     "Sec-WebSocket-Protocol and X-Forwarded-For)."_L1, setForwardHeaders},
    {"cpuprofile"_L1, "FILE"_L1, "Write a pprof CPU profile to FILE (Go style "
     "-cpuprofile=FILE works too)."_L1, setCpuProfile},
    {"memprofile"_L1, "FILE"_L1, "Write a pprof heap profile to FILE at exit (Go style "
     "-memprofile=FILE works too)."_L1, setMemProfile},
    {"log-rules"_L1, "RULES"_L1, "Logging filter rules separated by ; or , such as "
     "ws2api.*.debug=true (default: info and above)."_L1, setLogRules},
};

// Where a value came from, for the error line: "--listen" or "FILE: listen".
struct Source
{
    QString value;
    QString label;
};

bool readConfigFile(const QString &path, QMap<QString, Source> *values, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *error = u"--config: cannot read %1: %2"_s.arg(quoted(path), file.errorString());
        return false;
    }
    const QSettings settings(path, QSettings::IniFormat);
    if (settings.status() != QSettings::NoError) {
        *error = u"--config: %1 is not a valid INI file"_s.arg(quoted(path));
        return false;
    }
    // Options go at the top of the file or under [ws2apid] (QSettings names those
    // "ws2apid/<key>"); any other section is more likely a typo than intended.
    for (const QString &key : settings.allKeys()) {
        QString name = key;
        if (const qsizetype slash = key.indexOf(u'/'); slash >= 0) {
            if (key.left(slash) != ConfigSection) {
                *error = u"%1: unknown section [%2] (options go at the top or under [%3])"_s.arg(
                    path, key.left(slash), ConfigSection);
                return false;
            }
            name = key.mid(slash + 1);
        }
        if (name.startsWith(u'#')) {  // QSettings reads "# x = 1" as the key "# x"
            *error = u"%1: %2: comments start with ; in this file, not #"_s.arg(path, quoted(key));
            return false;
        }
        if (!optionNames().contains(name)) {
            *error = u"%1: unknown key %2"_s.arg(path, quoted(key));
            return false;
        }
        if (values->contains(name)) {
            *error = u"%1: %2 is set twice (at the top and under [%3])"_s.arg(path, name, ConfigSection);
            return false;
        }
        // QSettings splits unquoted values at commas ("push-allow = a, b").
        const QVariant value = settings.value(key);
        const QString text = value.typeId() == QMetaType::QStringList
                                 ? value.toStringList().join(u',') : value.toString();
        values->insert(name, {text, path + u": "_s + name});
    }
    return true;
}

bool applyValues(const QMap<QString, Source> &values, ParsedOptions *out, QString *error)
{
    for (const OptionSpec &spec : Specs) {
        const auto it = values.constFind(spec.name);
        if (it == values.constEnd())
            continue;
        QString why;
        if (!spec.apply(it->value, out, &why)) {
            *error = it->label + u": "_s + why;
            return false;
        }
    }
    const ProxyConfig &c = out->config;
    if (!c.defaultSubprotocol.isEmpty() && !c.subprotocols.contains(c.defaultSubprotocol)) {
        *error = values.value(u"default-subprotocol"_s).label
                 + u": %1 is not among --subprotocols (%2)"_s.arg(quoted(c.defaultSubprotocol),
                                                                 c.subprotocols.join(u','));
        return false;
    }
    if (const QString problem = tlsoptions::finish(out); !problem.isEmpty()) {
        *error = problem;
        return false;
    }
    if (!c.cpuProfile.isEmpty() && c.cpuProfile == c.memProfile) {
        *error = values.value(u"memprofile"_s).label + u": the same file as -cpuprofile"_s;
        return false;
    }
    if (c.threads == 0)
        out->config.threads = qMax(1, QThread::idealThreadCount());
    return true;
}

void setUpParser(QCommandLineParser *parser)
{
    // Go's flag package takes -name=value as well as --name value; ParseAsLongOptions
    // gives the same, which -cpuprofile=FILE relies on.
    parser->setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
    parser->setApplicationDescription(
        u"WebSocket-to-HTTP gateway: keeps the WebSockets, turns every message into an HTTP "
        "request to the API, and takes pushes from it.\nEvery option can also be set in the "
        "--config file, as \"name = value\"; the command line wins. As with Go's flags, "
        "-name=value works too."_s);
    parser->addOption({{u"h"_s, u"help"_s}, u"Show this help and exit."_s});
    parser->addOption({{u"v"_s, u"version"_s}, u"Show the version and exit."_s});
    parser->addOption({u"config"_s, u"Read options from this INI file."_s, u"FILE"_s});
    for (const OptionSpec &spec : Specs)
        parser->addOption({spec.name, spec.help, spec.valueName});
}

QString helpText(const QCommandLineParser &parser)
{
    // Qt names the program by argv[0]; the help should not depend on how it was started.
    QString text = parser.helpText();
    text.replace(0, text.indexOf(u'\n'), u"Usage: ws2apid [options]"_s);
    return text;
}

// Exactly one line, whatever a value or path contains: control characters are escaped.
QString errorLine(const QString &message)
{
    QString line = u"ws2apid: "_s;
    for (const QChar c : message) {
        if (c.unicode() < 0x20 || c.unicode() == 0x7f)
            line += u"\\x%1"_s.arg(uint(c.unicode()), 2, 16, QChar(u'0'));
        else
            line += c;
    }
    return line + u'\n';
}

// Qt's parser messages read "Unknown option 'x'."; ours read "unknown option 'x'".
QString parserError(const QCommandLineParser &parser)
{
    QString message = parser.errorText();
    if (message.endsWith(u'.'))
        message.chop(1);
    if (!message.isEmpty())
        message[0] = message.at(0).toLower();
    return message + u" (see --help)"_s;
}

} // namespace

ParseOutcome parseOptions(const QStringList &arguments, ParsedOptions *out, QString *output,
                          int *exitCode)
{
    QCommandLineParser parser;
    setUpParser(&parser);
    *exitCode = 2;
    if (!parser.parse(arguments)) {
        *output = errorLine(parserError(parser));
        return ParseOutcome::Exit;
    }
    if (parser.isSet(u"help"_s) || parser.isSet(u"version"_s)) {
        *exitCode = 0;
        *output = parser.isSet(u"help"_s) ? helpText(parser)
                                          : u"ws2apid "_s + daemonVersion() + u'\n';
        return ParseOutcome::Exit;
    }
    if (!parser.positionalArguments().isEmpty()) {
        *output = errorLine(u"unexpected argument %1 (options start with --)"_s.arg(
            quoted(parser.positionalArguments().constFirst())));
        return ParseOutcome::Exit;
    }

    *out = ParsedOptions();
    QMap<QString, Source> values;
    QString error;
    out->configFile = parser.value(u"config"_s);
    if (parser.isSet(u"config"_s) && !readConfigFile(out->configFile, &values, &error)) {
        *output = errorLine(error);
        return ParseOutcome::Exit;
    }
    for (const OptionSpec &spec : Specs) {
        if (!parser.isSet(spec.name))
            continue;
        // As everywhere the last wins, except for the certificate pairs: a second
        // --tls-cert/--tls-key is an ECDSA beside an RSA one (a list, as in the file).
        const bool list = spec.name == u"tls-cert" || spec.name == u"tls-key";
        values.insert(spec.name, {list ? parser.values(spec.name).join(u',') : parser.value(spec.name),
                                  u"--"_s + spec.name});
    }
    if (!applyValues(values, out, &error)) {
        *output = errorLine(error);
        return ParseOutcome::Exit;
    }
    *exitCode = 0;
    output->clear();
    return ParseOutcome::Run;
}

QString formatEndpoint(const QHostAddress &address, quint16 port)
{
    if (address == QHostAddress::Any)
        return u"*:"_s + QString::number(port);
    if (address.protocol() == QAbstractSocket::IPv6Protocol)
        return u'[' + address.toString() + u"]:"_s + QString::number(port);
    return address.toString() + u':' + QString::number(port);
}

QString startupLine(const ProxyConfig &config, quint16 listenPort, quint16 pushPort)
{
    const bool tls = !config.tlsChains.isEmpty();
    QString line = u"ws2apid %1 listening on %2"_s.arg(
        daemonVersion(), formatEndpoint(config.listenAddress, listenPort));
    if (tls)
        line += u" (TLS)"_s;
    if (config.hasPushListener) {
        line += u", pushes on "_s + formatEndpoint(config.pushAddress, pushPort);
        if (tls && config.pushTls)
            line += u" (TLS)"_s;
    }
    return line + u" (mode %1, %2 threads, API %3)"_s.arg(
        config.mode == ProxyConfig::Mode::Ocpp ? u"ocpp"_s : u"plain"_s,
        QString::number(config.threads), config.demoApi ? u"demo:"_s : config.api.toString());
}

QString loggingFilterRules(const QString &logRules)
{
    QString rules = u"*.debug=false\n"_s + logRules;
    for (QChar &c : rules) {
        if (c == u';' || c == u',')
            c = u'\n';
    }
    return rules;
}

QString daemonVersion()
{
    return QStringLiteral(WS2API_VERSION);
}

QStringList optionNames()
{
    QStringList names;
    for (const OptionSpec &spec : Specs)
        names.append(spec.name);
    return names;
}

} // namespace ws2apid
