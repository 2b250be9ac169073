#include "HostileClients.h"

#include <QHostAddress>

#include <algorithm>

#include "MetricsScrape.h"

namespace ws2api::test {

TrickleCrowd::TrickleCrowd(quint16 port, int count, QByteArray prefix, QByteArray trickle,
                           int intervalMs, QObject *parent)
    : QObject(parent)
    , m_prefix(std::move(prefix))
    , m_trickle(std::move(trickle))
{
    Q_ASSERT(!m_trickle.isEmpty());
    m_sockets.resize(size_t(count));
    for (Connection &c : m_sockets) {
        c.socket = std::make_unique<QTcpSocket>();
        QTcpSocket *socket = c.socket.get();
        Connection *connection = &c;
        connect(socket, &QTcpSocket::connected, this, [this, connection] {
            connection->open = true;
            ++m_connected;
            if (!m_prefix.isEmpty())
                connection->socket->write(m_prefix);
        });
        connect(socket, &QTcpSocket::readyRead, this, [connection] {
            connection->received += connection->socket->readAll();
        });
        connect(socket, &QTcpSocket::disconnected, this, [this, connection] {
            if (connection->open) {
                connection->open = false;
                ++m_closed;
            }
        });
        // A reset shows as an error without disconnected() on some paths.
        connect(socket, &QTcpSocket::errorOccurred, this, [this, connection] {
            if (connection->open && connection->socket->state() != QAbstractSocket::ConnectedState) {
                connection->open = false;
                ++m_closed;
            }
        });
        socket->connectToHost(QHostAddress::LocalHost, port);
    }
    m_timer.callOnTimeout(this, &TrickleCrowd::tick);
    m_timer.start(intervalMs);
}

TrickleCrowd::~TrickleCrowd()
{
    m_timer.stop();
    for (Connection &c : m_sockets) {
        c.socket->disconnect(this);
        c.socket->abort();
    }
}

void TrickleCrowd::tick()
{
    for (Connection &c : m_sockets) {
        if (!c.open)
            continue;
        c.socket->write(m_trickle.constData() + c.next, 1);
        c.next = (c.next + 1) % m_trickle.size();
    }
}

int TrickleCrowd::answeredWith(QByteArrayView statusLine) const
{
    return int(std::count_if(m_sockets.cbegin(), m_sockets.cend(),
                             [&](const Connection &c) { return c.received.startsWith(statusLine); }));
}

int TrickleCrowd::answered() const
{
    return int(std::count_if(m_sockets.cbegin(), m_sockets.cend(),
                             [](const Connection &c) { return !c.received.isEmpty(); }));
}

MetricsReader::MetricsReader(quint16 pushPort)
    : m_port(pushPort)
{
}

QByteArray MetricsReader::fetch()
{
    constexpr int WaitMs = 10000;  // an upper bound for a busy box, not a timing check
    if (m_socket.state() != QAbstractSocket::ConnectedState) {
        m_socket.abort();
        m_socket.connectToHost(QHostAddress::LocalHost, m_port);
        if (!m_socket.waitForConnected(WaitMs))
            return {};
    }
    m_socket.readAll();  // nothing is expected; a stale byte must not shift the answer
    m_socket.write("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    QByteArray response;
    for (;;) {
        const qsizetype headEnd = response.indexOf("\r\n\r\n");
        if (headEnd >= 0) {
            const qsizetype at = response.toLower().indexOf("content-length:");
            if (at >= 0 && at < headEnd) {
                const qsizetype lineEnd = response.indexOf("\r\n", at);
                const qint64 length = response.mid(at + 15, lineEnd - at - 15).trimmed().toLongLong();
                if (response.size() >= headEnd + 4 + length)
                    return response.mid(headEnd + 4, length);
            }
        }
        if (!m_socket.waitForReadyRead(WaitMs))
            return {};
        response += m_socket.readAll();
    }
}

qint64 MetricsReader::value(QByteArrayView series)
{
    return valueIn(fetch(), series);
}

qint64 MetricsReader::valueIn(const QByteArray &text, QByteArrayView series)
{
    return qint64(parseMetrics(text).value(series.toByteArray(), -1));
}

} // namespace ws2api::test
