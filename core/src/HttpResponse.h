#pragma once

#include <QByteArray>
#include <QList>
#include <QPair>

namespace ws2api::HttpResponse {

QByteArray reasonPhrase(int status);

// A complete HTTP/1.1 response with Content-Length. `close` adds "Connection: close".
QByteArray build(int status, const QByteArray &body = {},
                 const QList<QPair<QByteArray, QByteArray>> &headers = {}, bool close = false);

} // namespace ws2api::HttpResponse
