#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QPair>
#include <QString>
#include <memory>

namespace ws2api {

class HttpMessageParser;

// Reads the one HTTP/1.x response to a request sent on a keep-alive connection
// (ApiConnection's): feed it bytes as they arrive, finish() when the peer closes.
// Bodies by Content-Length, chunked or up to the close; interim 1xx responses are
// skipped; a body over maxBody (announced or received) is refused.
class HttpResponseReader
{
public:
    enum class Status {
        Incomplete,    // more bytes are needed
        Complete,      // response() is whole
        BodyTooLarge,  // over maxBody
        Upgrade,       // the server switched protocols
        Malformed,     // not an HTTP/1.x response
    };

    struct Response
    {
        int status = 0;
        QList<QPair<QByteArray, QByteArray>> headers;  // names as sent, values untrimmed
        QByteArray body;                               // de-chunked
    };

    explicit HttpResponseReader(qint64 maxBody);
    ~HttpResponseReader();

    // Ready for the response to the next request.
    void reset();
    // Once the status is no longer Incomplete it stays, and no more bytes are taken:
    // consumed() then tells where the response ended in this feed (what follows
    // belongs to the next response on a pipelined connection).
    Status feed(QByteArrayView data);
    qsizetype consumed() const { return m_consumed; }
    // The peer closed the connection: completes a body that runs to the close.
    // Incomplete then means the response was cut short (or never began).
    Status finish();

    Status status() const { return m_status; }
    // The whole response (Complete); taking it leaves an empty one behind.
    Response takeResponse();
    // Complete: whether the connection may carry another request (HTTP/1.1 without
    // Connection: close, and a body that did not run to the close).
    bool keepAlive() const { return m_keepAlive; }
    // Complete: bytes followed the response in the same feed (the next response,
    // or a confused server when no other request is open).
    bool hasExcessBytes() const { return m_excessBytes; }
    // For logs, when the status is an error: "response body over N bytes", ...
    QString errorString() const;

private:
    Status headComplete();
    Status messageComplete();

    std::unique_ptr<HttpMessageParser> m_parser;
    const qint64 m_maxBody;
    Status m_status = Status::Incomplete;
    Response m_response;
    bool m_keepAlive = true;
    bool m_excessBytes = false;
    qsizetype m_consumed = 0;
};

} // namespace ws2api
