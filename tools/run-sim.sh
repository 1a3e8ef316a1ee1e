#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The main job: run rvmsid on the simulated host and show what it decided.
#
#   tools/run-sim.sh BUILDDIR [--scenario FILE] [--oneshot]
#
# Starts a private dbus-daemon (nothing is installed, nothing touches the
# system bus), rvmsid --backend=sim on it with a demo scenario from
# tests/data/scenarios/, then shows with rvmsictl what the daemon decided:
# status, VMs, devices, the reason for every decision, the blocked MSIs.
# Without --oneshot it keeps running until Ctrl-C, printing the bus address
# so that you can drive it:  build/cli/rvmsictl --bus=ADDRESS status
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)

usage() {
        echo "usage: $0 BUILDDIR [--scenario FILE] [--oneshot]" >&2
        exit 2
}

[ $# -ge 1 ] || usage
build=$(cd "$1" && pwd)
shift
scenario=""
oneshot=0
while [ $# -gt 0 ]; do
        case "$1" in
        --scenario) [ $# -ge 2 ] || usage; scenario=$2; shift 2 ;;
        --scenario=*) scenario=${1#--scenario=}; shift ;;
        --oneshot) oneshot=1; shift ;;
        *) usage ;;
        esac
done

rvmsid=$build/daemon/rvmsid
rvmsictl=$build/cli/rvmsictl
for b in "$rvmsid" "$rvmsictl"; do
        [ -x "$b" ] || { echo "run-sim: $b not built (ninja -C $build)" >&2; exit 1; }
done
command -v dbus-daemon >/dev/null || { echo "run-sim: dbus-daemon is not installed (apt install dbus)" >&2; exit 1; }
command -v busctl >/dev/null || { echo "run-sim: busctl (systemd) is not installed" >&2; exit 1; }

# The demo: a strict VM with an assigned device on guest files, a host NIC
# whose identity entries follow its affinity, and forged MSIs that fault.
[ -n "$scenario" ] || scenario=$top/tests/data/scenarios/basic.json

tmp=$(mktemp -d /tmp/rvmsi-sim.XXXXXX)
bus_pid=""
daemon_pid=""
cleanup() {
        [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null || true
        [ -n "$bus_pid" ] && kill "$bus_pid" 2>/dev/null && wait "$bus_pid" 2>/dev/null || true
        rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

mkdir -p "$tmp/state" "$tmp/config"
cat >"$tmp/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>rvmsi-sim</type>
  <listen>unix:path=$tmp/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
CONF

dbus-daemon --config-file="$tmp/bus.conf" --nofork --nosyslog --print-address=3 3>"$tmp/address" &
bus_pid=$!
for _ in $(seq 100); do [ -s "$tmp/address" ] && break; sleep 0.05; done
address=$(head -n1 "$tmp/address")
[ -n "$address" ] || { echo "run-sim: dbus-daemon did not start" >&2; exit 1; }

args=(--backend=sim --bus="$address" --state="$tmp/state" --config="$tmp/config")
[ -n "$scenario" ] && args+=(--scenario="$scenario")
echo "== rvmsid ${args[*]}"
"$rvmsid" "${args[@]}" &
daemon_pid=$!

bc() { busctl --address="$address" "$@"; }
has_name() {
        bc call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus NameHasOwner s org.rvmsi.Manager1 \
                2>/dev/null | grep -q true
}
for _ in $(seq 200); do
        has_name && break
        kill -0 "$daemon_pid" 2>/dev/null || { echo "run-sim: rvmsid exited" >&2; daemon_pid=""; exit 1; }
        sleep 0.05
done
has_name || { echo "run-sim: rvmsid did not take its bus name" >&2; exit 1; }

# What an operator sees: rvmsictl on the same bus.
ctl() { "$rvmsictl" --bus="$address" "$@"; }

for verb in status vms devices; do
        echo
        echo "== rvmsictl $verb"
        ctl "$verb"
done
for dev in $(ctl --json devices | python3 -c '
import json, sys
for d in json.load(sys.stdin):
    print(d["pci"])'); do
        echo
        echo "== rvmsictl explain $dev"
        ctl explain "$dev"
done
echo
echo "== rvmsictl faults"
ctl faults

if [ "$oneshot" = 1 ]; then
        exit 0
fi
echo
echo "rvmsid is running on the private bus $address"
echo "try: $rvmsictl --bus=$address show VM-or-DEVICE   (or: --json status, plan FILE, faults --follow)"
echo " or: busctl --address=$address introspect org.rvmsi.Manager1 /org/rvmsi/Manager1"
echo "Ctrl-C to stop."
wait "$daemon_pid"
daemon_pid=""
