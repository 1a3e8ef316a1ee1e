#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# lib/msi promises no allocation, no I/O and no libc: its objects may only
# reference each other (rvmsi_*) and, in instrumented builds, the sanitizer
# and stack-protector runtime. Anything else (malloc, printf, memcpy, ...)
# would also be a symbol the kernel part cannot resolve.
set -eu
nm=$1
lib=$2
bad=$("$nm" -u "$lib" | awk 'NF == 2 && $1 == "U" { print $2 }' | sort -u |
      grep -v -E '^(rvmsi_|__asan|__ubsan|__lsan|__sanitizer|__gcov|__llvm|_GLOBAL_OFFSET_TABLE_$|__stack_chk_fail$|__stack_chk_guard$)' || true)
if [ -n "$bad" ]; then
        echo "lib/msi references symbols outside itself:"
        echo "$bad"
        exit 1
fi
count=$("$nm" -g --defined-only "$lib" | awk '$2 == "T" { n++ } END { print n + 0 }')
if [ "$count" -lt 40 ]; then
        echo "only $count exported functions found in $lib: is this the right archive?"
        exit 1
fi
echo "ok: $count exported functions, no outside references"
