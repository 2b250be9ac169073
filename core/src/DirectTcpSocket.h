#pragma once

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
class DirectTcpSocket : public QTcpSocket
{
    Q_OBJECT

public:
    using QTcpSocket::QTcpSocket;

    // From now on every write waits in QTcpSocket's buffer for the write notifier,
    // which EpollEventDispatcher fires at the end of the loop pass: the writes of a
    // pass leave in one send() (a pipelining API connection's requests).
    void gatherWritesPerPass() { m_perPass = true; }

protected:
    qint64 writeData(const char *data, qint64 size) override;
    // Where writes go: the kernel, then QTcpSocket's queue for what
    // it does not take. A socket with a transport of its own sends there instead.
    virtual qint64 sendOrQueue(const char *data, qint64 size);

private:
    bool m_perPass = false;
};

} // namespace ws2api
