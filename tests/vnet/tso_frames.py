#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""TCP frames for vnet_tso.sh, as pcap files (no scapy needed).

  tso_frames.py gen OUT.pcap          big TCP/IPv4 and TCP/IPv6 frames
  tso_frames.py check-segs IN.pcap MSS  every frame of gen, as segments of
                                      at most MSS payload bytes: sizes,
                                      sequence numbers, IP and TCP checksums,
                                      payload bytes
  tso_frames.py check-segs IN.pcap MSS partial
                                      the same, but each TCP checksum field
                                      must hold the pseudo-header sum (a
                                      NEEDS_CSUM segment), checked once
                                      completed as its receiver does
  tso_frames.py check-whole IN.pcap   every frame of gen, whole and unchanged
                                      but for the TCP checksum, which must be
                                      complete or the partial pseudo-header sum
Frames: NV4 IPv4 + NV6 IPv6 frames of PAYLOAD bytes each, flow seq numbers
starting near 2^32 (wrap), payload byte i of the flow = (seq + i) * 7 mod 256.
"""
import struct
import sys

NV4, NV6, PAYLOAD = 8, 8, 16000  # frames <= 16128 B: net_pcap keeps no more
SEQ0 = 0xFFFF0000
DST = bytes.fromhex('0200000000cc')  # nobody's: the switch floods it
SRC = bytes.fromhex('0200000000aa')


def csum(data):
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def tcp_hdr(sport, seq, flags):
    # 20 bytes + 12 option bytes (NOP NOP timestamp), checksum 0
    return struct.pack('!HHIIBBHHH', sport, 5001, seq & 0xFFFFFFFF, 1,
                       8 << 4, flags, 512, 0, 0) + \
        bytes([1, 1, 8, 10]) + struct.pack('!II', 1, 2)


def frames():
    out = []
    for v6 in (False, True):
        seq = SEQ0
        for i in range(NV6 if v6 else NV4):
            pay = bytes(((seq + k) * 7) & 0xFF for k in range(PAYLOAD))
            out.append(build(v6, 7000 + v6, seq, 0x18, pay, 100 + i))
            seq += PAYLOAD
    return out


def build(v6, sport, seq, flags, pay, ipid, full=True):
    th = bytearray(tcp_hdr(sport, seq, flags))
    l4len = len(th) + len(pay)
    if v6:
        src, dst = bytes(15) + b'\1', bytes(15) + b'\2'
        ip = struct.pack('!IHBB', 6 << 28, l4len, 6, 64) + src + dst
        ph = src + dst + struct.pack('!IxxxB', l4len, 6)
        et = 0x86DD
    else:
        src, dst = bytes([10, 7, 0, 1]), bytes([10, 7, 0, 2])
        ip = bytearray(struct.pack('!BBHHHBBH', 0x45, 0, 20 + l4len, ipid, 0,
                                   64, 6, 0) + src + dst)
        ip[10:12] = struct.pack('!H', 0xFFFF - csum(bytes(ip)))
        ip = bytes(ip)
        ph = src + dst + struct.pack('!BBH', 0, 6, l4len)
        et = 0x0800
    th[16:18] = struct.pack('!H', 0xFFFF - csum(ph + bytes(th) + pay))
    return DST + SRC + struct.pack('!H', et) + ip + bytes(th) + pay


def write_pcap(path, pkts):
    with open(path, 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for p in pkts:
            f.write(struct.pack('<IIII', 0, 0, len(p), len(p)) + p)


def read_pcap(path):
    with open(path, 'rb') as f:
        d = f.read()
    magic = struct.unpack('<I', d[:4])[0]
    e = '<' if magic in (0xA1B2C3D4, 0xA1B23C4D) else '>'
    off, out = 24, []
    while off + 16 <= len(d):
        _, _, incl, orig = struct.unpack(e + 'IIII', d[off:off + 16])
        out.append(d[off + 16:off + 16 + incl])
        off += 16 + incl
    return out


def parse(p):
    """(v6, ip header, tcp header, payload, pseudo-header), or None."""
    et = struct.unpack('!H', p[12:14])[0]
    if et == 0x0800:
        ihl = (p[14] & 0xF) * 4
        tot = struct.unpack('!H', p[16:18])[0]
        ip, rest = p[14:14 + ihl], p[14 + ihl:14 + tot]
        ph = ip[12:20] + struct.pack('!BBH', 0, 6, len(rest))
        v6 = False
    elif et == 0x86DD:
        plen = struct.unpack('!H', p[18:20])[0]
        ip, rest = p[14:54], p[54:54 + plen]
        ph = ip[8:40] + struct.pack('!IxxxB', len(rest), 6)
        v6 = True
    else:
        return None
    doff = (rest[12] >> 4) * 4
    return v6, ip, rest[:doff], rest[doff:], ph


def fail(msg):
    print('FAIL: ' + msg)
    sys.exit(1)


def complete(k, v6, th, pay, ph):
    """The TCP header of a partial segment, its checksum completed."""
    if struct.unpack('!H', th[16:18])[0] != csum(ph):
        fail('v6=%d segment %d: TCP checksum field is not the pseudo-header '
             'sum' % (v6, k))
    th = bytearray(th)
    th[16:18] = struct.pack('!H', 0xFFFF - csum(bytes(th) + pay))
    return bytes(th)


def check_segs(path, mss, partial=False):
    got = [q for q in (parse(p) for p in read_pcap(path)) if q]
    want = frames()
    flows = {False: [], True: []}
    for g in got:
        flows[g[0]].append(g)
    n = 0
    for v6 in (False, True):
        segs = flows[v6]
        seq = SEQ0
        stream = b''
        for k, (_, ip, th, pay, ph) in enumerate(segs):
            if not v6 and csum(ip) != 0xFFFF:
                fail('IPv4 segment %d: bad IP checksum' % k)
            if partial:
                th = complete(k, v6, th, pay, ph)
            if csum(ph + th + pay) != 0xFFFF:
                fail('v6=%d segment %d: bad TCP checksum' % (v6, k))
            s = struct.unpack('!I', th[4:8])[0]
            if s != seq & 0xFFFFFFFF:
                fail('v6=%d segment %d: seq %#x, want %#x' %
                     (v6, k, s, seq & 0xFFFFFFFF))
            if len(pay) > mss or (len(pay) < mss and
                                  (seq - SEQ0 + len(pay)) % PAYLOAD):
                fail('v6=%d segment %d: %d payload bytes (MSS %d)' %
                     (v6, k, len(pay), mss))
            psh = bool(th[13] & 0x08)
            if psh != ((seq - SEQ0 + len(pay)) % PAYLOAD == 0):
                fail('v6=%d segment %d: PSH %d' % (v6, k, psh))
            seq += len(pay)
            stream += pay
        nf = NV6 if v6 else NV4
        if seq - SEQ0 != nf * PAYLOAD:
            fail('v6=%d: %d payload bytes arrived, want %d' %
                 (v6, seq - SEQ0, nf * PAYLOAD))
        exp = b''.join(parse(w)[3] for w in want if parse(w)[0] == v6)
        if stream != exp:
            fail('v6=%d: payload differs' % v6)
        n += len(segs)
    print('ok: %d segments, %d frames of %d bytes, MSS %d, %schecksums and '
          'payload verified' % (n, NV4 + NV6, PAYLOAD, mss,
                                'partial ' if partial else ''))


def check_whole(path):
    got = [p for p in read_pcap(path) if parse(p)]
    want = frames()
    if len(got) != len(want):
        fail('%d frames arrived, want %d' % (len(got), len(want)))
    for k, (g, w) in enumerate(zip(got, want)):
        v6, ip, th, pay, ph = parse(g)
        wv6, wip, wth, wpay, wph = parse(w)
        if ip != wip or pay != wpay or th[:16] != wth[:16] or \
                th[18:] != wth[18:]:
            fail('frame %d differs' % k)
        # complete, or the pseudo-header sum a NEEDS_CSUM header asks the
        # receiver to complete
        full = csum(ph + th + pay) == 0xFFFF
        part = struct.unpack('!H', th[16:18])[0]
        # the pseudo-header sum, with the L4 length or (TSO) without
        ph0 = ph[:-4] + ph[-4:-2] + b'\0\0' if not v6 else \
            ph[:32] + b'\0\0\0\0' + ph[36:]
        ok = [csum(x) for x in (ph, ph0)]
        if not full and part not in ok + [0xFFFF - x for x in ok]:
            fail('frame %d: TCP checksum neither complete nor partial' % k)
    print('ok: %d frames arrived whole' % len(got))


if __name__ == '__main__':
    if sys.argv[1] == 'gen':
        write_pcap(sys.argv[2], frames())
    elif sys.argv[1] == 'check-segs':
        check_segs(sys.argv[2], int(sys.argv[3]),
                   len(sys.argv) > 4 and sys.argv[4] == 'partial')
    else:
        check_whole(sys.argv[2])
