// ws2api-admin: the desktop admin for ws2apid, over its local admin socket.
#include <QApplication>
#include <QCommandLineParser>

#include "MainWindow.h"

int main(int argc, char *argv[])
{
    QApplication app(argc, argv);
    // QSettings files live under these names (e.g. ~/.config/ws2api/ws2api-admin.conf).
    QApplication::setOrganizationName(QStringLiteral("ws2api"));
    QApplication::setApplicationName(QStringLiteral("ws2api-admin"));
    QApplication::setApplicationVersion(QStringLiteral(WS2API_VERSION));
    QApplication::setDesktopFileName(QStringLiteral("ws2api-admin"));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Desktop admin for the ws2apid WebSocket-to-HTTP gateway"));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption socket(QStringLiteral("socket"),
                                    QStringLiteral("The daemon's admin socket name (default: the last one used, "
                                                   "else ws2apid)."),
                                    QStringLiteral("NAME"));
    parser.addOption(socket);
    parser.process(app);

    ws2api::gui::MainWindow window(parser.value(socket));
    window.show();
    return app.exec();
}
