#pragma once

#include <QBasicTimer>
#include <QByteArray>
#include <QHostAddress>
#include <QList>
#include <QObject>
#include <QString>
#include <functional>
#include <memory>

#include "CloseFrameScanner.h"
#include "modes/ModeSession.h"
#include "ws2api/AdminTypes.h"

class QTcpSocket;
class QWebSocket;

namespace ws2api {

class DirectTcpSocket;
class Worker;

// One WebSocket client on its worker: Open -> Closing -> Ended. The wire mode's
// ModeSession decides what its messages become, and sees this class only as its
// SessionHost; this class owns the socket, the bounded send queue, the mode's call
// timer, and the ordered queue of API requests: one at a time, in the order the
// client's messages came, so replies come back in that order too. Requests made
// before the client went away still reach the API; the disconnect notice follows the
// last of them. Final, so that the worker's calls of the SessionHost functions below
// are direct ones.
class ClientSession final : public QObject, public SessionHost
{
    Q_OBJECT
public:
    // `tcp` is the socket under `socket` (it lets a frame leave as one send()).
    ClientSession(Worker *worker, QWebSocket *socket, QTcpSocket *transport, QByteArray clientId,
                  quint64 serial, QString protocol);
    ~ClientSession() override;

    quint64 serial() const { return m_serial; }
    const QByteArray &clientId() const override { return m_clientId; }
    const QString &protocol() const override { return m_protocol; }
    QString remote() const;  // "address:port", made when asked (logs, the admin's list)
    qint64 lastActivityMs() const { return m_lastActivityMs; }
    bool isOpen() const override { return m_socket != nullptr && !m_closing; }
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
    // The bytes QWebSocket took from the client's transport, in order, from the first
    // after the upgrade (the Worker sets transport::followReads() to here; the session
    // takes the tap away when its socket goes): they tell a close frame without a
    // code (1005) from one with 1000, and a close of Qt's own from the client's. A
    // transport that does not report its reads leaves 1000 for both.
    void clientBytesRead(QByteArrayView bytes);

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

    void onMessage(ClientMessage message);
    void pump();
    void onAboutToClose();
    void onDisconnected();
    void finishIfDone();

    Worker *m_worker;
    QWebSocket *m_socket;
    QTcpSocket *m_transport;  // under m_socket: plaintext or TLS
    DirectTcpSocket *m_tcp;   // m_transport when plaintext, for one send() per frame
    QByteArray m_clientId;
    quint64 m_serial;
    QString m_protocol;
    // Kept for the disconnect line, when the socket is gone: the socket's own address
    // (shared, not copied) and port rather than their text, ~50 bytes per client.
    QHostAddress m_peerAddress;
    quint16 m_peerPort;
    QString m_closeReason;
    // The client's bytes as QWebSocket reads them (clientBytesRead()), for what its
    // closeCode() cannot tell: a close frame without a code (1005) from one with 1000.
    CloseFrameScanner m_scanner;
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
    bool m_bytesFollowed = false;
    bool m_orderedInFlight = false;
    bool m_closing = false;
    bool m_notifyApi = true;
    bool m_ended = false;
};

} // namespace ws2api
