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
#
# With RVMSI_LAB_REPEAT=N, /init announces "RVMSI-LAB: REPEAT N" and runs each program N
# times, each run between its own markers carrying "run=i/N". A program passes only if it
# ran exactly N times and every run passed; it still gets one row and counts once in the
# final line. A log without a REPEAT line is a single-run log.

import argparse
import re
import sys

MARK = re.compile(r'RVMSI-LAB: (INIT|REPEAT|BEGIN|END|STATE|DMESG BEGIN|DMESG END|DONE)\b ?(.*)$')
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


def fields(words):
    """The key=value words of a marker line."""
    return dict(w.split('=', 1) for w in words if '=' in w)


def judge(t, allowed):
    """One run's verdict: (result, reason, subtest counts, whether a skip is allowed)."""
    tap_fail = [x for x in t['tap'] if x[0] == 'not ok' and x[2] not in ('SKIP', 'XFAIL', 'TODO')]
    tap_skip = [x for x in t['tap'] if x[2] == 'SKIP']
    tap_pass = [x for x in t['tap'] if x[0] == 'ok' and x[2] != 'SKIP']
    detail = f'{len(tap_pass)} ok, {len(tap_fail)} not ok, {len(tap_skip)} skip'
    skip_ok = True
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
        skip_ok = any(n in allowed for n in names)
        if skip_ok:
            why += ' [allowed: ' + '; '.join(allowed[n] for n in names if n in allowed) + ']'
    else:
        res, why = 'PASS', ''
    return res, why, detail, skip_ok


def runs_text(nums):
    """'run 4' or 'runs 4, 17, 80-82': run numbers, consecutive ones as a range."""
    spans = []
    for n in sorted(nums):
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    parts = [str(a) if a == b else f'{a}-{b}' for a, b in spans]
    if len(parts) > 12:     # keep the row readable when a program fails most of its runs
        parts = parts[:12] + [f'... ({len(nums)} in all)']
    return ('run ' if len(nums) == 1 else 'runs ') + ', '.join(parts)


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

    progs = {}          # program name -> its runs (dicts), both in log order
    cur = None
    init = done = False
    repeat = 1          # runs per program announced by /init (no REPEAT line: one)
    repeat_bad = None
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
            elif kind == 'REPEAT':
                if re.fullmatch(r'[1-9]\d*', rest.strip()):
                    repeat = int(rest)
                else:
                    repeat_bad = rest
            elif kind == 'BEGIN':
                name = rest.split()[0]
                runs = progs.setdefault(name, [])
                # run=i/N is there only when /init repeats; without it (or if it is
                # garbled) the run's place among the program's runs is its number
                run = fields(rest.split()[1:]).get('run')
                i = re.fullmatch(r'(\d+)/\d+', run or '')
                cur = {'name': name, 'run': run, 'num': int(i.group(1)) if i else len(runs) + 1,
                       'rc': None, 'tap': [], 'out': [], 'secs': None}
                runs.append(cur)
            elif kind == 'END':
                f = fields(rest.split()[1:])
                if cur is not None and cur['name'] == rest.split()[0] and cur['run'] == f.get('run'):
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
                    where = cur['name'] + (f" run {cur['run']}" if cur['run'] else '')
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
    failed_out = []     # failed runs whose output is printed, in log order
    for name, runs in progs.items():
        verdicts = [judge(t, allowed) for t in runs]
        if repeat == 1 and len(runs) == 1:
            # a single run reads exactly as before repeats existed
            res, why, detail, skip_ok = verdicts[0]
            secs = f"{runs[0]['secs']:.1f}s" if runs[0]['secs'] is not None else '-'
            if res == 'SKIP' and not skip_ok:
                bad_skips.append(name)
            if res == 'FAIL':
                failed_out.append(runs[0])
        else:
            # Every run counts: one bad run fails the program, and so does a missing run
            # (the VM died, or a marker was lost), else a flaky program could pass on luck.
            detail = f"{sum(v[0] == 'PASS' for v in verdicts)}/{max(repeat, len(runs))} runs passed"
            # The runs that did not pass, grouped by reason: a flaky program tends to fail
            # the same way each time, and each way is named once with its runs.
            groups = {}
            for t, (r, why, _, _) in zip(runs, verdicts):
                if r != 'PASS':
                    groups.setdefault((r, why), []).append(t)
            notes = [f"{runs_text([t['num'] for t in ts])}: {why}" for (r, why), ts in groups.items()]
            if len(runs) < repeat:
                notes.append(f'ran {len(runs)} of {repeat} times (the VM died or a marker was lost)')
            elif len(runs) > repeat:
                notes.append(f'ran {len(runs)} times, {repeat} announced')
            why = '; '.join(notes)
            if any(v[0] == 'FAIL' for v in verdicts) or len(runs) != repeat:
                res = 'FAIL'
            elif any(v[0] == 'SKIP' for v in verdicts):
                res = 'SKIP'
                if not all(v[3] for v in verdicts if v[0] == 'SKIP'):
                    bad_skips.append(name)
            else:
                res = 'PASS'
            # the time of one run, comparable with a single-run log
            known = [t['secs'] for t in runs if t['secs'] is not None]
            secs = f'{sum(known) / len(known):.1f}s' if known else '-'
            # the output of the first run of each way it failed (not of every failed run)
            failed_out += [ts[0] for (r, _), ts in groups.items() if r == 'FAIL'][:3]
        if res == 'PASS':
            npass += 1
        elif res == 'SKIP':
            nskip += 1
        else:
            nfail += 1
        rows.append((name, res, secs, detail, why))

    # The VM itself: booted, ran everything, powered off cleanly, no kernel report.
    vm_why = []
    if not init:
        vm_why.append('never reached /init')
    if not done:
        vm_why.append('no final marker (panic, hang or timeout)')
    if status.get('qemu_exit', '0') != '0':
        vm_why.append(f"qemu exit {status['qemu_exit']} after {status.get('seconds', '?')} s "
                      f"(timeout {status.get('timeout', '?')} s)")
    if not progs:
        vm_why.append('no test program ran')
    if repeat_bad is not None:
        vm_why.append(f'unreadable REPEAT line "{repeat_bad}": each program taken to run once')
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
    for t in failed_out:
        label = t['name'] + (f" run {t['run']}" if t['run'] else '')
        print(f'---- output of {label} (last 40 lines) ----')
        for l in t['out'][-40:]:
            print('  ' + l)
        print()
    if repeat > 1:
        print(f'RVMSI_LAB_REPEAT={repeat}: each program was to run {repeat} times and passes only if '
              'it did and every run passed; its time is the mean of its runs.')
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
