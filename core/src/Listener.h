#pragma once

#include <QTcpServer>
#include <functional>

#include "Worker.h"

namespace ws2api {

// One listening socket on the main thread. It only accepts: each descriptor is
// handed to a worker (round robin, by the Proxy), which owns the connection from
// then on. One acceptor rather than SO_REUSEPORT sockets per worker, because a
// second daemon started by mistake on the same port must fail to bind instead of
// silently sharing its clients, and because one place then handles running out of
// descriptors: Qt pauses accepting on EMFILE, and we resume a moment later instead
// of spinning.
class Listener : public QTcpServer
{
    Q_OBJECT
public:
    using Handoff = std::function<void(qintptr descriptor, ListenerRole role)>;

    Listener(ListenerRole role, Handoff handoff, QObject *parent = nullptr);

protected:
    void incomingConnection(qintptr descriptor) override;

private:
    ListenerRole m_role;
    Handoff m_handoff;
};

} // namespace ws2api
