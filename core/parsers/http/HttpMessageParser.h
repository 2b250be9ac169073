#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QPair>
#include <http_parser.h>

namespace ws2api {

// http_parser (nodejs/http-parser 2.9, Debian's non-strict build) with the one set of
// callbacks the request head, request stream and response readers share: the target
// and header fields joined from the pieces http_parser hands them out in, the body
// collected up to a cap, and a pause at the end of the head and at the end of the
// message, so that the caller looks at each before another byte is read.
class HttpMessageParser
{
public:
    enum class Type { Request, Response };
    enum class Status {
        Incomplete,       // every byte taken; more are needed
        HeadComplete,     // paused at the end of a head: url() and headers() are whole
        MessageComplete,  // paused at the end of a message: body() is whole
        BodyTooLarge,     // a chunk announced, or body bytes received, over maxBody
        Upgrade,          // stopped at a protocol switch without a message end
        Error,            // error() says what http_parser refused
    };

    // The facts of the head now read, as http_parser had them at its end.
    struct Head
    {
        int statusCode = 0;          // responses
        unsigned flags = 0;          // F_CHUNKED, F_CONTENTLENGTH, ...
        bool transferEncoding = false;
        quint64 contentLength = 0;   // when flags has F_CONTENTLENGTH
        bool keepAlive = true;
        bool bodyless = false;       // a 1xx, 204 or 304 response: no body, whatever the head says
    };

    HttpMessageParser(Type type, qint64 maxBody);
    // http_parser keeps a pointer to this object.
    HttpMessageParser(const HttpMessageParser &) = delete;
    HttpMessageParser &operator=(const HttpMessageParser &) = delete;

    // Ready for the start of a new stream, with nothing collected.
    void reset();
    // Runs http_parser over `data` from where it stopped (a pause is lifted first)
    // and stops at the first of the events above. *consumed counts the bytes taken:
    // a HeadComplete pause stops on the head's last byte without taking it, so that
    // byte is given again with the rest. Empty data does nothing (finish() is the end).
    Status execute(QByteArrayView data, qsizetype *consumed);
    // The peer closed: ends a body that runs to the end of the stream
    // (MessageComplete); anything else cut short gives Error.
    Status finish();

    const http_parser &state() const { return m_parser; }
    http_errno error() const { return HTTP_PARSER_ERRNO(&m_parser); }
    const Head &head() const { return m_head; }
    // Whether the message just completed lets the connection carry another.
    bool messageKeepAlive() const { return m_messageKeepAlive; }

    // What the current message has collected; cleared when the next one begins.
    const QByteArray &url() const { return m_url; }
    QList<QPair<QByteArray, QByteArray>> &headers() { return m_headers; }
    const QList<QPair<QByteArray, QByteArray>> &headers() const { return m_headers; }
    QByteArray &body() { return m_body; }

private:
    static HttpMessageParser *of(http_parser *parser);
    static int onMessageBegin(http_parser *parser);
    static int onUrl(http_parser *parser, const char *at, size_t length);
    static int onHeaderField(http_parser *parser, const char *at, size_t length);
    static int onHeaderValue(http_parser *parser, const char *at, size_t length);
    static int onHeadersComplete(http_parser *parser);
    static int onChunkHeader(http_parser *parser);
    static int onBody(http_parser *parser, const char *at, size_t length);
    static int onMessageComplete(http_parser *parser);
    static const http_parser_settings &settings();

    enum class Event { None, HeadComplete, MessageComplete, BodyTooLarge };

    http_parser m_parser;
    const http_parser_type m_type;
    const quint64 m_maxBody;
    Event m_event = Event::None;
    Head m_head;
    bool m_messageKeepAlive = true;
    bool m_lastWasValue = true;  // the next field piece starts a new header
    QByteArray m_url;
    QList<QPair<QByteArray, QByteArray>> m_headers;
    QByteArray m_body;
};

} // namespace ws2api
