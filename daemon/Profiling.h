#pragma once

#include "ws2api/ProxyConfig.h"

// -cpuprofile / -memprofile (gperftools, pprof format), as the Go original's flags.
namespace ws2apid::profiling {

// Whether this build can write profiles at all.
bool available();
// False when the CPU profile cannot be written.
bool start(const ws2api::ProxyConfig &config);
// Writes what start() began; safe to call when nothing was started.
void stop(const ws2api::ProxyConfig &config);

} // namespace ws2apid::profiling
