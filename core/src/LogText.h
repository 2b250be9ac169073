#pragma once

#include <QByteArray>
#include <QDebug>
#include <QString>

namespace ws2api {

// A client's bytes (its ClientId, a close reason) in a log line: quoted, with
// anything unprintable escaped, so no client can forge or split a line.
inline QString quotedForLog(const QByteArray &bytes)
{
    QString out;
    QDebug(&out).nospace() << bytes;
    return out;
}

inline QString quotedForLog(const QString &text)
{
    QString out;
    QDebug(&out).nospace() << text;
    return out;
}

} // namespace ws2api
