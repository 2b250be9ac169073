// ws2api-admin's command line, read before there is a QApplication: the parser, and
// the built binary run where there is no display (a headless build machine running
// help2man, an SSH session without -X), which must answer in one line, never abort.
#include <QProcess>
#include <QProcessEnvironment>
#include <QTest>

#include "CommandLine.h"
#include "MainWindow.h"

using namespace ws2api::gui;

namespace {

QProcessEnvironment environmentWith(const QStringList &variables)
{
    QProcessEnvironment environment;
    for (const QString &variable : variables)
        environment.insert(variable.section(QLatin1Char('='), 0, 0), variable.section(QLatin1Char('='), 1));
    return environment;
}

} // namespace

class TestAdminCommandLine : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QCoreApplication::setApplicationName(QStringLiteral("ws2api-admin"));
    }

    void commandLineTakesTheSocket()
    {
        const QString program = QStringLiteral("ws2api-admin");
        const auto display = environmentWith({QStringLiteral("DISPLAY=:0")});
        CommandLine parsed = parseCommandLine({program, QStringLiteral("--socket"), QStringLiteral("/tmp/x.sock"),
                                               QStringLiteral("-style"), QStringLiteral("fusion")},
                                              display);
        QVERIFY(!parsed.exitCode);
        QCOMPARE(parsed.socketName, QStringLiteral("/tmp/x.sock"));
        parsed = parseCommandLine({program}, display);
        QVERIFY(!parsed.exitCode);
        QVERIFY(parsed.socketName.isEmpty());
    }

    void aDisplayIsNeededOnlyWhereTheEnvironmentNamesIt_data()
    {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QStringList>("environment");
        QTest::addColumn<int>("exitCode");  // -1: starts the GUI
        // Where the platform plugin finds its display on its own (Windows, macOS) nothing is refused.
        const int none = displayFromEnvironment() ? NoDisplayExitCode : -1;
        QTest::addRow("nothing") << QStringList{} << QStringList{} << none;
        QTest::addRow("empty DISPLAY") << QStringList{} << QStringList{QStringLiteral("DISPLAY=")} << none;
        QTest::addRow("with --socket") << QStringList{QStringLiteral("--socket"), QStringLiteral("x")} << QStringList{}
                                       << none;
        QTest::addRow("X11") << QStringList{} << QStringList{QStringLiteral("DISPLAY=:0")} << -1;
        QTest::addRow("Wayland") << QStringList{} << QStringList{QStringLiteral("WAYLAND_DISPLAY=wayland-0")} << -1;
        QTest::addRow("Wayland socket") << QStringList{} << QStringList{QStringLiteral("WAYLAND_SOCKET=5")} << -1;
        QTest::addRow("QT_QPA_PLATFORM") << QStringList{} << QStringList{QStringLiteral("QT_QPA_PLATFORM=offscreen")}
                                         << -1;
        QTest::addRow("-platform") << QStringList{QStringLiteral("-platform"), QStringLiteral("offscreen")}
                                   << QStringList{} << -1;
        QTest::addRow("-display") << QStringList{QStringLiteral("-display"), QStringLiteral(":1")} << QStringList{}
                                  << -1;
        QTest::addRow("--help first") << QStringList{QStringLiteral("--help")} << QStringList{} << 0;
        QTest::addRow("usage first") << QStringList{QStringLiteral("--bogus")} << QStringList{} << UsageExitCode;
    }

    void aDisplayIsNeededOnlyWhereTheEnvironmentNamesIt()
    {
        QFETCH(QStringList, arguments);
        QFETCH(QStringList, environment);
        QFETCH(int, exitCode);
        const CommandLine parsed =
            parseCommandLine(QStringList{QStringLiteral("ws2api-admin")} + arguments, environmentWith(environment));
        QCOMPARE(parsed.exitCode.value_or(-1), exitCode);
        if (exitCode == NoDisplayExitCode) {
            QVERIFY2(parsed.output.startsWith(QStringLiteral("ws2api-admin: no display")), qPrintable(parsed.output));
            QVERIFY2(parsed.output.contains(QStringLiteral("ssh -X")), qPrintable(parsed.output));
            QCOMPARE(parsed.output.count(QLatin1Char('\n')), 1);
        }
    }

    void binaryAnswersWithoutADisplay_data()
    {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<int>("exitCode");
        QTest::addColumn<QString>("expected");  // in stdout when 0, else in stderr
        QTest::addRow("help") << QStringList{QStringLiteral("--help")} << 0 << QStringLiteral("Usage: ws2api-admin [options]");
        QTest::addRow("-h") << QStringList{QStringLiteral("-h")} << 0 << MainWindow::SystemSocketPath;
        QTest::addRow("version") << QStringList{QStringLiteral("--version")} << 0 << QStringLiteral("ws2api-admin 0.");
        QTest::addRow("Qt's own option") << QStringList{QStringLiteral("-platform"), QStringLiteral("xcb"), QStringLiteral("-v")}
                                         << 0 << QStringLiteral("ws2api-admin 0.");
        QTest::addRow("unknown option") << QStringList{QStringLiteral("--bogus")} << UsageExitCode
                                        << QStringLiteral("ws2api-admin: Unknown option 'bogus'.");
        QTest::addRow("no value") << QStringList{QStringLiteral("--socket")} << UsageExitCode << QStringLiteral("ws2api-admin: ");
        QTest::addRow("stray argument") << QStringList{QStringLiteral("ws2apid")} << UsageExitCode << QStringLiteral("'ws2apid'");
        // Elsewhere the GUI would start: nothing to run here.
        if (displayFromEnvironment()) {
            QTest::addRow("no display") << QStringList{} << NoDisplayExitCode << QStringLiteral("ws2api-admin: no display");
            QTest::addRow("socket, no display") << QStringList{QStringLiteral("--socket"), QStringLiteral("x")}
                                                << NoDisplayExitCode << QStringLiteral("ssh -X");
        }
    }

    void binaryAnswersWithoutADisplay()
    {
        QFETCH(QStringList, arguments);
        QFETCH(int, exitCode);
        QFETCH(QString, expected);
        // As on a build machine running help2man: no display, no platform chosen.
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        for (const char *name : {"DISPLAY", "WAYLAND_DISPLAY", "WAYLAND_SOCKET", "QT_QPA_PLATFORM"})
            environment.remove(QLatin1String(name));
        QProcess process;
        process.setProcessEnvironment(environment);
        process.start(QStringLiteral(WS2API_ADMIN_BINARY), arguments);
        QVERIFY(process.waitForFinished(60000));
        const QString out = QString::fromLocal8Bit(process.readAllStandardOutput());
        const QString err = QString::fromLocal8Bit(process.readAllStandardError());
        QCOMPARE(process.exitStatus(), QProcess::NormalExit);  // not SIGABRT
        QVERIFY2(process.exitCode() == exitCode, qPrintable(out + err));
        QVERIFY2((exitCode == 0 ? out : err).contains(expected), qPrintable(out + err));
        if (exitCode != 0) {
            QVERIFY(out.isEmpty());
            QCOMPARE(err.count(QLatin1Char('\n')), 1);  // one line
        }
    }
};

QTEST_GUILESS_MAIN(TestAdminCommandLine)
#include "tst_admincommandline.moc"
