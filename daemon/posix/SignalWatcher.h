#pragma once

#include <QObject>
#include <QList>

class QSocketNotifier;

namespace ws2apid {

// Turns POSIX signals into a Qt signal on the thread that created the watcher.
// The async handler only write()s the signal number to a self-pipe; a
// QSocketNotifier reads it back in the event loop, where any work is safe.
// One watcher per process: the handler has a single pipe to write to.
class SignalWatcher : public QObject
{
    Q_OBJECT
public:
    explicit SignalWatcher(QObject *parent = nullptr);
    ~SignalWatcher() override;  // restores the default dispositions

    // Routes `signal` to signalReceived(); false (and *error) when it cannot.
    bool watch(int signal, QString *error);

Q_SIGNALS:
    void signalReceived(int signal);

private:
    void readPipe();

    QSocketNotifier *m_notifier = nullptr;
    QList<int> m_watched;
};

} // namespace ws2apid
