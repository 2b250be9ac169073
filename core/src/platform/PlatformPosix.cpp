#include "platform/Platform.h"

#include <QFile>
#include <QHostAddress>

#include <cerrno>
#include <dirent.h>
#include <cstring>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

namespace ws2api::platform {

namespace {

QString systemError()
{
    return QString::fromLocal8Bit(std::strerror(errno));
}

qint64 limitValue(rlim_t value)
{
    return value == RLIM_INFINITY ? -1 : qint64(value);
}

bool lookUpGroup(const QString &name, gid_t *gid, QString *error)
{
    errno = 0;
    const struct group *entry = ::getgrnam(name.toLocal8Bit().constData());
    if (!entry) {  // errno 0 (or ENOENT on some libcs): there is no such group
        *error = errno == 0 || errno == ENOENT
                     ? QStringLiteral("unknown group \"%1\"").arg(name)
                     : QStringLiteral("cannot look up group \"%1\": %2").arg(name, systemError());
        return false;
    }
    *gid = entry->gr_gid;
    return true;
}

} // namespace

bool raiseOpenFileLimit(qint64 *before, qint64 *after, QString *error)
{
    rlimit limit = {};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
        *before = *after = -1;
        *error = systemError();
        return false;
    }
    *before = *after = limitValue(limit.rlim_cur);
    if (limit.rlim_cur == limit.rlim_max)
        return true;
    limit.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
        *error = systemError();
        return false;
    }
    *after = limitValue(limit.rlim_cur);
    return true;
}

qint64 openFileLimit()
{
    rlimit limit = {};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0)
        return -1;
    return limitValue(limit.rlim_cur);
}

ProcessVitals processVitals()
{
    ProcessVitals vitals;
    // Linux lists the open descriptors under /proc/self/fd (one more, the listing's own).
    if (DIR *dir = ::opendir("/proc/self/fd")) {
        qint64 entries = 0;
        while (const dirent *entry = ::readdir(dir)) {
            if (entry->d_name[0] != '.')
                ++entries;
        }
        ::closedir(dir);
        vitals.openFiles = entries - 1;
    }
    QFile statm(QStringLiteral("/proc/self/statm"));
    if (statm.open(QIODevice::ReadOnly)) {
        const QList<QByteArray> fields = statm.readLine().split(' ');
        bool ok = false;
        const qint64 pages = fields.size() > 1 ? fields.at(1).toLongLong(&ok) : 0;
        if (ok)
            vitals.residentBytes = pages * ::sysconf(_SC_PAGESIZE);
    }
    rusage usage = {};
    if (::getrusage(RUSAGE_SELF, &usage) == 0) {
        vitals.cpuSeconds = double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
    }
    return vitals;
}

ReserveDescriptor::ReserveDescriptor()
{
    reacquire();
}

ReserveDescriptor::~ReserveDescriptor()
{
    release();
}

void ReserveDescriptor::release()
{
    if (m_fd >= 0)
        ::close(int(m_fd));
    m_fd = -1;
}

void ReserveDescriptor::reacquire()
{
    if (m_fd < 0)
        m_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

qint64 sendNow(qintptr socket, const char *data, qint64 size)
{
    ssize_t sent;
    do {
        sent = ::send(int(socket), data, size_t(size), MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (sent < 0 && errno == EINTR);
    return sent > 0 ? qint64(sent) : 0;
}

qint64 receiveNow(qintptr socket, char *data, qint64 size, QString *error)
{
    ssize_t got;
    do {
        got = ::recv(int(socket), data, size_t(size), MSG_DONTWAIT);
    } while (got < 0 && errno == EINTR);
    if (got >= 0)
        return qint64(got);
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        return -1;
    *error = systemError();
    return -2;
}

qint64 sendOrFail(qintptr socket, const char *data, qint64 size, QString *error)
{
    ssize_t sent;
    do {
        sent = ::send(int(socket), data, size_t(size), MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (sent < 0 && errno == EINTR);
    if (sent >= 0)
        return qint64(sent);
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        return 0;
    *error = systemError();
    return -2;
}

bool socketEnds(qintptr socket, QHostAddress *peer, quint16 *peerPort, QHostAddress *local, quint16 *localPort)
{
    sockaddr_storage address = {};
    socklen_t length = sizeof address;
    if (::getpeername(int(socket), reinterpret_cast<sockaddr *>(&address), &length) != 0)
        return false;
    peer->setAddress(reinterpret_cast<const sockaddr *>(&address));
    *peerPort = ntohs(address.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6 &>(address).sin6_port
                                                    : reinterpret_cast<sockaddr_in &>(address).sin_port);
    length = sizeof address;
    if (::getsockname(int(socket), reinterpret_cast<sockaddr *>(&address), &length) != 0)
        return false;
    local->setAddress(reinterpret_cast<const sockaddr *>(&address));
    *localPort = ntohs(address.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6 &>(address).sin6_port
                                                     : reinterpret_cast<sockaddr_in &>(address).sin_port);
    return true;
}

void setNonBlocking(qintptr socket)
{
    const int flags = ::fcntl(int(socket), F_GETFL);
    if (flags >= 0 && !(flags & O_NONBLOCK))
        (void)::fcntl(int(socket), F_SETFL, flags | O_NONBLOCK);
}

void setNoDelay(qintptr socket)
{
    const int on = 1;
    (void)::setsockopt(int(socket), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

void closeSocket(qintptr socket)
{
    ::close(int(socket));
}

void shutdownWrite(qintptr socket)
{
    (void)::shutdown(int(socket), SHUT_WR);
}

void refuseSocket(qintptr descriptor, QByteArrayView answer)
{
    (void)::send(int(descriptor), answer.data(), size_t(answer.size()), MSG_NOSIGNAL | MSG_DONTWAIT);
    ::close(int(descriptor));
}

qintptr acceptPending(qintptr listening)
{
    return ::accept4(int(listening), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
}

bool localSocketInUse(const QString &path)
{
    // A non-blocking connect() to a listening Unix socket succeeds (or, its backlog
    // full, says EAGAIN) at once; it fails at once when the file is stale or none.
    sockaddr_un address = {};
    address.sun_family = AF_UNIX;
    const QByteArray encoded = QFile::encodeName(path);
    if (encoded.size() >= qsizetype(sizeof address.sun_path))
        return false;  // listen() will say the name is too long
    std::memcpy(address.sun_path, encoded.constData(), size_t(encoded.size()));
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    const bool listening = ::connect(fd, reinterpret_cast<const sockaddr *>(&address), sizeof address) == 0
                           || errno == EAGAIN || errno == EINPROGRESS;
    ::close(fd);
    return listening;
}

bool checkGroup(const QString &group, QString *error)
{
    gid_t gid = 0;
    return lookUpGroup(group, &gid, error);
}

bool shareWithGroup(const QString &path, const QString &group, QString *error)
{
    gid_t gid = 0;
    if (!lookUpGroup(group, &gid, error))
        return false;
    if (::chown(QFile::encodeName(path).constData(), uid_t(-1), gid) != 0) {
        *error = QStringLiteral("cannot give %1 to group \"%2\": %3").arg(path, group, systemError());
        return false;
    }
    return true;
}

QString localPeer(qintptr descriptor)
{
    ucred peer = {};
    socklen_t size = sizeof peer;
    if (::getsockopt(int(descriptor), SOL_SOCKET, SO_PEERCRED, &peer, &size) != 0)
        return {};
    passwd entry = {};
    passwd *found = nullptr;
    char buffer[1024];
    const QString uid = QStringLiteral("uid %1").arg(peer.uid);
    if (::getpwuid_r(peer.uid, &entry, buffer, sizeof buffer, &found) != 0 || !found)
        return uid;
    return QStringLiteral("%1 (%2)").arg(QString::fromLocal8Bit(found->pw_name), uid);
}

} // namespace ws2api::platform
