#include "DirectTcpSocket.h"

#include <utility>

#include "platform/Platform.h"

namespace ws2api {

DirectTcpSocket::WriteBatch::WriteBatch(DirectTcpSocket *socket)
    : m_socket(socket && !socket->holdingWrites() ? socket : nullptr)
{
    if (m_socket)
        m_socket->holdWrites();
}

DirectTcpSocket::WriteBatch::~WriteBatch()
{
    if (m_socket)
        m_socket->releaseWrites();
}

void DirectTcpSocket::releaseWrites()
{
    m_holding = false;
    if (m_held.isEmpty())
        return;
    // The writers were told these bytes were written; from here they are.
    const QByteArray held = std::exchange(m_held, {});
    sendOrQueue(held.constData(), held.size());
}

void DirectTcpSocket::disconnectFromHost()
{
    releaseWrites();
    QTcpSocket::disconnectFromHost();
}

void DirectTcpSocket::close()
{
    releaseWrites();
    QTcpSocket::close();
}

qint64 DirectTcpSocket::writeData(const char *data, qint64 size)
{
    if (m_holding) {
        m_held.append(data, size);
        return size;
    }
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
