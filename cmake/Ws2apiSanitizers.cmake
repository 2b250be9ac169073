# WS2API_SANITIZE: build everything (core, daemon, GUI, tests) with sanitizers.
#   -DWS2API_SANITIZE=address,undefined   ASan + UBSan (what `scripts/dev.sh test` runs in build-asan)
#   -DWS2API_SANITIZE=thread              TSan (by hand; see cmake/sanitizers/tsan.supp)
# A finding ends the process that has it (ASan always, UBSan by -fno-sanitize-recover;
# TSan reports and goes on, then exits 66); ctest gives
# each test its ASAN_/UBSAN_/LSAN_/TSAN_OPTIONS, with every report written to
# <build>/sanitizer-reports/<test>.<pid> (the test's own process and the ws2apid it
# starts alike), and the test `sanitizer_reports`, run after all others, fails when any
# report is there and prints it (cmake/sanitizers/CMakeLists.txt).
# gperftools (tcmalloc, the profiler) is left out of such a build: its allocator and
# ASan's both replace malloc.
set(WS2API_SANITIZE "" CACHE STRING
    "Sanitizers to build with: address,undefined (ASan+UBSan), thread (TSan), or empty for none")
set_property(CACHE WS2API_SANITIZE PROPERTY STRINGS "" "address,undefined" "address" "undefined" "thread")

if(WS2API_SANITIZE)
    if(MSVC)
        message(FATAL_ERROR "WS2API_SANITIZE: GCC or Clang only")
    endif()
    string(REPLACE "," ";" _ws2api_sanitizers "${WS2API_SANITIZE}")
    foreach(_s IN LISTS _ws2api_sanitizers)
        if(NOT _s MATCHES "^(address|undefined|thread)$")
            message(FATAL_ERROR "WS2API_SANITIZE: unknown sanitizer '${_s}' (address, undefined, thread)")
        endif()
    endforeach()
    if("thread" IN_LIST _ws2api_sanitizers AND "address" IN_LIST _ws2api_sanitizers)
        message(FATAL_ERROR "WS2API_SANITIZE: thread and address cannot be combined")
    endif()
    add_compile_options(-fsanitize=${WS2API_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
    add_link_options(-fsanitize=${WS2API_SANITIZE})
    message(STATUS "ws2api: sanitizers ${WS2API_SANITIZE}; gperftools left out")
endif()
