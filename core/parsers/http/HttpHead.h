#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QPair>

namespace ws2api {

class HttpMessageParser;

// One parsed HTTP/1.x request head (request line and header fields).
struct HttpHead
{
    QByteArray method;   // "GET"
    QByteArray target;   // raw request target: "/ocpp/CP%201?a=b"
    QByteArray path;     // target without the query: "/ocpp/CP%201"
    QByteArray query;    // after '?', without it; empty when none
    int versionMajor = 1;
    int versionMinor = 1;
    QList<QPair<QByteArray, QByteArray>> headers;  // in order, values trimmed

    qint64 contentLength = -1;  // -1 when absent
    bool chunked = false;       // Transfer-Encoding: chunked
    bool keepAlive = true;      // per version and Connection header
    bool upgradeWebSocket = false;  // Upgrade: websocket (token match, case-insensitive)
    bool connectionUpgrade = false; // Connection: upgrade (likewise)

    QByteArray header(QByteArrayView name) const;            // first match, case-insensitive
    QList<QByteArray> headerValues(QByteArrayView name) const;  // every match, in order

    enum class Status { Complete, Incomplete, TooLarge, Invalid };

    // Looks for a complete head at the start of `data` ("\r\n\r\n"; bare "\n\n" is
    // accepted too). Complete: *head is filled and *headLength is the number of bytes
    // the head takes, including the blank line. Incomplete: more bytes are needed.
    // TooLarge: no end within maxHeadBytes. Invalid: not an HTTP/1.x request head.
    static Status parse(QByteArrayView data, HttpHead *head, qsizetype *headLength,
                        qsizetype maxHeadBytes = 16 * 1024);

    // What QWebSocketServer (Qt 6.4) reads of a handshake at most: a line of 8 KiB and
    // 100 header fields. Beyond that it drops the connection without a word, and
    // only once the API has accepted the client; so every head, on both listeners, is
    // held to these before anything else is done with it.
    static constexpr qsizetype MaxLineBytes = 8 * 1024;  // a line with its line end
    static constexpr int MaxFields = 100;

    // Follows the lines of one head as its bytes arrive, in any pieces, and tells as
    // soon as one is over the limits above (each byte is looked at once).
    class LineLimits
    {
    public:
        enum class Verdict { Within, RequestLineTooLong, FieldsTooLarge };

        // `bytes` continue the head; what follows its blank line is not looked at.
        Verdict feed(QByteArrayView bytes);
        Verdict verdict() const { return m_verdict; }

    private:
        qsizetype m_lineBytes = 0;  // of the line not ended yet
        int m_lines = 0;            // lines ended, the request line included
        bool m_crLast = false;      // the line's last byte so far is a CR
        bool m_ended = false;       // the blank line came
        Verdict m_verdict = Verdict::Within;
    };

    // The head `parser` has just read (it paused at HeadComplete), with the checks
    // http_parser leaves out made on `bytes`, the head's own bytes. false: Invalid. The
    // request stream uses this, so it and parse() agree on what a valid head is.
    static bool fromParser(const HttpMessageParser &parser, QByteArrayView bytes, HttpHead *head);
};

} // namespace ws2api
