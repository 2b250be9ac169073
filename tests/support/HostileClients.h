#pragma once

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QTcpSocket>
#include <QTimer>
#include <memory>
#include <vector>

namespace ws2api::test {

// Many raw loopback connections that each send `prefix` at once, then `trickle` one
// byte at a time, one byte per connection every `intervalMs`, never finishing (the
// trickle starts over when it ends). What the server answers is collected, and when
// it closes the connection that is counted. A slowloris in a box: bounded in count
// and, by its caller's wait, in time.
class TrickleCrowd : public QObject
{
    Q_OBJECT
public:
    TrickleCrowd(quint16 port, int count, QByteArray prefix, QByteArray trickle, int intervalMs,
                 QObject *parent = nullptr);
    ~TrickleCrowd() override;

    int connected() const { return m_connected; }  // connections that were established
    int closed() const { return m_closed; }        // ... and then closed by the server
    int count() const { return int(m_sockets.size()); }
    // How many of the answers start with `statusLine` (e.g. "HTTP/1.1 408 ").
    int answeredWith(QByteArrayView statusLine) const;
    int answered() const;  // connections that got any bytes back

private:
    struct Connection
    {
        std::unique_ptr<QTcpSocket> socket;
        QByteArray received;
        qsizetype next = 0;  // in the trickle
        bool open = false;
    };
    void tick();

    std::vector<Connection> m_sockets;
    QByteArray m_prefix;
    QByteArray m_trickle;
    QTimer m_timer;
    int m_connected = 0;
    int m_closed = 0;
};

// Reads the daemon's /metrics over one keep-alive connection (so that reading them
// holds the same one descriptor in the daemon every time), reconnecting if closed.
class MetricsReader
{
public:
    explicit MetricsReader(quint16 pushPort);

    // The whole text, or empty when no answer came in time.
    QByteArray fetch();
    // The value of the first sample whose line starts with `series` followed by a space
    // (`name` or `name{labels}`); -1 when absent or unreadable.
    qint64 value(QByteArrayView series);
    static qint64 valueIn(const QByteArray &text, QByteArrayView series);

private:
    quint16 m_port;
    QTcpSocket m_socket;
};

} // namespace ws2api::test
