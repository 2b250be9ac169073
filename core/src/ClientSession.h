#pragma once

#include <QBasicTimer>
#include <QByteArray>
#include <QHostAddress>
#include <QList>
#include <QObject>
#include <QString>
#include <functional>
#include <memory>

#include "modes/ModeSession.h"
#include "ws/ClientFrameReader.h"
#include "ws2api/AdminTypes.h"

class QTcpSocket;

namespace ws2api {

class Worker;
namespace ws {
enum class Opcode : quint8;
}

// One WebSocket client on its worker: Open -> Closing -> Ended. The wire mode's
// ModeSession decides what its messages become, and sees this class only as its
// SessionHost; this class owns the socket and speaks RFC 6455 on it (its frames
// read by a ClientFrameReader, written whole, the close handshake), the bounded send
// queue, the mode's call timer, and the ordered queue of API requests: one at a time, in the order the
// client's messages came, so replies come back in that order too. Requests made
// before the client went away still reach the API; the disconnect notice follows the
// last of them. Final, so that the worker's calls of the SessionHost functions below
// are direct ones.
class ClientSession final : public QObject, public SessionHost, private ClientFrameReader::Sink
{
    Q_OBJECT
public:
    // Takes `transport` (plaintext or TLS) once its upgrade is answered; what the
    // client sent after its upgrade request is read by start().
    ClientSession(Worker *worker, QTcpSocket *transport, QByteArray clientId, quint64 serial,
                  QString protocol);
    ~ClientSession() override;
    void start();

    quint64 serial() const { return m_serial; }
    const QByteArray &clientId() const override { return m_clientId; }
    const QString &protocol() const override { return m_protocol; }
    QString remote() const;  // "address:port", made when asked (logs, the admin's list)
    qint64 lastActivityMs() const { return m_lastActivityMs; }
    bool isOpen() const override { return m_transport != nullptr && !m_closing; }
    ModeSession &mode() const { return *m_mode; }
    ConnectionInfo info() const;

    // All below are called on the worker thread.

    // SessionHost: what the wire mode's session may do (see there).
    int send(const ClientMessage &message) override;
    void callApiInOrder(ApiRequest request, ApiCallback done) override;
    void callApi(ApiRequest request, ApiCallback done) override;
    LogThrottle &frameRejected() override;
    void startCallTimer(int ms) override;
    void stopCallTimer() override;

    void close(int code, const QString &reason, bool notifyApi);
    void ping();
    void abortDeadPeer();

protected:
    void timerEvent(QTimerEvent *event) override;

private:
    struct Pending
    {
        ApiRequest request;
        ApiCallback done;
    };

    // Who ended the connection, for the log line and the API's X-Close-Code.
    enum class Closer : quint8 { Nobody, Daemon, Client, Network };

    // ClientFrameReader::Sink: the client's frames.
    void frameMessage(QByteArray payload, bool binary) override;
    void framePing(QByteArray payload) override;
    void framePong() override;
    void frameClose(std::optional<quint16> code, QByteArray reason) override;

    void onReadable();
    void brokeProtocol();
    void abortAfterHandshakeTimeout();
    void sendFrame(ws::Opcode opcode, QByteArrayView payload);
    void pump();
    void onDisconnected();
    void finishIfDone();

    Worker *m_worker;
    QTcpSocket *m_transport;  // plaintext or TLS; null once the connection is gone
    QByteArray m_clientId;
    quint64 m_serial;
    QString m_protocol;
    // Kept for the disconnect line, when the socket is gone: the socket's own address
    // (shared, not copied) and port rather than their text, ~50 bytes per client.
    QHostAddress m_peerAddress;
    quint16 m_peerPort;
    QString m_closeReason;
    ClientFrameReader m_reader;
    std::unique_ptr<ModeSession> m_mode;
    // QList rather than std::deque: an empty deque allocates ~600 bytes, and most
    // sessions have nothing waiting most of the time.
    QList<Pending> m_ordered;
    qint64 m_connectedAtMs;
    qint64 m_lastActivityMs;
    quint64 m_messagesIn = 0;
    quint64 m_messagesOut = 0;
    // The small ones together: a session is no bigger for being a SessionHost too
    // (its second vtable pointer), and a daemon holds tens of thousands.
    int m_closeCode = 0;  // the close code the API hears of
    int m_unorderedInFlight = 0;
    QBasicTimer m_callTimer;  // the mode's (startCallTimer()); no QObject of its own
    Closer m_closer = Closer::Nobody;
    bool m_orderedInFlight = false;
    bool m_closing = false;
    bool m_notifyApi = true;
    bool m_ended = false;
};

} // namespace ws2api
