#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# MAC entries of a removed port are flushed: a later port that gets the same
# id inherits none of them (docs/control.md "MAC table").
#   1. port 2 is added; a vnet-peer with MAC X on it sends frames: the switch
#      learns X on port 2. Frames from port 0 to X then go to port 2 only
#      (port 1's counters do not move).
#   2. port 2 is deleted, a new port is added and gets id 2 again.
#   3. frames from port 0 to X: X is unknown now, so they are flooded, and
#      port 1 gets them. Were X still learned on id 2, they would go to the
#      new port 2 only and port 1 would get none.
# Ports without a frontend count what the switch gives them as drop_full, so
# ports 1 and 2 need no peer.
. "$VMPATH_SRC/tests/lib.sh"
. "$VMPATH_SRC/tests/vnet/vnet_lib.sh"
. "$VMPATH_SRC/tests/ctl/ctl_lib.sh"
PEER="$VMPATH_BUILD/tests/vnet/vnet-peer"
cd "$T_TMP"
LOGS=(--log-level=lib.eal:error --log-level=lib.vhost.config:warning)
X=02:00:00:00:00:c1
N=64

# send SOCK SRC_MAC DST_MAC: N frames from a vnet-peer on SOCK (no echo
# comes back: its own exit status says nothing here)
send() {
	timeout 60 "$PEER" --lcores "0@(0-1)" --no-pci --no-huge -m 256 \
		--file-prefix=vmpt-ctlmac-peer-$$ "${LOGS[@]}" \
		--vdev "net_virtio_user0,path=$1,queues=1,mac=$2" \
		-- --dst "$3" --count $N --window $N --timeout 2 >>peer.log 2>&1
}
# seen ID: packets the switch gave port ID (fwd + drop_full)
seen() {
	ctl --json port-stats "$1" | $PY -c 'import json,sys
d=json.load(sys.stdin)
print(d["fwd"] + d["drop_full"])'
}

start_vmpath mac
ID=$(ctl port-add "$T_TMP/c.sock" | awk '{print $2}')
t_check "port-add gives port 2 (got '$ID')" test "$ID" = 2
send "$T_TMP/c.sock" $X 02:00:00:00:00:a1
b0=$(seen 1)
send "$T_TMP/a.sock" 02:00:00:00:00:a1 $X
b1=$(seen 1)
c1=$(seen 2)
t_check "X learned on port 2: frames to X reach port 2 ($c1), not port 1 ($b0 -> $b1)" \
	test "$c1" -ge $N -a "$b1" = "$b0"

ctl port-del 2 >/dev/null
ID=$(ctl port-add "$T_TMP/d.sock" | awk '{print $2}')
t_check "a new port gets id 2 again (got '$ID')" test "$ID" = 2
send "$T_TMP/a.sock" 02:00:00:00:00:a1 $X
b2=$(seen 1)
t_check "after port 2 was removed, frames to X are flooded: port 1 got $((b2 - b1)) of $N" \
	test $((b2 - b1)) -ge $N
stop_vmpath
echo "$T_PASS passed, $T_FAIL failed"
[ "$T_FAIL" -eq 0 ]
