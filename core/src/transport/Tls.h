#pragma once

#include <QByteArray>
#include <QString>
#include <memory>

#include "ListenerRole.h"

struct ssl_ctx_st;
struct ssl_st;

namespace ws2api {

struct ProxyConfig;

namespace transport {

// A listener's server-side TLS, made from the configuration once per (re)load and
// shared by every handshake on it: one OpenSSL context (not one per connection, as
// QSslSocket makes), holding an RSA and an ECDSA certificate side by side when both
// are given, so each client gets the one its suites ask for. A connection keeps the
// context it started with; a reload serves the next handshakes.
class TlsServerContext
{
public:
    // Null for plaintext (no certificate, or a push listener without --push-tls).
    // A context that could not be made (a key that does not fit) is returned with
    // error() set: its handshakes fail at once, each logged, instead of hanging.
    static std::shared_ptr<const TlsServerContext> forListener(const ProxyConfig &config, ListenerRole role);

    ~TlsServerContext();
    TlsServerContext(const TlsServerContext &) = delete;
    TlsServerContext &operator=(const TlsServerContext &) = delete;

    QString error() const { return m_error; }
    // Whether client certificates are asked for and verified here.
    bool verifiesClients() const { return m_verifiesClients; }
    ssl_ctx_st *native() const { return m_ctx; }

private:
    TlsServerContext() = default;

    ssl_ctx_st *m_ctx = nullptr;
    QString m_error;
    bool m_verifiesClients = false;
};

// One connection's TLS, reading and writing a non-blocking socket itself.
class TlsStream
{
public:
    enum class Status {
        Ok,         // done (a count of bytes, for read and write)
        WantRead,   // call again when the socket is readable
        WantWrite,  // call again when the socket is writable
        Closed,     // the peer ended the stream
        Failed,     // see failure()
    };

    TlsStream(std::shared_ptr<const TlsServerContext> context, qintptr socket);
    ~TlsStream();
    TlsStream(const TlsStream &) = delete;
    TlsStream &operator=(const TlsStream &) = delete;

    Status handshake();
    bool established() const { return m_established; }
    // Whether the peer had sent anything before the stream ended: a port probe or a
    // health check closes before its first byte, and is no failed handshake.
    bool started() const;

    Status read(char *data, qint64 size, qint64 *done);
    Status write(const char *data, qint64 size, qint64 *done);
    // Sends close_notify, without waiting for the peer's.
    void shutdown();

    QString failure() const { return m_failure; }
    // The client's certificate in DER, when one was asked for and verified.
    QByteArray verifiedPeerCertificate() const;
    bool verifiesClients() const { return m_context->verifiesClients(); }

private:
    Status status(int result);

    std::shared_ptr<const TlsServerContext> m_context;
    ssl_st *m_ssl = nullptr;
    QString m_failure;
    bool m_established = false;
};

} // namespace transport
} // namespace ws2api
