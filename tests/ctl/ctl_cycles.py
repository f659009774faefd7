#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Add/del cycles of one port over one control connection:

  ctl_cycles.py [--no-wait] [--until FILE] [--poll-ms MS] [--gap-ms MS]
                SOCKET N PORT_ADD_PARAMS_JSON [UP_TIMEOUT_S]

Each cycle: port_add, poll port_list every MS ms (default 2) until the port
is "up" (a frontend connected; not with --no-wait), port_del, then a
pause of --gap-ms (default none). Prints one line per failure and a
summary with the medians of: port_add answered, port_add -> up, port_del
answered (ms), and the cycles per second. Exit 0 only if all N cycles
completed, or with --until, if cycles ran without failure until FILE
appeared (N is then a maximum): the churn of tests/ctl/ctl_bench.sh.
"""
import argparse
import json
import os
import socket
import sys
import time

ap = argparse.ArgumentParser()
ap.add_argument("--no-wait", action="store_true")
ap.add_argument("--until")
ap.add_argument("--poll-ms", type=float, default=2.0)
ap.add_argument("--gap-ms", type=float, default=0.0)
ap.add_argument("socket")
ap.add_argument("n", type=int)
ap.add_argument("params", type=json.loads)
ap.add_argument("up_timeout", type=float, nargs="?", default=20.0)
a = ap.parse_args()
path, n, params, up_timeout = a.socket, a.n, a.params, a.up_timeout
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(60)
s.connect(path)
buf = b""
rid = 0


def call(method, p=None):
    global buf, rid
    rid += 1
    r = {"jsonrpc": "2.0", "id": rid, "method": method}
    if p is not None:
        r["params"] = p
    s.sendall(json.dumps(r).encode() + b"\n")
    while b"\n" not in buf:
        d = s.recv(65536)
        if not d:
            raise ConnectionError("closed")
        buf += d
    line, buf = buf.split(b"\n", 1)
    return json.loads(line)


def med(v):
    v = sorted(v)
    return v[len(v) // 2] if v else -1


add_ms, up_ms, del_ms = [], [], []
done = 0
failed = None
start = time.monotonic()
for c in range(n):
    if a.until and os.path.exists(a.until):
        break
    t0 = time.monotonic()
    r = call("port_add", params)
    t1 = time.monotonic()
    if "error" in r:
        failed = "cycle %d: port_add: %s" % (c, r["error"]["message"])
        break
    pid = r["result"]["id"]
    up = a.no_wait
    while not up and time.monotonic() - t0 < up_timeout:
        ports = call("port_list")["result"]
        if any(p["id"] == pid and p["state"] == "up" for p in ports):
            up = True
            break
        time.sleep(a.poll_ms / 1e3)
    t2 = time.monotonic()
    r = call("port_del", {"id": pid})
    t3 = time.monotonic()
    if not up:
        failed = "cycle %d: no frontend connected within %.0f s" % (
            c, up_timeout)
        break
    if "error" in r:
        failed = "cycle %d: port_del: %s" % (c, r["error"]["message"])
        break
    add_ms.append((t1 - t0) * 1e3)
    up_ms.append((t2 - t0) * 1e3)
    del_ms.append((t3 - t2) * 1e3)
    done += 1
    if a.gap_ms > 0:
        time.sleep(a.gap_ms / 1e3)
secs = time.monotonic() - start
if failed:
    print(failed)
print("cycles %d of %d; medians (ms): port_add %.1f, add->frontend up %.1f, "
      "port_del %.1f; max add->up %.1f; %.1f cycles/s" %
      (done, n, med(add_ms), med(up_ms), med(del_ms),
       max(up_ms) if up_ms else -1, done / secs if secs > 0 else 0))
sys.exit(1 if failed or (done < n and not a.until) or done == 0 else 0)
