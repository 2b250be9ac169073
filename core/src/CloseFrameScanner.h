#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <optional>

namespace ws2api {

// Follows the frames a client sends after its upgrade, up to its first close frame,
// to learn what QWebSocket keeps to itself: whether a close frame came at all (a
// connection that drops without one is 1006) and whether it carried a code (one
// without is 1005; QWebSocket reports both as 1000). It reads frame headers and the
// close frame's payload; every other payload is passed over by its length, unseen.
// Fed the stream in order, split anywhere; no socket, so a unit test or a fuzzer
// can drive it.
class CloseFrameScanner
{
public:
    struct Close
    {
        std::optional<quint16> code;  // none: the frame had no payload
        QByteArray reason;            // the bytes after the code (UTF-8 from a sound client)
        bool malformed = false;       // a one-byte payload: neither empty nor a code
    };

    // How many of the next bytes are payload it need not see: skip() them instead of
    // feeding them. Everything, once the close frame is whole.
    quint64 skippable() const;
    void skip(quint64 count);  // count <= skippable()
    // The next bytes of the stream.
    void feed(QByteArrayView bytes);

    // The client's first close frame, once it is whole.
    const std::optional<Close> &close() const { return m_close; }

private:
    int headerLength() const;
    void startPayload();
    void takeClosePayload(QByteArrayView bytes);
    void endFrame();

    unsigned char m_header[14] = {};  // 2 + 8 (length) + 4 (mask) at most
    int m_headerSize = 0;
    bool m_inPayload = false;
    bool m_isClose = false;
    quint64 m_remaining = 0;  // payload bytes of the current frame still to come
    quint64 m_payloadOffset = 0;
    unsigned char m_mask[4] = {};
    QByteArray m_closePayload;
    std::optional<Close> m_close;
};

} // namespace ws2api
