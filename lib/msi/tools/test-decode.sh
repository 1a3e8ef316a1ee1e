#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Golden-output test of rvmsi-msi-decode: each case runs the tool and
# compares its stdout and exit status with what the spec says the bits mean.
set -u
tool=$1
failed=0 n=0

check() {
        local want_rc=$1 want=$2 out rc
        shift 2
        out=$("$tool" "$@" 2>/dev/null)
        rc=$?
        n=$((n + 1))
        if [ "$rc" != "$want_rc" ] || [ "$out" != "$want" ]; then
                echo "FAIL: $* -> rc $rc, output:"
                echo "$out"
                echo "expected rc $want_rc, output:"
                echo "$want"
                failed=$((failed + 1))
        fi
}

# basic PTE to the S-file of hart 1 of the lab's QEMU: 0x28008000
check 0 "fault cause if used: 0 (with MSI_MRIF), 0 (without)
msi pte: basic, target 0x28008000 (ppn 0x28008), sw 0x0" pte 0xa002007
# MRIF PTE: MRIF at 0x80001200, notice to 0x28000000 id 1025 (NID[10] at dw1 bit 60)
check 0 "fault cause if used: 0 (with MSI_MRIF), 263 (without)
msi pte: mrif 0x80001200, notice to 0x28000000 id 1025" pte 0x20000483 0x100000000a000001
check 0 "fault cause if used: 262 (with MSI_MRIF), 262 (without)
msi pte: invalid (V=0)" pte 0xffff0
check 1 "fault cause if used: 263 (with MSI_MRIF), 263 (without)
msi pte: invalid (Invalid argument)" pte 0x5
check 1 "fault cause if used: 263 (with MSI_MRIF), 263 (without)
msi pte: invalid (Invalid argument)" pte 0xa002017
check 2 "" pte
check 2 "" pte zz
check 2 "" bogus

check 0 "address 0x2801d004: table index 29" index 0x1f 0x28000 0x2801d004
check 0 "address 0x29000000: no match, regular translation" index 0x1f 0x28000 0x29000000
check 1 "index: invalid (Invalid argument)" index 0x10000000000000 0x28000 0x28000000

check 0 "msiptp: mode flat, table 0x80200000
mask 0x1f pattern 0x28000: 32 entries, 512 bytes, alignment 0x1000
table placement: ok
  entry 0 covers page 0x28000000
  entry 1 covers page 0x28001000
  entry 2 covers page 0x28002000
  entry 3 covers page 0x28003000
  entry 4 covers page 0x28004000
  entry 5 covers page 0x28005000
  entry 6 covers page 0x28006000
  entry 7 covers page 0x28007000
  ..." dc 0x1000000000080200 0x1f 0x28000
check 1 "msiptp: invalid (Operation not supported)" dc 0x2000000000080200 0x1f 0x28000

check 0 "cause 262 (MSI PTE not valid) [msi], ttyp 3 (untranslated write/AMO), did 0x10, iotval 0x28006000, iotval2 0x0" \
        fault 0x100c00000106 0 0x28006000 0
# cause 273: the IOMMU's own MSI to its msi_addr_x failed; TTYP 0, no device
check 0 "cause 273 (IOMMU MSI write access fault) [iommu-msi-write], ttyp 0 (none), did 0x0, iotval 0x28000000, iotval2 0x0" \
        fault 0x111 0 0x28000000 0

check 0 "IOTINVAL.GVMA gscid 7 gpa 0x28005000" cmd 0x700200000481 0xa001400
# the same with a PSCID in bits 31:12: ignored while PSCV is 0
check 0 "IOTINVAL.GVMA gscid 7 gpa 0x28005000" cmd 0x700200012481 0xa001400
# PSCV = 1 is illegal for GVMA
check 1 "command: invalid (Invalid argument)" cmd 0x700300000481 0xa001400
check 0 "IOFENCE.C PR PW write 0x1 to 0x80000000" cmd 0x100003402 0x20000000
check 0 "IODIR.INVAL_DDT did 0x10" cmd 0x100200000003 0
check 1 "command: invalid (Operation not supported)" cmd 0x1 0

echo "$n cases, $failed failed"
[ "$failed" = 0 ]
