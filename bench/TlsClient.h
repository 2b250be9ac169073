#pragma once

// The client side of wss:// (OpenSSL): one SSL_CTX per process, made before the load
// processes fork, and one SSL object per connection, driven non-blocking by the
// connection's event loop (Engine). The context asks OpenSSL to keep the generator
// lean: read and write buffers are released while a connection is idle, no session
// cache, no resumption.

#include <openssl/types.h>

#include <string>

#include "LoadOptions.h"

namespace loadgen {

class TlsContext
{
public:
    TlsContext() = default;
    ~TlsContext();
    TlsContext(const TlsContext &) = delete;
    TlsContext &operator=(const TlsContext &) = delete;

    // caFile empty: the server's certificate is not verified.
    bool setUp(const std::string &caFile, std::string *error);
    SSL_CTX *get() const { return m_ctx; }

private:
    SSL_CTX *m_ctx = nullptr;
};

// A client SSL on the connected socket fd, for target's host (verified when the
// context has a CA); null if OpenSSL cannot make one.
SSL *newTlsConnection(SSL_CTX *ctx, int fd, const Target &target);

// Why an SSL call that returned ret failed for good, as a small integer for a
// CountMap: an OpenSSL reason (> 0), -errno for a socket error, or 0 for the peer's
// end of file. Empties the thread's OpenSSL error queue, as the next call needs it.
int tlsFailure(SSL *ssl, int ret);
// The label of a tlsFailure() key in the report.
std::string tlsFailureName(int key);

// "TLSv1.3 TLS_AES_256_GCM_SHA384 X25519" (protocol, cipher, key exchange group)
// of an established connection, into out (at most size - 1 characters).
void describeTlsConnection(SSL *ssl, char *out, size_t size);

} // namespace loadgen
