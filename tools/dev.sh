#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# One entry point for developers and CI on a fresh Debian 12 machine:
#   tools/dev.sh deps    install the build and test dependencies (apt)
#   tools/dev.sh build   configure and build (build/, warnings fatal)
#   tools/dev.sh main    the main job: build, then run rvmsid on the simulated host
#                        and show with rvmsictl what it decided ([--scenario FILE] [--oneshot])
#   tools/dev.sh test    the whole test suite: unit, uapi, integration and lab (QEMU
#                        RISC-V), then the same without the lab under ASan+UBSan,
#                        then every libFuzzer harness for RVMSI_FUZZ_SECONDS (30) each
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

# Debian packages needed on the host. The lab installs what it needs inside its
# own trixie chroot (tests/lab/).
DEPS="meson ninja-build pkg-config gcc clang libclang-rt-14-dev libsystemd-dev libnl-3-dev libnl-genl-3-dev libjson-c-dev dbus debootstrap valgrind python3 git libxml2-dev libdbus-1-dev systemd strace"

need_root() {
        if [ "$(id -u)" != 0 ]; then
                echo "dev.sh: '$1' needs root (apt-get, and the lab needs chroot and mounts)" >&2
                exit 1
        fi
}

cmd_deps() {
        local missing=""
        for p in $DEPS; do
                dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing="$missing $p"
        done
        [ -z "$missing" ] && return 0
        need_root deps
        echo "dev.sh: installing:$missing"
        apt-get update -q
        # shellcheck disable=SC2086 # one word per package
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
}

cmd_build() {
        cmd_deps
        [ -d build ] || meson setup build -Dwerror=true
        ninja -C build -j2
}

cmd_main() {
        cmd_build
        exec "$top/tools/run-sim.sh" "$top/build" "$@"
}

# Print the plain closing line that summarises meson test logs, plus the
# fuzzer runs ("fuzz-passed fuzz-failed" as the first two arguments).
summarise() {
        python3 - "$@" <<'PY'
import json, sys
passed, failed, skipped = int(sys.argv[1]), int(sys.argv[2]), 0
for path in sys.argv[3:]:
    with open(path) as f:
        for line in f:
            r = json.loads(line).get("result")
            if r in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif r == "SKIP":
                skipped += 1
            else:
                failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
}

cmd_test() {
        cmd_deps
        local rc=0

        [ -d build ] || meson setup build -Dwerror=true
        ninja -C build -j2
        meson test -C build --print-errorlogs --num-processes 2 || rc=1

        # The sanitizer build runs everything but the lab (the lab's kernel has
        # its own KASAN/UBSAN/lockdep).
        [ -d build-asan ] || meson setup build-asan -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false -Dlab=false
        ninja -C build-asan -j2
        ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
                meson test -C build-asan --print-errorlogs --num-processes 2 || rc=1

        # Every fuzzer for a bounded time from the committed seed corpus, built
        # with clang, ASan and UBSan; any crash, leak or timeout fails the run.
        local fuzz_log fuzz_ok fuzz_failed fuzz_secs=${RVMSI_FUZZ_SECONDS:-30}
        fuzz_log=$(mktemp)
        tests/fuzz/run-fuzzers.sh "$fuzz_secs" 2>&1 | tee "$fuzz_log" || rc=1
        fuzz_ok=$(grep -c '^run-fuzzers: .*: OK' "$fuzz_log" || true)
        fuzz_failed=$(grep -c '^run-fuzzers: .*: FAILED' "$fuzz_log" || true)
        if [ $((fuzz_ok + fuzz_failed)) -eq 0 ]; then
                echo "dev.sh: the fuzzers did not run" >&2
                fuzz_failed=1
                rc=1
        fi
        rm -f "$fuzz_log"

        echo "== results (meson suites in both builds, plus $fuzz_ok + $fuzz_failed fuzzers for ${fuzz_secs}s each)"
        summarise "$fuzz_ok" "$fuzz_failed" build/meson-logs/testlog.json build-asan/meson-logs/testlog.json
        return $rc
}

case "${1:-}" in
main) shift; cmd_main "$@" ;;   # run-sim.sh options: --scenario FILE, --oneshot
deps|build|test) "cmd_$1" ;;
*)
        echo "usage: $0 deps|build|main|test" >&2
        exit 2
        ;;
esac
