#include "IncomingConnection.h"

#include <QLoggingCategory>
#include <QTcpSocket>
#include <QTimer>

#include "ClientId.h"
#include "ConnectGate.h"
#include "HostAddress.h"
#include "HttpResponse.h"
#include "LogText.h"
#include "Metrics.h"
#include "transport/Transport.h"

Q_LOGGING_CATEGORY(lcHandshake, "ws2api.handshake", QtInfoMsg)

namespace ws2api {

namespace {
constexpr qsizetype MaxHeadBytes = 16 * 1024;

bool hasRole(ListenerRole role, ListenerRole wanted)
{
    return (int(role) & int(wanted)) != 0;
}
} // namespace

IncomingConnection::IncomingConnection(Worker *worker, QObject *parent, QTcpSocket *socket,
                                       ListenerRole role)
    : QObject(parent)
    , m_worker(worker)
    , m_socket(socket)
    , m_role(role)
    , m_timer(new QTimer(this))
{
    m_socket->setParent(this);
    m_timer->setSingleShot(true);
    m_timer->callOnTimeout(this, [this] {
        qCDebug(lcHandshake) << "handshake timeout from" << m_socket->peerAddress();
        abort();
    });
    m_timer->start(worker->config().handshakeTimeoutMs);
    connect(m_socket, &QTcpSocket::readyRead, this, &IncomingConnection::inspect);
    // While the API decides on an upgrade this object waits for its answer, even
    // if the client has gone: an accepted client must still be reported gone.
    connect(m_socket, &QTcpSocket::disconnected, this, [this] {
        if (!m_askingApi)
            deleteLater();
    });
    inspect();
}

IncomingConnection::~IncomingConnection()
{
    releaseSlot();
}

void IncomingConnection::abort()
{
    if (m_socket)
        m_socket->abort();
    deleteLater();
}

void IncomingConnection::inspect()
{
    if (m_decided)
        return;
    const QByteArray data = transport::peekPending(m_socket, MaxHeadBytes + 1);
    const QByteArrayView arrived = QByteArrayView(data).sliced(std::min(m_scanned, data.size()));
    m_scanned = data.size();
    switch (m_lineLimits.feed(arrived)) {
    case HttpHead::LineLimits::Verdict::Within:
        break;
    case HttpHead::LineLimits::Verdict::RequestLineTooLong:
        // 414 rather than 431: the target is what the client has to shorten (no
        // ClientId is that long), as nginx and Apache answer it.
        return refuse(414, "request line too long\n");
    case HttpHead::LineLimits::Verdict::FieldsTooLarge:
        return refuse(431, "request head too large\n");
    }
    // A head can only end, or be found invalid, where a line ends (or at once, for
    // bytes that are no HTTP at all): a client sending its head a byte at a time
    // costs one parse per line, not one per byte.
    if (data.size() != arrived.size() && !arrived.contains('\n') && data.size() <= MaxHeadBytes)
        return;
    HttpHead head;
    qsizetype headLength = 0;
    switch (HttpHead::parse(data, &head, &headLength, MaxHeadBytes)) {
    case HttpHead::Status::Incomplete:
        return;
    case HttpHead::Status::TooLarge:
        return refuse(431, "request head too large\n");
    case HttpHead::Status::Invalid:
        return refuse(400, "not an HTTP request\n");
    case HttpHead::Status::Complete:
        break;
    }
    m_decided = true;
    disconnect(m_socket, &QTcpSocket::readyRead, this, &IncomingConnection::inspect);
    if (!head.upgradeWebSocket) {
        if (!hasRole(m_role, ListenerRole::Pushes))
            return refuse(404, "not found\n");
        m_timer->stop();
        QTcpSocket *socket = m_socket;
        m_socket = nullptr;
        socket->disconnect(this);
        m_worker->adoptHttp(socket);
        deleteLater();
        return;
    }
    if (!hasRole(m_role, ListenerRole::WebSockets))
        return refuse(404, "not found\n");
    startUpgrade(head, headLength);
}

void IncomingConnection::startUpgrade(const HttpHead &head, qsizetype headLength)
{
    if (head.header("Sec-WebSocket-Version").trimmed() != "13")
        return refuse(426, "WebSocket version 13 required\n", {{"Sec-WebSocket-Version", "13"}});
    if (head.header("Sec-WebSocket-Key").isEmpty())
        return refuse(400, "missing Sec-WebSocket-Key\n");
    // RFC 6455 4.2.1: checked before the API is asked, which would otherwise
    // believe in a client that never came.
    if (head.versionMajor != 1 || head.versionMinor < 1 || head.header("Host").isEmpty()
        || !head.connectionUpgrade)
        return refuse(400, "not a WebSocket upgrade (HTTP/1.1, Host and Connection: Upgrade required)\n");
    const auto clientId = ClientId::fromPath(head.path);
    if (!clientId)
        return refuse(400, "bad ClientId in path\n");
    QList<QByteArray> offered;
    for (const QByteArray &value : head.headerValues("Sec-WebSocket-Protocol")) {
        for (const QByteArray &item : value.split(',')) {
            if (!item.trimmed().isEmpty())
                offered.append(item.trimmed());
        }
    }
    const std::optional<QString> protocol = m_worker->mode().negotiate(offered);
    if (!protocol)
        return refuse(400, "no supported subprotocol offered\n");
    if (!admit())
        return;

    // The API decides now; its own timeout governs from here.
    m_timer->stop();
    m_askingApi = true;
    ConnectInfo info{*clientId, &head, m_socket->peerAddress(), *protocol, transport::clientCertHeader(m_socket),
                     transport::checksClientCertificates(m_socket)};
    Worker::Upgrade upgrade{headLength, head.header("Sec-WebSocket-Key").trimmed(), *clientId, *protocol,
                            offered.isEmpty() ? QString() : *protocol};
    m_worker->callApi(m_worker->mode().connectRequest(info), this,
                      [this, upgrade = std::move(upgrade)](const ApiResponse &response) {
        const QByteArray &id = upgrade.clientId;
        const QString &protocol = upgrade.protocol;
        m_askingApi = false;
        const ConnectVerdict verdict = m_worker->mode().connectVerdict(response);
        if (!verdict.accept || m_socket->state() != QAbstractSocket::ConnectedState)
            releaseSlot();
        if (m_socket->state() != QAbstractSocket::ConnectedState) {
            qCDebug(lcHandshake) << "client" << id << "left while the API decided";
            if (verdict.accept)
                m_worker->notifyGoneBeforeUpgrade(id);
            deleteLater();
            return;
        }
        if (!verdict.accept) {
            WorkerCounters::bump(m_worker->counters().connectionsRejected);
            const QString why = response.outcome == ApiResponse::Outcome::Ok
                ? QStringLiteral("the API answered %1").arg(response.status)
                : QStringLiteral("no answer from the API: ") + response.error;
            qCInfo(lcHandshake).noquote().nospace()
                << "client " << quotedForLog(id) << " from " << peer() << " refused: "
                << verdict.status << " (" << protocolText(protocol) << "; " << why << ")";
            return reject(verdict.status, verdict.body, verdict.headers);
        }
        QTcpSocket *socket = m_socket;
        m_socket = nullptr;
        socket->disconnect(this);
        m_holdsSlot = false;  // the worker holds it now
        m_worker->upgrade(socket, upgrade);
        deleteLater();
    }, Worker::StatusLog::ByCaller);
}

bool IncomingConnection::admit()
{
    using Verdict = ConnectGate::Verdict;
    const ConnectGate::Decision decision = m_worker->gate().admit(m_socket->peerAddress());
    if (decision.verdict == Verdict::Admitted) {
        m_holdsSlot = true;
        return true;
    }
    using Refusal = WorkerCounters::Refusal;
    const HeaderList retry{{"Retry-After", QByteArray::number(decision.retryAfterS)}};
    switch (decision.verdict) {
    case Verdict::MaxConnections:
        m_worker->counters().countRefusal(Refusal::MaxConnections);
        refuse(503, "at the connection limit, retry later\n", retry);
        break;
    case Verdict::Rate:
        m_worker->counters().countRefusal(Refusal::Rate);
        refuse(503, "too many new connections, retry later\n", retry);
        break;
    case Verdict::SourceRate:
        m_worker->counters().countRefusal(Refusal::SourceRate);
        refuse(503, "too many new connections from this address, retry later\n", retry);
        break;
    case Verdict::Admitted:
        break;
    }
    return false;
}

void IncomingConnection::releaseSlot()
{
    if (std::exchange(m_holdsSlot, false))
        m_worker->gate().release();
}

void IncomingConnection::refuse(int status, const QByteArray &body, const HeaderList &headers)
{
    // Before the API is asked, a refusal is about bytes anyone may send: one line a
    // second per worker at most.
    LogThrottle &throttle = m_worker->handshakeLog();
    if (throttle.allow())
        qCInfo(lcHandshake).noquote().nospace() << "connection from " << peer() << " refused: " << status
                                                << " " << quotedForLog(body.trimmed()) << throttle.note();
    reject(status, body, headers);
}

QString IncomingConnection::peer() const
{
    return peerText(m_socket->peerAddress(), m_socket->peerPort());
}

QString IncomingConnection::protocolText(const QString &protocol)
{
    return protocol.isEmpty() ? QStringLiteral("no subprotocol") : QStringLiteral("protocol ") + protocol;
}

void IncomingConnection::reject(int status, const QByteArray &body, const HeaderList &headers)
{
    m_decided = true;
    m_socket->write(HttpResponse::build(status, body, headers, true));
    m_socket->disconnectFromHost();
    // A peer that never reads its answer must not hold the socket for ever.
    m_timer->start(m_worker->config().handshakeTimeoutMs);
}

} // namespace ws2api
