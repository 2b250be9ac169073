// Native TLS on --listen (wss) with Qt's own client: the OCPP cipher policy, client
// certificates (none, optional, required) reaching the API as RFC 9440 Client-Cert,
// new certificates taken on reload, failed handshakes counted and logged.
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QSslCipher>
#include <QSslKey>
#include <QSslSocket>
#include <QTest>
#include <QWebSocket>

#include "HttpProbe.h"
#include "TestPki.h"
#include "TestProxy.h"

using namespace Qt::Literals::StringLiterals;
using namespace ws2api;
using namespace ws2api::test;

namespace {

void useIdentity(ProxyConfig *config, const TestPki &pki)
{
    config->tlsChains = {{pki.certificate(u"server"_s)}};
    config->tlsKeys = {QSslKey(pki.read(u"server.key"_s), QSsl::Ec)};
}

enum class Outcome { Opened, Refused, TimedOut };

// Pushes and /metrics on a listener of their own (port 0), plaintext unless pushTls.
void usePushListener(ProxyConfig *config)
{
    config->hasPushListener = true;
    config->pushAddress = QHostAddress::LocalHost;
    config->pushPort = 0;
}

// Opens a wss client with `tls`: Opened, or Refused when the connection was closed
// before it opened (never a slot left hanging: that is TimedOut, a failure).
Outcome attempt(quint16 port, const QSslConfiguration &tls, const QByteArray &extraHeader = {},
                std::unique_ptr<QWebSocket> *keep = nullptr, const QString &clientId = u"CP1"_s)
{
    auto socket = std::make_unique<QWebSocket>();
    socket->setSslConfiguration(tls);
    QSignalSpy opened(socket.get(), &QWebSocket::connected);
    QSignalSpy closed(socket.get(), &QWebSocket::disconnected);
    QNetworkRequest request(QUrl(u"wss://127.0.0.1:%1/%2"_s.arg(port).arg(clientId)));
    if (!extraHeader.isEmpty())
        request.setRawHeader("Client-Cert", extraHeader);
    socket->open(request);
    if (!QTest::qWaitFor([&] { return opened.size() + closed.size() > 0; }, 8000))
        return Outcome::TimedOut;
    const Outcome outcome = opened.size() == 1 ? Outcome::Opened : Outcome::Refused;
    if (keep)
        *keep = std::move(socket);
    return outcome;
}

bool opens(quint16 port, const QSslConfiguration &tls, const QByteArray &extraHeader = {},
           std::unique_ptr<QWebSocket> *keep = nullptr, const QString &clientId = u"CP1"_s)
{
    return attempt(port, tls, extraHeader, keep, clientId) == Outcome::Opened;
}

bool refused(quint16 port, const QSslConfiguration &tls)
{
    return attempt(port, tls) == Outcome::Refused;
}

} // namespace

class TestTls : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_pki.make({u"CP1"_s}));
        QVERIFY(m_other.make({u"CP1"_s}));
    }
    void wssCarriesMessages();
    void clientCertificateReachesTheApi();
    void optionalCertificate();
    void onlyTheOcppSuitesOnTls12();
    void rsaAndEcdsaCertificates();
    void reloadTakesNewCertificates();
    void failedHandshakesAreCountedAndLogged();
    void pushTlsOn();
    void keyThatDoesNotFitIsRefusedAtOnce();
    void clientThatStopsReadingIsCut();

private:
    // Trusts our server, shows a certificate from the other CA.
    QSslConfiguration foreignCertificate() const
    {
        QSslConfiguration tls = m_pki.clientTls({});
        tls.setLocalCertificate(m_other.certificate(u"CP1"_s));
        tls.setPrivateKey(QSslKey(m_other.read(u"CP1.key"_s), QSsl::Ec));
        return tls;
    }

    TestPki m_pki;
    TestPki m_other;  // another CA: its certificates are foreign to m_pki's
};

void TestTls::wssCarriesMessages()
{
    TestProxy t;
    useIdentity(&t.config, m_pki);
    QVERIFY(t.start());
    std::unique_ptr<QWebSocket> client;
    QVERIFY(opens(t.port(), m_pki.clientTls({}), ":forged:", &client));
    QSignalSpy replies(client.get(), &QWebSocket::textMessageReceived);
    client->sendTextMessage(u"over wss"_s);
    QTRY_COMPARE(replies.size(), 1);
    QCOMPARE(replies.first().first().toString(), u"over wss"_s);
    // No certificate asked for: a Client-Cert the client wrote itself is dropped.
    QVERIFY(t.api.requests().first().header("Client-Cert").isEmpty());
}

// Profile 3: a certificate is required, checked against --tls-client-ca, and the
// verified one is what the API gets, never a header the client made up.
void TestTls::clientCertificateReachesTheApi()
{
    TestProxy t;
    useIdentity(&t.config, m_pki);
    t.config.tlsVerifyClient = ProxyConfig::VerifyClient::Required;
    t.config.tlsClientCa = {m_pki.caCertificate()};
    t.config.forwardHeaders = {"Client-Cert"};
    QVERIFY(t.start());
    QVERIFY(refused(t.port(), m_pki.clientTls({})));           // none
    QVERIFY(refused(t.port(), m_other.clientTls(u"CP1"_s)));   // foreign CA (and server unknown to it)
    const QSslConfiguration foreign = foreignCertificate();
    QVERIFY(refused(t.port(), foreign));                       // a certificate from another CA
    QCOMPARE(t.api.requestCount(), 0);

    QVERIFY(opens(t.port(), m_pki.clientTls(u"CP1"_s), ":forged:"));
    QTRY_COMPARE(t.api.requestCount(), 1);
    const RecordedRequest r = t.api.requests().first();
    QCOMPARE(r.header("Client-Cert"), ":" + m_pki.certificate(u"CP1"_s).toDer().toBase64() + ":");
    int clientCerts = 0;
    for (const auto &[name, value] : r.headers)
        clientCerts += name.compare("Client-Cert", Qt::CaseInsensitive) == 0 ? 1 : 0;
    QCOMPARE(clientCerts, 1);
}

// Optional (profiles 2 and 3 on one port): in without a certificate, no header; a
// certificate that does not verify is refused rather than ignored.
void TestTls::optionalCertificate()
{
    TestProxy t;
    useIdentity(&t.config, m_pki);
    t.config.tlsVerifyClient = ProxyConfig::VerifyClient::Optional;
    t.config.tlsClientCa = {m_pki.caCertificate()};
    t.config.forwardHeaders = {"Client-Cert"};
    QVERIFY(t.start());
    // Without a certificate, and with a Client-Cert header of its own that
    // --forward-headers would pass from a balancer: ours checks, so it never passes.
    QVERIFY(opens(t.port(), m_pki.clientTls({}), ":forged:"));
    QTRY_COMPARE(t.api.requestCount(), 1);
    QVERIFY(t.api.requests().first().header("Client-Cert").isEmpty());
    const QSslConfiguration foreign = foreignCertificate();
    QVERIFY(refused(t.port(), foreign));
    QVERIFY(opens(t.port(), m_pki.clientTls(u"CP1"_s)));
    QTRY_COMPARE(t.api.requestCount(), 3);  // connect, the replaced one's DELETE, connect
    QVERIFY(!t.api.requests().last().header("Client-Cert").isEmpty());
}

void TestTls::onlyTheOcppSuitesOnTls12()
{
    TestProxy t;
    useIdentity(&t.config, m_pki);
    QVERIFY(t.start());
    QSslConfiguration tls = m_pki.clientTls({});
    tls.setProtocol(QSsl::TlsV1_2);
    tls.setCiphers({QSslCipher(u"ECDHE-ECDSA-CHACHA20-POLY1305"_s, QSsl::TlsV1_2)});
    QVERIFY(!tls.ciphers().first().isNull());
    QVERIFY(refused(t.port(), tls));
    tls.setCiphers({QSslCipher(u"ECDHE-ECDSA-AES256-GCM-SHA384"_s, QSsl::TlsV1_2)});
    QVERIFY(opens(t.port(), tls));
}

// OCPP's RSA suites need an RSA certificate, its ECDSA ones an ECDSA certificate:
// with both pairs, each client gets the one its suites ask for.
void TestTls::rsaAndEcdsaCertificates()
{
    TestProxy t;
    useIdentity(&t.config, m_pki);
    t.config.tlsChains.append({m_pki.certificate(u"server-rsa"_s)});
    t.config.tlsKeys.append(QSslKey(m_pki.read(u"server-rsa.key"_s), QSsl::Rsa));
    QVERIFY(t.start());
    const auto leafFor = [&](const char *suite) {
        QSslConfiguration tls = m_pki.clientTls({});
        tls.setProtocol(QSsl::TlsV1_2);
        tls.setCiphers({QSslCipher(QString::fromLatin1(suite), QSsl::TlsV1_2)});
        QSslSocket client;
        client.setSslConfiguration(tls);
        client.connectToHostEncrypted(u"127.0.0.1"_s, t.port());
        // The listener shares this thread: wait in the event loop, not blocked.
        return QTest::qWaitFor([&] { return client.isEncrypted(); }, 8000) ? client.peerCertificate()
                                                                          : QSslCertificate();
    };
    QCOMPARE(leafFor("AES128-GCM-SHA256"), m_pki.certificate(u"server-rsa"_s));
    QCOMPARE(leafFor("AES256-GCM-SHA384"), m_pki.certificate(u"server-rsa"_s));
    QCOMPARE(leafFor("ECDHE-ECDSA-AES128-GCM-SHA256"), m_pki.certificate(u"server"_s));
    QCOMPARE(leafFor("ECDHE-ECDSA-AES256-GCM-SHA384"), m_pki.certificate(u"server"_s));
}

// A renewed certificate serves the next handshakes; a client already connected
// stays connected.
void TestTls::reloadTakesNewCertificates()
{
    TestProxy t;
    useIdentity(&t.config, m_pki);
    QVERIFY(t.start());
    std::unique_ptr<QWebSocket> before;
    QVERIFY(opens(t.port(), m_pki.clientTls({}), {}, &before, u"CP0"_s));
    QVERIFY(refused(t.port(), m_other.clientTls({})));  // m_other's clients trust m_other's CA only

    ProxyConfig renewed = t.config;
    useIdentity(&renewed, m_other);
    t.proxy->reconfigure(renewed);
    QTRY_VERIFY(opens(t.port(), m_other.clientTls({})));
    QVERIFY(refused(t.port(), m_pki.clientTls({})));
    QCOMPARE(before->state(), QAbstractSocket::ConnectedState);
    QSignalSpy echoed(before.get(), &QWebSocket::textMessageReceived);
    before->sendTextMessage(u"still here"_s);
    QTRY_COMPARE(echoed.size(), 1);
}

void TestTls::failedHandshakesAreCountedAndLogged()
{
    TestProxy t;
    useIdentity(&t.config, m_pki);
    usePushListener(&t.config);
    QVERIFY(t.start());
    // A plaintext client on the wss port: not TLS at all.
    QTest::ignoreMessage(QtInfoMsg, QRegularExpression(u"^TLS handshake with 127\\.0\\.0\\.1 failed: "_s));
    HttpProbe plain(t.port(), HttpProbe::upgrade("/CP1"));
    QTRY_VERIFY(plain.closed());
    QCOMPARE(plain.status(), 0);
    QCOMPARE(t.api.requestCount(), 0);
    HttpProbe metrics(t.pushPort(), HttpProbe::request("GET", "/metrics"));  // plaintext: no --push-tls
    QTRY_VERIFY(metrics.finished());
    QVERIFY2(metrics.body().contains("ws2api_tls_handshakes_failed_total 1\n"), metrics.body().constData());
}

// --push-tls on: the separate push listener speaks TLS with the same certificate;
// a plaintext push to it gets nowhere.
void TestTls::pushTlsOn()
{
    TestProxy t;
    useIdentity(&t.config, m_pki);
    usePushListener(&t.config);
    t.config.pushTls = true;
    QVERIFY(t.start());
    std::unique_ptr<QWebSocket> client;
    QVERIFY(opens(t.port(), m_pki.clientTls({}), {}, &client));
    QSignalSpy pushed(client.get(), &QWebSocket::textMessageReceived);

    HttpProbe plain(t.pushPort(), HttpProbe::request("POST", "/CP1", "plaintext"));
    QTRY_VERIFY(plain.closed());
    QCOMPARE(plain.status(), 0);

    QNetworkAccessManager http;
    QNetworkRequest request(QUrl(u"https://127.0.0.1:%1/CP1"_s.arg(t.pushPort())));
    request.setSslConfiguration(m_pki.clientTls({}));
    request.setRawHeader("Content-Type", "text/plain");
    std::unique_ptr<QNetworkReply> reply(http.post(request, "over TLS"_ba));
    QTRY_VERIFY(reply->isFinished());
    QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
    QTRY_COMPARE(pushed.size(), 1);
    QCOMPARE(pushed.first().first().toString(), u"over TLS"_s);
}

// A key that does not belong to the certificate (a renewal half done): every client
// is refused at once and the failure logged, rather than left hanging.
void TestTls::keyThatDoesNotFitIsRefusedAtOnce()
{
    TestProxy t;
    useIdentity(&t.config, m_pki);
    t.config.tlsKeys = {QSslKey(m_other.read(u"server.key"_s), QSsl::Ec)};
    t.config.handshakeTimeoutMs = 60000;  // longer than attempt() waits: a hang would show
    QVERIFY(t.start());
    QTest::ignoreMessage(QtInfoMsg, QRegularExpression(u"^TLS handshake with 127\\.0\\.0\\.1 failed: "_s));
    QVERIFY(refused(t.port(), m_pki.clientTls({})));
}

// The 4 MiB send queue of a client counts what TLS has encrypted and not yet sent:
// a wss client that stops reading gets 503s and is closed, as a plaintext one.
void TestTls::clientThatStopsReadingIsCut()
{
    TestProxy t;
    useIdentity(&t.config, m_pki);
    usePushListener(&t.config);
    t.config.sendQueueBytes = 256 * 1024;
    t.config.maxMessage = 64 * 1024;
    QVERIFY(t.start());
    QSslSocket stuck;
    stuck.setSslConfiguration(m_pki.clientTls({}));
    QByteArray answer;
    connect(&stuck, &QSslSocket::readyRead, &stuck, [&] { answer += stuck.readAll(); });
    connect(&stuck, &QSslSocket::encrypted, &stuck, [&] {
        stuck.write("GET /stuck HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    });
    stuck.connectToHostEncrypted(u"127.0.0.1"_s, t.port());
    QTRY_VERIFY(answer.contains("\r\n\r\n"));
    QVERIFY(answer.startsWith("HTTP/1.1 101"));
    stuck.setReadBufferSize(1);
    disconnect(&stuck, &QSslSocket::readyRead, nullptr, nullptr);

    // Bounded: loopback buffers hold a few MiB at most before the queue fills.
    QCOMPARE(HttpProbe::postUntilRefused(t.pushPort(), "/stuck", QByteArray(60 * 1024, 'z'), 2000), 503);
    HttpProbe after(t.pushPort(), HttpProbe::request("POST", "/stuck", "x"));
    QTRY_VERIFY(after.finished());
    QCOMPARE(after.status(), 404);
}

QTEST_GUILESS_MAIN(TestTls)
#include "tst_tls.moc"
