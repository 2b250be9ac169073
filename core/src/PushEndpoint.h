#pragma once

#include <QHostAddress>
#include <QList>
#include <QObject>
#include <QPair>

#include "HttpRequestReader.h"

class QTcpSocket;

namespace ws2api {

class HttpServerConnection;
class Worker;

// The push listener's HTTP side on one worker: POST pushes, GET /metrics and
// GET /healthz. Checks run in SPEC's order: source (403), token (401), size (413),
// body (400), client (404).
class PushEndpoint : public QObject
{
    Q_OBJECT
public:
    explicit PushEndpoint(Worker *worker);

    void adopt(QTcpSocket *socket);
    void closeAll();
    // Takes the worker's push token and allow list again (after a reload).
    void reconfigure();

private:
    void onRequest(HttpServerConnection *connection, const HttpRequest &request);
    void onError(HttpServerConnection *connection, HttpRequestReader::Error error,
                 const HttpHead &head);
    // 0 when the source and token may push; else the status to answer.
    int authorize(HttpServerConnection *connection, const HttpHead &head) const;
    void answer(HttpServerConnection *connection, int status, const QByteArray &body,
                bool close = false);

    Worker *m_worker;
    QList<QPair<QHostAddress, int>> m_allow;
    QByteArray m_token;  // --push-token; empty: none needed
};

} // namespace ws2api
