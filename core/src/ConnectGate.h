#pragma once

#include <QHash>
#include <QHostAddress>
#include <QMutex>
#include <atomic>
#include <functional>

namespace ws2api {

// Whether a new WebSocket client may ask the API to connect: the cap on clients
// (--max-connections) and the connect rate (--connect-rate, in total and per source
// address). One per daemon, shared by every worker thread; touched once per upgrade
// and once per client gone, never per message.
//
// A slot is taken by admit() and held while the API decides, during the WebSocket
// handshake and for the client's whole life; release() gives it back. So the cap
// counts the clients held plus the upgrades in progress, and a storm of reconnects
// can never have more connect requests at the API at once than there are free slots.
// Connections still sending their request head, and push connections, hold none.
//
// The rate is a token bucket per source address and one in total, each holding one
// second's worth by default: a connection takes a token from both or from neither.
// A refusal's Retry-After is the next free moment after the one the previous refusal
// by that bucket was told, so that clients that honour it come back spread at the
// rate, not all together in the next second (at most MaxRetryAfterS ahead).
// The per-source buckets live in two generations of at most MaxSourcesPerGeneration
// entries: a source seen in the older one moves to the newer; when the newer is full
// the older is forgotten. Memory stays bounded whatever a scanner sends; a forgotten
// source starts again with a full bucket, and the total bucket still holds.
class ConnectGate
{
public:
    static constexpr qsizetype MaxSourcesPerGeneration = 8192;
    // Retry-After bounds: a refusal at the cap advises a random 10..30 s (nobody knows
    // when a slot frees; the spread keeps the refused from coming back together); a
    // refusal by the rate at most MaxRetryAfterS.
    static constexpr int CapRetryMinS = 10;
    static constexpr int CapRetryMaxS = 30;
    static constexpr int MaxRetryAfterS = 60;

    struct Limits
    {
        qint64 maxConnections = 0;    // 0: no cap
        double rate = 0;              // per second in total; 0: no limit
        double burst = 0;             // tokens the total bucket holds; 0: max(1, rate)
        double ratePerSource = 0;     // per second per source address; 0: no limit
        double burstPerSource = 0;    // 0: max(1, ratePerSource)
    };

    enum class Verdict { Admitted, MaxConnections, Rate, SourceRate };
    struct Decision
    {
        Verdict verdict = Verdict::Admitted;
        int retryAfterS = 0;  // with a refusal: seconds for Retry-After, at least 1
    };

    // A monotonic clock in nanoseconds; tests pass their own.
    using Clock = std::function<qint64()>;

    explicit ConnectGate(Clock clock = {});

    // Any thread. A lower cap leaves the clients held above it connected; new ones
    // wait until enough have gone. Changed rates keep the tokens there are (up to
    // the new burst); a changed per-source rate starts every source afresh.
    void setLimits(const Limits &limits);
    Limits limits() const;

    // Any thread. Admitted: a slot is held until release().
    Decision admit(const QHostAddress &source);
    void release();

    qint64 held() const { return m_held.load(std::memory_order_relaxed); }
    qint64 maxConnections() const { return m_max.load(std::memory_order_relaxed); }
    qsizetype trackedSources() const;

private:
    struct Bucket
    {
        double tokens = 0;
        qint64 updatedNs = 0;
        qint64 advisedUntilNs = 0;  // refused clients have been told to stay away until then
    };
    // An IPv4 address (IPv4-mapped IPv6 included), or an IPv6 /64: one host may
    // own a whole /64 and pick a new address for every connection.
    struct SourceKey
    {
        quint64 bits = 0;
        bool ipv6 = false;
        friend bool operator==(const SourceKey &, const SourceKey &) = default;
        friend size_t qHash(const SourceKey &key, size_t seed = 0) { return qHashMulti(seed, key.bits, key.ipv6); }
    };

    static SourceKey keyOf(const QHostAddress &address);
    static void refill(Bucket &bucket, double rate, double burst, qint64 nowNs);
    static int advise(Bucket &bucket, double rate, qint64 nowNs);
    Bucket &sourceBucket(const SourceKey &key, qint64 nowNs);
    Decision admitRate(const QHostAddress &source);

    Clock m_clock;
    std::atomic<qint64> m_max{0};
    std::atomic<qint64> m_held{0};
    std::atomic<bool> m_rateLimited{false};

    mutable QMutex m_mutex;  // guards everything below
    Limits m_limits;
    Bucket m_total;
    QHash<SourceKey, Bucket> m_sources;
    QHash<SourceKey, Bucket> m_olderSources;
};

} // namespace ws2api
