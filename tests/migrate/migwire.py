#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A second, independent implementation of the vmpath migration wire format
(docs/migrate.md), enough for the tests:

  migwire.py hello HOST PORT VERSION PAGE_SIZE REGION_LEN
      send a HELLO and print the answer: "ACCEPT" or "REFUSE <text>"
  migwire.py twice HOST PORT REGION_LEN
      after ACCEPT, send one PAGES frame that holds page 5 twice (two ZERO
      entries, which the format forbids within a round) and a ROUND_END;
      print what comes back: "EOF" or "FRAME <type>"
  migwire.py proxy LISTEN_PORT DST_PORT FLIP_OFFSET
      forward one TCP connection, flipping one bit of the byte at
      FLIP_OFFSET of the source->destination stream (-1: no flip)
"""
import socket
import struct
import sys
import threading

FRAME_MAGIC = 0x464D5056
HELLO_MAGIC = 0x47494D50564D5621
T_HELLO, T_ACCEPT, T_REFUSE, T_PAGES, T_ROUND_END = 1, 2, 3, 4, 5
FEATURES = 0x7

def _table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    return t

TABLE = _table()

def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF

def frame(ftype, seq, rnd, payload):
    pcrc = crc32c(payload) if payload else 0
    hdr = struct.pack("<IBBHIIII I", FRAME_MAGIC, ftype, 0, 0, len(payload),
                      seq, rnd, pcrc, 0)
    return hdr + struct.pack("<I", crc32c(hdr)) + payload

def recv_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError("peer closed")
        b += c
    return b

def read_frame(s):
    hdr = recv_exact(s, 32)
    (magic, ftype, _fl, _r0, plen, seq, rnd, pcrc, _r1,
     hcrc) = struct.unpack("<IBBHIIIIII", hdr)
    assert magic == FRAME_MAGIC, "bad magic"
    assert crc32c(hdr[:28]) == hcrc, "bad header crc"
    payload = recv_exact(s, plen)
    assert (crc32c(payload) if plen else 0) == pcrc, "bad payload crc"
    return ftype, payload

def hello(host, port, version, page_size, region_len):
    payload = struct.pack("<QHHIBBHIQQ", HELLO_MAGIC, version, 1, page_size,
                          1, 1, 0, FEATURES, region_len, 0)
    payload += struct.pack("<IIQQ", 0, 0, 0, region_len)
    s = socket.create_connection((host, port), timeout=20)
    s.sendall(frame(T_HELLO, 0, 0, payload))
    ftype, p = read_frame(s)
    if ftype == T_ACCEPT:
        print("ACCEPT")
    elif ftype == T_REFUSE:
        code, = struct.unpack("<I", p[:4])
        print("REFUSE %d %s" % (code, p[4:].split(b"\0")[0].decode()))
    else:
        print("OTHER %d" % ftype)
    s.close()

def twice(host, port, region_len):
    payload = struct.pack("<QHHIBBHIQQ", HELLO_MAGIC, 1, 1, 4096,
                          1, 1, 0, FEATURES, region_len, 0)
    payload += struct.pack("<IIQQ", 0, 0, 0, region_len)
    s = socket.create_connection((host, port), timeout=20)
    s.sendall(frame(T_HELLO, 0, 0, payload))
    ftype, _ = read_frame(s)
    assert ftype == T_ACCEPT, "not accepted"
    pages = struct.pack("<HHI", 0, 2, 0)
    pages += struct.pack("<QB3xI", 5, 0, 0) * 2
    s.sendall(frame(T_PAGES, 1, 0, pages))
    s.sendall(frame(T_ROUND_END, 2, 0, struct.pack("<QQII", 2, 0, 0, 0)))
    try:
        ftype, _ = read_frame(s)
        print("FRAME %d" % ftype)
    except (EOFError, ConnectionResetError):
        print("EOF")
    s.close()

def pump(a, b, flip):
    off = 0
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            if 0 <= flip - off < len(d):
                i = flip - off
                d = d[:i] + bytes([d[i] ^ 0x01]) + d[i + 1:]
                print("proxy: flipped byte at offset %d" % flip, flush=True)
            off += len(d)
            b.sendall(d)
    except OSError:
        pass
    for x in (a, b):
        try:
            x.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

def proxy(lport, dport, flip):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", lport))
    ls.listen(1)
    print("proxy: listening", flush=True)
    c, _ = ls.accept()
    d = socket.create_connection(("127.0.0.1", dport))
    t1 = threading.Thread(target=pump, args=(c, d, flip))
    t2 = threading.Thread(target=pump, args=(d, c, -1))
    t1.start()
    t2.start()
    t1.join()
    t2.join()

if __name__ == "__main__":
    if sys.argv[1] == "hello":
        hello(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]),
              int(sys.argv[5]), int(sys.argv[6]))
    elif sys.argv[1] == "twice":
        twice(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif sys.argv[1] == "proxy":
        proxy(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit("usage: see the docstring")
