// HttpRequestReader, what the push listener and the demo API read a connection's
// requests with (keep-alive, pipelined, chunked): the input is a connection's bytes,
// fed whole, cut where the input chooses and byte by byte; all three must agree, and
// agree with HttpHead::parse on the first head.
#include "FuzzSupport.h"
#include "HttpRequestReader.h"

using namespace ws2api;
using fuzz::require;

namespace {

QByteArray run(const QList<QByteArrayView> &pieces, qint64 maxBody, qsizetype maxHead)
{
    HttpRequestReader reader(maxBody, maxHead);
    QByteArray out;
    for (const QByteArrayView piece : pieces) {
        reader.feed(piece);
        HttpRequest request;
        while (reader.next(&request)) {
            require(request.body.size() <= maxBody, "body within the cap");
            out += request.head.method + ' ' + request.head.target
                + " ka=" + QByteArray::number(request.head.keepAlive) + " body="
                + QByteArray::number(request.body.size()) + ':' + request.body + '\n';
        }
    }
    out += "error=" + QByteArray::number(int(reader.error()));
    if (reader.error() == HttpRequestReader::Error::BodyTooLarge)
        out += " rejected=" + reader.headOfRejected().method + ' ' + reader.headOfRejected().target;
    return out;
}

QByteArray describe(const HttpHead &h)
{
    QByteArray s = h.method + ' ' + h.target + " path=" + h.path + " query=" + h.query + " HTTP/"
        + QByteArray::number(h.versionMajor) + '.' + QByteArray::number(h.versionMinor)
        + " cl=" + QByteArray::number(h.contentLength) + " chunked=" + QByteArray::number(h.chunked)
        + " ka=" + QByteArray::number(h.keepAlive) + " ws=" + QByteArray::number(h.upgradeWebSocket);
    for (const auto &[name, value] : h.headers)
        s += " [" + name + ": " + value + ']';
    return s;
}

// The push listener (this reader) and the upgrade path (HttpHead::parse) must agree
// on what a valid head is and what it says: the first head the reader takes or
// rejects is the one parse() finds.
void agreesWithHttpHead(QByteArrayView data, qint64 maxBody, qsizetype maxHead)
{
    if (data.isEmpty() || data[0] == '\r' || data[0] == '\n')
        return;  // the reader skips empty lines before a request; parse() refuses them
    HttpRequestReader reader(maxBody, maxHead);
    reader.feed(data);
    HttpRequest request;
    QByteArray fromReader;
    if (reader.next(&request))
        fromReader = describe(request.head);
    else if (reader.error() == HttpRequestReader::Error::BodyTooLarge)
        fromReader = describe(reader.headOfRejected());
    else
        return;  // no head, or a body the reader refused after it
    HttpHead head;
    qsizetype length = 0;
    const HttpHead::Status status = HttpHead::parse(data, &head, &length, maxHead);
    require(status == HttpHead::Status::Complete && describe(head) == fromReader,
            "the reader and HttpHead::parse agree on a head", fromReader, describe(head));
}

void check(QByteArrayView data, qint64 maxBody, qsizetype maxHead)
{
    agreesWithHttpHead(data, maxBody, maxHead);
    const QByteArray whole = run({data}, maxBody, maxHead);
    const QByteArray split = run(fuzz::split(data), maxBody, maxHead);
    require(split == whole, "split as the whole", whole, split);
    const QByteArray bytewise = run(fuzz::bytewise(data), maxBody, maxHead);
    require(bytewise == whole, "byte by byte as the whole", whole, bytewise);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size)
{
    const QByteArrayView data = fuzz::input(bytes, size);
    check(data, 1024 * 1024, 16 * 1024);
    // Small limits, so that heads and bodies over them are common.
    check(data, qint64(fuzz::choice(data) % 64), qsizetype(16 + fuzz::choice(data) % 256));
    return 0;
}
