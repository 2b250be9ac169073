#pragma once

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QString>
#include <functional>
#include <memory>

#include "CloseFrameScanner.h"
#include "modes/WireMode.h"
#include "ws2api/AdminTypes.h"

class QTcpSocket;
class QWebSocket;

namespace ws2api {

class DirectTcpSocket;
class Worker;

// One WebSocket client on its worker: Open -> Closing -> Ended. The wire mode's
// ModeSession decides what its messages become; this class owns the socket, the
// bounded send queue, and the ordered queue of API requests: one at a time, in the
// order the client's messages came, so replies come back in that order too.
// Requests made before the client went away still reach the API; the disconnect
// notice follows the last of them.
class ClientSession : public QObject
{
    Q_OBJECT
public:
    using ApiCallback = std::function<void(const ApiResponse &)>;

    // `tcp` is the socket under `socket` (it lets a frame leave as one send()).
    ClientSession(Worker *worker, QWebSocket *socket, QTcpSocket *transport, QByteArray clientId,
                  quint64 serial, QString protocol);
    ~ClientSession() override;

    quint64 serial() const { return m_serial; }
    const QByteArray &clientId() const { return m_clientId; }
    const QString &protocol() const { return m_protocol; }
    const QString &remote() const { return m_remote; }
    qint64 lastActivityMs() const { return m_lastActivityMs; }
    bool isOpen() const { return m_socket != nullptr && !m_closing; }
    Worker &worker() const { return *m_worker; }
    ModeSession &mode() const { return *m_mode; }
    ConnectionInfo info() const;

    // All below are called on the worker thread.

    // Queues `message` to the socket: 200, or 503 when the client's send queue is full
    // (the client is then closed with 1008), or 404 when the client is already going.
    int send(const ClientMessage &message);
    // After every earlier ordered request has been answered.
    void callApiInOrder(ApiRequest request, ApiCallback done);
    // At once, beside the ordered ones.
    void callApi(ApiRequest request, ApiCallback done);

    void close(int code, const QString &reason, bool notifyApi);
    void ping();
    void abortDeadPeer();
    // The bytes QWebSocket took from the client's transport, in order, from the first
    // after the upgrade (the Worker sets transport::followReads() to here; the session
    // takes the tap away when its socket goes): they tell a close frame without a
    // code (1005) from one with 1000, and a close of Qt's own from the client's. A
    // transport that does not report its reads leaves 1000 for both.
    void clientBytesRead(QByteArrayView bytes);

private:
    struct Pending
    {
        ApiRequest request;
        ApiCallback done;
    };

    // Who ended the connection, for the log line and the API's X-Close-Code.
    enum class Closer { Nobody, Daemon, Client, Network };

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
    QString m_remote;  // kept for the disconnect line, when the socket is gone
    Closer m_closer = Closer::Nobody;
    int m_closeCode = 0;  // the close code the API hears of
    // The client's bytes as QWebSocket reads them (clientBytesRead()), for what its
    // closeCode() cannot tell: a close frame without a code (1005) from one with 1000.
    CloseFrameScanner m_scanner;
    bool m_bytesFollowed = false;
    std::unique_ptr<ModeSession> m_mode;
    // QList rather than std::deque: an empty deque allocates ~600 bytes, and most
    // sessions have nothing waiting most of the time.
    QList<Pending> m_ordered;
    bool m_orderedInFlight = false;
    int m_unorderedInFlight = 0;
    bool m_closing = false;
    bool m_notifyApi = true;
    bool m_ended = false;
    QString m_closeReason;
    qint64 m_connectedAtMs;
    qint64 m_lastActivityMs;
    quint64 m_messagesIn = 0;
    quint64 m_messagesOut = 0;
};

} // namespace ws2api
