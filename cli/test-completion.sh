#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The bash completion, driven the way bash drives it: COMP_WORDS/COMP_CWORD
# set, the function called, COMPREPLY checked. Completions that ask rvmsid
# (device and VM names) run the rvmsictl given here on a bus that does not
# exist: they must then offer nothing and print nothing.
#
# usage: test-completion.sh COMPLETION_FILE RVMSICTL
set -u

# compopt only works inside a real completion; a no-op here
compopt() { :; }
source "$1" || exit 1
ctl_dir=$(dirname "$2")
PATH="$ctl_dir:$PATH"
fail=0

check() {
        local want=$1
        shift
        COMP_WORDS=("$@")
        COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        COMPREPLY=()
        local err
        err=$(_rvmsictl 2>&1 >/dev/null)
        _rvmsictl 2>/dev/null
        local got="${COMPREPLY[*]}"
        if [[ "$got" != "$want" ]]; then
                echo "FAIL: '${COMP_WORDS[*]}': got '$got', want '$want'"
                fail=1
        elif [[ -n "$err" ]]; then
                echo "FAIL: '${COMP_WORDS[*]}' printed '$err'"
                fail=1
        else
                echo "ok: '${COMP_WORDS[*]}' -> '$got'"
        fi
}

check "policy plan" rvmsictl p
check "vms vm" rvmsictl v
check "get set check" rvmsictl policy ""
check "register unregister event" rvmsictl vm ""
check "host vm userspace none" rvmsictl --bus=unix:path=/nonexistent attach 0000:00:03.0 ""
check "--json" rvmsictl --js
check "--vcpus=" rvmsictl vm register web1 --vc
check "migrate-out-begin migrate-in-prepare migrate-done" rvmsictl --bus=unix:path=/nonexistent vm event web1 mi
check "" rvmsictl --bus=unix:path=/nonexistent explain ""
exit $fail
