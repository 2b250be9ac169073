#include "HttpHead.h"

#include "HttpMessageParser.h"

#include <algorithm>
#include <limits>

namespace ws2api {

namespace {

// Obsolete line folding (a line starting with SP or HT) is rejected, as RFC 9112
// 5.2 allows: unfolding would let a value hide a second header from a proxy in front.
bool hasFoldedLine(QByteArrayView bytes)
{
    for (qsizetype i = 0; i + 1 < bytes.size(); ++i) {
        if (bytes[i] == '\n' && (bytes[i + 1] == ' ' || bytes[i + 1] == '\t'))
            return true;
    }
    return false;
}

// The Debian build of http_parser is the non-strict one and accepts "Name : v"
// (RFC 9112 5.1: must be rejected) and any byte after the last CR.
bool hasBadName(const QList<QPair<QByteArray, QByteArray>> &headers)
{
    return std::any_of(headers.cbegin(), headers.cend(), [](const auto &h) {
        return h.first.contains(' ') || h.first.contains('\t');
    });
}

bool endsWithBlankLine(QByteArrayView head)
{
    return head.endsWith("\n\n") || head.endsWith("\n\r\n");
}

// Versions other than 1.x, HTTP/0.9 (no version at all) included, are known to be
// wrong as soon as http_parser has seen the major digit.
bool hasBadVersion(const http_parser &parser)
{
    const bool http09 = parser.http_major == 0 && parser.http_minor == 9;
    return http09 || parser.http_major >= 2;
}

bool hasToken(const QByteArray &list, QByteArrayView token)
{
    for (const QByteArray &item : list.split(',')) {
        if (QByteArrayView(item).trimmed().compare(token, Qt::CaseInsensitive) == 0)
            return true;
    }
    return false;
}

// Origin form "/p?q" is split here; absolute form "http://h/p?q" (which a server
// must accept) through http_parser's URL parser. Anything else (CONNECT's
// authority form, OPTIONS' "*") keeps the target as its path.
bool splitTarget(HttpHead *head)
{
    const QByteArray &target = head->target;
    if (target.startsWith('/') || !target.contains("://")) {
        const qsizetype question = target.indexOf('?');
        head->path = question < 0 ? target : target.left(question);
        head->query = question < 0 ? QByteArray() : target.mid(question + 1);
        return true;
    }
    http_parser_url url;
    http_parser_url_init(&url);
    if (http_parser_parse_url(target.constData(), size_t(target.size()), 0, &url) != 0)
        return false;
    const auto field = [&](int f) {
        if (!(url.field_set & (1 << f)))
            return QByteArray();
        return target.mid(url.field_data[f].off, url.field_data[f].len);
    };
    head->path = field(UF_PATH);
    if (head->path.isEmpty())
        head->path = "/";
    head->query = field(UF_QUERY);
    return true;
}

} // namespace

QByteArray HttpHead::header(QByteArrayView name) const
{
    for (const auto &h : headers) {
        if (QByteArrayView(h.first).compare(name, Qt::CaseInsensitive) == 0)
            return h.second;
    }
    return {};
}

QList<QByteArray> HttpHead::headerValues(QByteArrayView name) const
{
    QList<QByteArray> values;
    for (const auto &h : headers) {
        if (QByteArrayView(h.first).compare(name, Qt::CaseInsensitive) == 0)
            values.append(h.second);
    }
    return values;
}

bool HttpHead::fromParser(const HttpMessageParser &parser, QByteArrayView bytes, HttpHead *out)
{
    const http_parser &state = parser.state();
    const HttpMessageParser::Head &facts = parser.head();
    if (!endsWithBlankLine(bytes) || hasFoldedLine(bytes) || hasBadName(parser.headers())
        || state.http_major != 1) {
        return false;
    }
    const bool hasLength = (facts.flags & F_CONTENTLENGTH) != 0;
    if (hasLength && facts.contentLength > quint64(std::numeric_limits<qint64>::max()))
        return false;
    HttpHead head;
    head.method = http_method_str(http_method(state.method));
    head.target = parser.url();
    if (!splitTarget(&head))
        return false;
    head.versionMajor = state.http_major;
    head.versionMinor = state.http_minor;
    head.headers = parser.headers();
    for (auto &h : head.headers)
        h.second = h.second.trimmed();
    head.contentLength = hasLength ? qint64(facts.contentLength) : -1;
    head.chunked = (facts.flags & F_CHUNKED) != 0;
    // RFC 9112 6.1: a request whose coding does not end in chunked has no
    // knowable length; and one with both lengths may be read two ways.
    if ((facts.transferEncoding && !head.chunked) || (head.chunked && hasLength))
        return false;
    head.keepAlive = facts.keepAlive;
    const auto upgrades = head.headerValues("Upgrade");
    head.upgradeWebSocket = head.method == "GET"
        && std::any_of(upgrades.cbegin(), upgrades.cend(),
                       [](const QByteArray &v) { return hasToken(v, "websocket"); });
    const auto connection = head.headerValues("Connection");
    head.connectionUpgrade = std::any_of(connection.cbegin(), connection.cend(),
                                         [](const QByteArray &v) { return hasToken(v, "upgrade"); });
    *out = std::move(head);
    return true;
}

HttpHead::LineLimits::Verdict HttpHead::LineLimits::feed(QByteArrayView bytes)
{
    for (qsizetype i = 0; i < bytes.size() && !m_ended && m_verdict == Verdict::Within; ++i) {
        ++m_lineBytes;
        if (bytes[i] != '\n') {
            m_crLast = bytes[i] == '\r';
            if (m_lineBytes >= MaxLineBytes)  // no room left for its line end
                m_verdict = m_lines == 0 ? Verdict::RequestLineTooLong : Verdict::FieldsTooLarge;
            continue;
        }
        const bool blank = m_lineBytes == 1 || (m_lineBytes == 2 && m_crLast);
        m_ended = blank && m_lines > 0;
        ++m_lines;
        m_lineBytes = 0;
        if (!m_ended && m_lines - 1 > MaxFields)  // the request line is no field
            m_verdict = Verdict::FieldsTooLarge;
    }
    return m_verdict;
}

// Stateless: callers keep the bytes and call again when more arrive. Only the first
// maxHeadBytes are looked at, so a caller re-parsing a growing buffer does bounded work.
HttpHead::Status HttpHead::parse(QByteArrayView data, HttpHead *head, qsizetype *headLength,
                                 qsizetype maxHeadBytes)
{
    if (data.isEmpty())
        return maxHeadBytes <= 0 ? Status::TooLarge : Status::Incomplete;
    // http_parser skips empty lines before a request; a fresh connection that
    // starts with one is not speaking HTTP to us.
    if (data[0] == '\r' || data[0] == '\n')
        return Status::Invalid;

    const QByteArrayView window = data.first(std::clamp<qsizetype>(maxHeadBytes, 0, data.size()));
    HttpMessageParser parser(HttpMessageParser::Type::Request, 0);
    qsizetype consumed = 0;
    if (parser.execute(window, &consumed) == HttpMessageParser::Status::HeadComplete) {
        // Paused on the head's last byte, which is not counted as consumed.
        const QByteArrayView bytes = window.first(consumed + 1);
        if (!fromParser(parser, bytes, head))
            return Status::Invalid;
        *headLength = bytes.size();
        return Status::Complete;
    }
    const http_errno error = parser.error();
    if (error == HPE_HEADER_OVERFLOW)
        return Status::TooLarge;
    if (error != HPE_OK || hasBadVersion(parser.state()) || hasFoldedLine(window)
        || hasBadName(parser.headers())) {
        return Status::Invalid;
    }
    return data.size() >= maxHeadBytes ? Status::TooLarge : Status::Incomplete;
}

} // namespace ws2api
