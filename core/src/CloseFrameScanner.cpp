#include "CloseFrameScanner.h"

#include <algorithm>
#include <limits>

namespace ws2api {

namespace {

constexpr unsigned char OpClose = 0x8;
// RFC 6455 5.5: a control frame's payload is at most 125 bytes; QWebSocket refuses
// a longer one (1002), so nothing past that is kept.
constexpr qsizetype MaxControlPayload = 125;

} // namespace

quint64 CloseFrameScanner::skippable() const
{
    if (m_close)
        return std::numeric_limits<quint64>::max();
    return m_inPayload && !m_isClose ? m_remaining : 0;
}

void CloseFrameScanner::skip(quint64 count)
{
    if (m_close || count == 0)
        return;
    Q_ASSERT(count <= skippable());
    m_remaining -= count;
    if (m_remaining == 0)
        endFrame();
}

void CloseFrameScanner::feed(QByteArrayView bytes)
{
    while (!bytes.isEmpty() && !m_close) {
        if (m_inPayload) {
            const auto n = qsizetype(std::min<quint64>(m_remaining, quint64(bytes.size())));
            if (m_isClose)
                takeClosePayload(bytes.first(n));
            m_remaining -= quint64(n);
            bytes = bytes.sliced(n);
            if (m_remaining == 0)
                endFrame();
            continue;
        }
        m_header[m_headerSize++] = static_cast<unsigned char>(bytes.front());
        bytes = bytes.sliced(1);
        if (m_headerSize == headerLength())
            startPayload();
    }
}

int CloseFrameScanner::headerLength() const
{
    if (m_headerSize < 2)
        return 2;
    const int length7 = m_header[1] & 0x7f;
    const int extended = length7 == 126 ? 2 : length7 == 127 ? 8 : 0;
    const int mask = (m_header[1] & 0x80) ? 4 : 0;
    return 2 + extended + mask;
}

void CloseFrameScanner::startPayload()
{
    const int length7 = m_header[1] & 0x7f;
    int at = 2;
    quint64 length = quint64(length7);
    if (length7 >= 126) {
        const int bytes = length7 == 126 ? 2 : 8;
        length = 0;
        for (int i = 0; i < bytes; ++i)
            length = (length << 8) | m_header[at++];
    }
    const bool masked = (m_header[1] & 0x80) != 0;
    for (int i = 0; i < 4; ++i)
        m_mask[i] = masked ? m_header[at + i] : 0;
    m_isClose = (m_header[0] & 0x0f) == OpClose;
    m_headerSize = 0;
    m_inPayload = true;
    m_remaining = length;
    m_payloadOffset = 0;
    m_closePayload.clear();
    if (m_remaining == 0)
        endFrame();
}

void CloseFrameScanner::takeClosePayload(QByteArrayView bytes)
{
    for (const char byte : bytes) {
        if (m_closePayload.size() < MaxControlPayload)
            m_closePayload.append(char(static_cast<unsigned char>(byte) ^ m_mask[m_payloadOffset % 4]));
        ++m_payloadOffset;
    }
}

void CloseFrameScanner::endFrame()
{
    m_inPayload = false;
    if (!m_isClose)
        return;
    Close close;
    if (m_closePayload.size() == 1) {
        close.malformed = true;
    } else if (m_closePayload.size() >= 2) {
        const auto *p = reinterpret_cast<const unsigned char *>(m_closePayload.constData());
        close.code = quint16((p[0] << 8) | p[1]);
        close.reason = m_closePayload.sliced(2);
    }
    m_close = std::move(close);
    m_closePayload = QByteArray();
}

} // namespace ws2api
