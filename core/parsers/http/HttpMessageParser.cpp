#include "HttpMessageParser.h"

#include <algorithm>

namespace ws2api {

HttpMessageParser::HttpMessageParser(Type type, qint64 maxBody)
    : m_type(type == Type::Request ? HTTP_REQUEST : HTTP_RESPONSE)
    , m_maxBody(quint64(std::max<qint64>(maxBody, 0)))
{
    reset();
}

void HttpMessageParser::reset()
{
    http_parser_init(&m_parser, m_type);
    m_parser.data = this;
    m_event = Event::None;
    m_head = Head();
    m_messageKeepAlive = true;
    m_lastWasValue = true;
    m_url.clear();
    m_headers.clear();
    m_body.clear();
}

HttpMessageParser::Status HttpMessageParser::execute(QByteArrayView data, qsizetype *consumed)
{
    *consumed = 0;
    if (error() == HPE_PAUSED)
        http_parser_pause(&m_parser, 0);
    // http_parser takes an empty buffer for the end of the stream.
    if (data.isEmpty())
        return error() == HPE_OK ? Status::Incomplete : Status::Error;
    m_event = Event::None;
    *consumed = qsizetype(http_parser_execute(&m_parser, &settings(), data.data(), size_t(data.size())));
    switch (m_event) {
    case Event::HeadComplete:
        return Status::HeadComplete;
    case Event::MessageComplete:
        return Status::MessageComplete;
    case Event::BodyTooLarge:
        return Status::BodyTooLarge;
    case Event::None:
        break;
    }
    if (error() != HPE_OK)
        return Status::Error;
    return m_parser.upgrade ? Status::Upgrade : Status::Incomplete;
}

HttpMessageParser::Status HttpMessageParser::finish()
{
    if (error() == HPE_PAUSED)
        http_parser_pause(&m_parser, 0);
    if (error() != HPE_OK)
        return Status::Error;
    m_event = Event::None;
    http_parser_execute(&m_parser, &settings(), nullptr, 0);
    if (m_event == Event::MessageComplete)
        return Status::MessageComplete;
    return error() == HPE_OK ? Status::Incomplete : Status::Error;
}

HttpMessageParser *HttpMessageParser::of(http_parser *parser)
{
    return static_cast<HttpMessageParser *>(parser->data);
}

// Also called for a response after an interim 1xx one, which it replaces.
int HttpMessageParser::onMessageBegin(http_parser *parser)
{
    HttpMessageParser *p = of(parser);
    p->m_head = Head();
    p->m_lastWasValue = true;
    p->m_url.clear();
    p->m_headers.clear();
    p->m_body.clear();
    return 0;
}

int HttpMessageParser::onUrl(http_parser *parser, const char *at, size_t length)
{
    of(parser)->m_url.append(at, qsizetype(length));
    return 0;
}

int HttpMessageParser::onHeaderField(http_parser *parser, const char *at, size_t length)
{
    HttpMessageParser *p = of(parser);
    if (p->m_lastWasValue)
        p->m_headers.append({QByteArray(), QByteArray()});
    p->m_headers.last().first.append(at, qsizetype(length));
    p->m_lastWasValue = false;
    return 0;
}

int HttpMessageParser::onHeaderValue(http_parser *parser, const char *at, size_t length)
{
    HttpMessageParser *p = of(parser);
    if (p->m_headers.isEmpty())  // http_parser gives a name first; never trust that blindly
        p->m_headers.append({QByteArray(), QByteArray()});
    p->m_headers.last().second.append(at, qsizetype(length));
    p->m_lastWasValue = true;
    return 0;
}

// Pausing here makes http_parser_execute() return with the head's last byte
// unconsumed, which is how a caller learns where the head ends without a second
// scan. The facts are copied now because they describe this head only.
int HttpMessageParser::onHeadersComplete(http_parser *parser)
{
    HttpMessageParser *p = of(parser);
    const int status = int(parser->status_code);
    p->m_head.statusCode = status;
    p->m_head.flags = parser->flags;
    p->m_head.transferEncoding = parser->uses_transfer_encoding != 0;
    p->m_head.contentLength = parser->content_length;
    p->m_head.keepAlive = http_should_keep_alive(parser) != 0;
    // RFC 9112 6.3: such a response ends with its head, whatever Content-Length or
    // Transfer-Encoding say; http_parser would wait for the body they announce (and
    // take the next response for it). 1 tells it there is none.
    p->m_head.bodyless = parser->type == HTTP_RESPONSE
        && (status / 100 == 1 || status == 204 || status == 304);
    p->m_event = Event::HeadComplete;
    http_parser_pause(parser, 1);
    return p->m_head.bodyless ? 1 : 0;
}

// A chunk's size is known before its data: a peer announcing too much is turned
// away without waiting for (or reading) the bytes.
int HttpMessageParser::onChunkHeader(http_parser *parser)
{
    HttpMessageParser *p = of(parser);
    if (parser->content_length > p->m_maxBody - quint64(p->m_body.size())) {
        p->m_event = Event::BodyTooLarge;
        return 1;
    }
    return 0;
}

int HttpMessageParser::onBody(http_parser *parser, const char *at, size_t length)
{
    HttpMessageParser *p = of(parser);
    if (quint64(p->m_body.size()) + length > p->m_maxBody) {
        p->m_event = Event::BodyTooLarge;
        return 1;
    }
    p->m_body.append(at, qsizetype(length));
    return 0;
}

int HttpMessageParser::onMessageComplete(http_parser *parser)
{
    HttpMessageParser *p = of(parser);
    p->m_messageKeepAlive = http_should_keep_alive(parser) != 0;
    p->m_event = Event::MessageComplete;
    http_parser_pause(parser, 1);
    return 0;
}

const http_parser_settings &HttpMessageParser::settings()
{
    static const http_parser_settings settings = [] {
        http_parser_settings s;
        http_parser_settings_init(&s);
        s.on_message_begin = onMessageBegin;
        s.on_url = onUrl;
        s.on_header_field = onHeaderField;
        s.on_header_value = onHeaderValue;
        s.on_headers_complete = onHeadersComplete;
        s.on_chunk_header = onChunkHeader;
        s.on_body = onBody;
        s.on_message_complete = onMessageComplete;
        return s;
    }();
    return settings;
}

} // namespace ws2api
