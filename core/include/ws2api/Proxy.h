#pragma once

#include <QObject>
#include <QString>
#include <memory>

#include "ws2api/ProxyConfig.h"

namespace ws2api {

class ProxyPrivate;

// Facade on the main thread: owns listeners, workers, registry and metrics.
class Proxy : public QObject
{
    Q_OBJECT
public:
    explicit Proxy(QObject *parent = nullptr);
    ~Proxy() override;

    // Blocks until every worker has started or one failed; on failure *error says why.
    bool start(const ProxyConfig &config, QString *error);

    // Stops accepting, closes clients with 1001, lets in-flight API requests finish
    // (up to the drain timeout), joins the workers, then emits stopped().
    void stop();

    // The bound addresses (useful with port 0).
    quint16 listenPort() const;
    quint16 pushPort() const;

    // Makes the calling thread's future event loops use the epoll dispatcher where
    // available; call before constructing QCoreApplication.
    static void installEventDispatcher();

Q_SIGNALS:
    void stopped();

private:
    std::unique_ptr<ProxyPrivate> d;
};

} // namespace ws2api
