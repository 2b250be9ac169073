#pragma once

#include <QObject>
#include <QStringList>
#include <functional>
#include <memory>
#include <optional>

#include "Options.h"

namespace ws2api {
class Proxy;
}

namespace ws2apid {

class AdminServer;

// The daemon's life from parsed options to its exit code, the same under every
// host: a POSIX process (signals, systemd notifications) or a Windows service.
// A host calls start(), then reload() and stop() as its system asks, and exits
// with finished()'s code. Lives on the main thread.
class DaemonRunner : public QObject
{
    Q_OBJECT
public:
    // `arguments` is argv: a reload parses it again together with the re-read
    // config file, so the command line keeps winning over the file.
    DaemonRunner(QStringList arguments, ParsedOptions options, QObject *parent = nullptr);
    ~DaemonRunner() override;

    // What every host does first, once QCoreApplication exists: names the
    // application and parses its arguments. Returns the exit code when the process is
    // done already (--help, --version: printed on stdout; a bad option: its one-line
    // error handed to `reportError`, where the host's log goes, and 2), else nullopt
    // and *options is ready for the runner.
    static std::optional<int> parseArguments(ParsedOptions *options,
                                             const std::function<void(const QString &)> &reportError);

    // Raises the open-files limit, starts profiling, the proxy (every listener bound,
    // every worker running) and the admin socket. False and *error when one fails;
    // then nothing is left running.
    bool start(QString *error);

    // Re-reads the config file and takes what a running daemon can change; logs
    // what changed and what needs a restart. A file that no longer parses is
    // reported and the running config stays. Emits reloaded() either way.
    void reload();

    // Closes every client with 1001, lets API requests drain, then emits
    // finished(0). Further calls do nothing (isStopping() tells).
    void stop();
    bool isStopping() const { return m_stopping; }

    // `done` runs once every worker's event loop has answered (for a watchdog).
    void checkAlive(std::function<void()> done);

    // "ws2apid 0.1.0 listening on ..." as logged at start.
    QString statusLine() const;
    const ParsedOptions &options() const { return m_options; }

Q_SIGNALS:
    void reloaded(bool applied);
    void finished(int exitCode);

private:
    QStringList m_arguments;
    ParsedOptions m_options;
    std::unique_ptr<ws2api::Proxy> m_proxy;
    std::unique_ptr<AdminServer> m_admin;
    bool m_started = false;
    bool m_stopping = false;
};

} // namespace ws2apid
