// An https:// API: the lean API client over TLS, the API's certificate checked
// against --api-ca (or the system's store) and the host name.
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTest>
#include <QWebSocket>

#include "HttpProbe.h"
#include "TestPki.h"
#include "TestProxy.h"

using namespace Qt::Literals::StringLiterals;
using namespace ws2api;
using namespace ws2api::test;

class TestHttpsApi : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { QVERIFY(m_pki.make()); }
    void messagesGoOverTls();
    void untrustedCertificateIsRefused();

private:
    bool listenTls(TestProxy *t)
    {
        return t->api.listenTls(m_pki.path(u"server.crt"_s), m_pki.path(u"server.key"_s));
    }

    TestPki m_pki;
};

void TestHttpsApi::messagesGoOverTls()
{
    TestProxy t;
    QVERIFY(listenTls(&t));
    t.config.apiCaCertificates = {m_pki.caCertificate()};
    QVERIFY(t.start(u"/base"_s));
    QCOMPARE(t.config.api.scheme(), u"https"_s);
    auto client = t.connectClient(u"/CP1"_s);
    QVERIFY(client);
    QSignalSpy replies(client.get(), &QWebSocket::textMessageReceived);
    client->sendTextMessage(u"hello over TLS"_s);
    QTRY_COMPARE(replies.size(), 1);
    QCOMPARE(replies.first().first().toString(), u"hello over TLS"_s);
    const QList<RecordedRequest> requests = t.api.requests();
    QCOMPARE(requests.size(), 2);
    QCOMPARE(requests.at(0).path, "/base/CP1"_ba);
    QCOMPARE(requests.at(1).body, "hello over TLS"_ba);
}

// The test CA is in no system store: without --api-ca the API's certificate does
// not verify, and the client is refused as for an unreachable API (502), never
// served over an unchecked connection.
void TestHttpsApi::untrustedCertificateIsRefused()
{
    TestProxy t;
    QVERIFY(listenTls(&t));
    QVERIFY(t.start());
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(u"certificate|issuer"_s, QRegularExpression::CaseInsensitiveOption));
    HttpProbe probe(t.port(), HttpProbe::upgrade("/CP1", {}));
    QTRY_VERIFY_WITH_TIMEOUT(probe.finished(), 10000);
    QCOMPARE(probe.status(), 502);
    QCOMPARE(t.api.requestCount(), 0);
}

QTEST_GUILESS_MAIN(TestHttpsApi)
#include "tst_httpsapi.moc"
