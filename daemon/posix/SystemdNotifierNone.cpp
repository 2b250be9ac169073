#include "SystemdNotifier.h"

// Built where libsystemd is not: no service manager to tell.
namespace ws2apid {

void SystemdNotifier::ready(const QString &) {}
void SystemdNotifier::reloading() {}
void SystemdNotifier::stopping() {}
void SystemdNotifier::watchdog() {}
int SystemdNotifier::watchdogIntervalMs() const { return 0; }

} // namespace ws2apid
