// A whole OCPP session (OcppSession, the per-station state machine) over a fake host
// (tests/support/FakeSessionHost.h): the input is a script of events, each one byte
// naming it and a few bytes for its arguments: a station frame (raw bytes, or a CALL or
// an answer built to hit the ids in play), a push, the API answering a request (with
// an outcome, status and body), the call timer running out, the station no longer
// reading, the daemon closing it, the station going. A model of what the SPEC and the
// README promise runs beside it, and every effect of every event must be the one it
// expects, in order: each station CALL gets exactly one CALLRESULT or CALLERROR, each
// accepted push is reported to the API exactly once (result or error) or is still
// outstanding or queued, the queue stays within --call-queue, at most one CALL is
// outstanding, none goes to a station that is closing or gone, the timer runs exactly
// while a CALL is outstanding. At the end the station goes and every request is
// answered: then nothing may be left. ASan finds what is leaked.
#include <QHash>
#include <QJsonDocument>
#include <QJsonObject>

#include "ClientId.h"
#include "FakeSessionHost.h"
#include "FuzzSupport.h"
#include "modes/OcppFrame.h"
#include "modes/OcppSession.h"

using namespace ws2api;
using fuzz::require;
using test::FakeSessionHost;

namespace {

// The input, read a byte at a time; 0 once it is used up.
class Script
{
public:
    explicit Script(QByteArrayView data) : m_data(data) {}
    bool atEnd() const { return m_pos >= m_data.size(); }
    uint8_t byte() { return atEnd() ? 0 : uint8_t(m_data[m_pos++]); }
    QByteArray bytes(qsizetype n)
    {
        n = std::min(n, m_data.size() - m_pos);
        const QByteArray out = m_data.sliced(m_pos, n).toByteArray();
        m_pos += n;
        return out;
    }

private:
    QByteArrayView m_data;
    qsizetype m_pos = 0;
};

struct Call
{
    QByteArray action;
    QByteArray messageId;
};

QByteArray key(const Call &call)
{
    return call.action + '\n' + call.messageId;
}

ApiResponse response(Script &script)
{
    static const ApiResponse::Outcome Failures[] = {
        ApiResponse::Outcome::Timeout, ApiResponse::Outcome::Unreachable,
        ApiResponse::Outcome::Overloaded, ApiResponse::Outcome::BadResponse};
    static const int Statuses[] = {200, 201, 204, 299, 300, 400, 404, 409, 500, 503};
    static const char *const Bodies[] = {
        "{}", "{\"status\":\"Accepted\"}", " {\"a\":[1,2.50,12345678901234567890]} \n",
        R"({"code":"NotSupported","description":"no","details":{"k":1}})",
        R"({"code":"OccurrenceConstraintViolation"})", R"({"code":"Custom","details":null})",
        "\"ok\"", "", "[3,\"x\",{}]"};
    ApiResponse r;
    const uint8_t kind = script.byte();
    if (kind % 3 == 2) {
        r.outcome = Failures[script.byte() % std::size(Failures)];
        return r;
    }
    r.outcome = ApiResponse::Outcome::Ok;
    r.status = Statuses[script.byte() % std::size(Statuses)];
    const uint8_t body = script.byte();
    r.body = body < 200 ? QByteArray(Bodies[body % std::size(Bodies)]) : script.bytes(body - 200);
    return r;
}

class Run
{
public:
    Run(ocpp::Version version, int callQueue, qsizetype maxOrdered, bool logEveryFrame)
        : m_version(version)
        , m_host("CP1", ocpp::subprotocol(version))
    {
        m_config.apiBasePath = "/ocpp";
        m_config.callQueue = callQueue;
        m_config.callTimeoutMs = 1000;
        m_host.maxOrdered = maxOrdered;
        if (logEveryFrame)
            m_host.problemLog = LogThrottle(0);
        m_session = std::make_unique<OcppSession>(m_config, m_host);
        m_host.attach(m_session.get());
    }

    void step(Script &script);
    void finish();

private:
    void stationFrame(const QByteArray &text);
    void stationCallOrSend(const ocpp::Frame &frame);
    void stationAnswer(const ocpp::Frame &frame);
    void push(Script &script);
    void answerOrdered(const ApiResponse &response);
    void timerFires();
    void stationGoes();
    void nextCall();
    QByteArray builtFrame(Script &script) const;

    const FakeSessionHost::Sent &takeSend(const char *what);
    const ApiRequest &takeReport(const char *what);
    // A /result/ (with the station's payload) or an /error/ (with its code) for `call`.
    void expectReport(const Call &call, const char *kind, const QByteArray &codeOrBody);
    void settled();

    QByteArray target(QByteArrayView kind, const Call &call) const
    {
        return "/ocpp/" + kind.toByteArray() + '/' + ClientId::encodeSegment(call.action) + "/CP1/"
            + ClientId::encodeSegment(call.messageId);
    }

    ocpp::Version m_version;
    OcppSession::Config m_config;
    FakeSessionHost m_host;
    std::unique_ptr<OcppSession> m_session;

    // The model: what the session must have done so far.
    bool m_open = true;
    std::optional<Call> m_outstanding;
    QList<Call> m_queued;
    QList<std::optional<QByteArray>> m_ordered;  // per ordered request: a CALL's MessageId, or none (SEND)
    QList<Call> m_recent;                        // 2.1: the station's last 16 CALLs not yet refused
    QHash<QByteArray, int> m_unreported;         // accepted pushes not yet reported, by action and id
    int m_rejected = 0;
    int m_pushes = 0;
    qsizetype m_sendsSeen = 0;
    qsizetype m_apiSeen = 0;
    qsizetype m_reports = 0;
    qsizetype m_unorderedAnswered = 0;
};

// The next frame the session sent, with the status the host must have answered:
// 404 once the station is going, 503 (and closing it) when it stopped reading.
const FakeSessionHost::Sent &Run::takeSend(const char *what)
{
    require(m_sendsSeen < m_host.sent.size(), "the session sends", what);
    const FakeSessionHost::Sent &sent = m_host.sent[m_sendsSeen++];
    const int expected = !m_open ? 404 : m_host.sendQueueFull ? 503 : 200;
    require(sent.status == expected, "the host's answer to a send", QByteArray::number(expected),
            QByteArray::number(sent.status));
    if (sent.status == 503)
        m_open = false;
    return sent;
}

// The next request made beside the ordered ones (a /result/ or /error/).
const ApiRequest &Run::takeReport(const char *what)
{
    while (m_apiSeen < m_host.apiLog.size()) {
        const ApiRequest &request = m_host.apiLog[m_apiSeen++];
        if (request.target.startsWith("/ocpp/result/") || request.target.startsWith("/ocpp/error/")) {
            ++m_reports;
            return request;
        }
    }
    require(false, "the session reports to the API", what);
    std::abort();
}

void Run::expectReport(const Call &call, const char *kind, const QByteArray &codeOrBody)
{
    const ApiRequest &request = takeReport(kind);
    require(request.target == target(kind, call), "the report names its CALL", target(kind, call),
            request.target);
    require(ocpp::isJsonObject(request.body), "a report's body is a JSON object", {}, request.body);
    if (qstrcmp(kind, "result") == 0) {
        require(request.body == codeOrBody, "the station's result passes untouched", codeOrBody, request.body);
        return;
    }
    const QJsonObject error = QJsonDocument::fromJson(request.body).object();
    require(error.value(QStringLiteral("code")).toString().toUtf8() == codeOrBody, "the error's code",
            codeOrBody, request.body);
}

// What every event must leave: nothing unexpected sent or asked, the timer running
// exactly while a CALL is outstanding, the model's view of the host the host's.
void Run::settled()
{
    require(m_sendsSeen == m_host.sent.size(), "nothing else sent", {}, m_host.sent.value(m_sendsSeen).data);
    while (m_apiSeen < m_host.apiLog.size()) {
        const QByteArray &t = m_host.apiLog[m_apiSeen++].target;
        require(t.startsWith("/ocpp/call/") || t.startsWith("/ocpp/send/"), "nothing else reported", {}, t);
    }
    require(m_reports == m_unorderedAnswered + m_host.unordered.size(), "every report is beside the ordered requests");
    require(m_host.rejected == m_rejected, "rejected frames counted", QByteArray::number(m_rejected),
            QByteArray::number(m_host.rejected));
    require(m_open == m_host.isOpen(), "the model knows whether the station is open");
    require(m_host.timerMs.has_value() == (m_outstanding.has_value() && !m_host.gone),
            "the timer runs while a CALL is outstanding");
    require(!m_host.timerMs || *m_host.timerMs == m_config.callTimeoutMs, "--call-timeout");
    require(m_queued.size() <= m_config.callQueue, "the queue within --call-queue");
    require(m_host.ordered.size() == m_ordered.size(), "ordered requests");
}

// The first queued CALL goes out when none is outstanding and the station is open.
void Run::nextCall()
{
    if (m_outstanding || m_queued.isEmpty() || !m_open)
        return;
    const Call call = m_queued.takeFirst();
    const FakeSessionHost::Sent &sent = takeSend("the next CALL");
    const ocpp::Parsed parsed = ocpp::parse(sent.data, m_version);
    require(parsed.problem == ocpp::Problem::None && parsed.frame.type == ocpp::MessageType::Call
                && parsed.frame.action == call.action && parsed.frame.messageId == call.messageId,
            "the first queued CALL goes out", key(call), sent.data);
    if (sent.status == 200) {
        m_outstanding = call;
        return;
    }
    // Its send queue was full: the host closes it, the API hears why at once.
    expectReport(call, "error", "Disconnected");
    --m_unreported[key(call)];
}

void Run::stationFrame(const QByteArray &text)
{
    if (m_host.gone)
        return;  // no socket, no frames
    m_session->clientMessage(ClientMessage{text, false});
    const ocpp::Parsed parsed = ocpp::parse(text, m_version);
    if (parsed.problem != ocpp::Problem::None) {
        ++m_rejected;
        if (const auto reply = ocpp::errorReplyFor(parsed, m_version))
            require(takeSend("the CALLERROR to a bad frame").data == *reply, "the parser's CALLERROR", *reply);
        return;
    }
    switch (parsed.frame.type) {
    case ocpp::MessageType::Call:
    case ocpp::MessageType::Send: return stationCallOrSend(parsed.frame);
    default: return stationAnswer(parsed.frame);
    }
}

void Run::stationCallOrSend(const ocpp::Frame &frame)
{
    const bool isCall = frame.type == ocpp::MessageType::Call;
    if (isCall && m_version == ocpp::Version::V21) {
        m_recent.append(Call{frame.action, frame.messageId});
        if (m_recent.size() > 16)
            m_recent.removeFirst();
    }
    if (m_ordered.size() >= m_host.maxOrdered) {
        m_open = false;  // too many waiting: the host closes the station
        return;
    }
    m_ordered.append(isCall ? std::optional(frame.messageId) : std::nullopt);
    const ApiRequest &request = m_host.ordered.last().request;
    const Call call{frame.action, frame.messageId};
    require(request.target == target(isCall ? "call" : "send", call), "the station's CALL to the API",
            target(isCall ? "call" : "send", call), request.target);
    require(request.body == frame.payload, "the payload passes untouched", frame.payload, request.body);
}

void Run::stationAnswer(const ocpp::Frame &frame)
{
    const bool isResult = frame.type == ocpp::MessageType::CallResult;
    const QByteArray code = isResult ? QByteArray() : ocpp::normalizeErrorCode(frame.errorCode, m_version);
    if (m_outstanding && m_outstanding->messageId == frame.messageId) {
        expectReport(*m_outstanding, isResult ? "result" : "error", isResult ? frame.payload : code);
        --m_unreported[key(*m_outstanding)];
        m_outstanding.reset();
        return nextCall();
    }
    if (frame.type == ocpp::MessageType::CallResultError) {
        for (qsizetype i = 0; i < m_recent.size(); ++i) {
            if (m_recent[i].messageId == frame.messageId)
                return expectReport(m_recent.takeAt(i), "error", code);
        }
    }
    ++m_rejected;
}

void Run::push(Script &script)
{
    static const char *const Actions[] = {"Reset", "TriggerMessage", "GetVariables", "Data Transfer/x"};
    PushMessage push;
    push.action = Actions[script.byte() % std::size(Actions)];
    push.messageId = "p" + QByteArray::number(script.byte() % 8);
    push.payload = "{\"n\":" + QByteArray::number(++m_pushes) + '}';
    const Call call{push.action, push.messageId};
    QByteArray error;
    const int status = m_session->push(push, &error);
    if (!m_open)
        return require(status == 404, "a push to a station going is 404", "404", QByteArray::number(status));
    if (m_outstanding && m_queued.size() >= m_config.callQueue)
        return require(status == 503 && error == "call queue full", "a full queue is 503", "503",
                       QByteArray::number(status) + ' ' + error);
    require(status == 200, "a push is accepted", "200", QByteArray::number(status));
    ++m_unreported[key(call)];
    m_queued.append(call);
    nextCall();
}

void Run::answerOrdered(const ApiResponse &r)
{
    if (!m_host.answerOrdered(r))
        return;
    const std::optional<QByteArray> messageId = m_ordered.takeFirst();
    if (!messageId)
        return;  // SEND: nothing goes back
    const FakeSessionHost::Sent &sent = takeSend("the answer to a station CALL");
    const ocpp::Parsed parsed = ocpp::parse(sent.data, m_version);
    require(parsed.problem == ocpp::Problem::None && parsed.frame.messageId == *messageId,
            "the answer is a valid frame for its CALL", *messageId, sent.data);
    const bool ok = r.outcome == ApiResponse::Outcome::Ok;
    if (ok && r.status >= 200 && r.status < 300 && ocpp::isJsonObject(r.body)) {
        require(parsed.frame.type == ocpp::MessageType::CallResult && parsed.frame.payload == r.body.trimmed(),
                "the API's object becomes the CALLRESULT", r.body, sent.data);
    } else {
        const auto error = ok && r.status >= 300 ? ocpp::apiError(r.body) : std::nullopt;
        const QByteArray code = error ? ocpp::normalizeErrorCode(error->code, m_version)
                                      : ocpp::errorCode(ocpp::ErrorKind::InternalError, m_version);
        require(parsed.frame.type == ocpp::MessageType::CallError && parsed.frame.errorCode == code,
                "anything else becomes a CALLERROR", code, sent.data);
    }
}

void Run::timerFires()
{
    if (!m_host.fireTimer())
        return;
    require(m_outstanding.has_value(), "the timer runs for an outstanding CALL");
    expectReport(*m_outstanding, "error", "Timeout");
    --m_unreported[key(*m_outstanding)];
    m_outstanding.reset();
    nextCall();
}

void Run::stationGoes()
{
    if (m_host.gone)
        return;
    m_host.goAway();
    m_open = false;
    if (m_outstanding) {
        expectReport(*m_outstanding, "error", "Disconnected");
        --m_unreported[key(*m_outstanding)];
        m_outstanding.reset();
    }
    for (const Call &call : std::exchange(m_queued, {})) {
        expectReport(call, "error", "Disconnected");
        --m_unreported[key(call)];
    }
}

// A frame aimed at the ids in play: the outstanding CALL's, a recent station CALL's,
// a push's, or one nobody used.
QByteArray Run::builtFrame(Script &script) const
{
    static const char *const Actions[] = {"Heartbeat", "BootNotification", "Authorize", "x/y z"};
    const uint8_t type = script.byte();
    const uint8_t which = script.byte();
    QByteArray id = "s" + QByteArray::number(which % 4);
    if (which % 4 == 0 && m_outstanding)
        id = m_outstanding->messageId;
    else if (which % 4 == 1 && !m_recent.isEmpty())
        id = m_recent[(which / 4) % m_recent.size()].messageId;
    else if (which % 4 == 2)
        id = "p" + QByteArray::number((which / 4) % 8);
    ocpp::Frame frame;
    frame.type = ocpp::MessageType(2 + type % 5);
    frame.messageId = id;
    frame.action = Actions[(type / 5) % std::size(Actions)];
    frame.payload = (type / 20) % 2 ? "{\"ok\":true}" : "{}";
    frame.errorCode = (type / 40) % 2 ? "OccurenceConstraintViolation" : "GenericError";
    frame.errorDescription = "d";
    return ocpp::serialize(frame);
}

void Run::step(Script &script)
{
    switch (script.byte() % 10) {
    case 0: stationFrame(script.bytes(script.byte())); break;
    case 1:
    case 2: stationFrame(builtFrame(script)); break;
    case 3: push(script); break;
    case 4: answerOrdered(response(script)); break;
    case 5:
        if (const qsizetype n = m_host.unordered.size()) {
            m_host.answerUnordered(script.byte() % n, response(script));
            ++m_unorderedAnswered;
        }
        break;
    case 6: timerFires(); break;
    case 7: m_host.sendQueueFull = true; break;
    case 8:
        m_host.closing = true;  // the daemon closes it: replaced, shut down
        m_open = false;
        break;
    case 9: stationGoes(); break;
    }
    settled();
}

// The station goes, the API answers everything: nothing may be left over.
void Run::finish()
{
    stationGoes();
    settled();
    ApiResponse ok;
    ok.outcome = ApiResponse::Outcome::Ok;
    ok.status = 200;
    ok.body = "{}";
    while (m_host.orderedInFlight) {
        answerOrdered(ok);
        settled();
    }
    while (!m_host.unordered.isEmpty()) {
        m_host.answerUnordered(0, ok);
        ++m_unorderedAnswered;
    }
    settled();
    require(m_ordered.isEmpty() && m_host.idle(), "every request answered");
    for (auto it = m_unreported.cbegin(); it != m_unreported.cend(); ++it)
        require(it.value() == 0, "every accepted push reported exactly once", "0",
                it.key() + ": " + QByteArray::number(it.value()));
    require(m_host.sent.size() == m_sendsSeen, "nothing sent after the station went");
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    // The log lines of rejected frames (the station's bytes in them, every one when
    // the input's first byte says so) are written, and dropped here: printing them
    // would only slow the run down.
    qInstallMessageHandler([](QtMsgType, const QMessageLogContext &, const QString &) {});
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size)
{
    Script script(fuzz::input(bytes, size));
    const uint8_t setup = script.byte();
    static const ocpp::Version Versions[] = {ocpp::Version::V16, ocpp::Version::V201, ocpp::Version::V21};
    Run run(Versions[setup % 3], (setup / 3) % 4, 1 + (setup / 12) % 4, setup & 0x80);
    for (int events = 0; !script.atEnd() && events < 4096; ++events)
        run.step(script);
    run.finish();
    return 0;
}
