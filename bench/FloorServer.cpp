#include "FloorServer.h"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "FloorProtocol.h"
#include "Sha1.h"

namespace wsfloor {

namespace {

// epoll_event.data.u64: what the descriptor is, and its index.
enum Kind : uint64_t { ListenerKind = 0, ClientKind = 1, ApiKind = 2 };
constexpr uint64_t tag(Kind kind, uint64_t index) { return kind << 32 | index; }

constexpr size_t ReadChunk = 64 * 1024;
constexpr size_t MaxHandshake = 8192;
constexpr int AcceptBatch = 256;
constexpr int64_t ApiRetryUs = 200'000;

int64_t nowUs()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}

void setNoDelay(int fd)
{
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

bool wouldBlock() { return errno == EAGAIN || errno == EWOULDBLOCK; }

} // namespace

FloorServer::FloorServer(FloorOptions options)
    : m_options(std::move(options)), m_readBuffer(ReadChunk)
{
    m_api.resize(size_t(m_options.apiConnections));
}

FloorServer::~FloorServer()
{
    for (size_t fd = 0; fd < m_clients.size(); ++fd) {
        if (m_clients[fd].open)
            ::close(int(fd));
    }
    for (ApiConn &a : m_api) {
        if (a.fd >= 0)
            ::close(a.fd);
    }
    if (m_listener >= 0)
        ::close(m_listener);
    if (m_epoll >= 0)
        ::close(m_epoll);
}

bool FloorServer::start(std::string *error)
{
    m_epoll = epoll_create1(EPOLL_CLOEXEC);
    m_listener = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (m_epoll < 0 || m_listener < 0) {
        *error = std::string("socket: ") + std::strerror(errno);
        return false;
    }
    const int one = 1;
    setsockopt(m_listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(m_listener, reinterpret_cast<const sockaddr *>(&m_options.listen), sizeof m_options.listen) != 0
        || ::listen(m_listener, 4096) != 0) {
        *error = std::string("cannot listen: ") + std::strerror(errno);
        return false;
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = tag(ListenerKind, 0);
    epoll_ctl(m_epoll, EPOLL_CTL_ADD, m_listener, &ev);
    for (size_t i = 0; i < m_api.size(); ++i)
        connectApi(i);
    return true;
}

uint16_t FloorServer::port() const
{
    sockaddr_in bound{};
    socklen_t size = sizeof bound;
    getsockname(m_listener, reinterpret_cast<sockaddr *>(&bound), &size);
    return ntohs(bound.sin_port);
}

void FloorServer::run(const volatile sig_atomic_t *stop)
{
    epoll_event events[256];
    while (!*stop) {
        const int n = epoll_wait(m_epoll, events, 256, nextTimeoutMs());
        if (n < 0 && errno != EINTR) {
            std::perror("ws2api-floor: epoll_wait");
            return;
        }
        for (int i = 0; i < n; ++i) {
            const auto kind = Kind(events[i].data.u64 >> 32);
            const auto index = uint32_t(events[i].data.u64);
            const uint32_t what = events[i].events;
            if (kind == ListenerKind) {
                acceptClients();
            } else if (kind == ClientKind) {
                if (m_clients[index].open && (what & EPOLLOUT))
                    flushClient(int(index));
                if (m_clients[index].open && (what & (EPOLLIN | EPOLLERR | EPOLLHUP)))
                    readClient(int(index));
            } else if (m_api[index].state == ApiConn::State::Connecting) {
                apiConnected(index);
            } else if (m_api[index].fd >= 0) {
                if (what & EPOLLOUT)
                    writeApi(index);
                if (m_api[index].fd >= 0 && (what & (EPOLLIN | EPOLLERR | EPOLLHUP)))
                    readApi(index);
            }
        }
        const int64_t now = nowUs();
        for (size_t i = 0; i < m_api.size(); ++i) {
            if (m_api[i].state == ApiConn::State::Down && m_api[i].retryAtUs <= now)
                connectApi(i);
        }
        pump();
    }
}

int FloorServer::nextTimeoutMs() const
{
    // At most half a second, so a stop signal between checks is seen soon.
    int64_t wait = 500'000;
    const int64_t now = nowUs();
    for (const ApiConn &a : m_api) {
        if (a.state == ApiConn::State::Down)
            wait = std::min(wait, std::max<int64_t>(0, a.retryAtUs - now));
    }
    return int((wait + 999) / 1000);
}

// --- clients -------------------------------------------------------------------------

void FloorServer::acceptClients()
{
    for (int i = 0; i < AcceptBatch; ++i) {
        const int fd = accept4(m_listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            // Said once: out of descriptors, the listener stays readable and this repeats.
            static bool said = false;
            if (!wouldBlock() && errno != EINTR && errno != ECONNABORTED && !said) {
                said = true;
                std::fprintf(stderr, "ws2api-floor: accept: %s\n", std::strerror(errno));
            }
            return;
        }
        if (size_t(fd) >= m_clients.size())
            m_clients.resize(std::max(size_t(fd) + 1, m_clients.size() * 2));
        Client &c = m_clients[size_t(fd)];
        c.open = true;
        setNoDelay(fd);
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = tag(ClientKind, uint64_t(fd));
        epoll_ctl(m_epoll, EPOLL_CTL_ADD, fd, &ev);
        ++m_counters.accepted;
    }
}

void FloorServer::readClient(int fd)
{
    // One read per readiness: level-triggered epoll says again if more is there.
    const ssize_t n = ::recv(fd, m_readBuffer.data(), m_readBuffer.size(), 0);
    if (n <= 0) {
        if (n < 0 && (wouldBlock() || errno == EINTR))
            return;
        closeClient(fd);
        return;
    }
    Client &c = m_clients[size_t(fd)];
    if (c.closing)
        return;  // what a closing client still sends is dropped
    uint8_t *data = m_readBuffer.data();
    size_t size = size_t(n);
    const bool buffered = !c.in.empty();
    if (buffered) {
        c.in.append(reinterpret_cast<const char *>(data), size);
        data = reinterpret_cast<uint8_t *>(c.in.data());
        size = c.in.size();
    }
    size_t used = 0;
    if (!c.upgraded)
        used = handleHandshake(fd, data, size);
    if (m_clients[size_t(fd)].upgraded && !m_clients[size_t(fd)].closing && used < size)
        used += handleFrames(fd, data + used, size - used);
    Client &after = m_clients[size_t(fd)];
    if (!after.open)
        return;
    if (after.closing || used == size)
        std::string().swap(after.in);  // an idle client keeps no buffer
    else if (buffered)
        after.in.erase(0, used);
    else
        after.in.assign(reinterpret_cast<const char *>(data + used), size - used);
}

// Returns the bytes used: the request head, or 0 while it is incomplete.
size_t FloorServer::handleHandshake(int fd, uint8_t *data, size_t size)
{
    const std::string_view text(reinterpret_cast<const char *>(data), size);
    const size_t end = text.find("\r\n\r\n");
    if (end == std::string_view::npos) {
        if (size > MaxHandshake) {
            sendRaw(fd, "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", {});
            m_clients[size_t(fd)].closing = true;
            flushClient(fd);
        }
        return 0;
    }
    const std::string_view head = text.substr(0, end + 2);
    const size_t pathEnd = head.find(' ', 4);
    std::string_view path = loadgen::startsWithNoCase(head, "GET /") && pathEnd != std::string_view::npos
        ? head.substr(4, pathEnd - 4) : std::string_view();
    path = path.substr(0, path.find('?'));
    const std::string_view key = loadgen::headerValue(head, "Sec-WebSocket-Key");
    Client &c = m_clients[size_t(fd)];
    c.closing = true;  // unless it is an upgrade
    if (path == "/healthz") {
        sendRaw(fd, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n", {});
    } else if (path.size() < 2 || key.empty()
               || !loadgen::startsWithNoCase(loadgen::headerValue(head, "Upgrade"), "websocket")) {
        sendRaw(fd, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", {});
    } else {
        c.closing = false;
        c.upgraded = true;
        c.id.assign(path.substr(1));
        const auto accept = loadgen::websocketAccept(key);
        char response[160];
        const int n = std::snprintf(response, sizeof response,
                                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                    "Connection: Upgrade\r\nSec-WebSocket-Accept: %.*s\r\n\r\n",
                                    int(accept.size()), accept.data());
        sendRaw(fd, std::string_view(response, size_t(n)), {});
    }
    flushClient(fd);
    return end + 4;
}

// Returns the bytes used: every whole frame, up to a close or a protocol error.
size_t FloorServer::handleFrames(int fd, uint8_t *data, size_t size)
{
    namespace ws = loadgen::ws;
    size_t pos = 0;
    while (pos < size && m_clients[size_t(fd)].open && !m_clients[size_t(fd)].closing) {
        ws::FrameHeader frame;
        const ws::ParseResult result = ws::parseHeader(data + pos, size - pos, true, m_options.maxMessage, &frame);
        if (result == ws::ParseResult::Incomplete
            || (result == ws::ParseResult::Ok && size - pos - frame.headerSize < frame.length))
            break;
        if (result != ws::ParseResult::Ok) {
            closeWithCode(fd, result == ws::ParseResult::TooLarge ? 1009 : 1002);
            return size;
        }
        uint8_t *payload = data + pos + frame.headerSize;
        ws::applyMask(payload, frame.length, frame.mask);
        const std::string_view text(reinterpret_cast<const char *>(payload), frame.length);
        pos += frame.headerSize + frame.length;
        Client &c = m_clients[size_t(fd)];
        switch (frame.opcode) {
        case ws::Text:
        case ws::Binary:
            if (c.fragmentOpcode != 0) {
                closeWithCode(fd, 1002);
                return size;
            }
            if (frame.fin) {
                handleMessage(fd, text, frame.opcode);
            } else {
                c.fragmentOpcode = frame.opcode;
                c.fragments.assign(text);
            }
            break;
        case ws::Continuation:
            if (c.fragmentOpcode == 0 || c.fragments.size() + text.size() > m_options.maxMessage) {
                closeWithCode(fd, c.fragmentOpcode == 0 ? 1002 : 1009);
                return size;
            }
            c.fragments.append(text);
            if (frame.fin) {
                const std::string message = std::move(c.fragments);
                const uint8_t opcode = c.fragmentOpcode;
                c.fragments = std::string();
                c.fragmentOpcode = 0;
                handleMessage(fd, message, opcode);
            }
            break;
        case ws::Ping:
            sendFrame(fd, ws::Pong, text);
            break;
        case ws::Close:
            // Answered with the client's own code (RFC 6455 5.5.1), then the socket goes.
            sendFrame(fd, ws::Close, text.substr(0, std::min<size_t>(text.size(), 2)));
            m_clients[size_t(fd)].closing = true;
            flushClient(fd);
            return size;
        default:  // Pong
            break;
        }
    }
    return pos;
}

void FloorServer::closeWithCode(int fd, uint16_t code)
{
    const char payload[2] = {char(code >> 8), char(code & 0xff)};
    sendFrame(fd, loadgen::ws::Close, std::string_view(payload, 2));
    m_clients[size_t(fd)].closing = true;
    flushClient(fd);
}

// A whole message: to the API now if a pooled connection is free and nothing of this
// client's is ahead of it, else into the client's queue (one request per client at a
// time keeps its replies in order).
void FloorServer::handleMessage(int fd, std::string_view payload, uint8_t opcode)
{
    ++m_counters.messages;
    Client &c = m_clients[size_t(fd)];
    if (!c.busy && c.pending.empty() && m_ready.empty() && !m_idle.empty()) {
        const size_t index = m_idle.back();
        m_idle.pop_back();
        dispatch(index, fd, payload, opcode);
        return;
    }
    c.pending.push_back(Pending{std::string(payload), opcode});
    schedule(fd);
}

void FloorServer::sendFrame(int fd, uint8_t opcode, std::string_view payload)
{
    uint8_t header[10];
    const size_t n = writeServerHeader(header, opcode, payload.size());
    sendRaw(fd, std::string_view(reinterpret_cast<const char *>(header), n), payload);
}

// Writes head + payload with one system call when nothing is queued before them;
// what the socket does not take waits in `out` for EPOLLOUT.
void FloorServer::sendRaw(int fd, std::string_view head, std::string_view payload)
{
    Client &c = m_clients[size_t(fd)];
    size_t sent = 0;
    if (c.out.empty()) {
        iovec iov[2] = {{const_cast<char *>(head.data()), head.size()},
                        {const_cast<char *>(payload.data()), payload.size()}};
        msghdr msg{};
        msg.msg_iov = iov;
        msg.msg_iovlen = payload.empty() ? 1 : 2;
        const ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
        if (n < 0 && !wouldBlock() && errno != EINTR) {
            c.closing = true;  // the read side sees the end; nothing more goes out
            return;
        }
        sent = n < 0 ? 0 : size_t(n);
    }
    if (sent < head.size())
        c.out.append(head.substr(sent));
    const size_t payloadSent = sent > head.size() ? sent - head.size() : 0;
    if (payloadSent < payload.size())
        c.out.append(payload.substr(payloadSent));
    if (!c.out.empty())
        watchClient(fd, true);
}

// Writes what waits in `out`; closes a closing client once everything is out.
void FloorServer::flushClient(int fd)
{
    Client &c = m_clients[size_t(fd)];
    if (!c.out.empty()) {
        const ssize_t n = ::send(fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
        if (n < 0 && !wouldBlock() && errno != EINTR)
            return closeClient(fd);
        if (n > 0)
            c.out.erase(0, size_t(n));
        if (!c.out.empty())
            return watchClient(fd, true);
        std::string().swap(c.out);
    }
    watchClient(fd, false);
    if (c.closing)
        closeClient(fd);
}

void FloorServer::watchClient(int fd, bool write)
{
    Client &c = m_clients[size_t(fd)];
    if (c.writing == write)
        return;
    c.writing = write;
    epoll_event ev{};
    ev.events = EPOLLIN | (write ? uint32_t(EPOLLOUT) : 0u);
    ev.data.u64 = tag(ClientKind, uint64_t(fd));
    epoll_ctl(m_epoll, EPOLL_CTL_MOD, fd, &ev);
}

// The descriptor goes, and with it anything queued; a reply still at the API finds a
// newer generation and is dropped.
void FloorServer::closeClient(int fd)
{
    Client &c = m_clients[size_t(fd)];
    ::close(fd);  // also leaves the epoll set
    const uint32_t generation = c.generation + 1;
    c = Client();
    c.generation = generation;
}

// --- the API pool --------------------------------------------------------------------

void FloorServer::connectApi(size_t index)
{
    ApiConn &a = m_api[index];
    a.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (a.fd < 0) {
        a.retryAtUs = nowUs() + ApiRetryUs;
        return;
    }
    setNoDelay(a.fd);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.u64 = tag(ApiKind, index);
    epoll_ctl(m_epoll, EPOLL_CTL_ADD, a.fd, &ev);
    a.writing = true;
    a.state = ApiConn::State::Connecting;
    if (::connect(a.fd, reinterpret_cast<const sockaddr *>(&m_options.api), sizeof m_options.api) != 0
        && errno != EINPROGRESS)
        apiFailed(index);
}

void FloorServer::apiConnected(size_t index)
{
    ApiConn &a = m_api[index];
    int error = 0;
    socklen_t size = sizeof error;
    if (getsockopt(a.fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0 || error != 0)
        return apiFailed(index);
    if (!a.request.empty()) {  // a request the previous connection lost, sent once more
        a.state = ApiConn::State::Busy;
        a.written = 0;
        return writeApi(index);
    }
    a.state = ApiConn::State::Idle;
    writeApi(index);  // turns EPOLLOUT off
    m_idle.push_back(index);
}

void FloorServer::dispatch(size_t index, int fd, std::string_view body, uint8_t opcode)
{
    ApiConn &a = m_api[index];
    Client &c = m_clients[size_t(fd)];
    c.busy = true;
    a.state = ApiConn::State::Busy;
    a.clientFd = fd;
    a.clientGeneration = c.generation;
    a.opcode = opcode;
    a.retried = false;
    a.written = 0;
    // Built in the connection's own buffer, which keeps its capacity between requests.
    char length[24];
    std::snprintf(length, sizeof length, "%zu", body.size());
    a.request.clear();
    a.request.append("POST ").append(m_options.apiBasePath).append(c.id).append(" HTTP/1.1\r\nHost: ");
    a.request.append(m_options.apiHost).append("\r\nContent-Type: ");
    a.request.append(opcode == loadgen::ws::Binary ? "application/octet-stream" : "text/plain; charset=utf-8");
    a.request.append("\r\nContent-Length: ").append(length).append("\r\n\r\n").append(body);
    writeApi(index);
}

void FloorServer::writeApi(size_t index)
{
    ApiConn &a = m_api[index];
    if (a.state == ApiConn::State::Busy && a.written < a.request.size()) {
        const ssize_t n = ::send(a.fd, a.request.data() + a.written, a.request.size() - a.written, MSG_NOSIGNAL);
        if (n < 0 && !wouldBlock() && errno != EINTR)
            return apiFailed(index);
        if (n > 0)
            a.written += size_t(n);
    }
    const bool write = a.state == ApiConn::State::Busy && a.written < a.request.size();
    if (write != a.writing) {
        a.writing = write;
        epoll_event ev{};
        ev.events = EPOLLIN | (write ? uint32_t(EPOLLOUT) : 0u);
        ev.data.u64 = tag(ApiKind, index);
        epoll_ctl(m_epoll, EPOLL_CTL_MOD, a.fd, &ev);
    }
}

void FloorServer::readApi(size_t index)
{
    ApiConn &a = m_api[index];
    const ssize_t n = ::recv(a.fd, m_readBuffer.data(), m_readBuffer.size(), 0);
    if (n <= 0) {
        if (n < 0 && (wouldBlock() || errno == EINTR))
            return;
        return apiFailed(index);  // closed by the API (idle timeout) or reset
    }
    if (a.state != ApiConn::State::Busy)
        return apiFailed(index);  // nothing was asked
    a.in.append(reinterpret_cast<const char *>(m_readBuffer.data()), size_t(n));
    const ApiResponse response = parseApiResponse(a.in, m_options.maxMessage, &m_body);
    if (response.result == ApiResponse::Result::Incomplete)
        return;
    if (response.result == ApiResponse::Result::Invalid || response.consumed != a.in.size()) {
        a.retried = true;  // a bad answer is not asked again
        return apiFailed(index);
    }
    a.in.clear();
    finishRequest(index, response.status, m_body);
    if (response.close) {
        ::close(a.fd);
        a.fd = -1;
        a.state = ApiConn::State::Down;
        a.retryAtUs = 0;
        ++m_counters.apiReconnects;
        return;
    }
    a.state = ApiConn::State::Idle;
    m_idle.push_back(index);
}

// The request in flight is done (answered, or given up): its reply goes to the client
// if it is still there, and the client's next message may go.
void FloorServer::finishRequest(size_t index, int status, std::string_view body)
{
    ApiConn &a = m_api[index];
    const int fd = a.clientFd;
    a.clientFd = -1;
    a.request.clear();
    a.written = 0;
    if (status < 200 || status > 299)
        ++m_counters.apiErrors;
    if (fd < 0 || size_t(fd) >= m_clients.size() || !m_clients[size_t(fd)].open
        || m_clients[size_t(fd)].generation != a.clientGeneration)
        return;
    m_clients[size_t(fd)].busy = false;
    if (status >= 200 && status <= 299 && !body.empty() && !m_clients[size_t(fd)].closing) {
        sendFrame(fd, a.opcode, body);
        ++m_counters.replies;
    }
    schedule(fd);
}

// The connection goes; a request in flight is sent once more on its successor
// (an idle keep-alive connection the API closed just as it was used), else dropped.
void FloorServer::apiFailed(size_t index)
{
    ApiConn &a = m_api[index];
    if (a.fd >= 0)
        ::close(a.fd);
    a.fd = -1;
    a.writing = false;
    a.in.clear();
    const bool wasIdle = a.state == ApiConn::State::Idle;
    if (wasIdle)
        m_idle.erase(std::find(m_idle.begin(), m_idle.end(), index));
    if (!a.request.empty() && a.retried) {
        finishRequest(index, 0, {});
    } else if (!a.request.empty()) {
        a.retried = true;
    }
    a.state = ApiConn::State::Down;
    ++m_counters.apiReconnects;
    // An idle connection the API closed is replaced at once; a failed connect waits.
    a.retryAtUs = wasIdle ? 0 : nowUs() + ApiRetryUs;
}

void FloorServer::schedule(int fd)
{
    Client &c = m_clients[size_t(fd)];
    if (!c.busy && !c.queued && !c.pending.empty()) {
        c.queued = true;
        m_ready.push_back({fd, c.generation});
    }
}

// Hands queued messages to idle pooled connections, oldest client first.
void FloorServer::pump()
{
    while (!m_idle.empty() && !m_ready.empty()) {
        const ReadyClient ready = m_ready.front();
        m_ready.pop_front();
        Client &c = m_clients[size_t(ready.fd)];
        if (!c.open || c.generation != ready.generation)
            continue;
        c.queued = false;
        if (c.busy || c.pending.empty())
            continue;
        const Pending next = std::move(c.pending.front());
        c.pending.erase(c.pending.begin());
        if (c.pending.empty())
            std::vector<Pending>().swap(c.pending);
        const size_t index = m_idle.back();
        m_idle.pop_back();
        dispatch(index, ready.fd, next.body, next.opcode);
    }
}

} // namespace wsfloor
