#include "TestProxy.h"

#include <QSignalSpy>
#include <QTest>
#include <QWebSocketHandshakeOptions>

namespace ws2api::test {

TestProxy::TestProxy()
{
    config.listenAddress = QHostAddress::LocalHost;
    config.listenPort = 0;
    config.threads = 2;
    config.adminName = QStringLiteral("none");
    config.apiTimeoutMs = 5000;
    config.drainTimeoutMs = 5000;
}

bool TestProxy::start(const QString &apiBasePath)
{
    if (api.port() == 0 && !api.listen())  // a test may have started it itself (listenTls)
        return false;
    if (config.api == ProxyConfig().api)
        config.api = api.url(apiBasePath);
    proxy = std::make_unique<Proxy>();
    QString error;
    if (!proxy->start(config, &error)) {
        qWarning("proxy did not start: %s", qPrintable(error));
        return false;
    }
    return true;
}

void TestProxy::stop()
{
    if (!proxy)
        return;
    QSignalSpy stopped(proxy.get(), &Proxy::stopped);
    proxy->stop();
    QTRY_COMPARE_WITH_TIMEOUT(stopped.size(), 1, 15000);
}

QUrl TestProxy::wsUrl(const QString &path) const
{
    return QUrl(QStringLiteral("ws://127.0.0.1:%1%2").arg(port()).arg(path));
}

std::unique_ptr<QWebSocket> TestProxy::connectClient(const QString &path, const QStringList &subprotocols)
{
    auto socket = std::make_unique<QWebSocket>();
    QSignalSpy connected(socket.get(), &QWebSocket::connected);
    QWebSocketHandshakeOptions options;
    options.setSubprotocols(subprotocols);
    socket->open(wsUrl(path), options);
    if (!connected.wait(10000) && connected.isEmpty())
        return nullptr;
    return socket;
}

} // namespace ws2api::test
