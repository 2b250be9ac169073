// ClientFrameChecker: the RFC 6455 rules a client's frames must keep, checked before
// QWebSocket reads them. Whole, cut at points the input chooses and byte by byte, an
// input gives one verdict; what the checker lets through is sound on its own; only
// an unfinished header (under 14 bytes) is held back from a stream that keeps the
// rules; a violation names 1002, 1007 or 1009 and a reason a close frame can carry.
#include "FuzzSupport.h"
#include "ws/ClientFrameChecker.h"

#include <cstring>

using namespace ws2api;
using fuzz::require;
using Status = ClientFrameChecker::Status;

namespace {

QByteArray describe(const ClientFrameChecker &c)
{
    return "status " + QByteArray::number(int(c.status())) + " code " + QByteArray::number(c.closeCode())
        + " vouched " + QByteArray::number(c.vouched()) + " fed " + QByteArray::number(c.fed());
}

ClientFrameChecker fedWith(const QList<QByteArrayView> &pieces, quint64 maxMessage)
{
    ClientFrameChecker checker(maxMessage);
    quint64 vouched = 0;
    for (const QByteArrayView piece : pieces) {
        checker.feed(piece);
        require(checker.vouched() >= vouched && checker.vouched() <= checker.fed(),
                "vouched only grows, and not past what was fed", QByteArray::number(vouched), describe(checker));
        vouched = checker.vouched();
    }
    return checker;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size)
{
    const QByteArrayView data = fuzz::input(bytes, size);
    // Small limits too, so that 1009 is reached with short inputs.
    const size_t pick = fuzz::choice(data);
    const quint64 maxMessage = pick % 4 == 0 ? quint64(1) << 20 : pick % 300;

    const ClientFrameChecker whole = fedWith({data}, maxMessage);
    const QByteArray expected = describe(whole);
    require(whole.fed() == quint64(data.size()), "every byte is fed", QByteArray::number(data.size()), expected);
    require(describe(fedWith(fuzz::split(data), maxMessage)) == expected, "split like whole", expected,
            describe(fedWith(fuzz::split(data), maxMessage)));
    require(describe(fedWith(fuzz::bytewise(data), maxMessage)) == expected, "byte by byte like whole", expected,
            describe(fedWith(fuzz::bytewise(data), maxMessage)));

    switch (whole.status()) {
    case Status::Ok:
        require(whole.fed() - whole.vouched() < 14, "only an unfinished header is held back", {}, expected);
        require(whole.closeCode() == 0, "no code without a violation", {}, expected);
        break;
    case Status::Closed:
        require(whole.vouched() == whole.fed(), "nothing held back after the close frame", {}, expected);
        break;
    case Status::Violation: {
        const quint16 code = whole.closeCode();
        require(code == 1002 || code == 1007 || code == 1009, "a code RFC 6455 names", {}, expected);
        const size_t length = std::strlen(whole.reason());
        require(length > 0 && length < 123, "a reason a close frame can carry", {}, whole.reason());
        break;
    }
    }
    // What passes is sound on its own: the same bytes alone break no rule.
    const ClientFrameChecker passed = fedWith({data.first(qsizetype(whole.vouched()))}, maxMessage);
    require(passed.status() != Status::Violation, "what passes breaks no rule", expected, describe(passed));
    return 0;
}
