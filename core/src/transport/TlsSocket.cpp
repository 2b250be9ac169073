#include "transport/TlsSocket.h"

#include <algorithm>

namespace ws2api {

TlsSocket::TlsSocket()
{
    connect(this, &QSslSocket::sslErrors, this, [this](const QList<QSslError> &errors) {
        const bool onlyNoCertificate = std::all_of(errors.begin(), errors.end(), [](const QSslError &e) {
            return e.error() == QSslError::NoPeerCertificate;
        });
        if (m_certificateOptional && onlyNoCertificate)
            ignoreSslErrors(errors);
    });
}

void TlsSocket::releaseWrites()
{
    m_holding = false;
    if (m_held.isEmpty())
        return;
    const QByteArray held = std::exchange(m_held, {});
    QSslSocket::writeData(held.constData(), held.size());
}

void TlsSocket::disconnectFromHost()
{
    releaseWrites();  // a refusal written while held must still leave
    QSslSocket::disconnectFromHost();
}

void TlsSocket::close()
{
    releaseWrites();
    QSslSocket::close();
}

qint64 TlsSocket::writeData(const char *data, qint64 size)
{
    if (!m_holding)
        return QSslSocket::writeData(data, size);
    m_held.append(data, size);
    return size;
}

} // namespace ws2api
