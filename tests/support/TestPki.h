#pragma once

#include <QSslCertificate>
#include <QSslConfiguration>
#include <QString>
#include <QTemporaryDir>

namespace ws2api::test {

// Test certificates made by Debian's openssl in a temporary folder, never committed:
// a CA, a server certificate for 127.0.0.1 (server.crt, server.key, and server.pem
// with both, as HAProxy takes it), and client certificates whose CN is the name
// given and O "Test Operator" (as OCPP security profile 3 has a station's).
// EC P-256 keys throughout, but for a second server pair with an RSA 2048 key
// (server-rsa.crt, server-rsa.key).
class TestPki
{
public:
    bool make(const QStringList &clients = {});
    bool addClient(const QString &name);

    QString path(const QString &name) const { return m_dir.filePath(name); }
    QSslCertificate certificate(const QString &name) const;
    QSslCertificate caCertificate() const { return certificate(QStringLiteral("ca")); }
    QByteArray read(const QString &file) const;
    // What a client of this PKI uses: its CA to check servers, and `name`'s
    // certificate and key when not empty.
    QSslConfiguration clientTls(const QString &name) const;

private:
    bool signedPair(const QString &name, const QString &subject, const QString &extension, bool rsa = false);

    QTemporaryDir m_dir;
};

} // namespace ws2api::test
