#pragma once

#include <QHostAddress>
#include <QObject>

class QWebSocket;

namespace ws2apid {

// With `--api demo:`, shows a newcomer at once that the whole path works: one
// WebSocket client connects to the daemon itself, sends a message, logs the echo
// that came back through the demo API, and leaves.
class DemoGreeter : public QObject
{
    Q_OBJECT
public:
    DemoGreeter(const QHostAddress &listenAddress, quint16 port, QObject *parent = nullptr);

Q_SIGNALS:
    void greeted(const QString &echo);

private:
    QWebSocket *m_socket;
};

} // namespace ws2apid
