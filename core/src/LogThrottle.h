#pragma once

#include <QElapsedTimer>
#include <QString>

namespace ws2api {

// One log line per interval for a problem that may repeat with every message: the
// lines held back in between are counted and named in the next one that is let
// through, so a flood costs a line a second and still says how big it was.
// Single-threaded: one per worker (or per listener) and kind of problem.
class LogThrottle
{
public:
    explicit LogThrottle(qint64 intervalMs = 1000) : m_intervalMs(intervalMs) {}

    // True when a line may be written now; then note() tells how many were held back.
    bool allow()
    {
        if (m_clock.isValid() && m_clock.elapsed() < m_intervalMs) {
            ++m_held;
            return false;
        }
        m_clock.start();
        m_reported = m_held;
        m_held = 0;
        return true;
    }

    // " (and N more since the last such line)" after allow() let one through, or "".
    QString note() const
    {
        return m_reported ? QStringLiteral(" (and %1 more since the last such line)").arg(m_reported)
                          : QString();
    }

private:
    qint64 m_intervalMs;
    QElapsedTimer m_clock;
    quint64 m_held = 0;
    quint64 m_reported = 0;
};

} // namespace ws2api
