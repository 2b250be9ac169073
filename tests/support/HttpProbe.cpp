#include "HttpProbe.h"

#include <QHostAddress>
#include <QTest>

namespace ws2api::test {

HttpProbe::HttpProbe(quint16 port, const QByteArray &request, QObject *parent)
    : QObject(parent)
{
    connect(&m_socket, &QTcpSocket::connected, this, [this, request] { m_socket.write(request); });
    connect(&m_socket, &QTcpSocket::readyRead, this, [this] {
        m_raw += m_socket.readAll();
        parse();
    });
    connect(&m_socket, &QTcpSocket::disconnected, this, [this] {
        if (m_socket.isOpen())
            m_raw += m_socket.readAll();
        parse();
        m_closed = true;
        m_finished = true;
    });
    connect(&m_socket, &QTcpSocket::errorOccurred, this, [this](QAbstractSocket::SocketError e) {
        if (e != QAbstractSocket::RemoteHostClosedError) {
            m_closed = true;
            m_finished = true;
        }
    });
    m_socket.connectToHost(QHostAddress::LocalHost, port);
}

HttpProbe::~HttpProbe()
{
    m_socket.disconnect(this);
    m_socket.abort();
}

QByteArray HttpProbe::header(QByteArrayView name) const
{
    for (const auto &[n, v] : m_headers) {
        if (QByteArrayView(n).compare(name, Qt::CaseInsensitive) == 0)
            return v;
    }
    return {};
}

void HttpProbe::parse()
{
    const qsizetype end = m_raw.indexOf("\r\n\r\n");
    if (end < 0 || m_finished)
        return;
    const QList<QByteArray> lines = m_raw.left(end).split('\n');
    const QList<QByteArray> statusLine = lines.first().trimmed().split(' ');
    m_status = statusLine.size() > 1 ? statusLine.at(1).toInt() : 0;
    m_headers.clear();
    qsizetype length = -1;
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const qsizetype colon = lines[i].indexOf(':');
        if (colon < 0)
            continue;
        const QByteArray name = lines[i].left(colon).trimmed();
        const QByteArray value = lines[i].mid(colon + 1).trimmed();
        m_headers.append({name, value});
        if (name.compare("Content-Length", Qt::CaseInsensitive) == 0)
            length = value.toLongLong();
    }
    const QByteArray rest = m_raw.mid(end + 4);
    if (m_status == 101) {
        m_finished = true;
        return;
    }
    if (length >= 0 && rest.size() >= length) {
        m_body = rest.left(length);
        m_finished = true;
    } else if (length < 0) {
        m_body = rest;  // until close
    }
}

QByteArray HttpProbe::request(const QByteArray &method, const QByteArray &target,
                              const QByteArray &body,
                              const QList<QPair<QByteArray, QByteArray>> &headers)
{
    QByteArray out = method + ' ' + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    for (const auto &[name, value] : headers)
        out += name + ": " + value + "\r\n";
    if (!body.isEmpty() || method == "POST")
        out += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
    out += "\r\n" + body;
    return out;
}

QByteArray HttpProbe::upgrade(const QByteArray &target,
                              const QList<QPair<QByteArray, QByteArray>> &headers)
{
    QList<QPair<QByteArray, QByteArray>> all = {
        {"Upgrade", "websocket"},
        {"Connection", "Upgrade"},
        {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
        {"Sec-WebSocket-Version", "13"}};
    all += headers;
    return request("GET", target, {}, all);
}

int HttpProbe::postUntilRefused(quint16 port, const QByteArray &target, const QByteArray &body, int limit)
{
    int status = 200;
    for (int i = 0; i < limit && status == 200; ++i) {
        HttpProbe push(port, request("POST", target, body));
        if (!QTest::qWaitFor([&] { return push.finished(); }, 10000))
            return 0;
        status = push.status();
    }
    return status;
}

} // namespace ws2api::test
