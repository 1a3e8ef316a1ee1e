#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Build the libFuzzer harnesses with clang (ASan + UBSan + coverage) in their
# own build directory and run each for a bounded time, starting from the
# committed seed corpus. Fails on any crash, leak, timeout or out-of-memory;
# the reproducer is kept in the work directory and its path printed (replay it
# with the normal build: build/tests/fuzz/fuzz-<name>-replay <file>).
#
#   tests/fuzz/run-fuzzers.sh [SECONDS_PER_FUZZER] [FUZZER...]
#
# Environment: RVMSI_FUZZ_BUILD (default build-fuzz), RVMSI_FUZZ_WORK (default
# <build>/fuzz-work). Total time is about SECONDS x number of fuzzers, plus
# the build (about 1 minute on 2 cores).
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-60}
shift || true
build=${RVMSI_FUZZ_BUILD:-$top/build-fuzz}
work=${RVMSI_FUZZ_WORK:-$build/fuzz-work}
all="fuzz-policy fuzz-state fuzz-scenario fuzz-netlink fuzz-domain-xml fuzz-hook-conf fuzz-manager"
fuzzers=${*:-$all}

case "$secs" in
        ''|*[!0-9]*) echo "run-fuzzers: seconds must be a number, not '$secs'" >&2; exit 2;;
esac

if [ ! -d "$build" ]; then
        # -fsanitize=fuzzer-no-link instruments every object (libraries included)
        # for coverage; the harness executables add the libFuzzer main themselves.
        CC=clang CFLAGS="-fsanitize=fuzzer-no-link" \
                meson setup "$build" "$top" -Dfuzz=true -Dlab=false -Dwerror=false \
                -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized
fi
ninja -C "$build" -j2 $(for f in $fuzzers; do echo "tests/fuzz/$f"; done)

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

rc=0
for f in $fuzzers; do
        name=${f#fuzz-}
        seeds="$top/tests/fuzz/corpus/$name"
        corpus="$work/$name/corpus"
        artifacts="$work/$name/artifacts/"
        rm -rf "$artifacts"
        mkdir -p "$corpus" "$artifacts"
        echo "run-fuzzers: $f for ${secs}s (seeds: $seeds)"
        start=$SECONDS
        # New inputs go to the work corpus; the committed seeds are only read.
        if "$build/tests/fuzz/$f" "$corpus" "$seeds" \
                -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 -malloc_limit_mb=2048 \
                -detect_leaks=1 -max_len=65536 -print_final_stats=1 \
                -artifact_prefix="$artifacts" > "$work/$name/log" 2>&1; then
                echo "run-fuzzers: $f: OK ($(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$work/$name/log" | grep -o '[0-9]*$') runs in $((SECONDS - start))s)"
        else
                rc=1
                echo "run-fuzzers: $f: FAILED; log $work/$name/log, reproducer(s):" >&2
                ls -1 "$artifacts" >&2 || true
                grep -E 'ERROR|SUMMARY|property violated|Assertion' "$work/$name/log" | head -5 >&2 || true
        fi
done
exit $rc
