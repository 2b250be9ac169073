#include "FakeApi.h"

#include <QHostAddress>
#include <QFile>
#include <QSslConfiguration>
#include <QSslKey>
#include <QSslServer>
#include <QTcpSocket>
#include <QTimer>
#include <deque>
#include <map>
#include <memory>

namespace ws2api::test {

namespace {

constexpr qsizetype MaxHead = 64 * 1024;

bool equalsIgnoringCase(QByteArrayView a, QByteArrayView b)
{
    return a.size() == b.size() && qstrnicmp(a.data(), a.size(), b.data(), b.size()) == 0;
}

QByteArray headerOf(const QList<QPair<QByteArray, QByteArray>> &headers, QByteArrayView name)
{
    for (const auto &header : headers) {
        if (equalsIgnoringCase(header.first, name))
            return header.second;
    }
    return {};
}

bool hasToken(const QByteArray &value, QByteArrayView token)
{
    const QList<QByteArray> parts = value.split(',');
    for (const QByteArray &part : parts) {
        if (equalsIgnoringCase(part.trimmed(), token))
            return true;
    }
    return false;
}

enum class Parse { Incomplete, Complete, Malformed };

// Decodes a chunked body starting at `pos`; on Complete, `pos` is past the trailers.
Parse parseChunked(const QByteArray &buffer, qsizetype &pos, QByteArray *body)
{
    for (;;) {
        const qsizetype lineEnd = buffer.indexOf("\r\n", pos);
        if (lineEnd < 0)
            return Parse::Incomplete;
        QByteArray sizeField = buffer.mid(pos, lineEnd - pos);
        const qsizetype extension = sizeField.indexOf(';');
        if (extension >= 0)
            sizeField.truncate(extension);
        bool ok = false;
        const qsizetype size = sizeField.trimmed().toLongLong(&ok, 16);
        if (!ok || size < 0)
            return Parse::Malformed;
        pos = lineEnd + 2;
        if (size == 0)
            break;
        if (buffer.size() < pos + size + 2)
            return Parse::Incomplete;
        if (buffer.mid(pos + size, 2) != "\r\n")
            return Parse::Malformed;
        body->append(buffer.constData() + pos, size);
        pos += size + 2;
    }
    for (;;) {  // trailers, up to an empty line
        const qsizetype lineEnd = buffer.indexOf("\r\n", pos);
        if (lineEnd < 0)
            return Parse::Incomplete;
        const bool last = lineEnd == pos;
        pos = lineEnd + 2;
        if (last)
            return Parse::Complete;
    }
}

// Takes one request off the front of `buffer`. Simple rather than fast: an
// incomplete request is parsed again from the start when more bytes arrive.
Parse parseRequest(QByteArray &buffer, RecordedRequest *request, bool *closeAfter)
{
    const qsizetype headEnd = buffer.indexOf("\r\n\r\n");
    if (headEnd < 0)
        return buffer.size() > MaxHead ? Parse::Malformed : Parse::Incomplete;
    const QList<QByteArray> lines = buffer.left(headEnd).split('\n');
    const QList<QByteArray> requestLine = lines.first().trimmed().split(' ');
    if (requestLine.size() != 3 || !requestLine[2].startsWith("HTTP/1."))
        return Parse::Malformed;
    RecordedRequest r;
    r.method = requestLine[0];
    r.target = requestLine[1];
    const qsizetype question = r.target.indexOf('?');
    r.path = question < 0 ? r.target : r.target.left(question);
    r.query = question < 0 ? QByteArray() : r.target.mid(question + 1);
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const qsizetype colon = lines[i].indexOf(':');
        if (colon <= 0)
            return Parse::Malformed;
        r.headers.append({lines[i].left(colon).trimmed(), lines[i].mid(colon + 1).trimmed()});
    }

    qsizetype pos = headEnd + 4;
    if (hasToken(r.header("Transfer-Encoding"), "chunked")) {
        const Parse result = parseChunked(buffer, pos, &r.body);
        if (result != Parse::Complete)
            return result;
    } else if (const QByteArray length = r.header("Content-Length"); !length.isEmpty()) {
        bool ok = false;
        const qsizetype size = length.toLongLong(&ok);
        if (!ok || size < 0)
            return Parse::Malformed;
        if (buffer.size() < pos + size)
            return Parse::Incomplete;
        r.body = buffer.mid(pos, size);
        pos += size;
    }
    buffer.remove(0, pos);
    const QByteArray connection = r.header("Connection");
    *closeAfter = hasToken(connection, "close")
                  || (requestLine[2] == "HTTP/1.0" && !hasToken(connection, "keep-alive"));
    *request = std::move(r);
    return Parse::Complete;
}

QByteArray reasonPhrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return "Status";
    }
}

QByteArray formatReply(const FakeReply &reply, bool closeAfter)
{
    QByteArray out = "HTTP/1.1 " + QByteArray::number(reply.status) + ' ' + reasonPhrase(reply.status)
                     + "\r\n";
    const bool bodyless = reply.status / 100 == 1 || reply.status == 204 || reply.status == 304;
    // A test may set its own framing headers to craft a response the client must reject.
    const bool customFraming = !headerOf(reply.headers, "Content-Length").isEmpty()
                               || !headerOf(reply.headers, "Transfer-Encoding").isEmpty();
    if (!bodyless && !customFraming) {
        out += reply.chunked ? QByteArray("Transfer-Encoding: chunked\r\n")
                             : "Content-Length: " + QByteArray::number(reply.body.size()) + "\r\n";
    }
    for (const auto &header : reply.headers)
        out += header.first + ": " + header.second + "\r\n";
    if (closeAfter && headerOf(reply.headers, "Connection").isEmpty())
        out += "Connection: close\r\n";
    out += "\r\n";
    if (bodyless)
        return out;
    if (!reply.chunked || customFraming)
        return out + reply.body;
    // Several chunks, so clients meet chunk boundaries inside a body.
    const qsizetype step = std::max<qsizetype>(1, (reply.body.size() + 2) / 3);
    for (qsizetype at = 0; at < reply.body.size(); at += step) {
        const QByteArray chunk = reply.body.mid(at, step);
        out += QByteArray::number(chunk.size(), 16) + "\r\n" + chunk + "\r\n";
    }
    return out + "0\r\n\r\n";
}

FakeReply defaultReply(const RecordedRequest &request)
{
    FakeReply reply;
    if (request.method == "GET")
        reply.body = "ok";
    else if (request.method == "POST")
        reply.body = request.body;
    else
        reply.status = 204;
    return reply;
}

// An answer waiting its turn: HTTP/1.1 answers pipelined requests in order, so a
// delayed or hanging reply holds back the ones behind it.
struct Outgoing
{
    quint64 sequence = 0;
    QByteArray bytes;
    bool ready = false;
    bool drop = false;        // close instead of answering
    bool closeAfter = false;  // close after answering
    int trickleMs = 0;        // then `trickle` every trickleMs instead of the next answer
    QByteArray trickle;
    bool flood = false;
};

struct Connection
{
    int id = 0;
    QTcpSocket *socket = nullptr;
    QByteArray in;
    std::deque<Outgoing> out;
    quint64 nextSequence = 0;
    bool closing = false;  // nothing more is read once a close is decided
    QTimer *trickle = nullptr;  // a child of the socket
};

} // namespace

QByteArray RecordedRequest::header(QByteArrayView name) const
{
    return headerOf(headers, name);
}

struct FakeApi::Private
{
    FakeApi *q = nullptr;
    std::unique_ptr<QTcpServer> server = std::make_unique<QTcpServer>();
    bool tls = false;
    Handler handler = defaultReply;
    QList<RecordedRequest> requests;
    std::map<int, std::unique_ptr<Connection>> connections;
    int accepted = 0;
    quint16 port = 0;  // kept while stopped, so that it can listen there again

    Connection *find(int id)
    {
        const auto it = connections.find(id);
        return it == connections.end() ? nullptr : it->second.get();
    }
    void accept();
    void read(int id);
    void enqueue(Connection *connection, const FakeReply &reply, bool closeAfter);
    void flush(Connection *connection);
    void startTrickle(Connection *connection, int ms, const QByteArray &bytes);
    void remove(int id);
};

void FakeApi::Private::accept()
{
    while (QTcpSocket *socket = server->nextPendingConnection()) {
        auto connection = std::make_unique<Connection>();
        connection->id = ++accepted;
        connection->socket = socket;
        const int id = connection->id;
        connections.emplace(id, std::move(connection));
        QObject::connect(socket, &QTcpSocket::readyRead, q, [this, id] { read(id); });
        QObject::connect(socket, &QTcpSocket::disconnected, q, [this, id] { remove(id); });
        read(id);  // bytes may have arrived before we connected to readyRead
    }
}

void FakeApi::Private::read(int id)
{
    Connection *connection = find(id);
    if (!connection)
        return;
    connection->in += connection->socket->readAll();
    while (!connection->closing) {
        RecordedRequest request;
        bool closeAfter = false;
        const Parse result = parseRequest(connection->in, &request, &closeAfter);
        if (result == Parse::Incomplete)
            break;
        if (result == Parse::Malformed) {
            FakeReply bad;
            bad.status = 400;
            bad.body = "malformed request";
            enqueue(connection, bad, true);
            break;
        }
        request.connection = id;
        requests.append(request);
        Q_EMIT q->requestReceived(request);
        const FakeReply reply = handler ? handler(request) : defaultReply(request);
        // A slot or the handler may have closed connections: look ours up again.
        connection = find(id);
        if (!connection)
            return;
        enqueue(connection, reply, closeAfter);
    }
    flush(connection);
}

void FakeApi::Private::enqueue(Connection *connection, const FakeReply &reply, bool closeAfter)
{
    Outgoing outgoing;
    outgoing.sequence = connection->nextSequence++;
    outgoing.drop = reply.dropConnection;
    outgoing.ready = !reply.hang && reply.delayMs <= 0;
    outgoing.trickleMs = reply.trickleMs;
    outgoing.trickle = reply.trickle;
    outgoing.flood = reply.flood;
    if (reply.flood)
        outgoing.trickleMs = std::max(outgoing.trickleMs, 1);
    if (!reply.hang && !reply.dropConnection) {
        // The handler may ask for a close with its own "Connection: close".
        const bool announced = closeAfter || hasToken(headerOf(reply.headers, "Connection"), "close");
        outgoing.bytes = reply.raw.isEmpty() ? formatReply(reply, announced) : reply.raw;
        if (reply.cutAfter >= 0)
            outgoing.bytes.truncate(reply.cutAfter);
        outgoing.closeAfter = reply.trickleMs <= 0 && (announced || reply.closeAfter || reply.cutAfter >= 0);
    }
    if (outgoing.drop || outgoing.closeAfter || outgoing.trickleMs > 0)
        connection->closing = true;
    connection->out.push_back(outgoing);
    if (!reply.hang && reply.delayMs > 0) {
        const int id = connection->id;
        const quint64 sequence = outgoing.sequence;
        QTimer::singleShot(reply.delayMs, connection->socket, [this, id, sequence] {
            Connection *c = find(id);
            if (!c)
                return;
            for (Outgoing &o : c->out) {
                if (o.sequence == sequence)
                    o.ready = true;
            }
            flush(c);
        });
    }
}

void FakeApi::Private::flush(Connection *connection)
{
    while (!connection->out.empty() && connection->out.front().ready) {
        const Outgoing outgoing = std::move(connection->out.front());
        connection->out.pop_front();
        if (!outgoing.drop)
            connection->socket->write(outgoing.bytes);
        if (outgoing.trickleMs > 0) {
            connection->out.clear();
            startTrickle(connection, outgoing.flood ? 0 : outgoing.trickleMs, outgoing.trickle);
            return;
        }
        if (outgoing.drop || outgoing.closeAfter) {
            connection->out.clear();
            // Graceful: what was written before goes out first, then the FIN. May
            // emit disconnected() at once, which removes `connection`.
            connection->socket->disconnectFromHost();
            return;
        }
    }
}

// A response that never ends: a few bytes now and then, until the peer gives up; or
// (ms 0) a flood, kept at 1 MiB ahead of what the kernel took.
void FakeApi::Private::startTrickle(Connection *connection, int ms, const QByteArray &bytes)
{
    connection->trickle = new QTimer(connection->socket);
    QTcpSocket *socket = connection->socket;
    QObject::connect(connection->trickle, &QTimer::timeout, socket, [socket, bytes, ms] {
        if (ms > 0) {
            socket->write(bytes);
            return;
        }
        while (socket->state() == QAbstractSocket::ConnectedState && socket->bytesToWrite() < (1 << 20)) {
            if (socket->write(bytes) <= 0)
                break;
        }
    });
    connection->trickle->start(ms);
}

void FakeApi::Private::remove(int id)
{
    const auto it = connections.find(id);
    if (it == connections.end())
        return;
    it->second->socket->disconnect(q);
    it->second->socket->deleteLater();
    connections.erase(it);
}

FakeApi::FakeApi(QObject *parent)
    : QObject(parent)
    , d(new Private)
{
    d->q = this;
    connect(d->server.get(), &QTcpServer::newConnection, this, [this] { d->accept(); });
}

FakeApi::~FakeApi()
{
    for (auto &[id, connection] : d->connections) {
        connection->socket->disconnect(this);
        connection->socket->abort();
    }
    delete d;
}

bool FakeApi::listen(quint16 port)
{
    if (!d->server->listen(QHostAddress::LocalHost, port))
        return false;
    d->port = d->server->serverPort();
    return true;
}

bool FakeApi::listenTls(const QString &certificateFile, const QString &keyFile)
{
    QFile certificate(certificateFile);
    QFile key(keyFile);
    if (!certificate.open(QIODevice::ReadOnly) || !key.open(QIODevice::ReadOnly))
        return false;
    auto server = std::make_unique<QSslServer>();
    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    tls.setLocalCertificateChain(QSslCertificate::fromData(certificate.readAll()));
    tls.setPrivateKey(QSslKey(key.readAll(), QSsl::Ec));
    tls.setPeerVerifyMode(QSslSocket::VerifyNone);
    server->setSslConfiguration(tls);
    // A QSslServer hands a connection over once its handshake is done.
    connect(server.get(), &QTcpServer::pendingConnectionAvailable, this, [this] { d->accept(); });
    d->server = std::move(server);
    d->tls = true;
    return listen();
}

quint16 FakeApi::port() const
{
    return d->port;
}

QUrl FakeApi::url(const QString &basePath) const
{
    const QString path = basePath.startsWith(u'/') ? basePath : u'/' + basePath;
    return QUrl(QStringLiteral("%1://127.0.0.1:%2%3").arg(d->tls ? u"https" : u"http").arg(port()).arg(path));
}

void FakeApi::setHandler(Handler handler)
{
    d->handler = std::move(handler);
}

QList<RecordedRequest> FakeApi::requests() const
{
    return d->requests;
}

int FakeApi::requestCount() const
{
    return int(d->requests.size());
}

int FakeApi::connectionsAccepted() const
{
    return d->accepted;
}

int FakeApi::openConnections() const
{
    return int(d->connections.size());
}

void FakeApi::stop()
{
    d->server->close();
    closeAllConnections();
}

void FakeApi::closeAllConnections()
{
    // abort() emits disconnected(), which edits the map: collect first.
    QList<int> ids;
    for (const auto &[id, connection] : d->connections)
        ids.append(id);
    for (int id : ids) {
        if (Connection *connection = d->find(id))
            connection->socket->abort();
        d->remove(id);
    }
}

} // namespace ws2api::test
