#pragma once

#include <QHostAddress>

namespace ws2api {

// An IPv4 peer of a dual-stack listener arrives as ::ffff:a.b.c.d; subnet checks,
// X-Forwarded-For and the admin listing want the plain a.b.c.d.
inline QHostAddress withoutIpv4Mapping(const QHostAddress &address)
{
    bool isV4 = false;
    const quint32 v4 = address.toIPv4Address(&isV4);
    return isV4 ? QHostAddress(v4) : address;
}

// "203.0.113.7:51234" or "[2001:db8::7]:51234", as the admin listing and the log show a peer.
inline QString peerText(const QHostAddress &address, quint16 port)
{
    const QHostAddress peer = withoutIpv4Mapping(address);
    return peer.protocol() == QAbstractSocket::IPv6Protocol
        ? QStringLiteral("[%1]:%2").arg(peer.toString()).arg(port)
        : QStringLiteral("%1:%2").arg(peer.toString()).arg(port);
}

} // namespace ws2api
