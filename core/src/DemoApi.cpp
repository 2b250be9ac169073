#include "DemoApi.h"

#include <QLoggingCategory>
#include <QTcpSocket>

#include "HttpResponse.h"
#include "HttpServerConnection.h"

Q_LOGGING_CATEGORY(lcDemo, "ws2api.demo", QtInfoMsg)

namespace ws2api {

DemoApi::DemoApi(ProxyConfig::Mode mode, qint64 maxBody, QObject *parent)
    : QTcpServer(parent)
    , m_mode(mode)
    , m_maxBody(maxBody)
{
}

bool DemoApi::start(QString *error)
{
    if (listen(QHostAddress::LocalHost, 0))
        return true;
    *error = QStringLiteral("demo API: cannot listen on 127.0.0.1: %1").arg(errorString());
    return false;
}

void DemoApi::incomingConnection(qintptr descriptor)
{
    auto *socket = new QTcpSocket;
    if (!socket->setSocketDescriptor(descriptor)) {
        delete socket;
        return;
    }
    new HttpServerConnection(
        socket, m_maxBody,
        [this](HttpServerConnection *c, const HttpRequest &r) { onRequest(c, r); },
        [](HttpServerConnection *c, HttpRequestReader::Error, const HttpHead &) {
            c->respond(HttpResponse::build(400, "bad request\n", {}, true), true);
        },
        this);
}

void DemoApi::onRequest(HttpServerConnection *connection, const HttpRequest &request)
{
    const QByteArray &method = request.head.method;
    if (m_mode == ProxyConfig::Mode::Ocpp) {
        // Every station is accepted and every CALL answered with an empty payload;
        // results, errors and SENDs are taken in silence.
        const QByteArray &path = request.head.path;
        const QList<QPair<QByteArray, QByteArray>> json = {{"Content-Type", "application/json"}};
        if (method == "POST" && path == "/connect")
            return connection->respond(HttpResponse::build(200, "\"ok\"", json), false);
        if (method == "POST" && path.startsWith("/call/"))
            return connection->respond(HttpResponse::build(200, "{}", json), false);
        return connection->respond(HttpResponse::build(204), false);
    }
    if (method == "GET")
        return connection->respond(HttpResponse::build(200, "ok"), false);
    if (method == "POST") {
        qCDebug(lcDemo) << "echo" << request.head.path << request.body.size() << "bytes";
        const QByteArray type = request.head.header("Content-Type");
        return connection->respond(
            HttpResponse::build(200, request.body, {{"Content-Type", type.isEmpty() ? "text/plain" : type}}),
            false);
    }
    connection->respond(HttpResponse::build(204), false);
}

} // namespace ws2api
