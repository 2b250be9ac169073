#pragma once

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QPair>
#include <QTcpSocket>

namespace ws2api::test {

// Sends raw bytes over a fresh loopback connection and collects one HTTP response,
// without blocking the event loop (the proxy under test may run on this thread).
// Wait with QTRY_VERIFY(probe.finished()).
class HttpProbe : public QObject
{
    Q_OBJECT
public:
    HttpProbe(quint16 port, const QByteArray &request, QObject *parent = nullptr);
    ~HttpProbe() override;

    bool finished() const { return m_finished; }   // a whole response, or the connection closed
    bool closed() const { return m_closed; }       // the server closed the connection
    int status() const { return m_status; }        // 0 when no status line arrived
    QByteArray header(QByteArrayView name) const;
    QByteArray body() const { return m_body; }
    QByteArray raw() const { return m_raw; }
    QTcpSocket *socket() { return &m_socket; }

    static QByteArray request(const QByteArray &method, const QByteArray &target,
                              const QByteArray &body = {},
                              const QList<QPair<QByteArray, QByteArray>> &headers = {});
    static QByteArray upgrade(const QByteArray &target,
                              const QList<QPair<QByteArray, QByteArray>> &headers = {});

    // POSTs `body` to `target`, one connection each, until an answer is not 200, at
    // most `limit` times: the last status (200 when none was refused, 0 when one
    // never came). For a client that stops reading, whose send queue must fill.
    static int postUntilRefused(quint16 port, const QByteArray &target, const QByteArray &body, int limit);

private:
    void parse();

    QTcpSocket m_socket;
    QByteArray m_raw;
    QList<QPair<QByteArray, QByteArray>> m_headers;
    QByteArray m_body;
    int m_status = 0;
    bool m_finished = false;
    bool m_closed = false;
};

} // namespace ws2api::test
