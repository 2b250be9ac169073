#pragma once

#include <QElapsedTimer>
#include <QJsonObject>
#include <QTimer>
#include <QWidget>
#include <deque>

namespace ws2api::gui {

// Messages per second in and out (left axis) and API latency p50/p99 (right axis)
// over the last few minutes, one sample per `stats` event. The right edge is the
// present, not the latest sample: when stats stop coming the lines move off to the
// left, and a note can say why. Painted by hand so the GUI needs only QtWidgets.
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
    // Shown over the plot while set, e.g. that the daemon is not connected.
    void setNote(const QString &note);
    QString note() const { return m_note; }
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
    QTimer m_tick;  // moves the time axis while no samples arrive
    QString m_note;
    int m_windowS = 300;
};

} // namespace ws2api::gui
