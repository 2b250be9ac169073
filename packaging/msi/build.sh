#!/usr/bin/env bash
# Builds the Windows installer from packaging/msi/ws2api.wxs into build/packages/:
#   bash scripts/package.sh msi
#
# Two modes, one .wxs:
#   - WS2API_MSI_STAGING unset (Linux): no Windows binaries can be built here, so
#     small text files named like the real ones stand in for ws2apid.exe,
#     ws2api-admin.exe and the Qt/MSVC runtime; wixl (msitools) builds
#     ws2api-<version>-x64-standin.msi. It proves the tables (service, shortcut,
#     upgrade, file list), not that anything runs. Never ship it.
#   - WS2API_MSI_STAGING=DIR (Windows, .github/workflows/windows.yml): DIR holds
#     ws2apid.exe, ws2api-admin.exe and runtime/ (windeployqt --dir output plus
#     the MSVC runtime DLLs); WiX v3 candle/light build ws2api-<version>-x64.msi.
# WS2API_MSI_TOOL=wix3|wixl overrides the builder (default: wix3 where candle.exe
# is found on PATH or under %WIX%, else wixl). WS2API_MSI_VERSION=X.Y.Z overrides
# the version (the Windows workflow builds a second, newer msi to test upgrades).
set -euo pipefail
cd "$(dirname "$0")/../.."

die() { echo "packaging/msi/build.sh: $*" >&2; exit 1; }

version=${WS2API_MSI_VERSION:-$(sed -n 's/^project(ws2api VERSION \([0-9][0-9.]*\).*/\1/p' CMakeLists.txt)}
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "the version must be X.Y.Z (CMakeLists.txt's project(ws2api VERSION ...)), not '$version'"

work=build/msi-staging
gen=$work/generated
rm -rf "$work"
mkdir -p "$gen" build/packages

# --- what goes in -----------------------------------------------------------------
if [ -n "${WS2API_MSI_STAGING:-}" ]; then
    staging=$WS2API_MSI_STAGING
    for f in ws2apid.exe ws2api-admin.exe; do
        [ -f "$staging/$f" ] || die "$staging/$f is missing (WS2API_MSI_STAGING must hold the built executables)"
    done
    [ -d "$staging/runtime" ] || die "$staging/runtime is missing (windeployqt --dir $staging/runtime ...)"
    out=build/packages/ws2api-$version-x64.msi
else
    # Stand-ins named like windeployqt's output for ws2apid (Core, Network,
    # WebSockets) and ws2api-admin (Gui, Widgets, the windows platform plugin,
    # a style, TLS backends), plus the MSVC runtime copied beside them.
    staging=$work/standin
    standins=(
        ws2apid.exe ws2api-admin.exe
        runtime/Qt6Core.dll runtime/Qt6Network.dll runtime/Qt6WebSockets.dll
        runtime/Qt6Gui.dll runtime/Qt6Widgets.dll runtime/Qt6Svg.dll
        runtime/platforms/qwindows.dll
        runtime/styles/qmodernwindowsstyle.dll
        runtime/tls/qschannelbackend.dll runtime/tls/qcertonlybackend.dll
        runtime/tls/qopensslbackend.dll
        runtime/networkinformation/qnetworklistmanager.dll
        runtime/iconengines/qsvgicon.dll
        runtime/imageformats/qico.dll runtime/imageformats/qsvg.dll
        runtime/generic/qtuiotouchplugin.dll
        runtime/msvcp140.dll runtime/vcruntime140.dll runtime/vcruntime140_1.dll
    )
    for f in "${standins[@]}"; do
        mkdir -p "$staging/$(dirname "$f")"
        echo "stand-in for ${f##*/}, written by packaging/msi/build.sh on Linux; not a Windows binary" >"$staging/$f"
    done
    out=build/packages/ws2api-$version-x64-standin.msi
fi

# The default config, as the daemon on Windows reads it.
[ -f resources/ws2apid-conf.cmake ] || die "resources/ws2apid-conf.cmake is missing"
cmake -DPLATFORM=windows -DOUT="$gen/ws2apid.conf" -P resources/ws2apid-conf.cmake

# The Start-menu icon: an .ico holding the PNG renderings as they are (Windows
# reads PNG-compressed icon images since Vista), written here so no icon tool is
# needed on either builder.
le16() { printf "\\$(printf %03o $(($1 & 255)))\\$(printf %03o $(($1 >> 8 & 255)))"; }
le32() { le16 $(($1 & 65535)); le16 $(($1 >> 16 & 65535)); }
make_ico() {
    local out=$1 png offset size px
    shift
    offset=$((6 + 16 * $#))
    {
        le16 0; le16 1; le16 $#
        for png in "$@"; do
            px=${png##*-}; px=${px%.png}
            size=$(wc -c <"$png")
            printf "\\$(printf %03o $((px % 256)))\\$(printf %03o $((px % 256)))"  # 256 is written as 0
            printf '\0\0'; le16 1; le16 32; le32 "$size"; le32 "$offset"
            offset=$((offset + size))
        done
        cat "$@"
    } >"$out"
}
icons=()
for px in 16 32 48 64 128 256; do
    png=resources/icons/ws2api-admin-$px.png
    [ -f "$png" ] || die "$png is missing"
    icons+=("$png")
done
make_ico "$gen/ws2api-admin.ico" "${icons[@]}"

# Everything windeployqt left beside the executables, as a component group.
bash packaging/msi/runtime-fragment.sh "$staging/runtime" >"$gen/runtime.wxs"

# --- the builder --------------------------------------------------------------------
tool=${WS2API_MSI_TOOL:-}
# WiX v3 is candle.exe on PATH, or under %WIX% (its installer sets that; the
# GitHub windows-2022 image has v3.14 in C:\Program Files (x86)\WiX Toolset v3.14).
wixbin=""
if ! command -v candle.exe >/dev/null && [ -n "${WIX:-}" ] && command -v cygpath >/dev/null \
    && [ -f "$(cygpath -u "$WIX")/bin/candle.exe" ]; then
    wixbin=$(cygpath -u "$WIX")/bin
fi
if [ -z "$tool" ]; then
    if [ -n "$wixbin" ] || command -v candle.exe >/dev/null; then tool=wix3; else tool=wixl; fi
fi

# Paths as the builder takes them: C:/... under Git Bash on Windows, as they are on Linux.
native() { if command -v cygpath >/dev/null; then cygpath -m "$1"; else printf '%s' "$1"; fi; }
variables=(
    "Version=$version"
    "StagingDir=$(native "$staging")"
    "RuntimeDir=$(native "$staging/runtime")"
    "ConfigFile=$(native "$gen/ws2apid.conf")"
    "IconFile=$(native "$gen/ws2api-admin.ico")"
)
rm -f "$out"
case $tool in
wixl)
    command -v wixl >/dev/null || die "neither WiX v3 (candle.exe on PATH or under %WIX%) nor wixl (Debian: apt-get install wixl) is here"
    # wixl prints "unimplemented" for the non-advertised shortcut yet writes it
    # whole (name, target, icon, working folder). wixl 0.101 (Debian 12) drops the
    # config component's Permanent bit (with a warning) and sets no 64-bit
    # component bit: one more reason never to install this msi.
    defines=()
    for v in "${variables[@]}"; do defines+=(-D "$v"); done
    wixl -a x64 "${defines[@]}" -o "$out" packaging/msi/ws2api.wxs "$gen/runtime.wxs"
    ;;
wix3)
    candle=${wixbin:+$wixbin/}candle.exe
    light=${wixbin:+$wixbin/}light.exe
    command -v "$candle" >/dev/null || die "WiX v3's candle.exe is neither on PATH nor under %WIX%"
    "$candle" -nologo -arch x64 "${variables[@]/#/-d}" \
        -out "$(native "$gen/ws2api.wixobj")" "$(native packaging/msi/ws2api.wxs)"
    "$candle" -nologo -arch x64 "${variables[@]/#/-d}" \
        -out "$(native "$gen/runtime.wixobj")" "$(native "$gen/runtime.wxs")"
    "$light" -nologo -out "$(native "$out")" "$(native "$gen/ws2api.wixobj")" "$(native "$gen/runtime.wixobj")"
    ;;
*) die "WS2API_MSI_TOOL must be wix3 or wixl, not '$tool'" ;;
esac
[ -s "$out" ] || die "$tool wrote no $out"
echo "packaging/msi/build.sh: built $out with $tool${WS2API_MSI_STAGING:+ from $staging}"
[ -n "${WS2API_MSI_STAGING:-}" ] || echo "packaging/msi/build.sh: stand-in binaries inside: for checking the tables only, not for installing"
