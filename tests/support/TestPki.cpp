#include "TestPki.h"

#include <QFile>
#include <QProcess>
#include <QSslKey>

using namespace Qt::Literals::StringLiterals;

namespace ws2api::test {

namespace {

bool openssl(const QStringList &arguments)
{
    QProcess process;
    process.start(u"openssl"_s, arguments);
    if (!process.waitForFinished() || process.exitCode() != 0) {
        qWarning("openssl %s: %s", qPrintable(arguments.join(u' ')), process.readAllStandardError().constData());
        return false;
    }
    return true;
}

QStringList newKey(bool rsa = false)
{
    if (rsa)
        return {u"-newkey"_s, u"rsa:2048"_s, u"-nodes"_s};
    return {u"-newkey"_s, u"ec"_s, u"-pkeyopt"_s, u"ec_paramgen_curve:P-256"_s, u"-nodes"_s};
}

} // namespace

bool TestPki::make(const QStringList &clients)
{
    if (!m_dir.isValid())
        return false;
    if (!openssl(QStringList{u"req"_s, u"-x509"_s} + newKey()
                 + QStringList{u"-keyout"_s, path(u"ca.key"_s), u"-out"_s, path(u"ca.crt"_s), u"-subj"_s,
                               u"/O=Test Operator/CN=test CA"_s, u"-days"_s, u"2"_s}))
        return false;
    const QString serverNames = u"subjectAltName=IP:127.0.0.1,DNS:localhost"_s;
    if (!signedPair(u"server"_s, u"/CN=localhost"_s, serverNames)
        || !signedPair(u"server-rsa"_s, u"/CN=localhost"_s, serverNames, true))
        return false;
    QFile pem(path(u"server.pem"_s));  // HAProxy's crt: the chain, then the key
    if (!pem.open(QIODevice::WriteOnly))
        return false;
    pem.write(read(u"server.crt"_s) + read(u"server.key"_s));
    for (const QString &client : clients) {
        if (!addClient(client))
            return false;
    }
    return true;
}

bool TestPki::addClient(const QString &name)
{
    return signedPair(name, u"/O=Test Operator/CN="_s + name, {});
}

QSslCertificate TestPki::certificate(const QString &name) const
{
    return QSslCertificate(read(name + u".crt"_s));
}

QByteArray TestPki::read(const QString &file) const
{
    QFile f(path(file));
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

QSslConfiguration TestPki::clientTls(const QString &name) const
{
    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    tls.setCaCertificates({caCertificate()});
    tls.setPeerVerifyMode(QSslSocket::VerifyPeer);
    if (!name.isEmpty()) {
        tls.setLocalCertificate(certificate(name));
        tls.setPrivateKey(QSslKey(read(name + u".key"_s), QSsl::Ec));
    }
    return tls;
}

bool TestPki::signedPair(const QString &name, const QString &subject, const QString &extension, bool rsa)
{
    QStringList arguments = QStringList{u"req"_s, u"-x509"_s} + newKey(rsa)
                            + QStringList{u"-keyout"_s, path(name + u".key"_s), u"-out"_s, path(name + u".crt"_s),
                                          u"-subj"_s, subject, u"-days"_s, u"2"_s, u"-CA"_s, path(u"ca.crt"_s),
                                          u"-CAkey"_s, path(u"ca.key"_s)};
    if (!extension.isEmpty())
        arguments << u"-addext"_s << extension;
    return openssl(arguments);
}

} // namespace ws2api::test
