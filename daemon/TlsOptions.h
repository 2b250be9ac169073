#pragma once

#include <QString>

namespace ws2apid {

struct ParsedOptions;

// The options that read TLS files (--tls-cert, --tls-key, --tls-client-ca, --api-ca)
// and their switches (--tls-verify-client, --push-tls): each takes one option's
// text into `out`, or says in *why what is wrong with it (not naming the option).
namespace tlsoptions {

bool setApiCa(const QString &value, ParsedOptions *out, QString *why);
bool setTlsCert(const QString &value, ParsedOptions *out, QString *why);
bool setTlsKey(const QString &value, ParsedOptions *out, QString *why);
bool setTlsClientCa(const QString &value, ParsedOptions *out, QString *why);
bool setTlsVerifyClient(const QString &value, ParsedOptions *out, QString *why);
bool setPushTls(const QString &value, ParsedOptions *out, QString *why);

// Once every option is read: pairs the certificates with their keys and says what
// does not go together; empty when all is well.
QString finish(ParsedOptions *options);

} // namespace tlsoptions
} // namespace ws2apid
