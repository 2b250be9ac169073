#include "TlsCheck.h"

#ifdef WS2API_HAVE_OPENSSL
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>
#endif

namespace ws2apid {

#ifdef WS2API_HAVE_OPENSSL
namespace {

// OpenSSL reads both from their PEM text (not through Qt's handles, whose types
// depend on the backend and the key algorithm).
template <typename T, void (*Free)(T *)>
using Owned = std::unique_ptr<T, std::integral_constant<decltype(Free), Free>>;

Owned<BIO, BIO_free_all> memoryBio(const QByteArray &pem)
{
    return Owned<BIO, BIO_free_all>(BIO_new_mem_buf(pem.constData(), int(pem.size())));
}

} // namespace
#endif

bool keyFitsCertificate(const QSslCertificate &certificate, const QSslKey &key)
{
#ifdef WS2API_HAVE_OPENSSL
    const QByteArray certificatePem = certificate.toPem();
    const QByteArray keyPem = key.toPem();
    auto certificateBio = memoryBio(certificatePem);
    auto keyBio = memoryBio(keyPem);
    Owned<X509, X509_free> x509(PEM_read_bio_X509(certificateBio.get(), nullptr, nullptr, nullptr));
    Owned<EVP_PKEY, EVP_PKEY_free> pkey(PEM_read_bio_PrivateKey(keyBio.get(), nullptr, nullptr, nullptr));
    if (x509 && pkey)
        return X509_check_private_key(x509.get(), pkey.get()) == 1;
#endif
    Q_UNUSED(certificate);
    Q_UNUSED(key);
    return true;
}

} // namespace ws2apid
