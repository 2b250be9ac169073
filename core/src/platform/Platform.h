#pragma once

#include <QByteArrayView>
#include <QString>
#include <QtGlobal>

class QHostAddress;

// What differs between the systems ws2api runs on, behind one small seam: POSIX in
// PlatformPosix.cpp, Windows in PlatformWindows.cpp; CMake compiles one of them.
// Signals and service control are the daemon hosts' business, not this one's.
namespace ws2api::platform {

// Raises the soft open-files limit to the hard one (each client is a descriptor).
// *before and *after are the soft limit before and after, -1 for "no such limit";
// false and *error when it could not be raised.
bool raiseOpenFileLimit(qint64 *before, qint64 *after, QString *error);

// The soft open-files limit now; -1 when there is none to respect.
qint64 openFileLimit();

// What /metrics says of the process itself (Prometheus's process_* names); -1 for
// what the system cannot say.
struct ProcessVitals
{
    qint64 openFiles = -1;     // descriptors (handles on Windows) open now
    qint64 residentBytes = -1;
    double cpuSeconds = -1;    // user + system
};
ProcessVitals processVitals();

// A descriptor held back for the moment accept() fails for lack of descriptors:
// released, it lets the listener accept and refuse what waits, then it is taken
// again. Does nothing where descriptors are not a per-process limit.
class ReserveDescriptor
{
public:
    ReserveDescriptor();
    ~ReserveDescriptor();
    ReserveDescriptor(const ReserveDescriptor &) = delete;
    ReserveDescriptor &operator=(const ReserveDescriptor &) = delete;

    void release();
    void reacquire();

private:
    qintptr m_fd = -1;
};

// Sends what the kernel takes of `data` at once on a connected socket, without
// waiting: the byte count, 0 when it takes nothing now (or on an error, which the
// socket's owner then hears of from the socket itself).
qint64 sendNow(qintptr socket, const char *data, qint64 size);

// Reads what has arrived on a connected socket, without waiting: the byte count;
// 0 at the end of the stream (the peer closed its side); -1 when nothing is there
// yet; -2 on an error, with *error saying which.
qint64 receiveNow(qintptr socket, char *data, qint64 size, QString *error);

// Sends like sendNow(), but tells an error apart: -2 and *error then.
qint64 sendOrFail(qintptr socket, const char *data, qint64 size, QString *error);

// The two ends of a connected socket; false when the system cannot say.
bool socketEnds(qintptr socket, QHostAddress *peer, quint16 *peerPort, QHostAddress *local, quint16 *localPort);

// Makes a socket's reads and writes return at once instead of waiting (for code
// that calls read()/write() on it, as OpenSSL does).
void setNonBlocking(qintptr socket);

// Turns Nagle's algorithm off on a TCP socket (frames go out as they are written).
void setNoDelay(qintptr socket);

void closeSocket(qintptr socket);

// Ends the sending side of a connected socket (the peer reads the end of the stream);
// it stays readable.
void shutdownWrite(qintptr socket);

// Writes `answer` to an accepted socket without waiting and closes it.
void refuseSocket(qintptr descriptor, QByteArrayView answer);

// Accepts one connection waiting on `listening` without blocking; -1 when none.
qintptr acceptPending(qintptr listening);

// Whether a process answers on the local socket at `path` (so it must not be taken
// from it). Never blocks.
bool localSocketInUse(const QString &path);

// Checks that `group` exists (before listening, so a typo fails early).
bool checkGroup(const QString &group, QString *error);

// Gives the local socket at `path` to `group`, whose members then share its
// owner's access.
bool shareWithGroup(const QString &path, const QString &group, QString *error);

// Who is on the other end of a connected local socket, for the log: "alice (uid
// 1000)"; empty where the system does not tell.
QString localPeer(qintptr descriptor);

} // namespace ws2api::platform
