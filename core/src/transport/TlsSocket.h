#pragma once

#include <QByteArray>
#include <QSslSocket>

namespace ws2api {

// A server-side QSslSocket whose writes can be held, as DirectTcpSocket's can: the
// 101 of a WebSocket handshake must not reach the client before the client can be
// found by pushes. Holding gathers what QWebSocketServer writes and hands it to
// QSslSocket on release, in order.
class TlsSocket : public QSslSocket
{
    Q_OBJECT

public:
    TlsSocket();

    // With a certificate optional, a client that sends none gets in (its handshake
    // would fail on QSslError::NoPeerCertificate otherwise); one that sends a
    // certificate that does not verify still fails.
    void setCertificateOptional(bool optional) { m_certificateOptional = optional; }

    void holdWrites() { m_holding = true; }
    void releaseWrites();

    void disconnectFromHost() override;
    void close() override;

protected:
    qint64 writeData(const char *data, qint64 size) override;

private:
    QByteArray m_held;
    bool m_holding = false;
    bool m_certificateOptional = false;
};

} // namespace ws2api
