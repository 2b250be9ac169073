#pragma once

#include <QByteArray>
#include <QHostAddress>
#include <QList>
#include <QPair>
#include <QSslCertificate>
#include <QSslKey>
#include <QString>
#include <QStringList>
#include <QUrl>

namespace ws2api {

// A plain struct of values: the daemon fills it from argv and INI, core never
// reads QSettings or argv. Every field has the SPEC default.
struct ProxyConfig
{
    enum class Mode { Plain, Ocpp };

    QHostAddress listenAddress = QHostAddress::Any;
    quint16 listenPort = 4000;

    // Unset (pushPort == 0 and !hasPushListener): pushes, /metrics and /healthz are
    // served on the WebSocket listener.
    bool hasPushListener = false;
    QHostAddress pushAddress = QHostAddress::Any;
    quint16 pushPort = 0;

    QUrl api = QUrl(QStringLiteral("http://127.0.0.1:5000/"));
    bool demoApi = false; // --api demo:
    // An https API's certificate is checked against these (--api-ca, read by the
    // daemon); empty: the system's store.
    QString apiCaFile;
    QList<QSslCertificate> apiCaCertificates;

    // Native TLS on --listen (and on the push listener with pushTls), read by the
    // daemon from --tls-cert/--tls-key: certificate chains, leaf first, and their
    // keys, pairwise (tlsKeys[i] is tlsChains[i]'s): one pair, or an RSA and an
    // ECDSA one. None: plaintext.
    enum class VerifyClient { None, Optional, Required };
    QList<QList<QSslCertificate>> tlsChains;
    QList<QSslKey> tlsKeys;
    QList<QSslCertificate> tlsClientCa;  // --tls-client-ca
    VerifyClient tlsVerifyClient = VerifyClient::None;
    bool pushTls = false;

    Mode mode = Mode::Plain;

    QByteArray pushToken;                       // empty: no token needed
    QList<QPair<QHostAddress, int>> pushAllow;  // empty: loopback and private ranges

    int threads = 0;  // 0: one per core
    QString adminName = QStringLiteral("ws2apid");  // "none" disables
    QString adminGroup;  // may use the admin socket too; empty: its owner only

    int apiTimeoutMs = 10000;
    int callTimeoutMs = 60000;
    int callQueue = 16;
    QStringList subprotocols = {QStringLiteral("ocpp2.1"), QStringLiteral("ocpp2.0.1"),
                                QStringLiteral("ocpp1.6")};
    QString defaultSubprotocol;
    qint64 maxMessage = 1048576;
    int pingIntervalMs = 30000;
    bool notifyDisconnect = true;
    // More upgrade-request headers passed on to the connect request, beyond the
    // SPEC's fixed list (e.g. Client-Cert set by a TLS-terminating balancer).
    QList<QByteArray> forwardHeaders;

    // --max-connections: WebSocket clients held plus upgrades the API is deciding on,
    // at most; beyond it 503 before the API is asked. 0: as many as the open files
    // limit leaves room for.
    qint64 maxConnections = 0;
    // --connect-rate N[,PER_SOURCE]: upgrades per second that may ask the API, in total
    // and per source address (an IPv6 /64 counts as one); the excess gets 503 with
    // Retry-After. 0: no limit.
    double connectRate = 0;
    double connectRatePerSource = 0;

    QString cpuProfile;
    QString memProfile;

    // Not in SPEC's option table; tunable here and by tests.
    int handshakeTimeoutMs = 10000;     // a request head must be complete by then
    qint64 sendQueueBytes = 4 << 20;    // per client; over it the client is closed 1008
    int maxPendingMessages = 1024;      // per client, waiting for the API; over it: 1008
    int apiPoolSize = 32;               // keep-alive connections per worker
    int apiPipeline = 1;                // requests in flight per API connection (1: no pipelining)
    int gatherDelayUs = 0;              // workers: after a pass that found sockets, wait this long (0: never)
    int apiMaxQueued = 100000;          // per worker, waiting for a pool connection
    int drainTimeoutMs = 10000;         // on stop: in-flight API requests may finish
    double connectBurst = 0;            // tokens of the connect-rate buckets; 0: one second's
    double connectBurstPerSource = 0;   // worth (at least 1)

    static QList<QPair<QHostAddress, int>> defaultPushAllow()
    {
        return {QHostAddress::parseSubnet(QStringLiteral("127.0.0.0/8")),
                QHostAddress::parseSubnet(QStringLiteral("::1/128")),
                QHostAddress::parseSubnet(QStringLiteral("10.0.0.0/8")),
                QHostAddress::parseSubnet(QStringLiteral("172.16.0.0/12")),
                QHostAddress::parseSubnet(QStringLiteral("192.168.0.0/16")),
                QHostAddress::parseSubnet(QStringLiteral("fc00::/7")),
                QHostAddress::parseSubnet(QStringLiteral("fe80::/10"))};
    }
};

} // namespace ws2api
