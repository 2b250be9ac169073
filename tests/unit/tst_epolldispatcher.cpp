// EpollEventDispatcher: socket notifiers, timers, posted events, cross-thread
// wake-ups and a TCP echo, all with the dispatcher installed for the main
// thread before QCoreApplication exists, the way the daemon installs it.
#include <QCoreApplication>
#include <QPointer>
#include <QSemaphore>
#include <QSocketNotifier>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>
#include <QThread>
#include <QTimer>

#include <array>
#include <atomic>
#include <functional>
#include <memory>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "EpollEventDispatcher.h"

using ws2api::EpollEventDispatcher;

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

void makePipe(FdPair *pair)
{
    QCOMPARE(::pipe2(pair->fd.data(), O_NONBLOCK | O_CLOEXEC), 0);
}

// Loopback TCP, for urgent (out-of-band) data, which raises EPOLLPRI.
void makeTcpPair(FdPair *pair)
{
    const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    QVERIFY(listener >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    const bool listening = ::bind(listener, reinterpret_cast<sockaddr *>(&address), length) == 0
            && ::listen(listener, 1) == 0
            && ::getsockname(listener, reinterpret_cast<sockaddr *>(&address), &length) == 0;
    pair->fd[0] = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const bool connected = listening
            && ::connect(pair->fd[0], reinterpret_cast<sockaddr *>(&address), length) == 0;
    pair->fd[1] = connected ? ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC) : -1;
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

// One dispatcher pass, so that tests can state what a single pass does.
bool onePass(QEventLoop::ProcessEventsFlags flags = QEventLoop::AllEvents)
{
    return dispatcher()->processEvents(flags);
}

// Consumes whatever an earlier test left pending (a wake-up, a deferred delete).
void drainPending()
{
    for (int i = 0; i < 100 && onePass(); ++i) { }
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
    void init() { drainPending(); }

    void notifierFires_data();
    void notifierFires();
    void enableAndDisable();
    void severalNotifiersPerFd();
    void deleteNotifierFromHandler_data();
    void deleteNotifierFromHandler();
    void notifierRegisteredDuringDispatch();

    void singleShot_data();
    void singleShot();
    void repeating_data();
    void repeating();
    void zeroTimerFiresOncePerPass();
    void zeroTimerFiresBeforeLaterTimer();
    void zeroTimerDoesNotStarve();
    void remainingTime();
    void registeredTimers_data();
    void registeredTimers();
    void timersRemovedWithObject();
    void killTimerInsideTimerEvent();
    void restartInsideTimeout();
    void nestedLoopDoesNotReenterTimer();

    void postedEventsAndDeleteLater();
    void wakeUpFromThread_data();
    void wakeUpFromThread();
    void exitLoopFromTimer();
    void interruptEndsPass_data();
    void interruptEndsPass();
    void excludeFlags_data();
    void excludeFlags();
    void workerThread();
    void tcpEcho_data();
    void tcpEcho();
};

// ---- socket notifiers ----

void TestEpollDispatcher::notifierFires_data()
{
    QTest::addColumn<Trigger>("trigger");
    QTest::addColumn<QSocketNotifier::Type>("type");
    QTest::addRow("read: peer writes") << Trigger::PeerWrites << QSocketNotifier::Read;
    QTest::addRow("write: socket writable") << Trigger::None << QSocketNotifier::Write;
    QTest::addRow("exception: urgent data") << Trigger::PeerSendsUrgent << QSocketNotifier::Exception;
    // Neither fd can ever be readable or writable: only EPOLLERR / EPOLLHUP
    // can wake these, as poll() would.
    QTest::addRow("read: error on pipe write end") << Trigger::CloseReadEnd << QSocketNotifier::Read;
    QTest::addRow("write: hang-up on pipe read end") << Trigger::CloseWriteEnd << QSocketNotifier::Write;
}

void TestEpollDispatcher::notifierFires()
{
    QFETCH(Trigger, trigger);
    QFETCH(QSocketNotifier::Type, type);
    FdPair pair;
    if (trigger == Trigger::PeerSendsUrgent)
        makeTcpPair(&pair);
    else if (trigger == Trigger::CloseReadEnd || trigger == Trigger::CloseWriteEnd)
        makePipe(&pair);
    else
        makeSocketPair(&pair);
    const int watched = trigger == Trigger::CloseReadEnd ? pair[1] : pair[0];

    QSocketNotifier notifier(watched, type);
    int fired = 0;
    qintptr firedSocket = -1;
    QSocketNotifier::Type firedType = QSocketNotifier::Read;
    connect(&notifier, &QSocketNotifier::activated, this,
            [&](QSocketDescriptor socket, QSocketNotifier::Type activation) {
                ++fired;
                firedSocket = socket;
                firedType = activation;
                notifier.setEnabled(false); // level-triggered: it would fire every pass
            });

    if (trigger != Trigger::None) {
        for (int i = 0; i < 3; ++i)
            onePass();
        QCOMPARE(fired, 0);
    }
    switch (trigger) {
    case Trigger::PeerWrites: writeByte(pair[1]); break;
    case Trigger::PeerSendsUrgent: writeByte(pair[1], '!', MSG_OOB); break;
    case Trigger::CloseReadEnd: pair.closeFd(0); break;
    case Trigger::CloseWriteEnd: pair.closeFd(1); break;
    case Trigger::None: break;
    }
    QTRY_COMPARE(fired, 1);
    QCOMPARE(firedSocket, qintptr(watched));
    QCOMPARE(firedType, type);
}

void TestEpollDispatcher::enableAndDisable()
{
    FdPair pair;
    makeSocketPair(&pair);
    writeByte(pair[1]);
    QSocketNotifier notifier(pair[0], QSocketNotifier::Read);
    int fired = 0;
    connect(&notifier, &QSocketNotifier::activated, this, [&] { ++fired; });

    notifier.setEnabled(false);
    for (int i = 0; i < 3; ++i)
        onePass();
    QCOMPARE(fired, 0);

    notifier.setEnabled(true);
    QVERIFY(onePass());
    QCOMPARE(fired, 1);
    QVERIFY(onePass()); // still readable: level-triggered
    QCOMPARE(fired, 2);

    char byte = 0;
    QCOMPARE(::read(pair[0], &byte, 1), ssize_t(1));
    onePass();
    QCOMPARE(fired, 2);
}

// Read, Write and Exception on one fd share one epoll registration; adding and
// removing them goes through ADD, MOD and DEL.
void TestEpollDispatcher::severalNotifiersPerFd()
{
    FdPair pair;
    makeSocketPair(&pair);
    auto read = std::make_unique<QSocketNotifier>(pair[0], QSocketNotifier::Read);
    auto write = std::make_unique<QSocketNotifier>(pair[0], QSocketNotifier::Write);
    auto exception = std::make_unique<QSocketNotifier>(pair[0], QSocketNotifier::Exception);
    int reads = 0, writes = 0, exceptions = 0;
    connect(read.get(), &QSocketNotifier::activated, this, [&] { ++reads; });
    connect(write.get(), &QSocketNotifier::activated, this, [&] { ++writes; });
    connect(exception.get(), &QSocketNotifier::activated, this, [&] { ++exceptions; });

    onePass();
    QCOMPARE(reads, 0);
    QCOMPARE(writes, 1);

    writeByte(pair[1]);
    onePass();
    QCOMPARE(reads, 1);
    QCOMPARE(writes, 2);

    write.reset();
    onePass();
    QCOMPARE(reads, 2);
    QCOMPARE(writes, 2);

    read.reset();
    exception.reset(); // the fd has no notifier left
    int newReads = 0;
    QSocketNotifier again(pair[0], QSocketNotifier::Read);
    connect(&again, &QSocketNotifier::activated, this, [&] { ++newReads; });
    onePass();
    QCOMPARE(newReads, 1);
    QCOMPARE(exceptions, 0);
}

void TestEpollDispatcher::deleteNotifierFromHandler_data()
{
    QTest::addColumn<bool>("sameFd");
    QTest::addRow("read deletes write of the same fd") << true;
    QTest::addRow("each deletes the other fd's") << false;
}

// Both notifiers are ready in the same pass; the first handler deletes the
// other, which then must not be touched (valgrind would see it).
void TestEpollDispatcher::deleteNotifierFromHandler()
{
    QFETCH(bool, sameFd);
    FdPair first, second;
    makeSocketPair(&first);
    makeSocketPair(&second);
    writeByte(first[1]);
    writeByte(second[1]);

    std::array<std::unique_ptr<QSocketNotifier>, 2> notifiers;
    notifiers[0] = std::make_unique<QSocketNotifier>(first[0], QSocketNotifier::Read);
    notifiers[1] = sameFd ? std::make_unique<QSocketNotifier>(first[0], QSocketNotifier::Write)
                          : std::make_unique<QSocketNotifier>(second[0], QSocketNotifier::Read);
    std::array<int, 2> fired{0, 0};
    for (int i = 0; i < 2; ++i) {
        connect(notifiers[i].get(), &QSocketNotifier::activated, this, [&, i] {
            ++fired[i];
            notifiers[1 - i].reset();
            notifiers[i]->setEnabled(false);
        });
    }

    onePass();
    QCOMPARE(fired[0] + fired[1], 1);
    if (sameFd)
        QCOMPARE(fired[0], 1); // Read is dispatched before Write
    onePass();
    QCOMPARE(fired[0] + fired[1], 1);
}

// A handler closes another ready socket and opens a new one, which gets the
// same fd number: the new notifier must not inherit the old socket's
// readiness from the current pass, while a notifier on a really ready fd
// registered from a handler fires in a later pass.
void TestEpollDispatcher::notifierRegisteredDuringDispatch()
{
    auto first = std::make_unique<FdPair>(), second = std::make_unique<FdPair>();
    makeSocketPair(first.get());
    makeSocketPair(second.get());
    FdPair ready, reused;
    makeSocketPair(&ready);
    writeByte(first->fd[1]);
    writeByte(second->fd[1]);
    writeByte(ready[1]);

    std::array<std::unique_ptr<QSocketNotifier>, 2> notifiers;
    notifiers[0] = std::make_unique<QSocketNotifier>(first->fd[0], QSocketNotifier::Read);
    notifiers[1] = std::make_unique<QSocketNotifier>(second->fd[0], QSocketNotifier::Read);
    std::unique_ptr<QSocketNotifier> onReused, onReady;
    int reusedFired = 0, readyFired = 0, oldFd = -1;
    for (int i = 0; i < 2; ++i) {
        connect(notifiers[i].get(), &QSocketNotifier::activated, this, [&, i] {
            notifiers[i]->setEnabled(false);
            if (onReused)
                return;
            oldFd = int(notifiers[1 - i]->socket());
            notifiers[1 - i].reset();
            (i == 0 ? second : first).reset();
            makeSocketPair(&reused);
            onReused = std::make_unique<QSocketNotifier>(reused[0], QSocketNotifier::Read);
            connect(onReused.get(), &QSocketNotifier::activated, this, [&] { ++reusedFired; });
            onReady = std::make_unique<QSocketNotifier>(ready[0], QSocketNotifier::Read);
            connect(onReady.get(), &QSocketNotifier::activated, this, [&] {
                ++readyFired;
                onReady->setEnabled(false);
            });
        });
    }

    onePass();
    QVERIFY(onReused);
    QVERIFY2(reused[0] == oldFd || reused[1] == oldFd, "the fd number was not reused");
    QTRY_COMPARE(readyFired, 1);
    for (int i = 0; i < 3; ++i)
        onePass();
    QCOMPARE(reusedFired, 0);
}

// ---- timers ----

void TestEpollDispatcher::singleShot_data()
{
    QTest::addColumn<Qt::TimerType>("type");
    QTest::addColumn<int>("interval");
    QTest::addRow("precise 0") << Qt::PreciseTimer << 0;
    QTest::addRow("precise 5") << Qt::PreciseTimer << 5;
    QTest::addRow("coarse 0") << Qt::CoarseTimer << 0;
    QTest::addRow("coarse 30") << Qt::CoarseTimer << 30;
    QTest::addRow("very coarse 0") << Qt::VeryCoarseTimer << 0;
    QTest::addRow("very coarse 400") << Qt::VeryCoarseTimer << 400;
}

void TestEpollDispatcher::singleShot()
{
    QFETCH(Qt::TimerType, type);
    QFETCH(int, interval);
    int fired = 0;
    QTimer timer;
    timer.setSingleShot(true);
    timer.setTimerType(type);
    connect(&timer, &QTimer::timeout, this, [&] { ++fired; });
    timer.start(interval);
    QTRY_COMPARE(fired, 1);
    QVERIFY(!timer.isActive());
    // A later timer firing shows the first did not fire again meanwhile.
    bool later = false;
    QTimer::singleShot(interval + 1, type, this, [&] { later = true; });
    QTRY_VERIFY(later);
    QCOMPARE(fired, 1);
}

void TestEpollDispatcher::repeating_data()
{
    QTest::addColumn<Qt::TimerType>("type");
    QTest::addColumn<int>("interval");
    QTest::addRow("precise") << Qt::PreciseTimer << 1;
    QTest::addRow("coarse") << Qt::CoarseTimer << 25;
    QTest::addRow("very coarse") << Qt::VeryCoarseTimer << 1000;
}

void TestEpollDispatcher::repeating()
{
    QFETCH(Qt::TimerType, type);
    QFETCH(int, interval);
    int fired = 0;
    QTimer timer;
    timer.setTimerType(type);
    connect(&timer, &QTimer::timeout, this, [&] { ++fired; });
    timer.start(interval);
    QTRY_VERIFY_WITH_TIMEOUT(fired >= 3, 10000);
    QVERIFY(timer.isActive());
}

void TestEpollDispatcher::zeroTimerFiresOncePerPass()
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

void TestEpollDispatcher::zeroTimerFiresBeforeLaterTimer()
{
    QStringList order;
    QTimer::singleShot(50, this, [&] { order << QStringLiteral("50 ms"); });
    QTimer::singleShot(0, this, [&] { order << QStringLiteral("0 ms"); });
    QTRY_COMPARE(order.size(), 2);
    QCOMPARE(order, QStringList({QStringLiteral("0 ms"), QStringLiteral("50 ms")}));
}

void TestEpollDispatcher::zeroTimerDoesNotStarve()
{
    int spins = 0;
    QTimer busy;
    connect(&busy, &QTimer::timeout, this, [&] { ++spins; });
    busy.start(0);

    FdPair pair;
    makeSocketPair(&pair);
    QSocketNotifier notifier(pair[0], QSocketNotifier::Read);
    bool socketFired = false, posted = false;
    connect(&notifier, &QSocketNotifier::activated, this, [&] {
        socketFired = true;
        notifier.setEnabled(false);
    });
    writeByte(pair[1]);
    QMetaObject::invokeMethod(this, [&] { posted = true; }, Qt::QueuedConnection);
    QTRY_VERIFY(socketFired && posted);
    QVERIFY(spins > 0);
}

void TestEpollDispatcher::remainingTime()
{
    QTimer timer;
    timer.start(60000);
    const int remaining = dispatcher()->remainingTime(timer.timerId());
    QVERIFY2(remaining > 0 && remaining <= 60000, QByteArray::number(remaining).constData());

    QTimer zero;
    zero.start(0);
    QCOMPARE(dispatcher()->remainingTime(zero.timerId()), 0);

    const int id = timer.timerId();
    timer.stop();
    QCOMPARE(dispatcher()->remainingTime(id), -1);
}

void TestEpollDispatcher::registeredTimers_data()
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

void TestEpollDispatcher::registeredTimers()
{
    QFETCH(Qt::TimerType, type);
    QFETCH(int, interval);
    QFETCH(int, reported);
    QObject object, other;
    const int id = object.startTimer(interval, type);
    other.startTimer(5000);
    QVERIFY(id > 0);

    const auto timers = dispatcher()->registeredTimers(&object);
    QCOMPARE(timers.size(), 1);
    QCOMPARE(timers[0].timerId, id);
    QCOMPARE(timers[0].interval, reported);
    QCOMPARE(timers[0].timerType, type);

    object.killTimer(id);
    QVERIFY(dispatcher()->registeredTimers(&object).isEmpty());
    QCOMPARE(dispatcher()->registeredTimers(&other).size(), 1);
}

void TestEpollDispatcher::timersRemovedWithObject()
{
    auto *object = new QObject;
    QObject survivor;
    const QList<int> ids = {object->startTimer(0), object->startTimer(10), object->startTimer(5000)};
    survivor.startTimer(5000);
    delete object;
    for (int id : ids)
        QCOMPARE(dispatcher()->remainingTime(id), -1);
    QCOMPARE(dispatcher()->registeredTimers(&survivor).size(), 1);
    onePass(); // a deleted object's zero timer must not fire
}

void TestEpollDispatcher::killTimerInsideTimerEvent()
{
    TimerProbe first, second;
    const int firstId = first.startTimer(0);
    const int secondId = second.startTimer(0);
    // Both are due in the same pass; the first (older) one kills both.
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
// often under the same id: it must fire in the next pass, not again now.
void TestEpollDispatcher::restartInsideTimeout()
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

void TestEpollDispatcher::nestedLoopDoesNotReenterTimer()
{
    int shots = 0, depth = 0, maxDepth = 0, innerShots = 0;
    QTimer timer;
    connect(&timer, &QTimer::timeout, this, [&] {
        ++shots;
        maxDepth = std::max(maxDepth, ++depth);
        if (shots == 1) {
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

// ---- loop control ----

void TestEpollDispatcher::postedEventsAndDeleteLater()
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

void TestEpollDispatcher::wakeUpFromThread_data()
{
    QTest::addColumn<Wake>("wake");
    QTest::addRow("wakeUp") << Wake::WakeUp;
    QTest::addRow("post to main thread") << Wake::PostEvent;
    QTest::addRow("interrupt") << Wake::Interrupt;
    QTest::addRow("wakeUp, readable socket excluded") << Wake::WakeUpWithExcludedSocket;
}

// processEvents(WaitForMoreEvents) blocks until another thread wakes it: the
// helper waits for aboutToBlock, then wakes; exactly one call returns.
void TestEpollDispatcher::wakeUpFromThread()
{
    QFETCH(Wake, wake);
    EpollEventDispatcher *d = dispatcher();
    QEventLoop::ProcessEventsFlags flags = QEventLoop::WaitForMoreEvents;
    FdPair pair;
    std::unique_ptr<QSocketNotifier> excluded;
    bool excludedFired = false;
    if (wake == Wake::WakeUpWithExcludedSocket) {
        makeSocketPair(&pair);
        writeByte(pair[1]);
        excluded = std::make_unique<QSocketNotifier>(pair[0], QSocketNotifier::Read);
        connect(excluded.get(), &QSocketNotifier::activated, this, [&] { excludedFired = true; });
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
    QVERIFY(!excludedFired);
    if (wake == Wake::PostEvent)
        QTRY_VERIFY(delivered);
    if (excluded)
        QTRY_VERIFY(excludedFired);
}

void TestEpollDispatcher::exitLoopFromTimer()
{
    QTimer busy; // a zero timer must not keep the loop from exiting
    busy.start(0);
    QEventLoop loop;
    QTimer::singleShot(5, &loop, [&] { loop.exit(42); });
    QCOMPARE(loop.exec(), 42);
}

void TestEpollDispatcher::interruptEndsPass_data()
{
    QTest::addColumn<bool>("sockets");
    QTest::addRow("timers") << false;
    QTest::addRow("sockets") << true;
}

// interrupt() from a handler ends the pass: the other ready source waits for
// the next one.
void TestEpollDispatcher::interruptEndsPass()
{
    QFETCH(bool, sockets);
    int fired = 0;
    const auto handler = [&] {
        ++fired;
        dispatcher()->interrupt();
    };
    FdPair first, second;
    std::unique_ptr<QSocketNotifier> notifiers[2];
    QTimer timers[2];
    for (int i = 0; i < 2; ++i) {
        if (sockets) {
            FdPair &pair = i == 0 ? first : second;
            makeSocketPair(&pair);
            writeByte(pair[1]);
            notifiers[i] = std::make_unique<QSocketNotifier>(pair[0], QSocketNotifier::Read);
            QSocketNotifier *notifier = notifiers[i].get();
            connect(notifier, &QSocketNotifier::activated, this, [notifier, handler] {
                notifier->setEnabled(false);
                handler();
            });
        } else {
            timers[i].setSingleShot(true);
            connect(&timers[i], &QTimer::timeout, this, handler);
            timers[i].start(0);
        }
    }
    onePass();
    QCOMPARE(fired, 1);
    onePass();
    QCOMPARE(fired, 2);
}

void TestEpollDispatcher::excludeFlags_data()
{
    QTest::addColumn<bool>("sockets");
    QTest::addRow("ExcludeSocketNotifiers") << true;
    QTest::addRow("X11ExcludeTimers") << false;
}

void TestEpollDispatcher::excludeFlags()
{
    QFETCH(bool, sockets);
    int fired = 0;
    FdPair pair;
    std::unique_ptr<QSocketNotifier> notifier;
    QTimer timer;
    if (sockets) {
        makeSocketPair(&pair);
        writeByte(pair[1]);
        notifier = std::make_unique<QSocketNotifier>(pair[0], QSocketNotifier::Read);
        connect(notifier.get(), &QSocketNotifier::activated, this, [&] {
            ++fired;
            notifier->setEnabled(false);
        });
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

void TestEpollDispatcher::workerThread()
{
    FdPair pair;
    makeSocketPair(&pair);
    std::atomic<bool> onEpoll{false}, timerFired{false}, socketFired{false};
    std::atomic<int> shots{0};
    std::atomic<bool> shotsOnWorker{true};
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

    // moveToThread() moves a running timer through registeredTimers().
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

void TestEpollDispatcher::tcpEcho_data()
{
    QTest::addColumn<int>("connections");
    QTest::addRow("1 connection") << 1;
    QTest::addRow("300 connections") << 300;
}

// Server on a worker thread, clients on the main thread, both on epoll.
void TestEpollDispatcher::tcpEcho()
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
