#!/usr/bin/env bash
# The README's two set-up commands:
#   bash scripts/dev.sh demo   install what is missing, build, run ws2apid on the built-in demo API
#   bash scripts/dev.sh test   install what is missing, build, run every test
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

case "${1:-}" in
demo)
    configure_and_build ws2apid ws2api-admin
    echo "ws2api demo: WebSocket clients may connect to ws://127.0.0.1:4000/<ClientId>; every message is echoed."
    echo "Watch it from a desktop with $build/gui/ws2api-admin; Ctrl-C stops the daemon."
    exec "$build/daemon/ws2apid" --api demo: --listen 127.0.0.1:4000
    ;;
test)
    configure_and_build
    cd "$build"
    exec ctest --output-on-failure -j2 --timeout 600
    ;;
*)
    echo "usage: bash scripts/dev.sh demo|test" >&2
    exit 2
    ;;
esac
