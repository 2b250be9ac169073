#pragma once

#include <QString>
#include <QStringList>
#include <optional>

namespace ws2api::gui {

// ws2api-admin's command line, read before QApplication exists: --help and --version
// must answer where there is no display (help2man runs them on a headless build
// machine), and a mistyped option is one line on stderr, not an abort or a window.
struct CommandLine
{
    // Set: print `output` (stdout when 0, else stderr) and exit with it; no GUI.
    std::optional<int> exitCode;
    QString output;
    // Empty: the remembered socket, else the default (MainWindow::initialSocketName).
    QString socketName;
};

// Exit status for a command line that cannot be used, as ws2apid's.
constexpr int UsageExitCode = 2;

// arguments[0] is the program; Qt's own options (-platform, -style, ...) are accepted
// and left to QApplication. Names the program by QCoreApplication::applicationName().
CommandLine parseCommandLine(const QStringList &arguments);

} // namespace ws2api::gui
