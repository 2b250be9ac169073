#include "EpollEventDispatcher.h"

#include <QCoreApplication>
#include <QLoggingCategory>
#include <QSocketNotifier>
#include <QThread>
#include <QTimerEvent>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <tuple>

#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

Q_LOGGING_CATEGORY(lcEpoll, "ws2api.epoll", QtInfoMsg)

namespace ws2api {

namespace {

// Sockets beyond this many ready at once wait for the next pass; level
// triggering reports them again.
constexpr int MaxEvents = 512;
constexpr qint64 NsPerMs = 1000 * 1000;
constexpr qint64 NsPerSec = 1000 * NsPerMs;
// Keeps deadline arithmetic in qint64 nanoseconds far from overflow (~34 years).
constexpr qint64 MaxIntervalMs = qint64(1) << 40;

// Indexed by QSocketNotifier::Type.
constexpr std::array<quint32, 3> WatchMask = {EPOLLIN, EPOLLOUT, EPOLLPRI};
// An error or hang-up wakes every notifier on the fd, as QEventDispatcherUNIX
// does with poll(): the owner only learns of the error by trying the socket.
constexpr std::array<quint32, 3> WakeMask = {
    EPOLLIN | EPOLLERR | EPOLLHUP,
    EPOLLOUT | EPOLLERR | EPOLLHUP,
    EPOLLPRI | EPOLLERR | EPOLLHUP,
};
constexpr std::array<const char *, 3> TypeName = {"Read", "Write", "Exception"};

qint64 monotonicNow()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return qint64(ts.tv_sec) * NsPerSec + ts.tv_nsec;
}

// Rounds up, so that a wait never ends before the deadline it waits for.
int ceilMs(qint64 ns)
{
    if (ns <= 0)
        return 0;
    return int(std::min<qint64>((ns + NsPerMs - 1) / NsPerMs, INT_MAX));
}

qint64 intervalNs(qint64 intervalMs)
{
    return std::min(intervalMs, MaxIntervalMs) * NsPerMs;
}

} // namespace

EpollEventDispatcher::EpollEventDispatcher(QObject *parent)
    : QAbstractEventDispatcher(parent)
    , m_epollFd(epoll_create1(EPOLL_CLOEXEC))
    , m_wakeFd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK))
    , m_events(std::make_unique<epoll_event[]>(MaxEvents))
{
    // Without these there is no event loop to fall back on; Qt's own
    // dispatchers give up the same way when their wake-up pipe fails.
    if (m_epollFd < 0 || m_wakeFd < 0)
        qFatal("EpollEventDispatcher: cannot create epoll or eventfd: %s", strerror(errno));
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = m_wakeFd;
    if (epoll_ctl(m_epollFd, EPOLL_CTL_ADD, m_wakeFd, &event) < 0)
        qFatal("EpollEventDispatcher: cannot watch the eventfd: %s", strerror(errno));
}

EpollEventDispatcher::~EpollEventDispatcher()
{
    close(m_wakeFd);
    close(m_epollFd);
}

void EpollEventDispatcher::setGatherUs(int us)
{
    m_gatherUs = std::clamp(us, 0, 999'999);
}

bool EpollEventDispatcher::processEvents(QEventLoop::ProcessEventsFlags flags)
{
    m_interrupted.store(false, std::memory_order_relaxed);
    emit awake();
    QCoreApplication::sendPostedEvents();

    const bool withTimers = !flags.testFlag(QEventLoop::X11ExcludeTimers);
    const bool withSockets = !flags.testFlag(QEventLoop::ExcludeSocketNotifiers);
    const bool canWait = flags.testFlag(QEventLoop::WaitForMoreEvents)
            && !m_interrupted.load(std::memory_order_acquire);
    if (canWait)
        emit aboutToBlock();
    if (m_interrupted.load(std::memory_order_acquire))
        return false;

    // Blocking cannot strand a posted event: postEvent() calls wakeUp(), which
    // leaves the eventfd readable until a pass drains it.
    const bool writesDue = withSockets && !m_presumedWrites.empty();
    int timeoutMs = !canWait || writesDue ? 0 : withTimers ? timerWaitMs() : -1;
    int processed = 0;
    if (withSockets && timeoutMs != 0 && m_gatherUs > 0 && m_lastPassFoundSockets
        && m_lastPassUs < m_gatherUs) {
        // Gathering (setGatherUs()): the last pass found work, so more is likely on its
        // way; sleep, then take all that came meanwhile in one pass, rather than be
        // woken for each socket as it becomes ready. Not after a pass that took longer
        // than the pause: a loop that busy has work waiting, and a pause would only
        // cost it throughput.
        const qint64 us = timeoutMs < 0 ? m_gatherUs : std::min<qint64>(m_gatherUs, qint64(timeoutMs) * 1000);
        const timespec pause{0, long(us * 1000)};
        nanosleep(&pause, nullptr);
        processed = waitAndDispatchSockets(0);
        if (processed == 0 && withTimers)
            timeoutMs = timerWaitMs();
    }
    if (processed == 0)
        processed = withSockets ? waitAndDispatchSockets(timeoutMs) : waitForWakeUpOnly(timeoutMs);
    m_lastPassFoundSockets = withSockets && processed > 0;
    if (withSockets && !m_interrupted.load(std::memory_order_acquire))
        processed += dispatchPresumedWrites();
    if (withTimers && !m_interrupted.load(std::memory_order_acquire))
        processed += activateTimers();
    if (m_gatherUs > 0)
        m_lastPassUs = m_lastPassFoundSockets ? (monotonicNow() - m_passStartNs) / 1000 : 0;
    return processed > 0;
}

void EpollEventDispatcher::wakeUp()
{
    // One unread write is enough to end a wait; a burst of cross-thread posts
    // then costs one syscall instead of one each.
    if (m_wakeUpPending.exchange(true, std::memory_order_acq_rel))
        return;
    if (eventfd_write(m_wakeFd, 1) < 0)
        qCWarning(lcEpoll, "eventfd write failed: %s", strerror(errno));
}

void EpollEventDispatcher::interrupt()
{
    m_interrupted.store(true, std::memory_order_release);
    wakeUp();
}

void EpollEventDispatcher::drainWakeUp()
{
    eventfd_t value = 0;
    eventfd_read(m_wakeFd, &value);
    // Cleared after the read, never before: a wakeUp() landing in between
    // skips its write, which is harmless because this pass returns without
    // blocking again and the next one starts by sending posted events. The
    // other order could leave the flag set with the eventfd empty, and then
    // every later wakeUp() would be skipped.
    m_wakeUpPending.store(false, std::memory_order_release);
}

// Every structure here belongs to the dispatcher's thread; only wakeUp() and
// interrupt() may come from elsewhere.
bool EpollEventDispatcher::onOwnThread(const char *what, const QObject *object) const
{
    if (QThread::currentThread() == thread() && (!object || object->thread() == thread()))
        return true;
    qCWarning(lcEpoll, "%s: called from or for another thread, ignored", what);
    return false;
}

// ---- socket notifiers ----

void EpollEventDispatcher::registerSocketNotifier(QSocketNotifier *notifier)
{
    Q_ASSERT(notifier);
    const int fd = int(notifier->socket());
    const int type = notifier->type();
    if (fd < 0) {
        qCWarning(lcEpoll, "registerSocketNotifier: invalid socket %d", fd);
        return;
    }
    if (!onOwnThread("registerSocketNotifier", notifier))
        return;

    FdWatch &watch = m_watches[fd];
    NotifierSlot &slot = watch.byType[type];
    if (slot.notifier && slot.notifier != notifier)
        qCWarning(lcEpoll, "several %s notifiers for socket %d; the newest one wins",
                  TypeName[type], fd);
    slot = {notifier, ++m_notifierSerial, type == QSocketNotifier::Write};
    if (slot.presumedReady)
        m_presumedWrites.push_back({fd, slot.serial});
    updateWatch(fd, &watch);
}

void EpollEventDispatcher::unregisterSocketNotifier(QSocketNotifier *notifier)
{
    Q_ASSERT(notifier);
    const int fd = int(notifier->socket());
    const int type = notifier->type();
    if (!onOwnThread("unregisterSocketNotifier"))
        return;

    const auto it = m_watches.find(fd);
    if (it == m_watches.end() || it->byType[type].notifier != notifier) {
        if (it != m_watches.end() && it->byType[type].notifier)
            qCWarning(lcEpoll, "several %s notifiers for socket %d; this one was replaced",
                      TypeName[type], fd);
        return;
    }
    it->byType[type] = {};
    updateWatch(fd, &*it);
}

// Brings the epoll registration of fd in line with its notifiers (a presumed
// ready write notifier is not in it); erases the watch once none is left.
void EpollEventDispatcher::updateWatch(int fd, FdWatch *watch)
{
    quint32 wanted = 0;
    bool any = false;
    for (size_t type = 0; type < watch->byType.size(); ++type) {
        const NotifierSlot &slot = watch->byType[type];
        any = any || slot.notifier;
        if (slot.notifier && !slot.presumedReady)
            wanted |= WatchMask[type];
    }
    int rc = 0;
    if (wanted != watch->events) {
        const int op = !watch->events ? EPOLL_CTL_ADD : wanted ? EPOLL_CTL_MOD : EPOLL_CTL_DEL;
        epoll_event event{};
        event.events = wanted;
        event.data.fd = fd;
        rc = epoll_ctl(m_epollFd, op, fd, &event);
        // The fd may have been closed, or closed and reused, behind its
        // notifiers' backs: the kernel then dropped the old registration.
        if (rc < 0 && op == EPOLL_CTL_MOD && errno == ENOENT)
            rc = epoll_ctl(m_epollFd, EPOLL_CTL_ADD, fd, &event);
        else if (rc < 0 && op == EPOLL_CTL_ADD && errno == EEXIST)
            rc = epoll_ctl(m_epollFd, EPOLL_CTL_MOD, fd, &event);
        else if (rc < 0 && op == EPOLL_CTL_DEL && (errno == ENOENT || errno == EBADF))
            rc = 0;
        // EPERM here means a regular file, which epoll cannot watch.
        if (rc < 0)
            qCWarning(lcEpoll, "cannot watch socket %d for events 0x%x: %s", fd, wanted,
                      strerror(errno));
    }
    if (!any)
        m_watches.remove(fd);
    else if (rc == 0)
        watch->events = wanted;
}

int EpollEventDispatcher::waitAndDispatchSockets(int timeoutMs)
{
    const int count = epoll_wait(m_epollFd, m_events.get(), MaxEvents, timeoutMs);
    ++m_waitCount;
    if (m_gatherUs > 0)
        m_passStartNs = monotonicNow();  // how long the pass takes decides on gathering
    if (count < 0) {
        if (errno != EINTR)
            qCWarning(lcEpoll, "epoll_wait failed: %s", strerror(errno));
        return 0;
    }
    return dispatchSockets(count);
}

int EpollEventDispatcher::waitForWakeUpOnly(int timeoutMs)
{
    // Excluded notifiers must neither fire nor end the wait, and a readable
    // socket in the epoll set would end every wait at once; so wait on the
    // eventfd alone.
    pollfd wake{m_wakeFd, POLLIN, 0};
    const int ready = poll(&wake, 1, timeoutMs);
    if (ready < 0 && errno != EINTR)
        qCWarning(lcEpoll, "poll on eventfd failed: %s", strerror(errno));
    if (ready <= 0)
        return 0;
    drainWakeUp();
    return 1;
}

int EpollEventDispatcher::dispatchSockets(int count)
{
    const quint64 waitCount = m_waitCount;
    // A notifier registered after the wait was not part of it: its fd number
    // may even belong to a socket closed and reopened by an earlier handler.
    const quint64 newestSerial = m_notifierSerial;
    int activated = 0;
    for (int i = 0; i < count; ++i) {
        const int fd = m_events[i].data.fd;
        const quint32 events = m_events[i].events;
        if (fd == m_wakeFd) {
            drainWakeUp();
            ++activated;
            continue;
        }
        for (size_t type = 0; type < WakeMask.size(); ++type) {
            if (!(events & WakeMask[type]))
                continue;
            // Looked up again each time: any handler may have removed or
            // replaced any notifier, this fd's included.
            const auto it = m_watches.constFind(fd);
            if (it == m_watches.cend()) {
                // Only reachable when the kernel still reports a registration
                // we dropped; remove it or it would end every wait.
                epoll_ctl(m_epollFd, EPOLL_CTL_DEL, fd, nullptr);
                break;
            }
            const NotifierSlot &slot = it->byType[type];
            // A presumed ready write notifier fires after this loop anyway.
            if (!slot.notifier || slot.serial > newestSerial || slot.presumedReady)
                continue;
            QEvent event(QEvent::SockAct);
            QCoreApplication::sendEvent(slot.notifier, &event);
            ++activated;
            // A nested processEvents() overwrote m_events; whatever is still
            // ready will be reported again by the next wait.
            if (m_waitCount != waitCount || m_interrupted.load(std::memory_order_acquire))
                return activated;
        }
    }
    return activated;
}

// Fires the write notifiers enabled since the last pass, those enabled by this
// pass's handlers included. One still enabled afterwards could not write
// everything: from then on epoll tells when it can.
int EpollEventDispatcher::dispatchPresumedWrites()
{
    // Swapped out, so that entries added by the handlers wait for the next
    // pass. The spare vector keeps its capacity from pass to pass; a nested
    // pass inside a handler finds it taken and starts an empty one.
    std::vector<PresumedWrite> batch = std::move(m_presumedSpare);
    batch.clear();
    batch.swap(m_presumedWrites);
    int activated = 0;
    size_t done = 0;
    for (; done < batch.size(); ++done) {
        if (m_interrupted.load(std::memory_order_acquire))
            break;
        const PresumedWrite entry = batch[done];
        const auto presumed = [this, entry]() -> FdWatch * {
            const auto it = m_watches.find(entry.fd);
            if (it == m_watches.end())
                return nullptr;
            const NotifierSlot &slot = it->byType[QSocketNotifier::Write];
            return slot.presumedReady && slot.serial == entry.serial ? &*it : nullptr;
        };
        const FdWatch *watch = presumed();
        if (!watch)
            continue;
        QEvent event(QEvent::SockAct);
        QCoreApplication::sendEvent(watch->byType[QSocketNotifier::Write].notifier, &event);
        ++activated;
        if (FdWatch *still = presumed()) {
            still->byType[QSocketNotifier::Write].presumedReady = false;
            updateWatch(entry.fd, still);
        }
    }
    // An interrupted pass leaves the rest for the next one, ahead of newer entries.
    m_presumedWrites.insert(m_presumedWrites.begin(), batch.begin() + qsizetype(done), batch.end());
    if (batch.capacity() > m_presumedSpare.capacity())
        m_presumedSpare = std::move(batch);
    return activated;
}

// ---- timers ----

void EpollEventDispatcher::registerTimer(int timerId, qint64 interval, Qt::TimerType timerType,
                                         QObject *object)
{
    if (timerId < 1 || interval < 0 || !object) {
        qCWarning(lcEpoll, "registerTimer: invalid arguments");
        return;
    }
    if (!onOwnThread("registerTimer", object))
        return;
    if (const auto old = m_timers.find(timerId); old != m_timers.end())
        removeTimer(old);

    qint64 intervalMs = interval;
    if (timerType == Qt::VeryCoarseTimer) {
        // Whole seconds, half rounded up, as Qt does; but a non-zero interval
        // never rounds down to 0 s, which would spin like a zero timer.
        intervalMs = (std::min(interval, MaxIntervalMs) + 500) / 1000 * 1000;
        if (interval > 0)
            intervalMs = std::max<qint64>(intervalMs, 1000);
    }
    const qint64 deadline = firstDeadline(timerType, intervalMs, monotonicNow());
    const auto it = m_timers.insert(timerId, Timer{object, intervalMs, timerType,
                                                   TimerKey{deadline, 0, timerId}});
    m_timersByObject.emplace(quintptr(object), timerId);
    armTimer(&*it, deadline);
}

bool EpollEventDispatcher::unregisterTimer(int timerId)
{
    if (timerId < 1) {
        qCWarning(lcEpoll, "unregisterTimer: invalid timer id %d", timerId);
        return false;
    }
    if (!onOwnThread("unregisterTimer"))
        return false;
    const auto it = m_timers.find(timerId);
    if (it == m_timers.end())
        return false;
    removeTimer(it);
    return true;
}

bool EpollEventDispatcher::unregisterTimers(QObject *object)
{
    if (!object) {
        qCWarning(lcEpoll, "unregisterTimers: null object");
        return false;
    }
    if (!onOwnThread("unregisterTimers"))
        return false;
    const quintptr key = quintptr(object);
    bool removed = false;
    for (auto pos = m_timersByObject.lower_bound({key, INT_MIN});
         pos != m_timersByObject.end() && pos->first == key;
         pos = m_timersByObject.lower_bound({key, INT_MIN})) {
        removeTimer(m_timers.find(pos->second));
        removed = true;
    }
    return removed;
}

QList<QAbstractEventDispatcher::TimerInfo> EpollEventDispatcher::registeredTimers(QObject *object) const
{
    QList<TimerInfo> timers;
    if (!object) {
        qCWarning(lcEpoll, "registeredTimers: null object");
        return timers;
    }
    const quintptr key = quintptr(object);
    for (auto pos = m_timersByObject.lower_bound({key, INT_MIN});
         pos != m_timersByObject.end() && pos->first == key; ++pos) {
        const Timer &timer = *m_timers.constFind(pos->second);
        timers.append(TimerInfo(pos->second, int(std::min<qint64>(timer.intervalMs, INT_MAX)),
                                timer.type));
    }
    return timers;
}

int EpollEventDispatcher::remainingTime(int timerId)
{
    if (timerId < 1) {
        qCWarning(lcEpoll, "remainingTime: invalid timer id %d", timerId);
        return -1;
    }
    const auto it = m_timers.constFind(timerId);
    if (it == m_timers.cend())
        return -1;
    return ceilMs(it->key.deadline - monotonicNow());
}

int EpollEventDispatcher::timerWaitMs() const
{
    if (m_timerQueue.empty())
        return -1;
    return ceilMs(m_timerQueue.begin()->deadline - monotonicNow());
}

int EpollEventDispatcher::activateTimers()
{
    const qint64 now = monotonicNow();
    // Every timer armed from here on, re-armed ones included, gets a seq of
    // at least passStart and a deadline of at least now, so it sorts after
    // everything this pass fires: no timer fires twice in one pass, and zero
    // timers cannot starve sockets and posted events.
    const quint64 passStart = m_timerSeq + 1;
    int activated = 0;
    while (!m_timerQueue.empty() && !m_interrupted.load(std::memory_order_acquire)) {
        const TimerKey first = *m_timerQueue.begin();
        if (std::tie(first.deadline, first.seq) >= std::tie(now, passStart))
            break;
        const auto it = m_timers.find(first.id);
        Q_ASSERT(it != m_timers.end());
        armTimer(&*it, nextDeadline(*it, now));
        // As in Qt, a timer whose handler runs a nested event loop does not
        // fire again inside that loop.
        if (it->inEvent)
            continue;
        // As in Qt, zero timers do not count, so that
        // QCoreApplication::processEvents(flags, ms) does not spin on them.
        if (it->intervalMs > 0)
            ++activated;
        it->inEvent = true;
        QTimerEvent event(first.id);
        QCoreApplication::sendEvent(it->object, &event);
        // The handler may have killed the timer, or killed it and reused the
        // id; the flag of a new timer is false already.
        if (const auto again = m_timers.find(first.id); again != m_timers.end())
            again->inEvent = false;
    }
    return activated;
}

void EpollEventDispatcher::armTimer(Timer *timer, qint64 deadline)
{
    const TimerKey key{deadline, ++m_timerSeq, timer->key.id};
    if (timer->key.seq != 0) {
        // Re-arming reuses the node: a busy timer costs no allocation per shot.
        auto node = m_timerQueue.extract(timer->key);
        node.value() = key;
        m_timerQueue.insert(std::move(node));
    } else {
        m_timerQueue.insert(key);
    }
    timer->key = key;
}

qint64 EpollEventDispatcher::firstDeadline(Qt::TimerType type, qint64 intervalMs, qint64 now) const
{
    if (type != Qt::VeryCoarseTimer)
        return now + intervalNs(intervalMs);
    // Very coarse timers fire on whole seconds, counted from now rounded to
    // the nearest second, as in Qt; that lets many of them share one wake-up.
    const qint64 roundedNow = (now + NsPerSec / 2 - 1) / NsPerSec * NsPerSec;
    return roundedNow + intervalNs(intervalMs);
}

qint64 EpollEventDispatcher::nextDeadline(const Timer &timer, qint64 now) const
{
    const qint64 interval = intervalNs(timer.intervalMs);
    const qint64 next = timer.key.deadline + interval;
    if (timer.type == Qt::VeryCoarseTimer) {
        const qint64 nowSecs = now / NsPerSec * NsPerSec;
        return next <= nowSecs ? nowSecs + interval : next;
    }
    // Keeps the rhythm of a repeating timer, but one that fell behind skips
    // the missed shots instead of firing them back to back.
    return next < now ? now + interval : next;
}

void EpollEventDispatcher::removeTimer(QHash<int, Timer>::iterator it)
{
    m_timerQueue.erase(it->key);
    m_timersByObject.erase({quintptr(it->object), it->key.id});
    m_timers.erase(it);
}

} // namespace ws2api
