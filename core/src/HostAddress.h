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

} // namespace ws2api
