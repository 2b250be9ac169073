// AcceptedSocket, plaintext: what an accepted connection holds while it is idle, and
// that a peer which stops reading still gets every byte, in order, once it reads.
#include <QSignalSpy>
#include <QSocketNotifier>
#include <QTcpServer>
#include <QTest>

#include <memory>

#include "BytePattern.h"
#include "transport/AcceptedSocket.h"

using ws2api::AcceptedSocket;

namespace {

// Hands out the descriptors it accepts instead of making QTcpSockets of them.
class DescriptorServer : public QTcpServer
{
public:
    QList<qintptr> accepted;

protected:
    void incomingConnection(qintptr descriptor) override { accepted.append(descriptor); }
};

} // namespace

class TestAcceptedSocket : public QObject
{
    Q_OBJECT

private:
    DescriptorServer m_server;
    std::unique_ptr<QTcpSocket> m_client;
    std::unique_ptr<AcceptedSocket> m_accepted;

    void connectPair()
    {
        QVERIFY(m_server.isListening() || m_server.listen(QHostAddress::LocalHost));
        m_server.accepted.clear();
        m_client = std::make_unique<QTcpSocket>();
        m_client->connectToHost(QHostAddress::LocalHost, m_server.serverPort());
        QTRY_COMPARE(m_server.accepted.size(), 1);
        m_accepted = std::make_unique<AcceptedSocket>(m_server.accepted.first(), nullptr);
        QTRY_COMPARE(m_client->state(), QAbstractSocket::ConnectedState);
    }

private Q_SLOTS:
    void cleanup()
    {
        m_accepted.reset();
        m_client.reset();
    }

    // Tens of thousands of idle clients: a write notifier each (a QObject, its
    // private part and a connection) would be memory spent on nothing, as long as
    // the kernel takes every write whole.
    void idleAndAnsweredConnectionsWatchOnlyForReading()
    {
        connectPair();
        QCOMPARE(m_accepted->findChildren<QSocketNotifier *>().size(), 1);

        QByteArray received;
        connect(m_client.get(), &QTcpSocket::readyRead, this, [&] { received += m_client->readAll(); });
        QCOMPARE(m_accepted->write("ping"), qint64(4));
        QCOMPARE(m_accepted->bytesToWrite(), qint64(0));
        QTRY_COMPARE(received, QByteArray("ping"));
        QCOMPARE(m_accepted->findChildren<QSocketNotifier *>().size(), 1);

        // Reading still works with that one notifier.
        QSignalSpy readable(m_accepted.get(), &QIODevice::readyRead);
        m_client->write("pong");
        QTRY_VERIFY(!readable.isEmpty());
        QCOMPARE(m_accepted->readAll(), QByteArray("pong"));
    }

    // The WebSocket session takes what arrived at once, whatever was read before it,
    // and the socket keeps nothing of it.
    void pendingBytesAreTakenWhole()
    {
        connectPair();
        const QByteArray head = "GET /CP1 HTTP/1.1\r\n\r\n";
        m_client->write(head + "frame-bytes");
        QTRY_COMPARE(m_accepted->bytesAvailable(), qint64(head.size() + 11));
        QCOMPARE(m_accepted->peekPending(3), QByteArray("GET"));
        QCOMPARE(m_accepted->skip(head.size()), qint64(head.size()));
        QCOMPARE(m_accepted->takePending(), QByteArray("frame-bytes"));
        QCOMPARE(m_accepted->bytesAvailable(), qint64(0));
        QCOMPARE(m_accepted->takePending(), QByteArray());

        m_client->write("more");
        QTRY_COMPARE(m_accepted->bytesAvailable(), qint64(4));
        QCOMPARE(m_accepted->takePending(), QByteArray("more"));
    }

    // What the kernel does not take is queued, watched for from then on, and sent in
    // order, later writes behind it; the queue empties and the socket closes cleanly.
    void slowReaderGetsEverythingInOrder()
    {
        connectPair();
        const QByteArray all = ws2api::test::bytePattern(8 * 1024 * 1024);
        for (qsizetype at = 0; at < all.size(); at += 65536)
            QCOMPARE(m_accepted->write(all.mid(at, 65536)), qint64(65536));
        QVERIFY(m_accepted->bytesToWrite() > 0);
        QCOMPARE(m_accepted->findChildren<QSocketNotifier *>().size(), 2);

        QByteArray received;
        connect(m_client.get(), &QTcpSocket::readyRead, this, [&] { received += m_client->readAll(); });
        QTRY_COMPARE_WITH_TIMEOUT(received.size(), all.size(), 20000);
        QVERIFY(received == all);
        QTRY_COMPARE(m_accepted->bytesToWrite(), qint64(0));

        QCOMPARE(m_accepted->write("tail"), qint64(4));
        QSignalSpy gone(m_client.get(), &QTcpSocket::disconnected);
        m_accepted->disconnectFromHost();
        QTRY_COMPARE(gone.size(), 1);
        QCOMPARE(received.right(4), QByteArray("tail"));
    }

    // A close with output still queued sends it first (the write notifier, made for
    // the queue, finishes the close).
    void closeWaitsForTheQueue()
    {
        connectPair();
        const QByteArray all = ws2api::test::bytePattern(4 * 1024 * 1024);
        m_accepted->write(all);
        QVERIFY(m_accepted->bytesToWrite() > 0);
        QSignalSpy closed(m_accepted.get(), &QAbstractSocket::disconnected);
        m_accepted->disconnectFromHost();
        QCOMPARE(closed.size(), 0);
        QByteArray received;
        connect(m_client.get(), &QTcpSocket::readyRead, this, [&] { received += m_client->readAll(); });
        QTRY_COMPARE_WITH_TIMEOUT(received.size(), all.size(), 20000);
        QVERIFY(received == all);
        QTRY_COMPARE(closed.size(), 1);
    }
};

QTEST_GUILESS_MAIN(TestAcceptedSocket)
#include "tst_acceptedsocket.moc"
