#include "HttpResponseReader.h"

#include "HttpMessageParser.h"

#include <algorithm>
#include <utility>

namespace ws2api {

HttpResponseReader::HttpResponseReader(qint64 maxBody)
    : m_parser(std::make_unique<HttpMessageParser>(HttpMessageParser::Type::Response, maxBody))
    , m_maxBody(maxBody)
{
}

HttpResponseReader::~HttpResponseReader() = default;

void HttpResponseReader::reset()
{
    m_parser->reset();
    m_status = Status::Incomplete;
    m_response = Response();
    m_keepAlive = true;
    m_excessBytes = false;
    m_consumed = 0;
}

HttpResponseReader::Status HttpResponseReader::feed(QByteArrayView data)
{
    qsizetype &pos = m_consumed;
    pos = 0;
    while (m_status == Status::Incomplete && pos < data.size()) {
        qsizetype consumed = 0;
        const HttpMessageParser::Status step = m_parser->execute(data.sliced(pos), &consumed);
        pos += consumed;
        switch (step) {
        case HttpMessageParser::Status::Incomplete:
            return m_status;
        case HttpMessageParser::Status::HeadComplete:
            m_status = headComplete();
            break;
        case HttpMessageParser::Status::MessageComplete:
            m_status = messageComplete();
            m_excessBytes = m_status == Status::Complete && pos < data.size();
            break;
        case HttpMessageParser::Status::BodyTooLarge:
            m_status = Status::BodyTooLarge;
            break;
        case HttpMessageParser::Status::Upgrade:
            m_status = Status::Upgrade;
            break;
        case HttpMessageParser::Status::Error:
            m_status = Status::Malformed;
            break;
        }
    }
    return m_status;
}

// A response cut short is not "malformed" but unfinished, so errors are not told apart.
HttpResponseReader::Status HttpResponseReader::finish()
{
    if (m_status != Status::Incomplete)
        return m_status;
    if (m_parser->finish() == HttpMessageParser::Status::MessageComplete)
        m_status = messageComplete();
    return m_status;
}

// A head announcing a body over the cap is refused before the body is read.
HttpResponseReader::Status HttpResponseReader::headComplete()
{
    const HttpMessageParser::Head &head = m_parser->head();
    if ((head.flags & F_CONTENTLENGTH) && !head.bodyless) {
        if (head.contentLength > quint64(std::max<qint64>(m_maxBody, 0)))
            return Status::BodyTooLarge;
        m_parser->body().reserve(qsizetype(head.contentLength));
    }
    return Status::Incomplete;
}

// An interim 1xx (100 Continue, 103 Early Hints) precedes the real response, unless
// it switches protocols.
HttpResponseReader::Status HttpResponseReader::messageComplete()
{
    const HttpMessageParser::Head &head = m_parser->head();
    if (head.statusCode / 100 == 1)
        return m_parser->state().upgrade ? Status::Upgrade : Status::Incomplete;
    m_response.status = head.statusCode;
    m_response.headers = std::move(m_parser->headers());
    m_response.body = std::move(m_parser->body());
    m_keepAlive = m_parser->messageKeepAlive();
    return Status::Complete;
}

HttpResponseReader::Response HttpResponseReader::takeResponse()
{
    return std::exchange(m_response, Response());
}

QString HttpResponseReader::errorString() const
{
    switch (m_status) {
    case Status::Incomplete:
    case Status::Complete:
        break;
    case Status::BodyTooLarge:
        return QStringLiteral("response body over %1 bytes").arg(m_maxBody);
    case Status::Upgrade:
        return QStringLiteral("unexpected protocol upgrade");
    case Status::Malformed:
        return QStringLiteral("malformed response: %1")
            .arg(QLatin1StringView(http_errno_description(m_parser->error())));
    }
    return {};
}

} // namespace ws2api
