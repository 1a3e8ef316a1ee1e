#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The D-Bus round trip of reading rvmsid's description of a generated host:
# writes the host of size factor K as a scenario (rvmsi-bench
# --write-scenario), starts a private dbus-daemon and rvmsid --backend=sim
# --scenario on it, and times with rvmsi-bench-dbus, COUNT times each: a full
# read in pages of PAGE devices and VMs with DescribeSelected() (what
# rvmsictl does), one device's DescribeSelected(), Describe() while the
# description fits a reply (above 24 MiB it is refused, and the refusal is
# timed once), and a read of Status, for scale. Reports reply sizes and
# rvmsid's resident memory. Results go to stdout and, as JSON, to
# bench/results/describe-K.json (not committed).
#
#   bench/describe-rtt.sh BUILD_DIR [K...]      (default K: 1 16 64 256)
#   COUNT=5 PAGE=256 bench/describe-rtt.sh build 256
set -euo pipefail

build=$(cd "${1:?usage: describe-rtt.sh BUILD_DIR [K...]}" && pwd)
shift
sizes=${*:-1 16 64 256}
count=${COUNT:-5}
page=${PAGE:-256}
top=$(cd "$(dirname "$0")/.." && pwd)
results=${RESULTS:-$top/bench/results}
mkdir -p "$results"
tmp=$(mktemp -d /tmp/rvmsi-describe-XXXXXX)
bus_pid=""
daemon_pid=""

cleanup() {
        [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null || true
        [ -n "$bus_pid" ] && kill "$bus_pid" 2>/dev/null && wait "$bus_pid" 2>/dev/null || true
        rm -rf "$tmp"
}
trap cleanup EXIT

cat > "$tmp/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>custom</type>
  <listen>unix:path=$tmp/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow receive_sender="*"/>
  </policy>
  <limit name="max_message_size">1000000000</limit>
  <limit name="max_incoming_bytes">1000000000</limit>
  <limit name="reply_timeout">300000</limit>
</busconfig>
CONF
dbus-daemon --config-file="$tmp/bus.conf" --nofork --nopidfile 2> "$tmp/bus.log" &
bus_pid=$!
address="unix:path=$tmp/bus"
for _ in $(seq 100); do [ -S "$tmp/bus" ] && break; sleep 0.05; done

for k in $sizes; do
        echo "== size $k"
        "$build/bench/rvmsi-bench" --sizes="$k" --write-scenario="$tmp/host-$k.json"
        mkdir -p "$tmp/state-$k" "$tmp/config"
        start=$(date +%s%N)
        "$build/daemon/rvmsid" --backend=sim --scenario="$tmp/host-$k.json" --state="$tmp/state-$k" \
                --config="$tmp/config" --bus="$address" > "$tmp/rvmsid-$k.log" 2>&1 &
        daemon_pid=$!
        until busctl --address="$address" status org.rvmsi.Manager1 > /dev/null 2>&1; do
                if ! kill -0 "$daemon_pid" 2>/dev/null; then
                        echo "rvmsid exited; log:" >&2
                        tail -20 "$tmp/rvmsid-$k.log" >&2
                        exit 1
                fi
                sleep 0.2
        done
        echo "rvmsid on the bus after $(( ($(date +%s%N) - start) / 1000000 )) ms"
        rc=0
        "$build/bench/rvmsi-bench-dbus" --address="$address" --count="$count" --page="$page" --pid="$daemon_pid" \
                --json="$results/describe-$k.json" || rc=$?
        if [ $rc != 0 ]; then
                echo "size $k: a read failed; rvmsid is $(kill -0 "$daemon_pid" 2>/dev/null && echo alive || echo gone)," \
                     "on the bus: $(busctl --address="$address" status org.rvmsi.Manager1 > /dev/null 2>&1 && echo yes || echo no)"
                grep -v "^rvmsid: Device '" "$tmp/rvmsid-$k.log" | tail -5
        fi
        kill "$daemon_pid"
        wait "$daemon_pid" || true
        daemon_pid=""
done
