#include "ws/ClientFrameReader.h"

#include <algorithm>
#include <utility>
#include <cstring>

namespace ws2api {

namespace {

constexpr quint8 OpContinuation = 0x0;
constexpr quint8 OpText = 0x1;
constexpr quint8 OpBinary = 0x2;
constexpr quint8 OpClose = 0x8;
constexpr quint8 OpPing = 0x9;
constexpr quint8 OpPong = 0xa;
constexpr quint8 MaxControlPayload = 125;

constexpr quint16 ProtocolError = 1002;
constexpr quint16 NotUtf8 = 1007;
constexpr quint16 TooBig = 1009;

bool isKnownOpcode(quint8 opcode)
{
    return opcode <= OpBinary || (opcode >= OpClose && opcode <= 0xa);
}

bool isControl(quint8 opcode)
{
    return (opcode & 0x8) != 0;
}

// The codes a close frame may carry (RFC 6455 7.4; 1012-1014 as IANA registered
// them since): never 1004-1006 or 1015, nothing unassigned below 3000.
bool maySend(quint16 code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014)
        || (code >= 3000 && code <= 4999);
}

quint64 bigEndian(const quint8 *bytes, int count)
{
    quint64 value = 0;
    for (int i = 0; i < count; ++i)
        value = value << 8 | bytes[i];
    return value;
}

} // namespace

bool ClientFrameReader::Utf8::take(quint8 byte)
{
    if (needed > 0) {
        if (byte < low || byte > high)
            return false;
        --needed;
        low = 0x80;
        high = 0xbf;
        return true;
    }
    if (byte < 0x80)
        return true;
    // The first byte: how many follow, and where overlong forms, surrogates and code
    // points over U+10FFFF would start (RFC 3629 section 4).
    if (byte >= 0xc2 && byte <= 0xdf)
        needed = 1;
    else if (byte >= 0xe0 && byte <= 0xef)
        needed = 2;
    else if (byte >= 0xf0 && byte <= 0xf4)
        needed = 3;
    else
        return false;
    if (byte == 0xe0)
        low = 0xa0;
    else if (byte == 0xed)
        high = 0x9f;
    else if (byte == 0xf0)
        low = 0x90;
    else if (byte == 0xf4)
        high = 0x8f;
    return true;
}

ClientFrameReader::ClientFrameReader(quint64 maxMessage, Sink *sink)
    : m_maxMessage(maxMessage)
    , m_sink(sink)
{
}

ClientFrameReader::Status ClientFrameReader::feed(QByteArrayView bytes)
{
    while (!bytes.isEmpty()) {
        if (m_status != Status::Ok) {
            m_fed += quint64(bytes.size());
            if (m_status == Status::Closed)
                m_vouched = m_fed;
            break;
        }
        const qsizetype taken = m_inPayload ? takePayload(bytes) : takeHeader(bytes);
        m_fed += quint64(taken);
        bytes = bytes.sliced(taken);
    }
    return m_status;
}

qsizetype ClientFrameReader::takeHeader(QByteArrayView bytes)
{
    qsizetype taken = 0;
    while (taken < bytes.size()) {
        m_header[m_headerSize++] = quint8(bytes[taken++]);
        if (m_headerSize < 2)
            continue;
        const quint8 length7 = m_header[1] & 0x7f;
        const int whole = 2 + (length7 == 126 ? 2 : length7 == 127 ? 8 : 0) + 4;
        if (m_headerSize == 2) {
            m_fin = (m_header[0] & 0x80) != 0;
            m_opcode = m_header[0] & 0x0f;
            if ((m_header[0] & 0x70) != 0)
                fail(ProtocolError, "reserved bits set without an extension");
            else if (!isKnownOpcode(m_opcode))
                fail(ProtocolError, "reserved opcode");
            else if ((m_header[1] & 0x80) == 0)
                fail(ProtocolError, "unmasked frame from a client");
            else if (isControl(m_opcode) && !m_fin)
                fail(ProtocolError, "fragmented control frame");
            else if (isControl(m_opcode) && length7 > MaxControlPayload)
                fail(ProtocolError, "control frame over 125 bytes");
            else if (m_opcode == OpContinuation && !m_inMessage)
                fail(ProtocolError, "continuation frame without a message");
            else if ((m_opcode == OpText || m_opcode == OpBinary) && m_inMessage)
                fail(ProtocolError, "new message inside a fragmented one");
            else if (m_opcode == OpClose && length7 == 1)
                fail(ProtocolError, "close frame with a one-byte payload");
            if (m_status != Status::Ok)
                return taken;
        }
        if (m_headerSize == whole) {
            if (startFrame())
                m_vouched = m_fed + quint64(taken);
            return taken;
        }
    }
    return taken;
}

// The header is whole and its first two bytes sound: the length and the message.
bool ClientFrameReader::startFrame()
{
    const quint8 length7 = m_header[1] & 0x7f;
    const quint8 *mask = m_header + 2;
    m_length = length7;
    if (length7 == 126) {
        m_length = bigEndian(m_header + 2, 2);
        mask += 2;
        if (m_length < 126)
            fail(ProtocolError, "payload length not in the fewest bytes");
    } else if (length7 == 127) {
        m_length = bigEndian(m_header + 2, 8);
        mask += 8;
        if (m_length >> 63)
            fail(ProtocolError, "payload length with its top bit set");
        else if (m_length <= 0xffff)
            fail(ProtocolError, "payload length not in the fewest bytes");
    }
    if (m_status != Status::Ok)
        return false;
    if (!isControl(m_opcode)) {
        if (m_opcode != OpContinuation) {
            m_inMessage = true;
            m_textMessage = m_opcode == OpText;
            m_messageSize = 0;
            m_text = {};
        }
        if (m_length > m_maxMessage - m_messageSize)
            fail(TooBig, "message too big");
        else if (m_textMessage && m_fin && m_length == 0 && !m_text.complete())
            fail(NotUtf8, "text message not UTF-8");
        if (m_status != Status::Ok)
            return false;
        m_messageSize += m_length;
    }
    std::copy(mask, mask + 4, m_mask);
    m_headerSize = 0;
    m_inPayload = true;
    m_remaining = m_length;
    m_offset = 0;
    m_code = 0;
    m_closeReason = {};
    if (m_remaining == 0)
        endFrame();
    return true;
}

qsizetype ClientFrameReader::takePayload(QByteArrayView bytes)
{
    const auto n = qsizetype(std::min<quint64>(m_remaining, quint64(bytes.size())));
    const bool text = m_textMessage && !isControl(m_opcode);
    if (text || m_opcode == OpClose) {
        const qsizetype sound = text ? checkText(bytes.first(n)) : checkClose(bytes.first(n));
        if (sound < n) {
            m_vouched = m_fed + quint64(sound);
            return sound;
        }
    }
    if (m_sink)
        keep(bytes.first(n));
    m_offset += quint64(n);
    m_remaining -= quint64(n);
    m_vouched = m_fed + quint64(n);
    if (m_remaining == 0)
        endFrame();
    return n;
}

// How many of `bytes` (of this frame's payload) keep UTF-8: all, or up to the first
// that breaks it. Runs of ASCII go eight bytes at a time: most text is ASCII.
qsizetype ClientFrameReader::checkText(QByteArrayView bytes)
{
    // The mask as eight bytes, for each of the four places a run can start at.
    quint64 masks[4];
    for (int start = 0; start < 4; ++start)
        masks[start] = maskWord(m_offset + quint64(start));
    const auto *data = reinterpret_cast<const quint8 *>(bytes.data());
    const qsizetype n = bytes.size();
    qsizetype i = 0;
    while (i < n) {
        if (m_text.complete()) {
            const quint64 mask = masks[i & 3];
            while (n - i >= 8) {
                quint64 word;
                std::memcpy(&word, data + i, 8);
                if (((word ^ mask) & 0x8080808080808080ULL) != 0)
                    break;
                i += 8;
            }
            if (i == n)
                break;
        }
        const auto byte = quint8(data[i] ^ m_mask[(m_offset + quint64(i)) & 3]);
        const bool lastOfMessage = m_fin && m_remaining - quint64(i) == 1;
        if (!takeTextByte(byte, lastOfMessage))
            return i;
        ++i;
    }
    return n;
}

qsizetype ClientFrameReader::checkClose(QByteArrayView bytes)
{
    for (qsizetype i = 0; i < bytes.size(); ++i) {
        const auto byte = quint8(quint8(bytes[i]) ^ m_mask[(m_offset + quint64(i)) & 3]);
        if (!takeCloseByte(byte, m_offset + quint64(i), m_remaining - quint64(i) == 1))
            return i;
    }
    return bytes.size();
}

bool ClientFrameReader::takeTextByte(quint8 byte, bool lastOfMessage)
{
    if (!m_text.take(byte) || (lastOfMessage && !m_text.complete())) {
        fail(NotUtf8, "text message not UTF-8");
        return false;
    }
    return true;
}

bool ClientFrameReader::takeCloseByte(quint8 byte, quint64 at, bool last)
{
    if (at < 2) {
        m_code = quint16(m_code << 8 | byte);
        if (at == 1 && !maySend(m_code)) {
            fail(ProtocolError, "close code that may not be sent");
            return false;
        }
        return true;
    }
    if (!m_closeReason.take(byte) || (last && !m_closeReason.complete())) {
        fail(NotUtf8, "close reason not UTF-8");
        return false;
    }
    return true;
}

// The mask as eight bytes, for payload bytes from `offset` on.
quint64 ClientFrameReader::maskWord(quint64 offset) const
{
    quint8 eight[8];
    for (int k = 0; k < 8; ++k)
        eight[k] = m_mask[(offset + quint64(k)) & 3];
    quint64 word;
    std::memcpy(&word, eight, 8);
    return word;
}

// The payload bytes of this frame at m_offset on, checked: unmasked, after what the
// message (or the control frame) has so far.
void ClientFrameReader::keep(QByteArrayView masked)
{
    QByteArray &kept = isControl(m_opcode) ? m_control : m_message;
    if (kept.isEmpty() && !isControl(m_opcode)) {
        // Room for the first frame, but not on the word of a client that may never
        // send it. Only for the first: a reserve per fragment would size the buffer
        // exactly each time, and a message of many small fragments would be copied
        // once per fragment.
        constexpr quint64 Ahead = 64 * 1024;
        kept.reserve(qsizetype(std::min(m_length, Ahead)));
    }
    const qsizetype at = kept.size();
    kept.resize(at + masked.size());
    auto *out = reinterpret_cast<quint8 *>(kept.data() + at);
    const auto *in = reinterpret_cast<const quint8 *>(masked.data());
    const qsizetype n = masked.size();
    qsizetype i = 0;
    // Eight bytes at a time, with the mask turned to where this run starts.
    const quint64 mask = maskWord(m_offset);
    for (; n - i >= 8; i += 8) {
        quint64 word;
        std::memcpy(&word, in + i, 8);
        word ^= mask;
        std::memcpy(out + i, &word, 8);
    }
    for (; i < n; ++i)
        out[i] = in[i] ^ m_mask[(m_offset + quint64(i)) & 3];
}

void ClientFrameReader::endFrame()
{
    m_inPayload = false;
    if (m_opcode == OpClose) {
        m_status = Status::Closed;
        if (m_sink) {
            const std::optional<quint16> code = m_length >= 2 ? std::optional(m_code) : std::nullopt;
            QByteArray reason = m_length > 2 ? std::exchange(m_control, {}).sliced(2) : QByteArray();
            m_control = {};
            m_sink->frameClose(code, std::move(reason));
        }
        return;
    }
    if (m_sink && m_opcode == OpPing)
        m_sink->framePing(std::exchange(m_control, {}));
    else if (m_sink && m_opcode == OpPong)
        m_sink->framePong();
    m_control = {};
    if (!isControl(m_opcode) && m_fin) {
        m_inMessage = false;
        m_messageSize = 0;
        m_text = {};
        if (m_sink)
            m_sink->frameMessage(std::exchange(m_message, {}), !m_textMessage);
    }
}

void ClientFrameReader::fail(quint16 code, const char *reason)
{
    m_status = Status::Violation;
    m_closeCode = code;
    m_reason = reason;
}

} // namespace ws2api
