#pragma once

#include <QUrl>
#include <QWebSocket>
#include <memory>

#include "FakeApi.h"
#include "ws2api/Proxy.h"
#include "ws2api/ProxyConfig.h"

namespace ws2api::test {

// A real Proxy on 127.0.0.1 port 0 in front of a FakeApi, as the e2e suites use it.
struct TestProxy
{
    FakeApi api;
    std::unique_ptr<Proxy> proxy;
    ProxyConfig config;

    TestProxy();
    // Starts the FakeApi and the proxy; `apiBasePath` is appended to the API URL.
    bool start(const QString &apiBasePath = QStringLiteral("/"));
    void stop();  // drains and waits for stopped()
    quint16 port() const { return proxy->listenPort(); }
    quint16 pushPort() const { return proxy->pushPort(); }
    QUrl wsUrl(const QString &path) const;
    // A QWebSocket connected to `path`, offering `subprotocols`; nullptr if it did not open.
    std::unique_ptr<QWebSocket> connectClient(const QString &path, const QStringList &subprotocols = {});
};

} // namespace ws2api::test
