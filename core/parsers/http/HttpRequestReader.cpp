#include "HttpRequestReader.h"

#include "HttpMessageParser.h"

#include <algorithm>
#include <deque>

namespace ws2api {

// One http_parser run over the bytes as they arrive, so each byte is looked at once
// however the stream is split. It pauses at the end of the head (to check it, and
// the announced body size, before any body byte is read) and at the end of the
// message (so the next request starts afresh). Only the current head (<= maxHead)
// and body (<= maxBody) are kept.
struct HttpRequestReader::State
{
    enum class Phase { Head, Body, Closed, Failed };

    State(qint64 maxBody, qsizetype maxHead)
        : maxBody(std::max<qint64>(maxBody, 0))
        , maxHead(maxHead)
        , parser(HttpMessageParser::Type::Request, maxBody)
    {
        startHead();
    }

    qsizetype feed(QByteArrayView data, bool untilRequest);
    qsizetype feedHead(QByteArrayView data);
    qsizetype feedBody(QByteArrayView data);
    bool withinLineLimits(QByteArrayView headPart);
    void startHead();
    void finishHead();
    void fail(Error e);

    const qint64 maxBody;
    const qsizetype maxHead;
    HttpMessageParser parser;
    Phase phase = Phase::Head;
    QByteArray headBytes;
    qsizetype skippedLines = 0;  // empty lines before the head, counted against maxHead
    HttpHead::LineLimits lineLimits;
    HttpHead currentHead;
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

void HttpRequestReader::State::startHead()
{
    parser.reset();
    headBytes.clear();
    skippedLines = 0;
    lineLimits = HttpHead::LineLimits();
    currentHead = HttpHead();
    phase = Phase::Head;
}

void HttpRequestReader::State::fail(Error e)
{
    error = e;
    phase = Phase::Failed;
    headBytes.clear();
    currentHead = HttpHead();
}

qsizetype HttpRequestReader::State::feed(QByteArrayView data, bool untilRequest)
{
    qsizetype pos = 0;
    while (pos < data.size() && (phase == Phase::Head || phase == Phase::Body)
           && !(untilRequest && !ready.empty())) {
        const Phase before = phase;
        const qsizetype step = phase == Phase::Head ? feedHead(data.sliced(pos))
                                                    : feedBody(data.sliced(pos));
        Q_ASSERT(step > 0 || phase != before);
        Q_UNUSED(before);
        pos += step;
    }
    return pos;
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
    if (pos == data.size())
        return pos;
    const qsizetype allowed = maxHead - skippedLines - headBytes.size();
    const QByteArrayView chunk = data.sliced(pos).first(std::min(data.size() - pos, allowed));
    qsizetype consumed = 0;
    const HttpMessageParser::Status status = parser.execute(chunk, &consumed);
    if (status == HttpMessageParser::Status::HeadComplete) {
        // Paused on the head's last byte: it belongs to the head, and the parser
        // still has to read it to decide whether a body follows.
        const QByteArrayView head = chunk.first(consumed + 1);
        if (!withinLineLimits(head))
            return data.size();
        headBytes.append(head);
        finishHead();
        return pos + consumed;
    }
    // Up to where http_parser stopped (all of it unless it refused a byte): a line
    // over the limits before that is refused as such (414, 431), so that whichever
    // comes first in the bytes decides, however they were split.
    if (!withinLineLimits(chunk.first(consumed)))
        return data.size();
    if (status != HttpMessageParser::Status::Incomplete) {
        fail(parser.error() == HPE_HEADER_OVERFLOW ? Error::HeadTooLarge : Error::Malformed);
        return data.size();
    }
    headBytes.append(chunk);
    // A head of exactly maxHead ends on its last allowed byte, so one that has
    // not ended there is too large whatever comes next.
    if (skippedLines + headBytes.size() >= maxHead)
        fail(Error::HeadTooLarge);
    return pos + chunk.size();
}

bool HttpRequestReader::State::withinLineLimits(QByteArrayView headPart)
{
    switch (lineLimits.feed(headPart)) {
    case HttpHead::LineLimits::Verdict::Within:
        return true;
    case HttpHead::LineLimits::Verdict::RequestLineTooLong:
        fail(Error::RequestLineTooLong);
        return false;
    case HttpHead::LineLimits::Verdict::FieldsTooLarge:
        fail(Error::HeadTooLarge);
        return false;
    }
    return true;
}

// HttpHead::fromParser makes the checks HttpHead::parse() makes, so that the push
// listener and the upgrade path agree on what a valid head is (folding, versions,
// names, ...).
void HttpRequestReader::State::finishHead()
{
    HttpHead head;
    if (!HttpHead::fromParser(parser, headBytes, &head)) {
        fail(Error::Malformed);
        return;
    }
    if (head.contentLength > maxBody) {
        rejectedHead = std::move(head);
        fail(Error::BodyTooLarge);
        return;
    }
    headBytes.clear();
    currentHead = std::move(head);
    phase = Phase::Body;
}

qsizetype HttpRequestReader::State::feedBody(QByteArrayView data)
{
    qsizetype consumed = 0;
    switch (parser.execute(data, &consumed)) {
    case HttpMessageParser::Status::BodyTooLarge:
        rejectedHead = currentHead;
        fail(Error::BodyTooLarge);
        return data.size();
    case HttpMessageParser::Status::MessageComplete: {
        const bool keepAlive = currentHead.keepAlive;
        ready.push_back({std::move(currentHead), std::move(parser.body())});
        startHead();
        // Whatever follows a request that ends the connection is not answered.
        if (!keepAlive)
            phase = Phase::Closed;
        return consumed;
    }
    case HttpMessageParser::Status::Error:
    case HttpMessageParser::Status::HeadComplete:  // not after a head: a new message began
        fail(Error::Malformed);
        return data.size();
    case HttpMessageParser::Status::Incomplete:
    case HttpMessageParser::Status::Upgrade:
        break;
    }
    return consumed;
}

HttpRequestReader::HttpRequestReader(qint64 maxBody, qsizetype maxHead)
    : d(std::make_unique<State>(maxBody, maxHead))
{
}

HttpRequestReader::~HttpRequestReader() = default;

void HttpRequestReader::feed(QByteArrayView data)
{
    d->feed(data, false);
}

qsizetype HttpRequestReader::feedSome(QByteArrayView data)
{
    return d->feed(data, true);
}

bool HttpRequestReader::hasRequest() const
{
    return !d->ready.empty();
}

bool HttpRequestReader::inRequest() const
{
    return d->phase == State::Phase::Body
        || (d->phase == State::Phase::Head && (!d->headBytes.isEmpty() || d->skippedLines > 0));
}

bool HttpRequestReader::wantsMore() const
{
    return d->phase == State::Phase::Head || d->phase == State::Phase::Body;
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
