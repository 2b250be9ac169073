// ws2api-admin: the desktop admin for ws2apid, over its local admin socket.
#include <QApplication>
#include <cstdio>

#include "CommandLine.h"
#include "MainWindow.h"

int main(int argc, char *argv[])
{
    // QSettings files live under these names (e.g. ~/.config/ws2api/ws2api-admin.conf).
    QCoreApplication::setOrganizationName(QStringLiteral("ws2api"));
    QCoreApplication::setApplicationName(QStringLiteral("ws2api-admin"));
    QCoreApplication::setApplicationVersion(QStringLiteral(WS2API_VERSION));

    // Before QApplication, which aborts without a display: --help must work without one,
    // and the lack of one is said in a line.
    QStringList arguments;
    for (int i = 0; i < argc; ++i)
        arguments << QString::fromLocal8Bit(argv[i]);
    const ws2api::gui::CommandLine commandLine =
        ws2api::gui::parseCommandLine(arguments, QProcessEnvironment::systemEnvironment());
    if (commandLine.exitCode) {
        std::fputs(commandLine.output.toLocal8Bit().constData(), *commandLine.exitCode == 0 ? stdout : stderr);
        return *commandLine.exitCode;
    }

    QApplication app(argc, argv);
    QGuiApplication::setDesktopFileName(QStringLiteral("ws2api-admin"));
    QApplication::setWindowIcon(ws2api::gui::MainWindow::applicationIcon());
    ws2api::gui::MainWindow window(commandLine.socketName);
    window.show();
    return app.exec();
}
