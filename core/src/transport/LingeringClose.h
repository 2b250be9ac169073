#pragma once

#include <QtGlobal>

class QObject;

namespace ws2api::transport {

// Closes a connection as careful HTTP servers do (a lingering close): what was
// written has been handed to the kernel; the write side is shut, so the peer sees
// the end of the stream after it; what the peer still sends is read and dropped
// until it closes too, or `ms` pass. Closed at once with unread input, a socket
// makes the kernel send a reset, which can destroy the last thing written (a close
// frame with its code and reason, an HTTP error) before the peer has read it.
// `keeper` (the worker) owns the lingering socket; past a bound on how many linger
// on this thread at once, the socket is closed at once instead.
void lingerAndClose(qintptr descriptor, int ms, QObject *keeper);

} // namespace ws2api::transport
