#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Turn a lab console log into the result (used by `rvmsi-lab check`).
#
# A test program passes only if it ran to its end marker with exit status 0 and none of its
# TAP lines is a failure or a skip; exit status 4 (KSFT_SKIP) or a "# SKIP" subtest makes it
# skipped, which fails the run unless tests/lab/allowed-skips lists it with a reason. Any
# kernel WARNING/BUG/Oops/panic/lockdep/KASAN/UBSAN report anywhere in the log fails the run,
# as does a VM that never reached the final marker (hang, panic, timeout).

import argparse
import re
import sys

MARK = re.compile(r'RVMSI-LAB: (INIT|BEGIN|END|STATE|DMESG BEGIN|DMESG END|DONE)\b ?(.*)$')
# Taint flags that mean something went wrong in the kernel (bit: letter, meaning).
BAD_TAINT = {4: ('M', 'machine check'), 5: ('B', 'bad page'), 7: ('D', 'kernel died (oops)'),
             9: ('W', 'kernel warning'), 14: ('L', 'soft lockup')}
# Kernel lines carry a printk timestamp (CONFIG_PRINTK_TIME); test output does not, so a
# program that prints "WARNING:" cannot fail the run by accident. The timestamp may start
# mid-line when the kernel's output interleaves with a program's on the console.
KLINE = re.compile(r'\[\s*(\d+\.\d+)\]\s?(.*)$')
REPORT = re.compile(
    r'(WARNING:|BUG:|kernel BUG at|Oops|Kernel panic|Unable to handle kernel|'
    r'INFO: possible|INFO: task .* blocked|detected stalls? on CPU|UBSAN:|KASAN:|'
    r'list_(add|del) corruption|general protection fault|Internal error)')
TAP_OK = re.compile(r'^\s*(not ok|ok)\s+(\d+)\s*(.*?)\s*(#\s*(SKIP|XFAIL|TODO)\b.*)?$', re.I)


def load_allowed(path):
    allowed = {}
    try:
        with open(path) as f:
            for n, line in enumerate(f, 1):
                line = line.strip()
                if not line or line.startswith('#'):
                    continue
                parts = line.split(None, 1)
                if len(parts) < 2:
                    sys.exit(f'{path}:{n}: an allowed skip needs a reason: "{line}"')
                allowed[parts[0]] = parts[1]
    except FileNotFoundError:
        pass
    return allowed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--allowed-skips', default='')
    ap.add_argument('--status', default='')
    ap.add_argument('log')
    a = ap.parse_args()

    allowed = load_allowed(a.allowed_skips) if a.allowed_skips else {}
    status = {}
    if a.status:
        try:
            with open(a.status) as f:
                status = dict(kv.split('=', 1) for kv in f.read().split())
        except FileNotFoundError:
            pass

    with open(a.log, errors='replace') as f:
        lines = [l.rstrip('\r\n').replace('\r', '') for l in f]

    tests = []          # ordered list of dicts
    cur = None
    init = done = False
    state = None
    in_dmesg = False
    reports = []        # (test or phase, line)
    seen = set()
    for idx, line in enumerate(lines):
        m = MARK.search(line)
        if m:
            kind, rest = m.group(1), m.group(2)
            if kind == 'INIT':
                init = True
            elif kind == 'BEGIN':
                cur = {'name': rest.split()[0], 'rc': None, 'tap': [], 'out': [], 'secs': None}
                tests.append(cur)
            elif kind == 'END':
                f = dict(kv.split('=', 1) for kv in rest.split()[1:] if '=' in kv)
                if cur is not None and cur['name'] == rest.split()[0]:
                    cur['rc'] = int(f.get('rc', '-1'))
                    try:
                        cur['secs'] = float(f['end']) - float(f['start'])
                    except (KeyError, ValueError):
                        pass
                cur = None
            elif kind == 'STATE':
                state = dict(kv.split('=', 1) for kv in rest.split() if '=' in kv)
            elif kind == 'DMESG BEGIN':
                in_dmesg = True
            elif kind == 'DMESG END':
                in_dmesg = False
            elif kind == 'DONE':
                done = True
            continue
        k = KLINE.search(line)
        if k and REPORT.search(k.group(2)):
            key = (k.group(1), k.group(2))
            if key not in seen:
                seen.add(key)
                if in_dmesg:
                    where = 'dmesg'
                elif cur:
                    where = cur['name']
                else:
                    where = 'power-off' if done else ('boot' if not init else 'between tests')
                reports.append((where, f'[{k.group(1)}] {k.group(2)}', idx))
        if cur is not None and not in_dmesg:
            cur['out'].append(line)
            t = TAP_OK.match(line)
            if t:
                cur['tap'].append((t.group(1).lower(), t.group(3), (t.group(5) or '').upper()))

    rows = []
    npass = nfail = nskip = 0
    bad_skips = []
    for t in tests:
        tap_fail = [x for x in t['tap'] if x[0] == 'not ok' and x[2] not in ('SKIP', 'XFAIL', 'TODO')]
        tap_skip = [x for x in t['tap'] if x[2] == 'SKIP']
        tap_pass = [x for x in t['tap'] if x[0] == 'ok' and x[2] != 'SKIP']
        detail = f'{len(tap_pass)} ok, {len(tap_fail)} not ok, {len(tap_skip)} skip'
        if t['rc'] is None:
            res, why = 'FAIL', 'no end marker (hung or the VM died)'
        elif t['rc'] not in (0, 4):
            res, why = 'FAIL', f'exit status {t["rc"]}' + (' (killed: timeout?)' if t['rc'] in (137, 143) else '')
        elif tap_fail:
            res, why = 'FAIL', 'TAP failure: ' + ', '.join(x[1] for x in tap_fail)
        elif t['rc'] == 4 or tap_skip:
            res = 'SKIP'
            why = 'exit status 4 (KSFT_SKIP)' if t['rc'] == 4 else 'skipped: ' + ', '.join(x[1] for x in tap_skip)
            names = [t['name']] + [f"{t['name']}:{x[1]}" for x in tap_skip]
            if any(n in allowed for n in names):
                why += ' [allowed: ' + '; '.join(allowed[n] for n in names if n in allowed) + ']'
            else:
                bad_skips.append(t['name'])
        else:
            res, why = 'PASS', ''
        if res == 'PASS':
            npass += 1
        elif res == 'SKIP':
            nskip += 1
        else:
            nfail += 1
        secs = f"{t['secs']:.1f}s" if t['secs'] is not None else '-'
        rows.append((t['name'], res, secs, detail, why))

    # The VM itself: booted, ran everything, powered off cleanly, no kernel report.
    vm_why = []
    if not init:
        vm_why.append('never reached /init')
    if not done:
        vm_why.append('no final marker (panic, hang or timeout)')
    if status.get('qemu_exit', '0') != '0':
        vm_why.append(f"qemu exit {status['qemu_exit']} after {status.get('seconds', '?')} s "
                      f"(timeout {status.get('timeout', '?')} s)")
    if not tests:
        vm_why.append('no test program ran')
    if state is not None:
        try:
            taint = int(state.get('tainted', ''))
        except ValueError:
            taint = None
            vm_why.append('taint flags unreadable')
        if taint:
            bad = [f'{l} ({m})' for bit, (l, m) in sorted(BAD_TAINT.items()) if taint & (1 << bit)]
            if bad:
                vm_why.append(f'kernel tainted {taint}: ' + ', '.join(bad))
        if state.get('debug_locks') != '1':
            vm_why.append(f"lockdep not active at the end (debug_locks={state.get('debug_locks') or 'absent'}): "
                          'locking bugs after that point would go unseen')
    elif done:
        vm_why.append('no STATE line (taint, lockdep) before the final marker')
    if reports:
        vm_why.append(f'{len(reports)} kernel report(s)')
    vm_secs = status['seconds'] + 's' if 'seconds' in status else '-'
    rows.append(('[kernel+vm]', 'FAIL' if vm_why else 'PASS', vm_secs, '', '; '.join(vm_why)))
    if vm_why:
        nfail += 1
    else:
        npass += 1

    if reports:
        print('Kernel reports (each fails the run):')
        for where, l, _ in reports:
            print(f'  during {where}: {l}')
        print()
        # The first reports in full (the kernel lines that follow them), so the stack is
        # in the test log without opening the console log.
        for where, l, idx in reports[:3]:
            print(f'---- kernel log from the report during {where} ----')
            shown = 0
            for line in lines[idx:idx + 200]:
                if KLINE.search(line):
                    print('  ' + line)
                    shown += 1
                    if shown >= 40:
                        break
            print()
    for t in tests:
        r = next(x for x in rows if x[0] == t['name'])
        if r[1] == 'FAIL':
            print(f'---- output of {t["name"]} (last 40 lines) ----')
            for l in t['out'][-40:]:
                print('  ' + l)
            print()
    w = max(len(r[0]) for r in rows)
    print(f'{"test":<{w}}  result  time    subtests                      notes')
    for name, res, secs, detail, why in rows:
        print(f'{name:<{w}}  {res:<6}  {secs:<6}  {detail:<28}  {why}')
    if bad_skips:
        print('\nskipped without an entry in tests/lab/allowed-skips: ' + ', '.join(bad_skips))
    print(f'\n{npass} passed, {nfail} failed, {nskip} skipped')
    return 1 if nfail or bad_skips else 0


if __name__ == '__main__':
    sys.exit(main())
