#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Helpers of tests/vnet/vnet_migrate.sh (stdlib only).

  vnet_mig.py ping ADDR OUT        ICMP echo every 50 ms until SIGTERM; OUT
                                   gets one line per echo: seq, send time,
                                   reply time or '-' (CLOCK_REALTIME, s)
  vnet_mig.py udp ADDR PPS DATA     UDP datagrams (the first 1400 bytes of
                                   file DATA) to ADDR port 9, PPS per s, until
                                   SIGTERM: not flow-controlled, so copies
                                   are in flight when the guest stops
  vnet_mig.py migrate QMP URI BW   drive a live migration over QMP: cap the
                                   bandwidth at BW bytes/s, migrate, poll
                                   query-migrate; prints 'start T', then
                                   'status S total_ms N downtime_ms N
                                   setup_ms N end T' (T: CLOCK_REALTIME)
  vnet_mig.py qmp QMP CMD          run one QMP command, print the reply
  vnet_mig.py ramcmp SRC DST DIR SIZE DATA
                                   after `completed`, both QEMUs paused:
                                   dump guest RAM [0, SIZE) of both (pmemsave
                                   into DIR), compare it page by page, resume
                                   the destination; a differing page that
                                   holds 32 bytes of DATA (the stream, whose
                                   head is the UDP payload) in the source
                                   (the newer copy) got packet payload
                                   that was lost: 'rx'; a page of a used ring
                                   (QEMU's x-query-virtio-queue-status):
                                   'used'; else 'cpu'. Prints 'ramcmp pages N
                                   differ K rx R used U first PFN:label..'
                                   and 'cont T'
  vnet_mig.py pings OUT T0 T1      analyse a ping log around a switchover
                                   that ended at T0 (and the stream end T1)
"""
import json
import os
import signal
import socket
import struct
import sys
import time


class Qmp:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(30)
        self.s.connect(path)
        self.f = self.s.makefile('rwb')
        self._read()  # greeting
        self.cmd('qmp_capabilities')

    def _read(self):
        while True:
            line = self.f.readline()
            if not line:
                raise EOFError('QMP closed')
            msg = json.loads(line)
            if 'event' not in msg:
                return msg

    def cmd(self, name, **args):
        req = {'execute': name}
        if args:
            req['arguments'] = args
        self.f.write(json.dumps(req).encode() + b'\n')
        self.f.flush()
        rep = self._read()
        if 'error' in rep:
            raise RuntimeError('%s: %s' % (name, rep['error']))
        return rep.get('return')


def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff


def ping(addr, out):
    sk = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    sk.setblocking(False)
    ident = os.getpid() & 0xffff
    sent = {}
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    seq = 0
    nxt = time.time()
    with open(out, 'w') as f:
        while not stop:
            now = time.time()
            if now >= nxt:
                seq += 1
                hdr = struct.pack('!BBHHH', 8, 0, 0, ident, seq & 0xffff)
                body = b'vmpath-migrate'
                pkt = struct.pack('!BBHHH', 8, 0, csum(hdr + body), ident,
                                  seq & 0xffff) + body
                try:
                    sk.sendto(pkt, (addr, 0))
                except OSError:
                    pass
                sent[seq & 0xffff] = (seq, now)
                nxt += 0.05
            try:
                data = sk.recv(2048)
            except BlockingIOError:
                time.sleep(0.005)
                continue
            ihl = (data[0] & 0xf) * 4
            t, c, _, i, sq = struct.unpack('!BBHHH', data[ihl:ihl + 8])
            if t == 0 and i == ident and sq in sent:
                s, ts = sent.pop(sq)
                f.write('%d %.6f %.6f\n' % (s, ts, time.time()))
        for s, ts in sorted(sent.values()):
            f.write('%d %.6f -\n' % (s, ts))


def udp(addr, pps, path):
    sk = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    with open(path, 'rb') as f:
        data = f.read(1400)
    gap = 1.0 / float(pps)
    nxt = time.time()
    while not stop:
        try:
            sk.sendto(data, (addr, 9))
        except OSError:
            pass
        nxt += gap
        d = nxt - time.time()
        if d > 0:
            time.sleep(d)


def migrate(path, uri, bw):
    q = Qmp(path)
    q.cmd('migrate-set-parameters', **{'max-bandwidth': int(bw)})
    print('start %.6f' % time.time(), flush=True)
    q.cmd('migrate', uri=uri)
    end = time.time() + 300
    while time.time() < end:
        try:
            if q is None:
                q = Qmp(path)
            st = q.cmd('query-migrate')
        except (OSError, EOFError):
            # A loaded host can leave QEMU's monitor silent for longer
            # than the socket timeout (seen: > 30 s); the migration goes
            # on. Ask again, on a new connection (the old one's reader is
            # in an unknown state after a timeout).
            if q is not None:
                q.s.close()
            q = None
            continue
        s = st.get('status')
        if s in ('completed', 'failed', 'cancelled'):
            print('status %s total_ms %s downtime_ms %s setup_ms %s end %.6f'
                  % (s, st.get('total-time', -1), st.get('downtime', -1),
                     st.get('setup-time', -1), time.time()), flush=True)
            return 0 if s == 'completed' else 1
        time.sleep(0.02)
    print('status timeout', flush=True)
    return 1


def holds_payload(pages, blocks):
    for pg in pages:
        for o in range(0, len(pg) - 31):
            if pg[o:o + 32] in blocks:
                return True
    return False


def used_pages(q):
    """Page numbers of every virtio used ring of the guest (the backend
    writes them)."""
    pages = set()
    for dev in q.cmd('x-query-virtio'):
        for qi in range(2):
            try:
                st = q.cmd('x-query-virtio-queue-status', path=dev['path'],
                           queue=qi)
            except RuntimeError:
                continue
            a, n = st['vring-used'], st['vring-num']
            if a:
                pages.update(range(a // 4096, (a + 6 + 8 * n) // 4096 + 1))
    return pages


def byte_runs(x, y):
    """[start, end) offsets where two equal-length pages differ."""
    runs, start = [], None
    for o in range(len(x)):
        if x[o] != y[o]:
            if start is None:
                start = o
        elif start is not None:
            runs.append((start, o))
            start = None
    if start is not None:
        runs.append((start, len(x)))
    return runs


def save_diff(d, diff, labels):
    """ramdiff.txt: per differing page, its label, the byte runs that differ
    and both versions of the first bytes of each run; ramdiff.bin: PFN (u64)
    then the source's and the destination's 4 KiB, per page."""
    with open(os.path.join(d, 'ramdiff.txt'), 'w') as t, \
            open(os.path.join(d, 'ramdiff.bin'), 'wb') as b:
        for (p, x, y), (_, lab) in zip(diff, labels):
            runs = byte_runs(x, y)
            t.write('page %#x gpa %#x %s bytes %d runs %d\n' % (
                p, p * 4096, lab, sum(e - s for s, e in runs), len(runs)))
            for s, e in runs[:8]:
                t.write('  [%#05x,%#05x) src %s dst %s\n' % (
                    s, e, x[s:min(e, s + 24)].hex(), y[s:min(e, s + 24)].hex()))
            b.write(struct.pack('<Q', p) + x + y)


def ramcmp(src, dst, d, size, data):
    size = int(size)
    used = used_pages(Qmp(src))
    for name, path in (('src', src), ('dst', dst)):
        Qmp(path).cmd('pmemsave', val=0, size=size,
                      filename=os.path.join(d, name + '.ram'))
    diff = []
    with open(os.path.join(d, 'src.ram'), 'rb') as a, \
            open(os.path.join(d, 'dst.ram'), 'rb') as b:
        pfn = 0
        while True:
            x, y = a.read(1 << 20), b.read(1 << 20)
            if not x:
                break
            if x != y:
                for k in range(0, len(x), 4096):
                    if x[k:k + 4096] != y[k:k + 4096]:
                        diff.append((pfn + k // 4096, x[k:k + 4096],
                                     y[k:k + 4096]))
            pfn += len(x) // 4096
    labels = []
    if diff:
        with open(data, 'rb') as f:
            raw = f.read()
        blocks = {raw[o:o + 32] for o in range(0, len(raw) - 31, 32)}
        # The source has the newer page. A write the destination lacks
        # put payload there only if the source's page holds payload; a
        # destination page with old payload under a source page without
        # any is a later write of the guest's that was lost.
        labels = [(p, 'used' if p in used else
                   'rx' if holds_payload((x,), blocks) else 'cpu')
                  for p, x, y in diff]
    if diff:
        save_diff(d, diff, labels)
    print('ramcmp pages %d differ %d rx %d used %d first %s' % (
        size // 4096, len(diff), sum(1 for l in labels if l[1] == 'rx'),
        sum(1 for l in labels if l[1] == 'used'),
        ' '.join('%#x:%s' % l for l in labels[:16])), flush=True)
    for name in ('src', 'dst'):
        os.unlink(os.path.join(d, name + '.ram'))
    Qmp(dst).cmd('cont')
    print('cont %.6f' % time.time(), flush=True)
    return 0


def pings(out, t0):
    """Echoes around a switchover that ended at t0 (completed seen):
    first_after_s: first reply at or after t0, minus t0; gap_s: the longest
    silence between two replies in [t0 - 15 s, t0 + 5 s] (the guest's
    downtime and whatever the switch lost), lost: echoes sent in it."""
    rows = []
    with open(out) as f:
        for line in f:
            s, ts, tr = line.split()
            rows.append((int(s), float(ts), None if tr == '-' else float(tr)))
    got = sorted(r[2] for r in rows if r[2] is not None)
    after = [t for t in got if t >= t0]
    first = after[0] - t0 if after else -1
    near = [t for t in got if t0 - 15 <= t <= t0 + 5]
    gap, g0, g1 = 0.0, 0.0, 0.0
    for a, b in zip(near, near[1:]):
        if b - a > gap:
            gap, g0, g1 = b - a, a, b
    lost = sum(1 for r in rows if r[2] is None and g0 <= r[1] < g1)
    print('sent %d answered %d first_after_s %.3f gap_s %.3f lost %d'
          % (len(rows), len(got), first, gap, lost))
    return 0


def main():
    a = sys.argv[1:]
    if a[0] == 'ping':
        ping(a[1], a[2])
    elif a[0] == 'udp':
        udp(a[1], a[2], a[3])
    elif a[0] == 'migrate':
        return migrate(a[1], a[2], a[3])
    elif a[0] == 'qmp':
        print(json.dumps(Qmp(a[1]).cmd(a[2])))
    elif a[0] == 'ramcmp':
        return ramcmp(a[1], a[2], a[3], a[4], a[5])
    elif a[0] == 'pings':
        return pings(a[1], float(a[2]))
    return 0


if __name__ == '__main__':
    sys.exit(main())
