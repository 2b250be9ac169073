#pragma once

#include <QHostAddress>
#include <QObject>
#include <QStringList>

class QWebSocket;

namespace ws2apid {

// With `--api demo:`, shows a newcomer at once that the whole path works: one
// WebSocket client connects to the daemon itself, sends a message, logs the echo
// that came back through the demo API, and leaves. In ocpp mode it is a station
// offering the first of `ocppVersions` and sending a Heartbeat CALL.
class DemoGreeter : public QObject
{
    Q_OBJECT
public:
    DemoGreeter(const QHostAddress &listenAddress, quint16 port, bool tls, const QStringList &ocppVersions = {},
                QObject *parent = nullptr);

Q_SIGNALS:
    void greeted(const QString &echo);

private:
    QWebSocket *m_socket;
};

} // namespace ws2apid
