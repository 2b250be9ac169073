#pragma once

#include "modes/WireMode.h"

namespace ws2api {

// Plain mode: any text or binary message is POSTed to <api>/<ClientId>.
class PlainMode final : public WireMode
{
public:
    using WireMode::WireMode;

    ApiRequest connectRequest(const ConnectInfo &info) const override;
    std::unique_ptr<ModeSession> newSession(SessionHost &host) const override;
    PushParse parsePush(const HttpRequest &request) const override;
    PushMessage adminPush(const AdminPush &push) const override;
    QByteArray pushProblem(const PushMessage &push) const override;

    ApiRequest messageRequest(const QByteArray &clientId, const ClientMessage &message) const;

protected:
    bool isAcceptToken(QByteArrayView body) const override;
    ApiRequest goneRequest(const QByteArray &clientId, int code, const QString &reason) const override;
};

} // namespace ws2api
