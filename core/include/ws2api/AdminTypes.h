#pragma once

#include <QByteArray>
#include <QList>
#include <QString>

namespace ws2api {

// One connected client as the admin interface lists it.
struct ConnectionInfo
{
    QByteArray clientId;
    QString remote;        // "203.0.113.7:51234"
    QString protocol;      // negotiated subprotocol; empty in plain mode
    qint64 connectedAtMs = 0;  // ms since the epoch
    quint64 messagesIn = 0;
    quint64 messagesOut = 0;
    qint64 lastActivityMs = 0;
};

struct ConnectionPage
{
    qsizetype total = 0;  // matching the filter, before paging
    QList<ConnectionInfo> items;
};

// The running totals the admin interface and /metrics report.
struct ProxyStats
{
    qint64 connections = 0;
    quint64 messagesIn = 0;
    quint64 messagesOut = 0;
    quint64 apiRequests = 0;
    quint64 apiErrors = 0;
    double apiLatencyP50Ms = 0;
    double apiLatencyP99Ms = 0;
    quint64 pushes = 0;         // all push attempts
    quint64 pushesDelivered = 0;
};

// A push made from the admin interface: `message` in plain mode; `action`, `payload`
// and an optional `messageId` in ocpp mode.
struct AdminPush
{
    QByteArray clientId;
    QByteArray message;
    bool binary = false;
    QByteArray action;
    QByteArray payload;
    QByteArray messageId;  // generated when empty
};

} // namespace ws2api
