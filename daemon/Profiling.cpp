#include "Profiling.h"

#include <QFile>

#include <cstdlib>

#include "Logging.h"

#ifdef WS2API_HAVE_GPERFTOOLS
#include <gperftools/heap-profiler.h>
#include <gperftools/profiler.h>
#endif


namespace ws2apid::profiling {

bool available()
{
#ifdef WS2API_HAVE_GPERFTOOLS
    return true;
#else
    return false;
#endif
}

bool start([[maybe_unused]] const ws2api::ProxyConfig &config)
{
#ifdef WS2API_HAVE_GPERFTOOLS
    if (!config.cpuProfile.isEmpty() && !ProfilerStart(QFile::encodeName(config.cpuProfile).constData()))
        return false;
    if (!config.memProfile.isEmpty())  // periodic dumps go to FILE.NNNN.heap, the last to FILE
        HeapProfilerStart(QFile::encodeName(config.memProfile).constData());
#endif
    return true;
}

void stop([[maybe_unused]] const ws2api::ProxyConfig &config)
{
#ifdef WS2API_HAVE_GPERFTOOLS
    if (!config.cpuProfile.isEmpty())
        ProfilerStop();
    if (!config.memProfile.isEmpty() && IsHeapProfilerRunning()) {
        char *profile = GetHeapProfile();
        QFile file(config.memProfile);
        if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate) || file.write(profile) < 0)
            qCWarning(lcDaemon) << "cannot write the heap profile:" << file.errorString();
        std::free(profile);
        HeapProfilerStop();
    }
#endif
}

} // namespace ws2apid::profiling
