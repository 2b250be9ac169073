#pragma once

#include <QByteArray>
#include <memory>

#include "DirectTcpSocket.h"

class QSocketNotifier;

namespace ws2api {

namespace transport {
class TlsServerContext;
class TlsStream;
} // namespace transport

// A connection a listener accepted, plaintext or TLS: to everything above it (the
// upgrade step, the WebSocket session, the push endpoint) a connected QTcpSocket like
// any other.
//
// Underneath it is not Qt's socket machinery but the descriptor itself, read and
// written here: what arrives is read into one buffer per thread and kept only
// until it is consumed (QTcpSocket keeps a 16 KiB read chunk per socket, QSslSocket
// four rings of 16 KiB and an OpenSSL context of its own per connection), writes go
// straight to the kernel or through TLS, and only what the peer has not taken yet
// is queued. An idle wss connection holds an OpenSSL session and little else.
class AcceptedSocket : public DirectTcpSocket
{
    Q_OBJECT

public:
    // Takes `descriptor` (accepted; made non-blocking); TLS with `tls`, which it shares.
    // Reading starts in the event loop, after the owner connected its signals.
    AcceptedSocket(qintptr descriptor, std::shared_ptr<const transport::TlsServerContext> tls);
    ~AcceptedSocket() override;

    // Up to `max` bytes that arrived and were not read yet, left in place
    // (QIODevice::peek() would keep a buffer chunk for the socket's life).
    QByteArray peekPending(qsizetype max) const;

    // Everything that arrived and was not read yet, taken at once: without a copy when
    // nothing of it was read before (the WebSocket session reads that way).
    QByteArray takePending();

    // Whether client certificates are asked for and verified on this connection,
    // and the verified one as RFC 9440 has it in a header (":<base64 DER>:"),
    // empty without one.
    bool verifiesClientCertificates() const;

    QByteArray clientCertHeader() const;

    // Whether the socket stays open for writing once the peer has ended its side
    // (off: it closes then, as a QTcpSocket does). An HTTP client may send its
    // requests and shut its side down at once, and still wait for the answers:
    // then readChannelFinished() says nothing more will come, and the owner closes.
    void setHalfCloseAllowed(bool allowed) { m_halfCloseAllowed = allowed; }

    // A close (not an abort) while the peer may still be sending lingers: see
    // transport::lingerAndClose(). `keeper` owns the lingering descriptor.
    void setLingering(int ms, QObject *keeper)
    {
        m_lingerMs = ms;
        m_lingerKeeper = keeper;
    }

    qint64 bytesAvailable() const override;
    qint64 bytesToWrite() const override;
    bool canReadLine() const override;
    void close() override;
    void disconnectFromHost() override;
    void setSocketOption(SocketOption option, const QVariant &value) override;
    QVariant socketOption(SocketOption option) override;
    void setReadBufferSize(qint64 size) override;

Q_SIGNALS:
    // The TLS handshake failed (and the socket is closed): the cause, as OpenSSL
    // or the configuration has it. A client that leaves before its first byte is
    // no failure and does not show here.
    void tlsHandshakeFailed(const QString &cause);

protected:
    qint64 readData(char *data, qint64 maxSize) override;
    qint64 skipData(qint64 maxSize) override;
    qint64 sendOrQueue(const char *data, qint64 size) override;

private:
    // Bytes read and not yet consumed.
    qint64 pending() const { return m_in.size() - m_inPos; }
    bool wantsToRead() const;
    void resumeReading();
    void onReadable();
    void onWritable();
    void watchWritable(bool on);
    bool continueHandshake();
    void readAvailable();
    void flushQueue();
    // Sends what the peer takes now: false (and *error) when the connection broke.
    bool transmit(const char *data, qint64 size, qint64 *done, QString *error);
    void peerEnded();
    void fail(SocketError error, const QString &text);
    void finishClose(bool graceful);

    qintptr m_fd;
    QSocketNotifier *m_readNotifier;
    QSocketNotifier *m_writeNotifier = nullptr;  // made when first needed (watchWritable())
    std::unique_ptr<transport::TlsStream> m_tls;
    QByteArray m_in;  // read, not yet consumed from m_inPos on
    qsizetype m_inPos = 0;
    QByteArray m_out;  // written, not yet taken by the peer from m_outPos on
    qsizetype m_outPos = 0;
    bool m_readWantsWrite = false;  // TLS: a read must write first (post-handshake messages)
    bool m_aborting = false;
    bool m_halfCloseAllowed = false;
    int m_lingerMs = 0;
    QObject *m_lingerKeeper = nullptr;
    bool m_peerEnded = false;
};

} // namespace ws2api
