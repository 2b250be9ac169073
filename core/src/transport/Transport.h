#pragma once

#include <QByteArray>
#include <memory>

#include "ListenerRole.h"

class QString;
class QTcpSocket;

namespace ws2api {

struct ProxyConfig;

// Where plaintext and TLS part. An accepted descriptor becomes an AcceptedSocket
// (plaintext, or TLS with the listener's context); above that, these are all the
// upgrade step and the sessions ask of it, whichever it is.
namespace transport {

class TlsServerContext;

// The server-side TLS of a listener with `role` under `config`: null for plaintext
// (no --tls-cert, or a push listener without --push-tls).
std::shared_ptr<const TlsServerContext> serverTls(const ProxyConfig &config, ListenerRole role);

// Up to `max` bytes the peer sent that were not read yet, left in place.
QByteArray peekPending(const QTcpSocket *socket, qsizetype max);

// Whether the daemon checks client certificates on this socket itself: then no
// Client-Cert header a client wrote may pass, whatever --forward-headers says.
bool checksClientCertificates(const QTcpSocket *socket);

// What waits to be sent on `socket`, whatever layer holds it; 0 for a null socket.
qint64 queuedBytes(const QTcpSocket *socket);

// Everything the peer sent that was not read yet (without a copy where it can).
QByteArray takePending(QTcpSocket *socket);

// Keeps the socket open for the answers once the peer has ended its side.
void allowHalfClose(QTcpSocket *socket);

// The client's certificate, verified against --tls-client-ca during the handshake,
// as RFC 9440 has it in a header: ":<base64 DER>:"; empty without one.
QByteArray clientCertHeader(const QTcpSocket *socket);

// Frees what OpenSSL keeps for the calling thread (its random generators). OpenSSL
// would do it from a thread-exit destructor, but QThread::wait() returns before
// those run, so a process exiting right after joining the thread could lose it.
// The last thing a worker thread does.
void endThread();

} // namespace transport
} // namespace ws2api
