#include "HttpRequestReader.h"

#include <http_parser.h>

#include <algorithm>
#include <deque>

namespace ws2api {

// One http_parser per request, run over the bytes as they arrive, so each byte is
// looked at once however the stream is split. The parser is paused at the end of
// the head (to check it, and the announced body size, before any body byte is
// read) and at the end of the message (so the next request starts on a fresh
// parser). Only the current head (<= maxHead) and body (<= maxBody) are kept.
struct HttpRequestReader::State
{
    enum class Phase { Head, Body, Closed, Failed };

    State(qint64 maxBody, qsizetype maxHead)
        : maxBody(std::max<qint64>(maxBody, 0)), maxHead(maxHead)
    {
        startHead();
    }

    void feed(QByteArrayView data);
    qsizetype feedHead(QByteArrayView data);
    qsizetype feedBody(QByteArrayView data);
    void startHead();
    void finishHead();
    void fail(Error e);

    static State *of(http_parser *parser);
    static int onHeadersComplete(http_parser *parser);
    static int onChunkHeader(http_parser *parser);
    static int onBody(http_parser *parser, const char *at, size_t length);
    static int onMessageComplete(http_parser *parser);
    static const http_parser_settings &settings();

    const qint64 maxBody;
    const qsizetype maxHead;
    http_parser parser;
    Phase phase = Phase::Head;
    QByteArray headBytes;
    qsizetype skippedLines = 0;  // empty lines before the head, counted against maxHead
    bool headComplete = false;
    bool messageComplete = false;
    bool bodyTooLarge = false;
    HttpRequest current;
    std::deque<HttpRequest> ready;
    Error error = Error::None;  // reported once the requests before it are taken
    HttpHead rejectedHead;
};

namespace {

bool isLineEnd(char c)
{
    return c == '\r' || c == '\n';
}

} // namespace

HttpRequestReader::State *HttpRequestReader::State::of(http_parser *parser)
{
    return static_cast<State *>(parser->data);
}

int HttpRequestReader::State::onHeadersComplete(http_parser *parser)
{
    of(parser)->headComplete = true;
    http_parser_pause(parser, 1);
    return 0;
}

// A chunk's size is known before its data: a client announcing too much is
// turned away without waiting for (or reading) the bytes.
int HttpRequestReader::State::onChunkHeader(http_parser *parser)
{
    State *s = of(parser);
    if (parser->content_length > quint64(s->maxBody - s->current.body.size())) {
        s->bodyTooLarge = true;
        return 1;
    }
    return 0;
}

int HttpRequestReader::State::onBody(http_parser *parser, const char *at, size_t length)
{
    State *s = of(parser);
    if (quint64(s->current.body.size()) + length > quint64(s->maxBody)) {
        s->bodyTooLarge = true;
        return 1;
    }
    s->current.body.append(at, qsizetype(length));
    return 0;
}

int HttpRequestReader::State::onMessageComplete(http_parser *parser)
{
    of(parser)->messageComplete = true;
    http_parser_pause(parser, 1);
    return 0;
}

const http_parser_settings &HttpRequestReader::State::settings()
{
    static const http_parser_settings settings = [] {
        http_parser_settings s;
        http_parser_settings_init(&s);
        s.on_headers_complete = onHeadersComplete;
        s.on_chunk_header = onChunkHeader;
        s.on_body = onBody;
        s.on_message_complete = onMessageComplete;
        return s;
    }();
    return settings;
}

void HttpRequestReader::State::startHead()
{
    http_parser_init(&parser, HTTP_REQUEST);
    parser.data = this;
    headBytes.clear();
    skippedLines = 0;
    headComplete = false;
    messageComplete = false;
    current = HttpRequest();
    phase = Phase::Head;
}

void HttpRequestReader::State::fail(Error e)
{
    error = e;
    phase = Phase::Failed;
    headBytes.clear();
    current = HttpRequest();
}

void HttpRequestReader::State::feed(QByteArrayView data)
{
    qsizetype pos = 0;
    while (pos < data.size() && (phase == Phase::Head || phase == Phase::Body)) {
        const Phase before = phase;
        const qsizetype step = phase == Phase::Head ? feedHead(data.sliced(pos))
                                                    : feedBody(data.sliced(pos));
        Q_ASSERT(step > 0 || phase != before);
        Q_UNUSED(before);
        pos += step;
    }
}

qsizetype HttpRequestReader::State::feedHead(QByteArrayView data)
{
    qsizetype pos = 0;
    // RFC 9112 2.2: ignore empty lines before a request line (some clients send
    // CRLF after a POST body).
    while (headBytes.isEmpty() && pos < data.size() && isLineEnd(data[pos])) {
        ++pos;
        ++skippedLines;
    }
    if (skippedLines + headBytes.size() >= maxHead) {
        fail(Error::HeadTooLarge);
        return data.size();
    }
    // http_parser takes an empty buffer for the end of the stream.
    if (pos == data.size())
        return pos;
    const qsizetype allowed = maxHead - skippedLines - headBytes.size();
    const QByteArrayView chunk = data.sliced(pos).first(std::min(data.size() - pos, allowed));
    const size_t consumed = http_parser_execute(&parser, &settings(), chunk.data(),
                                                size_t(chunk.size()));
    if (headComplete) {
        // Paused on the head's last byte: it belongs to the head, and the parser
        // still has to read it to decide whether a body follows.
        headBytes.append(chunk.first(qsizetype(consumed) + 1));
        http_parser_pause(&parser, 0);
        finishHead();
        return pos + qsizetype(consumed);
    }
    const http_errno err = HTTP_PARSER_ERRNO(&parser);
    if (err != HPE_OK) {
        fail(err == HPE_HEADER_OVERFLOW ? Error::HeadTooLarge : Error::Malformed);
        return data.size();
    }
    headBytes.append(chunk);
    // A head of exactly maxHead ends on its last allowed byte, so one that has
    // not ended there is too large whatever comes next.
    if (skippedLines + headBytes.size() >= maxHead)
        fail(Error::HeadTooLarge);
    return pos + chunk.size();
}

// The head is parsed again by HttpHead::parse() so that the push listener and the
// upgrade path agree on what a valid head is (folding, versions, names, ...).
void HttpRequestReader::State::finishHead()
{
    HttpHead head;
    qsizetype length = 0;
    const HttpHead::Status status = HttpHead::parse(headBytes, &head, &length, maxHead);
    if (status != HttpHead::Status::Complete || length != headBytes.size()
        || (head.chunked && head.contentLength >= 0)) {
        fail(Error::Malformed);
        return;
    }
    if (head.contentLength > maxBody) {
        rejectedHead = std::move(head);
        fail(Error::BodyTooLarge);
        return;
    }
    headBytes.clear();
    current.head = std::move(head);
    phase = Phase::Body;
}

qsizetype HttpRequestReader::State::feedBody(QByteArrayView data)
{
    const size_t consumed = http_parser_execute(&parser, &settings(), data.data(),
                                                size_t(data.size()));
    if (bodyTooLarge) {
        rejectedHead = current.head;
        fail(Error::BodyTooLarge);
        return data.size();
    }
    if (messageComplete) {
        const bool keepAlive = current.head.keepAlive;
        ready.push_back(std::move(current));
        startHead();
        // Whatever follows a request that ends the connection is not answered.
        if (!keepAlive)
            phase = Phase::Closed;
        return qsizetype(consumed);
    }
    if (HTTP_PARSER_ERRNO(&parser) != HPE_OK) {
        fail(Error::Malformed);
        return data.size();
    }
    return qsizetype(consumed);
}

HttpRequestReader::HttpRequestReader(qint64 maxBody, qsizetype maxHead)
    : d(std::make_unique<State>(maxBody, maxHead))
{
}

HttpRequestReader::~HttpRequestReader() = default;

void HttpRequestReader::feed(QByteArrayView data)
{
    d->feed(data);
}

bool HttpRequestReader::next(HttpRequest *request)
{
    if (d->ready.empty())
        return false;
    *request = std::move(d->ready.front());
    d->ready.pop_front();
    return true;
}

HttpRequestReader::Error HttpRequestReader::error() const
{
    return d->ready.empty() ? d->error : Error::None;
}

const HttpHead &HttpRequestReader::headOfRejected() const
{
    return d->rejectedHead;
}

} // namespace ws2api
