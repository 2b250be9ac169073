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

    // The head `parser` has just read (it paused at HeadComplete), with the checks
    // http_parser leaves out made on `bytes`, the head's own bytes. false: Invalid. The
    // request stream uses this, so it and parse() agree on what a valid head is.
    static bool fromParser(const HttpMessageParser &parser, QByteArrayView bytes, HttpHead *head);
};

} // namespace ws2api
