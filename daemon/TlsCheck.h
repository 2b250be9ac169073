#pragma once

#include <QSslCertificate>
#include <QSslKey>

namespace ws2apid {

// Whether `key` is the private key of `certificate`. Checked with OpenSSL where the
// build has it (Debian's); elsewhere true, and a pair that does not fit shows at
// the first handshake (refused and logged).
bool keyFitsCertificate(const QSslCertificate &certificate, const QSslKey &key);

} // namespace ws2apid
