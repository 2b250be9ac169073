// The Windows host: ws2apid runs as the service "ws2apid" (the msi installs it, the
// service control manager starts it) or from a console. The service manager's stop
// and shutdown, and Ctrl-C / Ctrl-Break / closing the console, stop the daemon
// (a second request while stopping exits at once); "paramchange"
// (`sc control ws2apid paramchange`) re-reads the config file, as SIGHUP does on POSIX.
//
// Qt lives on the main thread only. The service manager's threads (the dispatcher
// and the handlers it calls) never touch a Qt object: they queue calls to the
// DaemonRunner, which is safe from any thread.
#include <QCoreApplication>

#include <atomic>
#include <cstdio>
#include <future>
#include <string>
#include <thread>

#include <windows.h>

#include "DaemonRunner.h"
#include "Host.h"
#include "Logging.h"
#include "Options.h"

using namespace Qt::Literals::StringLiterals;

namespace ws2apid {

namespace {

wchar_t ServiceName[] = L"ws2apid";

enum class Mode { Console, Service };

// Set before the service manager or the console can call in, and kept until the
// dispatcher thread has been joined.
std::atomic<DaemonRunner *> theRunner{nullptr};
std::atomic<int> stopRequests{0};
std::promise<Mode> modeKnown;
SERVICE_STATUS_HANDLE statusHandle = nullptr;

void reportStatus(DWORD state, DWORD exitCode = NO_ERROR, DWORD waitHintMs = 0)
{
    if (!statusHandle)
        return;
    SERVICE_STATUS status = {};
    status.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
    status.dwCurrentState = state;
    status.dwControlsAccepted = state == SERVICE_RUNNING
        ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN | SERVICE_ACCEPT_PARAMCHANGE : 0;
    status.dwWin32ExitCode = exitCode == NO_ERROR ? NO_ERROR : ERROR_SERVICE_SPECIFIC_ERROR;
    status.dwServiceSpecificExitCode = exitCode;
    status.dwWaitHint = waitHintMs;
    static DWORD checkPoint = 0;
    status.dwCheckPoint = state == SERVICE_RUNNING || state == SERVICE_STOPPED ? 0 : ++checkPoint;
    ::SetServiceStatus(statusHandle, &status);
}

// From any thread: the first request drains, a second one exits at once.
void requestStop()
{
    DaemonRunner *runner = theRunner.load();
    if (stopRequests.fetch_add(1) > 0)
        ::ExitProcess(1);
    if (runner)
        QMetaObject::invokeMethod(runner, &DaemonRunner::stop, Qt::QueuedConnection);
}

DWORD WINAPI onServiceControl(DWORD control, DWORD, LPVOID, LPVOID)
{
    switch (control) {
    case SERVICE_CONTROL_STOP:
    case SERVICE_CONTROL_SHUTDOWN:
        reportStatus(SERVICE_STOP_PENDING, NO_ERROR, 15000);  // the drain takes up to 10 s
        requestStop();
        return NO_ERROR;
    case SERVICE_CONTROL_PARAMCHANGE:
        if (DaemonRunner *runner = theRunner.load())
            QMetaObject::invokeMethod(runner, &DaemonRunner::reload, Qt::QueuedConnection);
        return NO_ERROR;
    case SERVICE_CONTROL_INTERROGATE:
        return NO_ERROR;
    default:
        return ERROR_CALL_NOT_IMPLEMENTED;
    }
}

void WINAPI serviceMain(DWORD, LPWSTR *)
{
    statusHandle = ::RegisterServiceCtrlHandlerExW(ServiceName, onServiceControl, nullptr);
    reportStatus(SERVICE_START_PENDING, NO_ERROR, 30000);
    modeKnown.set_value(Mode::Service);
    // Returning is allowed: the service runs until it reports SERVICE_STOPPED.
}

BOOL WINAPI onConsoleEvent(DWORD event)
{
    switch (event) {
    case CTRL_C_EVENT:
    case CTRL_BREAK_EVENT:
    case CTRL_CLOSE_EVENT:
    case CTRL_SHUTDOWN_EVENT:
        requestStop();
        return TRUE;
    default:
        return FALSE;
    }
}

// A service's log: each line an Event Log entry of source "ws2apid" (the msi
// registers it) in the Application log, at the line's level.
void writeToEventLog(QtMsgType type, const QString &line)
{
    static const HANDLE source = ::RegisterEventSourceW(nullptr, ServiceName);
    if (!source)
        return;
    WORD eventType = EVENTLOG_INFORMATION_TYPE;
    if (type == QtWarningMsg)
        eventType = EVENTLOG_WARNING_TYPE;
    else if (type == QtCriticalMsg || type == QtFatalMsg)
        eventType = EVENTLOG_ERROR_TYPE;
    const std::wstring text = line.trimmed().toStdWString();
    LPCWSTR strings[] = {text.c_str()};
    ::ReportEventW(source, eventType, 0, 0, nullptr, 1, 0, strings, nullptr);
}

int fail(const QString &message, int code)
{
    // In a service the handler is the Event Log's; in a console it writes stderr.
    qCCritical(lcDaemon).noquote() << message;
    reportStatus(SERVICE_STOPPED, DWORD(code));
    return code;
}

void printErrorToConsole(const QString &text)
{
    std::fputs(qPrintable(text + u'\n'), stderr);
}

void printErrorToEventLog(const QString &text)
{
    writeToEventLog(QtCriticalMsg, text);
}

} // namespace

int runHost(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    // First learn whether the service manager started us: a service's errors, a bad
    // config among them, must reach the Event Log, as nobody reads its stderr.
    // Blocks until the service reports SERVICE_STOPPED; fails at once in a console.
    std::thread dispatcher([] {
        const SERVICE_TABLE_ENTRYW table[] = {{ServiceName, serviceMain}, {nullptr, nullptr}};
        if (!::StartServiceCtrlDispatcherW(table))
            modeKnown.set_value(Mode::Console);
    });
    const Mode mode = modeKnown.get_future().get();
    if (mode == Mode::Console)
        logging::install(logging::Sink::Plain);
    else
        logging::install(logging::Sink::EventLog, writeToEventLog);

    ParsedOptions options;
    if (const auto code = DaemonRunner::parseArguments(
            &options, mode == Mode::Console ? printErrorToConsole : printErrorToEventLog)) {
        reportStatus(SERVICE_STOPPED, DWORD(*code));
        dispatcher.join();
        return *code;
    }
    DaemonRunner runner(app.arguments(), std::move(options));
    theRunner = &runner;
    if (mode == Mode::Console)
        ::SetConsoleCtrlHandler(onConsoleEvent, TRUE);
    else if (stopRequests.load() > 0)  // the service manager asked before the runner existed
        QMetaObject::invokeMethod(&runner, &DaemonRunner::stop, Qt::QueuedConnection);

    QString error;
    int exitCode = 0;
    if (!runner.start(&error)) {
        exitCode = fail(error, 1);
    } else {
        reportStatus(SERVICE_RUNNING);
        QObject::connect(&runner, &DaemonRunner::finished, &app, &QCoreApplication::exit);
        exitCode = QCoreApplication::exec();
        reportStatus(SERVICE_STOPPED, DWORD(exitCode));
    }
    dispatcher.join();
    theRunner = nullptr;
    return exitCode;
}

} // namespace ws2apid
