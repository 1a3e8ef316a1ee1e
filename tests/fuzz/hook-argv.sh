#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The libvirt hook's command line (docs/bad-input.md): libvirtd always passes
# GUEST OPERATION SUBOPERATION EXTRA, but the hook is an executable anyone
# can run. Too few arguments: usage on stderr, exit 2, stdin untouched;
# garbage operations with garbage on stdin: exit 0 and silence (libvirt adds
# operations over time; they are not the hook's business). With RVMSI_HOOK_BUS
# pointing nowhere, any attempt to reach rvmsid would show up as an error.
#
#   HOOK=build/hooks/rvmsi-qemu-hook tests/fuzz/hook-argv.sh
set -euo pipefail
: "${HOOK:?HOOK must name rvmsi-qemu-hook}"
export RVMSI_HOOK_BUS=unix:path=/nonexistent/rvmsi-hook-argv-test
export RVMSI_HOOK_CONF=/nonexistent/hook.conf
fail() { echo "FAIL: $*" >&2; exit 1; }

for args in "" "onlyone"; do
        rc=0
        # shellcheck disable=SC2086
        out=$("$HOOK" $args < /dev/null 2>&1) || rc=$?
        [ $rc = 2 ] || fail "'$args': exit $rc, expected 2"
        case "$out" in *usage:*) ;; *) fail "'$args': no usage line: $out";; esac
done

for op in frobnicate "" "$(printf 'x%.0s' $(seq 300))" $'pre\npare' '--help' 'prepare;rm'; do
        rc=0
        out=$(head -c 4096 /dev/urandom | "$HOOK" guest "$op" begin - 2>&1) || rc=$?
        [ $rc = 0 ] || fail "operation '$op': exit $rc, expected 0"
        [ -z "$out" ] || fail "operation '$op': unexpected output: $out"
done
echo "hook-argv: usage errors and unknown operations handled"
