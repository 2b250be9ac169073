#!/usr/bin/env bash
# The README's two set-up commands:
#   bash scripts/dev.sh demo   install what is missing, build, run ws2apid on the built-in demo API
#   bash scripts/dev.sh test   install what is missing, build, run every test, then
#                              build the suites again with ASan+UBSan in $build-asan
#                              and run them there (WS2API_ASAN=0 skips that pass)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${WS2API_BUILD_DIR:-build}

configure_and_build() {
    bash scripts/install-deps
    if [ ! -f "$build/build.ninja" ]; then
        # Prefix /usr: the debs (scripts/package.sh deb) pack this same build.
        cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr >/dev/null
    fi
    cmake --build "$build" -- "$@"
}

# The second pass: every suite but the packaging ones (they install the deb built in
# $build, not this one) under ASan+UBSan; any report fails it (cmake/Ws2apiSanitizers.cmake).
# A test that fails there gets a second try (shown in the log): this pass is for the
# sanitizers, and a report stays in sanitizer-reports/ and fails `sanitizer_reports`
# whatever the retry does; functional failures are the first pass's to catch.
# Debug: -O0 and Q_ASSERT on; a third less compile time than -O1 here, and the suites
# wait on sockets far more than they compute.
# Called as `asan_build_and_test || ...`, where set -e does not act: each step says so.
asan_build_and_test() {
    local asan="$build-asan"
    if [ ! -f "$asan/build.ninja" ]; then
        cmake -S . -B "$asan" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DWS2API_SANITIZE=address,undefined >/dev/null || return
    fi
    cmake --build "$asan" || return
    (cd "$asan" && ctest --output-on-failure -j2 --timeout 600 -LE packaging --repeat until-pass:2)
}

case "${1:-}" in
demo)
    configure_and_build ws2apid ws2api-admin
    echo "ws2api demo: WebSocket clients may connect to ws://127.0.0.1:4000/<ClientId>; every message is echoed."
    echo "Watch it from a desktop with $build/gui/ws2api-admin; Ctrl-C stops the daemon."
    exec "$build/daemon/ws2apid" --api demo: --listen 127.0.0.1:4000
    ;;
test)
    configure_and_build
    status=0
    (cd "$build" && ctest --output-on-failure -j2 --timeout 600) || status=$?
    if [ "${WS2API_ASAN:-1}" != 0 ]; then
        echo "dev.sh test: the suites again under ASan+UBSan ($build-asan)"
        asan_build_and_test || status=$?
    fi
    exit $status
    ;;
*)
    echo "usage: bash scripts/dev.sh demo|test" >&2
    exit 2
    ;;
esac
