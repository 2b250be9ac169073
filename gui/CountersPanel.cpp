#include "CountersPanel.h"

#include <QGridLayout>
#include <QLabel>
#include <QLocale>

namespace ws2api::gui {

namespace {

struct Counter
{
    const char *key;
    const char *title;
    int decimals;  // -1: an integer total
};

const Counter Counters[] = {
    {"connections", QT_TR_NOOP("Connections"), -1},
    {"messagesInPerS", QT_TR_NOOP("In msg/s"), 1},
    {"messagesOutPerS", QT_TR_NOOP("Out msg/s"), 1},
    {"messagesIn", QT_TR_NOOP("Messages in"), -1},
    {"messagesOut", QT_TR_NOOP("Messages out"), -1},
    {"apiErrors", QT_TR_NOOP("API errors"), -1},
    {"apiLatencyP50Ms", QT_TR_NOOP("API p50 ms"), 1},
    {"apiLatencyP99Ms", QT_TR_NOOP("API p99 ms"), 1},
    {"pushes", QT_TR_NOOP("Pushes"), -1},
};

QString dash()
{
    return QStringLiteral("\u2014");
}

} // namespace

CountersPanel::CountersPanel(QWidget *parent)
    : QWidget(parent)
{
    auto *grid = new QGridLayout(this);
    grid->setColumnStretch(1, 1);
    QFont valueFont = font();
    valueFont.setBold(true);
    valueFont.setPointSizeF(valueFont.pointSizeF() * 1.15);
    // Wide enough for large totals from the start, so the pane does not shift as they grow.
    const int valueWidth = QFontMetrics(valueFont).horizontalAdvance(QLocale().toString(999999999));
    int row = 0;
    for (const Counter &counter : Counters) {
        const QString key = QLatin1String(counter.key);
        auto *value = new QLabel(this);
        value->setObjectName(QStringLiteral("counter_") + key);
        value->setFont(valueFont);
        value->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
        value->setMinimumWidth(valueWidth);
        value->setTextInteractionFlags(Qt::TextSelectableByMouse);
        grid->addWidget(new QLabel(tr(counter.title), this), row, 0);
        grid->addWidget(value, row, 1);
        m_values.insert(key, value);
        ++row;
    }
    grid->setRowStretch(row, 1);
    clear();
}

void CountersPanel::setStats(const QJsonObject &stats)
{
    const QLocale locale;
    for (const Counter &counter : Counters) {
        const QString key = QLatin1String(counter.key);
        const QJsonValue value = stats.value(key);
        QString text = dash();
        if (value.isDouble()) {
            text = counter.decimals < 0 ? locale.toString(value.toInteger())
                                        : locale.toString(value.toDouble(), 'f', counter.decimals);
        }
        m_values.value(key)->setText(text);
    }
}

void CountersPanel::clear()
{
    for (QLabel *label : std::as_const(m_values))
        label->setText(dash());
}

QString CountersPanel::valueText(const QString &key) const
{
    const QLabel *label = m_values.value(key);
    return label ? label->text() : QString();
}

} // namespace ws2api::gui
