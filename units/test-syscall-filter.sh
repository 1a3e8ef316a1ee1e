#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Does rvmsid stay inside the unit's SystemCallFilter=? The build host runs no
# systemd, so the filter cannot be applied for real; instead rvmsid runs under
# strace on a private bus while rvmsictl calls every method (sim backend), and
# every system call it made must be in the set the unit's SystemCallFilter=
# lines allow, expanded with `systemd-analyze syscall-filter`. The kernel
# backend's calls (netlink sockets, ioctl) are not exercised here.
#
# usage: test-syscall-filter.sh UNIT RVMSID DBUS_DAEMON RVMSICTL SCENARIO
set -eu

unit=$1
rvmsid=$2
dbus_daemon=$3
rvmsictl=$4
scenario=$5

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rvmsi-seccomp-XXXXXX")
bus_pid=
strace_pid=
cleanup() {
        if [ -n "$strace_pid" ]; then
                pkill -TERM -P "$strace_pid" 2>/dev/null || true
                wait "$strace_pid" 2>/dev/null || true
        fi
        [ -n "$bus_pid" ] && kill "$bus_pid" 2>/dev/null
        rm -rf "$tmp"
}
trap cleanup EXIT

# expand GROUP-OR-SYSCALL...: one system call name per line
expand() {
        for g in "$@"; do
                case "$g" in
                @*)
                        systemd-analyze syscall-filter "$g" | sed -n '2,$p' | sed 's/^ *//' |
                                grep -v -e '^#' -e '^$' | while read -r s; do expand "$s"; done
                        ;;
                *) echo "$g" ;;
                esac
        done
}

: >"$tmp/allow"
: >"$tmp/deny"
grep '^SystemCallFilter=' "$unit" | sed 's/^SystemCallFilter=//' | while read -r line; do
        case "$line" in
        "~"*) expand ${line#\~} >>"$tmp/deny" ;;
        *) expand $line >>"$tmp/allow" ;;
        esac
done
sort -u "$tmp/allow" >"$tmp/allow.s"
sort -u "$tmp/deny" >"$tmp/deny.s"
comm -23 "$tmp/allow.s" "$tmp/deny.s" >"$tmp/allowed"
[ -s "$tmp/allowed" ] || { echo "FAIL: no SystemCallFilter= allow list in $unit"; exit 1; }
echo "the unit allows $(wc -l <"$tmp/allowed") system calls"

cat >"$tmp/bus.conf" <<EOC
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>rvmsi-seccomp-test</type>
  <listen>unix:path=$tmp/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
EOC
"$dbus_daemon" --config-file="$tmp/bus.conf" --nofork --nosyslog --print-address=3 3>"$tmp/address" &
bus_pid=$!
i=0
while [ ! -s "$tmp/address" ]; do
        i=$((i + 1)); [ $i -gt 200 ] && { echo "FAIL: dbus-daemon did not start"; exit 1; }
        sleep 0.05
done
address=$(head -n 1 "$tmp/address")
mkdir -p "$tmp/state" "$tmp/config"

env -u NOTIFY_SOCKET -u JOURNAL_STREAM strace -f -qq -o "$tmp/trace" "$rvmsid" --backend=sim \
        --bus="$address" --state="$tmp/state" --config="$tmp/config" --scenario="$scenario" 2>"$tmp/rvmsid.log" &
strace_pid=$!
ctl() { "$rvmsictl" --bus="$address" --timeout=20 "$@" >/dev/null 2>&1 || true; }
i=0
until "$rvmsictl" --bus="$address" --timeout=5 status >/dev/null 2>&1; do
        i=$((i + 1))
        [ $i -gt 200 ] && { echo "FAIL: rvmsid did not come up"; cat "$tmp/rvmsid.log"; exit 1; }
        sleep 0.1
done

# every method, valid and invalid calls, and a reload through SIGHUP
ctl status
ctl --json status
ctl devices
ctl vms
ctl show 0000:01:00.0
ctl explain 0000:02:00.0
ctl faults
ctl policy get
echo '{ "version": 1, "defaults": { "class": "strict" } }' >"$tmp/policy.json"
ctl policy check "$tmp/policy.json"
ctl policy set "$tmp/policy.json"
ctl plan "$scenario"
ctl vm register sc1 66666666-0000-4000-8000-000000000006 --vcpus=2 --pin=0:1 --device=0000:05:00.0 --start
ctl vm event sc1 stopped
ctl detach 0000:05:00.0
ctl attach 0000:05:00.0 userspace
ctl vm unregister sc1
ctl resync
ctl reload
ctl explain 0000:09:00.0
cp "$tmp/policy.json" "$tmp/config/policy.json"
pkill -HUP -P "$strace_pid"
sleep 0.3
ctl status

pkill -TERM -P "$strace_pid"
wait "$strace_pid" || true
strace_pid=

sed -n 's/^[0-9]* *\([a-z0-9_]*\)(.*/\1/p' "$tmp/trace" | sort -u >"$tmp/used"
# execve is strace starting rvmsid, before any filter would apply
grep -vx execve "$tmp/used" >"$tmp/used2"
echo "rvmsid made $(wc -l <"$tmp/used2") distinct system calls: $(tr '\n' ' ' <"$tmp/used2")"
bad=$(comm -23 "$tmp/used2" "$tmp/allowed")
if [ -n "$bad" ]; then
        echo "FAIL: outside the unit's SystemCallFilter=: $bad"
        exit 1
fi
[ "$(wc -l <"$tmp/used2")" -ge 20 ] || { echo "FAIL: implausibly few system calls traced"; exit 1; }
echo "ok: every system call is allowed by the unit"
