#pragma once

// Linux only: core/CMakeLists.txt compiles this file when building for Linux.

#include <QAbstractEventDispatcher>
#include <QHash>

#include <array>
#include <atomic>
#include <compare>
#include <memory>
#include <set>
#include <utility>
#include <vector>

class QSocketNotifier;
struct epoll_event;

namespace ws2api {

// Qt 6.4's stock dispatchers poll() every registered socket on every loop pass,
// so a thread with 10k idle connections burns a core doing nothing. This one
// keeps the sockets in an epoll set and the timers in ordered containers:
// a pass costs O(ready sockets + expired timers), every registration O(log n).
//
// Write notifiers are presumed ready when enabled: QAbstractSocket enables its
// write notifier for every write() and disables it once the data is out, which
// would cost two epoll_ctl() per reply. A newly enabled write notifier instead
// fires at the end of the current pass without asking the kernel; only when it
// is still enabled after that (the socket was full, or is still connecting)
// does epoll watch it. A handler therefore sees at most one spurious activation
// per enable, which Qt's sockets take as a write of 0 bytes.
//
// Install it before QCoreApplication exists with
// QCoreApplication::setEventDispatcher(), and on worker threads with
// QThread::setEventDispatcher() before start().
class EpollEventDispatcher : public QAbstractEventDispatcher
{
    Q_OBJECT

public:
    explicit EpollEventDispatcher(QObject *parent = nullptr);
    ~EpollEventDispatcher() override;

    bool processEvents(QEventLoop::ProcessEventsFlags flags) override;
    // After a pass that found ready sockets and took less than `us` microseconds,
    // sleep `us` (0: never, the default) before looking again, and take all that
    // became ready then in one pass: fewer wake-ups and larger batches under load,
    // for up to `us` of latency. A loop whose passes take longer is busy enough and
    // does not pause.
    void setGatherUs(int us);

    void registerSocketNotifier(QSocketNotifier *notifier) override;
    void unregisterSocketNotifier(QSocketNotifier *notifier) override;

    // The base class's id-allocating overload would be hidden otherwise.
    using QAbstractEventDispatcher::registerTimer;
    void registerTimer(int timerId, qint64 interval, Qt::TimerType timerType,
                       QObject *object) override;
    bool unregisterTimer(int timerId) override;
    bool unregisterTimers(QObject *object) override;
    QList<TimerInfo> registeredTimers(QObject *object) const override;
    int remainingTime(int timerId) override;

    // Both are safe to call from any thread.
    void wakeUp() override;
    void interrupt() override;

private:
    // Indexed by QSocketNotifier::Type (Read, Write, Exception).
    struct NotifierSlot
    {
        QSocketNotifier *notifier = nullptr;
        quint64 serial = 0;
        // A write notifier waiting for its presumed activation: not in epoll.
        bool presumedReady = false;
    };
    struct PresumedWrite
    {
        int fd;
        quint64 serial;
    };
    struct FdWatch
    {
        std::array<NotifierSlot, 3> byType;
        quint32 events = 0;
    };

    // Ordered by deadline, then by a per-(re)arm sequence number: FIFO among
    // equal deadlines, and a pass can tell timers armed during it apart.
    struct TimerKey
    {
        qint64 deadline;
        quint64 seq;
        int id;
        auto operator<=>(const TimerKey &) const = default;
    };
    struct Timer
    {
        QObject *object;
        qint64 intervalMs;
        Qt::TimerType type;
        TimerKey key;
        bool inEvent = false;
    };
    using ObjectTimer = std::pair<quintptr, int>;

    bool onOwnThread(const char *what, const QObject *object = nullptr) const;
    void updateWatch(int fd, FdWatch *watch);

    int waitAndDispatchSockets(int timeoutMs);
    int waitForWakeUpOnly(int timeoutMs);
    int dispatchSockets(int count);
    int dispatchPresumedWrites();
    void drainWakeUp();

    int timerWaitMs() const;
    int activateTimers();
    void armTimer(Timer *timer, qint64 deadline);
    qint64 firstDeadline(Qt::TimerType type, qint64 intervalMs, qint64 now) const;
    qint64 nextDeadline(const Timer &timer, qint64 now) const;
    void removeTimer(QHash<int, Timer>::iterator it);

    int m_epollFd = -1;
    int m_wakeFd = -1;
    std::atomic<bool> m_wakeUpPending{false};
    std::atomic<bool> m_interrupted{false};

    QHash<int, FdWatch> m_watches;
    quint64 m_notifierSerial = 0;
    // Bumped by every epoll_wait: a nested processEvents() inside a handler
    // overwrites m_events, so the outer pass must stop reading it.
    quint64 m_waitCount = 0;
    std::unique_ptr<epoll_event[]> m_events;
    // Write notifiers enabled since the last pass, in order; an entry whose
    // serial no longer matches its slot is stale and skipped.
    std::vector<PresumedWrite> m_presumedWrites;
    std::vector<PresumedWrite> m_presumedSpare;

    QHash<int, Timer> m_timers;
    std::set<TimerKey> m_timerQueue;
    std::set<ObjectTimer> m_timersByObject;
    quint64 m_timerSeq = 0;
    int m_gatherUs = 0;
    bool m_lastPassFoundSockets = false;
    qint64 m_passStartNs = 0;  // when the last wait returned (with gathering on)
    qint64 m_lastPassUs = 0;   // how long its pass took
};

} // namespace ws2api
