// Scale-out as shipped: three real ws2apid daemons behind the real HAProxy (Debian's)
// running packaging/haproxy/ws2api.cfg unchanged, its site values from the
// environment, and behind the real nginx running packaging/nginx/ws2api.conf with
// its SITE values replaced. Clients come in over wss (TLS ends at the balancer),
// pushes go through it to the daemon that holds the client, in plain and in ocpp
// mode; then one daemon stops and its clients come back on the others.
#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QSslCipher>
#include <QSslConfiguration>
#include <QSslKey>
#include <QSslSocket>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QWebSocket>
#include <QWebSocketHandshakeOptions>

#include <csignal>
#include <map>
#include <memory>

#include "DaemonProcess.h"
#include "FakeApi.h"
#include "TestPki.h"

using namespace Qt::Literals::StringLiterals;
using ws2api::test::DaemonProcess;
using ws2api::test::FakeApi;
using ws2api::test::FakeReply;
using ws2api::test::RecordedRequest;
using ws2api::test::TestPki;

namespace {

constexpr int Clients = 300;
constexpr int Nodes = 3;

QString clientId(int i)
{
    return u"CP-%1"_s.arg(i);
}

// A port free a moment ago, for HAProxy, which cannot report one it chose itself.
quint16 freePort()
{
    QTcpServer server;
    return server.listen(QHostAddress::LocalHost) ? server.serverPort() : 0;
}

// A push sent the stations' way, dressed as an upgrade: the status line's code.
int forgedPush(quint16 port, const QSslConfiguration &tls, const QString &clientId)
{
    QSslSocket socket;
    socket.setSslConfiguration(tls);
    socket.connectToHostEncrypted(u"127.0.0.1"_s, port);
    if (!socket.waitForEncrypted(10000))
        return -1;
    socket.write("POST /" + clientId.toUtf8() + " HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\nContent-Length: 6\r\n\r\nforged");
    QByteArray answer;
    while (!answer.contains("\r\n") && socket.waitForReadyRead(10000))
        answer += socket.readAll();
    const QList<QByteArray> status = answer.split(' ');
    return status.size() > 1 ? status.at(1).toInt() : 0;
}

bool listening(quint16 port)
{
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, port);
    return socket.waitForConnected(500);
}

// One station or client as the test drives it.
struct Client
{
    std::unique_ptr<QWebSocket> socket;
    QList<QString> received;
    bool open = false;
    bool failed = false;
};

} // namespace

class TestHaproxy : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void scaleOut_data();
    void scaleOut();
    void refusesWhatTheProfilesForbid();
    void cleanup();

private:
    bool startAll(bool ocpp, const QString &balancer = u"haproxy"_s);
    bool startNginx(const QList<quint16> &nodes);
    void openClient(int i, bool ocpp);
    void pushToAll(const QList<int> &which, bool ocpp, int round);
    QNetworkReply *push(int i, bool ocpp, int round);
    std::map<QString, int> nodeOfClient(int except = -1) const;

    TestPki m_pki;
    std::unique_ptr<FakeApi> m_api;
    std::vector<std::unique_ptr<DaemonProcess>> m_daemons;
    std::unique_ptr<QProcess> m_haproxy;
    std::unique_ptr<QProcess> m_nginx;
    QString m_certHeader;  // what the balancer passes a client certificate in
    QTemporaryDir m_nginxDir;
    quint16 m_wssPort = 0;
    quint16 m_pushPort = 0;
    std::vector<Client> m_clients;
    QNetworkAccessManager m_http;
};

void TestHaproxy::initTestCase()
{
    if (!QFile::exists(QStringLiteral(HAPROXY_PATH)))
        QSKIP("haproxy is not installed (scripts/install-deps installs it)");
    QStringList ids;
    for (int i = 0; i < Clients; ++i)
        ids.append(clientId(i));
    QVERIFY(m_pki.make(ids));
}

bool TestHaproxy::startAll(bool ocpp, const QString &balancer)
{
    // HAProxy passes RFC 9440's Client-Cert; stock nginx can only pass escaped PEM.
    m_certHeader = balancer == u"nginx" ? u"X-Client-Cert"_s : u"Client-Cert"_s;
    m_api = std::make_unique<FakeApi>();
    m_api->setHandler([](const RecordedRequest &r) {
        if (r.path.endsWith("/connect"))
            return FakeReply{200, "\"ok\"", {}, false, false, false, 0};
        return FakeReply{r.method == "GET" ? 200 : 204, r.method == "GET" ? "ok" : "", {}, false, false, false, 0};
    });
    if (!m_api->listen())
        return false;
    QStringList arguments{u"--listen"_s, u"127.0.0.1:0"_s, u"--api"_s, m_api->url(u"/api"_s).toString(),
                          u"--admin"_s, u"none"_s, u"--threads"_s, u"1"_s, u"--forward-headers"_s, m_certHeader};
    if (ocpp)
        arguments << u"--mode"_s << u"ocpp"_s << u"--default-subprotocol"_s << u"ocpp1.6"_s;
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    m_daemons.clear();
    QList<quint16> nodes;
    for (int n = 1; n <= Nodes; ++n) {
        auto daemon = std::make_unique<DaemonProcess>(QStringLiteral(WS2APID_PATH));
        const quint16 port = daemon->start(arguments);
        if (port == 0)
            return false;
        environment.insert(u"WS2API_NODE%1"_s.arg(n), u"127.0.0.1:%1"_s.arg(port));
        nodes.append(port);
        m_daemons.push_back(std::move(daemon));
    }
    m_wssPort = freePort();
    m_pushPort = freePort();
    if (balancer == u"nginx")
        return startNginx(nodes);
    environment.insert(u"WS2API_BIND"_s, u"127.0.0.1:%1"_s.arg(m_wssPort));
    environment.insert(u"WS2API_PUSH_BIND"_s, u"127.0.0.1:%1"_s.arg(m_pushPort));
    environment.insert(u"WS2API_CERT"_s, m_pki.path(u"server.pem"_s));
    environment.insert(u"WS2API_CLIENT_CA"_s, m_pki.path(u"ca.crt"_s));
    m_haproxy = std::make_unique<QProcess>();
    m_haproxy->setProcessEnvironment(environment);
    m_haproxy->setProcessChannelMode(QProcess::ForwardedErrorChannel);
    m_haproxy->start(QStringLiteral(HAPROXY_PATH), {u"-db"_s, u"-f"_s, QStringLiteral(HAPROXY_CONFIG)});
    return m_haproxy->waitForStarted();
}

// packaging/nginx/ws2api.conf with its SITE values replaced, inside the smallest
// nginx.conf that runs it unprivileged-free in a temporary folder.
bool TestHaproxy::startNginx(const QList<quint16> &nodes)
{
    QFile shipped(QStringLiteral(NGINX_CONFIG));
    if (!shipped.open(QIODevice::ReadOnly) || !m_nginxDir.isValid())
        return false;
    QString site = QString::fromUtf8(shipped.readAll());
    for (int n = 0; n < nodes.size(); ++n)
        site.replace(u"server 10.0.0.1%1:4000"_s.arg(n + 1), u"server 127.0.0.1:%1"_s.arg(nodes[n]));
    site.replace(u"listen 443 ssl;"_s, u"listen 127.0.0.1:%1 ssl;"_s.arg(m_wssPort));
    site.replace(u"listen 10.0.0.10:4001;"_s, u"listen 127.0.0.1:%1;"_s.arg(m_pushPort));
    for (const QString &kind : {u"rsa"_s, u"ecdsa"_s}) {  // both slots get the test's EC certificate
        site.replace(u"/etc/ws2api/tls/%1.pem"_s.arg(kind), m_pki.path(u"server.crt"_s));
        site.replace(u"/etc/ws2api/tls/%1.key"_s.arg(kind), m_pki.path(u"server.key"_s));
    }
    site.replace(u"/etc/ws2api/tls/client-ca.pem"_s, m_pki.path(u"ca.crt"_s));
    QFile siteFile(m_nginxDir.filePath(u"ws2api.conf"_s));
    QFile main(m_nginxDir.filePath(u"nginx.conf"_s));
    if (!siteFile.open(QIODevice::WriteOnly) || !main.open(QIODevice::WriteOnly))
        return false;
    siteFile.write(site.toUtf8());
    main.write(u"daemon off;\nmaster_process on;\nworker_processes 1;\npid %1/nginx.pid;\n"
               "error_log stderr warn;\nevents { worker_connections 4096; }\nhttp {\n    access_log off;\n"
               "    client_body_temp_path %1/body;\n    proxy_temp_path %1/proxy;\n    include %1/ws2api.conf;\n}\n"_s
                   .arg(m_nginxDir.path())
                   .toUtf8());
    main.close();
    m_nginx = std::make_unique<QProcess>();
    m_nginx->setProcessChannelMode(QProcess::ForwardedErrorChannel);
    m_nginx->start(QStringLiteral(NGINX_PATH), {u"-p"_s, m_nginxDir.path(), u"-c"_s, main.fileName()});
    return m_nginx->waitForStarted();
}

void TestHaproxy::openClient(int i, bool ocpp)
{
    Client &c = m_clients[size_t(i)];
    c = Client{std::make_unique<QWebSocket>(), {}, false, false};
    QWebSocket *socket = c.socket.get();
    connect(socket, &QWebSocket::connected, this, [this, i] { m_clients[size_t(i)].open = true; });
    connect(socket, qOverload<QAbstractSocket::SocketError>(&QWebSocket::error), this, [this, i] { m_clients[size_t(i)].failed = true; });
    connect(socket, &QWebSocket::textMessageReceived, this, [this, i, socket](const QString &text) {
        m_clients[size_t(i)].received.append(text);
        const QJsonArray call = QJsonDocument::fromJson(text.toUtf8()).array();
        if (call.at(0).toInt() == 2) {  // a station answers a CALL from the central system
            const QJsonArray result{3, call.at(1), QJsonObject{{u"status"_s, u"Accepted"_s}}};
            socket->sendTextMessage(QString::fromUtf8(QJsonDocument(result).toJson(QJsonDocument::Compact)));
        }
    });
    // Profile 3 in ocpp mode: a client certificate per station. Plain mode: Basic
    // auth (profile 2), and a forged Client-Cert that HAProxy must not pass on.
    socket->setSslConfiguration(m_pki.clientTls(ocpp ? clientId(i) : QString()));
    QNetworkRequest request(QUrl(u"wss://127.0.0.1:%1/ocpp/%2"_s.arg(m_wssPort).arg(clientId(i))));
    if (!ocpp) {
        request.setRawHeader("Authorization", "Basic " + (clientId(i) + u":secret"_s).toUtf8().toBase64());
        request.setRawHeader("Client-Cert", ":Zm9yZ2Vk:");
    }
    QWebSocketHandshakeOptions options;
    if (ocpp)
        options.setSubprotocols({u"ocpp1.6"_s});
    socket->open(request, options);
}

QNetworkReply *TestHaproxy::push(int i, bool ocpp, int round)
{
    const QString path = ocpp ? u"/call/Reset/%1/m-%2-%3"_s.arg(clientId(i)).arg(round).arg(i)
                              : u"/"_s + clientId(i);
    QNetworkRequest request(QUrl(u"http://127.0.0.1:%1%2"_s.arg(m_pushPort).arg(path)));
    request.setRawHeader("Content-Type", ocpp ? "application/json" : "text/plain");
    const QByteArray body = ocpp ? R"({"type":"Soft"})"_ba : u"push %1 to %2"_s.arg(round).arg(clientId(i)).toUtf8();
    return m_http.post(request, body);
}

// Every push answered 200 and delivered to its own client (ocpp: its CALLRESULT
// reaches the API as /result/), nothing delivered twice or elsewhere.
void TestHaproxy::pushToAll(const QList<int> &which, bool ocpp, int round)
{
    for (int i : which)
        m_clients[size_t(i)].received.clear();
    const qsizetype resultsBefore = m_api->requestCount();
    std::vector<std::unique_ptr<QNetworkReply>> replies;
    for (int i : which)
        replies.emplace_back(push(i, ocpp, round));
    for (size_t k = 0; k < replies.size(); ++k) {
        QNetworkReply *reply = replies[k].get();
        QTRY_VERIFY_WITH_TIMEOUT(reply->isFinished(), 30000);
        QVERIFY2(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt() == 200,
                 qPrintable(u"push to %1: %2 %3"_s.arg(clientId(which[qsizetype(k)]))
                                .arg(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt())
                                .arg(QString::fromUtf8(reply->readAll()))));
    }
    for (int i : which) {
        const Client &c = m_clients[size_t(i)];
        QTRY_COMPARE_WITH_TIMEOUT(c.received.size(), 1, 30000);
        if (ocpp) {
            const QJsonArray call = QJsonDocument::fromJson(c.received.first().toUtf8()).array();
            QCOMPARE(call.at(1).toString(), u"m-%1-%2"_s.arg(round).arg(i));
        } else {
            QCOMPARE(c.received.first(), u"push %1 to %2"_s.arg(round).arg(clientId(i)));
        }
    }
    if (!ocpp)
        return;
    const auto results = [&] {
        QSet<QByteArray> paths;
        for (const RecordedRequest &r : m_api->requests().mid(resultsBefore)) {
            if (r.path.startsWith("/api/result/"))
                paths.insert(r.path);
        }
        return paths;
    };
    QTRY_COMPARE_WITH_TIMEOUT(results().size(), which.size(), 30000);
    for (int i : which)
        QVERIFY(results().contains(u"/api/result/Reset/%1/m-%2-%3"_s.arg(clientId(i)).arg(round).arg(i).toUtf8()));
}

// Which daemon took which client, from the daemons' own connect log lines (but
// `except`'s).
std::map<QString, int> TestHaproxy::nodeOfClient(int except) const
{
    static const QRegularExpression line(uR"re(client "(CP-\d+)" from \S+ connected)re"_s);
    std::map<QString, int> nodes;
    for (size_t n = 0; n < m_daemons.size(); ++n) {
        if (int(n) == except)
            continue;
        for (auto it = line.globalMatch(QString::fromUtf8(m_daemons[n]->errorOutput())); it.hasNext();)
            nodes[it.next().captured(1)] = int(n);
    }
    return nodes;
}

void TestHaproxy::scaleOut_data()
{
    QTest::addColumn<QString>("balancer");
    QTest::addColumn<bool>("ocpp");
    QTest::addRow("haproxy plain") << u"haproxy"_s << false;
    QTest::addRow("haproxy ocpp") << u"haproxy"_s << true;
    QTest::addRow("nginx plain") << u"nginx"_s << false;
    QTest::addRow("nginx ocpp") << u"nginx"_s << true;
}

void TestHaproxy::scaleOut()
{
    QFETCH(QString, balancer);
    QFETCH(bool, ocpp);
    if (balancer == u"nginx" && !QFile::exists(QStringLiteral(NGINX_PATH)))
        QSKIP("nginx is not installed (scripts/install-deps installs it)");
    QVERIFY(startAll(ocpp, balancer));
    QTRY_VERIFY_WITH_TIMEOUT(listening(m_wssPort) && listening(m_pushPort), 10000);

    m_clients.clear();
    m_clients.resize(Clients);
    for (int i = 0; i < Clients; ++i)
        openClient(i, ocpp);
    const auto allOpen = [this] {
        return std::all_of(m_clients.begin(), m_clients.end(), [](const Client &c) { return c.open; });
    };
    QTRY_VERIFY_WITH_TIMEOUT(allOpen(), 60000);

    // The API saw each client's own certificate (ocpp) or Basic auth (plain), and
    // never a Client-Cert the client made up.
    std::map<QByteArray, RecordedRequest> connects;
    for (const RecordedRequest &r : m_api->requests())
        connects[ocpp ? r.body : r.path] = r;
    for (int i = 0; i < Clients; ++i) {
        const QByteArray key = ocpp ? "\"" + clientId(i).toUtf8() + "\"" : "/api/" + clientId(i).toUtf8();
        QVERIFY2(connects.count(key), key.constData());
        const RecordedRequest &r = connects[key];
        const QByteArray certHeader = r.header(m_certHeader.toLatin1());
        if (ocpp && m_certHeader == u"Client-Cert") {
            QCOMPARE(certHeader, ":" + m_pki.certificate(clientId(i)).toDer().toBase64() + ":");
        } else if (ocpp) {
            QCOMPARE(QSslCertificate(QByteArray::fromPercentEncoding(certHeader)), m_pki.certificate(clientId(i)));
        } else {
            QCOMPARE(r.header("Authorization"), "Basic " + (clientId(i) + u":secret"_s).toUtf8().toBase64());
            QVERIFY(certHeader.isEmpty());
            QVERIFY(r.header("Client-Cert").isEmpty());
        }
    }
    // Spread over the three daemons by the hash of the ClientId.
    QTRY_COMPARE(nodeOfClient().size(), size_t(Clients));
    std::map<QString, int> before = nodeOfClient();
    QList<int> perNode(Nodes, 0);
    for (const auto &[id, node] : before)
        ++perNode[node];
    QVERIFY2(!perNode.contains(0), qPrintable(u"clients per daemon: %1, %2, %3"_s.arg(perNode[0]).arg(perNode[1]).arg(perNode[2])));

    QList<int> everyone;
    for (int i = 0; i < Clients; ++i)
        everyone.append(i);
    pushToAll(everyone, ocpp, 1);

    // A station cannot push to another through the stations' side.
    const int forged = forgedPush(m_wssPort, m_pki.clientTls({}), clientId(5));
    QVERIFY2(forged >= 400, qPrintable(u"a push through the stations' port got %1"_s.arg(forged)));
    QCOMPARE(m_clients[5].received.size(), 1);

    // One daemon stops: its clients are closed with 1001 and come back through
    // HAProxy, which hashes them (and pushes to them) to the other two.
    constexpr int Stopped = 1;
    QList<int> orphans;
    for (int i = 0; i < Clients; ++i) {
        if (before[clientId(i)] == Stopped)
            orphans.append(i);
    }
    m_daemons[Stopped]->signal(SIGTERM);
    QVERIFY(m_daemons[Stopped]->waitForExit());
    for (int i : orphans) {
        QTRY_VERIFY(m_clients[size_t(i)].socket->state() == QAbstractSocket::UnconnectedState);
        QCOMPARE(int(m_clients[size_t(i)].socket->closeCode()), 1001);
    }
    const auto reconnectOrphans = [&] {  // as a station retries until it gets in
        bool all = true;
        for (int i : orphans) {
            const Client &c = m_clients[size_t(i)];
            if (c.open && c.socket->state() == QAbstractSocket::ConnectedState)
                continue;
            all = false;
            if (c.failed || c.socket->state() == QAbstractSocket::UnconnectedState)
                openClient(i, ocpp);
        }
        return all;
    };
    for (int i : orphans)
        m_clients[size_t(i)].open = false;
    QTRY_VERIFY_WITH_TIMEOUT(reconnectOrphans(), 60000);
    const std::map<QString, int> after = nodeOfClient(Stopped);
    for (int i : orphans)
        QVERIFY(after.count(clientId(i)));
    pushToAll(everyone, ocpp, 2);

    // A client that left: 404 through HAProxy, as from the daemon itself.
    const qsizetype requests = m_api->requestCount();
    m_clients[0].socket->close();
    QTRY_VERIFY(m_api->requestCount() > requests);  // the API heard of it
    std::unique_ptr<QNetworkReply> gone(push(0, ocpp, 3));
    QTRY_VERIFY(gone->isFinished());
    QCOMPARE(gone->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 404);

}

// What OCPP security profiles 2 and 3 forbid: a certificate from an unknown CA, a
// cipher suite outside theirs, TLS older than 1.2. None gets as far as a daemon.
void TestHaproxy::refusesWhatTheProfilesForbid()
{
    QVERIFY(startAll(true));
    QTRY_VERIFY_WITH_TIMEOUT(listening(m_wssPort), 10000);
    TestPki other;
    QVERIFY(other.make({clientId(0)}));
    const auto tryOpen = [&](const QSslConfiguration &tls) {
        QWebSocket socket;
        socket.setSslConfiguration(tls);
        QSignalSpy opened(&socket, &QWebSocket::connected);
        QSignalSpy failed(&socket, qOverload<QAbstractSocket::SocketError>(&QWebSocket::error));
        QWebSocketHandshakeOptions options;
        options.setSubprotocols({u"ocpp1.6"_s});
        socket.open(QNetworkRequest(QUrl(u"wss://127.0.0.1:%1/ocpp/CP-0"_s.arg(m_wssPort))), options);
        return QTest::qWaitFor([&] { return opened.size() + failed.size() > 0; }, 10000) && opened.size() == 1;
    };
    QVERIFY(tryOpen(m_pki.clientTls(clientId(0))));  // the control: a good certificate gets in
    QSslConfiguration foreign = m_pki.clientTls({});
    foreign.setLocalCertificate(other.certificate(clientId(0)));
    foreign.setPrivateKey(QSslKey(other.read(clientId(0) + u".key"_s), QSsl::Ec));
    QVERIFY(!tryOpen(foreign));
    // TLS 1.2 with a suite OCPP does not list, then one it lists (the control).
    QSslConfiguration suite = m_pki.clientTls(clientId(0));
    suite.setProtocol(QSsl::TlsV1_2);
    suite.setCiphers({QSslCipher(u"ECDHE-ECDSA-CHACHA20-POLY1305"_s)});
    QVERIFY(!suite.ciphers().first().isNull());
    QVERIFY(!tryOpen(suite));
    suite.setCiphers({QSslCipher(u"ECDHE-ECDSA-AES128-GCM-SHA256"_s)});
    QVERIFY(tryOpen(suite));
    // TLS 1.1, from a client willing to speak it (Debian's openssl refuses it by
    // default, which would prove nothing about the server), then TLS 1.2.
    const auto handshake = [&](const QString &version) {
        QProcess client;
        client.start(u"openssl"_s, {u"s_client"_s, u"-connect"_s, u"127.0.0.1:%1"_s.arg(m_wssPort), version,
                                    u"-cipher"_s, u"DEFAULT@SECLEVEL=0"_s, u"-brief"_s});
        client.closeWriteChannel();
        return client.waitForFinished() && client.exitCode() == 0;
    };
    QVERIFY(!handshake(u"-tls1_1"_s));
    QVERIFY(handshake(u"-tls1_2"_s));
}

void TestHaproxy::cleanup()
{
    m_clients.clear();
    for (std::unique_ptr<QProcess> *balancer : {&m_haproxy, &m_nginx}) {
        if (*balancer && (*balancer)->state() != QProcess::NotRunning) {
            (*balancer)->terminate();
            (*balancer)->waitForFinished();
        }
        balancer->reset();
    }
    m_daemons.clear();
}

QTEST_GUILESS_MAIN(TestHaproxy)
#include "tst_haproxy.moc"
