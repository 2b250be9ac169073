// ws2api-floor, the reference bench/run compare measures ws2apid against: started as
// a process in front of a FakeApi, one WebSocket client over real loopback sockets.
// It must do what the comparison assumes it does (each message a POST to
// <api>/<ClientId>, the 2xx body back in the message's frame type, a client's replies
// in order, an empty body sending nothing, /healthz for the script) and refuse bad
// options with exit code 2.
#include <QProcess>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTest>
#include <QWebSocket>

#include <memory>

#include "FakeApi.h"
#include "HttpProbe.h"

using namespace Qt::Literals::StringLiterals;
using namespace ws2api::test;

namespace {

const QString FloorPath = QStringLiteral(WS2API_FLOOR_PATH);

// The floor on a free port, stopped when the test ends.
class FloorProcess
{
public:
    explicit FloorProcess(const QStringList &arguments)
    {
        QObject::connect(&m_process, &QProcess::readyReadStandardError, [this] {
            m_stderr += m_process.readAllStandardError();
            const auto match = QRegularExpression(u"listening on 127\\.0\\.0\\.1:(\\d+)"_s).match(QString::fromUtf8(m_stderr));
            if (match.hasMatch())
                m_port = match.captured(1).toUShort();
        });
        m_process.start(FloorPath, arguments);
    }
    ~FloorProcess()
    {
        m_process.terminate();
        if (!m_process.waitForFinished(5000))
            m_process.kill();
        m_process.waitForFinished(5000);
    }
    quint16 port() const { return m_port; }
    QProcess &process() { return m_process; }
    QByteArray errorOutput() const { return m_stderr; }

private:
    QProcess m_process;
    QByteArray m_stderr;
    quint16 m_port = 0;
};

} // namespace

class tst_Floor : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void echoRoundTrip_data();
    void echoRoundTrip();
    void binaryMessageStaysBinary();
    void repliesInOrderEmptyBodySendsNothing();
    void healthz();
    void badOptions_data();
    void badOptions();

private:
    void startFloorAndConnect(const QString &clientId);

    std::unique_ptr<FakeApi> m_api;
    std::unique_ptr<FloorProcess> m_floor;
    std::unique_ptr<QWebSocket> m_client;
};

void tst_Floor::init()
{
    m_api = std::make_unique<FakeApi>();
    QVERIFY(m_api->listen());
}

void tst_Floor::cleanup()
{
    m_client.reset();
    m_floor.reset();
    m_api.reset();
}

// Starts the floor in front of the FakeApi (base path /base) and opens a client; the
// caller checks QTest::currentTestFailed().
void tst_Floor::startFloorAndConnect(const QString &clientId)
{
    m_floor = std::make_unique<FloorProcess>(QStringList{u"--listen"_s, u"127.0.0.1:0"_s, u"--api"_s,
                                                         m_api->url(u"/base"_s).toString(),
                                                         u"--api-connections"_s, u"4"_s});
    QTRY_VERIFY2_WITH_TIMEOUT(m_floor->port() != 0, m_floor->errorOutput().constData(), 10000);
    const QUrl url(u"ws://127.0.0.1:%1/%2"_s.arg(m_floor->port()).arg(clientId));
    m_client = std::make_unique<QWebSocket>();
    QSignalSpy connected(m_client.get(), &QWebSocket::connected);
    m_client->open(url);
    QTRY_COMPARE(connected.size(), 1);
}

void tst_Floor::echoRoundTrip_data()
{
    QTest::addColumn<bool>("chunked");
    QTest::addRow("Content-Length") << false;
    QTest::addRow("chunked") << true;  // how nginx's echo module answers
}

void tst_Floor::echoRoundTrip()
{
    QFETCH(bool, chunked);
    m_api->setHandler([chunked](const RecordedRequest &request) {
        FakeReply reply;
        reply.body = "re: " + request.body;
        reply.chunked = chunked;
        return reply;
    });
    startFloorAndConnect(u"CP1"_s);
    if (QTest::currentTestFailed())
        return;
    QSignalSpy received(m_client.get(), &QWebSocket::textMessageReceived);
    m_client->sendTextMessage(u"hello"_s);
    QTRY_COMPARE(received.size(), 1);
    QCOMPARE(received.at(0).at(0).toString(), u"re: hello"_s);
    const QList<RecordedRequest> requests = m_api->requests();
    QCOMPARE(requests.size(), 1);  // no request for the connect
    QCOMPARE(requests.at(0).method, "POST");
    QCOMPARE(requests.at(0).path, "/base/CP1");
    QCOMPARE(requests.at(0).body, "hello");
    QCOMPARE(requests.at(0).header("Content-Type"), "text/plain; charset=utf-8");
}

void tst_Floor::binaryMessageStaysBinary()
{
    startFloorAndConnect(u"CP2"_s);
    if (QTest::currentTestFailed())
        return;
    QSignalSpy received(m_client.get(), &QWebSocket::binaryMessageReceived);
    const QByteArray payload("\x00\x01\xfe\xff binary", 11);
    m_client->sendBinaryMessage(payload);
    QTRY_COMPARE(received.size(), 1);
    QCOMPARE(received.at(0).at(0).toByteArray(), payload);
    QCOMPARE(m_api->requests().at(0).header("Content-Type"), "application/octet-stream");
}

// The first reply comes late: a second and third message of the same client must not
// overtake it, though the pool has idle connections; an empty reply sends nothing.
void tst_Floor::repliesInOrderEmptyBodySendsNothing()
{
    m_api->setHandler([](const RecordedRequest &request) {
        FakeReply reply;
        reply.body = request.body == "empty" ? QByteArray() : request.body;
        reply.delayMs = request.body == "first" ? 200 : 0;
        return reply;
    });
    startFloorAndConnect(u"CP3"_s);
    if (QTest::currentTestFailed())
        return;
    QSignalSpy received(m_client.get(), &QWebSocket::textMessageReceived);
    m_client->sendTextMessage(u"first"_s);
    m_client->sendTextMessage(u"empty"_s);
    m_client->sendTextMessage(u"third"_s);
    QTRY_COMPARE(received.size(), 2);
    QCOMPARE(received.at(0).at(0).toString(), u"first"_s);
    QCOMPARE(received.at(1).at(0).toString(), u"third"_s);
    QCOMPARE(m_api->requestCount(), 3);
}

void tst_Floor::healthz()
{
    startFloorAndConnect(u"CP4"_s);
    if (QTest::currentTestFailed())
        return;
    HttpProbe probe(m_floor->port(), HttpProbe::request("GET", "/healthz"));
    QTRY_VERIFY(probe.finished());
    QCOMPARE(probe.status(), 200);
    HttpProbe notUpgrade(m_floor->port(), HttpProbe::request("GET", "/CP5"));
    QTRY_VERIFY(notUpgrade.finished());
    QCOMPARE(notUpgrade.status(), 400);
}

void tst_Floor::badOptions_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QByteArray>("message");
    QTest::addRow("no --api") << QStringList{u"--listen"_s, u"127.0.0.1:0"_s} << QByteArray("--api is required");
    QTest::addRow("https API") << QStringList{u"--api"_s, u"https://127.0.0.1:1/"_s}
                               << QByteArray("--api must be http://127.x.y.z:PORT");
    QTest::addRow("API not on loopback") << QStringList{u"--api"_s, u"http://10.0.0.1:80/"_s}
                                         << QByteArray("--api must be");
    QTest::addRow("listen not on loopback") << QStringList{u"--api"_s, u"http://127.0.0.1:1/"_s, u"--listen"_s,
                                                           u"0.0.0.0:4000"_s}
                                            << QByteArray("--listen must be 127.x.y.z:PORT");
    QTest::addRow("pool of 0") << QStringList{u"--api"_s, u"http://127.0.0.1:1/"_s, u"--api-connections"_s, u"0"_s}
                               << QByteArray("--api-connections must be 1..1024");
    QTest::addRow("unknown option") << QStringList{u"--api"_s, u"http://127.0.0.1:1/"_s, u"--fast"_s, u"yes"_s}
                                    << QByteArray("unknown option: --fast");
    QTest::addRow("missing value") << QStringList{u"--api"_s} << QByteArray("missing value");
}

void tst_Floor::badOptions()
{
    QFETCH(QStringList, arguments);
    QFETCH(QByteArray, message);
    QProcess process;
    QSignalSpy finished(&process, &QProcess::finished);
    process.start(FloorPath, arguments);
    QTRY_COMPARE(finished.size(), 1);
    QCOMPARE(process.exitStatus(), QProcess::NormalExit);
    QCOMPARE(process.exitCode(), 2);
    const QByteArray error = process.readAllStandardError();
    QVERIFY2(error.contains(message), error.constData());
}

QTEST_GUILESS_MAIN(tst_Floor)
#include "tst_floor.moc"
