#pragma once

#include <QByteArray>
#include <QElapsedTimer>
#include <QObject>
#include <functional>

#include "HttpRequestReader.h"

class QTcpSocket;
class QTimer;

namespace ws2api {

// The server side of one keep-alive HTTP/1.1 connection: requests are handed out one
// at a time, and the next is read only once the current one is answered, so answers
// keep the order of pipelined requests. Used by the push listener and the demo API.
//
// What a peer can make it hold is bounded, whatever it sends: the socket is read only
// while no parsed request waits (so at most one request is parsed ahead, and a peer
// pipelining without end meets TCP's flow control instead of our memory), and no
// request is taken while the answers already written wait for the peer to read them
// beyond a small amount. A request must arrive whole within the request timeout of
// its first byte (408 and closed otherwise), and a connection without any progress,
// in or out, is closed after the idle timeout.
class HttpServerConnection : public QObject
{
    Q_OBJECT
public:
    using RequestHandler = std::function<void(HttpServerConnection *, const HttpRequest &)>;
    // A request the reader refused (431, 414, 413, 400); `head` is set for 413.
    using ErrorHandler = std::function<void(HttpServerConnection *, HttpRequestReader::Error,
                                            const HttpHead &head)>;

    // Takes `socket`, reading it from its first byte.
    HttpServerConnection(QTcpSocket *socket, qint64 maxBody, RequestHandler onRequest,
                         ErrorHandler onError, QObject *parent);
    ~HttpServerConnection() override;

    // A request begun must be whole this long after its first byte was read
    // (default 10 s); one already begun gets this long from now.
    void setRequestTimeout(int ms);

    // Answers the current request; `close` closes the connection once it is written.
    void respond(const QByteArray &response, bool close);
    QTcpSocket *socket() const { return m_socket; }

private:
    // Reads and parses until a request waits, the socket has nothing more, or the
    // reader wants no more; then hands out what it can.
    void pump();
    void fill();
    void onRequestTimeout();
    void onIdleTimeout();
    // Whether anything read or due waits to be handled without a readyRead().
    bool hasPendingInput() const;
    void dropUnparsed();
    void close();

    QTcpSocket *m_socket;
    HttpRequestReader m_reader;
    RequestHandler m_onRequest;
    ErrorHandler m_onError;
    QTimer *m_idleTimer;
    QElapsedTimer m_lastActivity;  // the last byte in or out
    QTimer *m_requestTimer;
    QByteArray m_unparsed;  // read from the socket; the reader has taken it up to m_unparsedPos
    qsizetype m_unparsedPos = 0;
    int m_requestTimeoutMs;
    bool m_busy = false;
    bool m_keepAlive = true;
    bool m_closing = false;
    bool m_answeringError = false;  // the reader refused a request: its answer closes
    bool m_timedOut = false;  // a request did not arrive whole in time: 408 once the rest is answered
    bool m_peerDone = false;  // the client ended its side: answer what came, then close
};

} // namespace ws2api
