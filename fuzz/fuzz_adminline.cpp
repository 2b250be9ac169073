// The admin protocol's line codec: LineReader splits what a local client sends into
// lines of at most 1 MiB (the same lines however the bytes arrive), and each line is
// read as a request (the daemon) and as a reply or event (the GUI); a request read
// encodes back to the same request.
#include "AdminProtocol.h"
#include "FuzzSupport.h"

using namespace ws2api;
using fuzz::require;

namespace {

QByteArray lines(const QList<QByteArrayView> &pieces)
{
    admin::LineReader reader;
    QByteArray out;
    for (const QByteArrayView piece : pieces) {
        reader.feed(piece);
        QByteArray line;
        for (;;) {
            const admin::LineReader::Status status = reader.next(&line);
            if (status == admin::LineReader::Status::Incomplete)
                break;
            if (status == admin::LineReader::Status::TooLong) {
                out += "<too long>\n";
                continue;
            }
            require(line.size() <= admin::MaxLineBytes && !line.contains('\n'), "a line");
            out += QByteArray::number(line.size()) + ':' + line.left(64) + '\n';
        }
    }
    return out;
}

void readLine(QByteArrayView line)
{
    QString error;
    std::optional<qint64> id;
    if (const std::optional<admin::Request> request = admin::parseRequest(line, &error, &id)) {
        require(request->id.has_value() && request->id == id && !request->type.isEmpty(),
                "a request");
        const QByteArray encoded = admin::encodeRequest(*request->id, request->type, request->body);
        std::optional<qint64> againId;
        const std::optional<admin::Request> again =
            admin::parseRequest(encoded.chopped(1), &error, &againId);
        require(again && again->id == request->id && again->type == request->type
                    && again->body == request->body,
                "a request encodes back to itself", line.toByteArray(), encoded);
    } else {
        require(!error.isEmpty(), "a refusal says why");
    }
    error.clear();
    if (!admin::parseIncoming(line, &error))
        require(!error.isEmpty(), "a refusal says why");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size)
{
    const QByteArrayView data = fuzz::input(bytes, size);
    const QByteArray whole = lines({data});
    require(lines(fuzz::split(data)) == whole, "split as the whole");
    require(lines(fuzz::bytewise(data)) == whole, "byte by byte as the whole");
    const QList<QByteArray> all = data.toByteArray().split('\n');
    for (const QByteArray &line : all)
        readLine(line);
    // Now and then a line near the 1 MiB limit, ended by the input, so that the
    // limit's edges are reached (a fuzzer's inputs are a few KiB).
    if (fuzz::choice(data) % 16 == 0) {
        const QByteArray filler(admin::MaxLineBytes - 8 + qsizetype(fuzz::choice(data) % 16), 'x');
        lines({filler, data});
    }
    return 0;
}
