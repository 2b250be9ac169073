#pragma once

#include <QHash>
#include <QJsonObject>
#include <QWidget>

class QLabel;

namespace ws2api::gui {

// The daemon's running totals from the latest `stats` body: connections, message
// totals and rates, API errors and latency, pushes. One value label per stats key
// (objectName "counter_<key>"), so a reader and a test find them by the protocol's name.
class CountersPanel : public QWidget
{
    Q_OBJECT

public:
    explicit CountersPanel(QWidget *parent = nullptr);

    void setStats(const QJsonObject &stats);
    // Shows dashes: the numbers are no longer live.
    void clear();
    QString valueText(const QString &key) const;

private:
    QHash<QString, QLabel *> m_values;
};

} // namespace ws2api::gui
