#include "Listener.h"

#include <QDateTime>
#include <QLoggingCategory>

#include "platform/Platform.h"

Q_LOGGING_CATEGORY(lcListener, "ws2api.listener", QtInfoMsg)

namespace ws2api {

namespace {
constexpr int ListenBacklog = 4096;  // the kernel caps it at net.core.somaxconn
constexpr char Refusal[] = "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 30\r\nContent-Length: 0\r\n"
                           "Connection: close\r\n\r\n";
}

Listener::Listener(ListenerRole role, Handoff handoff, int fdCeiling, std::atomic<quint64> *refusedCounter,
                   QObject *parent)
    : QTcpServer(parent)
    , m_role(role)
    , m_handoff(std::move(handoff))
    , m_fdCeiling(fdCeiling)
    , m_refusedCounter(refusedCounter)
{
    // Qt's default backlog of 50 turns a burst of connects into SYN retransmits.
    setListenBacklogSize(ListenBacklog);
    connect(this, &QTcpServer::acceptError, this, [this](QAbstractSocket::SocketError error) {
        if (error != QAbstractSocket::SocketResourceError) {
            qCWarning(lcListener) << "accept failed:" << errorString();
            return resumeAccepting();
        }
        // Out of descriptors: Qt has paused accepting. Refuse what waits, then go on.
        refuseBacklog();
        resumeAccepting();
    });
}

Listener::~Listener() = default;

void Listener::incomingConnection(qintptr descriptor)
{
    // Descriptors are handed out lowest first, so this one's number is a lower bound
    // on how many are open.
    if (descriptor >= m_fdCeiling)
        return refuse(descriptor);
    m_handoff(descriptor, m_role);
}

void Listener::refuse(qintptr descriptor)
{
    platform::refuseSocket(descriptor, QByteArrayView(Refusal, sizeof(Refusal) - 1));
    ++m_refused;
    m_refusedCounter->store(m_refusedCounter->load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    if (now - m_lastRefusalLogMs >= 1000) {
        m_lastRefusalLogMs = now;
        qCWarning(lcListener).nospace() << "at capacity (open files limit): refused " << m_refused
                                        << " new connection(s) so far; existing clients are served";
    }
}

void Listener::refuseBacklog()
{
    m_reserve.release();
    for (;;) {
        const qintptr fd = platform::acceptPending(socketDescriptor());
        if (fd < 0)
            break;  // EAGAIN: the backlog is empty (or EMFILE again: nothing more to free)
        refuse(fd);
    }
    m_reserve.reacquire();
}

} // namespace ws2api
