#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Crash convergence of the real rvmsid process at every backend operation
# (issue 6, part 4; docs/crash.md). The simulated host outlives rvmsid as a
# kernel's tables would (--sim-persist), and RVMSI_TEST_CRASH_AFTER_OPS=k
# makes rvmsid raise SIGKILL on itself right after its k-th operation.
#
# A host is set up once from crash-ops-host.json (rvmsid converges on it and
# exits), then a workload of D-Bus calls (VM registrations, starts and stops,
# device attachments and detachments, policy changes, an unregistration)
# runs on a copy of that host (each run: crash-ops-run.c, one bus connection
# for the whole run):
#   - uninterrupted, counting the backend operations T it takes;
#   - for every k in 1..T (every STRIDE-th with RVMSI_CRASH_OPS_STRIDE, which
#     the sanitizer build sets), with RVMSI_TEST_CRASH_AFTER_OPS=k: rvmsid
#     must die by SIGKILL; state.json must be valid JSON and nothing moved
#     aside as corrupt; rvmsid restarts without the variable on the persisted
#     host, must accept what it finds, the interrupted call is made again and
#     the workload goes on.
# At the end of each run:
#   - Describe() (policy, VMs, devices with every target's decision) and the
#     host's hardware (every device's mode and entries, every vCPU's hart and
#     guest file) equal the uninterrupted run's;
#   - the sim recorded no invariant violation over the host's whole history
#     (it checks every reachability window as it opens and every guest file
#     as it changes hands, before and after each restart);
#   - the window log, checked on its own: no guest file was reachable by
#     devices of two different VMs at any instant.
# At least 200 distinct kill points (RVMSI_CRASH_OPS_MIN_POINTS) when every
# point runs. Runs are spread over RVMSI_CRASH_OPS_JOBS workers (default 2),
# each with its own bus. RVMSI_CRASH_OPS_POINTS="K..." runs only those
# points; RVMSI_CRASH_KEEP=1 keeps the directory with every run's files.
#
#   RVMSID=build/daemon/rvmsid CRASH_OPS_RUN=build/tests/crash/crash-ops-run tests/crash/crash-ops.sh
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# A few hundred runs, each writing state.json with fsync per call: on tmpfs if there is one.
if [ -z "${RVMSI_CRASH_TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
        export RVMSI_CRASH_TMPDIR=/dev/shm
fi
# shellcheck source=daemon-lib.sh
source "$here/daemon-lib.sh"
HOST="$here/crash-ops-host.json"
: "${CRASH_OPS_RUN:?CRASH_OPS_RUN must name the crash-ops-run helper (meson sets it)}"
STRIDE=${RVMSI_CRASH_OPS_STRIDE:-1}
JOBS=${RVMSI_CRASH_OPS_JOBS:-2}
# Only these points (debugging a failure; one worker): RVMSI_CRASH_OPS_POINTS="125 126"
POINTS=${RVMSI_CRASH_OPS_POINTS:-}
[ -z "$POINTS" ] || JOBS=1
MIN_POINTS=${RVMSI_CRASH_OPS_MIN_POINTS:-200}
t_start=$(date +%s.%N)

uuid() { printf 'cccccccc-0000-4000-8000-%012x' "$1"; }
# Most VMs take the policy default class, so that every SetPolicy() changes their devices.
classes=(strict - - - balanced -)

# The workload, one call per step; each is safe to retry after a kill.
steps=()
for i in $(seq 0 11); do
        n=$((2 + i % 3))
        if [ $((i % 2)) = 0 ]; then
                # Pinned vCPUs: (vCPU, [CPU]) pairs.
                pins="2 0 1 $((i % 8)) 1 1 $(((i + 5) % 8))"
        else
                pins="0"
        fi
        steps+=("RegisterVM|ssua(uau)si|w$i $(uuid "$i") $n $pins ${classes[$((i % 6))]} $((i % 4))")
        steps+=("VMEvent|ss|$(uuid "$i") start")
        [ $((i % 4)) = 3 ] && steps+=("VMEvent|ss|$(uuid "$i") stopped")
        [ $((i % 3)) = 1 ] && steps+=("AttachDevice|sss|0000:50:$(printf %02x $((i / 3))).0 host -")
        [ "$i" = 5 ] && steps+=("SetPolicy|s|{\"version\":1,\"defaults\":{\"class\":\"performance\"},\"mrif_fallback\":true}")
        [ "$i" = 7 ] && steps+=("SetPolicy|s|{\"version\":1,\"defaults\":{\"class\":\"strict\"}}")
        [ "$i" = 9 ] && steps+=("SetPolicy|s|{\"version\":1,\"defaults\":{\"class\":\"performance\"}}")
        [ "$i" = 8 ] && steps+=("AttachDevice|sss|0000:50:05.0 vm $(uuid 8)")
done
steps+=("VMEvent|ss|$(uuid 3) start")
steps+=("VMEvent|ss|$(uuid 0) stopped")
steps+=("VMEvent|ss|$(uuid 7) release")
steps+=("UnregisterVM|s|$(uuid 11)")
steps+=("DetachDevice|s|0000:50:01.0")
steps+=("AttachDevice|sss|0000:50:04.0 userspace -")
steps+=("SetPolicy|s|{\"version\":1,\"defaults\":{\"class\":\"balanced\"}}")
steps+=("VMEvent|ss|$(uuid 0) start")
steps+=("SetPolicy|s|{\"version\":1,\"defaults\":{\"class\":\"strict\"},\"mrif_fallback\":true}")
steps+=("VMEvent|ss|$(uuid 5) stopped")
steps+=("SetPolicy|s|{\"version\":1,\"defaults\":{\"class\":\"performance\"}}")
steps+=("VMEvent|ss|$(uuid 5) start")
steps+=("VMEvent|ss|$(uuid 4) stopped")
steps+=("SetPolicy|s|{\"version\":1,\"defaults\":{\"class\":\"strict\"}}")
steps+=("VMEvent|ss|$(uuid 4) start")
steps+=("SetPolicy|s|{\"version\":1,\"defaults\":{\"class\":\"balanced\"},\"mrif_fallback\":true}")
steps+=("VMEvent|ss|$(uuid 1) stopped")
steps+=("VMEvent|ss|$(uuid 1) start")
steps+=("SetPolicy|s|{\"version\":1,\"defaults\":{\"class\":\"performance\"}}")

alive() {
        local _x st
        { read -r _x _x st _x < "/proc/$DAEMON_PID/stat"; } 2>/dev/null || return 1
        [ "$st" != Z ]
}

# run K DIR: the workload on a copy of the seed host; K > 0: killed after K
# operations, restarted, the interrupted call made again (crash-ops-run.c).
run() {
        local k=$1 dir=$2
        cp -a "$TMP/seed" "$dir"
        "$CRASH_OPS_RUN" "$RVMSID" "$dir" "$k" "$TMP/steps" "$TMP/config" "$BUS_ADDR" > "$dir.kills"
}

start_bus
mkdir -p "$TMP/config" "$TMP/seed/state"
printf '%s\n' "${steps[@]}" > "$TMP/steps"

# The host: set up from the scenario, converged once, left as a kernel would be.
"$RVMSID" --backend=sim --scenario="$HOST" --sim-persist="$TMP/seed/sim.json" --state="$TMP/seed/state" \
        --config="$TMP/config" --bus="$BUS_ADDR" >> "$TMP/seed.log" 2>&1 &
DAEMON_PID=$!
for _ in $(seq 3000); do
        "$BUSCTL" --address="$BUS_ADDR" status org.rvmsi.Manager1 > /dev/null 2>&1 && break
        alive || { echo "FAIL: rvmsid did not set up the host:" >&2; cat "$TMP/seed.log" >&2; exit 1; }
        sleep 0.01
done
kill "$DAEMON_PID"
wait "$DAEMON_PID" || true
DAEMON_PID=""

ops_of() {
        python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["counters"]["ops_applied"])' "$1"
}

run 0 "$TMP/ref"
total=$(( $(ops_of "$TMP/ref/sim.json") - $(ops_of "$TMP/seed/sim.json") ))
echo "uninterrupted: ${#steps[@]} calls, $total backend operations"

# The kill points, shared round-robin between JOBS workers, each with its own bus.
worker() {
        local w=$1 k
        BUS_PID=""
        DAEMON_PID=""
        trap '[ -n "$BUS_PID" ] && kill "$BUS_PID"' EXIT
        start_bus "$TMP/bus$w"
        for k in ${POINTS:-$(seq $((1 + w * STRIDE)) $((JOBS * STRIDE)) "$total")}; do
                run "$k" "$TMP/k$k"
                echo "$k" >> "$TMP/done$w"
        done
}
workers=()
for w in $(seq 0 $((JOBS - 1))); do
        worker "$w" > "$TMP/worker$w.log" 2>&1 &
        workers+=($!)
done
failed=0
for w in "${!workers[@]}"; do
        if ! wait "${workers[$w]}"; then
                echo "worker $w failed:" >&2
                cat "$TMP/worker$w.log" >&2
                failed=1
        fi
done
[ $failed = 0 ] || exit 1
points=$(cat "$TMP"/done* 2>/dev/null | sort -u | wc -l)

POINTS=$POINTS python3 - "$TMP" "$total" "$STRIDE" <<'PY'
import collections, json, os, sys

tmp, total, stride = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])


def describe(d):
    x = json.load(open(os.path.join(d, "describe.json")))
    vms = {v["uuid"]: {k: v[k] for k in ("name", "vcpus", "class", "priority", "state", "devices", "placement")}
           for v in x["vms"]}
    devs = {v["pci"]: {k: v[k] for k in ("owner", "vm", "mode", "reason", "isolation", "violation", "targets")}
            for v in x["devices"]}
    return {"policy": x["policy"], "vms": vms, "devices": devs}


def hardware(d):
    x = json.load(open(os.path.join(d, "sim.json")))
    devs = {v["name"]: {"owner": v["owner"], "key": v.get("key"), "locked": v["locked"], "vectors": v["vectors"],
                        "mode": v["mode"], "fallback": v["fallback"],
                        "entries": [{k: e[k] for k in ("target", "kind", "hart", "guest", "refcount", "index")}
                                    for e in v["entries"]]}
            for v in x["devices"]}
    vms = {v["uuid"]: {"state": v["state"], "vcpus": v["vcpus"]} for v in x["vms"]}
    return {"harts": x["harts"], "vms": vms, "devices": devs}, x


def window_log(d, state):
    """Guest-file windows of different VMs never overlap (the log's own check, independent of the sim's)."""
    lines = open(os.path.join(d, "sim.json.windows")).read().splitlines()
    if len(lines) != state["window_log_lines"]:
        sys.exit(f"FAIL: {d}: the window log has {len(lines)} lines, the state says {state['window_log_lines']}")
    wins = {}
    for ln in lines:
        f = ln.split()
        if f[0] == "open":
            wins[int(f[1])] = {"device": f[2], "kind": f[4], "hart": int(f[5]), "guest": int(f[6]), "vm": f[7],
                               "from": int(f[8]), "to": None}
        else:
            wins[int(f[1])]["to"] = int(f[2])
    if len(wins) != state["windows"]:
        sys.exit(f"FAIL: {d}: the window log names {len(wins)} windows, the state {state['windows']}")
    files = collections.defaultdict(list)
    for i, w in wins.items():
        if w["kind"] == "guest-file":
            files[(w["hart"], w["guest"])].append(w)
    inf = float("inf")
    for f, ws in files.items():
        for a in ws:
            for b in ws:
                if a["vm"] != b["vm"] and a["from"] < (b["to"] if b["to"] is not None else inf) and \
                        b["from"] < (a["to"] if a["to"] is not None else inf):
                    sys.exit(f"FAIL: {d}: hart {f[0]} guest file {f[1]} reachable by {a['device']} ({a['vm']}) "
                             f"and {b['device']} ({b['vm']}) at once: {a} {b}")
    return len(wins), sum(1 for w in wins.values() if w["kind"] == "guest-file")


ref = os.path.join(tmp, "ref")
ref_desc = describe(ref)
ref_hw, ref_state = hardware(ref)
nwin, ngf = window_log(ref, ref_state)
if ref_state["violations"]:
    sys.exit(f"FAIL: the uninterrupted run violates an invariant: {ref_state['first_violation']}")
checked = 0
for k in (map(int, os.environ["POINTS"].split()) if os.environ.get("POINTS") else range(1, total + 1, stride)):
    d = os.path.join(tmp, f"k{k}")
    desc = describe(d)
    hw, state = hardware(d)
    if state["violations"]:
        sys.exit(f"FAIL: crash point {k}: invariant violated: {state['first_violation']}")
    window_log(d, state)
    for name, a, b in (("Describe()", ref_desc, desc), ("hardware", ref_hw, hw)):
        if a != b:
            print(f"FAIL: crash point {k}: {name} differs from the uninterrupted run", file=sys.stderr)
            for key in a:
                if a[key] != b[key]:
                    if isinstance(a[key], dict):
                        for x in sorted(set(a[key]) | set(b[key])):
                            if a[key].get(x) != b[key].get(x):
                                print(f"  {key} {x}:\n    uninterrupted: {a[key].get(x)}\n    killed:        "
                                      f"{b[key].get(x)}", file=sys.stderr)
                    else:
                        print(f"  {key}:\n    uninterrupted: {a[key]}\n    killed:        {b[key]}", file=sys.stderr)
            sys.exit(1)
    checked += 1
print(f"{checked} crash points: Describe() and hardware identical to the uninterrupted run, no invariant "
      f"violation; {nwin} reachability windows ({ngf} to guest files) in the uninterrupted run's log")
PY

secs=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$t_start" "$(date +%s.%N)")
echo "crash-ops: $points distinct kill points of $total operations (stride $STRIDE), $points SIGKILLs, $points restarts, ${secs}s"
if [ "$STRIDE" = 1 ] && [ -z "$POINTS" ] && [ "$points" -lt "$MIN_POINTS" ]; then
        echo "FAIL: only $points kill points; the workload must give at least $MIN_POINTS" >&2
        exit 1
fi
