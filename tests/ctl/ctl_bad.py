#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Bad requests to a running vmpath's control socket: each must get its own
clear JSON-RPC error (or close only that client), and the daemon must keep
serving every other client.

  ctl_bad.py SOCKET TMPDIR MAX_PORTS
Prints "ok ..." / "FAIL ..." lines; exit 0 only if every check passed.
"""
import json
import os
import socket
import sys
import time

SOCK, TMP, MAX_PORTS = sys.argv[1], sys.argv[2], int(sys.argv[3])
fails = 0


def check(what, cond, detail=""):
    global fails
    if cond:
        print("  ok   %s" % what)
    else:
        fails += 1
        print("  FAIL %s %s" % (what, detail))


class Client:
    def __init__(self):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(30)
        self.s.connect(SOCK)
        self.buf = b""

    def send_raw(self, data):
        self.s.sendall(data)

    def line(self):
        while b"\n" not in self.buf:
            try:
                d = self.s.recv(65536)
            except OSError:  # reset: no answer
                return None
            if not d:
                return None
            self.buf += d
        l, self.buf = self.buf.split(b"\n", 1)
        return json.loads(l)

    def call(self, method, params=None, rid=1):
        r = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            r["params"] = params
        self.send_raw(json.dumps(r).encode() + b"\n")
        return self.line()

    def closed(self):
        try:
            return self.s.recv(1) == b""
        except OSError:
            return True


def err(resp):
    return resp.get("error", {}) if resp else {}


def expect_error(c, what, method, params, code, words):
    r = c.call(method, params)
    e = err(r)
    check("%s: error %d naming %s" % (what, code, words),
          e.get("code") == code and all(w in e.get("message", "")
                                         for w in words), repr(r))


c = Client()
check("version answers", "version" in c.call("version").get("result", {}))

expect_error(c, "unknown method", "port_frobnicate", None, -32601,
             ["port_frobnicate"])
expect_error(c, "missing params", "port_add", {}, -32602, ["path"])
expect_error(c, "missing id", "port_del", {}, -32602, ["id"])
expect_error(c, "queues wrong type", "port_add",
             {"path": TMP + "/x.sock", "queues": "two"}, -32602,
             ["queues", "\"two\""])
expect_error(c, "queues out of range", "port_add",
             {"path": TMP + "/x.sock", "queues": 99}, -32602,
             ["queues", "99"])
expect_error(c, "mtu out of range", "port_add",
             {"path": TMP + "/x.sock", "mtu": 9001}, -32602,
             ["mtu", "9001"])
expect_error(c, "client wrong type", "port_add",
             {"path": TMP + "/x.sock", "client": "yes"}, -32602, ["client"])
expect_error(c, "relative path", "port_add", {"path": "x.sock"}, -32602,
             ["x.sock"])
expect_error(c, "bad dma", "port_add",
             {"path": TMP + "/x.sock", "dma": "warp"}, -32602, ["warp"])
expect_error(c, "bad mac", "port_add",
             {"path": TMP + "/x.sock", "mac": "01:02:03"}, -32602,
             ["01:02:03"])
expect_error(c, "unknown parameter", "port_add",
             {"path": TMP + "/x.sock", "queus": 2}, -32602, ["queus"])
expect_error(c, "id wrong type", "port_del", {"id": "0"}, -32602, ["id"])
expect_error(c, "params not an object", "port_list", [1, 2], -32602,
             ["params"])
expect_error(c, "path in use", "port_add", {"path": TMP + "/a.sock"},
             -32000, [TMP + "/a.sock", "in use"])
expect_error(c, "unknown port id", "port_del", {"id": 42}, -32000,
             ["port 42"])
expect_error(c, "stats of unknown port", "port_stats", {"id": 42}, -32000,
             ["port 42"])

r = c.call("port_add", {"path": TMP + "/d.sock", "queues": 2})
pid = r.get("result", {}).get("id")
check("port_add works (id %s)" % pid, isinstance(pid, int), repr(r))
check("port_del works", "result" in c.call("port_del", {"id": pid}))
expect_error(c, "double delete", "port_del", {"id": pid}, -32000,
             ["port %s" % pid])

# ethdev ports (net_null: no host resources)
expect_error(c, "ethdev: unknown driver", "ethdev_add",
             {"name": "net_frobnicate0"}, -32000,
             ["net_frobnicate0", "no such driver"])
expect_error(c, "ethdev: not a net_ vdev", "ethdev_add",
             {"name": "dma_skeleton7"}, -32000, ["dma_skeleton7", "net_"])
expect_error(c, "ethdev: devargs in the name", "ethdev_add",
             {"name": "net_null0,size=64"}, -32602, ["net_null0,size=64"])
expect_error(c, "ethdev: name missing", "ethdev_add", {"args": "x=1"},
             -32602, ["name"])
expect_error(c, "ethdev: devargs the driver refuses", "ethdev_add",
             {"name": "net_null5", "args": "bogus=1"}, -32000,
             ["net_null5,bogus=1"])
r = c.call("ethdev_add", {"name": "net_null5", "args": "size=64"})
eid = r.get("result", {}).get("id")
check("ethdev_add net_null5 works (id %s)" % eid, isinstance(eid, int),
      repr(r))
expect_error(c, "ethdev: duplicate name", "ethdev_add",
             {"name": "net_null5"}, -32000, ["net_null5", "in use"])
kinds = {p["id"]: p["kind"] for p in c.call("port_list")["result"]}
check("port_list shows it as an ethdev", kinds.get(eid) == "ethdev",
      repr(kinds))
expect_error(c, "ethdev_del of a vhost port", "ethdev_del", {"id": 0},
             -32000, ["port 0", "vhost"])
check("ethdev_del works", "result" in c.call("ethdev_del", {"id": eid}))
expect_error(c, "ethdev: delete twice", "ethdev_del", {"id": eid}, -32000,
             ["port %s" % eid])
r = c.call("ethdev_add", {"name": "net_null5"})
check("the name is free again after ethdev_del", "result" in r, repr(r))
check("port_del removes an ethdev port too",
      "result" in c.call("port_del", {"id": r.get("result", {}).get("id")}))

# migration and guest methods on a vmpath without a guest (the cases that
# need one, a destination or a running migration are in ctl_migrate.sh)
expect_error(c, "migrate: uri missing", "migrate", {}, -32602, ["uri"])
expect_error(c, "migrate: uri wrong type", "migrate", {"uri": 7}, -32602,
             ["uri"])
expect_error(c, "migrate: bandwidth out of range", "migrate",
             {"uri": "tcp:127.0.0.1:1", "bandwidth": -1}, -32602,
             ["bandwidth", "-1"])
expect_error(c, "migrate: unknown parameter", "migrate",
             {"uri": "tcp:127.0.0.1:1", "speed": 1}, -32602, ["speed"])
expect_error(c, "migrate: bad uri", "migrate", {"uri": "tcp:nowhere"},
             -32000, ["tcp:nowhere", "tcp:HOST:PORT"])
expect_error(c, "migrate: no guest", "migrate", {"uri": "tcp:127.0.0.1:1"},
             -32000, ["no guest"])
expect_error(c, "migrate_cancel with none running", "migrate_cancel", None,
             -32000, ["no migration"])
r = c.call("migrate_info")
check("migrate_info with none: status none",
      r.get("result") == {"status": "none"}, repr(r))
expect_error(c, "guest_info: no guest", "guest_info", None, -32000,
             ["no guest"])
expect_error(c, "guest_pin: off wrong type", "guest_pin",
             {"off": "0", "len": 4096}, -32602, ["off"])
expect_error(c, "guest_dump: relative path", "guest_dump", {"path": "g.bin"},
             -32602, ["g.bin"])

# fill up to --max-ports (2 exist), then one more
ids = []
for i in range(MAX_PORTS - 2):
    r = c.call("port_add", {"path": "%s/m%d.sock" % (TMP, i)})
    ids.append(r.get("result", {}).get("id"))
check("ports up to --max-ports %d accepted" % MAX_PORTS,
      all(isinstance(i, int) for i in ids), repr(ids))
expect_error(c, "more than --max-ports", "port_add",
             {"path": TMP + "/over.sock"}, -32000, ["%d ports" % MAX_PORTS])
for i in ids:
    c.call("port_del", {"id": i})
check("back to 2 ports", len(c.call("port_list")["result"]) == 2)

# protocol-level garbage on a second client, while the first stays
g = Client()
g.send_raw(b"\x00\xff\xfe garbage {{{\n")
e = err(g.line())
check("garbage bytes: parse error -32700", e.get("code") == -32700, repr(e))
g.send_raw(b"[1,2,3]\n")
e = err(g.line())
check("not an object: invalid request -32600", e.get("code") == -32600,
      repr(e))
g.send_raw(b'{"jsonrpc":"1.0","id":3,"method":"version"}\n')
e = err(g.line())
check("wrong jsonrpc version: -32600", e.get("code") == -32600, repr(e))
g.send_raw(b'{"jsonrpc":"2.0","method":"version"}\n'
           b'{"jsonrpc":"2.0","id":"s","method":"version"}\n')
r = g.line()
check("a notification gets no answer; the next request does",
      r and r.get("id") == "s" and "result" in r, repr(r))
check("the garbage client is still served",
      "result" in g.call("version"))

# oversized line: an error, then that client is closed
o = Client()
o.send_raw(b"{" + b" " * (70 * 1024))
e = err(o.line())
check("oversized line: error naming the limit",
      e.get("code") == -32600 and "65536" in e.get("message", ""), repr(e))
check("oversized line: that client closed", o.closed())

# client gone mid-request
m = Client()
m.send_raw(b'{"jsonrpc":"2.0","id":1,"method":"port_li')
m.s.close()
# many clients at once
many = [Client() for _ in range(8)]
for i, k in enumerate(many):
    k.send_raw(json.dumps({"jsonrpc": "2.0", "id": i,
                           "method": "version"}).encode() + b"\n")
check("8 clients at once each get their answer",
      all(k.line().get("id") == i for i, k in enumerate(many)))
check("after all that, the first client is still served",
      len(c.call("port_list")["result"]) == 2)
sys.exit(1 if fails else 0)
