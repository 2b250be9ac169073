#include "DirectTcpSocket.h"

#include "platform/Platform.h"

namespace ws2api {

qint64 DirectTcpSocket::writeData(const char *data, qint64 size)
{
    return sendOrQueue(data, size);
}

qint64 DirectTcpSocket::sendOrQueue(const char *data, qint64 size)
{
    // Anything already queued (or a socket still connecting) keeps the order by
    // queueing behind it; so does an error, which QTcpSocket then reports itself.
    if (m_perPass || state() != ConnectedState || QTcpSocket::bytesToWrite() > 0 || size <= 0)
        return QTcpSocket::writeData(data, size);
    const qint64 done = platform::sendNow(socketDescriptor(), data, size);
    if (done == size)
        return size;
    const qint64 queued = QTcpSocket::writeData(data + done, size - done);
    return queued < 0 ? (done > 0 ? done : queued) : done + queued;
}

} // namespace ws2api
