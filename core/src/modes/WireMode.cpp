#include "modes/WireMode.h"

#include "HostAddress.h"
#include "HttpHead.h"

namespace ws2api {

WireMode::WireMode(QByteArray apiBasePath)
    : m_basePath(std::move(apiBasePath))
{
    while (m_basePath.endsWith('/'))
        m_basePath.chop(1);
}

std::optional<QString> WireMode::negotiate(const QList<QByteArray> &) const
{
    return QString();
}

QByteArray WireMode::apiPath(std::initializer_list<QByteArrayView> encodedSegments) const
{
    QByteArray path = m_basePath;
    for (QByteArrayView segment : encodedSegments) {
        path += '/';
        path += segment;
    }
    return path;
}

ApiRequest WireMode::disconnectRequest(const QByteArray &clientId, const QString &reason, int code) const
{
    ApiRequest request = goneRequest(clientId, code, reason);
    request.headers.emplaceBack("X-Close-Code", QByteArray::number(code));
    // Percent-encoded: a reason is any UTF-8 the client chose, CR and LF included.
    request.headers.emplaceBack("X-Close-Reason", reason.toUtf8().toPercentEncoding());
    return request;
}

void WireMode::reconfigure(const ProxyConfig &config)
{
    m_forwardHeaders = config.forwardHeaders;
    reconfigureMode(config);
}

HeaderList WireMode::forwardedHeaders(const ConnectInfo &info) const
{
    static constexpr const char *Passed[] = {"Authorization", "Cookie", "Origin", "User-Agent",
                                             "Sec-WebSocket-Protocol"};
    HeaderList headers;
    for (const char *name : Passed) {
        for (const QByteArray &value : info.head->headerValues(name))
            headers.emplaceBack(name, value);
    }
    // The certificate verified by our own TLS; then a balancer's, when named below.
    if (!info.clientCert.isEmpty())
        headers.emplaceBack("Client-Cert", info.clientCert);
    // The daemon's options refuse names that are passed already or that the API
    // request sets itself.
    for (const QByteArray &name : m_forwardHeaders) {
        if (info.checksClientCertificates && name.compare("Client-Cert", Qt::CaseInsensitive) == 0)
            continue;  // a client's own, where our TLS proves the certificate itself
        for (const QByteArray &value : info.head->headerValues(name))
            headers.emplaceBack(name, value);
    }
    QByteArray forwarded = info.head->headerValues("X-Forwarded-For").join(", ");
    if (!forwarded.isEmpty())
        forwarded += ", ";
    forwarded += withoutIpv4Mapping(info.peer).toString().toLatin1();
    headers.emplaceBack("X-Forwarded-For", forwarded);
    return headers;
}

ConnectVerdict WireMode::connectVerdict(const ApiResponse &response) const
{
    ConnectVerdict verdict;
    switch (response.outcome) {
    case ApiResponse::Outcome::Timeout:
        verdict.status = 504;
        return verdict;
    case ApiResponse::Outcome::Overloaded:
        verdict.status = 503;
        return verdict;
    case ApiResponse::Outcome::Unreachable:
    case ApiResponse::Outcome::BadResponse:
        verdict.status = 502;
        return verdict;
    case ApiResponse::Outcome::Ok:
        break;
    }
    const int status = response.status;
    if (status >= 200 && status < 300 && isAcceptToken(response.body)) {
        verdict.accept = true;
        verdict.status = 101;
        return verdict;
    }
    if (status == 401 || status == 403) {
        verdict.status = status;
        verdict.body = response.body;
        const QByteArray challenge = response.header("WWW-Authenticate");
        if (!challenge.isEmpty())
            verdict.headers.emplaceBack("WWW-Authenticate", challenge);
    } else if ((status >= 200 && status < 300) || (status >= 400 && status < 500)) {
        verdict.status = 403;
        verdict.body = response.body;
    } else {
        verdict.status = 502;
    }
    const QByteArray type = response.header("Content-Type");
    if (!verdict.body.isEmpty() && !type.isEmpty())
        verdict.headers.emplaceBack("Content-Type", type);
    return verdict;
}

} // namespace ws2api
