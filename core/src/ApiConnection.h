#pragma once

#include <QByteArray>
#include <QLoggingCategory>
#include <QObject>
#include <QPointer>
#include <deque>
#include <memory>

#include "ApiClient.h"
#include "DirectTcpSocket.h"
#include "HttpResponseReader.h"

namespace ws2api {

Q_DECLARE_LOGGING_CATEGORY(lcApiClient)

// A request accepted by ApiClient::send(), from the queue until its callback.
struct PendingRequest
{
    QByteArray wire;              // the whole request, built once; shared with the socket buffer
    QPointer<QObject> context;
    bool hasContext = false;      // a null context means "always call back"
    ApiClient::Callback done;
    qint64 deadline = 0;          // on ApiClientPrivate's clock, ms
    bool retried = false;
    qint64 queuedAtUs = 0;        // on ApiClientPrivate's clock
    qint64 waitedUs = -1;         // in the queue until a pooled connection took it; -1: not yet
};

class ApiConnection;

// What a connection reports to its pool. Both calls come from the event loop, and
// the connection touches nothing of its own after making them, so the owner may
// close it (and even be destroyed from a user callback) inside them.
class ApiConnectionOwner
{
public:
    // A complete response to the oldest open request (Ok or BadResponse); that
    // request is still attached: take it with takeRequest(). reusable() says
    // whether the connection can carry more requests; when it cannot, the requests
    // behind it are still attached too, and laterRequestsUnread() says whether the
    // server declared it would not process them (Connection: close).
    virtual void responseArrived(ApiConnection *connection, ApiResponse &response) = 0;
    // The connection is unusable (connect failed, closed, reset, garbage while
    // idle). Its open requests, if any, are still attached.
    virtual void connectionLost(ApiConnection *connection, const QString &error) = 0;

protected:
    ~ApiConnectionOwner() = default;
};

// One pooled keep-alive connection to the API, responses parsed by an
// HttpResponseReader. It carries one request at a time, or with pipelining (a
// depth over 1, plaintext only) several, answered in the order sent; then writes
// are gathered and leave together when the event loop's pass ends (the write
// notifier's turn), so the requests of one pass cost one send().
// Destroyed with deleteLater() only, because it may be given up from inside its
// own socket's signals.
class ApiConnection : public QObject
{
    Q_OBJECT
public:
    // Plaintext over a DirectTcpSocket, or TLS (config.tls) over a QSslSocket.
    ApiConnection(ApiConnectionOwner *owner, const ApiClientConfig &config);
    ~ApiConnection() override;

    // Connects on first use; sends now, or with the pass's other writes when
    // pipelining.
    void send(const QString &host, quint16 port, PendingRequest request);

    bool hasRequest() const { return !m_requests.empty(); }
    int openRequests() const { return int(m_requests.size()); }
    // Oldest first: the one the next response answers.
    const std::deque<PendingRequest> &requests() const { return m_requests; }
    const PendingRequest &request() const { return m_requests.front(); }
    PendingRequest takeRequest();
    // Written this pass and not yet sent: another request joins the same send().
    bool writePending() const { return m_socket->bytesToWrite() > 0; }

    // Whether the oldest open request went out on a connection that had already
    // carried a response: only those can hit the keep-alive race.
    bool reused() const { return m_completed > 0; }
    // Whether any byte of a response to the oldest open request has arrived.
    bool responseStarted() const { return m_responseBytes > 0; }
    bool reusable() const { return m_reusable; }
    // After a final response with Connection: close, the server processes no
    // further request of this connection (RFC 9112, 9.6): they may go elsewhere.
    bool laterRequestsUnread() const { return m_closeAnnounced; }

    qint64 idleSince() const { return m_idleSince; }
    void setIdleSince(qint64 ms) { m_idleSince = ms; }

    // Stops all reporting to the owner and drops the TCP connection.
    void close();
    // Whether one of our socket's signals is being handled further up the stack,
    // so that deleting us now would pull the socket out from under Qt.
    bool handling() const { return m_handling > 0; }

private:
    // Both return true when they reported to the owner in a way that ends this
    // read (the connection was closed); nothing more may be done then.
    bool readResponse();
    bool feed(const char *data, qsizetype size);
    void onDisconnected();
    void onError(QAbstractSocket::SocketError error);
    void fail(const QString &error);
    bool finishResponse();

    ApiConnectionOwner *m_owner;
    std::unique_ptr<QTcpSocket> m_socket;
    bool m_tls = false;
    int m_depth = 1;
    HttpResponseReader m_reader;
    std::deque<PendingRequest> m_requests;
    QString m_deferredError;     // a connect error raised inside connectToHost()
    int m_handling = 0;
    qint64 m_responseBytes = 0;
    qint64 m_idleSince = 0;
    int m_completed = 0;
    bool m_reusable = true;
    bool m_closeAnnounced = false;
    bool m_inConnect = false;
    bool m_closed = false;
};

} // namespace ws2api
