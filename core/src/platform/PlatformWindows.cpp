#include "platform/Platform.h"

#include <winsock2.h>

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
