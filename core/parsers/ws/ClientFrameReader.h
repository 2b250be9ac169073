#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QtGlobal>
#include <optional>

namespace ws2api {

// A client's WebSocket frames (RFC 6455), read as the bytes arrive: the rules they
// must keep are checked first, so that a frame that breaks one is never handed on and
// the connection is failed with the code the RFC names; what keeps them goes to the
// Sink, if there is one, as whole messages and control frames, unmasked.
//
//   1002  an unmasked frame (5.1); reserved bits without an extension (5.2); a
//         reserved opcode; a payload length with its top bit set, or not in the
//         fewest bytes (5.2); a control frame over 125 bytes or fragmented (5.5); a
//         continuation without a message, or a data frame inside one (5.4); a close
//         payload of one byte, or a code that may not be sent (7.4)
//   1007  a text message, or a close reason, that is not UTF-8 (8.1)
//   1009  a message over maxMessage bytes (its frames' lengths added up)
//
// Fed the stream in order, split anywhere. Without a sink it only checks: it sees
// every header and the payloads of text and close frames (unmasked a byte at a time,
// never copied), passes the others over by their length, and allocates nothing.
// With one it also keeps a message's payload until its last frame. After the
// client's close frame it reads nothing more: the connection is ending.
class ClientFrameReader
{
public:
    // What the frames say, each told once its last byte is checked, in stream order.
    class Sink
    {
    public:
        // A whole message, its fragments joined (text is UTF-8, checked).
        virtual void frameMessage(QByteArray payload, bool binary) = 0;
        virtual void framePing(QByteArray payload) = 0;
        virtual void framePong() = 0;
        // The client's close frame: its code (none: an empty payload) and reason.
        virtual void frameClose(std::optional<quint16> code, QByteArray reason) = 0;

    protected:
        ~Sink() = default;
    };

    enum class Status {
        Ok,         // every byte so far keeps the rules (a header may be incomplete)
        Violation,  // closeCode() and reason(); no more bytes are taken
        Closed,     // a sound close frame came; what follows is not checked
    };

    explicit ClientFrameReader(quint64 maxMessage, Sink *sink = nullptr);

    Status feed(QByteArrayView bytes);
    Status status() const { return m_status; }
    // Between frames, with no message open: in the state a new checker starts in (so
    // a caller may drop it, and keep none for an idle connection).
    bool atRest() const { return m_status == Status::Ok && !m_inPayload && m_headerSize == 0 && !m_inMessage; }

    // Bytes fed so far, and how many of them, from the first on, may be handed on:
    // all but a header not whole yet, or (Violation) the bytes from the offending
    // frame's first (or, inside a text or close payload, the offending byte) on.
    quint64 fed() const { return m_fed; }
    quint64 vouched() const { return m_vouched; }

    // Violation: the close code (1002, 1007, 1009) and why, in ASCII under 123 bytes.
    quint16 closeCode() const { return m_closeCode; }
    const char *reason() const { return m_reason; }

private:
    // RFC 3629 UTF-8, a byte at a time: the bytes a sequence still needs, and the
    // range the next one must be in (narrower after E0, ED, F0, F4).
    struct Utf8
    {
        quint8 needed = 0;
        quint8 low = 0x80;
        quint8 high = 0xbf;
        bool take(quint8 byte);
        bool complete() const { return needed == 0; }
    };

    qsizetype takeHeader(QByteArrayView bytes);
    bool startFrame();
    qsizetype takePayload(QByteArrayView bytes);
    qsizetype checkText(QByteArrayView bytes);
    qsizetype checkClose(QByteArrayView bytes);
    bool takeTextByte(quint8 byte, bool lastOfMessage);
    bool takeCloseByte(quint8 byte, quint64 at, bool last);
    quint64 maskWord(quint64 offset) const;
    void keep(QByteArrayView masked);
    void endFrame();
    void fail(quint16 code, const char *reason);

    quint64 m_maxMessage;
    Sink *m_sink;
    Status m_status = Status::Ok;
    quint64 m_fed = 0;
    quint64 m_vouched = 0;
    quint16 m_closeCode = 0;
    const char *m_reason = "";

    // The frame being read.
    quint8 m_header[14] = {};  // 2 + 8 (length) + 4 (mask) at most
    int m_headerSize = 0;
    bool m_inPayload = false;
    quint8 m_opcode = 0;
    bool m_fin = false;
    quint8 m_mask[4] = {};
    quint64 m_remaining = 0;  // payload bytes still to come
    quint64 m_offset = 0;     // payload bytes read, for the mask
    quint64 m_length = 0;

    // The message being read, across its fragments.
    bool m_inMessage = false;
    bool m_textMessage = false;
    quint64 m_messageSize = 0;
    Utf8 m_text;

    // A close frame's payload: its code, then its reason.
    quint16 m_code = 0;
    Utf8 m_closeReason;

    // With a sink: the message's payload so far, and the control frame's.
    QByteArray m_message;
    QByteArray m_control;
};

} // namespace ws2api
