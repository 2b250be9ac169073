#pragma once

#include <QByteArray>

#include "modes/SessionHost.h"

namespace ws2api {

// A push as read from the push listener, before it is routed to its client.
struct PushMessage
{
    QByteArray payload;
    bool binary = false;
    QByteArray action;     // ocpp
    QByteArray messageId;  // ocpp
};

// One client's side of a wire mode: what its messages and the pushes to it become.
// It reaches its client, the API and its timer only through its SessionHost, which
// outlives it.
class ModeSession
{
public:
    virtual ~ModeSession() = default;
    // A message from the client.
    virtual void clientMessage(ClientMessage message) = 0;
    // A push routed to this client; returns the HTTP status for the pusher.
    virtual int push(const PushMessage &push, QByteArray *error) = 0;
    // The client's socket is gone; requests the mode makes now still reach the API
    // before the disconnect notice.
    virtual void clientGone() {}
    // The timer of SessionHost::startCallTimer() ran out.
    virtual void callTimedOut() {}
};

} // namespace ws2api
