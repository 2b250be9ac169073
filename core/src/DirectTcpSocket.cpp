#include "DirectTcpSocket.h"

#include <cerrno>
#include <utility>

#include <sys/socket.h>

namespace ws2api {

// Gathered writes past this size are sent at once rather than held.
constexpr qsizetype MaxBatchBytes = 16 * 1024;

DirectTcpSocket::WriteBatch::WriteBatch(DirectTcpSocket *socket)
    : m_socket(socket && !socket->m_batching ? socket : nullptr)
{
    if (m_socket)
        m_socket->m_batching = true;
}

DirectTcpSocket::WriteBatch::~WriteBatch()
{
    if (!m_socket)
        return;
    m_socket->m_batching = false;
    if (m_socket->m_batch.isEmpty())
        return;
    // The writer already counted these bytes as written.
    const QByteArray batch = std::exchange(m_socket->m_batch, {});
    m_socket->sendOrQueue(batch.constData(), batch.size());
}

qint64 DirectTcpSocket::writeData(const char *data, qint64 size)
{
    if (m_batching && m_batch.size() + size <= MaxBatchBytes) {
        m_batch.append(data, size);
        return size;
    }
    if (!m_batch.isEmpty()) {
        const QByteArray batch = std::exchange(m_batch, {});
        sendOrQueue(batch.constData(), batch.size());
    }
    return sendOrQueue(data, size);
}

qint64 DirectTcpSocket::sendOrQueue(const char *data, qint64 size)
{
    // Anything already queued (or a socket still connecting) keeps the order by
    // queueing behind it; so does an error, which QTcpSocket then reports itself.
    if (state() != ConnectedState || QTcpSocket::bytesToWrite() > 0 || size <= 0)
        return QTcpSocket::writeData(data, size);
    ssize_t sent;
    do {
        sent = ::send(int(socketDescriptor()), data, size_t(size), MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (sent < 0 && errno == EINTR);
    if (sent == size)
        return size;
    if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
        sent = 0;
    const qint64 done = qMax<qint64>(sent, 0);
    const qint64 queued = QTcpSocket::writeData(data + done, size - done);
    return queued < 0 ? (done > 0 ? done : queued) : done + queued;
}

} // namespace ws2api
