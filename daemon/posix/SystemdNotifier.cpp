#include "SystemdNotifier.h"

#include <QByteArray>

#include <algorithm>
#include <systemd/sd-daemon.h>

namespace ws2apid {

namespace {
void notify(const QByteArray &state)
{
    // NOTIFY_SOCKET stays set (unset_environment 0): reloads and the watchdog
    // notify again later.
    sd_notify(0, state.constData());
}
} // namespace

void SystemdNotifier::ready(const QString &status)
{
    notify("READY=1\nSTATUS=" + status.toUtf8());
}

void SystemdNotifier::reloading()
{
    notify("RELOADING=1");
}

void SystemdNotifier::stopping()
{
    notify("STOPPING=1");
}

void SystemdNotifier::watchdog()
{
    notify("WATCHDOG=1");
}

int SystemdNotifier::watchdogIntervalMs() const
{
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0)
        return 0;
    // Twice per period, as sd_watchdog_enabled(3) advises.
    return int(std::max<uint64_t>(usec / 2000, 1));
}

} // namespace ws2apid
