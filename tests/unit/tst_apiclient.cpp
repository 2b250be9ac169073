#include <QEventLoop>
#include <QPointer>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>
#include <QTimer>
#include <map>
#include <memory>
#include <optional>

#include "ApiClient.h"
#include "FakeApi.h"

using namespace ws2api;
using ws2api::test::FakeApi;
using ws2api::test::FakeReply;
using ws2api::test::RecordedRequest;
using Outcome = ApiResponse::Outcome;
Q_DECLARE_METATYPE(ws2api::ApiResponse::Outcome)

namespace {

constexpr QByteArrayView OkResponse = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

ApiClientConfig configFor(quint16 port)
{
    ApiClientConfig config;
    config.host = QStringLiteral("127.0.0.1");
    config.port = port;
    return config;
}

ApiRequest makeRequest(QByteArray method, QByteArray target, QByteArray body = {}, HeaderList headers = {})
{
    return ApiRequest{std::move(method), std::move(target), std::move(headers), std::move(body)};
}

// Sends one request and runs the event loop until its answer (5 s at most).
ApiResponse fetch(ApiClient &client, QByteArray method, QByteArray target, QByteArray body = {})
{
    // Shared, so a callback arriving after a failed wait writes nowhere dangerous.
    auto answer = std::make_shared<std::optional<ApiResponse>>();
    QEventLoop loop;
    QPointer<QEventLoop> waiting(&loop);
    client.send(makeRequest(std::move(method), std::move(target), std::move(body)), nullptr,
                [answer, waiting](const ApiResponse &r) {
                    *answer = r;
                    if (waiting)
                        waiting->quit();
                });
    QTimer::singleShot(5000, &loop, &QEventLoop::quit);
    loop.exec();
    if (!answer->has_value())
        return ApiResponse{Outcome::Unreachable, 0, {}, {}, QStringLiteral("test: no callback")};
    return **answer;
}

ApiClient::Callback into(QList<ApiResponse> &responses)
{
    return [&responses](const ApiResponse &r) { responses.append(r); };
}

// A port nobody listens on: bound once by us, then released.
quint16 closedPort()
{
    QTcpServer server;
    if (!server.listen(QHostAddress::LocalHost, 0))
        return 0;
    const quint16 port = server.serverPort();
    server.close();
    return port;
}

// A TCP server whose behaviour a test scripts byte for byte, for what FakeApi will
// not do: malformed or close-delimited responses, closing right after answering.
class RawServer
{
public:
    // Gets each connection's received bytes not consumed yet; consumes what it handles.
    using Script = std::function<void(QTcpSocket *socket, QByteArray &received)>;

    explicit RawServer(Script script)
        : m_script(std::move(script))
    {
        QObject::connect(&m_server, &QTcpServer::newConnection, &m_server, [this] {
            while (QTcpSocket *socket = m_server.nextPendingConnection())
                adopt(socket);
        });
    }
    bool listen() { return m_server.listen(QHostAddress::LocalHost, 0); }
    quint16 port() const { return m_server.serverPort(); }

    int connections = 0;
    int disconnects = 0;
    int requests = 0;  // counted by takeHead()

    // Takes one bodyless request head off `received`; its target into *target.
    bool takeHead(QByteArray &received, QByteArray *target = nullptr)
    {
        const qsizetype end = received.indexOf("\r\n\r\n");
        if (end < 0)
            return false;
        if (target) {
            const qsizetype from = received.indexOf(' ') + 1;
            *target = received.mid(from, received.indexOf(' ', from) - from);
        }
        received.remove(0, end + 4);
        ++requests;
        return true;
    }

private:
    void adopt(QTcpSocket *socket)
    {
        ++connections;
        auto received = std::make_shared<QByteArray>();
        QObject::connect(socket, &QTcpSocket::readyRead, socket, [this, socket, received] {
            *received += socket->readAll();
            m_script(socket, *received);
        });
        QObject::connect(socket, &QTcpSocket::disconnected, socket, [this, socket] {
            ++disconnects;
            socket->deleteLater();
        });
    }

    QTcpServer m_server;
    Script m_script;
};

// One byte per event-loop turn, each flushed: the peer meets every split point.
void writeByteByByte(QPointer<QTcpSocket> socket, QByteArray bytes, qsizetype at = 0)
{
    if (!socket || at >= bytes.size())
        return;
    socket->write(bytes.constData() + at, 1);
    socket->flush();
    QTimer::singleShot(0, socket, [socket, bytes, at] { writeByteByByte(socket, bytes, at + 1); });
}

} // namespace

class TestApiClient : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void roundTrip_data();
    void roundTrip();
    void statusPassthrough_data();
    void statusPassthrough();
    void bodyFraming_data();
    void bodyFraming();
    void closeDelimitedResponse();
    void keepAliveReuse();
    void notReused_data();
    void notReused();
    void fakeApiConnectionClose();
    void fifoOnOneConnection();
    void queueWaitIsReported();
    void poolBound();
    void overloaded();
    void timeout();
    void unreachable();
    void keepAliveRaceRetried();
    void keepAliveRaceRetriedAfterReset();
    void retriedOnlyOnce();
    void noRetryOnFreshConnection();
    void badResponse_data();
    void badResponse();
    void contextDestroyed();
    void callbackDestroysOtherContext();
    void clientDestroyedInCallback_data();
    void clientDestroyedInCallback();
    void idleEmitted();
    void idleConnectionClosed();
    void byteByByte_data();
    void byteByByte();
    void fakeApiPipelining_data();
    void fakeApiPipelining();
    void pipelineGathersOnePass_data();
    void pipelineGathersOnePass();
    void pipelineDepthBound();
    void fullPipelineLeavesAtOnce();
    void pipelinedAnswersSplitAnyhow_data();
    void pipelinedAnswersSplitAnyhow();
    void pipelinedBehindConnectionClose();
    void pipelinedBehindBadResponse();
    void pipelinedBehindTimeout();
    void pipelinedKeepAliveRace();
    void pipelineOffForTls();
};

void TestApiClient::roundTrip_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QByteArray>("contentLength");  // as the server must see it; empty: absent
    QTest::addColumn<int>("status");                // FakeApi's default handler
    QTest::addColumn<QByteArray>("responseBody");
    const QByteArray none;
    QTest::addRow("GET") << QByteArray("GET") << none << none << 200 << QByteArray("ok");
    QTest::addRow("POST") << QByteArray("POST") << QByteArray("hi \x01\xff") << QByteArray("5") << 200
                          << QByteArray("hi \x01\xff");
    QTest::addRow("POST empty") << QByteArray("POST") << none << QByteArray("0") << 200 << none;
    QTest::addRow("DELETE") << QByteArray("DELETE") << QByteArray("going away") << QByteArray("10") << 204
                            << none;
    QTest::addRow("DELETE empty") << QByteArray("DELETE") << none << none << 204 << none;
}

void TestApiClient::roundTrip()
{
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, body);
    QFETCH(QByteArray, contentLength);
    QFETCH(int, status);
    QFETCH(QByteArray, responseBody);
    FakeApi api;
    QVERIFY(api.listen());
    ApiClient client(configFor(api.port()));
    QList<ApiResponse> responses;
    bool inSend = true;
    const HeaderList headers = {{"Content-Type", "text/plain"},
                                {"X-Forwarded-For", "10.0.0.7"},
                                {"Host", "evil.example"},  // the client's own wins
                                {"X-Smuggle", "a\r\nX-Injected: 1"}};
    client.send(makeRequest(method, "/base/CP1?x=1&y=%20", body, headers), nullptr,
                [&](const ApiResponse &r) {
                    QVERIFY(!inSend);  // never from inside send()
                    responses.append(r);
                });
    inSend = false;
    QTRY_COMPARE(responses.size(), 1);

    QCOMPARE(api.requestCount(), 1);
    const RecordedRequest seen = api.requests().first();
    QCOMPARE(seen.method, method);
    QCOMPARE(seen.target, QByteArray("/base/CP1?x=1&y=%20"));
    QCOMPARE(seen.path, QByteArray("/base/CP1"));
    QCOMPARE(seen.query, QByteArray("x=1&y=%20"));
    QCOMPARE(seen.body, body);
    QCOMPARE(seen.header("host"), "127.0.0.1:" + QByteArray::number(api.port()));
    QCOMPARE(seen.header("Connection"), QByteArray("keep-alive"));
    QCOMPARE(seen.header("Content-Length"), contentLength);
    QCOMPARE(seen.header("Content-Type"), QByteArray("text/plain"));
    QCOMPARE(seen.header("X-Forwarded-For"), QByteArray("10.0.0.7"));
    QCOMPARE(seen.header("X-Smuggle"), QByteArray());
    QCOMPARE(seen.header("X-Injected"), QByteArray());
    QCOMPARE(std::count_if(seen.headers.begin(), seen.headers.end(),
                           [](const auto &h) { return h.first.compare("Host", Qt::CaseInsensitive) == 0; }),
             1);

    QCOMPARE(responses[0].outcome, Outcome::Ok);
    QCOMPARE(responses[0].status, status);
    QCOMPARE(responses[0].body, responseBody);
    QVERIFY(responses[0].error.isEmpty());
}

void TestApiClient::statusPassthrough_data()
{
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("body");
    QTest::addRow("200") << 200 << QByteArray("fine");
    QTest::addRow("204") << 204 << QByteArray();
    QTest::addRow("404") << 404 << QByteArray("no such client");
    QTest::addRow("500") << 500 << QByteArray("boom");
}

void TestApiClient::statusPassthrough()
{
    QFETCH(int, status);
    QFETCH(QByteArray, body);
    FakeApi api;
    QVERIFY(api.listen());
    api.setHandler([&](const RecordedRequest &) {
        return FakeReply{.status = status, .body = body,
                         .headers = {{"X-Reply", "yes"}, {"WWW-Authenticate", "Basic realm=\"x\""}}};
    });
    ApiClient client(configFor(api.port()));
    const ApiResponse response = fetch(client, "POST", "/m", "x");
    QCOMPARE(response.outcome, Outcome::Ok);
    QCOMPARE(response.status, status);
    QCOMPARE(response.body, body);
    QCOMPARE(response.header("x-reply"), QByteArray("yes"));
    QCOMPARE(response.header("www-authenticate"), QByteArray("Basic realm=\"x\""));
    QCOMPARE(response.header("X-Absent"), QByteArray());
}

void TestApiClient::bodyFraming_data()
{
    QTest::addColumn<bool>("chunked");
    QTest::addColumn<int>("size");
    for (bool chunked : {false, true}) {
        for (int size : {0, 1, 100, 300000})
            QTest::addRow("%s %d", chunked ? "chunked" : "content-length", size) << chunked << size;
    }
}

void TestApiClient::bodyFraming()
{
    QFETCH(bool, chunked);
    QFETCH(int, size);
    QByteArray body(size, Qt::Uninitialized);
    for (int i = 0; i < size; ++i)
        body[i] = char('a' + i % 26);
    FakeApi api;
    QVERIFY(api.listen());
    api.setHandler([&](const RecordedRequest &) { return FakeReply{.body = body, .chunked = chunked}; });
    ApiClient client(configFor(api.port()));
    for (int i = 0; i < 2; ++i) {  // the second on the same connection: framing ended right
        const ApiResponse response = fetch(client, "GET", "/");
        QCOMPARE(response.outcome, Outcome::Ok);
        QCOMPARE(response.body, body);
    }
    QCOMPARE(api.connectionsAccepted(), 1);
}

void TestApiClient::closeDelimitedResponse()
{
    RawServer server([&](QTcpSocket *socket, QByteArray &received) {
        if (!server.takeHead(received))
            return;
        socket->write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nhello, until the end");
        socket->disconnectFromHost();
    });
    QVERIFY(server.listen());
    ApiClient client(configFor(server.port()));
    const ApiResponse response = fetch(client, "GET", "/");
    QCOMPARE(response.outcome, Outcome::Ok);
    QCOMPARE(response.body, QByteArray("hello, until the end"));
    QCOMPARE(fetch(client, "GET", "/").outcome, Outcome::Ok);
    QCOMPARE(server.connections, 2);
}

void TestApiClient::keepAliveReuse()
{
    FakeApi api;
    QVERIFY(api.listen());
    ApiClient client(configFor(api.port()));
    int done = 0;
    ApiClient::Callback next = [&](const ApiResponse &r) {
        QCOMPARE(r.outcome, Outcome::Ok);
        if (++done < 20)  // a callback may send again
            client.send(makeRequest("POST", "/chain", QByteArray::number(done)), nullptr, next);
    };
    client.send(makeRequest("POST", "/chain", "0"), nullptr, next);
    QTRY_COMPARE(done, 20);
    QCOMPARE(api.requestCount(), 20);
    QCOMPARE(api.connectionsAccepted(), 1);
}

void TestApiClient::notReused_data()
{
    QTest::addColumn<QByteArray>("response");
    QTest::addRow("Connection: close")
        << QByteArray("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok");
    QTest::addRow("HTTP/1.0") << QByteArray("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok");
}

// The server leaves the connection open; the client must still not reuse it.
void TestApiClient::notReused()
{
    QFETCH(QByteArray, response);
    RawServer server([&](QTcpSocket *socket, QByteArray &received) {
        while (server.takeHead(received))
            socket->write(response);
    });
    QVERIFY(server.listen());
    ApiClient client(configFor(server.port()));
    QCOMPARE(fetch(client, "GET", "/").outcome, Outcome::Ok);
    const ApiResponse second = fetch(client, "GET", "/");
    QCOMPARE(second.outcome, Outcome::Ok);
    QCOMPARE(second.body, QByteArray("ok"));
    QCOMPARE(server.connections, 2);
    QTRY_COMPARE(server.disconnects, 2);
}

void TestApiClient::fakeApiConnectionClose()
{
    FakeApi api;
    QVERIFY(api.listen());
    api.setHandler([](const RecordedRequest &) {
        return FakeReply{.body = "bye", .headers = {{"Connection", "close"}}};
    });
    ApiClient client(configFor(api.port()));
    QCOMPARE(fetch(client, "GET", "/").body, QByteArray("bye"));
    QCOMPARE(fetch(client, "GET", "/").body, QByteArray("bye"));
    QCOMPARE(api.connectionsAccepted(), 2);
}

void TestApiClient::fifoOnOneConnection()
{
    FakeApi api;
    QVERIFY(api.listen());
    ApiClientConfig config = configFor(api.port());
    config.poolSize = 1;
    ApiClient client(config);
    QList<QByteArray> order;
    for (int i = 0; i < 10; ++i)
        client.send(makeRequest("POST", "/", QByteArray::number(i)), nullptr,
                    [&](const ApiResponse &r) { order.append(r.body); });
    QCOMPARE(client.inFlight(), 1);
    QCOMPARE(client.queued(), 9);
    QTRY_COMPARE(order.size(), 10);
    for (int i = 0; i < 10; ++i) {
        QCOMPARE(order[i], QByteArray::number(i));
        QCOMPARE(api.requests()[i].body, QByteArray::number(i));
    }
    QCOMPARE(client.inFlight() + client.queued(), 0);
}

// The time a request waited for the pool's only connection comes with its response:
// the second one cannot have left before the first one's delayed answer.
void TestApiClient::queueWaitIsReported()
{
    FakeApi api;
    QVERIFY(api.listen());
    api.setHandler([](const RecordedRequest &r) {
        return FakeReply{.body = r.body, .delayMs = r.body == "first" ? 200 : 0};
    });
    ApiClientConfig config = configFor(api.port());
    config.poolSize = 1;
    ApiClient client(config);
    QList<ApiResponse> responses;
    for (const char *body : {"first", "second"})
        client.send(makeRequest("POST", "/", body), nullptr, [&](const ApiResponse &r) { responses.append(r); });
    QTRY_COMPARE(responses.size(), 2);
    QCOMPARE(responses[1].body, QByteArray("second"));
    // (150 ms: a coarse timer may fire up to 5 % early.)
    QVERIFY2(responses[1].queuedUs >= 150'000, QByteArray::number(responses[1].queuedUs).constData());
    QVERIFY(responses[0].queuedUs < responses[1].queuedUs);
}

void TestApiClient::poolBound()
{
    FakeApi api;
    QVERIFY(api.listen());
    api.setHandler([](const RecordedRequest &r) { return FakeReply{.body = r.body, .delayMs = 5}; });
    ApiClientConfig config = configFor(api.port());
    config.poolSize = 4;
    ApiClient client(config);
    QList<QByteArray> completed;
    for (int i = 0; i < 100; ++i) {
        const QByteArray body = QByteArray::number(i);
        client.send(makeRequest("POST", "/", body), nullptr, [&completed, body](const ApiResponse &r) {
            QVERIFY2(r.outcome == Outcome::Ok, qPrintable(r.error));
            QCOMPARE(r.body, body);  // each answer reaches its own request
            completed.append(body);
        });
    }
    QCOMPARE(client.inFlight(), 4);
    QCOMPARE(client.queued(), 96);
    QTRY_COMPARE(completed.size(), 100);
    QVERIFY(api.connectionsAccepted() <= 4);
    QCOMPARE(api.requestCount(), 100);

    // On each connection, requests arrive and complete in the order they were sent.
    std::map<int, QList<int>> sentOn, completedOn;
    std::map<QByteArray, int> connectionOf;
    for (const RecordedRequest &request : api.requests()) {
        sentOn[request.connection].append(request.body.toInt());
        connectionOf[request.body] = request.connection;
    }
    for (const QByteArray &body : std::as_const(completed))
        completedOn[connectionOf[body]].append(body.toInt());
    for (const auto &[connection, numbers] : sentOn) {
        QVERIFY(std::is_sorted(numbers.begin(), numbers.end()));
        QCOMPARE(completedOn[connection], numbers);
    }
}

void TestApiClient::overloaded()
{
    FakeApi api;
    QVERIFY(api.listen());
    api.setHandler([](const RecordedRequest &r) { return FakeReply{.body = r.body, .delayMs = 20}; });
    ApiClientConfig config = configFor(api.port());
    config.poolSize = 1;
    config.maxQueued = 2;
    ApiClient client(config);
    std::map<int, ApiResponse> responses;
    bool inSend = false;
    for (int i = 0; i < 4; ++i) {
        inSend = true;
        client.send(makeRequest("POST", "/", QByteArray::number(i)), nullptr, [&, i](const ApiResponse &r) {
            QVERIFY(!inSend);  // Overloaded too comes from the event loop
            responses[i] = r;
        });
        inSend = false;
    }
    QCOMPARE(client.inFlight(), 1);
    QCOMPARE(client.queued(), 2);
    QTRY_COMPARE(responses.size(), size_t(4));
    QCOMPARE(responses[3].outcome, Outcome::Overloaded);
    QVERIFY(!responses[3].error.isEmpty());
    for (int i = 0; i < 3; ++i) {
        QCOMPARE(responses[i].outcome, Outcome::Ok);
        QCOMPARE(responses[i].body, QByteArray::number(i));
    }
    QCOMPARE(api.requestCount(), 3);
}

void TestApiClient::timeout()
{
    FakeApi api;
    QVERIFY(api.listen());
    api.setHandler([](const RecordedRequest &r) { return FakeReply{.body = "ok", .hang = r.path == "/hang"}; });
    ApiClientConfig config = configFor(api.port());
    config.poolSize = 1;
    config.timeoutMs = 200;
    ApiClient client(config);
    QList<ApiResponse> responses;
    // The second waits in the queue behind the first: its time counts from send().
    for (int i = 0; i < 2; ++i)
        client.send(makeRequest("GET", "/hang"), nullptr, into(responses));
    QTRY_COMPARE(responses.size(), 2);
    for (const ApiResponse &response : std::as_const(responses)) {
        QCOMPARE(response.outcome, Outcome::Timeout);
        QVERIFY(!response.error.isEmpty());
    }
    QCOMPARE(client.inFlight() + client.queued(), 0);

    // The timed-out connection is not reused: the next request gets a fresh one.
    const ApiResponse next = fetch(client, "GET", "/ok");
    QCOMPARE(next.outcome, Outcome::Ok);
    QCOMPARE(next.body, QByteArray("ok"));
    QVERIFY(api.connectionsAccepted() >= 2);
}

void TestApiClient::unreachable()
{
    const quint16 port = closedPort();
    QVERIFY(port != 0);
    ApiClientConfig config = configFor(port);
    config.poolSize = 2;
    ApiClient client(config);
    QList<ApiResponse> responses;
    bool inSend = false;
    for (int i = 0; i < 5; ++i) {
        inSend = true;
        client.send(makeRequest("GET", "/"), nullptr, [&](const ApiResponse &r) {
            QVERIFY(!inSend);
            responses.append(r);
        });
        inSend = false;
    }
    QTRY_COMPARE(responses.size(), 5);
    for (const ApiResponse &response : std::as_const(responses)) {
        QCOMPARE(response.outcome, Outcome::Unreachable);
        QVERIFY(!response.error.isEmpty());
    }
}

void TestApiClient::keepAliveRaceRetried()
{
    // Answers keep-alive, then closes at once: the next request, written before the
    // client has seen the FIN, meets a dead connection.
    RawServer server([&](QTcpSocket *socket, QByteArray &received) {
        if (!server.takeHead(received))
            return;
        socket->write(OkResponse.data(), OkResponse.size());
        socket->disconnectFromHost();
    });
    QVERIFY(server.listen());
    ApiClient client(configFor(server.port()));
    QList<ApiResponse> responses;
    client.send(makeRequest("GET", "/first"), nullptr, [&](const ApiResponse &r) {
        responses.append(r);
        client.send(makeRequest("GET", "/second"), nullptr, into(responses));
    });
    QTRY_COMPARE(responses.size(), 2);
    QCOMPARE(responses[0].outcome, Outcome::Ok);
    QCOMPARE(responses[1].outcome, Outcome::Ok);
    QCOMPARE(responses[1].body, QByteArray("ok"));
    QCOMPARE(server.requests, 2);  // the second arrived exactly once
    QCOMPARE(server.connections, 2);
}

void TestApiClient::keepAliveRaceRetriedAfterReset()
{
    FakeApi api;
    QVERIFY(api.listen());
    ApiClient client(configFor(api.port()));
    QList<ApiResponse> responses;
    client.send(makeRequest("POST", "/", "one"), nullptr, [&](const ApiResponse &r) {
        responses.append(r);
        api.closeAllConnections();  // resets the now idle keep-alive connection
        client.send(makeRequest("POST", "/", "two"), nullptr, into(responses));
    });
    QTRY_COMPARE(responses.size(), 2);
    QCOMPARE(responses[1].outcome, Outcome::Ok);
    QCOMPARE(responses[1].body, QByteArray("two"));
    QCOMPARE(api.requestCount(), 2);
    QCOMPARE(api.connectionsAccepted(), 2);
}

void TestApiClient::retriedOnlyOnce()
{
    FakeApi api;
    QVERIFY(api.listen());
    api.setHandler([](const RecordedRequest &r) { return FakeReply{.dropConnection = r.path != "/first"}; });
    ApiClient client(configFor(api.port()));
    QCOMPARE(fetch(client, "GET", "/first").outcome, Outcome::Ok);
    // On the reused connection, then once on a fresh one, which fails too.
    QCOMPARE(fetch(client, "GET", "/second").outcome, Outcome::Unreachable);
    QCOMPARE(api.requestCount(), 3);
    QCOMPARE(api.connectionsAccepted(), 2);
}

void TestApiClient::noRetryOnFreshConnection()
{
    FakeApi api;
    QVERIFY(api.listen());
    api.setHandler([](const RecordedRequest &) { return FakeReply{.dropConnection = true}; });
    ApiClient client(configFor(api.port()));
    // A retry would have been made (and dropped) before the callback runs.
    const ApiResponse response = fetch(client, "POST", "/", "once");
    QCOMPARE(response.outcome, Outcome::Unreachable);
    QVERIFY(!response.error.isEmpty());
    QCOMPARE(api.requestCount(), 1);
    QCOMPARE(api.connectionsAccepted(), 1);
}

void TestApiClient::badResponse_data()
{
    QTest::addColumn<QByteArray>("response");
    const QByteArray chunk = "40\r\n" + QByteArray(64, 'x') + "\r\n";
    QTest::addRow("content-length over cap")
        << "HTTP/1.1 200 OK\r\nContent-Length: 101\r\n\r\n" + QByteArray(101, 'x');
    QTest::addRow("chunked over cap")
        << "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk + chunk + "0\r\n\r\n";
    QTest::addRow("close-delimited over cap") << "HTTP/1.1 200 OK\r\n\r\n" + QByteArray(200, 'x');
    QTest::addRow("garbage") << QByteArray("SMTP ready\r\n\r\n");
    QTest::addRow("bad chunk size")
        << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
}

void TestApiClient::badResponse()
{
    QFETCH(QByteArray, response);
    RawServer server([&](QTcpSocket *socket, QByteArray &received) {
        // The first connection misbehaves; later ones answer properly.
        while (server.takeHead(received))
            socket->write(server.connections == 1 ? response : OkResponse.toByteArray());
    });
    QVERIFY(server.listen());
    ApiClientConfig config = configFor(server.port());
    config.maxResponseBody = 100;
    ApiClient client(config);
    const ApiResponse bad = fetch(client, "GET", "/");
    QCOMPARE(bad.outcome, Outcome::BadResponse);
    QVERIFY(!bad.error.isEmpty());
    // That connection was dropped; the next request gets a fresh one.
    QCOMPARE(fetch(client, "GET", "/").outcome, Outcome::Ok);
    QCOMPARE(server.connections, 2);
}

void TestApiClient::contextDestroyed()
{
    FakeApi api;
    QVERIFY(api.listen());
    api.setHandler([](const RecordedRequest &) { return FakeReply{.delayMs = 20}; });
    ApiClient client(configFor(api.port()));
    QSignalSpy idle(&client, &ApiClient::idle);
    auto *context = new QObject;
    bool called = false;
    client.send(makeRequest("GET", "/"), context, [&](const ApiResponse &) { called = true; });
    delete context;
    QTRY_COMPARE(idle.size(), 1);  // the request itself still completed
    QVERIFY(!called);
    QCOMPARE(api.requestCount(), 1);
}

void TestApiClient::callbackDestroysOtherContext()
{
    FakeApi api;
    QVERIFY(api.listen());
    ApiClientConfig config = configFor(api.port());
    config.poolSize = 1;
    ApiClient client(config);
    QSignalSpy idle(&client, &ApiClient::idle);
    QObject first;
    QPointer<QObject> second = new QObject;
    int firstCalls = 0;
    bool secondCalled = false;
    client.send(makeRequest("GET", "/1"), &first, [&](const ApiResponse &) {
        ++firstCalls;
        delete second.data();
    });
    client.send(makeRequest("GET", "/2"), second, [&](const ApiResponse &) { secondCalled = true; });
    QTRY_COMPARE(idle.size(), 1);
    QCOMPARE(firstCalls, 1);
    QVERIFY(!second);
    QVERIFY(!secondCalled);
}

void TestApiClient::clientDestroyedInCallback_data()
{
    QTest::addColumn<QByteArray>("path");
    QTest::addColumn<bool>("occupyPool");
    QTest::addColumn<Outcome>("outcome");
    QTest::addRow("ok") << QByteArray("/ok") << false << Outcome::Ok;
    QTest::addRow("bad response") << QByteArray("/big") << false << Outcome::BadResponse;
    QTest::addRow("unreachable") << QByteArray("/drop") << false << Outcome::Unreachable;
    QTest::addRow("timeout") << QByteArray("/hang") << false << Outcome::Timeout;
    QTest::addRow("overloaded") << QByteArray("/ok") << true << Outcome::Overloaded;
}

// A worker shutting down may drop its client from any callback.
void TestApiClient::clientDestroyedInCallback()
{
    QFETCH(QByteArray, path);
    QFETCH(bool, occupyPool);
    QFETCH(Outcome, outcome);
    FakeApi api;
    QVERIFY(api.listen());
    api.setHandler([](const RecordedRequest &request) {
        return FakeReply{.body = request.path == "/big" ? QByteArray(1000, 'x') : QByteArray("ok"),
                         .hang = request.path == "/hang",
                         .dropConnection = request.path == "/drop"};
    });
    ApiClientConfig config = configFor(api.port());
    config.poolSize = 1;
    config.maxQueued = occupyPool ? 0 : 10;
    config.timeoutMs = 200;
    config.maxResponseBody = 100;
    QPointer<ApiClient> client = new ApiClient(config);
    int calls = 0;
    Outcome seen = Outcome::Ok;
    if (occupyPool)
        client->send(makeRequest("GET", "/hang"), nullptr, [&](const ApiResponse &) { ++calls; });
    client->send(makeRequest("GET", path), nullptr, [&](const ApiResponse &r) {
        ++calls;
        seen = r.outcome;
        delete client.data();
    });
    QTRY_VERIFY(!client);
    QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
    QCOMPARE(calls, 1);
    QCOMPARE(seen, outcome);
}

void TestApiClient::idleEmitted()
{
    FakeApi api;
    QVERIFY(api.listen());
    ApiClientConfig config = configFor(api.port());
    config.poolSize = 2;
    ApiClient client(config);
    QSignalSpy idle(&client, &ApiClient::idle);
    QList<qsizetype> idleSeenInCallbacks;
    for (int i = 0; i < 3; ++i)
        client.send(makeRequest("GET", "/"), nullptr,
                    [&](const ApiResponse &) { idleSeenInCallbacks.append(idle.size()); });
    QTRY_COMPARE(idle.size(), 1);
    QCOMPARE(idleSeenInCallbacks, QList<qsizetype>({0, 0, 0}));
    QCOMPARE(client.inFlight() + client.queued(), 0);
    client.send(makeRequest("GET", "/"), nullptr, [](const ApiResponse &) {});
    QTRY_COMPARE(idle.size(), 2);
}

void TestApiClient::idleConnectionClosed()
{
    RawServer server([&](QTcpSocket *socket, QByteArray &received) {
        while (server.takeHead(received))
            socket->write(OkResponse.data(), OkResponse.size());
    });
    QVERIFY(server.listen());
    ApiClientConfig config = configFor(server.port());
    config.idleTimeoutMs = 100;
    ApiClient client(config);
    QCOMPARE(fetch(client, "GET", "/").outcome, Outcome::Ok);
    QTRY_COMPARE(server.disconnects, 1);  // closed by the client: the server never closes
    QCOMPARE(fetch(client, "GET", "/").outcome, Outcome::Ok);
    QCOMPARE(server.connections, 2);
}

void TestApiClient::byteByByte_data()
{
    QTest::addColumn<QByteArray>("response");
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("body");
    QTest::addRow("content-length") << QByteArray("HTTP/1.1 201 Created\r\nX-Long-Header-Name: some value\r\n"
                                                  "Content-Length: 11\r\n\r\nhello world")
                                    << 201 << QByteArray("hello world");
    QTest::addRow("chunked") << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                                           "X-Long-Header-Name: some value\r\n\r\n"
                                           "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\n")
                             << 200 << QByteArray("hello world");
    QTest::addRow("100-continue first")
        << QByteArray("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nX-Long-Header-Name: some value\r\n"
                      "Content-Length: 2\r\n\r\nok")
        << 200 << QByteArray("ok");
}

void TestApiClient::byteByByte()
{
    QFETCH(QByteArray, response);
    QFETCH(int, status);
    QFETCH(QByteArray, body);
    RawServer server([&](QTcpSocket *socket, QByteArray &received) {
        while (server.takeHead(received))
            writeByteByByte(socket, response);
    });
    QVERIFY(server.listen());
    ApiClient client(configFor(server.port()));
    for (int i = 0; i < 2; ++i) {  // the second on the same connection: the parser was left clean
        const ApiResponse r = fetch(client, "GET", "/");
        QCOMPARE(r.outcome, Outcome::Ok);
        QCOMPARE(r.status, status);
        QCOMPARE(r.body, body);
        QCOMPARE(r.header("X-Long-Header-Name"), QByteArray("some value"));
    }
    QCOMPARE(server.connections, 1);
}

void TestApiClient::fakeApiPipelining_data()
{
    QTest::addColumn<bool>("byteByByte");
    QTest::addRow("one write") << false;
    QTest::addRow("byte by byte") << true;
}

// FakeApi serves every end-to-end test, so its own parsing gets a check too:
// pipelined requests, chunked request bodies, answers in order despite a delay.
void TestApiClient::fakeApiPipelining()
{
    QFETCH(bool, byteByByte);
    FakeApi api;
    QVERIFY(api.listen());
    api.setHandler([](const RecordedRequest &request) {
        return FakeReply{.body = "[" + request.path + ":" + request.body + "]",
                         .delayMs = request.path == "/a" ? 30 : 0};
    });
    QSignalSpy received(&api, &FakeApi::requestReceived);
    QTcpSocket socket;
    QByteArray answers;
    QObject::connect(&socket, &QTcpSocket::readyRead, &socket, [&] { answers += socket.readAll(); });
    socket.connectToHost(QHostAddress::LocalHost, api.port());
    QTRY_COMPARE(socket.state(), QAbstractSocket::ConnectedState);
    const QByteArray requests =
        "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        "3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\n\r\n"
        "GET /b?q=1 HTTP/1.1\r\nHost: x\r\n\r\n"
        "POST /c HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nxyz";
    if (byteByByte)
        writeByteByByte(&socket, requests);
    else
        socket.write(requests);
    QTRY_VERIFY(answers.contains("[/c:xyz]"));
    QCOMPARE(received.size(), 3);
    const QList<RecordedRequest> seen = api.requests();
    QCOMPARE(seen.size(), 3);
    QCOMPARE(seen[0].body, QByteArray("abcde"));
    QCOMPARE(seen[1].method, QByteArray("GET"));
    QCOMPARE(seen[1].path, QByteArray("/b"));
    QCOMPARE(seen[1].query, QByteArray("q=1"));
    QCOMPARE(seen[2].body, QByteArray("xyz"));
    QCOMPARE(seen[2].connection, 1);
    const qsizetype a = answers.indexOf("[/a:abcde]");
    const qsizetype b = answers.indexOf("[/b:]");
    const qsizetype c = answers.indexOf("[/c:xyz]");
    QVERIFY(a >= 0 && a < b && b < c);
    QCOMPARE(answers.count("HTTP/1.1 200 OK"), 3);
}

namespace {

// A server answering each GET with its target as the body, in order.
QByteArray answerWithTarget(const QByteArray &target, QByteArrayView extraHeaders = {})
{
    return "HTTP/1.1 200 OK\r\n" + extraHeaders.toByteArray() + "Content-Length: "
           + QByteArray::number(target.size()) + "\r\n\r\n" + target;
}

QList<QByteArray> bodiesOf(const QList<ApiResponse> &responses)
{
    QList<QByteArray> bodies;
    for (const ApiResponse &r : responses)
        bodies.append(r.outcome == Outcome::Ok ? r.body : "failed: " + r.error.toUtf8());
    return bodies;
}

const QList<QByteArray> FiveTargets{"/1", "/2", "/3", "/4", "/5"};

} // namespace

void TestApiClient::pipelineGathersOnePass_data()
{
    QTest::addColumn<int>("depth");
    QTest::addColumn<int>("connections");
    QTest::addRow("off: one request per connection") << 1 << 4;
    QTest::addRow("depth 8: the pass's requests on one") << 8 << 1;
}

// Requests sent in one pass of the event loop join the connection written to first
// and leave in one write; without pipelining each takes a pooled connection.
void TestApiClient::pipelineGathersOnePass()
{
    QFETCH(int, depth);
    QFETCH(int, connections);
    int reads = 0;
    RawServer server([&](QTcpSocket *socket, QByteArray &received) {
        ++reads;
        QByteArray target;
        while (server.takeHead(received, &target))
            socket->write(answerWithTarget(target));
    });
    QVERIFY(server.listen());
    ApiClientConfig config = configFor(server.port());
    config.poolSize = 4;
    config.pipelineDepth = depth;
    ApiClient client(config);
    QList<ApiResponse> responses;
    for (const QByteArray &target : FiveTargets)
        client.send(makeRequest("GET", target), nullptr, into(responses));
    QCOMPARE(client.inFlight(), std::min(5, 4 * depth));
    QTRY_COMPARE(responses.size(), 5);
    QCOMPARE(bodiesOf(responses), FiveTargets);
    QCOMPARE(server.connections, connections);
    if (depth > 1)
        QCOMPARE(reads, 1);  // all five heads came in one segment
    // The next pass starts afresh on the warm connection.
    QCOMPARE(fetch(client, "GET", "/6").body, QByteArray("/6"));
    QCOMPARE(server.connections, connections);
}

// No more than `depth` requests wait for answers on a connection; the rest queue.
void TestApiClient::pipelineDepthBound()
{
    int open = 0, mostOpen = 0;
    RawServer server([&](QTcpSocket *socket, QByteArray &received) {
        QByteArray target;
        while (server.takeHead(received, &target)) {
            mostOpen = std::max(mostOpen, ++open);
            // Answered a turn later, so that heads arriving together are counted together.
            QTimer::singleShot(0, socket, [&open, socket, target] {
                --open;
                socket->write(answerWithTarget(target));
            });
        }
    });
    QVERIFY(server.listen());
    ApiClientConfig config = configFor(server.port());
    config.poolSize = 1;
    config.pipelineDepth = 2;
    ApiClient client(config);
    QList<ApiResponse> responses;
    for (const QByteArray &target : FiveTargets)
        client.send(makeRequest("GET", target), nullptr, into(responses));
    QCOMPARE(client.inFlight(), 2);
    QCOMPARE(client.queued(), 3);
    QTRY_COMPARE(responses.size(), 5);
    QCOMPARE(bodiesOf(responses), FiveTargets);
    QCOMPARE(mostOpen, 2);
    QCOMPARE(server.connections, 1);
}

// A connection whose pipeline is full takes nothing more this pass, so its requests
// leave at once rather than at the end of the pass: they reach the server while
// the event loop has not run.
void TestApiClient::fullPipelineLeavesAtOnce()
{
    QTcpServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    ApiClientConfig config = configFor(server.serverPort());
    config.poolSize = 1;
    config.pipelineDepth = 2;
    ApiClient client(config);
    QList<ApiResponse> responses;
    client.send(makeRequest("GET", "/0"), nullptr, into(responses));  // connects
    QTRY_VERIFY(server.hasPendingConnections());
    std::unique_ptr<QTcpSocket> peer(server.nextPendingConnection());
    QByteArray head;
    QTRY_VERIFY((head += peer->readAll()).contains("\r\n\r\n"));
    peer->write(answerWithTarget("/0"));
    QTRY_COMPARE(responses.size(), 1);

    client.send(makeRequest("GET", "/1"), nullptr, into(responses));
    client.send(makeRequest("GET", "/2"), nullptr, into(responses));
    QByteArray heads;
    while (heads.count("\r\n\r\n") < 2 && peer->waitForReadyRead(5000))
        heads += peer->readAll();
    QCOMPARE(heads.count("\r\n\r\n"), 2);
    peer->write(answerWithTarget("/1") + answerWithTarget("/2"));
    QTRY_COMPARE(responses.size(), 3);
    QCOMPARE(bodiesOf(responses), (QList<QByteArray>{"/0", "/1", "/2"}));
}

void TestApiClient::pipelinedAnswersSplitAnyhow_data()
{
    QTest::addColumn<bool>("byteByByte");
    QTest::addRow("all answers in one write") << false;
    QTest::addRow("byte by byte") << true;
}

// Answers to pipelined requests may share a read or be cut anywhere; each goes to
// its own request, in order, with chunked and sized bodies alike.
void TestApiClient::pipelinedAnswersSplitAnyhow()
{
    QFETCH(bool, byteByByte);
    RawServer server([&](QTcpSocket *socket, QByteArray &received) {
        if (received.count("\r\n\r\n") < 3)
            return;
        QByteArray answers;
        QByteArray target;
        while (server.takeHead(received, &target)) {
            answers += target == "/2" ? "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                        "1\r\n/\r\n1\r\n2\r\n0\r\n\r\n"
                                      : answerWithTarget(target);
        }
        if (byteByByte)
            writeByteByByte(socket, answers);
        else
            socket->write(answers);
    });
    QVERIFY(server.listen());
    ApiClientConfig config = configFor(server.port());
    config.pipelineDepth = 4;
    ApiClient client(config);
    QList<ApiResponse> responses;
    for (const QByteArray &target : FiveTargets.first(3))
        client.send(makeRequest("GET", target), nullptr, into(responses));
    QTRY_COMPARE(responses.size(), 3);
    QCOMPARE(bodiesOf(responses), FiveTargets.first(3));
    QCOMPARE(server.connections, 1);
}

// A final answer with Connection: close means the server reads nothing after it
// (RFC 9112, 9.6): the requests pipelined behind it go out again, on a new
// connection, and each is answered exactly once.
void TestApiClient::pipelinedBehindConnectionClose()
{
    QList<QByteArray> answered;
    RawServer server([&](QTcpSocket *socket, QByteArray &received) {
        if (socket->state() != QAbstractSocket::ConnectedState)
            return;  // closing: nothing more is read
        QByteArray target;
        const bool first = server.connections == 1;
        while (server.takeHead(received, &target)) {
            answered.append(target);
            if (first) {
                socket->write(answerWithTarget(target, "Connection: close\r\n"));
                socket->disconnectFromHost();
                received.clear();  // the rest is never read
                return;
            }
            socket->write(answerWithTarget(target));
        }
    });
    QVERIFY(server.listen());
    ApiClientConfig config = configFor(server.port());
    config.pipelineDepth = 8;
    ApiClient client(config);
    QList<ApiResponse> responses;
    for (const QByteArray &target : FiveTargets)
        client.send(makeRequest("GET", target), nullptr, into(responses));
    QTRY_COMPARE(responses.size(), 5);
    QCOMPARE(bodiesOf(responses), FiveTargets);
    QCOMPARE(answered, FiveTargets);
    QCOMPARE(server.connections, 2);
}

// After a response that cannot be parsed, nobody knows what the server made of the
// requests behind it: they fail rather than go out twice.
void TestApiClient::pipelinedBehindBadResponse()
{
    RawServer server([&](QTcpSocket *socket, QByteArray &received) {
        if (server.takeHead(received))
            socket->write("HTTP/1.1 200 OK\r\nContent-Length: nonsense\r\n\r\n");
    });
    QVERIFY(server.listen());
    ApiClientConfig config = configFor(server.port());
    config.pipelineDepth = 8;
    ApiClient client(config);
    QList<ApiResponse> responses;
    for (const QByteArray &target : FiveTargets.first(3))
        client.send(makeRequest("GET", target), nullptr, into(responses));
    QTRY_COMPARE(responses.size(), 3);
    QCOMPARE(responses[0].outcome, Outcome::BadResponse);
    QCOMPARE(responses[1].outcome, Outcome::Unreachable);
    QCOMPARE(responses[2].outcome, Outcome::Unreachable);
    QVERIFY(responses[1].error.contains(QLatin1StringView("bad response")));
    QCOMPARE(server.connections, 1);
    QCOMPARE(client.inFlight() + client.queued(), 0);
}

// A request timing out takes its connection, and the requests pipelined behind it,
// whose own time has not run out, fail as cut off rather than waiting on.
void TestApiClient::pipelinedBehindTimeout()
{
    RawServer server([&](QTcpSocket *, QByteArray &received) {
        while (server.takeHead(received)) {
        }
    });
    QVERIFY(server.listen());
    ApiClientConfig config = configFor(server.port());
    config.poolSize = 1;
    config.pipelineDepth = 4;
    config.timeoutMs = 1000;
    ApiClient client(config);
    QList<ApiResponse> responses;
    client.send(makeRequest("GET", "/early"), nullptr, into(responses));
    // A later pass: behind the unanswered one on the pool's only connection.
    QTimer::singleShot(100, &client, [&] { client.send(makeRequest("GET", "/later"), nullptr, into(responses)); });
    QTRY_COMPARE(server.requests, 2);
    QCOMPARE(client.inFlight(), 2);
    QTRY_COMPARE(responses.size(), 2);
    QCOMPARE(responses[0].outcome, Outcome::Timeout);
    QCOMPARE(responses[1].outcome, Outcome::Unreachable);
    QVERIFY(responses[1].error.contains(QLatin1StringView("timed out")));
    QCOMPARE(client.inFlight() + client.queued(), 0);
}

// The keep-alive race with several requests written at once: none was read, so
// each goes out once more on a fresh connection.
void TestApiClient::pipelinedKeepAliveRace()
{
    int answers = 0;
    RawServer server([&](QTcpSocket *socket, QByteArray &received) {
        if (socket->state() != QAbstractSocket::ConnectedState)
            return;  // closing: nothing more is read
        QByteArray target;
        const bool first = server.connections == 1;
        while (server.takeHead(received, &target)) {
            ++answers;
            socket->write(answerWithTarget(target));
            if (first) {  // keep-alive promised, then gone
                socket->disconnectFromHost();
                received.clear();
                return;
            }
        }
    });
    QVERIFY(server.listen());
    ApiClientConfig config = configFor(server.port());
    config.pipelineDepth = 8;
    ApiClient client(config);
    QList<ApiResponse> responses;
    client.send(makeRequest("GET", "/0"), nullptr, [&](const ApiResponse &r) {
        responses.append(r);
        for (const QByteArray &target : FiveTargets.first(3))
            client.send(makeRequest("GET", target), nullptr, into(responses));
    });
    QTRY_COMPARE(responses.size(), 4);
    QCOMPARE(bodiesOf(responses), (QList<QByteArray>{"/0", "/1", "/2", "/3"}));
    QCOMPARE(answers, 4);
    QCOMPARE(server.connections, 2);
}

// QSslSocket gathers its own writes; a depth given for an https API is ignored.
void TestApiClient::pipelineOffForTls()
{
    ApiClientConfig config = configFor(closedPort());
    config.tls = true;
    config.poolSize = 1;
    config.pipelineDepth = 8;
    ApiClient client(config);
    for (const QByteArray &target : FiveTargets.first(3))
        client.send(makeRequest("GET", target), nullptr, {});
    QCOMPARE(client.inFlight(), 1);
    QCOMPARE(client.queued(), 2);
}

QTEST_GUILESS_MAIN(TestApiClient)
#include "tst_apiclient.moc"
