#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Unit test of lab-check.py, the part of the lab that decides pass or fail: every way a run
# can go wrong must fail it, and only a clean run may pass. Runs without root or QEMU.

import os
import subprocess
import sys
import tempfile

CHECK = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lab-check.py')

BOOT = '[    0.000000] Linux version 7.3.4 (riscv64)\n[    1.200000] riscv-iommu 0000:00:01.0: ...\n'
INIT = 'RVMSI-LAB: INIT 7.3.4 console=ttyS0\n'
TAIL = 'RVMSI-LAB: STATE tainted=0 debug_locks=1\nRVMSI-LAB: DMESG BEGIN\n[    0.000000] Linux version 7.3.4\nRVMSI-LAB: DMESG END\nRVMSI-LAB: DONE\n'


def prog(name, body, rc=0):
    return f'RVMSI-LAB: BEGIN {name}\n{body}RVMSI-LAB: END {name} rc={rc} start=1.00 end=2.00\n'


OK_BODY = 'TAP version 13\n1..2\n#  RUN global.a ...\nok 1 global.a\nok 2 global.b\n# PASSED: 2 / 2 tests passed.\n'
CLEAN = BOOT + INIT + prog('00-a', OK_BODY) + prog('10-b', OK_BODY) + TAIL

failures = 0


def case(name, log, want_rc, want_line, status='qemu_exit=0 seconds=7 timeout=840', allowed=''):
    global failures
    with tempfile.TemporaryDirectory() as d:
        paths = {}
        for k, v in (('log', log), ('status', status), ('allowed', allowed)):
            paths[k] = os.path.join(d, k)
            with open(paths[k], 'w') as f:
                f.write(v)
        p = subprocess.run([sys.executable, CHECK, '--allowed-skips', paths['allowed'],
                            '--status', paths['status'], paths['log']],
                           capture_output=True, text=True)
    last = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else ''
    if p.returncode != want_rc or last != want_line:
        failures += 1
        print(f'not ok - {name}: rc {p.returncode} (want {want_rc}), "{last}" (want "{want_line}")')
        print('  ' + p.stdout.replace('\n', '\n  ') + p.stderr)
    else:
        print(f'ok - {name}')


case('clean run passes', CLEAN, 0, '3 passed, 0 failed, 0 skipped')

for report in ('WARNING: CPU: 1 PID: 77 at drivers/iommu/riscv/iommu.c:100 f+0x1/0x2',
               'WARNING: possible circular locking dependency detected',
               'INFO: possible recursive locking detected',
               'BUG: KASAN: slab-out-of-bounds in riscv_iommu_msi_set+0x10/0x20',
               'UBSAN: array-index-out-of-bounds in drivers/iommu/riscv/msi/msi_table.c:42:9',
               'BUG: sleeping function called from invalid context at kernel/locking/mutex.c:580',
               'Unable to handle kernel paging request at virtual address 0000000000000008',
               'Oops [#1]',
               'Kernel panic - not syncing: Fatal exception',
               'kernel BUG at drivers/iommu/riscv/iommu.c:1234!',
               'list_add corruption. prev->next should be next'):
    log = BOOT + INIT + prog('00-a', OK_BODY + f'[    3.100000] {report}\n') + TAIL
    case(f'kernel report fails the run: {report[:40]}', log, 1, '1 passed, 1 failed, 0 skipped')

case('kernel report during boot fails the run',
     BOOT + '[    0.900000] WARNING: CPU: 0 PID: 1 at mm/x.c:1 y\n' + INIT + prog('00-a', OK_BODY) + TAIL,
     1, '1 passed, 1 failed, 0 skipped')
case('kernel report only in the final dmesg fails the run',
     BOOT + INIT + prog('00-a', OK_BODY) + TAIL.replace('DMESG END', 'DMESG END').replace(
         '[    0.000000] Linux version 7.3.4\n', '[    4.000000] UBSAN: shift-out-of-bounds in x.c:1:2\n'),
     1, '1 passed, 1 failed, 0 skipped')
case('kernel report interleaved mid-line fails the run',
     BOOT + INIT + prog('00-a', 'ok 1 global.a[    3.1] BUG: KASAN: use-after-free in f\n') + TAIL,
     1, '1 passed, 1 failed, 0 skipped')
case('"WARNING:" printed by a test program is not a kernel report',
     BOOT + INIT + prog('00-a', OK_BODY + 'WARNING: this is the test talking\n# BUG: also the test\n') + TAIL,
     0, '2 passed, 0 failed, 0 skipped')
case('non-zero exit fails', BOOT + INIT + prog('00-a', OK_BODY, rc=1) + TAIL, 1, '1 passed, 1 failed, 0 skipped')
case('killed by the per-test timeout fails', BOOT + INIT + prog('00-a', 'Killed\n', rc=137) + TAIL,
     1, '1 passed, 1 failed, 0 skipped')
case('"not ok" with exit 0 fails', BOOT + INIT + prog('00-a', 'ok 1 a\nnot ok 2 b\n') + TAIL,
     1, '1 passed, 1 failed, 0 skipped')
case('missing end marker fails',
     BOOT + INIT + 'RVMSI-LAB: BEGIN 00-a\nok 1 a\n' + TAIL, 1, '1 passed, 1 failed, 0 skipped')
case('VM that died mid-test fails both rows',
     BOOT + INIT + 'RVMSI-LAB: BEGIN 00-a\nok 1 a\n', 1, '0 passed, 2 failed, 0 skipped')
case('no test program at all fails', BOOT + INIT + TAIL, 1, '0 passed, 1 failed, 0 skipped')
case('never reached /init fails', BOOT, 1, '0 passed, 1 failed, 0 skipped')
case('QEMU timeout fails', CLEAN, 1, '2 passed, 1 failed, 0 skipped', status='qemu_exit=124 seconds=840 timeout=840')
case('exit 4 is a skip and fails the suite', BOOT + INIT + prog('00-a', OK_BODY) + prog('10-b', '', rc=4) + TAIL,
     1, '2 passed, 0 failed, 1 skipped')
case('a skipped subtest is a skip, not a pass',
     BOOT + INIT + prog('00-a', 'ok 1 a\nok 2 b # SKIP no device\n') + TAIL, 1, '1 passed, 0 failed, 1 skipped')
case('an allowed skip is still a skip but does not fail',
     BOOT + INIT + prog('00-a', OK_BODY) + prog('10-b', '', rc=4) + TAIL,
     0, '2 passed, 0 failed, 1 skipped', allowed='# comment\n10-b waiting for hardware X\n')
case('an allowed subtest skip does not fail',
     BOOT + INIT + prog('00-a', 'ok 1 a\nok 2 b # SKIP no device\n') + TAIL,
     0, '1 passed, 0 failed, 1 skipped', allowed='00-a:b because\n')

case('a W taint fails even without a visible report', CLEAN.replace('tainted=0', 'tainted=512'),
     1, '2 passed, 1 failed, 0 skipped')
case('a D taint (oops) fails', CLEAN.replace('tainted=0', 'tainted=128'), 1, '2 passed, 1 failed, 0 skipped')
case('a harmless taint (N, tests loaded) does not fail', CLEAN.replace('tainted=0', 'tainted=262144'),
     0, '3 passed, 0 failed, 0 skipped')
case('lockdep switched off fails', CLEAN.replace('debug_locks=1', 'debug_locks=0'), 1, '2 passed, 1 failed, 0 skipped')
case('lockdep missing fails', CLEAN.replace('debug_locks=1', 'debug_locks='), 1, '2 passed, 1 failed, 0 skipped')
case('missing STATE line fails', CLEAN.replace('RVMSI-LAB: STATE tainted=0 debug_locks=1\n', ''),
     1, '2 passed, 1 failed, 0 skipped')

print(f'{"FAIL" if failures else "PASS"}: {failures} case(s) failed')
sys.exit(1 if failures else 0)
