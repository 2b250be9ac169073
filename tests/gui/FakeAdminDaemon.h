#pragma once

#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QSet>
#include <QLocalServer>
#include <QString>
#include <QStringList>

#include "AdminProtocol.h"

class QLocalSocket;

namespace ws2api::test {

// A scripted stand-in for ws2apid's admin socket: answers hello, stats, connections
// (a synthetic list of `total` clients "cp-000000", "cp-000001", ..., or `clientIds`),
// push (with ws2apid's reply: status 200 and the client's empty answer), disconnect and
// (un)subscribe, records every request, and sends stats events on demand. Enough of the
// protocol to drive ws2api-admin without a daemon.
class FakeAdminDaemon : public QObject
{
    Q_OBJECT

public:
    struct Received
    {
        QString type;
        QJsonObject body;
    };

    explicit FakeAdminDaemon(QObject *parent = nullptr);
    ~FakeAdminDaemon() override;

    bool listen(const QString &name);
    // Like the daemon exiting: no listener, every admin connection dropped.
    void shutdown();

    QString mode = QStringLiteral("plain");
    int total = 100000;
    // When set, the connected clients instead of `total` synthetic ones, listed in this
    // order (ws2apid lists them in its own ClientId order).
    QStringList clientIds;
    // push and disconnect to this ClientId answer unknown_client.
    QString unknownClient = QStringLiteral("ghost");
    // Requests of these types are recorded but never answered.
    QSet<QString> unanswered;

    QList<Received> requests(const QString &type) const;
    int count(const QString &type) const { return int(requests(type).size()); }
    int clientCount() const { return int(m_clients.size()); }
    void sendStats(const QJsonObject &body);
    static QString clientIdFor(int n);

Q_SIGNALS:
    void requestReceived(const QString &type, const QJsonObject &body);

private:
    void onNewConnection();
    void onReadyRead(QLocalSocket *socket);
    QByteArray answer(const admin::Request &request);
    QByteArray answerConnections(qint64 id, const QJsonObject &body) const;

    QLocalServer m_server;
    QHash<QLocalSocket *, admin::LineReader> m_clients;
    QList<Received> m_requests;
};

} // namespace ws2api::test
