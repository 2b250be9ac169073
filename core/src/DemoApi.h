#pragma once

#include <QTcpServer>

#include "ws2api/ProxyConfig.h"

namespace ws2api {

struct HttpRequest;
class HttpServerConnection;

// `--api demo:`: a real HTTP API on 127.0.0.1 inside the daemon, so a newcomer can
// try ws2api with nothing else running. Plain mode: accepts every client (`ok`) and
// echoes every message. OCPP mode: accepts every station and answers every CALL
// with `{}`. The proxy talks to it over loopback like to any API.
class DemoApi : public QTcpServer
{
    Q_OBJECT
public:
    DemoApi(ProxyConfig::Mode mode, qint64 maxBody, QObject *parent = nullptr);

    bool start(QString *error);  // 127.0.0.1, port 0

protected:
    void incomingConnection(qintptr descriptor) override;

private:
    void onRequest(HttpServerConnection *connection, const HttpRequest &request);

    ProxyConfig::Mode m_mode;
    qint64 m_maxBody;
};

} // namespace ws2api
