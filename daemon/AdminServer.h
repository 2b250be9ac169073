#pragma once

#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QString>
#include <QTimer>
#include <memory>

#include "ws2api/AdminTypes.h"
#include "ws2api/ProxyConfig.h"

class QJsonObject;
class QLocalServer;
class QLocalSocket;

namespace ws2api {
class Proxy;
}

namespace ws2apid {

// The daemon's admin interface (SPEC "Admin interface"): a local socket on the main
// thread speaking core/admin's line protocol for one Proxy. Nothing here blocks; each
// admin connection has its own reader, subscription timer and output cap, so a slow or
// silent one costs only itself.
class AdminServer : public QObject
{
    Q_OBJECT
public:
    // An admin connection whose unread output grows past this is dropped.
    static constexpr qint64 MaxBufferedBytes = 8 << 20;
    static constexpr int MaxPageSize = 1000;
    static constexpr int DefaultPageSize = 100;
    static constexpr int MinIntervalMs = 100;

    AdminServer(ws2api::Proxy *proxy, const ws2api::ProxyConfig &config, const QString &daemonVersion,
                QObject *parent = nullptr);
    ~AdminServer() override;

    // `name` as QLocalServer takes it (a path, or a name under the temp dir). An empty
    // `group` leaves the socket to its owner; otherwise the group gets access too.
    // Fails when another process listens there; a stale socket file is removed.
    bool listen(const QString &name, const QString &group, QString *error);
    QString fullServerName() const;

    // For tests and logs.
    int connectionCount() const { return int(m_connections.size()); }
    int subscriberCount() const;

private:
    struct Connection;

    void accept();
    void readFrom(QLocalSocket *socket);
    void handleLine(QLocalSocket *socket, const QByteArray &line);
    void send(QLocalSocket *socket, const QByteArray &line);
    void drop(QLocalSocket *socket);
    void sample();

    // One per request type; each answers `id` on `socket`, now or later.
    void hello(QLocalSocket *socket, qint64 id, const QJsonObject &body);
    void stats(QLocalSocket *socket, qint64 id, const QJsonObject &body);
    void connections(QLocalSocket *socket, qint64 id, const QJsonObject &body);
    void push(QLocalSocket *socket, qint64 id, const QJsonObject &body);
    void disconnectClient(QLocalSocket *socket, qint64 id, const QJsonObject &body);
    void subscribe(QLocalSocket *socket, qint64 id, const QJsonObject &body);
    void unsubscribe(QLocalSocket *socket, qint64 id, const QJsonObject &body);
    QJsonObject statsBody() const;

    ws2api::Proxy *m_proxy;
    ws2api::ProxyConfig m_config;
    QString m_daemonVersion;
    std::unique_ptr<QLocalServer> m_server;
    QHash<QLocalSocket *, std::shared_ptr<Connection>> m_connections;
    int m_accepted = 0;

    // Rates come from the difference between two samples a second apart.
    QTimer m_sampler;
    QElapsedTimer m_sampledAt;
    ws2api::ProxyStats m_lastSample;
    double m_messagesInPerS = 0;
    double m_messagesOutPerS = 0;
};

} // namespace ws2apid
