#include "CommandLine.h"

#include <QCommandLineParser>
#include <QCoreApplication>

#include "MainWindow.h"

namespace ws2api::gui {

namespace {

// The options QGuiApplication, QApplication and the xcb plugin take out of argv
// themselves; known here only so that they are not refused before QApplication sees them.
const char *const QtValueOptions[] = {"platform", "platformpluginpath", "platformtheme", "plugin",
                                      "qwindowgeometry", "qwindowicon", "qwindowtitle", "session",
                                      "display", "geometry", "title", "icon", "style", "stylesheet",
                                      "qmljsdebugger"};
const char *const QtFlagOptions[] = {"reverse", "widgetcount", "nograb", "dograb", "sync", "testability"};

void addOptions(QCommandLineParser *parser, const QCommandLineOption &socket)
{
    parser->setApplicationDescription(
        QCoreApplication::translate("CommandLine", "Desktop admin for the ws2apid WebSocket-to-HTTP gateway: live "
                                                   "connections, message rates, counters and test pushes, over "
                                                   "the daemon's local admin socket."));
    // Qt's options are single-dash words (-platform offscreen), not bundled letters.
    parser->setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
    parser->addOption({{QStringLiteral("h"), QStringLiteral("help")},
                       QCoreApplication::translate("CommandLine", "Show this help and exit.")});
    parser->addOption({{QStringLiteral("v"), QStringLiteral("version")},
                       QCoreApplication::translate("CommandLine", "Show the version and exit.")});
    parser->addOption(socket);
    for (const char *name : QtValueOptions) {
        QCommandLineOption option(QString::fromLatin1(name), {}, QStringLiteral("value"));
        option.setFlags(QCommandLineOption::HiddenFromHelp);
        parser->addOption(option);
    }
    for (const char *name : QtFlagOptions) {
        QCommandLineOption option{QString::fromLatin1(name)};
        option.setFlags(QCommandLineOption::HiddenFromHelp);
        parser->addOption(option);
    }
}

// Exactly one line, whatever an argument contains.
QString errorLine(const QString &message)
{
    QString line = QCoreApplication::applicationName() + QStringLiteral(": ");
    for (const QChar c : message)
        line += c.unicode() < 0x20 || c.unicode() == 0x7f ? QStringLiteral("\\x%1").arg(c.unicode(), 2, 16, QLatin1Char('0'))
                                                          : QString(c);
    return line + QStringLiteral(" (see --help)\n");
}

bool hasDisplay(const QCommandLineParser &parser, const QProcessEnvironment &environment)
{
    if (!displayFromEnvironment())
        return true;
    // A platform (offscreen, vnc, ...) or an X display given to Qt is Qt's to try.
    if (parser.isSet(QStringLiteral("platform")) || parser.isSet(QStringLiteral("display")))
        return true;
    for (const char *name : {"QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY", "WAYLAND_SOCKET"}) {
        if (!environment.value(QLatin1String(name)).isEmpty())
            return true;
    }
    return false;
}

} // namespace

bool displayFromEnvironment()
{
#if defined(Q_OS_UNIX) && !defined(Q_OS_DARWIN) && !defined(Q_OS_ANDROID)
    return true;
#else
    return false;
#endif
}

CommandLine parseCommandLine(const QStringList &arguments, const QProcessEnvironment &environment)
{
    const QCommandLineOption socket(
        QStringLiteral("socket"),
        QCoreApplication::translate("CommandLine",
                                    "The daemon's admin socket: the name or path ws2apid was given with --admin. "
                                    "Default: the last one used, else %1 when it exists (the packaged daemon's; "
                                    "open to the ws2api group), else %2.")
            .arg(MainWindow::SystemSocketPath, MainWindow::FallbackSocketName),
        QStringLiteral("NAME"));
    QCommandLineParser parser;
    addOptions(&parser, socket);
    CommandLine result;
    if (!parser.parse(arguments)) {
        result.exitCode = UsageExitCode;
        result.output = errorLine(parser.errorText());
    } else if (parser.isSet(QStringLiteral("help"))) {
        result.exitCode = 0;
        // Qt names the program by argv[0]; the help (and the man page) should not.
        result.output = parser.helpText();
        result.output.replace(0, result.output.indexOf(QLatin1Char('\n')),
                              QStringLiteral("Usage: %1 [options]").arg(QCoreApplication::applicationName()));
    } else if (parser.isSet(QStringLiteral("version"))) {
        result.exitCode = 0;
        result.output = QCoreApplication::applicationName() + QLatin1Char(' ')
                        + QCoreApplication::applicationVersion() + QLatin1Char('\n');
    } else if (!parser.positionalArguments().isEmpty()) {
        result.exitCode = UsageExitCode;
        result.output = errorLine(QStringLiteral("unexpected argument '%1'").arg(parser.positionalArguments().first()));
    } else if (!hasDisplay(parser, environment)) {
        result.exitCode = NoDisplayExitCode;
        result.output = QCoreApplication::applicationName()
                        + QStringLiteral(": no display: DISPLAY and WAYLAND_DISPLAY are not set (run it in a desktop "
                                         "session; over SSH use ssh -X)\n");
    } else {
        result.socketName = parser.value(socket).trimmed();
    }
    return result;
}

} // namespace ws2api::gui
