// HttpHead::parse, what the upgrade path reads a WebSocket client's head with: the
// input is the start of a connection's bytes.
#include "FuzzSupport.h"
#include "HttpHead.h"

using namespace ws2api;
using fuzz::require;

namespace {

QByteArray describe(const HttpHead &h)
{
    QByteArray s = h.method + ' ' + h.target + " path=" + h.path + " query=" + h.query + " HTTP/"
        + QByteArray::number(h.versionMajor) + '.' + QByteArray::number(h.versionMinor)
        + " cl=" + QByteArray::number(h.contentLength) + " chunked=" + QByteArray::number(h.chunked)
        + " ka=" + QByteArray::number(h.keepAlive) + " ws=" + QByteArray::number(h.upgradeWebSocket)
        + " cu=" + QByteArray::number(h.connectionUpgrade);
    for (const auto &[name, value] : h.headers)
        s += " [" + name + ": " + value + ']';
    return s;
}

void check(QByteArrayView data, qsizetype maxHead)
{
    HttpHead head;
    qsizetype length = -1;
    const HttpHead::Status status = HttpHead::parse(data, &head, &length, maxHead);
    if (status != HttpHead::Status::Complete)
        return;
    require(length > 0 && length <= data.size() && length <= maxHead, "head length within the data");
    require(!head.method.isEmpty() && head.versionMajor == 1, "a method and HTTP/1.x");
    require(head.target.startsWith(head.path) || head.target.contains("://"), "path from the target");
    require(!(head.chunked && head.contentLength >= 0), "one body length at most");
    for (const auto &[name, value] : head.headers) {
        require(!name.isEmpty() && !name.contains(' ') && !name.contains('\t'), "header name", name);
        require(value == value.trimmed(), "value trimmed", value);
    }
    // The bytes after the head do not change it: a caller re-parsing a growing
    // buffer sees the same head.
    HttpHead again;
    qsizetype againLength = -1;
    require(HttpHead::parse(data.first(length), &again, &againLength, maxHead)
                    == HttpHead::Status::Complete
                && againLength == length && describe(again) == describe(head),
            "the head alone parses the same", describe(head), describe(again));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size)
{
    const QByteArrayView data = fuzz::input(bytes, size);
    check(data, 16 * 1024);
    // A limit the input chooses, near its own size, reaches TooLarge and the edges.
    check(data, qsizetype(fuzz::choice(data) % (size + 2)));
    return 0;
}
