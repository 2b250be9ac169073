// ClientFrameReader: the RFC 6455 rules a client's frames must keep, and the messages
// and control frames it tells its sink. Whole, cut at points the input chooses and
// byte by byte, an input gives one verdict and one sequence of events, with a sink or
// without; what the reader lets through is sound on its own and gives the same
// events; only an unfinished header (under 14 bytes) is held back from a stream that
// keeps the rules; a violation names 1002, 1007 or 1009 and a reason a close frame can
// carry. Each event keeps the rules on its own (checked here apart from the reader's
// own UTF-8 check): a message within maxMessage, text UTF-8, a ping of at most 125
// bytes, a close code that may be sent and a reason of at most 123 bytes of UTF-8; it
// is told by the byte that ends its frame, and none after the close or a violation.
#include "FuzzSupport.h"
#include "ws/ClientFrameReader.h"

#include <cstring>
#include <optional>
#include <utility>

using namespace ws2api;
using fuzz::require;
using Status = ClientFrameReader::Status;

namespace {

QByteArray describe(const ClientFrameReader &c)
{
    return "status " + QByteArray::number(int(c.status())) + " code " + QByteArray::number(c.closeCode())
        + " vouched " + QByteArray::number(c.vouched()) + " fed " + QByteArray::number(c.fed());
}

// RFC 3629, decoded a code point at a time (not the reader's byte-range table).
bool isUtf8(QByteArrayView bytes)
{
    qsizetype i = 0;
    while (i < bytes.size()) {
        const auto lead = quint8(bytes[i]);
        int more = 0;
        char32_t point = lead;
        char32_t least = 0;
        if (lead < 0x80) {
            more = 0;
        } else if ((lead & 0xe0) == 0xc0) {
            more = 1, point = lead & 0x1f, least = 0x80;
        } else if ((lead & 0xf0) == 0xe0) {
            more = 2, point = lead & 0x0f, least = 0x800;
        } else if ((lead & 0xf8) == 0xf0) {
            more = 3, point = lead & 0x07, least = 0x10000;
        } else {
            return false;
        }
        if (bytes.size() - i <= more)
            return false;
        for (int k = 1; k <= more; ++k) {
            const auto next = quint8(bytes[i + k]);
            if ((next & 0xc0) != 0x80)
                return false;
            point = point << 6 | (next & 0x3f);
        }
        if (point < least || point > 0x10ffff || (point >= 0xd800 && point <= 0xdfff))
            return false;
        i += 1 + more;
    }
    return true;
}

// Events as bytes (a letter, then the payload), each checked as it is told.
class Recorder final : public ClientFrameReader::Sink
{
public:
    explicit Recorder(quint64 maxMessage) : m_maxMessage(maxMessage) {}

    QList<QByteArray> events;
    bool closed = false;

    void frameMessage(QByteArray payload, bool binary) override
    {
        tell((binary ? "B" : "T") + payload);
        require(quint64(payload.size()) <= m_maxMessage, "a message within maxMessage",
                QByteArray::number(m_maxMessage), QByteArray::number(payload.size()));
        require(binary || isUtf8(payload), "a text message is UTF-8", {}, payload.toHex());
    }
    void framePing(QByteArray payload) override
    {
        tell("P" + payload);
        require(payload.size() <= 125, "a ping of at most 125 bytes", {}, QByteArray::number(payload.size()));
    }
    void framePong() override { tell("O"); }
    void frameClose(std::optional<quint16> code, QByteArray reason) override
    {
        tell(code ? "C" + QByteArray::number(*code) + " " + reason : QByteArray("C"));
        closed = true;
        require(!code || (*code >= 1000 && *code <= 1003) || (*code >= 1007 && *code <= 1014)
                    || (*code >= 3000 && *code <= 4999),
                "a close code that may be sent", {}, QByteArray::number(code.value_or(0)));
        require(code || reason.isEmpty(), "no reason without a code", {}, reason.toHex());
        require(reason.size() <= 123 && isUtf8(reason), "a close reason of at most 123 bytes of UTF-8", {},
                reason.toHex());
    }

private:
    void tell(const QByteArray &event)
    {
        require(!closed, "nothing told after the close", {}, event.left(40).toHex());
        events.append(event);
    }

    quint64 m_maxMessage;
};

QByteArray describe(const QList<QByteArray> &events)
{
    QByteArray text = QByteArray::number(events.size()) + " events:";
    for (const QByteArray &event : events)
        text += " " + event.left(24).toHex() + (event.size() > 24 ? "..(" + QByteArray::number(event.size()) + ")" : "");
    return text;
}

// What a reader tells, and how many bytes it had been fed when it told each.
struct Told
{
    QList<QByteArray> events;
    QList<quint64> at;
};

// The messages and control frames in `sound` (bytes the reader vouched for, so every
// frame in it keeps the rules), walked apart from the reader: each event, and the
// offset where the frame that completes it ends. A frame cut short tells nothing;
// nothing after the close frame counts.
Told reference(QByteArrayView sound)
{
    Told expected;
    QByteArray message;
    bool binary = false;
    qsizetype at = 0;
    while (sound.size() - at >= 2) {
        const auto b0 = quint8(sound[at]);
        const quint8 length7 = quint8(sound[at + 1]) & 0x7f;
        const int lengthBytes = length7 == 126 ? 2 : length7 == 127 ? 8 : 0;
        const qsizetype header = 2 + lengthBytes + 4;
        if (sound.size() - at < header)
            break;
        quint64 length = length7;
        if (lengthBytes > 0) {
            length = 0;
            for (int i = 0; i < lengthBytes; ++i)
                length = length << 8 | quint8(sound[at + 2 + i]);
        }
        if (quint64(sound.size() - at - header) < length)
            break;
        const QByteArrayView mask = sound.sliced(at + 2 + lengthBytes, 4);
        QByteArray payload = sound.sliced(at + header, qsizetype(length)).toByteArray();
        for (qsizetype i = 0; i < payload.size(); ++i)
            payload[i] = char(payload[i] ^ mask[i % 4]);
        at += header + qsizetype(length);
        const bool fin = (b0 & 0x80) != 0;
        QByteArray event;
        switch (b0 & 0x0f) {
        case 0x1:
        case 0x2:
            binary = (b0 & 0x0f) == 0x2;
            message = payload;
            break;
        case 0x0:
            message += payload;
            break;
        case 0x9:
            event = "P" + payload;
            break;
        case 0xa:
            event = "O";
            break;
        case 0x8:
            event = payload.isEmpty() ? QByteArray("C")
                                      : "C" + QByteArray::number(quint8(payload[0]) << 8 | quint8(payload[1])) + " "
                    + payload.sliced(2);
            break;
        }
        if ((b0 & 0x0f) < 0x8 && fin)
            event = (binary ? "B" : "T") + std::exchange(message, {});
        if (!event.isNull()) {
            expected.events.append(event);
            expected.at.append(quint64(at));
        }
        if ((b0 & 0x0f) == 0x8)
            break;
    }
    return expected;
}

ClientFrameReader fedWith(const QList<QByteArrayView> &pieces, quint64 maxMessage, Recorder *recorder = nullptr,
                          QList<quint64> *toldAt = nullptr)
{
    ClientFrameReader checker(maxMessage, recorder);
    quint64 vouched = 0;
    for (const QByteArrayView piece : pieces) {
        const qsizetype before = recorder ? recorder->events.size() : 0;
        const Status was = checker.status();
        checker.feed(piece);
        if (checker.vouched() < vouched || checker.vouched() > checker.fed())
            require(false, "vouched only grows, and not past what was fed", QByteArray::number(vouched),
                    describe(checker));
        vouched = checker.vouched();
        if (!recorder)
            continue;
        const qsizetype told = recorder->events.size() - before;
        if (was != Status::Ok && told > 0)
            require(false, "nothing told after a violation or the close", describe(checker),
                    describe(recorder->events));
        for (qsizetype i = 0; i < told; ++i)
            toldAt->append(checker.fed());
    }
    return checker;
}

// The events of `pieces`, with the reader's verdict, which a sink must not change; each
// must be what the walk over the same bytes expects, told by the feed() that brought
// its frame's last byte.
QList<QByteArray> eventsOf(const QList<QByteArrayView> &pieces, quint64 maxMessage, const QByteArray &verdict,
                           const Told &expected, const char *how)
{
    Recorder recorder(maxMessage);
    QList<quint64> toldAt;
    const ClientFrameReader reader = fedWith(pieces, maxMessage, &recorder, &toldAt);
    require(describe(reader) == verdict, "a sink changes no verdict", verdict, describe(reader));
    require(recorder.events == expected.events, how, describe(expected.events), describe(recorder.events));
    qsizetype piece = 0;
    quint64 end = 0;
    for (qsizetype i = 0; i < toldAt.size(); ++i) {
        while (end < expected.at[i])
            end += quint64(pieces[piece++].size());
        if (toldAt[i] != end)
            require(false, "an event is told by the feed that ends its frame", QByteArray::number(end),
                    QByteArray::number(toldAt[i]));
    }
    return recorder.events;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size)
{
    const QByteArrayView data = fuzz::input(bytes, size);
    // Small limits too, so that 1009 is reached with short inputs.
    const size_t pick = fuzz::choice(data);
    const quint64 maxMessage = pick % 4 == 0 ? quint64(1) << 20 : pick % 300;

    const ClientFrameReader whole = fedWith({data}, maxMessage);
    const QByteArray expected = describe(whole);
    require(whole.fed() == quint64(data.size()), "every byte is fed", QByteArray::number(data.size()), expected);
    const QByteArray splitVerdict = describe(fedWith(fuzz::split(data), maxMessage));
    require(splitVerdict == expected, "split like whole", expected, splitVerdict);
    const QByteArray bytewiseVerdict = describe(fedWith(fuzz::bytewise(data), maxMessage));
    require(bytewiseVerdict == expected, "byte by byte like whole", expected, bytewiseVerdict);

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
    const ClientFrameReader passed = fedWith({data.first(qsizetype(whole.vouched()))}, maxMessage);
    require(passed.status() != Status::Violation, "what passes breaks no rule", expected, describe(passed));

    // With a sink: the events a walk over the bytes that passed expects, however the
    // bytes come; and the same from what passes alone.
    const Told expectedEvents = reference(data.first(qsizetype(whole.vouched())));
    eventsOf({data}, maxMessage, expected, expectedEvents, "whole tells what the frames say");
    eventsOf(fuzz::split(data), maxMessage, expected, expectedEvents, "split tells what the frames say");
    eventsOf(fuzz::bytewise(data), maxMessage, expected, expectedEvents, "byte by byte tells what the frames say");
    eventsOf({data.first(qsizetype(whole.vouched()))}, maxMessage, describe(passed), expectedEvents,
             "what passes tells what the frames say");
    return 0;
}
