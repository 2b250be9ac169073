// ws2apid: the headless daemon. Everything it does lives in core; this file only
// parses options, sets up logging, limits, profiling and signals, and runs the loop.
#include <QCoreApplication>
#include <QFile>
#include <QLoggingCategory>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef WS2API_HAVE_GPERFTOOLS
#include <gperftools/heap-profiler.h>
#include <gperftools/profiler.h>
#endif

#include "AdminServer.h"
#include "DemoGreeter.h"
#include "Options.h"
#include "SignalWatcher.h"
#include "ws2api/Proxy.h"

using namespace Qt::Literals::StringLiterals;

Q_LOGGING_CATEGORY(lcDaemon, "ws2api.daemon")

// Under systemd, stderr is the journal: it stamps the time itself and reads the
// priority from a "<N>" prefix (sd-daemon(3)); elsewhere a plain timestamped line.
static void setUpLogging(const QString &rules)
{
    struct stat st = {};
    const QByteArray stream = qgetenv("JOURNAL_STREAM");
    const bool journal = !stream.isEmpty() && ::fstat(STDERR_FILENO, &st) == 0
                         && stream == QByteArray::number(st.st_dev) + ':' + QByteArray::number(st.st_ino);
    qSetMessagePattern(journal ? u"<%{if-debug}7%{endif}%{if-info}6%{endif}%{if-warning}4%{endif}"
                                 "%{if-critical}3%{endif}%{if-fatal}2%{endif}>%{category}: %{message}"_s
                               : u"%{time yyyy-MM-ddThh:mm:ss.zzz} %{type} %{category}: %{message}"_s);
    QLoggingCategory::setFilterRules(ws2apid::loggingFilterRules(rules));  // QT_LOGGING_RULES wins
}

// Every client is a socket; the box allows 20,000 per process, the default soft limit 1024.
static void raiseOpenFileLimit()
{
    rlimit limit = {};
    const bool read = ::getrlimit(RLIMIT_NOFILE, &limit) == 0;
    const rlim_t before = limit.rlim_cur;
    limit.rlim_cur = limit.rlim_max;
    if (!read || (before != limit.rlim_max && ::setrlimit(RLIMIT_NOFILE, &limit) != 0))
        qCWarning(lcDaemon, "cannot raise the open files limit: %s", std::strerror(errno));
    else
        qCInfo(lcDaemon, "open files limit %llu (was %llu)", qulonglong(limit.rlim_cur), qulonglong(before));
}

static bool startProfiling([[maybe_unused]] const ws2api::ProxyConfig &config)
{
#ifdef WS2API_HAVE_GPERFTOOLS
    if (!config.cpuProfile.isEmpty() && !ProfilerStart(QFile::encodeName(config.cpuProfile).constData()))
        return false;
    if (!config.memProfile.isEmpty())  // periodic dumps go to FILE.NNNN.heap, the last to FILE
        HeapProfilerStart(QFile::encodeName(config.memProfile).constData());
#endif
    return true;
}

static void stopProfiling([[maybe_unused]] const ws2api::ProxyConfig &config)
{
#ifdef WS2API_HAVE_GPERFTOOLS
    if (!config.cpuProfile.isEmpty())
        ProfilerStop();
    if (!config.memProfile.isEmpty() && IsHeapProfilerRunning()) {
        char *profile = GetHeapProfile();
        QFile file(config.memProfile);
        if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate) || file.write(profile) < 0)
            qCWarning(lcDaemon) << "cannot write the heap profile:" << file.errorString();
        std::free(profile);
        HeapProfilerStop();
    }
#endif
}

static int fail(const QString &message, int code)
{
    std::fputs(qPrintable(u"ws2apid: "_s + message + u'\n'), stderr);
    return code;
}

int main(int argc, char *argv[])
{
    ws2api::Proxy::installEventDispatcher();
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(u"ws2apid"_s);
    QCoreApplication::setApplicationVersion(ws2apid::daemonVersion());

    ws2apid::ParsedOptions options;
    QString output;
    int exitCode = 0;
    if (ws2apid::parseOptions(app.arguments(), &options, &output, &exitCode) == ws2apid::ParseOutcome::Exit) {
        std::fputs(qPrintable(output), exitCode == 0 ? stdout : stderr);
        return exitCode;
    }
    const ws2api::ProxyConfig &config = options.config;
#ifndef WS2API_HAVE_GPERFTOOLS
    if (!config.cpuProfile.isEmpty() || !config.memProfile.isEmpty())
        return fail(u"-cpuprofile/-memprofile: built without gperftools"_s, 2);
#endif
    setUpLogging(options.logRules);
    raiseOpenFileLimit();

    // A peer that goes away mid-write must cost an error code, not the process.
    std::signal(SIGPIPE, SIG_IGN);
    ws2apid::SignalWatcher watcher;
    QString error;
    if (!watcher.watch(SIGINT, &error) || !watcher.watch(SIGTERM, &error))
        return fail(error, 1);
    if (!startProfiling(config))
        return fail(u"-cpuprofile: cannot write "_s + config.cpuProfile, 1);

    ws2api::Proxy proxy;
    if (!proxy.start(config, &error)) {
        stopProfiling(config);
        return fail(error, 1);
    }
    qCInfo(lcDaemon).noquote() << ws2apid::startupLine(config, proxy.listenPort(), proxy.pushPort());
    std::unique_ptr<ws2apid::AdminServer> admin;
    if (config.adminName != u"none"_s) {
        admin = std::make_unique<ws2apid::AdminServer>(&proxy, config, ws2apid::daemonVersion());
        if (!admin->listen(config.adminName, config.adminGroup, &error)) {
            stopProfiling(config);
            return fail(u"admin: "_s + error, 1);
        }
    }
    if (config.demoApi)
        new ws2apid::DemoGreeter(config.listenAddress, proxy.listenPort(),
                                 config.mode == ws2api::ProxyConfig::Mode::Ocpp ? config.subprotocols
                                                                                : QStringList(),
                                 &app);

    bool stopping = false;
    QObject::connect(&watcher, &ws2apid::SignalWatcher::signalReceived, &app, [&](int signal) {
        if (stopping) {  // the operator insists: no drain, no joins
            qCWarning(lcDaemon, "signal %d while stopping, exiting now", signal);
            stopProfiling(config);
            ::_exit(1);
        }
        qCInfo(lcDaemon, "signal %d, stopping (again to exit at once)", signal);
        stopping = true;
        proxy.stop();
    });
    QObject::connect(&proxy, &ws2api::Proxy::stopped, &app, &QCoreApplication::quit);
    const int code = QCoreApplication::exec();
    stopProfiling(config);
    qCInfo(lcDaemon, "stopped");
    return code;
}
