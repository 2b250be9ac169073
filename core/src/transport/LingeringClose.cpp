#include "transport/LingeringClose.h"

#include <QObject>
#include <QSocketNotifier>
#include <QString>
#include <QTimer>

#include "platform/Platform.h"

namespace ws2api::transport {

namespace {

// Each holds a descriptor for up to `ms`: enough for a reconnect storm's closes,
// few enough to leave descriptors for new clients.
constexpr int MaxLingeringPerThread = 1024;
thread_local int t_lingering = 0;

class LingeringSocket : public QObject
{
public:
    LingeringSocket(qintptr descriptor, int ms, QObject *keeper)
        : QObject(keeper)
        , m_fd(descriptor)
        , m_notifier(descriptor, QSocketNotifier::Read, this)
    {
        ++t_lingering;
        connect(&m_notifier, &QSocketNotifier::activated, this, &LingeringSocket::drain);
        QTimer::singleShot(ms, this, [this] { delete this; });
    }

    ~LingeringSocket() override
    {
        m_notifier.setEnabled(false);
        platform::closeSocket(m_fd);
        --t_lingering;
    }

private:
    void drain()
    {
        char sink[4096];
        QString error;
        for (;;) {
            const qint64 got = platform::receiveNow(m_fd, sink, sizeof sink, &error);
            if (got > 0)
                continue;
            if (got < -1 || got == 0) {  // the peer closed too, or the connection broke
                m_notifier.setEnabled(false);
                deleteLater();
            }
            return;
        }
    }

    qintptr m_fd;
    QSocketNotifier m_notifier;
};

} // namespace

void lingerAndClose(qintptr descriptor, int ms, QObject *keeper)
{
    if (!keeper || ms <= 0 || t_lingering >= MaxLingeringPerThread) {
        platform::closeSocket(descriptor);
        return;
    }
    platform::shutdownWrite(descriptor);
    new LingeringSocket(descriptor, ms, keeper);
}

} // namespace ws2api::transport
