#include "transport/Tls.h"

#include <QSslCertificate>
#include <QSslKey>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <type_traits>

#include "ListenerRole.h"
#include "ws2api/ProxyConfig.h"

namespace ws2api::transport {

namespace {

template <typename T, void (*Free)(T *)>
using Owned = std::unique_ptr<T, std::integral_constant<decltype(Free), Free>>;

// OCPP security profiles 2 and 3 (1.6 security whitepaper, 2.0.1 part 2 A00): TLS 1.2
// with these suites, for an ECDSA and an RSA certificate; TLS 1.3 keeps OpenSSL's.
constexpr char OcppTls12Suites[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:AES128-GCM-SHA256:AES256-GCM-SHA384";

// Before each call: what SSL_get_error() reads must be this call's.
void clearErrors()
{
    ERR_clear_error();
    errno = 0;
}

// What OpenSSL last said on this thread, shortest first ("no shared cipher").
QString openSslError()
{
    const unsigned long code = ERR_peek_last_error();
    ERR_clear_error();
    if (code == 0)
        return QStringLiteral("unknown TLS error");
    if (const char *reason = ERR_reason_error_string(code))
        return QString::fromLatin1(reason);
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    return QString::fromLatin1(text);
}

Owned<X509, X509_free> toX509(const QSslCertificate &certificate)
{
    const QByteArray der = certificate.toDer();
    const auto *data = reinterpret_cast<const unsigned char *>(der.constData());
    return Owned<X509, X509_free>(d2i_X509(nullptr, &data, long(der.size())));
}

Owned<EVP_PKEY, EVP_PKEY_free> toKey(const QSslKey &key)
{
    const QByteArray pem = key.toPem();
    Owned<BIO, BIO_free_all> bio(BIO_new_mem_buf(pem.constData(), int(pem.size())));
    return Owned<EVP_PKEY, EVP_PKEY_free>(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

// Adds one certificate chain (leaf first) and its key; OpenSSL keeps one per key
// type, so an RSA and an ECDSA pair sit side by side.
bool addIdentity(SSL_CTX *ctx, const QList<QSslCertificate> &chain, const QSslKey &key, QString *error)
{
    const auto leaf = toX509(chain.constFirst());
    const auto pkey = toKey(key);
    if (!leaf || !pkey) {
        *error = QStringLiteral("unreadable certificate or key");
        return false;
    }
    if (SSL_CTX_use_certificate(ctx, leaf.get()) != 1 || SSL_CTX_use_PrivateKey(ctx, pkey.get()) != 1
        || SSL_CTX_check_private_key(ctx) != 1) {
        *error = QStringLiteral("certificate and key: ") + openSslError();
        return false;
    }
    for (qsizetype i = 1; i < chain.size(); ++i) {
        const auto intermediate = toX509(chain.at(i));
        if (!intermediate || SSL_CTX_add1_chain_cert(ctx, intermediate.get()) != 1) {
            *error = QStringLiteral("certificate chain: ") + openSslError();
            return false;
        }
    }
    return true;
}

bool trustClientCa(SSL_CTX *ctx, const QList<QSslCertificate> &authorities, bool required, QString *error)
{
    X509_STORE *store = SSL_CTX_get_cert_store(ctx);
    for (const QSslCertificate &authority : authorities) {
        const auto ca = toX509(authority);
        // The names go out in the CertificateRequest, so a station with several
        // certificates can pick the right one.
        if (!ca || X509_STORE_add_cert(store, ca.get()) != 1 || SSL_CTX_add_client_CA(ctx, ca.get()) != 1) {
            *error = QStringLiteral("client CA: ") + openSslError();
            return false;
        }
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | (required ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), nullptr);
    return true;
}

} // namespace

std::shared_ptr<const TlsServerContext> TlsServerContext::forListener(const ProxyConfig &config, ListenerRole role)
{
    if (config.tlsChains.isEmpty())
        return nullptr;
    // The one listener of a daemon without --push-listen carries its TLS to pushes too.
    if (role == ListenerRole::Pushes && !config.pushTls)
        return nullptr;
    std::shared_ptr<TlsServerContext> context(new TlsServerContext);
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    context->m_ctx = ctx;
    if (!ctx) {
        context->m_error = openSslError();
        return context;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION
                                 | SSL_OP_IGNORE_UNEXPECTED_EOF);
    // Idle connections give their record buffers back; writes may be partial and
    // resumed from a buffer that moved (the socket's queue).
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE
                              | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    // Resumption by stateless tickets only: no session cache growing with the fleet.
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    static const unsigned char SessionContext[] = "ws2api";
    SSL_CTX_set_session_id_context(ctx, SessionContext, sizeof SessionContext - 1);
    QString error;
    if (SSL_CTX_set_cipher_list(ctx, OcppTls12Suites) != 1)
        error = QStringLiteral("cipher suites: ") + openSslError();
    for (qsizetype i = 0; error.isEmpty() && i < config.tlsChains.size(); ++i) {
        if (!config.tlsChains.at(i).isEmpty())
            addIdentity(ctx, config.tlsChains.at(i), config.tlsKeys.value(i), &error);
    }
    if (error.isEmpty() && config.tlsVerifyClient != ProxyConfig::VerifyClient::None)
        trustClientCa(ctx, config.tlsClientCa, config.tlsVerifyClient == ProxyConfig::VerifyClient::Required, &error);
    context->m_error = error;
    context->m_verifiesClients = config.tlsVerifyClient != ProxyConfig::VerifyClient::None;
    return context;
}

TlsServerContext::~TlsServerContext()
{
    SSL_CTX_free(m_ctx);
}

TlsStream::TlsStream(std::shared_ptr<const TlsServerContext> context, qintptr socket)
    : m_context(std::move(context))
{
    if (!m_context->error().isEmpty()) {
        m_failure = m_context->error();
        return;
    }
    ERR_clear_error();
    m_ssl = SSL_new(m_context->native());
    if (!m_ssl || SSL_set_fd(m_ssl, int(socket)) != 1) {
        m_failure = openSslError();
        return;
    }
    SSL_set_accept_state(m_ssl);
}

TlsStream::~TlsStream()
{
    SSL_free(m_ssl);
}

TlsStream::Status TlsStream::handshake()
{
    if (!m_ssl)
        return Status::Failed;
    clearErrors();
    const int result = SSL_do_handshake(m_ssl);
    if (result == 1) {
        m_established = true;
        return Status::Ok;
    }
    return status(result);
}

bool TlsStream::started() const
{
    return m_ssl && !SSL_in_before(m_ssl);
}

TlsStream::Status TlsStream::read(char *data, qint64 size, qint64 *done)
{
    *done = 0;
    clearErrors();
    size_t got = 0;
    const int result = SSL_read_ex(m_ssl, data, size_t(size), &got);
    if (result == 1) {
        *done = qint64(got);
        return Status::Ok;
    }
    return status(result);
}

TlsStream::Status TlsStream::write(const char *data, qint64 size, qint64 *done)
{
    *done = 0;
    clearErrors();
    size_t put = 0;
    const int result = SSL_write_ex(m_ssl, data, size_t(size), &put);
    if (result == 1) {
        *done = qint64(put);
        return Status::Ok;
    }
    return status(result);
}

void TlsStream::shutdown()
{
    if (!m_ssl || !m_established)
        return;
    ERR_clear_error();
    (void)SSL_shutdown(m_ssl);
    ERR_clear_error();
}

QByteArray TlsStream::verifiedPeerCertificate() const
{
    if (!m_ssl || !m_established || !verifiesClients())
        return {};
    X509 *certificate = SSL_get0_peer_certificate(m_ssl);
    if (!certificate || SSL_get_verify_result(m_ssl) != X509_V_OK)
        return {};
    const int size = i2d_X509(certificate, nullptr);
    if (size <= 0)
        return {};
    QByteArray der(size, Qt::Uninitialized);
    auto *out = reinterpret_cast<unsigned char *>(der.data());
    i2d_X509(certificate, &out);
    return der;
}

TlsStream::Status TlsStream::status(int result)
{
    switch (SSL_get_error(m_ssl, result)) {
    case SSL_ERROR_WANT_READ:
        return Status::WantRead;
    case SSL_ERROR_WANT_WRITE:
        return Status::WantWrite;
    case SSL_ERROR_ZERO_RETURN:
        return Status::Closed;
    case SSL_ERROR_SYSCALL:
        if (ERR_peek_error() == 0) {
            // A reset before the first byte is a probe gone, like a close.
            if (errno == 0 || (!m_established && SSL_in_before(m_ssl)))
                return Status::Closed;
            m_failure = QString::fromLocal8Bit(std::strerror(errno));
            return Status::Failed;
        }
        break;
    default:
        break;
    }
    if (SSL_get_verify_result(m_ssl) != X509_V_OK && !m_established) {
        m_failure = QStringLiteral("client certificate: ")
            + QString::fromLatin1(X509_verify_cert_error_string(SSL_get_verify_result(m_ssl)));
        ERR_clear_error();
    } else {
        m_failure = openSslError();
    }
    return Status::Failed;
}

} // namespace ws2api::transport
