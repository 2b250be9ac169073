#pragma once

#include <QProcessEnvironment>
#include <QString>
#include <QStringList>
#include <optional>

namespace ws2api::gui {

// ws2api-admin's command line, read before QApplication exists: --help and --version
// must answer where there is no display (help2man runs them on a headless build
// machine), a mistyped option is one line on stderr, not an abort or a window, and so
// is a start with no display to open the window on (Qt itself would abort with a
// screenful about platform plugins).
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
// Exit status when the command line is fine but there is no display to show a window on.
constexpr int NoDisplayExitCode = 1;

// True where the platform plugin finds its display through the environment (X11,
// Wayland): there, none named means no window. On Windows and macOS, false.
bool displayFromEnvironment();

// arguments[0] is the program; Qt's own options (-platform, -style, ...) are accepted
// and left to QApplication. Names the program by QCoreApplication::applicationName().
// The environment says whether there is a display (DISPLAY, WAYLAND_DISPLAY, QT_QPA_PLATFORM).
CommandLine parseCommandLine(const QStringList &arguments, const QProcessEnvironment &environment);

} // namespace ws2api::gui
