#include "platform/Platform.h"

#include <QHostAddress>

#include <winsock2.h>
#include <ws2tcpip.h>
#include <psapi.h>

#include <climits>

// Windows has no per-process descriptor limit to raise or to run into (sockets are
// handles, bounded by memory), and its local sockets are named pipes whose access
// is a security descriptor, not a Unix group.
namespace ws2api::platform {

bool raiseOpenFileLimit(qint64 *before, qint64 *after, QString *)
{
    *before = *after = -1;
    return true;
}

qint64 openFileLimit()
{
    return -1;
}

ProcessVitals processVitals()
{
    ProcessVitals vitals;
    const HANDLE self = ::GetCurrentProcess();
    DWORD handles = 0;
    if (::GetProcessHandleCount(self, &handles))
        vitals.openFiles = qint64(handles);
    PROCESS_MEMORY_COUNTERS memory = {};
    if (::GetProcessMemoryInfo(self, &memory, sizeof memory))
        vitals.residentBytes = qint64(memory.WorkingSetSize);
    FILETIME created, exited, kernel, user;
    if (::GetProcessTimes(self, &created, &exited, &kernel, &user)) {
        const auto ticks = [](const FILETIME &t) { return (quint64(t.dwHighDateTime) << 32) | t.dwLowDateTime; };
        vitals.cpuSeconds = double(ticks(kernel) + ticks(user)) / 1e7;  // 100 ns ticks
    }
    return vitals;
}

ReserveDescriptor::ReserveDescriptor() = default;
ReserveDescriptor::~ReserveDescriptor() = default;
void ReserveDescriptor::release() {}
void ReserveDescriptor::reacquire() {}

qint64 sendNow(qintptr socket, const char *data, qint64 size)
{
    // Qt's sockets on Windows are non-blocking already.
    const int sent = ::send(SOCKET(socket), data, int(qMin<qint64>(size, INT_MAX)), 0);
    return sent > 0 ? qint64(sent) : 0;
}

namespace {
QString socketError(int code)
{
    return QStringLiteral("Windows socket error %1").arg(code);
}

quint16 portOf(const sockaddr_storage &address)
{
    return ntohs(address.ss_family == AF_INET6 ? reinterpret_cast<const sockaddr_in6 &>(address).sin6_port
                                               : reinterpret_cast<const sockaddr_in &>(address).sin_port);
}
} // namespace

qint64 receiveNow(qintptr socket, char *data, qint64 size, QString *error)
{
    const int got = ::recv(SOCKET(socket), data, int(qMin<qint64>(size, INT_MAX)), 0);
    if (got >= 0)
        return got;
    const int code = ::WSAGetLastError();
    if (code == WSAEWOULDBLOCK)
        return -1;
    *error = socketError(code);
    return -2;
}

qint64 sendOrFail(qintptr socket, const char *data, qint64 size, QString *error)
{
    const int sent = ::send(SOCKET(socket), data, int(qMin<qint64>(size, INT_MAX)), 0);
    if (sent >= 0)
        return sent;
    const int code = ::WSAGetLastError();
    if (code == WSAEWOULDBLOCK)
        return 0;
    *error = socketError(code);
    return -2;
}

bool socketEnds(qintptr socket, QHostAddress *peer, quint16 *peerPort, QHostAddress *local, quint16 *localPort)
{
    sockaddr_storage address = {};
    int length = sizeof address;
    if (::getpeername(SOCKET(socket), reinterpret_cast<sockaddr *>(&address), &length) != 0)
        return false;
    peer->setAddress(reinterpret_cast<const sockaddr *>(&address));
    *peerPort = portOf(address);
    length = sizeof address;
    if (::getsockname(SOCKET(socket), reinterpret_cast<sockaddr *>(&address), &length) != 0)
        return false;
    local->setAddress(reinterpret_cast<const sockaddr *>(&address));
    *localPort = portOf(address);
    return true;
}

void setNonBlocking(qintptr socket)
{
    u_long nonBlocking = 1;
    ::ioctlsocket(SOCKET(socket), FIONBIO, &nonBlocking);
}

void setNoDelay(qintptr socket)
{
    const BOOL on = TRUE;
    (void)::setsockopt(SOCKET(socket), IPPROTO_TCP, TCP_NODELAY, reinterpret_cast<const char *>(&on), sizeof on);
}

void closeSocket(qintptr socket)
{
    ::closesocket(SOCKET(socket));
}

void shutdownWrite(qintptr socket)
{
    (void)::shutdown(SOCKET(socket), SD_SEND);
}

void refuseSocket(qintptr descriptor, QByteArrayView answer)
{
    const auto socket = SOCKET(descriptor);
    u_long nonBlocking = 1;
    ::ioctlsocket(socket, FIONBIO, &nonBlocking);
    (void)::send(socket, answer.data(), int(answer.size()), 0);
    ::closesocket(socket);
}

qintptr acceptPending(qintptr listening)
{
    const SOCKET accepted = ::accept(SOCKET(listening), nullptr, nullptr);
    return accepted == INVALID_SOCKET ? -1 : qintptr(accepted);
}

bool localSocketInUse(const QString &)
{
    return false;  // a pipe name in use makes QLocalServer::listen() fail by itself
}

bool checkGroup(const QString &group, QString *error)
{
    *error = QStringLiteral("--admin-group \"%1\": not supported on Windows").arg(group);
    return false;
}

bool shareWithGroup(const QString &path, const QString &group, QString *error)
{
    Q_UNUSED(path);
    return checkGroup(group, error);
}

QString localPeer(qintptr)
{
    return {};  // the admin pipe is open to its owner only there
}

} // namespace ws2api::platform
