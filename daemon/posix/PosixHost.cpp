// The POSIX host: a foreground process (systemd runs it as Type=notify). SIGINT and
// SIGTERM stop (a second one exits at once), SIGHUP reloads the config file.
#include <QCoreApplication>
#include <QTimer>

#include <csignal>
#include <cstdio>
#include <sys/stat.h>
#include <unistd.h>

#include "DaemonRunner.h"
#include "Host.h"
#include "Logging.h"
#include "Options.h"
#include "Profiling.h"
#include "SignalWatcher.h"
#include "SystemdNotifier.h"
#include "ws2api/Proxy.h"

using namespace Qt::Literals::StringLiterals;

namespace ws2apid {

namespace {

// systemd sets JOURNAL_STREAM to the device and inode of the stream it connected
// to stderr; stderr may since have been redirected elsewhere (systemd.exec(5)).
bool stderrIsJournal()
{
    struct stat st = {};
    const QByteArray stream = qgetenv("JOURNAL_STREAM");
    return !stream.isEmpty() && ::fstat(STDERR_FILENO, &st) == 0
           && stream == QByteArray::number(qulonglong(st.st_dev)) + ':' + QByteArray::number(qulonglong(st.st_ino));
}

// An error that ends the process, on stderr; in the journal at priority 3 (err),
// so that `journalctl -p warning` shows why the service did not start.
void printError(const QString &text)
{
    const QString prefix = stderrIsJournal() ? u"<3>"_s : QString();
    for (const QString &line : text.split(u'\n', Qt::SkipEmptyParts))
        std::fputs(qPrintable(prefix + line + u'\n'), stderr);
}

int fail(const QString &message, int code)
{
    printError(u"ws2apid: "_s + message);
    return code;
}

void startWatchdog(DaemonRunner *runner, SystemdNotifier *notifier)
{
    const int interval = notifier->watchdogIntervalMs();
    if (interval <= 0)
        return;
    // WATCHDOG=1 only after every worker's loop has answered: a stuck worker
    // stops the pings and systemd restarts the daemon.
    auto *timer = new QTimer(runner);
    QObject::connect(timer, &QTimer::timeout, runner, [runner, notifier] {
        runner->checkAlive([notifier] { notifier->watchdog(); });
    });
    timer->start(interval);
    qCInfo(lcDaemon, "systemd watchdog: a ping every %d ms", interval);
}

} // namespace

int runHost(int argc, char *argv[])
{
    ws2api::Proxy::installEventDispatcher();
    QCoreApplication app(argc, argv);
    ParsedOptions options;
    if (const auto exitCode = DaemonRunner::parseArguments(&options, printError))
        return *exitCode;
    logging::install(stderrIsJournal() ? logging::Sink::Journal : logging::Sink::Plain);

    // A peer that goes away mid-write must cost an error code, not the process.
    std::signal(SIGPIPE, SIG_IGN);
    SignalWatcher watcher;
    QString error;
    if (!watcher.watch(SIGINT, &error) || !watcher.watch(SIGTERM, &error) || !watcher.watch(SIGHUP, &error))
        return fail(error, 1);

    DaemonRunner runner(app.arguments(), std::move(options));
    SystemdNotifier notifier;
    if (!runner.start(&error))
        return fail(error, 1);
    notifier.ready(runner.statusLine());
    startWatchdog(&runner, &notifier);

    QObject::connect(&watcher, &SignalWatcher::signalReceived, &runner, [&](int signal) {
        if (signal == SIGHUP) {
            qCInfo(lcDaemon, "SIGHUP: re-reading the config file");
            notifier.reloading();
            runner.reload();
            return;
        }
        if (runner.isStopping()) {  // the operator insists: no drain, no joins
            qCWarning(lcDaemon, "signal %d while stopping, exiting now", signal);
            profiling::stop(runner.options().config);
            ::_exit(1);
        }
        qCInfo(lcDaemon, "signal %d, stopping (again to exit at once)", signal);
        notifier.stopping();
        runner.stop();
    });
    QObject::connect(&runner, &DaemonRunner::reloaded, &runner, [&] { notifier.ready(runner.statusLine()); });
    QObject::connect(&runner, &DaemonRunner::finished, &app, &QCoreApplication::exit);
    return QCoreApplication::exec();
}

} // namespace ws2apid
