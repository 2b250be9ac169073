#include "MetricsScrape.h"

#include <QTest>

#include "HttpProbe.h"

namespace ws2api::test {

QHash<QByteArray, double> scrapeMetrics(quint16 port, int timeoutMs)
{
    HttpProbe probe(port, HttpProbe::request("GET", "/metrics", {}, {{"Connection", "close"}}));
    if (!QTest::qWaitFor([&] { return probe.finished(); }, timeoutMs) || probe.status() != 200)
        return {};
    return parseMetrics(probe.body());
}

QHash<QByteArray, double> parseMetrics(const QByteArray &text)
{
    QHash<QByteArray, double> samples;
    const QList<QByteArray> lines = text.split('\n');
    for (const QByteArray &line : lines) {
        if (line.isEmpty() || line.startsWith('#'))
            continue;
        const qsizetype space = line.lastIndexOf(' ');
        if (space <= 0)
            continue;
        bool ok = false;
        const double value = line.mid(space + 1).toDouble(&ok);
        if (ok)
            samples.insert(line.left(space), value);
    }
    return samples;
}

std::optional<qint64> metricValue(quint16 port, const QByteArray &name)
{
    const QHash<QByteArray, double> samples = scrapeMetrics(port);
    const auto it = samples.constFind(name);
    if (it == samples.cend())
        return std::nullopt;
    return qint64(*it);
}

} // namespace ws2api::test
