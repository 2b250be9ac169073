#include "modes/OcppSession.h"

#include <QLoggingCategory>

#include "ClientId.h"
#include "LogText.h"

Q_LOGGING_CATEGORY(lcOcpp, "ws2api.ocpp", QtInfoMsg)

namespace ws2api {

namespace {

constexpr qsizetype RecentClientCalls = 16;
const QByteArray JsonType = QByteArrayLiteral("application/json");

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

OcppSession::OcppSession(const Config &config, SessionHost &host)
    : m_config(config)
    , m_host(host)
    , m_version(ocpp::versionFromSubprotocol(host.protocol()).value_or(ocpp::Version::V16))
{
}

OcppSession::~OcppSession() = default;

ApiRequest OcppSession::rpcRequest(QByteArrayView kind, QByteArrayView action, QByteArrayView messageId,
                                   QByteArray body) const
{
    const QByteArray segments[] = {ClientId::encodeSegment(action), ClientId::encodeSegment(m_host.clientId()),
                                   ClientId::encodeSegment(messageId)};
    ApiRequest request;
    request.method = "POST";
    QByteArray &target = request.target;
    target.reserve(m_config.apiBasePath.size() + 1 + kind.size() + 3 + segments[0].size()
                   + segments[1].size() + segments[2].size());
    target += m_config.apiBasePath;
    target += '/';
    target += kind;
    for (const QByteArray &segment : segments) {
        target += '/';
        target += segment;
    }
    request.headers = {{"Content-Type", JsonType}};
    request.body = std::move(body);
    return request;
}

void OcppSession::clientMessage(ClientMessage message)
{
    const ocpp::Parsed parsed = ocpp::parse(message.data, m_version);
    if (parsed.problem != ocpp::Problem::None) {
        if (LogThrottle &log = m_host.frameRejected(); log.allow())
            qCInfo(lcOcpp).noquote() << "station" << quotedForLog(m_host.clientId())
                                     << "sent a malformed frame:" << QString::fromUtf8(parsed.detail) + log.note();
        if (const auto reply = ocpp::errorReplyFor(parsed, m_version))
            m_host.send(ClientMessage{*reply, false});
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
    m_host.callApiInOrder(rpcRequest("call", frame.action, frame.messageId, frame.payload),
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
    m_host.send(ClientMessage{frame, false});
}

void OcppSession::clientSend(const ocpp::Frame &frame)
{
    m_host.callApiInOrder(rpcRequest("send", frame.action, frame.messageId, frame.payload), {});
}

void OcppSession::clientAnswer(const ocpp::Frame &frame)
{
    const bool isError = frame.type != ocpp::MessageType::CallResult;
    if (m_outstanding && m_outstanding->messageId == frame.messageId) {
        const ServerCall call = std::move(*m_outstanding);
        m_outstanding.reset();
        m_host.stopCallTimer();
        if (isError)
            reportError(call, ocpp::normalizeErrorCode(frame.errorCode, m_version),
                        frame.errorDescription, frame.payload);
        else
            m_host.callApi(rpcRequest("result", call.action, call.messageId, frame.payload), {});
        return sendNextCall();
    }
    // A 2.1 CALLRESULTERROR refuses our CALLRESULT to one of the station's own CALLs;
    // a CALL has one CALLRESULT, so a second refusal of it is as stray as any.
    if (frame.type == ocpp::MessageType::CallResultError) {
        for (qsizetype i = 0; i < m_recentClientCalls.size(); ++i) {
            if (m_recentClientCalls[i].first != frame.messageId)
                continue;
            const auto [messageId, action] = m_recentClientCalls.takeAt(i);
            return reportError(ServerCall{messageId, action, {}}, ocpp::normalizeErrorCode(frame.errorCode, m_version),
                               frame.errorDescription, frame.payload);
        }
    }
    if (LogThrottle &log = m_host.frameRejected(); log.allow())
        qCInfo(lcOcpp).noquote() << "station" << quotedForLog(m_host.clientId()) << "answered MessageId"
                                 << quotedForLog(frame.messageId)
                                 << QStringLiteral("which has no outstanding CALL; not forwarded") + log.note();
}

int OcppSession::push(const PushMessage &push, QByteArray *error)
{
    if (!m_host.isOpen())
        return 404;
    if (m_outstanding && m_queued.size() >= m_config.callQueue) {
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
    if (m_outstanding || m_queued.isEmpty() || !m_host.isOpen())
        return;
    ServerCall call = m_queued.takeFirst();
    const int status = m_host.send(ClientMessage{ocpp::call(call.messageId, call.action, call.payload), false});
    if (status != 200) {
        // The station is going (its queue was full): the API hears why at once.
        reportError(call, "Disconnected", "station closed before the CALL could be sent");
        return;
    }
    m_outstanding = std::move(call);
    m_host.startCallTimer(m_config.callTimeoutMs);
}

void OcppSession::callTimedOut()
{
    failOutstanding("Timeout", "no answer from the station in time");
    sendNextCall();
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
    m_host.stopCallTimer();
    failOutstanding("Disconnected", "station disconnected before answering");
    for (const ServerCall &call : std::exchange(m_queued, {}))
        reportError(call, "Disconnected", "station disconnected before the CALL was sent");
}

void OcppSession::reportError(const ServerCall &call, QByteArrayView code, QByteArrayView description,
                              QByteArrayView details)
{
    m_host.callApi(rpcRequest("error", call.action, call.messageId, errorBody(code, description, details)),
                   {});
}

void OcppSession::rememberClientCall(const QByteArray &messageId, const QByteArray &action)
{
    if (m_version != ocpp::Version::V21)
        return;
    m_recentClientCalls.emplaceBack(messageId, action);
    if (m_recentClientCalls.size() > RecentClientCalls)
        m_recentClientCalls.removeFirst();
}

} // namespace ws2api
