#pragma once

#include <QByteArray>
#include <QList>
#include <optional>
#include <utility>

#include "modes/ModeSession.h"
#include "modes/OcppFrame.h"

namespace ws2api {

// One station's OCPP-J state: the outstanding server CALL and those queued behind it
// (OCPP allows one outstanding CALL per direction), its timeout, and the actions of
// recent station CALLs (a 2.1 CALLRESULTERROR names one of them). It knows its
// station only as a SessionHost, so a unit test or a fuzzer runs it without a socket.
class OcppSession final : public ModeSession
{
public:
    // What the sessions of one OcppMode share, read at each use: a reconfigure()
    // applies to CALLs pushed from then on.
    struct Config
    {
        QByteArray apiBasePath;  // encoded, without a trailing '/'
        int callQueue = 16;      // CALLs waiting behind the outstanding one
        int callTimeoutMs = 60000;
    };

    OcppSession(const Config &config, SessionHost &host);
    ~OcppSession() override;

    void clientMessage(ClientMessage message) override;
    int push(const PushMessage &push, QByteArray *error) override;
    void clientGone() override;
    void callTimedOut() override;

private:
    struct ServerCall
    {
        QByteArray messageId;
        QByteArray action;
        QByteArray payload;
    };

    // POST <api>/<kind>/<Action>/<ClientId>/<MessageId> with a JSON body.
    ApiRequest rpcRequest(QByteArrayView kind, QByteArrayView action, QByteArrayView messageId,
                          QByteArray body) const;
    void clientCall(const ocpp::Frame &frame);
    void clientSend(const ocpp::Frame &frame);
    void clientAnswer(const ocpp::Frame &frame);
    void answerCall(const QByteArray &messageId, const ApiResponse &response);
    void sendNextCall();
    void failOutstanding(QByteArrayView code, QByteArrayView description);
    void reportError(const ServerCall &call, QByteArrayView code, QByteArrayView description,
                     QByteArrayView details = "{}");
    void rememberClientCall(const QByteArray &messageId, const QByteArray &action);

    const Config &m_config;
    SessionHost &m_host;
    ocpp::Version m_version;
    std::optional<ServerCall> m_outstanding;
    // QList rather than std::deque: an empty deque allocates ~600 bytes, and most
    // stations have nothing queued and speak 1.6 or 2.0.1 (no recent CALLs kept).
    QList<ServerCall> m_queued;
    // MessageId -> Action of the station's last few CALLs, oldest first (2.1).
    QList<std::pair<QByteArray, QByteArray>> m_recentClientCalls;
};

} // namespace ws2api
