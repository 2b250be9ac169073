#include "SignalWatcher.h"

#include <QSocketNotifier>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

using namespace Qt::Literals::StringLiterals;

namespace ws2apid {

namespace {

// Written by the async handler, so plain ints set before any handler is installed.
int pipeFds[2] = {-1, -1};

extern "C" void onSignal(int signal)
{
    // Only async-signal-safe calls here; errno belongs to the interrupted code.
    const int savedErrno = errno;
    const unsigned char byte = static_cast<unsigned char>(signal);
    [[maybe_unused]] const ssize_t written = ::write(pipeFds[1], &byte, 1);
    errno = savedErrno;
}

} // namespace

SignalWatcher::SignalWatcher(QObject *parent)
    : QObject(parent)
{
    Q_ASSERT(pipeFds[0] == -1);  // one watcher per process
    // Non-blocking both ways: a full pipe must not stall the handler, and the
    // reader drains until EAGAIN. Close-on-exec: children must not inherit it.
    if (::pipe2(pipeFds, O_NONBLOCK | O_CLOEXEC) != 0) {
        pipeFds[0] = pipeFds[1] = -1;
        return;
    }
    m_notifier = new QSocketNotifier(pipeFds[0], QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, &SignalWatcher::readPipe);
}

SignalWatcher::~SignalWatcher()
{
    for (const int signal : std::as_const(m_watched))
        ::signal(signal, SIG_DFL);
    delete m_notifier;
    for (int &fd : pipeFds) {
        if (fd != -1)
            ::close(fd);
        fd = -1;
    }
}

bool SignalWatcher::watch(int signal, QString *error)
{
    if (!m_notifier) {
        *error = u"cannot create the signal pipe: "_s + QString::fromLocal8Bit(std::strerror(errno));
        return false;
    }
    struct sigaction action = {};
    action.sa_handler = onSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;  // interrupted system calls elsewhere just go on
    if (::sigaction(signal, &action, nullptr) != 0) {
        *error = u"cannot watch signal %1: "_s.arg(signal)
                 + QString::fromLocal8Bit(std::strerror(errno));
        return false;
    }
    m_watched.append(signal);
    return true;
}

void SignalWatcher::readPipe()
{
    unsigned char bytes[64];
    ssize_t n = 0;
    while ((n = ::read(pipeFds[0], bytes, sizeof bytes)) > 0) {
        for (ssize_t i = 0; i < n; ++i)
            Q_EMIT signalReceived(bytes[i]);
    }
}

} // namespace ws2apid
