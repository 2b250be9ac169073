#include "TlsClient.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace loadgen {

namespace {

std::string lastOpenSslError()
{
    char text[256] = "unknown OpenSSL error";
    if (const unsigned long e = ERR_peek_last_error())
        ERR_error_string_n(e, text, sizeof text);
    ERR_clear_error();
    return text;
}

} // namespace

TlsContext::~TlsContext()
{
    SSL_CTX_free(m_ctx);
}

bool TlsContext::setUp(const std::string &caFile, std::string *error)
{
    m_ctx = SSL_CTX_new(TLS_client_method());
    if (!m_ctx) {
        *error = "SSL_CTX_new: " + lastOpenSslError();
        return false;
    }
    SSL_CTX_set_min_proto_version(m_ctx, TLS1_2_VERSION);
    // RELEASE_BUFFERS: an idle connection holds no 16 KiB read and write buffers;
    // tens of thousands of them sit idle most of the time. ACCEPT_MOVING_WRITE_BUFFER:
    // a write the socket did not take is retried from the connection's queue, which
    // may have moved (and grown) since.
    SSL_CTX_set_mode(m_ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (caFile.empty()) {
        SSL_CTX_set_verify(m_ctx, SSL_VERIFY_NONE, nullptr);
        return true;
    }
    if (SSL_CTX_load_verify_locations(m_ctx, caFile.c_str(), nullptr) != 1) {
        *error = "--ca " + caFile + ": " + lastOpenSslError();
        return false;
    }
    SSL_CTX_set_verify(m_ctx, SSL_VERIFY_PEER, nullptr);
    return true;
}

SSL *newTlsConnection(SSL_CTX *ctx, int fd, const Target &target)
{
    SSL *ssl = SSL_new(ctx);
    if (!ssl || SSL_set_fd(ssl, fd) != 1) {
        SSL_free(ssl);
        ERR_clear_error();
        return nullptr;
    }
    SSL_set_connect_state(ssl);
    // SNI carries names only, never an address (RFC 6066 section 3).
    const bool isName = target.host == "localhost";
    if (isName)
        SSL_set_tlsext_host_name(ssl, target.host.c_str());
    if (SSL_CTX_get_verify_mode(ctx) & SSL_VERIFY_PEER) {
        const bool set = isName ? SSL_set1_host(ssl, target.host.c_str()) == 1
                                : X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), target.host.c_str()) == 1;
        if (!set) {
            SSL_free(ssl);
            ERR_clear_error();
            return nullptr;
        }
    }
    return ssl;
}

int tlsFailure(SSL *ssl, int ret)
{
    const int kind = SSL_get_error(ssl, ret);
    const int savedErrno = errno;
    const unsigned long e = ERR_peek_last_error();
    ERR_clear_error();
    if (e != 0) {
        if (ERR_SYSTEM_ERROR(e))
            return -int(ERR_GET_REASON(e));
        // lib and reason, as ERR_reason_error_string() wants them; positive in 31 bits.
        return int(ERR_PACK(ERR_GET_LIB(e), 0, ERR_GET_REASON(e)) & 0x7fffffff);
    }
    if (kind == SSL_ERROR_SYSCALL && savedErrno != 0)
        return -savedErrno;
    return 0; // the peer closed the connection
}

std::string tlsFailureName(int key)
{
    if (key == 0)
        return "eof";
    if (key < 0) {
        const char *name = strerrorname_np(-key);
        return name ? name : "errno" + std::to_string(-key);
    }
    const char *reason = ERR_reason_error_string(static_cast<unsigned long>(key));
    return reason ? reason : "openssl" + std::to_string(key);
}

void describeTlsConnection(SSL *ssl, char *out, size_t size)
{
    const int group = SSL_get_negotiated_group(ssl);
    const char *groupName = group > 0 ? OBJ_nid2sn(group) : nullptr;
    // The server's key, to show which certificate the run was measured with.
    char key[48] = "";
    if (X509 *cert = SSL_get0_peer_certificate(ssl)) {
        if (EVP_PKEY *pkey = X509_get0_pubkey(cert))
            std::snprintf(key, sizeof key, " %s-%d", EVP_PKEY_get0_type_name(pkey), EVP_PKEY_get_bits(pkey));
    }
    std::snprintf(out, size, "%s %s %s%s", SSL_get_version(ssl), SSL_get_cipher_name(ssl),
                  groupName ? groupName : "-", key);
}

} // namespace loadgen
