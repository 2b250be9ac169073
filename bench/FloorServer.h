#pragma once

// ws2api-floor's one event loop: the WebSocket listener, its clients and the pool of
// keep-alive connections to the API, all on one epoll instance, level-triggered,
// non-blocking. See floor.cpp for what it is for and what it leaves out.

#include <csignal>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include <netinet/in.h>

namespace wsfloor {

struct FloorOptions
{
    sockaddr_in listen{};
    sockaddr_in api{};
    std::string apiHost;           // the Host header: "127.0.0.1:5190"
    std::string apiBasePath = "/"; // always ends in '/'; the ClientId follows it
    int apiConnections = 32;
    size_t maxMessage = 1 << 20;
};

struct FloorCounters
{
    uint64_t accepted = 0, messages = 0, replies = 0, apiErrors = 0, apiReconnects = 0;
};

class FloorServer
{
public:
    explicit FloorServer(FloorOptions options);
    ~FloorServer();
    FloorServer(const FloorServer &) = delete;
    FloorServer &operator=(const FloorServer &) = delete;

    bool start(std::string *error);  // binds, listens, starts connecting the pool
    uint16_t port() const;           // the bound port (for --listen ...:0)
    void run(const volatile sig_atomic_t *stop);  // until *stop becomes non-zero
    const FloorCounters &counters() const { return m_counters; }

private:
    struct Pending
    {
        std::string body;
        uint8_t opcode = 0;
    };
    struct Client
    {
        uint32_t generation = 0;  // bumped when the descriptor is closed
        bool open = false;
        bool upgraded = false;
        bool busy = false;        // one of its messages is at the API
        bool queued = false;      // in m_ready
        bool closing = false;     // close once `out` is written
        bool writing = false;     // EPOLLOUT is on
        uint8_t fragmentOpcode = 0;
        std::string id, in, out, fragments;
        std::vector<Pending> pending;  // waiting for `busy` to clear, oldest first
    };
    struct ApiConn
    {
        enum class State { Down, Connecting, Idle, Busy };
        State state = State::Down;
        int fd = -1;
        bool writing = false;
        bool retried = false;   // the request in flight has been sent once more already
        int clientFd = -1;
        uint32_t clientGeneration = 0;
        uint8_t opcode = 0;
        size_t written = 0;
        int64_t retryAtUs = 0;  // Down: when to connect again
        std::string request, in;
    };
    struct ReadyClient
    {
        int fd;
        uint32_t generation;
    };

    void acceptClients();
    void readClient(int fd);
    size_t handleHandshake(int fd, uint8_t *data, size_t size);
    size_t handleFrames(int fd, uint8_t *data, size_t size);
    void handleMessage(int fd, std::string_view payload, uint8_t opcode);
    void closeWithCode(int fd, uint16_t code);
    void sendFrame(int fd, uint8_t opcode, std::string_view payload);
    void sendRaw(int fd, std::string_view head, std::string_view payload);
    void flushClient(int fd);
    void closeClient(int fd);
    void watchClient(int fd, bool write);

    void connectApi(size_t index);
    void apiConnected(size_t index);
    void readApi(size_t index);
    void writeApi(size_t index);
    void apiFailed(size_t index);
    void dispatch(size_t index, int fd, std::string_view body, uint8_t opcode);
    void finishRequest(size_t index, int status, std::string_view body);
    void schedule(int fd);
    void pump();
    int nextTimeoutMs() const;

    FloorOptions m_options;
    int m_epoll = -1;
    int m_listener = -1;
    std::vector<Client> m_clients;  // by descriptor
    std::vector<ApiConn> m_api;
    std::vector<size_t> m_idle;     // indexes into m_api
    std::deque<ReadyClient> m_ready;
    std::vector<uint8_t> m_readBuffer;
    std::string m_body;             // the API response body being handed on
    FloorCounters m_counters;
};

} // namespace wsfloor
