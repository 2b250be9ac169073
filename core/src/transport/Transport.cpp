#include "transport/Transport.h"

#include <QSslCipher>

#include "DirectTcpSocket.h"
#include "Worker.h"
#include "transport/TlsSocket.h"
#include "ws2api/ProxyConfig.h"

namespace ws2api::transport {

namespace {

// OCPP security profiles 2 and 3 (1.6 security whitepaper, 2.0.1 part 2 A00):
// TLS 1.2 with these suites, for an ECDSA and an RSA certificate; TLS 1.3 keeps
// OpenSSL's own suites.
const char *const OcppTls12Suites[] = {"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
                                       "AES128-GCM-SHA256", "AES256-GCM-SHA384"};

QList<QSslCipher> allowedCiphers()
{
    QList<QSslCipher> ciphers;
    for (const QSslCipher &cipher : QSslConfiguration::supportedCiphers()) {
        if (cipher.protocol() == QSsl::TlsV1_3)
            ciphers.append(cipher);
    }
    for (const char *name : OcppTls12Suites) {
        const QSslCipher cipher(QString::fromLatin1(name), QSsl::TlsV1_2);
        if (!cipher.isNull())
            ciphers.append(cipher);
    }
    return ciphers;
}

} // namespace

std::optional<QSslConfiguration> serverTls(const ProxyConfig &config, ListenerRole role)
{
    if (config.tlsChain.isEmpty())
        return std::nullopt;
    // The one listener of a daemon without --push-listen carries its TLS to pushes too.
    if (role == ListenerRole::Pushes && !config.pushTls)
        return std::nullopt;
    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    tls.setProtocol(QSsl::TlsV1_2OrLater);
    tls.setCiphers(allowedCiphers());
    tls.setLocalCertificateChain(config.tlsChain);
    tls.setPrivateKey(config.tlsKey);
    switch (config.tlsVerifyClient) {
    case ProxyConfig::VerifyClient::None:
        tls.setPeerVerifyMode(QSslSocket::VerifyNone);
        break;
    case ProxyConfig::VerifyClient::Optional:
    case ProxyConfig::VerifyClient::Required:
        tls.setPeerVerifyMode(QSslSocket::VerifyPeer);
        tls.setCaCertificates(config.tlsClientCa);
        tls.setMissingCertificateIsFatal(config.tlsVerifyClient == ProxyConfig::VerifyClient::Required);
        break;
    }
    return tls;
}

QTcpSocket *adopt(qintptr descriptor, const std::optional<QSslConfiguration> &tls, QString *error)
{
    if (!tls) {
        auto *socket = new DirectTcpSocket;
        if (!socket->setSocketDescriptor(descriptor)) {
            *error = socket->errorString();
            delete socket;
            return nullptr;
        }
        return socket;
    }
    auto *socket = new TlsSocket;
    socket->setSslConfiguration(*tls);
    socket->setCertificateOptional(tls->peerVerifyMode() == QSslSocket::VerifyPeer && !tls->missingCertificateIsFatal());
    if (!socket->setSocketDescriptor(descriptor)) {
        *error = socket->errorString();
        delete socket;
        return nullptr;
    }
    return socket;
}

void startHandshake(QTcpSocket *socket)
{
    if (auto *tls = qobject_cast<TlsSocket *>(socket))
        tls->startServerEncryption();
}

bool checksClientCertificates(const QTcpSocket *socket)
{
    const auto *tls = qobject_cast<const QSslSocket *>(socket);
    return tls && tls->peerVerifyMode() == QSslSocket::VerifyPeer;
}

qint64 queuedBytes(const QTcpSocket *socket)
{
    if (!socket)
        return 0;
    if (const auto *tls = qobject_cast<const QSslSocket *>(socket))
        return tls->bytesToWrite() + tls->encryptedBytesToWrite();
    return socket->bytesToWrite();
}

void holdWrites(QTcpSocket *socket)
{
    if (auto *direct = qobject_cast<DirectTcpSocket *>(socket))
        direct->holdWrites();
    else if (auto *tls = qobject_cast<TlsSocket *>(socket))
        tls->holdWrites();
}

void releaseWrites(QTcpSocket *socket)
{
    if (auto *direct = qobject_cast<DirectTcpSocket *>(socket))
        direct->releaseWrites();
    else if (auto *tls = qobject_cast<TlsSocket *>(socket))
        tls->releaseWrites();
}

QByteArray clientCertHeader(const QTcpSocket *socket)
{
    const auto *tls = qobject_cast<const QSslSocket *>(socket);
    if (!tls || !tls->isEncrypted() || tls->peerVerifyMode() != QSslSocket::VerifyPeer)
        return {};
    const QSslCertificate certificate = tls->peerCertificate();
    if (certificate.isNull())
        return {};
    return ':' + certificate.toDer().toBase64() + ':';
}

} // namespace ws2api::transport
