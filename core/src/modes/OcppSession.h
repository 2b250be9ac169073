#pragma once

#include <QByteArray>
#include <QHash>
#include <deque>
#include <optional>

#include "modes/OcppFrame.h"
#include "modes/WireMode.h"

class QTimer;

namespace ws2api {

class ClientSession;
class OcppMode;

// One station's OCPP-J state: the outstanding server CALL and those queued behind it
// (OCPP allows one outstanding CALL per direction), its timeout, and the actions of
// recent station CALLs (a 2.1 CALLRESULTERROR names one of them).
class OcppSession final : public ModeSession
{
public:
    OcppSession(const OcppMode &mode, ClientSession &session);
    ~OcppSession() override;

    void clientMessage(ClientMessage message) override;
    int push(const PushMessage &push, QByteArray *error) override;
    void clientGone() override;

private:
    struct ServerCall
    {
        QByteArray messageId;
        QByteArray action;
        QByteArray payload;
    };

    void clientCall(const ocpp::Frame &frame);
    void clientSend(const ocpp::Frame &frame);
    void clientAnswer(const ocpp::Frame &frame);
    void answerCall(const QByteArray &messageId, const ApiResponse &response);
    void sendNextCall();
    void failOutstanding(QByteArrayView code, QByteArrayView description);
    void reportError(const ServerCall &call, QByteArrayView code, QByteArrayView description,
                     QByteArrayView details = "{}");
    void rememberClientCall(const QByteArray &messageId, const QByteArray &action);

    const OcppMode &m_mode;
    ClientSession &m_session;
    ocpp::Version m_version;
    std::optional<ServerCall> m_outstanding;
    std::deque<ServerCall> m_queued;
    QTimer *m_callTimer = nullptr;
    // MessageId -> Action of the station's last few CALLs, oldest first.
    std::deque<std::pair<QByteArray, QByteArray>> m_recentClientCalls;
};

} // namespace ws2api
