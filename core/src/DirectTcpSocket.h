#pragma once

#include <QByteArray>
#include <QTcpSocket>

namespace ws2api {

// A QTcpSocket whose writes go straight to the kernel.
//
// QTcpSocket copies every write into a 32 KiB ring, keeps that ring for the rest of
// the socket's life, and sends it from its write notifier a loop pass later. With
// tens of thousands of mostly idle WebSocket clients that ring is the largest thing
// a connection owns. Here a write the kernel takes whole costs one send() and no
// buffer at all; only the part it does not take (a client that stopped reading)
// goes to QTcpSocket's own buffer, and from then on every write queues behind it,
// in order, exactly as with a plain QTcpSocket, until the buffer is empty again.
//
// QWebSocket writes a frame as two writes (header, then payload); while a
// WriteBatch is alive the writes are gathered and leave as one send().
class DirectTcpSocket : public QTcpSocket
{
    Q_OBJECT

public:
    using QTcpSocket::QTcpSocket;

    class WriteBatch
    {
    public:
        explicit WriteBatch(DirectTcpSocket *socket);
        ~WriteBatch();
        WriteBatch(const WriteBatch &) = delete;
        WriteBatch &operator=(const WriteBatch &) = delete;

    private:
        DirectTcpSocket *m_socket;
    };

protected:
    qint64 writeData(const char *data, qint64 size) override;

private:
    qint64 sendOrQueue(const char *data, qint64 size);

    QByteArray m_batch;
    bool m_batching = false;
};

} // namespace ws2api
