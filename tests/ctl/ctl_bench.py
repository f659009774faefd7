#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Packet rate into port RXPORT with and without port churn, same run:

  ctl_bench.py SOCKET RXPORT CHURN_PATH ROUNDS WINDOW_S

Alternates WINDOW_S windows: calm (nothing changes) and churn (add/del of a
server port at CHURN_PATH back to back), ROUNDS of each. The rate is port
RXPORT's tx_pkts (to its guest) over the window. Prints a table, the medians
and their ratio; asserts nothing (a benchmark).
"""
import json
import socket
import sys
import time

path, rxport, churn_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rounds, window = int(sys.argv[4]), float(sys.argv[5])
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(60)
s.connect(path)
buf = b""


def call(method, p=None):
    global buf
    r = {"jsonrpc": "2.0", "id": 1, "method": method}
    if p is not None:
        r["params"] = p
    s.sendall(json.dumps(r).encode() + b"\n")
    while b"\n" not in buf:
        buf += s.recv(65536)
    line, buf = buf.split(b"\n", 1)
    return json.loads(line)


def tx():
    return call("port_stats", {"id": rxport})["result"]["tx_pkts"]


def med(v):
    v = sorted(v)
    return v[len(v) // 2]


calm, churn, cycles = [], [], []
print("%6s %-6s %12s %8s" % ("round", "mode", "Mpps", "cycles"))
for r in range(rounds):
    for mode in ("calm", "churn"):
        n = 0
        t0, p0 = time.monotonic(), tx()
        while time.monotonic() - t0 < window:
            if mode == "calm":
                time.sleep(0.05)
                continue
            pid = call("port_add", {"path": churn_path})["result"]["id"]
            call("port_del", {"id": pid})
            n += 1
        t1, p1 = time.monotonic(), tx()
        mpps = (p1 - p0) / (t1 - t0) / 1e6
        (calm if mode == "calm" else churn).append(mpps)
        if mode == "churn":
            cycles.append(n / (t1 - t0))
        print("%6d %-6s %12.3f %8d" % (r, mode, mpps, n))
print("median calm %.3f Mpps, churn %.3f Mpps (%.1f add/del per s): "
      "ratio %.3f" % (med(calm), med(churn), med(cycles),
                      med(churn) / med(calm) if med(calm) else 0))
