#!/usr/bin/env bash
# Builds ws2apid_<version>_<arch>.deb and ws2api-admin_<version>_<arch>.deb into
# build/packages/ (run through `bash scripts/package.sh deb`). Packs the same build
# as `scripts/dev.sh` (RelWithDebInfo, as Debian builds: -O2 -g, stripped when
# packed), so the tests and the packages share one compile; that build is
# configured for the prefix /usr, where the packages install.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/install-deps
build=${WS2API_BUILD_DIR:-build}
out=$PWD/build/packages

if [ ! -f "$build/build.ninja" ]; then
    cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr >/dev/null
elif ! grep -qx 'CMAKE_INSTALL_PREFIX:PATH=/usr' "$build/CMakeCache.txt"; then
    cmake -S . -B "$build" -DCMAKE_INSTALL_PREFIX=/usr >/dev/null
fi
cmake --build "$build" --target ws2apid ws2api-admin ws2apid_conf ws2apid_man ws2api-admin_man ws2api_deb_changelog
mkdir -p "$out"
rm -f "$out"/ws2apid_*.deb "$out"/ws2api-admin_*.deb
(cd "$build" && cpack -G DEB -B "$out" >/dev/null)
rm -rf "$out/_CPack_Packages"
ls "$out"/ws2apid_*.deb "$out"/ws2api-admin_*.deb
