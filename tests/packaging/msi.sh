#!/usr/bin/env bash
# package_msi: builds the Windows installer with `bash scripts/package.sh msi`
# (wixl, stand-in binaries) and reads its tables back with msiinfo: the file
# list, the ws2apid service (install, start, stop, removal), the Start-menu
# shortcut and its icon, the fixed upgrade code and the major-upgrade rows, the
# config under ProgramData. It proves what the .wxs declares, not that the msi
# installs or that the binaries run (.github/workflows/windows.yml does that).
# Exit 0 all passed, 1 a check failed, 77 skipped (wixl or msiinfo missing).
set -uo pipefail
cd "$(dirname "$0")/../.."

for tool in wixl msiinfo msiextract; do
    if ! command -v "$tool" >/dev/null; then
        echo "SKIP: $tool is missing (Debian 12: apt-get install wixl msitools; scripts/install-deps does)"
        exit 77
    fi
done

# Pinned here on purpose: changing the UpgradeCode makes a new product that
# installs beside the old one instead of upgrading it.
UpgradeCode='{9D1F3888-52DF-416B-AF5C-CC23AA685173}'

version=$(sed -n 's/^project(ws2api VERSION \([0-9][0-9.]*\).*/\1/p' CMakeLists.txt)
msi=$PWD/build/packages/ws2api-$version-x64-standin.msi
standin=build/msi-staging/standin
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if ! bash scripts/package.sh msi >"$work/build.log" 2>&1; then
    cat "$work/build.log"
    echo "FAIL: bash scripts/package.sh msi failed (output above)"
    echo "0 passed, 1 failed"
    exit 1
fi
[ -f "$msi" ] || { cat "$work/build.log"; echo "FAIL: $msi was not built"; echo "0 passed, 1 failed"; exit 1; }

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }

# rows TABLE COLUMN...: the table's rows, the named columns tab-separated
# (msiinfo export prints column names, column types and the key line first; it
# writes a table's binary streams into a folder named after it, so it runs in $work).
rows() {
    local table=$1
    shift
    (cd "$work" && msiinfo export "$msi" "$table" 2>/dev/null) | tr -d '\r' | awk -F '\t' -v want="$*" '
        NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; n = split(want, w, " ")
                  for (i = 1; i <= n; i++) if (!(w[i] in col)) { print "no column " w[i] > "/dev/stderr"; exit 2 } }
        NR <= 3 { next }
        { line = ""; for (i = 1; i <= n; i++) line = line (i > 1 ? "\t" : "") $(col[w[i]]); print line }'
}
# A long name as the builder stores it: "SHORT~1.EXT|long name" or "long name".
longname() { sed 's/^[^|]*|//'; }

tables=$(msiinfo tables "$msi" 2>/dev/null)
for t in File Component Directory ServiceInstall ServiceControl Shortcut Icon Property Upgrade InstallExecuteSequence Registry; do
    check "table $t is in the msi" grep -qx "$t" <<<"$tables"
done

# --- files and where they go -----------------------------------------------------
rows File File Component_ FileName | awk -F '\t' '{ sub(/^[^|]*\|/, "", $3); print $1 "\t" $2 "\t" $3 }' >"$work/files"
rows Component Component Directory_ Attributes >"$work/components"
rows Directory Directory Directory_Parent DefaultDir | awk -F '\t' '{ sub(/^[^|]*\|/, "", $3); print }' OFS='\t' >"$work/dirs"

# dir_of FILENAME: the folder path the file is installed to, e.g. INSTALLDIR/platforms
dir_of() {
    awk -F '\t' -v name="$1" '
        FILENAME == ARGV[1] { if ($3 == name) comp[$2] = 1; next }
        FILENAME == ARGV[2] { if ($1 in comp) dir = $2; next }
        { parent[$1] = $2; label[$1] = $3 }
        END {
            if (dir == "") exit 1
            # name the well-known folders, spell out the ones below them
            path = ""
            while (dir != "" && dir != "INSTALLDIR" && dir != "CONFIGDIR" && dir != "ProgramMenuFolder") {
                path = "/" label[dir] path; dir = parent[dir]
            }
            print dir path
        }' "$work/files" "$work/components" "$work/dirs"
}
installed_at() { [ "$(dir_of "$1")" = "$2" ]; }

check "ws2apid.exe goes to INSTALLDIR" installed_at ws2apid.exe INSTALLDIR
check "ws2api-admin.exe goes to INSTALLDIR" installed_at ws2api-admin.exe INSTALLDIR
check "ws2apid.conf goes to CONFIGDIR" installed_at ws2apid.conf CONFIGDIR
for dll in Qt6Core Qt6Network Qt6WebSockets Qt6Gui Qt6Widgets vcruntime140 msvcp140; do
    check "$dll.dll goes to INSTALLDIR" installed_at "$dll.dll" INSTALLDIR
done
check "platforms/qwindows.dll goes to INSTALLDIR/platforms" installed_at qwindows.dll INSTALLDIR/platforms
check "tls/qschannelbackend.dll goes to INSTALLDIR/tls" installed_at qschannelbackend.dll INSTALLDIR/tls
runtime_count=$(find "$standin/runtime" -type f | wc -l)
file_count=$(wc -l <"$work/files")
check "every runtime file is in the msi ($runtime_count runtime + 3 = $file_count File rows)" \
    test "$file_count" -eq $((runtime_count + 3))
# A component outside every feature is in the File table but never installed.
rows FeatureComponents Component_ | sort -u >"$work/featured"
unfeatured=$(cut -f2 "$work/files" | sort -u | comm -23 - "$work/featured")
check "every file's component belongs to a feature${unfeatured:+ (not: $(echo $unfeatured | cut -d' ' -f1-3) ...)}" test -z "$unfeatured"
has_dir() { grep -qxF "$(printf '%s\t%s\t%s' "$1" "$2" "$3")" "$work/dirs"; }
check "INSTALLDIR is Program Files (64-bit)\\ws2api" has_dir INSTALLDIR ProgramFiles64Folder ws2api
check "CONFIGDIR is ProgramData\\ws2api" has_dir CONFIGDIR CommonAppDataFolder ws2api

# The config in the msi is the Windows default config, byte for byte.
mkdir -p "$work/x"
msiextract -C "$work/x" "$msi" >/dev/null 2>&1
cmake -DPLATFORM=windows -DOUT="$work/expected.conf" -P resources/ws2apid-conf.cmake
check "ws2apid.conf is resources/ws2apid-conf.cmake's Windows config" \
    cmp -s "$work/x/ws2api/ws2apid.conf" "$work/expected.conf"

# Kept on uninstall and upgrade: the Permanent bit (16) of its component. wixl
# 0.101 (Debian 12) drops the attribute with a warning, so where the msi lacks
# it the .wxs is checked instead; the WiX v3 build on Windows checks the msi.
config_comp=$(awk -F '\t' '$3 == "ws2apid.conf" { print $2 }' "$work/files")
config_attrs=$(awk -F '\t' -v c="$config_comp" '$1 == c { print $3 }' "$work/components")
permanent_in_wxs() {
    tr '\n' ' ' <packaging/msi/ws2api.wxs | grep -qE "<Component [^>]*Id=\"$config_comp\"[^>]*Permanent=\"yes\""
}
if [ -n "$config_attrs" ] && (( config_attrs & 16 )); then
    pass "the config's component is Permanent (in the msi)"
else
    check "the config's component is Permanent (in the .wxs; this wixl drops the bit)" permanent_in_wxs
fi

# --- the service -------------------------------------------------------------------
exe_comp=$(awk -F '\t' '$3 == "ws2apid.exe" { print $2 }' "$work/files")
rows ServiceInstall Name ServiceType StartType ErrorControl StartName Arguments Component_ >"$work/svc"
svc_field() { awk -F '\t' -v f="$1" '$1 == "ws2apid" { print $f }' "$work/svc"; }
check "ServiceInstall has the service ws2apid" test "$(svc_field 1)" = ws2apid
check "ws2apid is installed by ws2apid.exe's component" test -n "$exe_comp" -a "$(svc_field 7)" = "$exe_comp"
check "ws2apid is its own process (type 16)" test "$(svc_field 2)" = 16
check "ws2apid starts automatically (start type 2)" test "$(svc_field 3)" = 2
check "ws2apid's start failures are logged (error control 1, normal)" test "$(svc_field 4)" = 1
check "ws2apid runs as NT AUTHORITY\\LocalService" test "$(svc_field 5)" = 'NT AUTHORITY\LocalService'
check "ws2apid gets --config \"[CommonAppDataFolder]ws2api\\ws2apid.conf\"" \
    test "$(svc_field 6)" = '--config "[CommonAppDataFolder]ws2api\ws2apid.conf"'

rows ServiceControl Name Event Wait Component_ >"$work/ctl"
ctl_field() { awk -F '\t' -v f="$1" '$1 == "ws2apid" { print $f }' "$work/ctl"; }
event=$(ctl_field 2)
event=${event:-0}
check "ServiceControl has the service ws2apid" test "$(ctl_field 1)" = ws2apid
check "ws2apid's control belongs to ws2apid.exe's component" test -n "$exe_comp" -a "$(ctl_field 4)" = "$exe_comp"
check "ws2apid is started on install (event bit 1)" test $((event & 1)) -ne 0
check "ws2apid is stopped on install, before its files are replaced (event bit 2)" test $((event & 2)) -ne 0
check "ws2apid is stopped on uninstall (event bit 32)" test $((event & 32)) -ne 0
check "ws2apid is removed on uninstall (event bit 128)" test $((event & 128)) -ne 0
check "ws2apid is not started on uninstall (event bit 16 clear)" test $((event & 16)) -eq 0
check "the installer waits for ws2apid to start and stop" test "$(ctl_field 3)" = 1

sequence=$(rows InstallExecuteSequence Action)
for action in StopServices DeleteServices InstallServices StartServices RemoveExistingProducts; do
    check "InstallExecuteSequence runs $action" grep -qx "$action" <<<"$sequence"
done

# --- the event log source ---------------------------------------------------------------
# A service has no console: ws2apid writes to the Application log as source ws2apid,
# which needs a message file registered with the service's component.
eventlog=$(rows Registry Root Key Name Value Component_ | awk -F '\t' \
    '$1 == 2 && $2 ~ /^SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\ws2apid\\?$/ && $5 == "DaemonService"')
check "event source ws2apid has a message file" \
    grep -q $'\tEventMessageFile\t\\[WindowsFolder\\]Microsoft.NET.*EventLogMessages.dll\t' <<<"$eventlog"
check "event source ws2apid supports error, warning and information entries" \
    grep -q $'\tTypesSupported\t#7\t' <<<"$eventlog"

# --- the Start-menu shortcut ---------------------------------------------------------
admin_file=$(awk -F '\t' '$3 == "ws2api-admin.exe" { print $1 }' "$work/files")
rows Shortcut Directory_ Name Target Icon_ WkDir | awk -F '\t' '{ sub(/^[^|]*\|/, "", $2); print }' OFS='\t' >"$work/shortcuts"
shortcut=$(awk -F '\t' -v t="[#$admin_file]" '$1 == "ProgramMenuFolder" && $3 == t' "$work/shortcuts")
check "a Start-menu shortcut (ProgramMenuFolder) starts ws2api-admin.exe" test -n "$admin_file" -a -n "$shortcut"
icon=$(cut -f4 <<<"$shortcut")
check "the shortcut starts in INSTALLDIR" test "$(cut -f5 <<<"$shortcut")" = INSTALLDIR
check "the shortcut has an icon from the Icon table" grep -qx "$icon" < <(rows Icon Name)
msiinfo extract "$msi" "Icon.$icon" >"$work/icon" 2>/dev/null
check "the shortcut's icon is an .ico (header 00 00 01 00)" \
    test "$(head -c 4 "$work/icon" | od -An -tx1 | tr -d ' \n')" = 00000100
check "the product icon in Add/Remove Programs is the same icon" \
    test "$(rows Property Property Value | awk -F '\t' '$1 == "ARPPRODUCTICON" { print $2 }')" = "$icon"

# --- product identity and upgrades ------------------------------------------------------
property() { rows Property Property Value | awk -F '\t' -v p="$1" '$1 == p { print $2 }'; }
check "UpgradeCode is the fixed $UpgradeCode" test "$(property UpgradeCode)" = "$UpgradeCode"
check "ProductVersion is CMakeLists.txt's $version" test "$(property ProductVersion)" = "$version"
check "the install is per machine (ALLUSERS=1)" test "$(property ALLUSERS)" = 1
rows Upgrade UpgradeCode VersionMin VersionMax Attributes ActionProperty >"$work/upgrade"
upgrade_row() { awk -F '\t' -v c="$UpgradeCode" -v p="$1" '$1 == c && $5 == p' "$work/upgrade"; }
older=$(upgrade_row WIX_UPGRADE_DETECTED)
newer=$(upgrade_row WIX_DOWNGRADE_DETECTED)
check "older versions (up to $version) of the same UpgradeCode are found for removal" \
    test -n "$older" -a "$(cut -f3 <<<"$older")" = "$version"
check "a newer installed version is only detected, not removed (attribute bit 2)" \
    test -n "$newer" -a $(( $(cut -f4 <<<"$newer" | grep -E '^[0-9]+$' || echo 0) & 2 )) -ne 0
check "a newer installed version stops the install (LaunchCondition)" \
    grep -q '^NOT WIX_DOWNGRADE_DETECTED' < <(rows LaunchCondition Condition)

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
