#pragma once

#include <QObject>
#include <functional>

#include "HttpRequestReader.h"

class QTcpSocket;
class QTimer;

namespace ws2api {

// The server side of one keep-alive HTTP/1.1 connection: requests are handed out one
// at a time, and the next is read only once the current one is answered, so answers
// keep the order of pipelined requests. Used by the push listener and the demo API.
class HttpServerConnection : public QObject
{
    Q_OBJECT
public:
    using RequestHandler = std::function<void(HttpServerConnection *, const HttpRequest &)>;
    // A request the reader refused (431, 413, 400); `head` is set for 413.
    using ErrorHandler = std::function<void(HttpServerConnection *, HttpRequestReader::Error,
                                            const HttpHead &head)>;

    // Takes `socket`, reading it from its first byte.
    HttpServerConnection(QTcpSocket *socket, qint64 maxBody, RequestHandler onRequest,
                         ErrorHandler onError, QObject *parent);
    ~HttpServerConnection() override;

    // Answers the current request; `close` closes the connection once it is written.
    void respond(const QByteArray &response, bool close);
    QTcpSocket *socket() const { return m_socket; }

private:
    void readMore();
    void processNext();

    QTcpSocket *m_socket;
    HttpRequestReader m_reader;
    RequestHandler m_onRequest;
    ErrorHandler m_onError;
    QTimer *m_idleTimer;
    bool m_busy = false;
    bool m_keepAlive = true;
    bool m_closing = false;
    bool m_peerDone = false;  // the client ended its side: answer what came, then close
};

} // namespace ws2api
