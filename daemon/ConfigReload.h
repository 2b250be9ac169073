#pragma once

#include <QStringList>

#include "Options.h"

namespace ws2apid {

// What a re-read config changes in a running daemon. Values that a running daemon
// can take (the push token and allow list, log rules, limits and timeouts) come
// from `fresh`; those it cannot (listeners, threads, mode, the API and its pool,
// the admin socket, profiles) keep their running values and are named in
// needRestart.
struct ReloadPlan
{
    ParsedOptions next;       // what to run with from now on
    QStringList changed;      // option names whose new value takes effect
    QStringList needRestart;  // option names whose new value waits for a restart
};

ReloadPlan planReload(const ParsedOptions &running, const ParsedOptions &fresh);

// Every option planReload() knows, for a test that none is forgotten.
QStringList reloadedOptionNames();

} // namespace ws2apid
