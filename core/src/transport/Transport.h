#pragma once

#include <QSslConfiguration>
#include <QString>
#include <optional>

class QTcpSocket;

namespace ws2api {

struct ProxyConfig;
enum class ListenerRole;

// Where plaintext and TLS part: the socket an accepted descriptor becomes, and the
// write hold of the upgrade step. Nothing above this seam asks which it has.
namespace transport {

// The server-side TLS settings of a listener with `role` under `config`: nullopt
// for plaintext (no --tls-cert, or a push listener without --push-tls).
std::optional<QSslConfiguration> serverTls(const ProxyConfig &config, ListenerRole role);

// A socket for an accepted descriptor: a DirectTcpSocket, or a TlsSocket ready for
// startHandshake(). Null and *error when the descriptor is unusable.
QTcpSocket *adopt(qintptr descriptor, const std::optional<QSslConfiguration> &tls, QString *error);

// Starts the server handshake of a TLS socket (after its owner listens to its
// errors: a bad key fails at once); nothing for plaintext.
void startHandshake(QTcpSocket *socket);

// Whether the daemon checks client certificates on this socket itself: then no
// Client-Cert header a client wrote may pass, whatever --forward-headers says.
bool checksClientCertificates(const QTcpSocket *socket);

// What waits to be sent on `socket`, whatever layer holds it (TLS: the plaintext
// not yet encrypted and the records not yet sent); 0 for a null socket.
qint64 queuedBytes(const QTcpSocket *socket);

// Gathers the socket's writes until releaseWrites().
void holdWrites(QTcpSocket *socket);
void releaseWrites(QTcpSocket *socket);

// The client's certificate, verified against --tls-client-ca during the handshake,
// as RFC 9440 has it in a header: ":<base64 DER>:"; empty without one.
QByteArray clientCertHeader(const QTcpSocket *socket);

} // namespace transport
} // namespace ws2api
