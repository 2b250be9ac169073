#pragma once

#include <QObject>

#include "HttpHead.h"
#include "Worker.h"

class QTcpSocket;
class QTimer;

namespace ws2api {

// A freshly accepted connection on its worker, until we know what it is. The request
// head is only peeked at, never consumed, so that a plain HTTP request goes to the
// push endpoint whole; an upgrade the API accepts becomes the worker's session (see
// Worker::upgrade()), anything else gets its HTTP error.
class IncomingConnection : public QObject
{
    Q_OBJECT
public:
    IncomingConnection(Worker *worker, QObject *parent, QTcpSocket *socket, ListenerRole role);
    ~IncomingConnection() override;

    void abort();

    // "protocol ocpp1.6" or "no subprotocol", for the connect lines.
    static QString protocolText(const QString &protocol);

private:
    void inspect();
    void startUpgrade(const HttpHead &head, qsizetype headLength);
    // The cap and the connect rate (ConnectGate): true with a slot held, else refused.
    bool admit();
    void releaseSlot();
    // refuse() logs (throttled) and rejects a request before the API is asked.
    void refuse(int status, const QByteArray &body = {}, const HeaderList &headers = {});
    void reject(int status, const QByteArray &body = {}, const HeaderList &headers = {});
    QString peer() const;

    Worker *m_worker;
    QTcpSocket *m_socket;
    ListenerRole m_role;
    QTimer *m_timer;
    HttpHead::LineLimits m_lineLimits;  // over the bytes peeked so far
    qsizetype m_scanned = 0;            // how many of them it has seen
    bool m_decided = false;
    bool m_askingApi = false;
    bool m_holdsSlot = false;  // a ConnectGate slot, until the upgrade or its refusal
};

} // namespace ws2api
