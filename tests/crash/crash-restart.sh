#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The real rvmsid process killed with SIGKILL while it serves D-Bus calls
# (issue 6, part 4, process level; the in-process test-crash-converge covers
# every reconciliation step). A workload of VM registrations, device
# attachments, VM starts and stops, a policy change and an unregistration
# runs twice against rvmsid --backend=sim with a state directory:
# uninterrupted, then with a SIGKILL at a seeded random moment (0-40 ms)
# during every call, followed by a restart and a retry of the call.
# After every kill:
#   - state.json, if present, is valid JSON that rvmsid accepts on restart
#     (no "corrupt" line in its log, nothing moved aside);
# at the end:
#   - Describe() of both runs is the same (VMs with state, class, devices and
#     placement; devices with owner, mode and every target's decision), i.e.
#     everything acknowledged before a kill survived it and nothing else did.
#
#   RVMSID=build/daemon/rvmsid tests/crash/crash-restart.sh [SEED]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=daemon-lib.sh
source "$here/daemon-lib.sh"
SCENARIO="$here/restart-host.json"
seed=${1:-${RVMSI_CRASH_SEED:-4242}}
RANDOM=$seed

uuid() { printf 'bbbbbbbb-0000-4000-8000-%012x' "$1"; }

# The workload, one call per step; each is safe to retry after a kill.
N_VMS=12
steps=()
for i in $(seq 0 $((N_VMS - 1))); do
        c1=$((i % 8)) c2=$(((i + 3) % 8))
        if [ $((i % 2)) = 0 ]; then
                steps+=("RegisterVM|ssua(uau)si|w$i $(uuid "$i") 2 2 0 1 $c1 1 1 $c2 balanced $((i % 3))")
        else
                steps+=("RegisterVM|ssua(uau)si|w$i $(uuid "$i") 2 0 strict 0")
        fi
        steps+=("AttachDevice|sss|0000:20:$(printf %02x "$i").0 vm $(uuid "$i")")
        steps+=("VMEvent|ss|$(uuid "$i") start")
        [ $((i % 3)) = 2 ] && steps+=("VMEvent|ss|$(uuid "$i") stopped")
        [ "$i" = 6 ] && steps+=("SetPolicy|s|{\"version\":1,\"defaults\":{\"class\":\"performance\"},\"mrif_fallback\":true}")
done
steps+=("UnregisterVM|s|$(uuid 4)")
steps+=("DetachDevice|s|0000:20:05.0")

# Errors a retried call may meet because its first try did take effect before
# the kill (busctl prints the message, not the error name): InvalidTransition
# for a second "stopped", NoSuchVM for a second UnregisterVM.
retry_ok() {
        case "$1" in
        *"is not valid for VM"*"in state 'stopped'"*|*"no VM with UUID"*) return 0;;
        *) return 1;;
        esac
}

check_state() {
        local dir=$1
        if [ -e "$dir/state.json" ] && ! python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$dir/state.json"; then
                echo "FAIL: state.json is not valid JSON after a kill:" >&2
                head -c 2000 "$dir/state.json" >&2
                exit 1
        fi
        if ls "$dir" | grep -q corrupt; then
                echo "FAIL: a state file was moved aside as corrupt: $(ls "$dir")" >&2
                exit 1
        fi
}

run() {
        local kill_mode=$1 dir=$2 log=$3 kills=0 k method sig args out rc retry pid
        start_daemon "$log" "$dir" "$SCENARIO"
        for k in "${!steps[@]}"; do
                IFS='|' read -r method sig args <<< "${steps[$k]}"
                retry=0
                while :; do
                        # shellcheck disable=SC2086
                        call "$method" "$sig" $args > "$TMP/out" 2>&1 &
                        pid=$!
                        if [ "$kill_mode" = kill ] && [ $retry = 0 ]; then
                                sleep "0.0$(printf %02d $((RANDOM % 40)))"
                                kill -9 "$DAEMON_PID" 2>/dev/null || true
                                wait "$DAEMON_PID" 2>/dev/null || true
                                kills=$((kills + 1))
                        fi
                        rc=0
                        wait "$pid" || rc=$?
                        out=$(cat "$TMP/out")
                        if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
                                check_state "$dir"
                                start_daemon "$log" "$dir" "$SCENARIO"
                                if grep -qi corrupt "$log"; then
                                        echo "FAIL: rvmsid found a corrupt state after a kill:" >&2
                                        grep -i corrupt "$log" >&2
                                        exit 1
                                fi
                                # The call may or may not have been executed: do it again.
                                retry=1
                                continue
                        fi
                        if [ $rc = 0 ] || { [ $retry = 1 ] && retry_ok "$out"; }; then
                                break
                        fi
                        echo "FAIL: step $k ($method $args): $out" >&2
                        exit 1
                done
        done
        describe > "$dir.describe.json"
        kill "$DAEMON_PID"
        wait "$DAEMON_PID" || true
        DAEMON_PID=""
        echo "$kills" > "$dir.kills"
}

# Not in a subshell: the EXIT trap must see DAEMON_PID to clean up after a failure.
start_bus
run plain "$TMP/ref" "$TMP/ref.log"
run kill "$TMP/crash" "$TMP/crash.log"
kills=$(cat "$TMP/crash.kills")

python3 - "$TMP/ref.describe.json" "$TMP/crash.describe.json" <<'PY'
import json, sys

def essence(path):
    d = json.load(open(path))
    vms = {v["uuid"]: {k: v[k] for k in ("name", "vcpus", "class", "priority", "state", "devices", "placement")}
           for v in d["vms"]}
    devs = {x["pci"]: {k: x[k] for k in ("owner", "vm", "mode", "reason", "isolation", "violation", "targets")}
            for x in d["devices"]}
    return {"policy": d["policy"], "vms": vms, "devices": devs}

a, b = essence(sys.argv[1]), essence(sys.argv[2])
if a != b:
    for key in ("policy", "vms", "devices"):
        if a[key] != b[key]:
            print(f"FAIL: {key} differ after the kills", file=sys.stderr)
            if isinstance(a[key], dict):
                for k in sorted(set(a[key]) | set(b[key])):
                    if a[key].get(k) != b[key].get(k):
                        print(f"  {k}:\n    uninterrupted: {a[key].get(k)}\n    killed:        {b[key].get(k)}",
                              file=sys.stderr)
    sys.exit(1)
print(f"{len(a['vms'])} VMs and {len(a['devices'])} devices identical with and without kills")
PY
echo "crash-restart: $kills SIGKILLs during ${#steps[@]} calls (seed $seed), state never corrupt, same final state"
