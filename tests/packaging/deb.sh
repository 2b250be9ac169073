#!/usr/bin/env bash
# The deb packages as a user gets them: builds them (scripts/package.sh deb), reads
# their control data and file lists, installs them with dpkg, starts the installed
# daemon as the unit would (as the ws2api user, with the installed config, under a
# stand-in NOTIFY_SOCKET: no systemd runs here), makes a WebSocket round trip with
# python3-websockets and an admin hello through /run/ws2api/ as a member of the
# ws2api group, stops it, then purges both packages and checks nothing is left.
# Exit 77 (skipped) where it cannot run: not root, or no dpkg.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: installs packages with dpkg, needs root"
    exit 77
fi
if ! command -v dpkg-deb >/dev/null; then
    echo "SKIP: not a Debian system (no dpkg-deb)"
    exit 77
fi

# A ws2apid this test did not install is someone's: never purge it. One left by an
# interrupted run of this test (its marker is still there) is taken away.
marker=/var/tmp/ws2api-deb-test.installed
if dpkg-query -W -f='${db:Status-Status}' ws2apid ws2api-admin 2>/dev/null | grep -q installed \
    && [ ! -e "$marker" ]; then
    echo "SKIP: ws2apid or ws2api-admin is installed on this machine; this test would replace it"
    exit 77
fi

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }
work=$(mktemp -d /tmp/ws2api-deb-test.XXXXXX)
chmod 755 "$work"  # the daemon (user ws2api) and the operator (nobody) reach into it
cp tests/packaging/probe.py "$work/"  # the checkout may be closed to other users
probe=(/usr/bin/python3 "$work/probe.py")
daemon_pid=""
notify_pid=""
cleanup() {
    [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null || true
    [ -n "$notify_pid" ] && kill "$notify_pid" 2>/dev/null || true
    dpkg --purge ws2api-admin ws2apid >/dev/null 2>&1 || true
    rm -rf "$work" /run/ws2api "$marker"
}
trap cleanup EXIT
dpkg --purge ws2api-admin ws2apid >/dev/null 2>&1 || true

bash scripts/package.sh deb >"$work/build.log" 2>&1 || { cat "$work/build.log"; fail "scripts/package.sh deb"; }
daemon_deb=$(ls build/packages/ws2apid_*.deb)
admin_deb=$(ls build/packages/ws2api-admin_*.deb)
pass "built $daemon_deb and $admin_deb"

# --- control data -------------------------------------------------------------
field() { dpkg-deb -f "$1" "$2"; }
[ "$(field "$daemon_deb" Package)" = ws2apid ] || fail "daemon package name"
[ "$(field "$admin_deb" Package)" = ws2api-admin ] || fail "admin package name"
daemon_depends=$(field "$daemon_deb" Depends)
admin_depends=$(field "$admin_deb" Depends)
for lib in libqt6core6 libqt6network6 libqt6websockets6 libhttp-parser2.9 adduser; do
    [[ "$daemon_depends" == *"$lib"* ]] || fail "ws2apid Depends lacks $lib: $daemon_depends"
done
for lib in libqt6widgets6 libqt6gui6; do
    [[ "$daemon_depends" != *"$lib"* ]] || fail "ws2apid depends on $lib (the daemon is headless): $daemon_depends"
    [[ "$admin_depends" == *"$lib"* ]] || fail "ws2api-admin Depends lacks $lib: $admin_depends"
done
[[ "$admin_depends" != *libqt6websockets6* ]] || fail "ws2api-admin links QtWebSockets: $admin_depends"
pass "Depends computed from the binaries: $daemon_depends"

dpkg-deb -e "$daemon_deb" "$work/control"
[ "$(cat "$work/control/conffiles")" = /etc/ws2api/ws2apid.conf ] || fail "conffiles: $(cat "$work/control/conffiles")"
for script in postinst prerm postrm; do
    [ -x "$work/control/$script" ] || fail "ws2apid has no executable $script"
    sh -n "$work/control/$script" || fail "$script is not valid sh"
done
pass "conffiles and maintainer scripts"

# --- file lists -----------------------------------------------------------------
files() { dpkg-deb -c "$1" | awk '$1 !~ /^d/ { print $6 }' | sort; }
expected_daemon=$(sort <<'LIST'
./etc/ws2api/ws2apid.conf
./lib/systemd/system/ws2apid.service
./usr/sbin/ws2apid
./usr/share/doc/ws2apid/changelog.Debian.gz
./usr/share/doc/ws2apid/copyright
./usr/share/man/man8/ws2apid.8.gz
LIST
)
expected_admin=$( (
    echo ./usr/bin/ws2api-admin
    echo ./usr/share/applications/ws2api-admin.desktop
    echo ./usr/share/doc/ws2api-admin/changelog.Debian.gz
    echo ./usr/share/doc/ws2api-admin/copyright
    echo ./usr/share/icons/hicolor/scalable/apps/ws2api-admin.svg
    for s in 16 32 48 64 128 256; do echo "./usr/share/icons/hicolor/${s}x${s}/apps/ws2api-admin.png"; done
    echo ./usr/share/man/man1/ws2api-admin.1.gz
) | sort)
diff <(echo "$expected_daemon") <(files "$daemon_deb") || fail "ws2apid file list (- expected, + packaged)"
diff <(echo "$expected_admin") <(files "$admin_deb") || fail "ws2api-admin file list (- expected, + packaged)"
pass "file lists"

# The man pages come from --help: a GUI that needs a display would put Qt's
# complaint there instead of the options.
dpkg-deb -x "$daemon_deb" "$work/daemon-root"
dpkg-deb -x "$admin_deb" "$work/admin-root"
man8=$(zcat "$work/daemon-root/usr/share/man/man8/ws2apid.8.gz")
man1=$(zcat "$work/admin-root/usr/share/man/man1/ws2api-admin.1.gz")
[[ "$man8" == *"push\\-token"* && "$man8" == *SIGHUP* ]] || fail "ws2apid.8 lacks the options or SIGNALS"
[[ "$man1" == *"\\-\\-socket"* ]] || fail "ws2api-admin.1 lacks --socket"
[[ "$man1$man8" != *qt.qpa* ]] || fail "a man page holds Qt platform errors instead of --help"
pass "man pages"

# --- install ---------------------------------------------------------------------
touch "$marker"
dpkg -i "$daemon_deb" "$admin_deb" >"$work/install.log" 2>&1 || { cat "$work/install.log"; fail "dpkg -i"; }
getent passwd ws2api >/dev/null || fail "no ws2api user after install"
getent group ws2api >/dev/null || fail "no ws2api group after install"
[ "$(stat -c '%U:%G %a' /etc/ws2api/ws2apid.conf)" = "root:ws2api 640" ] \
    || fail "config is $(stat -c '%U:%G %a' /etc/ws2api/ws2apid.conf), not root:ws2api 640"
[ -L /etc/systemd/system/multi-user.target.wants/ws2apid.service ] || fail "the service is not enabled"
pass "installed: ws2api user and group, config root:ws2api 0640, service enabled"

unit=/lib/systemd/system/ws2apid.service
if command -v systemd-analyze >/dev/null; then
    systemd-analyze verify "$unit" >"$work/verify.log" 2>&1 || { cat "$work/verify.log"; fail "systemd-analyze verify"; }
    pass "systemd-analyze verify $unit"
else
    echo "note: no systemd-analyze, the unit is not verified"
fi
for line in Type=notify User=ws2api Group=ws2api RuntimeDirectory=ws2api Restart=on-failure \
            LimitNOFILE=1048576 NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
            'ExecReload=/bin/kill -HUP $MAINPID'; do
    grep -qxF "$line" "$unit" || fail "the unit lacks $line"
done

# --- run it as systemd would ------------------------------------------------------
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
[ "$exec_start" = "/usr/sbin/ws2apid --config /etc/ws2api/ws2apid.conf" ] || fail "ExecStart=$exec_start"
# What RuntimeDirectory=ws2api and RuntimeDirectoryMode=0750 set up.
install -d -o ws2api -g ws2api -m 0750 /run/ws2api
# The installed config with the demo API on a free loopback port (the command line
# wins over the file), so the test needs no API and takes no fixed port.
coproc NOTIFY { exec "${probe[@]}" notify "$work/notify"; }
notify_pid=$NOTIFY_PID
# Bash closes and unsets NOTIFY once the stand-in has exited (after STOPPING=1):
# read from a copy of its output.
exec {notify_out}<&"${NOTIFY[0]}"
read -r -t 10 -u "$notify_out" line && [ "$line" = listening ] || fail "the notify stand-in did not start"
# The unit's UMask=0027 and LimitNOFILE=1048576 (as far as this machine's hard
# limit allows); the sandbox itself needs systemd.
nofile=$(ulimit -Hn)
[ "$nofile" = unlimited ] || [ "$nofile" -gt 1048576 ] && nofile=1048576
(umask 0027; NOTIFY_SOCKET="$work/notify" exec prlimit --nofile="$nofile:$nofile" -- \
    setpriv --reuid=ws2api --regid=ws2api --init-groups --inh-caps=-all -- \
    $exec_start --listen 127.0.0.1:0 --api demo: >"$work/daemon.log" 2>&1) &
daemon_pid=$!
read -r -t 30 -u "$notify_out" line || { cat "$work/daemon.log"; fail "no READY=1 from the daemon"; }
[[ "$line" == "READY=1 STATUS="*"listening on 127.0.0.1:"* ]] || fail "first notification: $line"
port=$(sed -E 's/.*listening on 127\.0\.0\.1:([0-9]+).*/\1/' <<<"$line")
pass "READY=1 as the ws2api user: $line"

"${probe[@]}" echo "ws://127.0.0.1:$port/CP001" "hello from python3-websockets" || fail "WebSocket round trip"
pass "WebSocket round trip"

sock=/run/ws2api/ws2apid.sock
[ -S "$sock" ] || fail "no admin socket at $sock"
[ "$(stat -c '%U:%G %a' "$sock")" = "ws2api:ws2api 770" ] || fail "admin socket is $(stat -c '%U:%G %a' "$sock")"
# An operator: any user in the ws2api group; without the group: refused.
setpriv --reuid=nobody --regid=nogroup --groups=ws2api -- "${probe[@]}" admin "$sock" \
    || fail "admin hello as a member of the ws2api group"
rc=0; setpriv --reuid=nobody --regid=nogroup --clear-groups -- "${probe[@]}" admin "$sock" 2>/dev/null || rc=$?
[ "$rc" -eq 3 ] || fail "a user outside the ws2api group reached the admin socket (rc $rc)"
pass "admin hello through $sock for the ws2api group only"

kill -TERM "$daemon_pid"
rc=0; wait "$daemon_pid" || rc=$?
daemon_pid=""
[ "$rc" -eq 0 ] || { cat "$work/daemon.log"; fail "ws2apid exited $rc on SIGTERM"; }
read -r -t 10 -u "$notify_out" line && [[ "$line" == STOPPING=1* ]] || fail "no STOPPING=1: $line"
grep -q 'client "CP001" from 127.0.0.1:[0-9]* connected' "$work/daemon.log" || { cat "$work/daemon.log"; fail "no connect line in the log"; }
pass "SIGTERM: STOPPING=1, exit 0"
rm -rf /run/ws2api  # what systemd does with a RuntimeDirectory on stop

# --- upgrade: the same packages again, over an edited config -------------------------
echo "; edited by the operator" >>/etc/ws2api/ws2apid.conf
chmod 0600 /etc/ws2api/ws2apid.conf
dpkg -i --force-confold "$daemon_deb" "$admin_deb" >"$work/upgrade.log" 2>&1 || { cat "$work/upgrade.log"; fail "dpkg -i over an install"; }
grep -q "edited by the operator" /etc/ws2api/ws2apid.conf || fail "the upgrade replaced the edited config"
[ "$(stat -c '%U:%G %a' /etc/ws2api/ws2apid.conf)" = "root:ws2api 600" ] \
    || fail "the upgrade reset the config's owner or mode: $(stat -c '%U:%G %a' /etc/ws2api/ws2apid.conf)"
pass "upgrade: the edited config and its permissions stay"

# --- remove, then purge -------------------------------------------------------------
installed_files=$( (files "$daemon_deb"; files "$admin_deb") | sed 's/^\.//')
dpkg -r ws2api-admin ws2apid >"$work/remove.log" 2>&1 || { cat "$work/remove.log"; fail "dpkg -r"; }
[ ! -e /usr/sbin/ws2apid ] && [ ! -e /lib/systemd/system/ws2apid.service ] || fail "remove left the programs"
[ -f /etc/ws2api/ws2apid.conf ] || fail "remove took the config (a conffile stays until purge)"
pass "removed: programs gone, config kept"
dpkg --purge ws2api-admin ws2apid >"$work/purge.log" 2>&1 || { cat "$work/purge.log"; fail "dpkg --purge"; }
for f in $installed_files; do
    [ ! -e "$f" ] || fail "$f is left after purge"
done
for d in /etc/ws2api /usr/share/doc/ws2apid /usr/share/doc/ws2api-admin; do
    [ ! -e "$d" ] || fail "$d is left after purge"
done
left=$(find /etc/systemd /var/lib/systemd/deb-systemd-helper-enabled /var/lib/systemd/deb-systemd-helper-masked \
       -name 'ws2apid*' 2>/dev/null || true)
[ -z "$left" ] || fail "systemd state left after purge: $left"
if dpkg-query -W -f='${db:Status-Status}' ws2apid 2>/dev/null | grep -qv not-installed; then
    fail "dpkg still knows ws2apid"
fi
pass "purged: no files, no config, no unit state left (the ws2api user stays, as Debian policy advises)"
