#include "RateChart.h"

#include <QPainter>
#include <QPainterPath>
#include <cmath>

namespace ws2api::gui {

namespace {

constexpr int MaxSamples = 3600;
// Samples further apart than this were not a steady stream (daemon away): the line breaks.
constexpr qint64 GapMs = 5000;
constexpr int Ticks = 5;

struct SeriesStyle
{
    double RateChart::Sample::*field;
    QColor color;
    Qt::PenStyle pen;
    const char *label;
    bool latency;
};

const SeriesStyle Series[] = {
    {&RateChart::Sample::inPerS, QColor(0x1e, 0x88, 0xe5), Qt::SolidLine, QT_TR_NOOP("in msg/s"), false},
    {&RateChart::Sample::outPerS, QColor(0xfb, 0x8c, 0x00), Qt::SolidLine, QT_TR_NOOP("out msg/s"), false},
    {&RateChart::Sample::p50Ms, QColor(0x8e, 0x24, 0xaa), Qt::DotLine, QT_TR_NOOP("API p50 ms"), true},
    {&RateChart::Sample::p99Ms, QColor(0xe5, 0x39, 0x35), Qt::DashLine, QT_TR_NOOP("API p99 ms"), true},
};

// An axis end of Ticks steps of 1, 2, 2.5 or 5 times a power of ten, at least v:
// every tick label then reads as a round number.
double niceCeil(double v)
{
    const double step = v / Ticks;
    if (!(step > 0))
        return Ticks;
    const double power = std::pow(10.0, std::floor(std::log10(step)));
    const double f = step / power;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * power * Ticks;
}

QString shortNumber(double v)
{
    if (v >= 1e6)
        return QString::number(v / 1e6, 'g', 3) + QLatin1Char('M');
    if (v >= 1e4)
        return QString::number(v / 1e3, 'g', 3) + QLatin1Char('k');
    return QString::number(v, 'g', 4);
}

} // namespace

RateChart::RateChart(QWidget *parent)
    : QWidget(parent)
{
    m_clock.start();
    setAttribute(Qt::WA_OpaquePaintEvent);
    m_tick.setInterval(1000);
    connect(&m_tick, &QTimer::timeout, this, qOverload<>(&QWidget::update));
}

void RateChart::addStats(const QJsonObject &stats)
{
    Sample s;
    s.atMs = m_clock.elapsed();
    s.inPerS = stats.value(QStringLiteral("messagesInPerS")).toDouble();
    s.outPerS = stats.value(QStringLiteral("messagesOutPerS")).toDouble();
    s.p50Ms = stats.value(QStringLiteral("apiLatencyP50Ms")).toDouble();
    s.p99Ms = stats.value(QStringLiteral("apiLatencyP99Ms")).toDouble();
    addSample(s);
}

void RateChart::addSample(Sample sample)
{
    m_samples.push_back(sample);
    const qint64 oldest = sample.atMs - qint64(m_windowS) * 1000;
    while (!m_samples.empty() && (m_samples.front().atMs < oldest || m_samples.size() > MaxSamples))
        m_samples.pop_front();
    if (!m_tick.isActive())
        m_tick.start();
    update();
}

void RateChart::clear()
{
    m_samples.clear();
    m_tick.stop();
    update();
}

void RateChart::setNote(const QString &note)
{
    m_note = note;
    update();
}

void RateChart::setWindowSeconds(int seconds)
{
    m_windowS = std::max(seconds, 10);
    update();
}

QRectF RateChart::plotArea() const
{
    const QFontMetrics fm(font());
    const qreal side = fm.horizontalAdvance(QStringLiteral("00000")) + 14;
    const qreal top = fm.height() * 2 + 12;  // title and legend
    const qreal bottom = fm.height() + 10;   // time labels
    return QRectF(rect()).adjusted(side, top, -side, -bottom);
}

RateChart::Scale RateChart::scale() const
{
    Scale s{0, 0};
    for (const Sample &sample : m_samples) {
        s.rateMax = std::max({s.rateMax, sample.inPerS, sample.outPerS});
        s.latencyMax = std::max({s.latencyMax, sample.p50Ms, sample.p99Ms});
    }
    // Headroom so the busiest moment does not sit on the frame.
    return {niceCeil(s.rateMax * 1.1), niceCeil(s.latencyMax * 1.1)};
}

void RateChart::paintEvent(QPaintEvent *)
{
    QPainter p(this);
    p.fillRect(rect(), palette().base());
    p.setRenderHint(QPainter::Antialiasing);
    const QRectF plot = plotArea();
    if (plot.width() < 20 || plot.height() < 20)
        return;
    const Scale s = scale();
    drawAxes(p, plot, s);
    p.save();
    p.setClipRect(plot.adjusted(-1, -2, 1, 2));
    for (const SeriesStyle &series : Series) {
        p.setPen(QPen(series.color, 1.8, series.pen));
        drawSeries(p, plot, series.latency ? s.latencyMax : s.rateMax, series.field);
    }
    p.restore();
    drawLegend(p, plot);
    if (!m_note.isEmpty() || m_samples.empty()) {
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(plot, Qt::AlignCenter, m_note.isEmpty() ? tr("waiting for stats from the daemon…") : m_note);
    }
}

void RateChart::drawAxes(QPainter &p, const QRectF &plot, const Scale &s) const
{
    const QFontMetrics fm(font());
    const QColor text = palette().color(QPalette::Text);
    QColor grid = palette().color(QPalette::Mid);
    grid.setAlpha(90);
    for (int i = 0; i <= Ticks; ++i) {
        const qreal y = plot.bottom() - plot.height() * i / Ticks;
        p.setPen(QPen(grid, 1, i == 0 ? Qt::SolidLine : Qt::DotLine));
        p.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y));
        p.setPen(text);
        const QRectF label(0, y - fm.height() / 2.0, plot.left() - 6, fm.height());
        p.drawText(label, Qt::AlignRight | Qt::AlignVCenter, shortNumber(s.rateMax * i / Ticks));
        const QRectF right(plot.right() + 6, y - fm.height() / 2.0, width() - plot.right() - 6, fm.height());
        p.drawText(right, Qt::AlignLeft | Qt::AlignVCenter, shortNumber(s.latencyMax * i / Ticks));
    }
    // One mark a minute (or a fifth of the window when it is short), "now" at the right.
    const int stepS = m_windowS >= 120 ? 60 : std::max(1, m_windowS / 5);
    for (int ago = 0; ago <= m_windowS; ago += stepS) {
        const qreal x = plot.right() - plot.width() * ago / m_windowS;
        p.setPen(QPen(grid, 1, Qt::DotLine));
        p.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()));
        p.setPen(text);
        const QString label = ago == 0 ? tr("now") : stepS >= 60 ? tr("-%1 min").arg(ago / 60) : tr("-%1 s").arg(ago);
        p.drawText(QRectF(x - 40, plot.bottom() + 4, 80, fm.height()), Qt::AlignHCenter | Qt::AlignTop, label);
    }
    p.setPen(text);
    p.drawText(QRectF(0, plot.top() - fm.height() - 4, plot.left() - 6, fm.height()),
               Qt::AlignRight | Qt::AlignBottom, tr("msg/s"));
    p.drawText(QRectF(plot.right() + 6, plot.top() - fm.height() - 4, width() - plot.right(), fm.height()),
               Qt::AlignLeft | Qt::AlignBottom, tr("ms"));
}

void RateChart::drawSeries(QPainter &p, const QRectF &plot, double max, double Sample::*field) const
{
    if (m_samples.empty())
        return;
    const qint64 now = m_clock.elapsed();
    const double windowMs = m_windowS * 1000.0;
    QPainterPath path;
    qint64 previousAt = 0;
    for (const Sample &s : m_samples) {
        const QPointF point(plot.right() - plot.width() * (now - s.atMs) / windowMs,
                            plot.bottom() - plot.height() * std::clamp(s.*field / max, 0.0, 1.0));
        if (path.elementCount() == 0 || s.atMs - previousAt > GapMs)
            path.moveTo(point);
        else
            path.lineTo(point);
        previousAt = s.atMs;
    }
    p.drawPath(path);
    if (m_samples.size() == 1)
        p.drawEllipse(path.currentPosition(), 2, 2);
}

void RateChart::drawLegend(QPainter &p, const QRectF &plot) const
{
    const QFontMetrics fm(font());
    QFont bold = font();
    bold.setBold(true);
    p.setFont(bold);
    p.setPen(palette().color(QPalette::Text));
    p.drawText(QPointF(plot.left(), fm.ascent() + 4), tr("Messages and API latency, last %1 min").arg(m_windowS / 60.0));
    p.setFont(font());
    qreal x = plot.left() + 8;  // clear of the "msg/s" axis title
    const qreal y = fm.height() + 8 + fm.ascent();
    for (const SeriesStyle &series : Series) {
        p.setPen(QPen(series.color, 2.5, series.pen));
        p.drawLine(QPointF(x, y - fm.ascent() / 2.5), QPointF(x + 22, y - fm.ascent() / 2.5));
        p.setPen(palette().color(QPalette::Text));
        const QString label = tr(series.label);
        p.drawText(QPointF(x + 28, y), label);
        x += 28 + fm.horizontalAdvance(label) + 18;
    }
}

} // namespace ws2api::gui
