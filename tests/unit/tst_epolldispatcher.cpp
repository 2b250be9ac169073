// EpollEventDispatcher: socket notifiers, timers, posted events, cross-thread
// wake-ups and a TCP echo, with the dispatcher installed for the main thread
// before QCoreApplication exists, the way the daemon installs it.
#include <QCoreApplication>
#include <QFile>
#include <QPointer>
#include <QScopeGuard>
#include <QSemaphore>
#include <QSocketNotifier>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>
#include <QThread>
#include <QTimer>

#include <array>
#include <atomic>
#include <cerrno>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "EpollEventDispatcher.h"

using ws2api::EpollEventDispatcher;
using Notifier = std::unique_ptr<QSocketNotifier>;

namespace {

// Two connected fds, closed on scope exit.
struct FdPair
{
    std::array<int, 2> fd{-1, -1};
    FdPair() = default;
    FdPair(const FdPair &) = delete;
    FdPair &operator=(const FdPair &) = delete;
    ~FdPair()
    {
        closeFd(0);
        closeFd(1);
    }
    void closeFd(int i)
    {
        if (fd[i] >= 0)
            ::close(fd[i]);
        fd[i] = -1;
    }
    int operator[](int i) const { return fd[i]; }
};

void makeSocketPair(FdPair *pair)
{
    QCOMPARE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair->fd.data()), 0);
}

// Loopback TCP, for urgent (out-of-band) data, which raises EPOLLPRI.
void makeTcpPair(FdPair *pair)
{
    const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    auto *raw = reinterpret_cast<sockaddr *>(&address);
    socklen_t length = sizeof address;
    const bool listening = listener >= 0 && ::bind(listener, raw, length) == 0
            && ::listen(listener, 1) == 0 && ::getsockname(listener, raw, &length) == 0;
    pair->fd[0] = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listening && ::connect(pair->fd[0], raw, length) == 0)
        pair->fd[1] = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    ::close(listener);
    QVERIFY(pair->fd[1] >= 0);
}

void writeByte(int fd, char byte = 'x', int flags = 0)
{
    QCOMPARE(::send(fd, &byte, 1, flags | MSG_NOSIGNAL), ssize_t(1));
}

EpollEventDispatcher *dispatcher()
{
    return qobject_cast<EpollEventDispatcher *>(QAbstractEventDispatcher::instance());
}

// One dispatcher pass, so that a test can state what a single pass does.
bool onePass(QEventLoop::ProcessEventsFlags flags = QEventLoop::AllEvents)
{
    return dispatcher()->processEvents(flags);
}

// A notifier counting its activations. `once` disables it on the first: a
// level-triggered notifier fires on every pass while its fd stays ready.
Notifier counting(int fd, QSocketNotifier::Type type, int *count, bool once = true)
{
    auto notifier = std::make_unique<QSocketNotifier>(fd, type);
    QSocketNotifier *raw = notifier.get();
    QObject::connect(raw, &QSocketNotifier::activated, raw, [raw, count, once] {
        ++*count;
        if (once)
            raw->setEnabled(false);
    });
    return notifier;
}

// Whether some epoll instance of this process watches fd: the kernel lists
// each watched fd as a "tfd:" line in /proc/self/fdinfo/<epoll fd>.
bool epollWatches(int fd)
{
    DIR *dir = ::opendir("/proc/self/fd");
    if (!dir)
        return false;
    bool watched = false;
    const QByteArray wanted = "tfd: " + QByteArray::number(fd) + ' ';
    while (const dirent *entry = ::readdir(dir)) {
        char target[64] = {};
        const QByteArray name(entry->d_name);
        if (::readlinkat(::dirfd(dir), entry->d_name, target, sizeof target - 1) < 0
            || !QByteArrayView(target).contains("eventpoll"))
            continue;
        QFile info(QStringLiteral("/proc/self/fdinfo/") + QString::fromLatin1(name));
        if (!info.open(QIODevice::ReadOnly))
            continue;
        for (const QByteArray &line : info.readAll().split('\n'))
            watched = watched || line.simplified().startsWith(wanted);
    }
    ::closedir(dir);
    return watched;
}

class TimerProbe : public QObject
{
public:
    std::function<void(int)> onTimer;
    QList<int> fired;

protected:
    void timerEvent(QTimerEvent *event) override
    {
        fired.append(event->timerId());
        if (onTimer)
            onTimer(event->timerId());
    }
};

// A worker thread on its own epoll dispatcher, joined on scope exit even when
// a check fails half-way.
class EpollThread : public QThread
{
public:
    EpollThread()
    {
        setEventDispatcher(new EpollEventDispatcher);
        start();
    }
    ~EpollThread() override
    {
        quit();
        wait();
    }
};

enum class Trigger { PeerWrites, None, PeerSendsUrgent, CloseReadEnd, CloseWriteEnd };
enum class Wake { WakeUp, PostEvent, Interrupt, WakeUpWithExcludedSocket };

} // namespace

class TestEpollDispatcher : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase() { QVERIFY(dispatcher()); }

    // Consumes whatever an earlier test left pending (a wake-up, a deferred delete).
    void init()
    {
        for (int i = 0; i < 100 && onePass(); ++i) { }
    }

    // ---- socket notifiers ----

    void notifierFires_data()
    {
        QTest::addColumn<Trigger>("trigger");
        QTest::addColumn<QSocketNotifier::Type>("type");
        QTest::addRow("read: peer writes") << Trigger::PeerWrites << QSocketNotifier::Read;
        QTest::addRow("write: writable") << Trigger::None << QSocketNotifier::Write;
        QTest::addRow("exception: urgent data") << Trigger::PeerSendsUrgent << QSocketNotifier::Exception;
        // These fds can never be readable, resp. writable: only EPOLLERR and
        // EPOLLHUP can wake the notifiers, as they would with poll().
        QTest::addRow("read: error on pipe write end") << Trigger::CloseReadEnd << QSocketNotifier::Read;
        QTest::addRow("write: hang-up on pipe read end") << Trigger::CloseWriteEnd << QSocketNotifier::Write;
    }

    void notifierFires()
    {
        QFETCH(Trigger, trigger);
        QFETCH(QSocketNotifier::Type, type);
        FdPair pair;
        if (trigger == Trigger::PeerSendsUrgent)
            makeTcpPair(&pair);
        else if (trigger == Trigger::CloseReadEnd || trigger == Trigger::CloseWriteEnd)
            QCOMPARE(::pipe2(pair.fd.data(), O_NONBLOCK | O_CLOEXEC), 0);
        else
            makeSocketPair(&pair);
        const int watched = trigger == Trigger::CloseReadEnd ? pair[1] : pair[0];

        QSocketNotifier notifier(watched, type);
        int fired = 0;
        bool triggered = trigger == Trigger::None;
        qintptr firedSocket = -1;
        QSocketNotifier::Type firedType = QSocketNotifier::Read;
        connect(&notifier, &QSocketNotifier::activated, this,
                [&](QSocketDescriptor socket, QSocketNotifier::Type activation) {
                    ++fired;
                    firedSocket = socket;
                    firedType = activation;
                    if (triggered)
                        notifier.setEnabled(false);
                });
        // A write notifier is presumed ready once when enabled; from then on
        // only the kernel wakes it.
        const int presumed = type == QSocketNotifier::Write && !triggered ? 1 : 0;
        if (!triggered) {
            for (int i = 0; i < 3; ++i)
                onePass();
            QCOMPARE(fired, presumed);
        }
        triggered = true;
        switch (trigger) {
        case Trigger::PeerWrites: writeByte(pair[1]); break;
        case Trigger::PeerSendsUrgent: writeByte(pair[1], '!', MSG_OOB); break;
        case Trigger::CloseReadEnd: pair.closeFd(0); break;
        case Trigger::CloseWriteEnd: pair.closeFd(1); break;
        case Trigger::None: break;
        }
        QTRY_COMPARE(fired, presumed + 1);
        QCOMPARE(firedSocket, qintptr(watched));
        QCOMPARE(firedType, type);
    }

    void enableAndDisable()
    {
        FdPair pair;
        makeSocketPair(&pair);
        writeByte(pair[1]);
        int fired = 0;
        const Notifier notifier = counting(pair[0], QSocketNotifier::Read, &fired, false);
        notifier->setEnabled(false);
        for (int i = 0; i < 3; ++i)
            onePass();
        QCOMPARE(fired, 0);

        notifier->setEnabled(true);
        QVERIFY(onePass());
        QVERIFY(onePass()); // level-triggered: still readable
        QCOMPARE(fired, 2);
        char byte = 0;
        QCOMPARE(::read(pair[0], &byte, 1), ssize_t(1));
        onePass();
        QCOMPARE(fired, 2);
    }

    // QAbstractSocket enables its write notifier for each write and disables
    // it once the data is out: that must cost no epoll registration at all.
    void writeNotifierPresumedReady()
    {
        FdPair pair;
        makeSocketPair(&pair);
        int fired = 0;
        const Notifier notifier = counting(pair[0], QSocketNotifier::Write, &fired);
        QVERIFY(onePass());
        QCOMPARE(fired, 1);
        QVERIFY(!epollWatches(pair[0]));

        notifier->setEnabled(true);
        QVERIFY(!epollWatches(pair[0]));
        QVERIFY(onePass());
        QCOMPARE(fired, 2);
    }

    // A write notifier that stays enabled after its presumed activation (the
    // socket was full) is handed to epoll, and fires only once there is room.
    void fullSocketDoesNotSpin()
    {
        FdPair pair;
        makeSocketPair(&pair);
        const std::vector<char> chunk(65536, 'x');
        qint64 queued = 0;
        for (ssize_t n; (n = ::send(pair[0], chunk.data(), chunk.size(), MSG_NOSIGNAL)) > 0;)
            queued += n;
        QCOMPARE(errno, EAGAIN);
        int fired = 0;
        const Notifier notifier = counting(pair[0], QSocketNotifier::Write, &fired, false);
        for (int i = 0; i < 5; ++i)
            onePass();
        QCOMPARE(fired, 1);
        QVERIFY(epollWatches(pair[0]));

        std::vector<char> sink(65536);
        while (queued > 0) {
            const ssize_t n = ::read(pair[1], sink.data(), sink.size());
            QVERIFY(n > 0);
            queued -= n;
        }
        QTRY_VERIFY(fired > 1);
    }

    // --gather-delay: after a short pass that found a socket, the next one first
    // waits, then takes in one pass all that became ready meanwhile: here B, and C,
    // which another thread writes only once B has gone unanswered for 100 ms (without
    // the wait, B's pass answers it at once, and C comes a pass later). Once a pass
    // finds nothing, the loop blocks as usual rather than polling every delay.
    void gatheringTakesWhatCameMeanwhile()
    {
        FdPair a, b, c;
        makeSocketPair(&a);
        makeSocketPair(&b);
        makeSocketPair(&c);
        int firedA = 0, firedB = 0, firedC = 0;
        QSemaphore bSeen;
        const Notifier na = counting(a[0], QSocketNotifier::Read, &firedA);
        const Notifier nb = counting(b[0], QSocketNotifier::Read, &firedB);
        connect(nb.get(), &QSocketNotifier::activated, this, [&] { bSeen.release(); });
        const Notifier nc = counting(c[0], QSocketNotifier::Read, &firedC);
        dispatcher()->setGatherUs(1'000'000);
        const auto off = qScopeGuard([] { dispatcher()->setGatherUs(0); });

        writeByte(a[1]);
        QVERIFY(onePass(QEventLoop::WaitForMoreEvents));
        QCOMPARE(firedA, 1);
        std::thread writer([&] {
            writeByte(b[1]);
            bSeen.tryAcquire(1, 100);
            writeByte(c[1]);
        });
        QVERIFY(onePass(QEventLoop::WaitForMoreEvents));
        writer.join();
        QCOMPARE(firedB, 1);
        QCOMPARE(firedC, 1);

        dispatcher()->setGatherUs(1000);
        int passes = 0;
        const auto counter = connect(dispatcher(), &QAbstractEventDispatcher::awake, this, [&] { ++passes; });
        bool fired = false;
        QTimer::singleShot(200, this, [&] { fired = true; });
        while (!fired)
            onePass(QEventLoop::WaitForMoreEvents);
        disconnect(counter);
        QVERIFY2(passes <= 3, qPrintable(QString::number(passes)));
    }

    // A reply written from a read handler goes out in the same pass.
    void writeEnabledByHandlerFiresSamePass()
    {
        FdPair pair;
        makeSocketPair(&pair);
        writeByte(pair[1]);
        int reads = 0, writes = 0;
        const Notifier read = counting(pair[0], QSocketNotifier::Read, &reads);
        const Notifier write = counting(pair[0], QSocketNotifier::Write, &writes);
        write->setEnabled(false);
        connect(read.get(), &QSocketNotifier::activated, this, [&] { write->setEnabled(true); });
        QVERIFY(onePass());
        QCOMPARE(std::make_pair(reads, writes), std::make_pair(1, 1));
    }

    // Read, Write and Exception on one fd share one epoll registration, which
    // goes through ADD, MOD and DEL as they come and go.
    void severalNotifiersPerFd()
    {
        FdPair pair;
        makeSocketPair(&pair);
        int reads = 0, writes = 0, exceptions = 0, newReads = 0;
        Notifier read = counting(pair[0], QSocketNotifier::Read, &reads, false);
        Notifier write = counting(pair[0], QSocketNotifier::Write, &writes, false);
        Notifier exception = counting(pair[0], QSocketNotifier::Exception, &exceptions, false);
        onePass();
        QCOMPARE(std::make_pair(reads, writes), std::make_pair(0, 1));

        writeByte(pair[1]);
        onePass();
        QCOMPARE(std::make_pair(reads, writes), std::make_pair(1, 2));

        write.reset();
        onePass();
        QCOMPARE(std::make_pair(reads, writes), std::make_pair(2, 2));

        read.reset();
        exception.reset(); // no notifier left on the fd
        const Notifier again = counting(pair[0], QSocketNotifier::Read, &newReads);
        onePass();
        QCOMPARE(newReads, 1);
        QCOMPARE(exceptions, 0);
    }

    void deleteNotifierFromHandler_data()
    {
        QTest::addColumn<bool>("sameFd");
        QTest::addRow("read deletes write of the same fd") << true;
        QTest::addRow("each deletes the other fd's") << false;
    }

    // Both notifiers are ready in the same pass and the first handler deletes
    // the other, which must then not be touched (valgrind would tell).
    void deleteNotifierFromHandler()
    {
        QFETCH(bool, sameFd);
        FdPair first, second;
        makeSocketPair(&first);
        makeSocketPair(&second);
        writeByte(first[1]);
        writeByte(second[1]);
        std::array<int, 2> fired{0, 0};
        std::array<Notifier, 2> notifiers;
        notifiers[0] = counting(first[0], QSocketNotifier::Read, &fired[0]);
        notifiers[1] = sameFd ? counting(first[0], QSocketNotifier::Write, &fired[1])
                              : counting(second[0], QSocketNotifier::Read, &fired[1]);
        for (int i = 0; i < 2; ++i) {
            connect(notifiers[i].get(), &QSocketNotifier::activated, this,
                    [&notifiers, i] { notifiers[1 - i].reset(); });
        }
        onePass();
        QCOMPARE(fired[0] + fired[1], 1);
        if (sameFd)
            QCOMPARE(fired[0], 1); // Read is dispatched before Write
        onePass();
        QCOMPARE(fired[0] + fired[1], 1);
    }

    // A handler closes another ready socket and opens a new one, which gets
    // the same fd number: the new notifier must not inherit the old socket's
    // readiness from this pass. A notifier registered from a handler on a
    // really ready fd fires in a later pass.
    void notifierRegisteredDuringDispatch()
    {
        std::array<std::unique_ptr<FdPair>, 2> pairs{std::make_unique<FdPair>(),
                                                     std::make_unique<FdPair>()};
        FdPair ready, reused;
        for (FdPair *pair : {pairs[0].get(), pairs[1].get(), &ready}) {
            makeSocketPair(pair);
            writeByte(pair->fd[1]);
        }
        int fired = 0, reusedFired = 0, readyFired = 0, oldFd = -1;
        std::array<Notifier, 2> notifiers;
        Notifier onReused, onReady;
        for (int i = 0; i < 2; ++i) {
            notifiers[i] = counting(pairs[i]->fd[0], QSocketNotifier::Read, &fired);
            connect(notifiers[i].get(), &QSocketNotifier::activated, this, [&, i] {
                if (onReused)
                    return;
                oldFd = pairs[1 - i]->fd[0];
                notifiers[1 - i].reset();
                pairs[1 - i].reset();
                makeSocketPair(&reused);
                onReused = counting(reused[0], QSocketNotifier::Read, &reusedFired);
                onReady = counting(ready[0], QSocketNotifier::Read, &readyFired);
            });
        }
        onePass();
        QVERIFY(onReused);
        QVERIFY2(reused[0] == oldFd || reused[1] == oldFd, "the fd number was not reused");
        QTRY_COMPARE(readyFired, 1);
        for (int i = 0; i < 3; ++i)
            onePass();
        QCOMPARE(reusedFired, 0);
        QCOMPARE(fired, 1);
    }

    // ---- timers ----

    void timerTypes_data()
    {
        QTest::addColumn<Qt::TimerType>("type");
        QTest::addColumn<int>("interval");
        QTest::addColumn<bool>("singleShot");
        QTest::addRow("precise 0, single") << Qt::PreciseTimer << 0 << true;
        QTest::addRow("precise 5, single") << Qt::PreciseTimer << 5 << true;
        QTest::addRow("coarse 0, single") << Qt::CoarseTimer << 0 << true;
        QTest::addRow("coarse 30, single") << Qt::CoarseTimer << 30 << true;
        QTest::addRow("very coarse 0, single") << Qt::VeryCoarseTimer << 0 << true;
        QTest::addRow("very coarse 400, single") << Qt::VeryCoarseTimer << 400 << true;
        QTest::addRow("precise 1, repeating") << Qt::PreciseTimer << 1 << false;
        QTest::addRow("coarse 25, repeating") << Qt::CoarseTimer << 25 << false;
        QTest::addRow("very coarse 1000, repeating") << Qt::VeryCoarseTimer << 1000 << false;
    }

    void timerTypes()
    {
        QFETCH(Qt::TimerType, type);
        QFETCH(int, interval);
        QFETCH(bool, singleShot);
        int fired = 0;
        QTimer timer;
        timer.setSingleShot(singleShot);
        timer.setTimerType(type);
        connect(&timer, &QTimer::timeout, this, [&] { ++fired; });
        timer.start(interval);
        QTRY_VERIFY_WITH_TIMEOUT(fired >= (singleShot ? 1 : 3), 10000);
        QCOMPARE(timer.isActive(), !singleShot);
        if (!singleShot)
            return;
        // A later timer firing shows that the first did not fire again.
        bool later = false;
        QTimer::singleShot(interval + 1, type, this, [&] { later = true; });
        QTRY_VERIFY(later);
        QCOMPARE(fired, 1);
    }

    void zeroTimerFiresOncePerPass()
    {
        int fired = 0;
        QTimer timer;
        connect(&timer, &QTimer::timeout, this, [&] { ++fired; });
        timer.start(0);
        onePass();
        QCOMPARE(fired, 1);
        onePass();
        QCOMPARE(fired, 2);
    }

    void zeroTimerFiresBeforeLaterTimer()
    {
        QStringList order;
        QTimer::singleShot(50, this, [&] { order << QStringLiteral("50 ms"); });
        QTimer::singleShot(0, this, [&] { order << QStringLiteral("0 ms"); });
        QTRY_COMPARE(order.size(), 2);
        QCOMPARE(order, QStringList({QStringLiteral("0 ms"), QStringLiteral("50 ms")}));
    }

    void zeroTimerDoesNotStarve()
    {
        int spins = 0, socketFired = 0;
        bool posted = false;
        QTimer busy;
        connect(&busy, &QTimer::timeout, this, [&] { ++spins; });
        busy.start(0);
        FdPair pair;
        makeSocketPair(&pair);
        const Notifier notifier = counting(pair[0], QSocketNotifier::Read, &socketFired);
        writeByte(pair[1]);
        QMetaObject::invokeMethod(this, [&] { posted = true; }, Qt::QueuedConnection);
        QTRY_VERIFY(socketFired == 1 && posted);
        QVERIFY(spins > 0);
    }

    void remainingTime()
    {
        QTimer timer, zero;
        timer.start(60000);
        zero.start(0);
        const int remaining = dispatcher()->remainingTime(timer.timerId());
        QVERIFY2(remaining > 0 && remaining <= 60000, QByteArray::number(remaining).constData());
        QCOMPARE(dispatcher()->remainingTime(zero.timerId()), 0);
        const int id = timer.timerId();
        timer.stop();
        QCOMPARE(dispatcher()->remainingTime(id), -1);
    }

    void registeredTimers_data()
    {
        QTest::addColumn<Qt::TimerType>("type");
        QTest::addColumn<int>("interval");
        QTest::addColumn<int>("reported");
        QTest::addRow("precise 100") << Qt::PreciseTimer << 100 << 100;
        QTest::addRow("coarse 250") << Qt::CoarseTimer << 250 << 250;
        QTest::addRow("very coarse 2500 rounds up") << Qt::VeryCoarseTimer << 2500 << 3000;
        QTest::addRow("very coarse 1499 rounds down") << Qt::VeryCoarseTimer << 1499 << 1000;
        QTest::addRow("very coarse 300 keeps 1 s") << Qt::VeryCoarseTimer << 300 << 1000;
        QTest::addRow("very coarse 0") << Qt::VeryCoarseTimer << 0 << 0;
    }

    void registeredTimers()
    {
        QFETCH(Qt::TimerType, type);
        QFETCH(int, interval);
        QFETCH(int, reported);
        QObject object, other;
        const int id = object.startTimer(interval, type);
        other.startTimer(5000);
        const auto timers = dispatcher()->registeredTimers(&object);
        QCOMPARE(timers.size(), 1);
        QCOMPARE(timers[0].timerId, id);
        QCOMPARE(timers[0].interval, reported);
        QCOMPARE(timers[0].timerType, type);
        object.killTimer(id);
        QVERIFY(dispatcher()->registeredTimers(&object).isEmpty());
        QCOMPARE(dispatcher()->registeredTimers(&other).size(), 1);
    }

    void timersRemovedWithObject()
    {
        auto *object = new QObject;
        QObject survivor;
        const QList<int> ids = {object->startTimer(0), object->startTimer(10), object->startTimer(5000)};
        survivor.startTimer(5000);
        delete object;
        for (int id : ids)
            QCOMPARE(dispatcher()->remainingTime(id), -1);
        QCOMPARE(dispatcher()->registeredTimers(&survivor).size(), 1);
        onePass(); // the deleted object's zero timer must not fire
    }

    // Both are due in the same pass; the older one kills both.
    void killTimerInsideTimerEvent()
    {
        TimerProbe first, second;
        const int firstId = first.startTimer(0);
        const int secondId = second.startTimer(0);
        first.onTimer = [&](int id) {
            first.killTimer(id);
            second.killTimer(secondId);
        };
        onePass();
        onePass();
        QCOMPARE(first.fired, QList<int>{firstId});
        QVERIFY(second.fired.isEmpty());
    }

    // QTimer::start() from its own timeout kills the timer and registers one,
    // often under the same id: it must fire in the next pass, not in this one.
    void restartInsideTimeout()
    {
        int fired = 0;
        QTimer timer;
        timer.setSingleShot(true);
        connect(&timer, &QTimer::timeout, this, [&] {
            if (++fired < 3)
                timer.start(0);
        });
        timer.start(0);
        for (int pass = 1; pass <= 3; ++pass) {
            onePass();
            QCOMPARE(fired, pass);
        }
        onePass();
        QCOMPARE(fired, 3);
    }

    void nestedLoopDoesNotReenterTimer()
    {
        int shots = 0, depth = 0, maxDepth = 0, innerShots = 0;
        QTimer timer;
        connect(&timer, &QTimer::timeout, this, [&] {
            maxDepth = std::max(maxDepth, ++depth);
            if (++shots == 1) {
                QEventLoop loop;
                QTimer inner;
                connect(&inner, &QTimer::timeout, &loop, [&] {
                    if (++innerShots == 5)
                        loop.quit();
                });
                inner.start(0);
                loop.exec();
            }
            --depth;
        });
        timer.start(0);
        QTRY_VERIFY(shots >= 3);
        QCOMPARE(innerShots, 5);
        QCOMPARE(maxDepth, 1);
    }

    // ---- loop control and threads ----

    void postedEventsAndDeleteLater()
    {
        bool called = false;
        QMetaObject::invokeMethod(this, [&] { called = true; }, Qt::QueuedConnection);
        QTRY_VERIFY(called);

        // QTest::qWait() sends deferred deletes itself, so use a real loop.
        QEventLoop loop;
        QPointer<QObject> doomed = new QObject;
        connect(doomed.data(), &QObject::destroyed, &loop, &QEventLoop::quit);
        QTimer failsafe;
        connect(&failsafe, &QTimer::timeout, &loop, &QEventLoop::quit);
        failsafe.start(10000);
        doomed->deleteLater();
        loop.exec();
        QVERIFY(doomed.isNull());
    }

    void wakeUpFromThread_data()
    {
        QTest::addColumn<Wake>("wake");
        QTest::addRow("wakeUp") << Wake::WakeUp;
        QTest::addRow("post to main thread") << Wake::PostEvent;
        QTest::addRow("interrupt") << Wake::Interrupt;
        QTest::addRow("wakeUp, readable socket excluded") << Wake::WakeUpWithExcludedSocket;
    }

    // processEvents(WaitForMoreEvents) blocks until another thread wakes it:
    // the helper waits for aboutToBlock, then wakes; exactly one call returns.
    void wakeUpFromThread()
    {
        QFETCH(Wake, wake);
        EpollEventDispatcher *d = dispatcher();
        QEventLoop::ProcessEventsFlags flags = QEventLoop::WaitForMoreEvents;
        FdPair pair;
        Notifier excluded;
        int excludedFired = 0;
        if (wake == Wake::WakeUpWithExcludedSocket) {
            makeSocketPair(&pair);
            writeByte(pair[1]);
            excluded = counting(pair[0], QSocketNotifier::Read, &excludedFired);
            flags |= QEventLoop::ExcludeSocketNotifiers;
        }
        QSemaphore blocking;
        std::atomic<bool> woken{false};
        bool delivered = false, timedOut = false;
        const auto handshake = connect(d, &QAbstractEventDispatcher::aboutToBlock, this,
                                       [&] { blocking.release(); }, Qt::DirectConnection);
        QTimer failsafe;
        connect(&failsafe, &QTimer::timeout, this, [&] { timedOut = true; });
        failsafe.start(10000);
        std::unique_ptr<QThread> helper(QThread::create([&] {
            blocking.acquire();
            woken = true;
            if (wake == Wake::PostEvent)
                QMetaObject::invokeMethod(this, [&] { delivered = true; }, Qt::QueuedConnection);
            else if (wake == Wake::Interrupt)
                d->interrupt();
            else
                d->wakeUp();
        }));
        helper->start();

        int calls = 0;
        do {
            ++calls;
            d->processEvents(flags);
        } while (!woken && !timedOut);
        disconnect(handshake);
        QVERIFY(helper->wait(10000));
        QVERIFY(!timedOut);
        QCOMPARE(calls, 1);
        QCOMPARE(excludedFired, 0);
        if (wake == Wake::PostEvent)
            QTRY_VERIFY(delivered);
        if (excluded)
            QTRY_COMPARE(excludedFired, 1);
    }

    void exitLoopFromTimer()
    {
        QTimer busy; // a zero timer must not keep the loop from exiting
        busy.start(0);
        QEventLoop loop;
        QTimer::singleShot(5, &loop, [&] { loop.exit(42); });
        QCOMPARE(loop.exec(), 42);
    }

    void interruptEndsPass_data()
    {
        QTest::addColumn<bool>("sockets");
        QTest::addRow("timers") << false;
        QTest::addRow("sockets") << true;
    }

    // interrupt() from a handler ends the pass: the other ready source waits
    // for the next one.
    void interruptEndsPass()
    {
        QFETCH(bool, sockets);
        int fired = 0;
        const auto interrupt = [] { dispatcher()->interrupt(); };
        std::array<FdPair, 2> pairs;
        std::array<Notifier, 2> notifiers;
        std::array<QTimer, 2> timers;
        for (int i = 0; i < 2; ++i) {
            if (sockets) {
                makeSocketPair(&pairs[i]);
                writeByte(pairs[i][1]);
                notifiers[i] = counting(pairs[i][0], QSocketNotifier::Read, &fired);
                connect(notifiers[i].get(), &QSocketNotifier::activated, this, interrupt);
            } else {
                timers[i].setSingleShot(true);
                connect(&timers[i], &QTimer::timeout, this, [&] { ++fired; });
                connect(&timers[i], &QTimer::timeout, this, interrupt);
                timers[i].start(0);
            }
        }
        onePass();
        QCOMPARE(fired, 1);
        onePass();
        QCOMPARE(fired, 2);
    }

    void excludeFlags_data()
    {
        QTest::addColumn<bool>("sockets");
        QTest::addRow("ExcludeSocketNotifiers") << true;
        QTest::addRow("X11ExcludeTimers") << false;
    }

    void excludeFlags()
    {
        QFETCH(bool, sockets);
        int fired = 0;
        FdPair pair;
        Notifier notifier;
        QTimer timer;
        if (sockets) {
            makeSocketPair(&pair);
            writeByte(pair[1]);
            notifier = counting(pair[0], QSocketNotifier::Read, &fired);
        } else {
            timer.setSingleShot(true);
            connect(&timer, &QTimer::timeout, this, [&] { ++fired; });
            timer.start(0);
        }
        const auto excluded = sockets ? QEventLoop::ExcludeSocketNotifiers : QEventLoop::X11ExcludeTimers;
        for (int i = 0; i < 3; ++i)
            QVERIFY(!onePass(excluded));
        QCOMPARE(fired, 0);
        onePass();
        QCOMPARE(fired, 1);
    }

    void workerThread()
    {
        FdPair pair;
        makeSocketPair(&pair);
        std::atomic<bool> onEpoll{false}, timerFired{false}, socketFired{false}, shotsOnWorker{true};
        std::atomic<int> shots{0};
        bool reported = false;
        EpollThread thread;
        auto *context = new QObject;
        context->moveToThread(&thread);
        QMetaObject::invokeMethod(context, [&, context] {
            onEpoll = dispatcher() != nullptr;
            QTimer::singleShot(1, context, [&] { timerFired = true; });
            auto *notifier = new QSocketNotifier(pair[0], QSocketNotifier::Read, context);
            connect(notifier, &QSocketNotifier::activated, context, [&, notifier] {
                notifier->setEnabled(false);
                socketFired = true;
                // Posting back wakes the main thread's dispatcher from this one.
                QMetaObject::invokeMethod(this, [&] { reported = true; }, Qt::QueuedConnection);
            });
        }, Qt::QueuedConnection);
        writeByte(pair[1]);
        QTRY_VERIFY(onEpoll && timerFired && socketFired);
        QTRY_VERIFY(reported);

        // moveToThread() carries a running timer over through registeredTimers().
        auto *timer = new QTimer;
        connect(timer, &QTimer::timeout, timer, [&] {
            ++shots;
            shotsOnWorker = shotsOnWorker && QThread::currentThread() == &thread;
        });
        timer->start(1);
        timer->moveToThread(&thread);
        QTRY_VERIFY(shots >= 3);
        QVERIFY(shotsOnWorker);
        timer->deleteLater();
        context->deleteLater();
    }

    void tcpEcho_data()
    {
        QTest::addColumn<int>("connections");
        QTest::addRow("1 connection") << 1;
        QTest::addRow("300 connections") << 300;
    }

    // Server on a worker thread, clients on the main thread, both on epoll.
    void tcpEcho()
    {
        QFETCH(int, connections);
        EpollThread thread;
        auto *server = new QTcpServer;
        server->moveToThread(&thread);
        quint16 port = 0;
        QMetaObject::invokeMethod(server, [server, &port] {
            QObject::connect(server, &QTcpServer::newConnection, server, [server] {
                while (QTcpSocket *socket = server->nextPendingConnection()) {
                    QObject::connect(socket, &QTcpSocket::readyRead, socket,
                                     [socket] { socket->write(socket->readAll()); });
                    QObject::connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
                }
            });
            server->setListenBacklogSize(1024);
            if (server->listen(QHostAddress::LocalHost, 0))
                port = server->serverPort();
        }, Qt::BlockingQueuedConnection);
        QVERIFY(port != 0);

        int echoed = 0;
        {
            QObject clients;
            for (int i = 0; i < connections; ++i) {
                auto *socket = new QTcpSocket(&clients);
                const QByteArray message = "ping " + QByteArray::number(i) + '\n';
                auto received = std::make_shared<QByteArray>();
                connect(socket, &QTcpSocket::connected, socket, [socket, message] { socket->write(message); });
                connect(socket, &QTcpSocket::readyRead, socket, [socket, message, received, &echoed] {
                    received->append(socket->readAll());
                    if (*received == message)
                        ++echoed;
                });
                socket->connectToHost(QHostAddress::LocalHost, port);
            }
            QTRY_COMPARE_WITH_TIMEOUT(echoed, connections, 60000);
        }
        server->deleteLater();
    }
};

int main(int argc, char **argv)
{
    // Installed before QCoreApplication exists, as the daemon does.
    QCoreApplication::setEventDispatcher(new EpollEventDispatcher);
    QCoreApplication app(argc, argv);
    TestEpollDispatcher test;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&test, argc, argv);
}

#include "tst_epolldispatcher.moc"
