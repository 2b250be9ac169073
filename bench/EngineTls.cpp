// Engine over wss://: the TLS handshake between the TCP connect and the upgrade, then
// the same reads and writes as ws:// through the connection's SSL object. Non-blocking
// OpenSSL on a level-triggered epoll set: a call that returns WANT_READ or WANT_WRITE
// is repeated when the socket is ready that way, whichever call it was, so a write
// may wait for the socket to be readable (Conn::WriteWantsRead) and a read for it to
// be writable (Conn::ReadWantsWrite).
#include "Engine.h"

#include <sys/epoll.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cerrno>

#include "TlsClient.h"

namespace loadgen {

void Engine::startTls(Conn &c)
{
    SSL *ssl = newTlsConnection(m_tls, c.fd, m_options.targets[c.target]);
    if (!ssl) {
        m_stats->tlsFailures.add(-ENOMEM);
        return handshakeFailed(c, &m_stats->handshakeTls, 0, nowUs());
    }
    m_ssl[localIndex(c)] = ssl;
    c.state = Conn::State::TlsHandshake;
    tlsHandshake(c, ssl);
}

void Engine::tlsHandshake(Conn &c, SSL *ssl)
{
    const int r = SSL_do_handshake(ssl);
    if (r == 1) {
        if (m_stats->tlsSession[0] == '\0')
            describeTlsConnection(ssl, m_stats->tlsSession, sizeof m_stats->tlsSession);
        return upgrade(c);
    }
    switch (SSL_get_error(ssl, r)) {
    case SSL_ERROR_WANT_READ:
        return watch(c, EPOLLIN);
    case SSL_ERROR_WANT_WRITE:
        return watch(c, EPOLLIN | EPOLLOUT);
    default:
        m_stats->tlsFailures.add(tlsFailure(ssl, r));
        return handshakeFailed(c, &m_stats->handshakeTls, 0, nowUs());
    }
}

void Engine::tlsEvent(Conn &c, SSL *ssl, uint32_t events)
{
    const bool in = events & (EPOLLIN | EPOLLERR | EPOLLHUP);
    const bool out = events & (EPOLLOUT | EPOLLERR | EPOLLHUP);
    if (!c.tx.empty() && ((c.tlsWants & Conn::WriteWantsRead) ? in : out) && !tlsFlush(c, ssl))
        return;
    if (in || (out && (c.tlsWants & Conn::ReadWantsWrite)))
        tlsReadable(c, ssl);
    if (c.state != Conn::State::Done)
        tlsWatch(c);
}

// Reads until OpenSSL wants more from the socket: a record it has already taken in
// would not wake a level-triggered epoll again.
void Engine::tlsReadable(Conn &c, SSL *ssl)
{
    c.tlsWants &= uint8_t(~Conn::ReadWantsWrite);
    for (;;) {
        const int n = SSL_read(ssl, m_readBuffer.data(), int(m_readBuffer.size()));
        const int64_t now = nowUs();
        if (n > 0) {
            received(c, size_t(n), now);
            if (c.state == Conn::State::Done)
                return;
            continue;
        }
        switch (SSL_get_error(ssl, n)) {
        case SSL_ERROR_WANT_READ:
            return;
        case SSL_ERROR_WANT_WRITE: // e.g. an alert or a key update to answer
            c.tlsWants |= Conn::ReadWantsWrite;
            return;
        default: // close_notify, end of file or an error: gone without a close frame
            ERR_clear_error();
            return peerGone(c, now);
        }
    }
}

// Called with nothing queued. OpenSSL writes all of it or nothing it reports: without
// SSL_MODE_ENABLE_PARTIAL_WRITE a successful SSL_write() took every byte.
bool Engine::tlsWrite(Conn &c, SSL *ssl, const uint8_t *data, size_t size)
{
    const int n = SSL_write(ssl, data, int(size));
    if (n > 0)
        return true;
    if (!tlsWriteFailed(c, ssl, n))
        return false;
    // The retry must offer the same bytes (and may offer more behind them): from the
    // queue, which SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER allows to have moved.
    c.tx.assign(data, data + size);
    tlsWatch(c);
    return true;
}

bool Engine::tlsFlush(Conn &c, SSL *ssl)
{
    c.tlsWants &= uint8_t(~Conn::WriteWantsRead);
    const int n = SSL_write(ssl, c.tx.data(), int(c.tx.size()));
    if (n <= 0)
        return tlsWriteFailed(c, ssl, n);
    c.tx.erase(c.tx.begin(), c.tx.begin() + n);
    if (c.tx.empty())
        std::vector<uint8_t>().swap(c.tx);
    return true;
}

// After SSL_write() returned ret <= 0: true when it is to be repeated later (the
// connection says when), false when the connection failed and is gone.
bool Engine::tlsWriteFailed(Conn &c, SSL *ssl, int ret)
{
    switch (SSL_get_error(ssl, ret)) {
    case SSL_ERROR_WANT_WRITE:
        return true;
    case SSL_ERROR_WANT_READ: // e.g. the peer's handshake messages must come first
        c.tlsWants |= Conn::WriteWantsRead;
        return true;
    default:
        ERR_clear_error();
        peerGone(c, nowUs());
        return false;
    }
}

// Always readable; writable while a write waits for room or a read wants to write.
void Engine::tlsWatch(Conn &c)
{
    const bool out = (!c.tx.empty() && !(c.tlsWants & Conn::WriteWantsRead)) || (c.tlsWants & Conn::ReadWantsWrite);
    watch(c, EPOLLIN | (out ? uint32_t(EPOLLOUT) : 0u));
}

} // namespace loadgen
