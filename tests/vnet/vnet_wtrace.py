#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Check the guest pages a live migration lost against what vmpath wrote.

  vnet_wtrace.py TRACE RAMDIFF [CONSOLE]

TRACE: vmpath's VMP_VNET_WTRACE file (lib/vnet/vnet_wtrace.c): every guest
write and dirty-log mark, in order. RAMDIFF: vnet_mig.py's ramdiff.txt (the
pages that differ between the paused source and destination), or '-':
every page vmpath wrote (the same verdicts, for the whole run). CONSOLE: a
guest console log with VMP-GUEST-IOMEM lines (/proc/iomem), to name the
region of each page.

Per page, one verdict:
  never     vmpath never wrote it: the loss is not vmpath's
  ok        every write was followed by a mark of the page while logging
            was on, and none came after the device stopped
  unmarked  a write with no later mark (or logging off): vmpath's bug
  late      a write or mark after GET_VRING_BASE was answered: vmpath's bug
and, counted apart, 'suspect': an 'ok' page whose ramcmp label is 'rx' or
'used' (the source's copy holds payload or a used ring): the record cannot
show when a DMA copy landed, so a mark taken before the landing would look
'ok'; such a page is not cleared.
Prints 'wtrace pages N never A ok B unmarked C late D suspect E', then a
line per page.
Exit status 0.
"""
import sys

WRITES = set('CDHRUIFA')
MARKS = set('LM')
GET_VRING_BASE = 11


def pages_of(gpa, ln):
    return range(gpa >> 12, ((gpa + max(ln, 1) - 1) >> 12) + 1)


def load_diff(path):
    out = {}
    with open(path) as f:
        for line in f:
            if line.startswith('page '):
                w = line.split()
                out[int(w[1], 16)] = w[4]
    return out


def load_iomem(path):
    regs = []
    if not path:
        return regs
    with open(path, errors='replace') as f:
        for line in f:
            if 'VMP-GUEST-IOMEM: ' not in line:
                continue
            body = line.split('VMP-GUEST-IOMEM: ', 1)[1].rstrip('\r\n')
            rng, _, name = body.partition(' : ')
            a, _, b = rng.strip().partition('-')
            try:
                regs.append((int(a, 16), int(b, 16), name.strip()))
            except ValueError:
                pass
    return regs


def region(regs, gpa):
    """The innermost (smallest) iomem region holding gpa."""
    best = None
    for a, b, n in regs:
        if a <= gpa <= b and (best is None or b - a < best[1] - best[0]):
            best = (a, b, n)
    return best[2] if best else '?'


def main():
    trace, diffp = sys.argv[1], sys.argv[2]
    regs = load_iomem(sys.argv[3] if len(sys.argv) > 3 else None)
    diff = load_diff(diffp) if diffp != '-' else None
    # page -> [(t, vid, kind, log_on)]
    hist = {p: [] for p in diff} if diff is not None else {}
    stopped = {}  # vid -> time GET_VRING_BASE was answered (first)
    log_from = {}  # vid -> time vmpath first saw VHOST_F_LOG_ALL
    with open(trace) as f:
        for line in f:
            w = line.split()
            if len(w) < 7:
                continue
            t, vid, kind = float(w[0]), int(w[1]), w[3]
            if kind == 'E':
                if w[4] == 'done' and int(w[5]) == GET_VRING_BASE:
                    stopped.setdefault(vid, t)
                if w[4] == 'resume' and w[5] == '1':
                    log_from.setdefault(vid, t)
                continue
            gpa, ln, log = int(w[4], 16), int(w[5]), w[6] == '1'
            for p in pages_of(gpa, ln):
                if p in hist:
                    hist[p].append((t, vid, kind, log))
                elif diff is None and kind in WRITES:
                    hist[p] = [(t, vid, kind, log)]
    if diff is None:
        diff = {p: 'written' for p in hist}
    count = {'never': 0, 'ok': 0, 'unmarked': 0, 'late': 0, 'suspect': 0}
    rows = []
    for p in sorted(diff):
        h = hist[p]
        writes = [r for r in h if r[2] in WRITES]
        verdict, why = ('ok', '') if writes else ('never', '')
        for i, (t, vid, k, log) in enumerate(h):
            st = stopped.get(vid)
            if st is not None and t > st:
                verdict, why = 'late', '%s at %.6f after stop %.6f' % (
                    k, t, st)
                break
            if k not in WRITES:
                continue
            if not log and vid in log_from and t >= log_from[vid]:
                verdict, why = 'unmarked', '%s at %.6f with logging off' % (
                    k, t)
                break
            if log and not any(r[2] in MARKS and r[1] == vid and r[3]
                               for r in h[i + 1:]):
                verdict, why = 'unmarked', '%s at %.6f never marked' % (k, t)
                break
        if verdict == 'ok':
            marks = [r for r in h if r[2] in MARKS]
            why = 'last write %s %.6f, last mark %s' % (
                writes[-1][2], writes[-1][0],
                '%.6f' % marks[-1][0] if marks else 'none (before logging)')
        count[verdict] += 1
        if verdict == 'ok' and diff[p] in ('rx', 'used'):
            count['suspect'] += 1
            why += ' (suspect: payload or used ring in the source)'
        kinds = ''.join(sorted({r[2] for r in writes}))
        rows.append('page %#x %s %s writes %d kinds %s region %s %s' % (
            p, diff[p], verdict, len(writes), kinds or '-',
            region(regs, p << 12), why))
    print('wtrace pages %d never %d ok %d unmarked %d late %d suspect %d' % (
        len(diff), count['never'], count['ok'], count['unmarked'],
        count['late'], count['suspect']))
    for r in rows:
        if diffp != '-' or ' ok ' not in r:
            print(r)
    return 0


if __name__ == '__main__':
    sys.exit(main())
