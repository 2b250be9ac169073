#pragma once

#include <QByteArray>
#include <QHash>
#include <QMutex>
#include <atomic>
#include <optional>

namespace ws2api {

// ClientId -> the worker and session that hold it, shared by every worker.
//
// Touched on connect, disconnect and push routing only, never per message. A short
// mutex keeps "newest connection wins" atomic across workers: claim() returns the
// session it displaced, and release() removes an entry only while it still names the
// releasing session, so a late disconnect of a replaced connection cannot remove its
// successor. The message itself always travels to the owning worker by queued call.
class ClientRegistry
{
public:
    struct Owner
    {
        int worker = -1;
        quint64 session = 0;
    };

    quint64 newSessionSerial() { return m_nextSerial.fetch_add(1, std::memory_order_relaxed); }

    // Records `owner` for `clientId`; returns the owner it replaced, if any.
    std::optional<Owner> claim(const QByteArray &clientId, Owner owner);
    // Forgets `clientId` if it is still held by `session`.
    void release(const QByteArray &clientId, quint64 session);
    std::optional<Owner> find(const QByteArray &clientId) const;
    // Whether a session newer than `session` holds `clientId` now: the API accepted
    // another connection of that client after this one, so to the API this one was
    // replaced (serials grow with every session, on every worker).
    bool heldByNewer(const QByteArray &clientId, quint64 session) const;
    qsizetype size() const;

private:
    mutable QMutex m_mutex;
    QHash<QByteArray, Owner> m_owners;
    std::atomic<quint64> m_nextSerial{1};
};

} // namespace ws2api
