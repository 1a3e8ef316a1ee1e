# SPDX-License-Identifier: GPL-2.0-or-later
#
# Sourced by the shell tests of tests/crash: a private dbus-daemon and rvmsid
# on the sim backend, both under a temporary directory, and a busctl wrapper.
# Needs RVMSID (the binary under test); DBUS_DAEMON and BUSCTL are optional.

: "${RVMSID:?RVMSID must name the rvmsid binary}"
DBUS_DAEMON=${DBUS_DAEMON:-dbus-daemon}
BUSCTL=${BUSCTL:-busctl}
command -v "$BUSCTL" > /dev/null || { echo "FAIL: busctl (systemd) is needed" >&2; exit 1; }
command -v "$DBUS_DAEMON" > /dev/null || { echo "FAIL: dbus-daemon is needed" >&2; exit 1; }

TMP=$(mktemp -d "${RVMSI_CRASH_TMPDIR:-/tmp}/rvmsi-crash-XXXXXX")
BUS_PID=""
DAEMON_PID=""
BUS_ADDR="unix:path=$TMP/bus"

lib_cleanup() {
        [ -n "$DAEMON_PID" ] && kill -9 "$DAEMON_PID" 2>/dev/null
        [ -n "$BUS_PID" ] && kill "$BUS_PID" 2>/dev/null
        wait 2>/dev/null
        if [ -n "${RVMSI_CRASH_KEEP:-}" ]; then echo "kept $TMP" >&2; else rm -rf "$TMP"; fi
}
trap lib_cleanup EXIT

# start_bus [SOCKET]: a private dbus-daemon on $TMP/bus (or SOCKET); sets BUS_PID and BUS_ADDR.
start_bus() {
        local sock=${1:-$TMP/bus}
        BUS_ADDR="unix:path=$sock"
        cat > "$sock.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>custom</type>
  <listen>unix:path=$sock</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow receive_sender="*"/>
  </policy>
  <limit name="reply_timeout">300000</limit>
</busconfig>
CONF
        "$DBUS_DAEMON" --config-file="$sock.conf" --nofork --nopidfile 2> "$sock.log" &
        BUS_PID=$!
        for _ in $(seq 200); do [ -S "$sock" ] && return 0; sleep 0.05; done
        echo "FAIL: the private bus did not come up" >&2
        exit 1
}

# start_daemon LOG STATE_DIR SCENARIO [WRAPPER...]: rvmsid (optionally under
# a wrapper such as valgrind) in the background, waiting until it owns its name.
start_daemon() {
        local log=$1 state=$2 scenario=$3 tries
        shift 3
        mkdir -p "$state" "$TMP/config"
        "$@" "$RVMSID" --backend=sim --scenario="$scenario" --state="$state" --config="$TMP/config" \
                --bus="$BUS_ADDR" >> "$log" 2>&1 &
        DAEMON_PID=$!
        tries=${START_TRIES:-600}
        for _ in $(seq "$tries"); do
                if "$BUSCTL" --address="$BUS_ADDR" status org.rvmsi.Manager1 > /dev/null 2>&1; then
                        return 0
                fi
                if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
                        echo "FAIL: rvmsid exited during startup; log:" >&2
                        tail -20 "$log" >&2
                        exit 1
                fi
                sleep 0.1
        done
        echo "FAIL: rvmsid did not take its bus name" >&2
        exit 1
}

# call METHOD SIGNATURE ARGS...: a Manager method; output on stdout, errors on stderr.
call() {
        local method=$1
        shift
        "$BUSCTL" --address="$BUS_ADDR" --timeout=120 call org.rvmsi.Manager1 /org/rvmsi/Manager1 \
                org.rvmsi.Manager1.Manager "$method" "$@"
}

# describe: the Describe() JSON on stdout.
describe() {
        "$BUSCTL" --address="$BUS_ADDR" --timeout=120 --json=short call org.rvmsi.Manager1 /org/rvmsi/Manager1 \
                org.rvmsi.Manager1.Manager Describe | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0])'
}
