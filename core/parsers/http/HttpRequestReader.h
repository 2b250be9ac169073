#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <memory>

#include "HttpHead.h"

namespace ws2api {

struct HttpRequest
{
    HttpHead head;
    QByteArray body;  // de-chunked
};

// Reads a stream of HTTP/1.1 requests (keep-alive, pipelined) from one connection:
// feed it bytes as they arrive, take complete requests out. Bodies by Content-Length
// or chunked. Used by the push listener and the demo API.
class HttpRequestReader
{
public:
    enum class Error {
        None,
        HeadTooLarge,   // answer 431 and close (over maxHead, a line or the fields over HttpHead's limits)
        RequestLineTooLong,  // answer 414 and close (HttpHead::MaxLineBytes)
        BodyTooLarge,   // answer 413 and close (known from Content-Length or while de-chunking)
        Malformed,      // answer 400 and close
    };

    explicit HttpRequestReader(qint64 maxBody, qsizetype maxHead = 16 * 1024);
    ~HttpRequestReader();

    void feed(QByteArrayView data);
    // As feed(), but stops once a complete request waits to be taken (next()): how many
    // bytes of `data` it took; the rest must be given again. So a peer that pipelines
    // without end costs one parsed request at a time, not as many as it sends.
    qsizetype feedSome(QByteArrayView data);
    // Whether a complete request waits to be taken.
    bool hasRequest() const;
    // Whether bytes of a request not complete yet were taken (for a deadline on it).
    bool inRequest() const;
    // Whether more bytes would be read at all: not after an error, nor after a
    // request that ends the connection.
    bool wantsMore() const;

    // Takes the next complete request, if any. Once error() != None no more requests
    // come out. A request whose head is complete but whose body is over maxBody is
    // not returned: error() says BodyTooLarge and headOfRejected() has its head (so
    // the caller can still run checks that come before the size check).
    // Requests completed before the error come out first: error() stays None until
    // they have been taken, so "while (next()) ...; then check error()" answers all.
    bool next(HttpRequest *request);
    Error error() const;
    const HttpHead &headOfRejected() const;

private:
    struct State;
    std::unique_ptr<State> d;
};

} // namespace ws2api
