#pragma once

namespace ws2api {

// What a listener lets its connections do.
enum class ListenerRole { WebSockets = 1, Pushes = 2, Both = 3 };

} // namespace ws2api
