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

bool replacePendingHead(QTcpSocket *socket, qsizetype length, const QByteArray &head)
{
    auto *accepted = qobject_cast<AcceptedSocket *>(socket);
    return accepted && accepted->replacePendingHead(length, head);
}

void releasePeekBuffer(QTcpSocket *socket)
{
    if (auto *accepted = qobject_cast<AcceptedSocket *>(socket))
        accepted->releasePeekBuffer();
}

void followReads(QTcpSocket *socket, std::function<void(QByteArrayView)> tap)
{
    if (auto *accepted = qobject_cast<AcceptedSocket *>(socket))
        accepted->setReadTap(std::move(tap));
}

void checkClientFrames(QTcpSocket *socket, quint64 maxMessage,
                       std::function<void(int code, const QString &reason)> violated)
{
    if (auto *accepted = qobject_cast<AcceptedSocket *>(socket))
        accepted->checkClientFrames(maxMessage, std::move(violated));
}

void allowHalfClose(QTcpSocket *socket)
{
    if (auto *accepted = qobject_cast<AcceptedSocket *>(socket))
        accepted->setHalfCloseAllowed(true);
}

void holdWrites(QTcpSocket *socket)
{
    if (auto *direct = qobject_cast<DirectTcpSocket *>(socket))
        direct->holdWrites();
}

void releaseWrites(QTcpSocket *socket)
{
    if (auto *direct = qobject_cast<DirectTcpSocket *>(socket))
        direct->releaseWrites();
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
