#include "transport/Transport.h"

#include "transport/AcceptedSocket.h"
#include "transport/Tls.h"

#include <openssl/crypto.h>

namespace ws2api::transport {

std::shared_ptr<const TlsServerContext> serverTls(const ProxyConfig &config, ListenerRole role)
{
    return TlsServerContext::forListener(config, role);
}

QByteArray peekPending(const QTcpSocket *socket, qsizetype max)
{
    const auto *accepted = qobject_cast<const AcceptedSocket *>(socket);
    return accepted ? accepted->peekPending(max) : QByteArray();
}

bool checksClientCertificates(const QTcpSocket *socket)
{
    const auto *accepted = qobject_cast<const AcceptedSocket *>(socket);
    return accepted && accepted->verifiesClientCertificates();
}

qint64 queuedBytes(const QTcpSocket *socket)
{
    return socket ? socket->bytesToWrite() : 0;
}

QByteArray takePending(QTcpSocket *socket)
{
    auto *accepted = qobject_cast<AcceptedSocket *>(socket);
    return accepted ? accepted->takePending() : socket->readAll();
}

void allowHalfClose(QTcpSocket *socket)
{
    if (auto *accepted = qobject_cast<AcceptedSocket *>(socket))
        accepted->setHalfCloseAllowed(true);
}

QByteArray clientCertHeader(const QTcpSocket *socket)
{
    const auto *accepted = qobject_cast<const AcceptedSocket *>(socket);
    return accepted ? accepted->clientCertHeader() : QByteArray();
}

void endThread()
{
    OPENSSL_thread_stop();
}

} // namespace ws2api::transport
