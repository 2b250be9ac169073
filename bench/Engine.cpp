#include "Engine.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "Handshake.h"
#include "Message.h"
#include "OcppMessage.h"
#include "TlsClient.h"
#include "WsFrame.h"

namespace loadgen {

namespace {

constexpr uint8_t RingSize = Conn::RingSize;
constexpr size_t ReadSize = 64 * 1024;
constexpr size_t MaxResponseHead = 8 * 1024;
// Work done between two epoll_wait calls, so a burst of due opens or sends cannot
// starve the replies already waiting.
constexpr int OpenBudget = 256;
constexpr int SendBudget = 4096;
constexpr int MaxEvents = 1024;
// The longest a loop sleeps, so it notices stopAll() without being woken.
constexpr int64_t MaxSleepUs = 200'000;

std::atomic<bool> s_stop{false};

uint64_t randomSeed()
{
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, 0) != ssize_t(sizeof seed))
        seed = uint64_t(nowUs()) ^ uint64_t(getpid()) << 32;
    return seed;
}

} // namespace

Engine::Engine(const LoadOptions &options, const RunClock &clock, int index, int count, ThreadStats *stats,
               SSL_CTX *tls)
    : m_options(options)
    , m_clock(clock)
    , m_index(index)
    , m_count(count)
    , m_stats(stats)
    , m_tls(tls)
{
}

Engine::~Engine()
{
    for (Conn &c : m_conns) {
        if (c.fd >= 0)
            ::close(c.fd);
    }
    for (SSL *ssl : m_ssl)
        SSL_free(ssl);
    if (m_epoll >= 0)
        ::close(m_epoll);
}

bool Engine::setUp(std::string *error)
{
    m_epoll = epoll_create1(EPOLL_CLOEXEC);
    if (m_epoll < 0) {
        *error = std::string("epoll_create1: ") + std::strerror(errno);
        return false;
    }
    const size_t total = size_t(m_options.connections);
    const size_t mine = (total - size_t(m_index) + size_t(m_count) - 1) / size_t(m_count);
    m_conns.resize(mine);
    if (m_tls && m_options.anyTls())
        m_ssl.assign(mine, nullptr);
    for (size_t i = 0; i < mine; ++i) {
        m_conns[i].id = globalIndex(i);
        m_conns[i].target = uint8_t(m_options.targetOf(m_conns[i].id));
    }
    m_rampUs = int64_t(m_options.rampSeconds * 1e6);
    m_intervalUs = std::max<int64_t>(1, int64_t(m_options.intervalSeconds * 1e6));
    m_keySeed = randomSeed();
    m_maskState = randomSeed() | 1;
    m_readBuffer.resize(ReadSize);
    // Big enough for a message frame and for the upgrade request.
    size_t longestTarget = 0;
    for (const Target &t : m_options.targets)
        longestTarget = std::max(longestTarget, t.basePath.size() + t.hostHeader.size());
    m_sendBuffer.resize(ws::MaxClientHeader + std::max(m_options.size, MaxPrefix) + MaxOcppCallOverhead + 512
                        + longestTarget + m_options.idPrefix.size() + m_options.ocpp.size());
    m_padding.resize(std::max(m_options.size, MaxPrefix));
    for (size_t i = 0; i < m_padding.size(); ++i)
        m_padding[i] = paddingAt(i);
    return true;
}

void Engine::stopAll()
{
    s_stop.store(true, std::memory_order_relaxed);
}

bool Engine::stopped()
{
    return s_stop.load(std::memory_order_relaxed);
}

int64_t Engine::openTime(size_t local) const
{
    return m_clock.startUs + int64_t(globalIndex(local)) * m_rampUs / m_options.connections;
}

// Connection g sends at phase g/N of each interval, so sends are spread evenly and
// a loop's connections come due in index order: one cursor replaces a timer heap.
int64_t Engine::slotTime(int64_t cycle, size_t local) const
{
    return m_clock.startUs + cycle * m_intervalUs
        + int64_t(globalIndex(local)) * m_intervalUs / m_options.connections;
}

void Engine::run()
{
    epoll_event events[MaxEvents];
    const bool interval = m_options.mode == LoadOptions::Mode::Interval;
    const bool churn = m_options.churnPerSecond > 0 && !m_conns.empty();
    if (churn)
        m_churnNextUs = churnTime(0);
    for (;;) {
        const int64_t now = nowUs();
        if (now >= m_clock.hardEndUs || s_stop.load(std::memory_order_relaxed))
            break;
        // Every connection is attempted, even by a loop that fell behind its ramp.
        bool busy = openDue(now);
        if (now < m_clock.windowEndUs) {
            if (interval)
                busy = sendDue(now) || busy;
        } else if (m_stats->outstanding.get() == 0 && m_openCursor == m_conns.size() && m_churnPending == 0) {
            break; // drained
        }
        if (churn)
            busy = churnStep(now) || busy;
        const int timeoutMs = int((nextWake(now, busy) - now + 999) / 1000);
        const int n = epoll_wait(m_epoll, events, MaxEvents, std::max(0, timeoutMs));
        for (int i = 0; i < n; ++i)
            handleEvent(m_conns[events[i].data.u32], events[i].events);
    }
    for (const Conn &c : m_conns) {
        if (c.state == Conn::State::Connecting || c.state == Conn::State::TlsHandshake
            || c.state == Conn::State::Upgrading) {
            m_stats->notEstablished.add();
            if (c.generation > 0)
                m_stats->reconnectFailed.add();
        }
    }
}

int64_t Engine::nextWake(int64_t now, bool busy) const
{
    if (busy)
        return now;
    int64_t wake = std::min(m_clock.hardEndUs, now + MaxSleepUs);
    if (m_openCursor < m_conns.size())
        wake = std::min(wake, openTime(m_openCursor));
    if (now < m_clock.windowEndUs) {
        wake = std::min(wake, m_clock.windowEndUs);
        if (m_options.mode == LoadOptions::Mode::Interval && !m_conns.empty())
            wake = std::min(wake, slotTime(m_slotCycle, m_slotCursor));
        if (m_churnNextUs > 0)
            wake = std::min(wake, m_churnNextUs);
    }
    if (!m_closing.empty())
        wake = std::min(wake, m_closing.front().atUs);
    return std::max(wake, now);
}

bool Engine::openDue(int64_t now)
{
    int budget = OpenBudget;
    while (m_openCursor < m_conns.size() && openTime(m_openCursor) <= now) {
        if (budget-- == 0)
            return true;
        openConnection(m_conns[m_openCursor++], now);
    }
    return false;
}

bool Engine::sendDue(int64_t now)
{
    if (m_conns.empty())
        return false;
    int budget = SendBudget;
    for (;;) {
        const int64_t due = slotTime(m_slotCycle, m_slotCursor);
        if (due > now || due >= m_clock.windowEndUs)
            return false;
        if (budget-- == 0)
            return true;
        Conn &c = m_conns[m_slotCursor];
        if (c.state == Conn::State::Open)
            sendMessage(c, now);
        if (++m_slotCursor == m_conns.size()) {
            m_slotCursor = 0;
            ++m_slotCycle;
        }
    }
}

void Engine::openConnection(Conn &c, int64_t now)
{
    if (c.generation == 0) {
        m_stats->attempted.add();
        m_stats->lastOpenUs = now;
    } else {
        m_stats->reconnectAttempted.add();
    }
    c.sentAt[0] = now; // for the set-up time, until the upgrade is answered
    const int family = m_options.ipv6 ? AF_INET6 : AF_INET;
    c.fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0)
        return connectFailed(c, errno, now);
    const int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (!m_options.ipv6) {
        // Each source address has its own ephemeral ports towards the daemon; with
        // IP_BIND_ADDRESS_NO_PORT the port is picked at connect() per 4-tuple.
        setsockopt(c.fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        sockaddr_in source{};
        source.sin_family = AF_INET;
        source.sin_addr.s_addr = htonl(0x7f000002u + c.id % uint32_t(m_options.sources));
        if (::bind(c.fd, reinterpret_cast<const sockaddr *>(&source), sizeof source) != 0)
            return connectFailed(c, errno, now);
    }
    c.state = Conn::State::Connecting;
    const Target &target = m_options.targets[c.target];
    if (::connect(c.fd, reinterpret_cast<const sockaddr *>(&target.address), target.addressLength) == 0)
        return connected(c);
    if (errno != EINPROGRESS)
        return connectFailed(c, errno, now);
    watch(c, EPOLLOUT);
}

void Engine::connectFailed(Conn &c, int error, int64_t now)
{
    m_stats->connectFailed.add();
    m_stats->connectErrors.add(error);
    attemptSettled(c, false, now);
    closeConnection(c);
}

void Engine::connected(Conn &c)
{
    if (!m_ssl.empty() && m_options.targets[c.target].tls)
        return startTls(c);
    upgrade(c);
}

void Engine::upgrade(Conn &c)
{
    char key[KeyLength];
    makeKeyOf(c, key);
    char *request = reinterpret_cast<char *>(m_sendBuffer.data());
    const Target &target = m_options.targets[c.target];
    const size_t n = buildUpgradeRequest(request, m_sendBuffer.size(), target.basePath.c_str(),
                                         m_options.idPrefix.c_str(), c.id,
                                         m_options.churnSameIds ? 0u : unsigned(c.generation),
                                         target.hostHeader.c_str(), key, m_options.ocpp);
    c.state = Conn::State::Upgrading;
    watch(c, EPOLLIN);
    write(c, m_sendBuffer.data(), n);
}

uint32_t Engine::nextMask()
{
    // xorshift64: masks need to be unpredictable to proxies, not cryptographic.
    m_maskState ^= m_maskState << 13;
    m_maskState ^= m_maskState >> 7;
    m_maskState ^= m_maskState << 17;
    return uint32_t(m_maskState);
}

void Engine::handleEvent(Conn &c, uint32_t events)
{
    if (c.state == Conn::State::Done)
        return; // closed earlier in this batch
    if (c.state == Conn::State::Connecting) {
        int error = 0;
        socklen_t length = sizeof error;
        if (getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0)
            error = errno;
        if (error != 0)
            return connectFailed(c, error, nowUs());
        if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
            connected(c);
        return;
    }
    if (SSL *ssl = tlsOf(c)) {
        if (c.state == Conn::State::TlsHandshake)
            return tlsHandshake(c, ssl);
        return tlsEvent(c, ssl, events);
    }
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
        readable(c);
    if (c.state != Conn::State::Done && (events & EPOLLOUT))
        flush(c);
}

void Engine::readable(Conn &c)
{
    const ssize_t n = ::recv(c.fd, m_readBuffer.data(), m_readBuffer.size(), 0);
    const int64_t now = nowUs();
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0)
        return peerGone(c, now);
    received(c, size_t(n), now);
}

// The socket failed or reached its end: before the 101 that is a failed upgrade
// ("closed before the response"), after it a close without a close frame.
void Engine::peerGone(Conn &c, int64_t now)
{
    if (c.state == Conn::State::Upgrading)
        return handshakeFailed(c, &m_stats->handshakeEof, 0, now);
    if (c.state == Conn::State::Closing)
        return closeConnection(c); // the end of our own churn close
    m_stats->closedByServer.add();
    m_stats->closeCodes.add(1006); // gone without a close frame
    closeConnection(c);
}

// The first n bytes of m_readBuffer arrived on c (decrypted, for wss).
void Engine::received(Conn &c, size_t n, int64_t now)
{
    // Usually nothing is left over from the last read and the data is parsed where it
    // landed; only a partial frame or head is copied into the connection's buffer.
    const uint8_t *data = m_readBuffer.data();
    size_t size = n;
    if (!c.rx.empty()) {
        c.rx.insert(c.rx.end(), data, data + size);
        data = c.rx.data();
        size = c.rx.size();
    }
    size_t used = 0;
    if (c.state == Conn::State::Upgrading)
        used = handshake(c, data, size, now);
    if (c.state == Conn::State::Open || c.state == Conn::State::Closing)
        used += frames(c, data + used, size - used, now);
    if (c.state == Conn::State::Done)
        return;
    if (data == c.rx.data()) {
        c.rx.erase(c.rx.begin(), c.rx.begin() + ptrdiff_t(used));
        if (c.rx.empty() && c.rx.capacity() > ReadSize)
            std::vector<uint8_t>().swap(c.rx); // a big frame has passed: give the memory back
    } else if (used < size) {
        c.rx.assign(data + used, data + size);
    }
}

size_t Engine::handshake(Conn &c, const uint8_t *data, size_t size, int64_t now)
{
    using Result = UpgradeResponse::Result;
    char key[KeyLength];
    makeKeyOf(c, key);
    const UpgradeResponse r = parseUpgradeResponse(
        std::string_view(reinterpret_cast<const char *>(data), size), std::string_view(key, KeyLength),
        m_options.ocpp, MaxResponseHead);
    switch (r.result) {
    case Result::Incomplete:
        return 0;
    case Result::Malformed:
        handshakeFailed(c, &m_stats->handshakeMalformed, 0, now);
        return 0;
    case Result::Refused:
        handshakeFailed(c, nullptr, r.status, now);
        return 0;
    case Result::BadAccept:
        handshakeFailed(c, &m_stats->handshakeBadAccept, 0, now);
        return 0;
    case Result::BadSubprotocol:
        handshakeFailed(c, &m_stats->handshakeBadSubprotocol, 0, now);
        return 0;
    case Result::Accepted:
        break;
    }
    c.state = Conn::State::Open;
    attemptSettled(c, true, now);
    c.sentAt[0] = 0;
    m_stats->openNow.add();
    if (m_options.mode == LoadOptions::Mode::Ceiling && now < m_clock.windowEndUs)
        sendMessage(c, now);
    return r.headSize;
}

// reason: one of the handshake counters, or null for an HTTP status other than 101.
void Engine::handshakeFailed(Conn &c, Counter *reason, int status, int64_t now)
{
    m_stats->handshakeFailed.add();
    if (reason)
        reason->add();
    else
        m_stats->handshakeStatus.add(status);
    attemptSettled(c, false, now);
    closeConnection(c);
}

void Engine::sendMessage(Conn &c, int64_t now)
{
    const uint8_t limit = m_options.mode == LoadOptions::Mode::Ceiling ? 1 : RingSize;
    if (c.ringCount >= limit) {
        m_stats->skipped.add(); // the daemon is this far behind on this connection
        return;
    }
    // The payload is written first, its header then put right in front of it.
    uint8_t *payload = m_sendBuffer.data() + ws::MaxClientHeader;
    const size_t size = writePayload(payload, c, c.nextSeq);
    uint8_t header[ws::MaxClientHeader];
    const size_t headerSize = ws::writeHeader(header, m_options.binary ? ws::Binary : ws::Text, size, nextMask());
    uint8_t *frame = payload - headerSize;
    std::memcpy(frame, header, headerSize);
    ws::applyMask(payload, size, frame + headerSize - 4);

    // Recorded before the write: a failed write closes the connection and counts
    // this message as lost with the others.
    c.sentAt[(c.ringHead + c.ringCount) % RingSize] = now;
    ++c.ringCount;
    ++c.nextSeq;
    m_stats->outstanding.add();
    m_stats->sent.add();
    if (inWindow(now))
        m_stats->sentInWindow.add();
    write(c, frame, headerSize + size);
}

// The message: "<conn>:<seq>:" and filler up to --size, or an OCPP CALL.
size_t Engine::writePayload(uint8_t *out, const Conn &c, uint32_t seq) const
{
    char prefix[MaxPrefix];
    if (m_options.isOcpp()) {
        const size_t idSize = ocppMessageId(prefix, c.id, seq);
        return writeOcppCall(out, prefix, idSize, m_options.size, m_padding.data());
    }
    const size_t prefixSize = messagePrefix(prefix, c.id, seq);
    const size_t size = std::max(prefixSize, m_options.size);
    std::memcpy(out, prefix, prefixSize);
    std::memcpy(out + prefixSize, m_padding.data() + prefixSize, size - prefixSize);
    return size;
}

bool Engine::sendControl(Conn &c, uint8_t opcode, const uint8_t *payload, size_t size)
{
    uint8_t frame[ws::MaxClientHeader + 125];
    const size_t n = ws::buildFrame(frame, opcode, payload, std::min<size_t>(size, 125), nextMask());
    return write(c, frame, n);
}

// Returns false when the connection failed and is gone.
bool Engine::write(Conn &c, const uint8_t *data, size_t size)
{
    if (!c.tx.empty()) {
        c.tx.insert(c.tx.end(), data, data + size); // keep the order behind what is waiting
        return true;
    }
    if (SSL *ssl = tlsOf(c))
        return tlsWrite(c, ssl, data, size);
    ssize_t n = ::send(c.fd, data, size, MSG_NOSIGNAL);
    if (n < 0) {
        if (errno != EAGAIN && errno != EINTR) {
            peerGone(c, nowUs());
            return false;
        }
        n = 0;
    }
    if (size_t(n) < size) {
        c.tx.assign(data + n, data + size);
        watch(c, c.events | EPOLLOUT);
    }
    return true;
}

void Engine::flush(Conn &c)
{
    if (c.tx.empty())
        return watch(c, c.events & ~uint32_t(EPOLLOUT));
    const ssize_t n = ::send(c.fd, c.tx.data(), c.tx.size(), MSG_NOSIGNAL);
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR)
            return;
        return peerGone(c, nowUs());
    }
    c.tx.erase(c.tx.begin(), c.tx.begin() + n);
    if (c.tx.empty()) {
        std::vector<uint8_t>().swap(c.tx);
        watch(c, c.events & ~uint32_t(EPOLLOUT));
    }
}

void Engine::watch(Conn &c, uint32_t events)
{
    if (events == c.events)
        return;
    epoll_event ev{};
    ev.events = events;
    ev.data.u32 = uint32_t(localIndex(c));
    epoll_ctl(m_epoll, c.events == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, c.fd, &ev);
    c.events = events;
}

// An attempt got its 101 or failed: the ramp's figures for a first attempt, the
// reconnect figures for the others (--churn).
void Engine::attemptSettled(Conn &c, bool established, int64_t now)
{
    if (c.generation == 0) {
        m_stats->lastSettledUs = now;
        if (established) {
            m_stats->setup.record(now - c.sentAt[0]);
            m_stats->established.add();
            ++m_stats->establishedByTarget[c.target];
        }
        return;
    }
    if (established) {
        m_stats->reconnectSetup.record(now - c.sentAt[0]);
        m_stats->reconnected.add();
    } else {
        m_stats->reconnectFailed.add();
    }
    if (m_churnPending > 0)
        --m_churnPending;
}

// A connection that was Closing (--churn) is reconnected at the loop's next step, not
// here: this may run in the middle of reading it.
void Engine::closeConnection(Conn &c)
{
    const bool churned = c.state == Conn::State::Closing;
    if (SSL *ssl = tlsOf(c)) {
        SSL_free(ssl); // no close_notify: the socket goes now anyway
        m_ssl[localIndex(c)] = nullptr;
        c.tlsWants = 0;
    }
    if (c.fd >= 0)
        ::close(c.fd); // also leaves the epoll set
    c.fd = -1;
    if (c.state == Conn::State::Open)
        m_stats->openNow.add(-1);
    c.state = Conn::State::Done;
    c.events = 0;
    c.fragmentOpcode = 0;
    while (c.ringCount > 0)
        pop(c, Outcome::Lost, 0);
    std::vector<uint8_t>().swap(c.rx);
    std::vector<uint8_t>().swap(c.tx);
    std::vector<uint8_t>().swap(c.fragment);
    if (churned)
        m_reconnectQueue.push_back(uint32_t(localIndex(c)));
}

void Engine::closeAll()
{
    static constexpr uint8_t Normal[2] = {1000 >> 8, 1000 & 0xff};
    for (Conn &c : m_conns) {
        if (c.state == Conn::State::Open && c.tx.empty())
            sendControl(c, ws::Close, Normal, sizeof Normal);
        if (c.state != Conn::State::Done && c.state != Conn::State::Idle)
            closeConnection(c);
    }
}

} // namespace loadgen
