#include "Listener.h"

#include <QLoggingCategory>
#include <QTimer>

Q_LOGGING_CATEGORY(lcListener, "ws2api.listener", QtInfoMsg)

namespace ws2api {

namespace {
constexpr int ResumeAfterMs = 200;
constexpr int ListenBacklog = 4096;  // the kernel caps it at net.core.somaxconn
}

Listener::Listener(ListenerRole role, Handoff handoff, QObject *parent)
    : QTcpServer(parent)
    , m_role(role)
    , m_handoff(std::move(handoff))
{
    // Qt's default backlog of 50 turns a burst of connects into SYN retransmits.
    setListenBacklogSize(ListenBacklog);
    connect(this, &QTcpServer::acceptError, this, [this](QAbstractSocket::SocketError error) {
        // Out of descriptors (or similar): Qt has paused accepting; waiting
        // connections stay in the kernel's backlog until some close.
        qCWarning(lcListener).nospace() << "accept failed (" << error << ": " << errorString()
                                        << "); retrying in " << ResumeAfterMs << " ms";
        QTimer::singleShot(ResumeAfterMs, this, [this] {
            if (isListening())
                resumeAccepting();
        });
    });
}

void Listener::incomingConnection(qintptr descriptor)
{
    m_handoff(descriptor, m_role);
}

} // namespace ws2api
