#include "Logging.h"

#include <cstdio>

#include "Options.h"

using namespace Qt::Literals::StringLiterals;

Q_LOGGING_CATEGORY(lcDaemon, "ws2api.daemon")

namespace ws2apid::logging {

namespace {

Sink installedSink = Sink::Plain;
Writer installedWriter = nullptr;

// syslog(3) priorities, as the journal reads them from "<N>".
int priority(QtMsgType type)
{
    switch (type) {
    case QtDebugMsg: return 7;
    case QtInfoMsg: return 6;
    case QtWarningMsg: return 4;
    case QtCriticalMsg: return 3;
    case QtFatalMsg: return 2;
    }
    return 6;
}

QLatin1StringView levelName(QtMsgType type)
{
    switch (type) {
    case QtDebugMsg: return "debug"_L1;
    case QtInfoMsg: return "info"_L1;
    case QtWarningMsg: return "warning"_L1;
    case QtCriticalMsg: return "critical"_L1;
    case QtFatalMsg: return "fatal"_L1;
    }
    return "info"_L1;
}

void writeMessage(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    const QString text = formatLine(installedSink, type, context.category, message, QDateTime::currentDateTimeUtc());
    if (installedWriter)
        return installedWriter(type, text);
    const QByteArray line = text.toUtf8();
    // One write per line, so lines from several threads never interleave.
    std::fwrite(line.constData(), 1, size_t(line.size()), stderr);
    std::fflush(stderr);
}

} // namespace

QString formatLine(Sink sink, QtMsgType type, const char *category, const QString &message,
                   const QDateTime &utcNow)
{
    QString line;
    line.reserve(message.size() + 64);
    if (sink == Sink::Journal)
        line += u'<' + QString::number(priority(type)) + u'>';
    else if (sink == Sink::Plain)
        line += utcNow.toString(u"yyyy-MM-ddTHH:mm:ss.zzz'Z' "_s) + levelName(type) + u' ';
    line += QLatin1StringView(category && *category ? category : "default") + u": "_s;
    for (const QChar c : message) {
        if (c == u'\n')
            line += u"\\n"_s;
        else if (c == u'\r')
            line += u"\\r"_s;
        else
            line += c;
    }
    return line + u'\n';
}

void install(Sink sink, Writer writer)
{
    installedSink = sink;
    installedWriter = writer;
    qInstallMessageHandler(writeMessage);
}

void applyRules(const QString &logRules)
{
    QLoggingCategory::setFilterRules(loggingFilterRules(logRules));
}

} // namespace ws2apid::logging
