#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The D-Bus policy file, enforced by a real dbus-daemon: a private bus whose
# default context is the one Debian's system.conf has (deny method calls and
# name ownership unless a service file punches holes), plus
# org.rvmsi.Manager1.conf included exactly as installed. rvmsid --backend=sim
# runs on it as root. Then, as uid 65534 (nobody) and as root:
#  - the read-only methods, Properties, Introspectable and Peer reach rvmsid;
#  - every mutating method is refused by the bus for nobody (AccessDenied,
#    before rvmsid sees it) and reaches rvmsid for root;
#  - a method that is not listed (default deny) is refused for everyone;
#  - nobody cannot own org.rvmsi.Manager1.
#
# Last, rvmsictl as nobody against this bus: AccessDenied from the bus must
# give exit status 4 (permission), and reads must work.
#
# usage: test-dbus-policy.sh POLICY_FILE RVMSID DBUS_DAEMON RVMSICTL
set -eu

policy=$(readlink -f "$1")
rvmsid=$2
dbus_daemon=$3
rvmsictl=$4

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rvmsi-policy-XXXXXX")
chmod 0755 "$tmp"
bus_pid=
daemon_pid=
cleanup() {
        [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
        [ -n "$bus_pid" ] && kill "$bus_pid" 2>/dev/null
        rm -rf "$tmp"
}
trap cleanup EXIT

cat >"$tmp/bus.conf" <<EOC
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>rvmsi-policy-test</type>
  <listen>unix:path=$tmp/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
  </policy>
  <include>$policy</include>
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

env -u NOTIFY_SOCKET -u JOURNAL_STREAM "$rvmsid" --backend=sim --bus="$address" --state="$tmp/state" \
        --config="$tmp/config" 2>"$tmp/rvmsid.log" &
daemon_pid=$!
i=0
until dbus-send --bus="$address" --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus.NameHasOwner string:org.rvmsi.Manager1 2>/dev/null | grep -q 'boolean true'; do
        i=$((i + 1))
        if [ $i -gt 400 ] || ! kill -0 "$daemon_pid" 2>/dev/null; then
                echo "FAIL: rvmsid did not take its name"; cat "$tmp/rvmsid.log"; exit 1
        fi
        sleep 0.05
done

failures=0
# call USER EXPECT IFACE.MEMBER [PATH] ARGS...: EXPECT is "denied" (the bus
# refused: AccessDenied) or "reached" (anything else: a reply or an error
# from rvmsid itself).
call() {
        user=$1 expect=$2 member=$3
        shift 3
        path=/org/rvmsi/Manager1
        case "${1:-}" in /*) path=$1; shift ;; esac
        if [ "$user" = nobody ]; then
                run="setpriv --reuid=65534 --regid=65534 --clear-groups"
        else
                run=""
        fi
        out=$($run dbus-send --bus="$address" --print-reply --reply-timeout=5000 --dest=org.rvmsi.Manager1 \
                "$path" "$member" "$@" 2>&1) || true
        case "$out" in
        *org.freedesktop.DBus.Error.AccessDenied*) got=denied ;;
        *org.freedesktop.DBus.Error.NoReply* | *org.freedesktop.DBus.Error.ServiceUnknown* | \
        *org.freedesktop.DBus.Error.Disconnected*) got=broken ;;
        *) got=reached ;;
        esac
        if [ "$got" = "$expect" ]; then
                echo "ok: $user $member: $got"
        else
                echo "FAIL: $user $member: expected $expect, got $got: $out"
                failures=$((failures + 1))
        fi
}

M=org.rvmsi.Manager1.Manager
for who in nobody root; do
        call $who reached org.freedesktop.DBus.Introspectable.Introspect
        call $who reached org.freedesktop.DBus.Peer.Ping
        call $who reached org.freedesktop.DBus.Properties.Get string:$M string:Version
        call $who reached org.freedesktop.DBus.Properties.GetAll string:$M
        call $who reached $M.ListDevices
        call $who reached $M.ListVMs
        call $who reached $M.GetPolicy
        call $who reached $M.CheckPolicy string:'{'
        call $who reached $M.Plan string:'{'
        call $who reached $M.Describe
        call $who reached $M.DescribeSelected
        call $who reached $M.Explain string:0000:00:03.0 string:
        # not in the API, so not in the policy file: default deny
        call $who denied $M.Frobnicate
        call $who denied org.freedesktop.DBus.Properties.Set string:$M string:Version variant:string:x
done

# Every mutating method, with arguments rvmsid rejects (so root's calls
# change nothing either): nobody is stopped by the bus, root gets through.
for who in nobody root; do
        if [ $who = nobody ]; then e=denied; else e=reached; fi
        call $who $e $M.RegisterVM string:x
        call $who $e $M.UnregisterVM string:not-a-uuid
        call $who $e $M.VMEvent string:not-a-uuid string:prepare
        call $who $e $M.AttachDevice string:bogus string:vm string:
        call $who $e $M.DetachDevice string:bogus
        call $who $e $M.SetPolicy string:'{'
        call $who $e $M.Reload
        call $who $e $M.Resync
done

# Name ownership
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups dbus-send --bus="$address" --print-reply \
        --dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.RequestName \
        string:org.rvmsi.Manager1 uint32:0 2>&1) || true
case "$out" in
*AccessDenied*) echo "ok: nobody cannot own org.rvmsi.Manager1" ;;
*) echo "FAIL: nobody RequestName: $out"; failures=$((failures + 1)) ;;
esac

nobody="setpriv --reuid=65534 --regid=65534 --clear-groups"
rc=0
$nobody "$rvmsictl" --bus="$address" resync >"$tmp/out" 2>&1 || rc=$?
if [ $rc -eq 4 ] && grep -q 'org.freedesktop.DBus.Error.AccessDenied' "$tmp/out"; then
        echo "ok: rvmsictl resync as nobody: exit 4, AccessDenied"
else
        echo "FAIL: rvmsictl resync as nobody: exit $rc:"; cat "$tmp/out"; failures=$((failures + 1))
fi
rc=0
$nobody "$rvmsictl" --bus="$address" devices >"$tmp/out" 2>&1 || rc=$?
if [ $rc -eq 0 ]; then
        echo "ok: rvmsictl devices as nobody: exit 0"
else
        echo "FAIL: rvmsictl devices as nobody: exit $rc:"; cat "$tmp/out"; failures=$((failures + 1))
fi

if ! kill -0 "$daemon_pid" 2>/dev/null; then
        echo "FAIL: rvmsid died during the test"; cat "$tmp/rvmsid.log"; exit 1
fi
[ $failures -eq 0 ] || { echo "$failures failures"; exit 1; }
echo "all policy checks passed"
