#include "Listener.h"

#include <QLoggingCategory>
#include <QTimer>

Q_LOGGING_CATEGORY(lcListener, "ws2api.listener", QtInfoMsg)

namespace ws2api {

namespace {
constexpr int ResumeAfterMs = 200;
}

Listener::Listener(ListenerRole role, Handoff handoff, QObject *parent)
    : QTcpServer(parent)
    , m_role(role)
    , m_handoff(std::move(handoff))
{
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
