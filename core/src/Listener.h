#pragma once

#include <QTcpServer>
#include <atomic>
#include <functional>

#include "Worker.h"
#include "platform/Platform.h"

namespace ws2api {

// One listening socket on the main thread. It only accepts: each descriptor is
// handed to a worker (round robin, by the Proxy), which owns the connection from
// then on. One acceptor rather than SO_REUSEPORT sockets per worker, because a
// second daemon started by mistake on the same port must fail to bind instead of
// silently sharing its clients, and because one place then handles running out of
// descriptors.
//
// At capacity new connections are refused cleanly (503, closed) while existing ones
// keep working: a connection whose descriptor number reaches `fdCeiling` (the open
// files limit less what the workers' API pools and the daemon itself need) is
// refused at once; and should accept() still fail with EMFILE, a reserve descriptor
// is given up to accept and refuse what waits, so the listener never spins on a
// backlog it cannot take. Each such refusal is counted in `refusedCounter` (written
// by this thread only).
//
// The other limits (--max-connections, --connect-rate) are not applied here but once
// the request head is read (IncomingConnection), so that their 503 is real HTTP over
// TLS too and pushes on a shared listener are never counted as clients.
class Listener : public QTcpServer
{
    Q_OBJECT
public:
    using Handoff = std::function<void(qintptr descriptor, ListenerRole role)>;

    Listener(ListenerRole role, Handoff handoff, int fdCeiling, std::atomic<quint64> *refusedCounter,
             QObject *parent = nullptr);
    ~Listener() override;

protected:
    void incomingConnection(qintptr descriptor) override;

private:
    void refuse(qintptr descriptor);
    void refuseBacklog();

    ListenerRole m_role;
    Handoff m_handoff;
    int m_fdCeiling;
    std::atomic<quint64> *m_refusedCounter;
    platform::ReserveDescriptor m_reserve;
    qint64 m_lastRefusalLogMs = 0;
    quint64 m_refused = 0;
};

} // namespace ws2api
