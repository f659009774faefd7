#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the hand-made seed inputs of the tests/fuzz targets into
corpus/<target>/seed-*, in the input layouts the targets' file comments
describe. Run it again after changing a layout; inputs found by fuzzing
(regression inputs) live beside the seeds and are never rewritten here."""
import os
import struct
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'migrate'))
from migwire import crc32c  # noqa: E402 (the wire format's own CRC32C)

# ---- fuzz_vnet_dp ----------------------------------------------------------
F_MRG, F_V1, F_IND, F_ASYNC, F_LOG = 1, 2, 4, 8, 16
F_OL_TX, F_OL_RX = 32, 64  # CSUM + HOST_TSO4/6; GUEST_CSUM + GUEST_TSO4/6
F_EVIDX = 128  # VIRTIO_RING_F_EVENT_IDX
D_NEXT, D_WRITE, D_IND = 1, 2, 4


def addr(region, off):
    return (region << 16) | off


def addr_end(region, back):
    """@back bytes before the end of @region."""
    return (region << 16) | 0x8000 | back


def desc(a, length, flags=0, nxt=0):
    return struct.pack('<IQHH', length, a, flags, nxt)


def vring(qsize, last_avail, avail_idx, heads, descs, avail_flags=1):
    heads = list(heads) + [0] * (qsize - len(heads))
    descs = list(descs) + [desc(0, 0)] * (qsize - len(descs))
    return (struct.pack('<HHH', last_avail, avail_idx, avail_flags) +
            b''.join(struct.pack('<H', h) for h in heads) + b''.join(descs))


def dp(flags, log2q, regions, rx, tx, indirect=(), ops=b'', threshold=0):
    out = struct.pack('<BBBB', flags, log2q, len(regions) - 1, threshold)
    for page, size in regions:
        out += struct.pack('<HB', page, size // 256 - 1)
    out += rx + tx + struct.pack('<B', len(indirect))
    for region, off, descs in indirect:
        out += struct.pack('<BHB', region, off, len(descs)) + b''.join(descs)
    return out + ops


def op_rx(lens, seg=2048):
    return struct.pack('<BBB', 0, len(lens) - 1, (seg - 64) // 8) + \
        b''.join(struct.pack('<H', n) for n in lens)


def op_tx(n):
    return struct.pack('<BB', 1, n - 1)


def op_engine(n):
    return struct.pack('<BB', 4, n)


def op_desc(vr, slot, d):
    return struct.pack('<BBB', 3, vr, slot) + d


def op_avail_idx(vr, idx):
    return struct.pack('<BBH', 2, vr, idx)


def op_used_event(vr, idx):
    return struct.pack('<BBH', 2, vr | 2, idx)


def dp_seeds():
    # regions 0 and 1 adjacent (one guest range split in two), a hole
    # before region 2
    regs = [(0, 4096), (1, 4096), (64, 8192)]
    q = 8
    rx_bufs = [desc(addr(0, i * 512), 512, D_WRITE) for i in range(q)]
    tx_bufs = [desc(addr(1, i * 512), 12 + 60 + i * 40) for i in range(q)]
    empty = vring(q, 0, 0, [], [])
    s = {}
    s['rx-simple'] = dp(F_MRG | F_V1, 3, regs, vring(q, 0, q, range(q), rx_bufs),
                        empty, ops=op_rx([60, 200, 400, 500]))
    s['tx-simple'] = dp(F_MRG | F_V1, 3, regs, empty,
                        vring(q, 0, q, range(q), tx_bufs), ops=op_tx(8))
    s['legacy-hdr'] = dp(0, 3, regs, vring(q, 0, q, range(q), rx_bufs),
                         vring(q, 0, q, range(q), tx_bufs),
                         ops=op_rx([64, 498]) + op_tx(4))
    s['async-both'] = dp(F_MRG | F_V1 | F_ASYNC, 3, regs,
                         vring(q, 0, q, range(q), rx_bufs),
                         vring(q, 0, q, range(q), tx_bufs),
                         ops=op_rx([60, 300, 1000], seg=256) + op_engine(1) +
                         op_tx(8) + op_rx([100]) + op_engine(3) + op_tx(2))
    s['async-rewrite-in-flight'] = dp(
        F_MRG | F_V1 | F_ASYNC, 3, regs, vring(q, 0, q, range(q), rx_bufs),
        vring(q, 0, q, range(q), tx_bufs),
        ops=op_rx([400, 400]) + op_desc(0, 0, desc(addr(1, 0), 16, D_WRITE)) +
        op_tx(3) + op_desc(1, 1, desc(addr(2, 0), 4096)) + op_engine(2))
    s['mergeable-big'] = dp(F_MRG | F_V1, 3, regs,
                            vring(q, 0, q, range(q), rx_bufs), empty,
                            ops=op_rx([3000, 1400], seg=1024))
    s['log-on'] = dp(F_MRG | F_V1 | F_LOG | F_ASYNC, 3, regs,
                     vring(q, 0, q, range(q), rx_bufs),
                     vring(q, 0, q, range(q), tx_bufs),
                     ops=op_rx([100, 1500]) + op_tx(8) + op_engine(2))
    # chains: 0->1->2 (three 100-byte parts), 3->4 crossing region 0's end
    chain = [desc(addr(0, 0), 100, D_WRITE | D_NEXT, 1),
             desc(addr(0, 200), 100, D_WRITE | D_NEXT, 2),
             desc(addr(1, 0), 100, D_WRITE),
             desc(addr(0, 4000), 200, D_WRITE | D_NEXT, 4),
             desc(addr(1, 512), 1000, D_WRITE)]
    s['rx-chains'] = dp(F_MRG | F_V1, 3, regs, vring(q, 0, 2, [0, 3], chain),
                        empty, ops=op_rx([250, 1000]))
    txchain = [desc(addr(1, 0), 12, D_NEXT, 1), desc(addr(1, 100), 300),
               desc(addr(0, 4090), 100)]
    s['tx-chains'] = dp(F_V1, 3, regs, empty,
                        vring(q, 0, 2, [0, 2], txchain), ops=op_tx(2))
    # indirect tables in region 2, pointed at from both rings
    ind_rx = [desc(addr(0, i * 256), 256, D_WRITE | D_NEXT, i + 1)
              for i in range(3)] + [desc(addr(0, 1024), 256, D_WRITE)]
    ind_tx = [desc(addr(1, 0), 12, D_NEXT, 1), desc(addr(1, 64), 500)]
    s['indirect'] = dp(F_MRG | F_V1 | F_IND, 3, regs,
                       vring(q, 0, 1, [0], [desc(addr(2, 0), 64, D_IND)]),
                       vring(q, 0, 1, [0], [desc(addr(2, 256), 32, D_IND)]),
                       indirect=[(2, 0, ind_rx), (2, 256, ind_tx)],
                       ops=op_rx([900]) + op_tx(1))
    # indirect tables that end exactly where their region ends
    s['indirect-at-region-end'] = dp(
        F_MRG | F_V1 | F_IND, 3, regs,
        vring(q, 0, 1, [0], [desc(addr_end(2, 64), 64, D_IND)]),
        vring(q, 0, 1, [0], [desc(addr_end(0, 32), 32, D_IND)]),
        indirect=[(2, 8192 - 64, ind_rx), (0, 4096 - 32, ind_tx)],
        ops=op_rx([900]) + op_tx(1))
    # chains whose next is one past their table (direct and indirect)
    s['next-past-table'] = dp(
        F_MRG | F_V1 | F_IND, 3, regs,
        vring(q, 0, 2, [0, 1], [desc(addr(0, 0), 100, D_WRITE | D_NEXT, q),
                                desc(addr(2, 0), 32, D_IND)]),
        vring(q, 0, 1, [0], [desc(addr(1, 0), 100, D_NEXT, q)]),
        indirect=[(2, 0, [desc(addr(0, 512), 100, D_WRITE | D_NEXT, 2),
                          desc(addr(0, 1024), 100, D_WRITE)])],
        ops=op_rx([60, 60]) + op_tx(1))
    # guest RX buffers [30 B][0 B][2048 B] for one mergeable packet
    zl = [desc(addr(0, 0), 30, D_WRITE), desc(addr(0, 64), 0, D_WRITE),
          desc(addr(2, 0), 2048, D_WRITE)]
    s['rx-zero-length-chain'] = dp(F_MRG | F_V1, 3, regs,
                                   vring(q, 0, 3, [0, 1, 2], zl), empty,
                                   ops=op_rx([1000]))
    # a broken ring: avail index 100 ahead of an 8-entry ring
    s['avail-jump'] = dp(F_MRG | F_V1, 3, regs,
                         vring(q, 0, q, range(q), rx_bufs),
                         vring(q, 0, q, range(q), tx_bufs),
                         ops=op_avail_idx(0, 100) + op_rx([60]) +
                         op_avail_idx(1, 200) + op_tx(4))
    # offloads: TX headers parsed, TX packets fed back to RX (to a guest
    # without, then with, the guest offloads)
    tx_off = [desc(addr(1, i * 300 + i), 12 + 60 + i * 40) for i in range(q)]
    s['offload-tx-to-rx'] = dp(F_MRG | F_V1 | F_OL_TX, 3, regs,
                               vring(q, 0, q, range(q), rx_bufs),
                               vring(q, 0, q, range(q), tx_off),
                               ops=op_tx(8))
    s['offload-guest-rx-async'] = dp(F_MRG | F_V1 | F_OL_TX | F_OL_RX |
                                     F_ASYNC, 3, regs,
                                     vring(q, 0, q, range(q), rx_bufs),
                                     vring(q, 0, q, range(q), tx_off),
                                     ops=op_tx(4) + op_engine(2) + op_tx(4) +
                                     op_engine(2) + op_tx(1))
    # EVENT_IDX: calls decided on used_event, which the guest moves
    # between bursts (op 2 with vring | 2), across the 16-bit wrap
    s['event-idx'] = dp(F_MRG | F_V1 | F_EVIDX | F_ASYNC, 3, regs,
                        vring(q, 0xfffc, 0x0004, range(q), rx_bufs),
                        vring(q, 0xfffe, 0x0002, range(q), tx_bufs),
                        ops=op_used_event(0, 0xfffd) + op_rx([60, 60]) +
                        op_engine(2) + op_used_event(1, 0) + op_tx(2) +
                        op_used_event(0, 0x0002) + op_rx([60, 60, 60]) +
                        op_engine(3) + op_tx(2))
    return s


# ---- fuzz_vnet_msg ---------------------------------------------------------
# request selectors: indexes into reqs[] of fuzz_vnet_msg.c
(R_GET_FEATURES, R_SET_FEATURES, R_SET_OWNER, R_RESET_OWNER, R_SET_MEM_TABLE,
 R_SET_LOG_BASE, R_SET_LOG_FD, R_SET_VRING_NUM, R_SET_VRING_ADDR,
 R_SET_VRING_BASE, R_GET_VRING_BASE, R_SET_VRING_KICK, R_SET_VRING_CALL,
 R_SET_VRING_ERR, R_GET_PROTOCOL_FEATURES, R_SET_PROTOCOL_FEATURES,
 R_GET_QUEUE_NUM, R_SET_VRING_ENABLE, R_SEND_RARP) = range(19)
MSG_HDR_MEM_256K = 3 << 1
VQ_BASE = (0x0000, 0x8000)  # each vring's desc table; avail +0x1000, used +0x2000


def m_op(conn, sel, payload=b'', fl=0):
    return bytes([(conn << 3) | 0, sel, fl]) + payload


def m_write(off, data):
    return bytes([5]) + struct.pack('<IB', off, len(data)) + data


def m_dp(n, length):
    return bytes([4, n]) + struct.pack('<H', length - 14)


def m_wait(conn=0, n=8):
    return bytes([(conn << 3) | 7, n])


def m_setup(conn, features, log=False):
    """What QEMU sends to start a 2-vring virtio-net device."""
    b = m_op(conn, R_GET_FEATURES)
    b += m_op(conn, R_SET_FEATURES, struct.pack('<Q', features))
    b += m_op(conn, R_GET_PROTOCOL_FEATURES)
    b += m_op(conn, R_SET_PROTOCOL_FEATURES, struct.pack('<Q', 0xb))
    b += m_op(conn, R_SET_OWNER)
    # one region at GPA 0, the whole memfd (size/uaddr patched)
    b += m_op(conn, R_SET_MEM_TABLE, struct.pack('<II4Q', 1, 0, 0, 0, 0, 0))
    if log:
        b += m_op(conn, R_SET_LOG_BASE, struct.pack('<QQ', 4096, 0))
    for i in (0, 1):
        base = VQ_BASE[i]
        b += m_op(conn, R_SET_VRING_NUM, struct.pack('<II', i, 8))
        b += m_op(conn, R_SET_VRING_BASE, struct.pack('<II', i, 0))
        b += m_op(conn, R_SET_VRING_ADDR, struct.pack(
            '<II4Q', i, 0, base, base + 0x2000, base + 0x1000, 0))
        b += m_op(conn, R_SET_VRING_KICK, struct.pack('<Q', i))
        b += m_op(conn, R_SET_VRING_CALL, struct.pack('<Q', i))
        b += m_op(conn, R_SET_VRING_ENABLE, struct.pack('<II', i, 1))
    return b


def m_guest_buffers():
    """RX: 2 writable 2 KiB buffers; TX: one 72-byte frame (header + 60)."""
    b = m_write(VQ_BASE[0], desc(0x10000, 2048, D_WRITE) +
                desc(0x10800, 2048, D_WRITE))
    b += m_write(VQ_BASE[0] + 0x1000, struct.pack('<HHHH', 0, 2, 0, 1))
    b += m_write(VQ_BASE[1], desc(0x20000, 72))
    b += m_write(VQ_BASE[1] + 0x1000, struct.pack('<HHH', 0, 1, 0))
    return b


def m_stop(conn):
    return (m_op(conn, R_GET_VRING_BASE, struct.pack('<II', 0, 0)) +
            m_op(conn, R_GET_VRING_BASE, struct.pack('<II', 1, 0)))


def msg_seeds():
    feat = (1 << 32) | (1 << 15) | (1 << 30)
    log_all = 1 << 26
    run = m_setup(0, feat) + m_guest_buffers() + m_dp(2, 60) + m_wait()
    return {
        'sync': bytes([MSG_HDR_MEM_256K]) + run + m_stop(0),
        'async': bytes([MSG_HDR_MEM_256K | 1]) + m_setup(0, feat) +
        m_guest_buffers() + m_dp(2, 1500) + m_wait() + m_stop(0),
        'migrate': bytes([MSG_HDR_MEM_256K | 1]) + run +
        m_setup(1, feat) + m_op(0, R_SET_FEATURES,
                                struct.pack('<Q', feat | log_all)) +
        m_dp(2, 1500) + m_stop(0) + bytes([6]) + m_wait(1) + m_dp(1, 60),
        'log': bytes([MSG_HDR_MEM_256K | 1]) + m_setup(0, feat, True) +
        m_op(0, R_SET_FEATURES, struct.pack('<Q', feat | log_all)) +
        m_guest_buffers() + m_dp(2, 1500) + m_wait() + m_stop(0),
        'rarp': bytes([MSG_HDR_MEM_256K]) + run +
        m_op(0, R_SEND_RARP, b'\x52\x54\x00\x00\x00\x02\x00\x00'),
        'raw': bytes([MSG_HDR_MEM_256K]) + m_op(0, 0xf0, struct.pack(
            '<I', 1000), fl=2 | 4) + b'\x10\x00' + bytes(16),
        # VIRTIO_RING_F_EVENT_IDX with dirty logging: avail_event written
        # (and logged) at every vring start, calls decided on used_event
        'event-idx': bytes([MSG_HDR_MEM_256K | 1]) +
        m_setup(0, feat | (1 << 29), True) +
        m_op(0, R_SET_FEATURES, struct.pack('<Q', feat | (1 << 29) |
                                            log_all)) +
        m_guest_buffers() + m_dp(2, 1500) + m_wait() + m_stop(0),
    }


# ---- fuzz_mig_stream -------------------------------------------------------
MIG_F = dict(HELLO=1, ACCEPT=2, REFUSE=3, PAGES=4, ROUND_END=5, END=6)


def mframe(ftype, rnd, payload, flags=0):
    return struct.pack('<BBBH', ftype, rnd, flags, len(payload)) + payload


def pages(region, ents):
    hdr = struct.pack('<HHI', region, len(ents), 0)
    data = b''
    for page, kind, blob in ents:
        hdr += struct.pack('<QB3xI', page, kind, len(blob))
        data += blob
    return hdr + data


def round_end(n, final):
    return struct.pack('<QQII', n, 0, final, 0)


def deflate(page):
    c = zlib.compressobj(1, zlib.DEFLATED, -15)
    return c.compress(page) + c.flush()


MIG_REG_PAGES = (8, 1, 4)  # fuzz_mig_stream.c: regions and their fill


def mig_end(written):
    """END payload whose digests match the destination's memory after
    the pages in @written ({(region, page): bytes}) landed."""
    out = struct.pack('<II', len(MIG_REG_PAGES), 0)
    for r, n in enumerate(MIG_REG_PAGES):
        crcs = b''
        for pg in range(n):
            data = written.get((r, pg), bytes([0x11 * (r + 1)]) * 4096)
            lanes = b''.join(struct.pack('<I', crc32c(data[q:q + 1024]))
                             for q in range(0, 4096, 1024))
            crcs += struct.pack('<I', crc32c(lanes))
        out += struct.pack('<Q', (n << 32) | crc32c(crcs))
    return out


def mig_seeds():
    raw = bytes(range(256)) * 16
    s = {}
    s['zero-raw-end'] = b'\x00' + \
        mframe(MIG_F['PAGES'], 0, pages(0, [(0, 0, b''), (1, 1, raw)])) + \
        mframe(MIG_F['PAGES'], 0, pages(2, [(3, 1, raw)])) + \
        mframe(MIG_F['ROUND_END'], 0, round_end(3, 1)) + \
        mframe(MIG_F['END'], 1, mig_end({(0, 0): bytes(4096), (0, 1): raw,
                                         (2, 3): raw}))
    s['zlib-two-rounds'] = b'\x04' + \
        mframe(MIG_F['PAGES'], 0, pages(0, [(2, 2, deflate(raw))])) + \
        mframe(MIG_F['ROUND_END'], 0, round_end(1, 0)) + \
        mframe(MIG_F['PAGES'], 1, pages(1, [(0, 2, deflate(b'\1' * 4096))])) + \
        mframe(MIG_F['ROUND_END'], 1, round_end(1, 1)) + \
        mframe(MIG_F['END'], 2, mig_end({(0, 2): raw, (1, 0): b'\1' * 4096}))
    s['wrong-digest'] = b'\x00' + \
        mframe(MIG_F['ROUND_END'], 0, round_end(0, 1)) + \
        mframe(MIG_F['END'], 1, struct.pack('<II', 3, 0) + b'\0' * 24)
    s['page-twice'] = b'\x00' + \
        mframe(MIG_F['PAGES'], 0, pages(0, [(5, 0, b''), (5, 0, b'')]))
    s['bad-crc'] = b'\x00' + \
        mframe(MIG_F['PAGES'], 0, pages(0, [(0, 0, b'')]), flags=1)
    s['no-hello'] = b'\x02' + mframe(MIG_F['PAGES'], 0, pages(0, []))
    s['raw-garbage'] = b'\x01VPMF' + b'\0' * 60
    return s


# ---- fuzz_params -----------------------------------------------------------
def params_seeds():
    a = lambda *args: b'\0'.join(x.encode() for x in args)
    return {
        'vhost': a('--vhost', '/tmp/a.sock,client,queues=2,dma=sw',
                   '--vhost', '/tmp/b.sock', '--dma', 'skeleton'),
        'lcores': a('--datapath-lcores', '2', '--dma-lcores', '1',
                    '--pool-workers', '3', '--socket', '0',
                    '--strict-socket', '-i'),
        'guest-migrate': a('--guest-mem', '2G', '--guest-writers', '2',
                           '--guest-rate', '1000', '--migrate-to',
                           'tcp:127.0.0.1:4444', '--migrate-comp', 'zlib',
                           '--migrate-level', '3', '--migrate-model',
                           'locked', '--migrate-bandwidth', '100',
                           '--migrate-switchover', 'compressed'),
        'listen': a('--guest-mem', '64M', '--migrate-listen',
                    'unix:/tmp/m.sock', '--migrate-exit', '--guest-dump',
                    '/tmp/d'),
        'misc': a('--stats-period', '5', '--run-time', '10', '--mbufs',
                  '4095', '--dma-threshold', '512', '--embedded-guests', '2',
                  '--guest-pkt-len', '1518', '--ethdev', 'net_tap0,iface=t'),
        'bad': a('--vhost', '', '--mbufs', '-1', '-x', 'extra'),
    }


def main():
    for target, seeds in (('fuzz_vnet_dp', dp_seeds()),
                          ('fuzz_mig_stream', mig_seeds()),
                          ('fuzz_params', params_seeds()),
                          ('fuzz_vnet_msg', msg_seeds())):
        d = os.path.join(HERE, 'corpus', target)
        os.makedirs(d, exist_ok=True)
        for name, blob in seeds.items():
            with open(os.path.join(d, 'seed-' + name), 'wb') as f:
                f.write(blob)
    return 0


if __name__ == '__main__':
    sys.exit(main())
