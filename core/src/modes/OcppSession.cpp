#include "modes/OcppSession.h"

#include <QLoggingCategory>
#include <QTimer>

#include "ClientSession.h"
#include "LogText.h"
#include "Metrics.h"
#include "Worker.h"
#include "modes/OcppMode.h"

Q_LOGGING_CATEGORY(lcOcpp, "ws2api.ocpp", QtInfoMsg)

namespace ws2api {

namespace {

constexpr size_t RecentClientCalls = 16;

QByteArray errorBody(QByteArrayView code, QByteArrayView description, QByteArrayView details)
{
    return "{\"code\":" + ocpp::jsonString(code) + ",\"description\":" + ocpp::jsonString(description)
        + ",\"details\":" + (details.trimmed().isEmpty() ? QByteArray("{}") : details.trimmed().toByteArray())
        + '}';
}

QByteArray apiFailure(const ApiResponse &response)
{
    switch (response.outcome) {
    case ApiResponse::Outcome::Ok:
        return "API answered HTTP " + QByteArray::number(response.status) + " without a usable body";
    case ApiResponse::Outcome::Timeout: return "API did not answer in time";
    case ApiResponse::Outcome::Unreachable: return "API unreachable";
    case ApiResponse::Outcome::Overloaded: return "gateway overloaded";
    case ApiResponse::Outcome::BadResponse: return "API sent an invalid response";
    }
    return "API failure";
}

} // namespace

OcppSession::OcppSession(const OcppMode &mode, ClientSession &session)
    : m_mode(mode)
    , m_session(session)
    , m_version(ocpp::versionFromSubprotocol(session.protocol()).value_or(ocpp::Version::V16))
{
}

OcppSession::~OcppSession() = default;

void OcppSession::clientMessage(ClientMessage message)
{
    const ocpp::Parsed parsed = ocpp::parse(message.data, m_version);
    if (parsed.problem != ocpp::Problem::None) {
        WorkerCounters::bump(m_session.worker().counters().framesRejected);
        if (LogThrottle &log = m_session.worker().messageProblemLog(); log.allow())
            qCInfo(lcOcpp).noquote() << "station" << quotedForLog(m_session.clientId())
                                     << "sent a malformed frame:" << QString::fromUtf8(parsed.detail) + log.note();
        if (const auto reply = ocpp::errorReplyFor(parsed, m_version))
            m_session.send(ClientMessage{*reply, false});
        return;
    }
    switch (parsed.frame.type) {
    case ocpp::MessageType::Call: return clientCall(parsed.frame);
    case ocpp::MessageType::Send: return clientSend(parsed.frame);
    case ocpp::MessageType::CallResult:
    case ocpp::MessageType::CallError:
    case ocpp::MessageType::CallResultError: return clientAnswer(parsed.frame);
    }
}

void OcppSession::clientCall(const ocpp::Frame &frame)
{
    rememberClientCall(frame.messageId, frame.action);
    const QByteArray messageId = frame.messageId;
    m_session.callApiInOrder(
        m_mode.rpcRequest("call", frame.action, m_session.clientId(), frame.messageId, frame.payload),
        [this, messageId](const ApiResponse &response) { answerCall(messageId, response); });
}

// Exactly one CALLRESULT or CALLERROR for every station CALL, whatever the API did.
void OcppSession::answerCall(const QByteArray &messageId, const ApiResponse &response)
{
    QByteArray frame;
    const bool ok = response.outcome == ApiResponse::Outcome::Ok;
    if (ok && response.status >= 200 && response.status < 300 && ocpp::isJsonObject(response.body)) {
        frame = ocpp::callResult(messageId, response.body);
    } else if (const auto error = ok && response.status >= 300 ? ocpp::apiError(response.body) : std::nullopt) {
        frame = ocpp::callError(messageId, ocpp::normalizeErrorCode(error->code, m_version),
                                error->description, error->details);
    } else {
        frame = ocpp::callError(messageId, ocpp::errorCode(ocpp::ErrorKind::InternalError, m_version),
                                apiFailure(response), "{}");
    }
    m_session.send(ClientMessage{frame, false});
}

void OcppSession::clientSend(const ocpp::Frame &frame)
{
    m_session.callApiInOrder(
        m_mode.rpcRequest("send", frame.action, m_session.clientId(), frame.messageId, frame.payload),
        {});
}

void OcppSession::clientAnswer(const ocpp::Frame &frame)
{
    const bool isError = frame.type != ocpp::MessageType::CallResult;
    if (m_outstanding && m_outstanding->messageId == frame.messageId) {
        const ServerCall call = std::move(*m_outstanding);
        m_outstanding.reset();
        m_callTimer->stop();
        if (isError)
            reportError(call, ocpp::normalizeErrorCode(frame.errorCode, m_version),
                        frame.errorDescription, frame.payload);
        else
            m_session.callApi(m_mode.rpcRequest("result", call.action, m_session.clientId(),
                                                call.messageId, frame.payload),
                              {});
        return sendNextCall();
    }
    // A 2.1 CALLRESULTERROR refuses our CALLRESULT to one of the station's own CALLs.
    if (frame.type == ocpp::MessageType::CallResultError) {
        for (const auto &[messageId, action] : m_recentClientCalls) {
            if (messageId == frame.messageId)
                return reportError(ServerCall{messageId, action, {}},
                                   ocpp::normalizeErrorCode(frame.errorCode, m_version),
                                   frame.errorDescription, frame.payload);
        }
    }
    WorkerCounters::bump(m_session.worker().counters().framesRejected);
    if (LogThrottle &log = m_session.worker().messageProblemLog(); log.allow())
        qCInfo(lcOcpp).noquote() << "station" << quotedForLog(m_session.clientId()) << "answered MessageId"
                                 << quotedForLog(frame.messageId)
                                 << QStringLiteral("which has no outstanding CALL; not forwarded") + log.note();
}

int OcppSession::push(const PushMessage &push, QByteArray *error)
{
    if (!m_session.isOpen())
        return 404;
    if (m_outstanding && qsizetype(m_queued.size()) >= m_mode.settings().callQueue) {
        *error = "call queue full";
        return 503;
    }
    m_queued.push_back(ServerCall{push.messageId, push.action, push.payload});
    if (!m_outstanding)
        sendNextCall();
    return 200;
}

void OcppSession::sendNextCall()
{
    if (m_outstanding || m_queued.empty() || !m_session.isOpen())
        return;
    ServerCall call = std::move(m_queued.front());
    m_queued.pop_front();
    const int status = m_session.send(ClientMessage{ocpp::call(call.messageId, call.action, call.payload), false});
    if (status != 200) {
        // The station is going (its queue was full): the API hears why at once.
        reportError(call, "Disconnected", "station closed before the CALL could be sent");
        return;
    }
    m_outstanding = std::move(call);
    if (!m_callTimer) {
        m_callTimer = new QTimer(&m_session);
        m_callTimer->setSingleShot(true);
        m_callTimer->callOnTimeout([this] {
            failOutstanding("Timeout", "no answer from the station in time");
            sendNextCall();
        });
    }
    m_callTimer->start(m_mode.settings().callTimeoutMs);
}

void OcppSession::failOutstanding(QByteArrayView code, QByteArrayView description)
{
    if (!m_outstanding)
        return;
    const ServerCall call = std::move(*m_outstanding);
    m_outstanding.reset();
    reportError(call, code, description);
}

void OcppSession::clientGone()
{
    if (m_callTimer)
        m_callTimer->stop();
    failOutstanding("Disconnected", "station disconnected before answering");
    while (!m_queued.empty()) {
        reportError(m_queued.front(), "Disconnected", "station disconnected before the CALL was sent");
        m_queued.pop_front();
    }
}

void OcppSession::reportError(const ServerCall &call, QByteArrayView code, QByteArrayView description,
                              QByteArrayView details)
{
    m_session.callApi(m_mode.rpcRequest("error", call.action, m_session.clientId(), call.messageId,
                                        errorBody(code, description, details)),
                      {});
}

void OcppSession::rememberClientCall(const QByteArray &messageId, const QByteArray &action)
{
    if (m_version != ocpp::Version::V21)
        return;
    m_recentClientCalls.emplace_back(messageId, action);
    if (m_recentClientCalls.size() > RecentClientCalls)
        m_recentClientCalls.pop_front();
}

} // namespace ws2api
