#pragma once

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QPair>
#include <QTcpServer>
#include <QUrl>
#include <functional>

namespace ws2api::test {

struct RecordedRequest
{
    QByteArray method;
    QByteArray target;  // raw, as received: "/base/CP1?x=1"
    QByteArray path;    // without the query
    QByteArray query;   // without '?'
    QList<QPair<QByteArray, QByteArray>> headers;
    QByteArray body;
    int connection = 0;  // which accepted TCP connection carried it: 1, 2, ...
    QByteArray header(QByteArrayView name) const;  // case-insensitive, first match
};

struct FakeReply
{
    int status = 200;
    QByteArray body;
    QList<QPair<QByteArray, QByteArray>> headers;  // extra headers
    bool chunked = false;     // send the body with Transfer-Encoding: chunked
    bool hang = false;        // never answer (the connection stays open)
    bool dropConnection = false;  // close the connection without answering
    int delayMs = 0;          // answer this much later
    // Misbehaviour, for fault suites:
    QByteArray raw;           // these bytes instead of a formatted response (garbage, a crafted head)
    qsizetype cutAfter = -1;  // only this many bytes of the response, then close the connection
    int trickleMs = 0;        // after the response, `trickle` again every trickleMs, never ending
    QByteArray trickle = "x";
    bool flood = false;       // with trickle: send it as fast as the peer takes it, never ending
    bool closeAfter = false;  // close once answered, without saying so (no Connection: close)
};

// A real HTTP/1.1 server on 127.0.0.1 (port 0) for tests: keep-alive, records every
// request, answers through a handler. Default handler: GET -> "ok", POST -> echo of
// the body, anything else -> 204.
class FakeApi : public QObject
{
    Q_OBJECT
public:
    using Handler = std::function<FakeReply(const RecordedRequest &)>;

    explicit FakeApi(QObject *parent = nullptr);
    ~FakeApi() override;

    bool listen(quint16 port = 0);  // 127.0.0.1, port 0: any free one
    // The same over TLS with this PEM certificate chain and EC key; url() says https.
    bool listenTls(const QString &certificateFile, const QString &keyFile);
    quint16 port() const;
    QUrl url(const QString &basePath = QStringLiteral("/")) const;  // http://127.0.0.1:PORT<basePath>

    void setHandler(Handler handler);
    QList<RecordedRequest> requests() const;
    int requestCount() const;
    int connectionsAccepted() const;  // TCP connections accepted so far
    void closeAllConnections();       // abort every open server-side connection
    int openConnections() const;      // server-side connections open now
    // As a crashing API: stops listening and aborts every connection, with whatever
    // requests they carry unanswered. listen(port()) starts it again on the same port.
    void stop();

Q_SIGNALS:
    void requestReceived(const ws2api::test::RecordedRequest &request);

private:
    struct Private;
    Private *d;
};

} // namespace ws2api::test
