// HttpResponseReader, what ApiConnection reads the API's responses with: the input is
// what the API sends after a request, fed whole, cut where the input chooses and byte
// by byte, then the connection closes; all three must agree.
#include "FuzzSupport.h"
#include "HttpResponseReader.h"

using namespace ws2api;
using fuzz::require;
using Status = HttpResponseReader::Status;

namespace {

QByteArray run(const QList<QByteArrayView> &pieces, qint64 maxBody)
{
    HttpResponseReader reader(maxBody);
    Status status = Status::Incomplete;
    for (const QByteArrayView piece : pieces) {
        const Status before = status;
        status = reader.feed(piece);
        require(before == Status::Incomplete || status == before, "an outcome stays");
    }
    status = reader.finish();
    QByteArray out = QByteArray::number(int(status)) + ' ' + reader.errorString().toUtf8();
    if (status != Status::Complete)
        return out;
    const HttpResponseReader::Response response = reader.takeResponse();
    require(response.body.size() <= maxBody, "body within the cap");
    require(response.status < 100 || response.status >= 200, "no interim response comes out");
    require((response.status != 204 && response.status != 304) || response.body.isEmpty(),
            "a 204 or 304 has no body", {}, response.body);
    out += QByteArray::number(response.status) + " ka=" + QByteArray::number(reader.keepAlive());
    for (const auto &[name, value] : response.headers)
        out += " [" + name + ": " + value + ']';
    return out + " body=" + response.body;
}

void check(QByteArrayView data, qint64 maxBody)
{
    const QByteArray whole = run({data}, maxBody);
    const QByteArray split = run(fuzz::split(data), maxBody);
    require(split == whole, "split as the whole", whole, split);
    const QByteArray bytewise = run(fuzz::bytewise(data), maxBody);
    require(bytewise == whole, "byte by byte as the whole", whole, bytewise);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size)
{
    const QByteArrayView data = fuzz::input(bytes, size);
    check(data, 1024 * 1024);
    check(data, qint64(fuzz::choice(data) % 64));
    return 0;
}
