#include "TlsOptions.h"

#include <QFile>
#include <QMap>
#include <QSslCertificate>
#include <QSslKey>

#ifdef WS2API_HAVE_OPENSSL
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>
#include <type_traits>
#endif

#include "Options.h"

using namespace Qt::Literals::StringLiterals;

namespace ws2apid::tlsoptions {

namespace {

QByteArray readWholeFile(const QString &path, QString *why)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *why = u"cannot read %1: %2"_s.arg(quoted(path), file.errorString());
        return {};
    }
    QByteArray data = file.readAll();
    if (data.isEmpty())
        *why = u"%1 is empty"_s.arg(quoted(path));
    return data;
}

// The PEM certificates in `path`, in order; empty (and *why) when there are none.
QList<QSslCertificate> readCertificates(const QString &path, QString *why)
{
    const QByteArray pem = readWholeFile(path, why);
    if (pem.isEmpty())
        return {};
    QList<QSslCertificate> certificates = QSslCertificate::fromData(pem, QSsl::Pem);
    if (certificates.isEmpty())
        *why = u"%1 holds no PEM certificate"_s.arg(quoted(path));
    return certificates;
}

#ifdef WS2API_HAVE_OPENSSL
// OpenSSL reads both from their PEM text (not through Qt's handles, whose types
// depend on the backend and the key algorithm).
template <typename T, void (*Free)(T *)>
using Owned = std::unique_ptr<T, std::integral_constant<decltype(Free), Free>>;

Owned<BIO, BIO_free_all> memoryBio(const QByteArray &pem)
{
    return Owned<BIO, BIO_free_all>(BIO_new_mem_buf(pem.constData(), int(pem.size())));
}
#endif

// Whether `key` is the private key of `certificate`: checked where the build has
// OpenSSL (Debian's); elsewhere a pair that does not fit shows at the first
// handshake (refused and logged).
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

} // namespace

bool setApiCa(const QString &value, ParsedOptions *out, QString *why)
{
    out->config.apiCaCertificates = readCertificates(value, why);
    out->config.apiCaFile = value;
    return !out->config.apiCaCertificates.isEmpty();
}

bool setTlsCert(const QString &value, ParsedOptions *out, QString *why)
{
    out->config.tlsChain = readCertificates(value, why);
    return !out->config.tlsChain.isEmpty();
}

bool setTlsKey(const QString &value, ParsedOptions *out, QString *why)
{
    const QByteArray pem = readWholeFile(value, why);
    if (pem.isEmpty())
        return false;
    for (const QSsl::KeyAlgorithm algorithm : {QSsl::Ec, QSsl::Rsa}) {
        const QSslKey key(pem, algorithm, QSsl::Pem, QSsl::PrivateKey);
        if (!key.isNull()) {
            out->config.tlsKey = key;
            return true;
        }
    }
    *why = u"%1 holds no unencrypted PEM RSA or EC private key"_s.arg(quoted(value));
    return false;
}

bool setTlsClientCa(const QString &value, ParsedOptions *out, QString *why)
{
    out->config.tlsClientCa = readCertificates(value, why);
    return !out->config.tlsClientCa.isEmpty();
}

bool setTlsVerifyClient(const QString &value, ParsedOptions *out, QString *why)
{
    using Verify = ws2api::ProxyConfig::VerifyClient;
    static const QMap<QString, Verify> Modes = {
        {u"none"_s, Verify::None}, {u"optional"_s, Verify::Optional}, {u"required"_s, Verify::Required}};
    if (!Modes.contains(value)) {
        *why = u"%1 is not none, optional or required"_s.arg(quoted(value));
        return false;
    }
    out->config.tlsVerifyClient = Modes.value(value);
    return true;
}

bool setPushTls(const QString &value, ParsedOptions *out, QString *why)
{
    return parseOnOff(value, &out->config.pushTls, why);
}

QString inconsistency(const ParsedOptions &options)
{
    const ws2api::ProxyConfig &c = options.config;
    using Verify = ws2api::ProxyConfig::VerifyClient;
    if (c.tlsChain.isEmpty() != c.tlsKey.isNull())
        return u"--tls-cert and --tls-key go together"_s;
    if (!c.tlsChain.isEmpty() && !keyFitsCertificate(c.tlsChain.first(), c.tlsKey))
        return u"--tls-key: not the key of the certificate in --tls-cert"_s;
    if (c.tlsVerifyClient != Verify::None && c.tlsClientCa.isEmpty())
        return u"--tls-verify-client needs --tls-client-ca"_s;
    if (c.tlsVerifyClient != Verify::None && c.tlsChain.isEmpty())
        return u"--tls-verify-client needs --tls-cert"_s;
    if (c.pushTls && c.tlsChain.isEmpty())
        return u"--push-tls on needs --tls-cert"_s;
    if (c.pushTls && !c.hasPushListener)
        return u"--push-tls on needs --push-listen (without it pushes share --listen and its TLS)"_s;
    return {};
}

} // namespace ws2apid::tlsoptions
