#include "TlsOptions.h"

#include <QFile>
#include <QStringList>

#include <algorithm>
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

// "a.pem, b.pem" (a file's list, or repeated options joined) as file names.
QStringList fileList(const QString &value)
{
    QStringList files;
    for (const QString &file : value.split(u',')) {
        if (!file.trimmed().isEmpty())
            files.append(file.trimmed());
    }
    return files;
}

QString algorithmName(QSsl::KeyAlgorithm algorithm)
{
    return algorithm == QSsl::Rsa ? u"RSA"_s : algorithm == QSsl::Ec ? u"ECDSA"_s : u"other"_s;
}

// Puts each key beside the certificate it belongs to (they may come in any order),
// and refuses what cannot serve: a key for no certificate, two of one kind (OpenSSL
// keeps one certificate per key type, so the second would silently replace the first).
QString pairKeys(ParsedOptions *options)
{
    ws2api::ProxyConfig &c = options->config;
    if (c.tlsChains.size() != c.tlsKeys.size()) {
        if (c.tlsChains.isEmpty() || c.tlsKeys.isEmpty())
            return u"--tls-cert and --tls-key go together"_s;
        return u"--tls-cert and --tls-key: %1 certificates but %2 keys"_s.arg(c.tlsChains.size())
            .arg(c.tlsKeys.size());
    }
    if (c.tlsChains.size() == 2) {
        const QSsl::KeyAlgorithm first = c.tlsChains.at(0).constFirst().publicKey().algorithm();
        if (first == c.tlsChains.at(1).constFirst().publicKey().algorithm()) {
            return u"--tls-cert: both certificates have %1 keys; two pairs are an RSA and an ECDSA one"_s.arg(
                algorithmName(first));
        }
    }
    QList<QSslKey> keys = c.tlsKeys;
    c.tlsKeys.clear();
    for (qsizetype i = 0; i < c.tlsChains.size(); ++i) {
        const auto fits = std::find_if(keys.begin(), keys.end(), [&](const QSslKey &key) {
            return keyFitsCertificate(c.tlsChains.at(i).constFirst(), key);
        });
        if (fits == keys.end()) {
            if (c.tlsChains.size() == 1)
                return u"--tls-key: not the key of the certificate in --tls-cert"_s;
            return u"--tls-key: none of the keys is the key of the certificate in %1"_s.arg(
                quoted(options->tlsCertFiles.value(i)));
        }
        c.tlsKeys.append(*fits);
        keys.erase(fits);
    }
    return {};
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
    out->config.tlsChains.clear();
    out->tlsCertFiles = fileList(value);
    if (out->tlsCertFiles.size() > 2) {
        *why = u"at most two certificates (an RSA and an ECDSA one)"_s;
        return false;
    }
    for (const QString &file : std::as_const(out->tlsCertFiles)) {
        const QList<QSslCertificate> chain = readCertificates(file, why);
        if (chain.isEmpty())
            return false;
        out->config.tlsChains.append(chain);
    }
    return true;
}

bool setTlsKey(const QString &value, ParsedOptions *out, QString *why)
{
    out->config.tlsKeys.clear();
    const QStringList files = fileList(value);
    if (files.size() > 2) {
        *why = u"at most two keys (an RSA and an ECDSA one)"_s;
        return false;
    }
    for (const QString &file : files) {
        const QByteArray pem = readWholeFile(file, why);
        if (pem.isEmpty())
            return false;
        QSslKey key;
        for (const QSsl::KeyAlgorithm algorithm : {QSsl::Ec, QSsl::Rsa}) {
            if (key.isNull())
                key = QSslKey(pem, algorithm, QSsl::Pem, QSsl::PrivateKey);
        }
        if (key.isNull()) {
            *why = u"%1 holds no unencrypted PEM RSA or EC private key"_s.arg(quoted(file));
            return false;
        }
        out->config.tlsKeys.append(key);
    }
    return true;
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

QString finish(ParsedOptions *options)
{
    if (const QString problem = pairKeys(options); !problem.isEmpty())
        return problem;
    const ws2api::ProxyConfig &c = options->config;
    using Verify = ws2api::ProxyConfig::VerifyClient;
    if (c.tlsVerifyClient != Verify::None && c.tlsClientCa.isEmpty())
        return u"--tls-verify-client needs --tls-client-ca"_s;
    if (c.tlsVerifyClient != Verify::None && c.tlsChains.isEmpty())
        return u"--tls-verify-client needs --tls-cert"_s;
    if (c.pushTls && c.tlsChains.isEmpty())
        return u"--push-tls on needs --tls-cert"_s;
    if (c.pushTls && !c.hasPushListener)
        return u"--push-tls on needs --push-listen (without it pushes share --listen and its TLS)"_s;
    return {};
}

} // namespace ws2apid::tlsoptions
