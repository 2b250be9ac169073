#pragma once

#include <QDateTime>
#include <QLoggingCategory>
#include <QString>
#include <QtGlobal>

// How ws2apid writes its log: one line per event on stderr. Under systemd stderr
// is the journal, which stamps the time itself and reads the priority from a
// "<N>" prefix (sd-daemon(3)); anywhere else each line starts with an ISO 8601 UTC
// timestamp and the level. A Windows service has no stderr anyone reads: its host
// hands each line to the Event Log, which keeps time and level itself.
Q_DECLARE_LOGGING_CATEGORY(lcDaemon)  // the daemon's own lines: start, reload, stop

namespace ws2apid::logging {

enum class Sink { Plain, Journal, EventLog };

// The line for one message, newline included. Newlines inside the message are
// escaped so that one event stays one line.
QString formatLine(Sink sink, QtMsgType type, const char *category, const QString &message,
                   const QDateTime &utcNow);

// Routes every Qt message through formatLine() to stderr, or to `writer` when
// given (called from any thread, one line at a time, newline included).
using Writer = void (*)(QtMsgType type, const QString &line);
void install(Sink sink, Writer writer = nullptr);

// Sets the logging filter: info and above, then --log-rules. QT_LOGGING_RULES (the
// environment) still wins, as Qt makes it.
void applyRules(const QString &logRules);

} // namespace ws2apid::logging
