#pragma once

#include <QByteArray>
#include <QList>
#include <QString>
#include <optional>

#include "modes/ModeSession.h"

namespace ws2api::test {

// A SessionHost without socket, worker or event loop, for a mode session in a unit
// test or a fuzzer: it records what the session sends and asks the API, answers API
// requests and fires the call timer only when told to, and keeps ClientSession's
// promises: ordered requests reach the API one at a time (only the first waiting has
// been sent), too many waiting close the client, a client that is going gets nothing
// (404), a full send queue answers 503 and closes it, the timer never runs once the
// client is gone. Header-only and QtCore-only, so that fuzz/ builds it too.
class FakeSessionHost final : public SessionHost
{
public:
    struct Sent
    {
        QByteArray data;
        bool binary = false;
        int status = 200;  // what send() answered: only 200 reached the client
    };
    struct Call
    {
        ApiRequest request;
        ApiCallback done;
    };

    explicit FakeSessionHost(QByteArray clientId = "CP1", QString protocol = QStringLiteral("ocpp1.6"))
        : m_clientId(std::move(clientId))
        , m_protocol(std::move(protocol))
    {
    }

    // The session under test: told when the client goes and when the timer runs out.
    void attach(ModeSession *mode) { m_mode = mode; }

    // SessionHost
    const QByteArray &clientId() const override { return m_clientId; }
    const QString &protocol() const override { return m_protocol; }
    bool isOpen() const override { return !closing && !gone; }

    int send(const ClientMessage &message) override
    {
        int status = 200;
        if (!isOpen()) {
            status = 404;
        } else if (sendQueueFull) {
            status = 503;
            closing = true;
        }
        sent.append(Sent{message.data, message.binary, status});
        return status;
    }

    void callApiInOrder(ApiRequest request, ApiCallback done) override
    {
        if (ordered.size() >= maxOrdered) {
            closing = true;  // ClientSession closes with 1008; `done` never runs
            ++refusedOrdered;
            return;
        }
        ordered.append(Call{std::move(request), std::move(done)});
        pump();
    }

    void callApi(ApiRequest request, ApiCallback done) override
    {
        apiLog.append(request);
        unordered.append(Call{std::move(request), std::move(done)});
    }

    LogThrottle &frameRejected() override
    {
        ++rejected;
        return problemLog;
    }

    void startCallTimer(int ms) override
    {
        if (!gone)
            timerMs = ms;
    }
    void stopCallTimer() override { timerMs.reset(); }

    // The test's (or fuzzer's) side.

    // Answers the ordered request the API has (the first waiting): false when none.
    bool answerOrdered(const ApiResponse &response)
    {
        if (!orderedInFlight)
            return false;
        const Call call = ordered.takeFirst();
        orderedInFlight = false;
        if (call.done)
            call.done(response);
        pump();
        return true;
    }

    // Answers unordered request `index` (in the order they were made).
    bool answerUnordered(qsizetype index, const ApiResponse &response)
    {
        if (index < 0 || index >= unordered.size())
            return false;
        const Call call = unordered.takeAt(index);
        if (call.done)
            call.done(response);
        return true;
    }

    bool fireTimer()
    {
        if (!timerMs)
            return false;
        timerMs.reset();
        m_mode->callTimedOut();
        return true;
    }

    // The client's socket is gone: the session hears of it once.
    void goAway()
    {
        if (gone)
            return;
        gone = true;
        timerMs.reset();
        m_mode->clientGone();
    }

    bool idle() const { return ordered.isEmpty() && unordered.isEmpty(); }

    // Every request the API got, in the order it got them (an ordered one when its
    // turn came).
    QList<ApiRequest> apiLog;
    QList<Call> ordered;  // the first is at the API when orderedInFlight
    bool orderedInFlight = false;
    QList<Call> unordered;
    QList<Sent> sent;
    std::optional<int> timerMs;  // armed, and for how long
    int rejected = 0;
    int refusedOrdered = 0;
    qsizetype maxOrdered = 1024;  // ProxyConfig::maxPendingMessages
    bool closing = false;         // closed by the host or the client, socket still there
    bool gone = false;
    bool sendQueueFull = false;   // the next send() answers 503 and closes
    LogThrottle problemLog;       // LogThrottle(0): every rejected frame is logged

private:
    void pump()
    {
        if (orderedInFlight || ordered.isEmpty())
            return;
        orderedInFlight = true;
        apiLog.append(ordered.first().request);
    }

    QByteArray m_clientId;
    QString m_protocol;
    ModeSession *m_mode = nullptr;
};

} // namespace ws2api::test
