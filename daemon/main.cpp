// ws2apid: the headless daemon. Everything it does lives in core and DaemonRunner;
// the host (POSIX process or Windows service) turns its system's requests into
// start, reload and stop.
#include "Host.h"

int main(int argc, char *argv[])
{
    return ws2apid::runHost(argc, argv);
}
