#include "DemoGreeter.h"

#include <QLoggingCategory>
#include <QSslConfiguration>
#include <QUrl>
#include <QWebSocket>
#include <QWebSocketHandshakeOptions>

Q_LOGGING_CATEGORY(lcDemoGreeter, "ws2api.demo")

namespace ws2apid {

DemoGreeter::DemoGreeter(const QHostAddress &listenAddress, quint16 port, bool tls, const QStringList &ocppVersions,
                         QObject *parent)
    : QObject(parent)
    , m_socket(new QWebSocket(QString(), QWebSocketProtocol::VersionLatest, this))
{
    const bool any = listenAddress == QHostAddress::Any || listenAddress == QHostAddress::AnyIPv4
        || listenAddress == QHostAddress::AnyIPv6;
    const QHostAddress target = any ? QHostAddress(QHostAddress::LocalHost) : listenAddress;
    QUrl url;
    url.setScheme(tls ? QStringLiteral("wss") : QStringLiteral("ws"));
    if (tls) {
        // It greets its own listener, whose certificate need not name this address.
        QSslConfiguration ssl = QSslConfiguration::defaultConfiguration();
        ssl.setPeerVerifyMode(QSslSocket::VerifyNone);
        m_socket->setSslConfiguration(ssl);
    }
    url.setHost(target.toString());
    url.setPort(port);
    url.setPath(QStringLiteral("/demo-greeter"));
    const bool ocpp = !ocppVersions.isEmpty();
    const QString message = ocpp ? QStringLiteral(R"([2,"1","Heartbeat",{}])")
                                 : QStringLiteral("hello from ws2api");
    connect(m_socket, &QWebSocket::connected, this, [this, message] { m_socket->sendTextMessage(message); });
    connect(m_socket, &QWebSocket::textMessageReceived, this, [this, url, message](const QString &echo) {
        const QString example = url.toString(QUrl::RemovePath) + QStringLiteral("/<ClientId>");
        qCInfo(lcDemoGreeter).noquote()
            << QStringLiteral("demo API works: sent \"%1\", got back \"%2\". Connect any WebSocket client to %3")
                   .arg(message, echo, example);
        emit greeted(echo);
        m_socket->close();
    });
    QWebSocketHandshakeOptions options;
    if (ocpp)
        options.setSubprotocols({ocppVersions.first()});
    m_socket->open(url, options);
}

} // namespace ws2apid
