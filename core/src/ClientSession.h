#pragma once

#include <QByteArray>
#include <QDateTime>
#include <QObject>
#include <QString>
#include <deque>

#include "modes/WireMode.h"

class QWebSocket;

namespace ws2api {

class Worker;

// One WebSocket client on its worker: Open -> Closing -> Ended. Messages go to the
// API one at a time, in the order the client sent them, so replies come back in
// that order too. A message received before the client went away is still delivered
// to the API; the disconnect notice follows the last of them.
class ClientSession : public QObject
{
    Q_OBJECT
public:
    ClientSession(Worker *worker, QWebSocket *socket, QByteArray clientId, quint64 serial);
    ~ClientSession() override;

    quint64 serial() const { return m_serial; }
    const QByteArray &clientId() const { return m_clientId; }
    qint64 lastActivityMs() const { return m_lastActivityMs; }
    bool isOpen() const { return m_socket != nullptr && !m_closing; }

    // Called on the worker thread. Queues `message` to the socket: 200, or 503 when
    // the client's send queue is full (the client is then closed with 1008), or 404
    // when the client is already going.
    int send(const ClientMessage &message);
    // Called on the worker thread.
    void close(int code, const QString &reason, bool notifyApi);
    void ping();
    void abortDeadPeer();

private:
    void onMessage(ClientMessage message);
    void pump();
    void onDisconnected();
    void finishIfDone();

    Worker *m_worker;
    QWebSocket *m_socket;
    QByteArray m_clientId;
    quint64 m_serial;
    std::deque<ClientMessage> m_pending;
    bool m_inFlight = false;
    bool m_closing = false;
    bool m_notifyApi = true;
    bool m_ended = false;
    QString m_closeReason;
    qint64 m_lastActivityMs;
};

} // namespace ws2api
