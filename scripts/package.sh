#!/usr/bin/env bash
# Builds the installable packages into build/packages/:
#   bash scripts/package.sh deb   ws2apid_*.deb and ws2api-admin_*.deb (CPack, Debian 12)
#   bash scripts/package.sh msi   ws2api-*.msi from packaging/msi (wixl; on Linux with
#                                 stand-in binaries, on Windows from a real build)
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
deb) exec bash packaging/deb/build.sh ;;
msi) exec bash packaging/msi/build.sh ;;
*)
    echo "usage: bash scripts/package.sh deb|msi" >&2
    exit 2
    ;;
esac
