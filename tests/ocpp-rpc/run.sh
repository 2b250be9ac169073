#!/bin/sh
# Runs the ocpp-rpc end-to-end suite (ctest test ocpp_rpc_e2e).
#   run.sh SOURCE_DIR WORK_DIR WS2APID
# Copies the suite into WORK_DIR (the build tree), installs the pinned packages
# there with `npm ci` when package-lock.json changed since the last install (quiet
# otherwise), then runs it with node's test runner. $NODE and $NPM may name the
# programs (CMake passes the ones it found).
set -eu
src=$1 work=$2 daemon=$3
node=${NODE:-node} npm=${NPM:-npm}

mkdir -p "$work"
cp "$src/package.json" "$src/package-lock.json" "$src/test.mjs" "$work/"
stamp="$work/node_modules/.ws2api-installed-lock"
if ! cmp -s "$work/package-lock.json" "$stamp" 2>/dev/null; then
    echo "ocpp-rpc e2e: npm ci in $work"
    "$npm" ci --no-audit --no-fund --loglevel=error --prefix "$work"
    cp "$work/package-lock.json" "$stamp"
fi
WS2APID=$daemon exec "$node" --test --test-reporter=tap "$work/test.mjs"
