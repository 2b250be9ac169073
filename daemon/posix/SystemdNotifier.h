#pragma once

#include <QString>

namespace ws2apid {

// Tells systemd how the service is doing (sd_notify(3)): READY=1 once every
// listener is bound, RELOADING=1 / READY=1 around a reload, STOPPING=1, and
// WATCHDOG=1 when the unit asked for a watchdog. Without NOTIFY_SOCKET (not
// started by systemd) every call does nothing.
class SystemdNotifier
{
public:
    void ready(const QString &status);
    void reloading();
    void stopping();
    void watchdog();
    // How often the unit wants WATCHDOG=1 (WatchdogSec=); 0: no watchdog.
    int watchdogIntervalMs() const;
};

} // namespace ws2apid
