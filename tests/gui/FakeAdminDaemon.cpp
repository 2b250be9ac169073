#include "FakeAdminDaemon.h"

#include <QDateTime>
#include <QJsonArray>
#include <QLocalSocket>

namespace ws2api::test {

FakeAdminDaemon::FakeAdminDaemon(QObject *parent)
    : QObject(parent)
{
    connect(&m_server, &QLocalServer::newConnection, this, &FakeAdminDaemon::onNewConnection);
}

FakeAdminDaemon::~FakeAdminDaemon()
{
    shutdown();
}

bool FakeAdminDaemon::listen(const QString &name)
{
    QLocalServer::removeServer(name);
    return m_server.listen(name);
}

void FakeAdminDaemon::shutdown()
{
    m_server.close();
    const QList<QLocalSocket *> sockets = m_clients.keys();
    m_clients.clear();
    for (QLocalSocket *socket : sockets) {
        socket->disconnect(this);
        socket->abort();
        socket->deleteLater();
    }
}

QString FakeAdminDaemon::clientIdFor(int n)
{
    return QStringLiteral("cp-%1").arg(n, 6, 10, QLatin1Char('0'));
}

QList<FakeAdminDaemon::Received> FakeAdminDaemon::requests(const QString &type) const
{
    QList<Received> out;
    for (const Received &r : m_requests) {
        if (r.type == type)
            out.append(r);
    }
    return out;
}

void FakeAdminDaemon::sendStats(const QJsonObject &body)
{
    const QByteArray line = admin::encodeEvent(QStringLiteral("stats"), body);
    for (auto it = m_clients.cbegin(); it != m_clients.cend(); ++it)
        it.key()->write(line);
}

void FakeAdminDaemon::onNewConnection()
{
    while (QLocalSocket *socket = m_server.nextPendingConnection()) {
        m_clients.insert(socket, {});
        connect(socket, &QLocalSocket::readyRead, this, [this, socket] { onReadyRead(socket); });
        connect(socket, &QLocalSocket::disconnected, this, [this, socket] {
            m_clients.remove(socket);
            socket->deleteLater();
        });
    }
}

void FakeAdminDaemon::onReadyRead(QLocalSocket *socket)
{
    auto it = m_clients.find(socket);
    if (it == m_clients.end())
        return;
    it->feed(socket->readAll());
    QByteArray line;
    while (it->next(&line) == admin::LineReader::Status::Line) {
        QString error;
        std::optional<qint64> id;
        const std::optional<admin::Request> request = admin::parseRequest(line, &error, &id);
        if (!request) {
            socket->write(admin::encodeError(id, QStringLiteral("bad_request"), error));
            continue;
        }
        m_requests.append({request->type, request->body});
        if (!unanswered.contains(request->type))
            socket->write(answer(*request));
        Q_EMIT requestReceived(request->type, request->body);
    }
}

QByteArray FakeAdminDaemon::answer(const admin::Request &request)
{
    const qint64 id = request.id.value_or(0);
    const QString type = request.type;
    const QString clientId = request.body.value(QStringLiteral("clientId")).toString();
    if (type == QLatin1String("hello")) {
        return admin::encodeReply(id, {{QStringLiteral("version"), admin::ProtocolVersion},
                                       {QStringLiteral("daemonVersion"), QStringLiteral("9.9.9-test")},
                                       {QStringLiteral("mode"), mode},
                                       {QStringLiteral("listen"), QStringLiteral("127.0.0.1:4321")},
                                       {QStringLiteral("uptimeS"), 3725}});
    }
    if (type == QLatin1String("connections"))
        return answerConnections(id, request.body);
    if ((type == QLatin1String("push") || type == QLatin1String("disconnect")) && clientId == unknownClient)
        return admin::encodeError(id, QStringLiteral("unknown_client"), QStringLiteral("no such client"));
    if (type == QLatin1String("push")) {
        return admin::encodeReply(id, {{QStringLiteral("status"), 200}, {QStringLiteral("message"), QString()}});
    }
    if (type == QLatin1String("stats") || type == QLatin1String("disconnect") || type == QLatin1String("subscribe")
        || type == QLatin1String("unsubscribe")) {
        return admin::encodeReply(id, {});
    }
    return admin::encodeError(id, QStringLiteral("unknown_type"), type);
}

QByteArray FakeAdminDaemon::answerConnections(qint64 id, const QJsonObject &body) const
{
    const QString filter = body.value(QStringLiteral("filter")).toString();
    const qint64 offset = body.value(QStringLiteral("offset")).toInteger();
    const qint64 limit = body.value(QStringLiteral("limit")).toInteger();
    if (limit < 0 || limit > 1000 || offset < 0)
        return admin::encodeError(id, QStringLiteral("bad_request"), QStringLiteral("limit is 0..1000"));
    const QString now = QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs);
    QJsonArray items;
    qint64 matched = 0;
    const int count = clientIds.isEmpty() ? total : int(clientIds.size());
    for (int n = 0; n < count; ++n) {
        const QString clientId = clientIds.isEmpty() ? clientIdFor(n) : clientIds.at(n);
        if (!filter.isEmpty() && !clientId.contains(filter))
            continue;
        if (matched >= offset && matched < offset + limit) {
            items.append(QJsonObject{{QStringLiteral("clientId"), clientId},
                                     {QStringLiteral("remote"), QStringLiteral("127.0.0.1:%1").arg(20000 + n % 40000)},
                                     {QStringLiteral("protocol"), mode == QLatin1String("ocpp") ? QStringLiteral("ocpp1.6")
                                                                                           : QString()},
                                     {QStringLiteral("connectedAt"), now},
                                     {QStringLiteral("messagesIn"), n},
                                     {QStringLiteral("messagesOut"), 2 * n},
                                     {QStringLiteral("lastActivity"), now}});
        }
        ++matched;
        // Without a filter the count is known; no need to walk all of it.
        if (filter.isEmpty() && matched >= offset + limit) {
            matched = count;
            break;
        }
    }
    return admin::encodeReply(id, {{QStringLiteral("total"), matched}, {QStringLiteral("items"), items}});
}

} // namespace ws2api::test
