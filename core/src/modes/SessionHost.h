#pragma once

#include <QByteArray>
#include <QString>
#include <functional>

#include "ApiClient.h"
#include "LogThrottle.h"

namespace ws2api {

struct ClientMessage
{
    QByteArray data;
    bool binary = false;
};

// What a wire mode's per-client session (ModeSession) may do with its client, the API
// and time, and nothing more: no socket, no worker. ClientSession is the product's
// host; a unit test or a fuzzer drives a mode session over a fake one. Every call is
// one virtual hop to the host and allocates nothing of its own.
class SessionHost
{
public:
    using ApiCallback = std::function<void(const ApiResponse &)>;

    virtual const QByteArray &clientId() const = 0;
    // The negotiated subprotocol; empty when none.
    virtual const QString &protocol() const = 0;
    // False once the client is going (closed by either side, or its socket gone):
    // nothing more reaches it.
    virtual bool isOpen() const = 0;

    // Queues `message` to the client: 200, or 503 when its send queue is full (the
    // host then closes it with 1008), or 404 when it is going already.
    virtual int send(const ClientMessage &message) = 0;
    // After every earlier ordered request has been answered: what the client sent
    // reaches the API in the order it came. Too many waiting, and the host closes the
    // client with 1008 instead (`done` then never runs).
    virtual void callApiInOrder(ApiRequest request, ApiCallback done) = 0;
    // At once, beside the ordered ones. `done` runs once with the API's answer or
    // failure (either kind: also after the client is gone; never after the host).
    virtual void callApi(ApiRequest request, ApiCallback done) = 0;

    // Counts a frame the mode refused (ws2api_frames_rejected_total) and returns the
    // throttle of its log line: the caller logs it only when allow() says so.
    virtual LogThrottle &frameRejected() = 0;

    // The mode's one timer: ModeSession::callTimedOut() runs `ms` from now unless
    // stopped or started again before. It never runs once the client is gone.
    virtual void startCallTimer(int ms) = 0;
    virtual void stopCallTimer() = 0;

protected:
    ~SessionHost() = default;
};

} // namespace ws2api
