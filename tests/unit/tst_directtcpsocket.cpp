// DirectTcpSocket: writes reach the peer without an event loop pass, a batch
// leaves as one send, and a peer that stops reading gets everything in order
// once it reads again.
#include <QSignalSpy>
#include <QTcpServer>
#include <QTest>

#include <memory>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "BytePattern.h"
#include "DirectTcpSocket.h"

using ws2api::DirectTcpSocket;

namespace {

// Reads exactly `size` bytes from fd, blocking (the descriptor is switched to
// blocking with a receive timeout, so a failing test ends instead of hanging).
// Runs no event loop: what arrives was sent by the write itself.
QByteArray receiveBlocking(int fd, qsizetype size)
{
    const int flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    timeval timeout{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    QByteArray out(size, Qt::Uninitialized);
    qsizetype got = 0;
    while (got < size) {
        const ssize_t n = ::recv(fd, out.data() + got, size_t(size - got), 0);
        if (n <= 0)
            break;
        got += n;
    }
    fcntl(fd, F_SETFL, flags);
    out.truncate(got);
    return out;
}

} // namespace

class TestDirectTcpSocket : public QObject
{
    Q_OBJECT

private:
    QTcpServer m_server;
    std::unique_ptr<DirectTcpSocket> m_client;
    std::unique_ptr<QTcpSocket> m_peer;

    void connectPair(bool waitForConnected = true)
    {
        QVERIFY(m_server.isListening() || m_server.listen(QHostAddress::LocalHost));
        m_client = std::make_unique<DirectTcpSocket>();
        m_client->connectToHost(QHostAddress::LocalHost, m_server.serverPort());
        if (waitForConnected)
            QTRY_COMPARE(m_client->state(), QAbstractSocket::ConnectedState);
    }

    void acceptPeer()
    {
        QTRY_VERIFY(m_server.hasPendingConnections());
        m_peer.reset(m_server.nextPendingConnection());
        m_peer->setParent(nullptr);
    }

private Q_SLOTS:
    void cleanup()
    {
        m_client.reset();
        m_peer.reset();
    }

    void writeGoesOutAtOnce()
    {
        connectPair();
        acceptPeer();
        QCOMPARE(m_client->write("hello"), qint64(5));
        QCOMPARE(m_client->bytesToWrite(), qint64(0));
        QCOMPARE(receiveBlocking(int(m_peer->socketDescriptor()), 5), QByteArray("hello"));
    }

    // The kernel takes what fits; the rest waits in QTcpSocket's buffer, and
    // later writes queue behind it.
    void slowReaderGetsEverythingInOrder()
    {
        connectPair();
        acceptPeer();
        const QByteArray all = ws2api::test::bytePattern(8 * 1024 * 1024);
        for (qsizetype at = 0; at < all.size(); at += 65536)
            QCOMPARE(m_client->write(all.mid(at, 65536)), qint64(65536));
        QVERIFY(m_client->bytesToWrite() > 0);
        QByteArray received;
        connect(m_peer.get(), &QTcpSocket::readyRead, this, [&] { received += m_peer->readAll(); });
        QTRY_COMPARE_WITH_TIMEOUT(received.size(), all.size(), 20000);
        QVERIFY(received == all);
        QCOMPARE(m_client->bytesToWrite(), qint64(0));

        // Empty again: the next write goes straight out.
        QCOMPARE(m_client->write("tail"), qint64(4));
        QCOMPARE(m_client->bytesToWrite(), qint64(0));
    }

    void writesBeforeConnectedAreSentOnceConnected()
    {
        connectPair(false);
        QCOMPARE(m_client->write("early"), qint64(5));
        acceptPeer();
        // The peer may have read it already while it was being accepted.
        QByteArray received = m_peer->readAll();
        connect(m_peer.get(), &QTcpSocket::readyRead, this, [&] { received += m_peer->readAll(); });
        QTRY_COMPARE(received, QByteArray("early"));
    }

    void writeToAClosedPeerReportsAnError()
    {
        connectPair();
        acceptPeer();
        m_peer->abort();
        QSignalSpy gone(m_client.get(), &QAbstractSocket::disconnected);
        // The first writes may still be taken by the kernel; the reset then
        // reaches the socket through QTcpSocket's own error handling.
        for (int i = 0; i < 100 && m_client->state() == QAbstractSocket::ConnectedState; ++i) {
            m_client->write(QByteArray(1024, 'x'));
            QCoreApplication::processEvents();
        }
        QTRY_COMPARE(gone.size(), 1);
    }
};

QTEST_GUILESS_MAIN(TestDirectTcpSocket)
#include "tst_directtcpsocket.moc"
