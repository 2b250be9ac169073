#pragma once

#include <QByteArray>
#include <QProcess>
#include <QStringList>

namespace ws2api::test {

// A running ws2apid binary whose stderr is collected as it comes, so that the pipe
// never fills and a test can wait for a line.
class DaemonProcess
{
public:
    // An upper bound for a slow box, not a timing check.
    static constexpr int StartTimeoutMs = 30000;

    explicit DaemonProcess(const QString &program);
    ~DaemonProcess();  // kills what still runs

    // Starts and waits for the "listening on 127.0.0.1:PORT" line; 0 (and a failed
    // test) when it never comes.
    quint16 start(const QStringList &arguments);

    // waitForFinished() alone is false for a process that ended during an earlier QTRY.
    bool waitForExit();

    // Sends `signal` (SIGHUP, SIGTERM, ...) to the daemon.
    void signal(int signal);

    QProcess &process() { return m_process; }
    QByteArray errorOutput() const { return m_stderr; }

private:
    QProcess m_process;
    QByteArray m_stderr;
};

} // namespace ws2api::test
