# Writes the default ws2apid.conf for one platform from ws2apid.conf.in:
#   cmake -DPLATFORM=posix|windows -DOUT=FILE -P resources/ws2apid-conf.cmake
# posix: the packaged daemon's admin socket under /run/ws2api/ for the ws2api group;
# windows: the default local socket name (a named pipe), open to its owner only.
if(PLATFORM STREQUAL "posix")
    set(WS2API_ADMIN_LINE "admin = /run/ws2api/ws2apid.sock")
    set(WS2API_ADMIN_GROUP_LINES "; Members of this group may use the admin socket too. Default: its owner only.
admin-group = ws2api")
elseif(PLATFORM STREQUAL "windows")
    set(WS2API_ADMIN_LINE ";admin = ws2apid")
    set(WS2API_ADMIN_GROUP_LINES "; Not on Windows, where the admin pipe is open to the account ws2apid runs as
; only (the service's: LocalService); setting it stops the daemon from starting.
;admin-group =")
else()
    message(FATAL_ERROR "PLATFORM must be posix or windows, not '${PLATFORM}'")
endif()
configure_file("${CMAKE_CURRENT_LIST_DIR}/ws2apid.conf.in" "${OUT}" @ONLY NEWLINE_STYLE UNIX)
