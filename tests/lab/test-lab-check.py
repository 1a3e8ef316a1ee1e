#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Unit test of lab-check.py, the part of the lab that decides pass or fail: every way a run
# can go wrong must fail it, and only a clean run may pass. Runs without root or QEMU.

import os
import re
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


def case(name, log, want_rc, want_line, status='qemu_exit=0 seconds=7 timeout=840', allowed='',
         want_re=(), want_out=None):
    """Run lab-check.py on LOG: exit status, final line, and optionally regular expressions
    (multi-line mode) the output must match, or the exact whole output."""
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
    missing = [r for r in want_re if not re.search(r, p.stdout, re.M)]
    if want_out is not None and p.stdout != want_out:
        missing.append('the exact expected output')
    if p.returncode != want_rc or last != want_line or missing:
        failures += 1
        print(f'not ok - {name}: rc {p.returncode} (want {want_rc}), "{last}" (want "{want_line}")'
              + ''.join(f'\n  output does not match: {r}' for r in missing))
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

# Single-run logs (no REPEAT line, no run= fields) read exactly as before repeats existed:
# the whole output, trailing blanks included.
case('a single-run log gives exactly the old output',
     BOOT + INIT + prog('00-a', OK_BODY) + prog('10-b', 'ok 1 a\nnot ok 2 b\n', rc=1) + TAIL,
     1, '2 passed, 1 failed, 0 skipped', want_out=(
         '---- output of 10-b (last 40 lines) ----\n'
         '  ok 1 a\n'
         '  not ok 2 b\n'
         '\n'
         'test         result  time    subtests                      notes\n'
         '00-a         PASS    1.0s    2 ok, 0 not ok, 0 skip        \n'
         '10-b         FAIL    1.0s    1 ok, 1 not ok, 0 skip        exit status 1\n'
         '[kernel+vm]  PASS    7s                                    \n'
         '\n'
         '2 passed, 1 failed, 0 skipped\n'))


# RVMSI_LAB_REPEAT: /init announces N and runs each program N times, each run with run=i/N.
def runs(name, n, bad=None, announced=None, last=None):
    """Runs 1..LAST (default N) of NAME with run=i/ANNOUNCED; BAD maps a run number to its
    (body, rc), and a body of None leaves that run without its end marker."""
    out = ''
    for i in range(1, (last or n) + 1):
        body, rc = (bad or {}).get(i, (OK_BODY, 0))
        r = f'run={i}/{announced or n}'
        out += f'RVMSI-LAB: BEGIN {name} {r}\n'
        if body is None:
            out += 'ok 1 global.a\n'
        else:
            out += f'{body}RVMSI-LAB: END {name} {r} rc={rc} start=1.00 end=2.00\n'
    return out


def repeat_line(n):
    return f'RVMSI-LAB: REPEAT {n}\n'


case('repeat: every run passes', BOOT + INIT + repeat_line(3) + runs('00-a', 3) + runs('10-b', 3) + TAIL,
     0, '3 passed, 0 failed, 0 skipped',
     want_re=(r'^00-a +PASS +1\.0s +3/3 runs passed +$', r'^10-b +PASS +1\.0s +3/3 runs passed +$',
              r'^RVMSI_LAB_REPEAT=3: '))
case('repeat: one failed run (not the first, not the last) fails the program and is named',
     BOOT + INIT + repeat_line(3) + runs('00-a', 3, {2: ('ok 1 global.a\nnot ok 2 global.b\n', 0)}) + TAIL,
     1, '1 passed, 1 failed, 0 skipped',
     want_re=(r'^00-a +FAIL +1\.0s +2/3 runs passed +run 2: TAP failure: global\.b$',
              r'^---- output of 00-a run 2/3 \(last 40 lines\) ----$'))
case('repeat: each way of failing is named with its runs',
     BOOT + INIT + repeat_line(5) + runs('00-a', 5, {2: ('', 1), 3: ('Killed\n', 137), 4: ('Killed\n', 137)}) + TAIL,
     1, '1 passed, 1 failed, 0 skipped',
     want_re=(r'^00-a +FAIL .* 2/5 runs passed +run 2: exit status 1; runs 3-4: exit status 137 ',))
case('repeat: a run without its end marker fails the program',
     BOOT + INIT + repeat_line(3) + runs('00-a', 3, {2: (None, 0)}) + TAIL,
     1, '1 passed, 1 failed, 0 skipped',
     want_re=(r'^00-a +FAIL .* 2/3 runs passed +run 2: no end marker',))
case('repeat: fewer runs than announced fails the program, though each of them passed',
     BOOT + INIT + repeat_line(3) + runs('00-a', 3, last=2) + runs('10-b', 3) + TAIL,
     1, '2 passed, 1 failed, 0 skipped',
     want_re=(r'^00-a +FAIL .* 2/3 runs passed +ran 2 of 3 times', r'^10-b +PASS .* 3/3 runs passed'))
case('repeat: the VM dying between two runs fails the program and the VM',
     BOOT + INIT + repeat_line(3) + runs('00-a', 3, last=2),
     1, '0 passed, 2 failed, 0 skipped', want_re=(r'^00-a +FAIL .* ran 2 of 3 times',))
case('repeat: more runs than announced (REPEAT line lost) fails the program',
     BOOT + INIT + runs('00-a', 3) + TAIL,
     1, '1 passed, 1 failed, 0 skipped', want_re=(r'^00-a +FAIL .* ran 3 times, 1 announced',))
case('repeat: an unreadable REPEAT line fails the run',
     BOOT + INIT + 'RVMSI-LAB: REPEAT 3x\n' + runs('00-a', 1) + TAIL,
     1, '1 passed, 1 failed, 0 skipped', want_re=(r'^\[kernel\+vm\] +FAIL .*unreadable REPEAT line',))
case('repeat: a kernel report names the program and the run',
     BOOT + INIT + repeat_line(3) + runs('00-a', 3, {2: (OK_BODY + '[    3.100000] WARNING: CPU: 0 PID: 9 at x.c:1 f\n', 0)})
     + TAIL, 1, '1 passed, 1 failed, 0 skipped', want_re=(r'^  during 00-a run 2/3: \[3\.100000\] WARNING:',))
case('repeat: one skipped run makes the program a skip, which fails unless allowed',
     BOOT + INIT + repeat_line(3) + runs('00-a', 3, {3: ('', 4)}) + TAIL,
     1, '1 passed, 0 failed, 1 skipped', want_re=(r'^00-a +SKIP .* 2/3 runs passed +run 3: exit status 4',))
case('repeat: allowed skips in every run do not fail',
     BOOT + INIT + repeat_line(2) + runs('00-a', 2, {1: ('', 4), 2: ('', 4)}) + TAIL,
     0, '1 passed, 0 failed, 1 skipped', allowed='00-a no device here\n',
     want_re=(r'^00-a +SKIP .* 0/2 runs passed +runs 1-2: exit status 4 \(KSFT_SKIP\) \[allowed',))

print(f'{"FAIL" if failures else "PASS"}: {failures} case(s) failed')
sys.exit(1 if failures else 0)
