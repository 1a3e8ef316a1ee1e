#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# valgrind memcheck of the real rvmsid (issue 6, part 3): the daemon on the
# sim backend runs a short scenario at startup, then serves every method of
# the Manager API with good and bad arguments, then stops on SIGTERM. Passes
# only if valgrind reports zero errors (invalid accesses, uninitialized
# values, definite and indirect leaks) and the daemon exits cleanly.
#
#   RVMSID=build/daemon/rvmsid tests/crash/valgrind-rvmsid.sh
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=daemon-lib.sh
source "$here/daemon-lib.sh"
command -v valgrind > /dev/null || { echo "FAIL: valgrind is needed" >&2; exit 1; }
data=${RVMSI_TEST_DATA:-$here/../data}
vlog="$TMP/valgrind.log"

start_bus
START_TRIES=1200 start_daemon "$TMP/rvmsid.log" "$TMP/state" "$here/restart-host.json" \
        valgrind --quiet --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect \
        --errors-for-leak-kinds=definite,indirect --track-origins=yes --log-file="$vlog"

U=bbbbbbbb-0000-4000-8000-000000000001
expect_ok() { call "$@" > /dev/null || { echo "FAIL: $* failed" >&2; exit 1; }; }
expect_err() { if call "$@" > /dev/null 2>&1; then echo "FAIL: $* succeeded" >&2; exit 1; fi; }

expect_ok RegisterVM 'ssua(uau)si' web "$U" 2 1 0 1 2 balanced 3
expect_err RegisterVM 'ssua(uau)si' web not-a-uuid 2 0 balanced 0
expect_err RegisterVM 'ssua(uau)si' '../x' "$U" 2 0 balanced 0
expect_err RegisterVM 'ssua(uau)si' web2 "$U" 0 0 balanced 0
expect_ok AttachDevice sss 0000:20:01.0 vm "$U"
expect_err AttachDevice sss 0000:20:01.0 vm bbbbbbbb-0000-4000-8000-0000000000ff
expect_err AttachDevice sss 'bad name' host ""
expect_ok VMEvent ss "$U" start
expect_err VMEvent ss "$U" explode
expect_ok Explain ss 0000:20:01.0 ""
expect_err Explain ss 0000:99:00.0 ""
expect_ok Describe
expect_ok DescribeSelected 'a{sv}' 2 device_limit u 1 sections as 1 devices
expect_ok DescribeSelected 'a{sv}' 1 devices as 1 0000:20:01.0
expect_err DescribeSelected 'a{sv}' 1 bogus u 1
expect_ok ListDevices
expect_ok ListVMs
expect_ok GetPolicy
expect_err SetPolicy s '{"version":1,"defaults":{"class":"fast"}}'
expect_err SetPolicy s '{"version":1,'
expect_ok CheckPolicy s '{"version":1,"mrif_fallback":false}'
expect_ok SetPolicy s '{"version":1,"defaults":{"class":"strict"}}'
expect_ok Plan s "$(cat "$data/scenarios/lifecycle.json")"
expect_err Plan s '{"version":1,"geometry":{"harts":0,"guest_files":1}}'
expect_ok Resync
expect_ok VMEvent ss "$U" stopped
expect_err DetachDevice s 0000:99:00.0
expect_ok DetachDevice s 0000:20:01.0
expect_ok UnregisterVM s "$U"
expect_err UnregisterVM s "$U"
expect_ok Reload

kill -TERM "$DAEMON_PID"
rc=0
wait "$DAEMON_PID" || rc=$?
DAEMON_PID=""
if [ -s "$vlog" ]; then
        echo "FAIL: valgrind reported errors (exit $rc):" >&2
        cat "$vlog" >&2
        exit 1
fi
if [ $rc != 0 ]; then
        echo "FAIL: rvmsid exited with status $rc under valgrind" >&2
        tail -20 "$TMP/rvmsid.log" >&2
        exit 1
fi
echo "valgrind-rvmsid: 28 calls (12 of them invalid), zero valgrind errors, clean exit"
