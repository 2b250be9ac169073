#pragma once

#include <QElapsedTimer>
#include <QJsonObject>
#include <QWidget>
#include <deque>

namespace ws2api::gui {

// Messages per second in and out (left axis) and API latency p50/p99 (right axis)
// over the last few minutes, one sample per `stats` event. Painted by hand so that
// the GUI needs nothing beyond QtWidgets.
class RateChart : public QWidget
{
    Q_OBJECT

public:
    struct Sample
    {
        qint64 atMs = 0;  // on the chart's own monotonic clock
        double inPerS = 0;
        double outPerS = 0;
        double p50Ms = 0;
        double p99Ms = 0;
    };

    explicit RateChart(QWidget *parent = nullptr);

    // Takes the rate and latency fields of a `stats` body.
    void addStats(const QJsonObject &stats);
    void addSample(Sample sample);
    void clear();
    int sampleCount() const { return int(m_samples.size()); }
    int windowSeconds() const { return m_windowS; }
    void setWindowSeconds(int seconds);

    QSize sizeHint() const override { return {640, 240}; }
    QSize minimumSizeHint() const override { return {320, 160}; }

protected:
    void paintEvent(QPaintEvent *event) override;

private:
    struct Scale
    {
        double rateMax = 1;
        double latencyMax = 1;
    };

    QRectF plotArea() const;
    Scale scale() const;
    void drawAxes(QPainter &p, const QRectF &plot, const Scale &s) const;
    void drawSeries(QPainter &p, const QRectF &plot, double max, double Sample::*field) const;
    void drawLegend(QPainter &p, const QRectF &plot) const;

    std::deque<Sample> m_samples;
    QElapsedTimer m_clock;
    int m_windowS = 300;
};

} // namespace ws2api::gui
