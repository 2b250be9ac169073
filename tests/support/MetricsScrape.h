#pragma once

#include <QByteArray>
#include <QHash>
#include <optional>

namespace ws2api::test {

// One GET /metrics from a daemon on 127.0.0.1 (a separate process: this waits,
// spinning the event loop, for at most `timeoutMs`). Samples by their full name,
// labels included: "process_open_fds", "ws2api_api_requests_total{outcome=\"ok\"}".
// Empty when no 200 came.
QHash<QByteArray, double> scrapeMetrics(quint16 port, int timeoutMs = 10000);

// The samples of a /metrics text, by their full name as above.
QHash<QByteArray, double> parseMetrics(const QByteArray &text);

// One sample of a fresh scrape; nullopt when it could not be read.
std::optional<qint64> metricValue(quint16 port, const QByteArray &name);

} // namespace ws2api::test
