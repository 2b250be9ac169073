#pragma once

// The process around a DaemonRunner: a POSIX one (posix/PosixHost.cpp: signals,
// systemd) or a Windows one (windows/WindowsHost.cpp: the service control manager,
// or a console). CMake builds exactly one; main() only calls it.
namespace ws2apid {

int runHost(int argc, char *argv[]);

} // namespace ws2apid
