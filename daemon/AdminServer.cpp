#include "AdminServer.h"

#include <QDateTime>
#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocalServer>
#include <QLocalSocket>
#include <QLoggingCategory>
#include <QPointer>
#include <QUuid>

#include <climits>
#include <cmath>

#include "AdminProtocol.h"
#include "LogText.h"
#include "Options.h"
#include "platform/Platform.h"
#include "ws2api/Proxy.h"

Q_LOGGING_CATEGORY(lcAdmin, "ws2api.admin", QtInfoMsg)

using namespace Qt::Literals::StringLiterals;
namespace proto = ws2api::admin;

namespace ws2apid {

namespace {

const QString BadRequest = u"bad_request"_s;
const QString UnknownClient = u"unknown_client"_s;
constexpr qint64 MaxIntervalMs = 24 * 3600 * 1000;
constexpr qsizetype MaxReasonBytes = 123;  // a close frame's payload is 125 bytes with the code

// Optional fields of a request body: absent leaves *out as it is; present with the wrong
// type or out of range is false with *why naming the field.
bool readString(const QJsonObject &body, QLatin1StringView key, QString *out, QString *why)
{
    const QJsonValue value = body.value(key);
    if (value.isUndefined())
        return true;
    if (!value.isString()) {
        *why = key + u": not a string"_s;
        return false;
    }
    *out = value.toString();
    return true;
}

bool readInteger(const QJsonObject &body, QLatin1StringView key, qint64 min, qint64 max, qint64 *out,
                 QString *why)
{
    const QJsonValue value = body.value(key);
    if (value.isUndefined())
        return true;
    const std::optional<qint64> n = proto::integerValue(value);
    if (!n || *n < min || *n > max) {
        *why = u"%1: not a whole number in %2..%3"_s.arg(key).arg(min).arg(max);
        return false;
    }
    *out = *n;
    return true;
}

bool readBool(const QJsonObject &body, QLatin1StringView key, bool *out, QString *why)
{
    const QJsonValue value = body.value(key);
    if (value.isUndefined())
        return true;
    if (!value.isBool()) {
        *why = key + u": not true or false"_s;
        return false;
    }
    *out = value.toBool();
    return true;
}

bool requireString(const QJsonObject &body, QLatin1StringView key, QString *out, QString *why)
{
    if (!readString(body, key, out, why))
        return false;
    if (out->isEmpty())
        *why = key + u": needed"_s;
    return !out->isEmpty();
}

// The codes an endpoint may send (RFC 6455 7.4): 1004-1006 and 1015 are reserved.
bool isSendableCloseCode(qint64 code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

QString isoUtc(qint64 msSinceEpoch)
{
    return QDateTime::fromMSecsSinceEpoch(msSinceEpoch, Qt::UTC).toString(Qt::ISODateWithMs);
}

double perSecond(quint64 now, quint64 before, qint64 elapsedMs)
{
    if (now < before || elapsedMs <= 0)
        return 0;
    return std::round(double(now - before) * 100000.0 / double(elapsedMs)) / 100.0;  // 2 decimals
}

QJsonObject connectionItem(const ws2api::ConnectionInfo &info)
{
    return {{u"clientId"_s, QString::fromUtf8(info.clientId)},
            {u"remote"_s, info.remote},
            {u"protocol"_s, info.protocol},
            {u"connectedAt"_s, isoUtc(info.connectedAtMs)},
            {u"messagesIn"_s, qint64(info.messagesIn)},
            {u"messagesOut"_s, qint64(info.messagesOut)},
            {u"lastActivity"_s, isoUtc(info.lastActivityMs)}};
}

// Where QLocalServer puts a socket named `name` (qlocalserver_unix.cpp).
QString socketPath(const QString &name)
{
    return name.startsWith(u'/') ? name : QDir::cleanPath(QDir::tempPath()) + u'/' + name;
}

} // namespace

struct AdminServer::Connection
{
    int number = 0;  // for the log
    QString peer;    // who connected ("alice (uid 1000)"), for the log of their actions

    // "admin connection #3 (alice (uid 1000))", the start of its log lines.
    QString name() const
    {
        const QString base = u"admin connection #%1"_s.arg(number);
        return peer.isEmpty() ? base : base + u" ("_s + peer + u')';
    }
    proto::LineReader reader;
    QTimer *subscription = nullptr;  // a child of the socket
};

AdminServer::AdminServer(ws2api::Proxy *proxy, const ws2api::ProxyConfig &config, const QString &daemonVersion,
                         QObject *parent)
    : QObject(parent), m_proxy(proxy), m_config(config), m_daemonVersion(daemonVersion),
      m_server(std::make_unique<QLocalServer>())
{
    connect(m_server.get(), &QLocalServer::newConnection, this, &AdminServer::accept);
    m_sampler.setInterval(1000);
    connect(&m_sampler, &QTimer::timeout, this, &AdminServer::sample);
}

AdminServer::~AdminServer()
{
    // The sockets are children of m_server; their pending callbacks see null guards.
    m_connections.clear();
    m_server.reset();
}

bool AdminServer::listen(const QString &name, const QString &group, QString *error)
{
    if (!group.isEmpty() && !ws2api::platform::checkGroup(group, error))
        return false;
    const QString path = socketPath(name);
    // removeServer() would take the socket from a live daemon; only a stale one goes.
    if (ws2api::platform::localSocketInUse(path)) {
        *error = u"%1 is in use by another process (another ws2apid? see --admin)"_s.arg(path);
        return false;
    }
    QLocalServer::removeServer(name);
    m_server->setSocketOptions(group.isEmpty() ? QLocalServer::UserAccessOption
                                               : QLocalServer::UserAccessOption | QLocalServer::GroupAccessOption);
    if (!m_server->listen(name)) {
        *error = u"cannot listen on %1: %2"_s.arg(path, m_server->errorString());
        return false;
    }
    if (!group.isEmpty() && !ws2api::platform::shareWithGroup(m_server->fullServerName(), group, error)) {
        m_server->close();
        return false;
    }
    m_lastSample = m_proxy->stats();
    m_sampledAt.start();
    m_sampler.start();
    qCInfo(lcAdmin).noquote() << "admin interface on" << m_server->fullServerName()
                              << (group.isEmpty() ? u"(owner only)"_s : u"(owner and group %1)"_s.arg(group));
    return true;
}

QString AdminServer::fullServerName() const
{
    return m_server->fullServerName();
}

int AdminServer::subscriberCount() const
{
    int count = 0;
    for (const auto &connection : m_connections)
        count += connection->subscription ? 1 : 0;
    return count;
}

void AdminServer::accept()
{
    while (QLocalSocket *socket = m_server->nextPendingConnection()) {
        auto connection = std::make_shared<Connection>();
        connection->number = ++m_accepted;
        connection->peer = ws2api::platform::localPeer(socket->socketDescriptor());
        m_connections.insert(socket, connection);
        qCInfo(lcAdmin).noquote() << connection->name() << "opened";
        connect(socket, &QLocalSocket::readyRead, this, [this, socket] { readFrom(socket); });
        connect(socket, &QLocalSocket::disconnected, this, [this, socket] { drop(socket); });
        // Every error ends in disconnected(), which drops the connection.
        connect(socket, &QLocalSocket::errorOccurred, this, [socket](QLocalSocket::LocalSocketError e) {
            if (e != QLocalSocket::PeerClosedError)
                qCDebug(lcAdmin).noquote() << "admin connection:" << socket->errorString();
        });
    }
}

void AdminServer::readFrom(QLocalSocket *socket)
{
    const std::shared_ptr<Connection> connection = m_connections.value(socket);
    if (!connection)
        return;
    connection->reader.feed(socket->readAll());
    QByteArray line;
    // An answer may drop the connection (its output over the cap): then stop reading it.
    while (m_connections.contains(socket)) {
        switch (connection->reader.next(&line)) {
        case proto::LineReader::Status::Incomplete:
            return;
        case proto::LineReader::Status::TooLong:
            send(socket, proto::encodeError(std::nullopt, u"line_too_long"_s,
                                            u"a line is at most %1 bytes"_s.arg(proto::MaxLineBytes)));
            break;
        case proto::LineReader::Status::Line:
            handleLine(socket, line);
            break;
        }
    }
}

void AdminServer::handleLine(QLocalSocket *socket, const QByteArray &line)
{
    using Handler = void (AdminServer::*)(QLocalSocket *, qint64, const QJsonObject &);
    static const QHash<QString, Handler> handlers = {
        {u"hello"_s, &AdminServer::hello},
        {u"stats"_s, &AdminServer::stats},
        {u"connections"_s, &AdminServer::connections},
        {u"push"_s, &AdminServer::push},
        {u"disconnect"_s, &AdminServer::disconnectClient},
        {u"subscribe"_s, &AdminServer::subscribe},
        {u"unsubscribe"_s, &AdminServer::unsubscribe},
    };
    QString error;
    std::optional<qint64> id;
    const std::optional<proto::Request> request = proto::parseRequest(line, &error, &id);
    if (!request)
        return send(socket, proto::encodeError(id, BadRequest, error));
    const Handler handler = handlers.value(request->type);
    if (!handler)
        return send(socket, proto::encodeError(id, u"unknown_type"_s,
                                               u"unknown type \"%1\""_s.arg(request->type)));
    (this->*handler)(socket, *request->id, request->body);
}

void AdminServer::send(QLocalSocket *socket, const QByteArray &line)
{
    const std::shared_ptr<Connection> connection = m_connections.value(socket);
    if (!connection)
        return;  // gone while its answer was being made
    socket->write(line);
    // Now rather than on the next loop pass: Qt drops unsent output when it reads the
    // peer's EOF, and `echo '{...}' | socat - UNIX-CONNECT:...` sends its EOF at once.
    socket->flush();
    if (socket->bytesToWrite() > MaxBufferedBytes) {
        qCWarning(lcAdmin, "admin connection #%d does not read its answers (%lld bytes waiting), dropping it",
                  connection->number, socket->bytesToWrite());
        drop(socket);
    }
}

void AdminServer::drop(QLocalSocket *socket)
{
    const std::shared_ptr<Connection> connection = m_connections.take(socket);
    if (!connection)
        return;
    qCInfo(lcAdmin).noquote() << connection->name() << "closed";
    socket->disconnect(this);  // abort() below must not come back here
    socket->abort();
    socket->deleteLater();
}

void AdminServer::sample()
{
    const ws2api::ProxyStats now = m_proxy->stats();
    const qint64 elapsedMs = m_sampledAt.restart();
    m_messagesInPerS = perSecond(now.messagesIn, m_lastSample.messagesIn, elapsedMs);
    m_messagesOutPerS = perSecond(now.messagesOut, m_lastSample.messagesOut, elapsedMs);
    m_lastSample = now;
}

QJsonObject AdminServer::statsBody() const
{
    const ws2api::ProxyStats s = m_proxy->stats();
    return {{u"connections"_s, s.connections},
            {u"messagesIn"_s, qint64(s.messagesIn)},
            {u"messagesOut"_s, qint64(s.messagesOut)},
            {u"messagesInPerS"_s, m_messagesInPerS},
            {u"messagesOutPerS"_s, m_messagesOutPerS},
            {u"apiRequests"_s, qint64(s.apiRequests)},
            {u"apiErrors"_s, qint64(s.apiErrors)},
            {u"apiLatencyP50Ms"_s, s.apiLatencyP50Ms},
            {u"apiLatencyP99Ms"_s, s.apiLatencyP99Ms},
            {u"pushes"_s, qint64(s.pushes)},
            {u"pushesDelivered"_s, qint64(s.pushesDelivered)}};
}

void AdminServer::hello(QLocalSocket *socket, qint64 id, const QJsonObject &body)
{
    const std::optional<qint64> version = proto::integerValue(body.value("version"_L1));
    if (version != proto::ProtocolVersion) {
        const QString message = u"this daemon speaks admin protocol version %1"_s.arg(proto::ProtocolVersion);
        return send(socket, proto::encodeError(id, u"unsupported_version"_s, message));
    }
    const bool ocpp = m_config.mode == ws2api::ProxyConfig::Mode::Ocpp;
    send(socket, proto::encodeReply(id, {
        {u"version"_s, proto::ProtocolVersion},
        {u"daemonVersion"_s, m_daemonVersion},
        {u"mode"_s, ocpp ? u"ocpp"_s : u"plain"_s},
        {u"listen"_s, formatEndpoint(m_config.listenAddress, m_proxy->listenPort())},
        {u"uptimeS"_s, qMax<qint64>(0, (QDateTime::currentMSecsSinceEpoch() - m_proxy->startedAtMs()) / 1000)},
    }));
}

void AdminServer::stats(QLocalSocket *socket, qint64 id, const QJsonObject &)
{
    send(socket, proto::encodeReply(id, statsBody()));
}

void AdminServer::connections(QLocalSocket *socket, qint64 id, const QJsonObject &body)
{
    QString filter;
    QString sort = u"clientId"_s;
    qint64 offset = 0;
    qint64 limit = DefaultPageSize;
    QString why;
    if (!readString(body, "filter"_L1, &filter, &why) || !readInteger(body, "offset"_L1, 0, INT_MAX, &offset, &why)
        || !readInteger(body, "limit"_L1, 0, MaxPageSize, &limit, &why)
        || !readString(body, "sort"_L1, &sort, &why))
        return send(socket, proto::encodeError(id, BadRequest, why));
    if (sort != u"clientId")
        return send(socket, proto::encodeError(id, BadRequest, u"sort: only \"clientId\""_s));
    const QPointer<QLocalSocket> guard(socket);
    m_proxy->connections(filter, offset, limit, [this, guard, id](const ws2api::ConnectionPage &page) {
        if (!guard)  // the admin connection, or the whole server, is gone
            return;
        QJsonArray items;
        for (const ws2api::ConnectionInfo &info : page.items)
            items.append(connectionItem(info));
        send(guard, proto::encodeReply(id, {{u"total"_s, qint64(page.total)}, {u"items"_s, items}}));
    });
}

void AdminServer::push(QLocalSocket *socket, qint64 id, const QJsonObject &body)
{
    ws2api::AdminPush push;
    QString clientId, message, action, messageId;
    QString why;
    bool ok = requireString(body, "clientId"_L1, &clientId, &why);
    if (ok && m_config.mode == ws2api::ProxyConfig::Mode::Plain) {
        ok = readString(body, "message"_L1, &message, &why) && readBool(body, "binary"_L1, &push.binary, &why);
        if (ok && !body.contains("message"_L1)) {
            ok = false;
            why = u"message: needed"_s;
        }
        push.message = message.toUtf8();
    } else if (ok) {
        const QJsonValue payload = body.value("payload"_L1);
        ok = requireString(body, "action"_L1, &action, &why) && readString(body, "messageId"_L1, &messageId, &why);
        if (ok && !payload.isObject() && !payload.isString()) {
            ok = false;
            why = u"payload: a JSON object, or a string holding JSON"_s;
        }
        push.action = action.toUtf8();
        // Made here rather than by the mode, so that the reply can name it.
        if (messageId.isEmpty())
            messageId = QUuid::createUuid().toString(QUuid::WithoutBraces);
        push.messageId = messageId.toUtf8();
        push.payload = payload.isObject() ? QJsonDocument(payload.toObject()).toJson(QJsonDocument::Compact)
                                          : payload.toString().toUtf8();  // the proxy checks it is JSON
    }
    if (!ok)
        return send(socket, proto::encodeError(id, BadRequest, why));
    push.clientId = clientId.toUtf8();
    const QPointer<QLocalSocket> guard(socket);
    const QString who = m_connections.value(socket)->name();
    m_proxy->push(push, [this, guard, id, clientId, messageId, who](int status, const QByteArray &answer) {
        const QString text = QString::fromUtf8(answer);
        // An operator's action: always logged, unlike the API's pushes (debug).
        QString line = u"%1 pushed to %2: status %3"_s.arg(who, ws2api::quotedForLog(clientId)).arg(status);
        if (!messageId.isEmpty())
            line += u" MessageId "_s + ws2api::quotedForLog(messageId);
        if (!text.isEmpty())
            line += u' ' + ws2api::quotedForLog(text);
        qCInfo(lcAdmin).noquote() << line;
        if (!guard)
            return;
        if (status == 200) {
            QJsonObject body{{u"status"_s, status}, {u"message"_s, text}};
            if (!messageId.isEmpty())
                body.insert(u"messageId"_s, messageId);
            send(guard, proto::encodeReply(id, body));
        }
        else if (status == 404)
            send(guard, proto::encodeError(id, UnknownClient, u"\"%1\" is not connected"_s.arg(clientId)));
        else
            send(guard, proto::encodeError(id, u"push_failed"_s, u"status %1: %2"_s.arg(status).arg(text)));
    });
}

void AdminServer::disconnectClient(QLocalSocket *socket, qint64 id, const QJsonObject &body)
{
    QString clientId, reason;
    qint64 code = 1000;
    QString why;
    if (!requireString(body, "clientId"_L1, &clientId, &why)
        || !readInteger(body, "code"_L1, 1000, 4999, &code, &why)
        || !readString(body, "reason"_L1, &reason, &why))
        return send(socket, proto::encodeError(id, BadRequest, why));
    if (!isSendableCloseCode(code))
        return send(socket, proto::encodeError(id, BadRequest, u"code: %1 is reserved"_s.arg(code)));
    if (reason.toUtf8().size() > MaxReasonBytes)
        return send(socket, proto::encodeError(id, BadRequest, u"reason: at most %1 bytes"_s.arg(MaxReasonBytes)));
    const bool done = m_proxy->disconnectClient(clientId.toUtf8(), int(code), reason);
    qCInfo(lcAdmin).noquote() << u"%1 disconnected %2 with code %3 reason %4%5"_s.arg(
        m_connections.value(socket)->name(), ws2api::quotedForLog(clientId), QString::number(code),
        ws2api::quotedForLog(reason), done ? QString() : u" (not connected)"_s);
    if (!done)
        return send(socket, proto::encodeError(id, UnknownClient, u"\"%1\" is not connected"_s.arg(clientId)));
    send(socket, proto::encodeReply(id, {}));
}

void AdminServer::subscribe(QLocalSocket *socket, qint64 id, const QJsonObject &body)
{
    qint64 intervalMs = 1000;
    QString why;
    if (!readInteger(body, "intervalMs"_L1, MinIntervalMs, MaxIntervalMs, &intervalMs, &why))
        return send(socket, proto::encodeError(id, BadRequest, why));
    Connection *connection = m_connections.value(socket).get();
    if (!connection->subscription) {
        connection->subscription = new QTimer(socket);
        connect(connection->subscription, &QTimer::timeout, this, [this, socket] {
            send(socket, proto::encodeEvent(u"stats"_s, statsBody()));
        });
    }
    connection->subscription->start(int(intervalMs));  // again: the new interval
    send(socket, proto::encodeReply(id, {{u"intervalMs"_s, intervalMs}}));
}

void AdminServer::unsubscribe(QLocalSocket *socket, qint64 id, const QJsonObject &)
{
    Connection *connection = m_connections.value(socket).get();
    delete connection->subscription;
    connection->subscription = nullptr;
    send(socket, proto::encodeReply(id, {}));
}

} // namespace ws2apid
