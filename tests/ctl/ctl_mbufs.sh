#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# mbufs grow with the port count: with --mbufs 6143 (one block of 8 port ids
# per pool), 16 net_tap ports are added at run time to the 2 vhost ports.
# A tap's Rx ring holds 512 mbufs of its port's pool for as long as it runs,
# so the 18 ports need ~8.7k mbufs: more than the starting pool. Each tap
# passes traffic (the host kernel pings a dpdk-testpmd icmpecho peer on
# port 0 through it), no port counts an mbuf allocation failure, three pools
# exist; after the taps are removed the extra pools are freed and vmpath's
# DPDK heap and mbufs in use are where they were before.
. "$VMPATH_SRC/tests/lib.sh"
. "$VMPATH_SRC/tests/vnet/vnet_lib.sh"
. "$VMPATH_SRC/tests/ctl/ctl_lib.sh"
cd "$T_TMP"
need_tun
LOGS=(--log-level=lib.eal:error --log-level=lib.vhost.config:warning)
NTAP=16
NET=10.$((100 + $$ % 100))

start_vmpath mb --mbufs 6143 --max-ports 24
start_icmpecho "$T_TMP/a.sock" vmpt-ctlmb-tp-$$
t_wait_for "port_up 0" 40 || t_bad "icmpecho peer did not attach to port 0"
# a first tap makes what DPDK keeps once made (~190 KiB): before MEM0
ctl ethdev-add net_tap99 "iface=vmm$$w" >/dev/null && ctl ethdev-del 2 >/dev/null
MEM0=$(mem_state)
HEAP0=$(ctl --json memory | $PY -c 'import json,sys
print(json.load(sys.stdin)["heap_alloc_bytes"])')
ok=0
for ((i = 0; i < NTAP; i++)); do
	ID=$(ctl ethdev-add net_tap$i "iface=vmm$$x$i" 2>add$i.err | awk '{print $2}')
	[ "$ID" = $((i + 2)) ] && ok=$((ok + 1)) || cat add$i.err
done
t_check "$ok of $NTAP net_tap ports added (ids 2..$((NTAP + 1)))" \
	test $ok -eq $NTAP
ctl --json memory >mem.json
cat mem.json
t_check "three mbuf pools (port ids 0-7, 8-15, 16-17)" \
	grep -q '"mbuf_pools": 3' mem.json
HEAP1=$($PY -c 'import json,sys
print(json.load(open("mem.json"))["heap_alloc_bytes"])')
t_note "DPDK heap: $HEAP0 bytes with one pool, $HEAP1 with three (+$(((HEAP1 - HEAP0) >> 20)) MiB for 16 taps)"
ok=0
for ((i = 0; i < NTAP; i++)); do
	IF=vmm$$x$i
	ip addr add $NET.$i.1/24 dev $IF
	ip link set $IF up
	# a reply through each tap shows it works; starving shows as no_mbuf
	# below (one echo of two was lost once on a loaded host)
	"${PING[@]}" -c 3 -W 3 -I $IF $NET.$i.3 >ping$i.log 2>&1
	grep -qE "3 packets transmitted, [1-3] (packets )?received" ping$i.log &&
		ok=$((ok + 1)) || { echo "tap $i:"; cat ping$i.log; }
done
t_check "the kernel got echo replies through each tap: $ok of $NTAP" \
	test $ok -eq $NTAP
starved=0
for ((p = 0; p < NTAP + 2; p++)); do
	ctl --json port-stats $p >ps$p.json
	grep -qE '"no_mbuf": [1-9]' ps$p.json && { starved=$((starved + 1)); cat ps$p.json; }
done
t_check "no port counted an mbuf allocation failure ($starved did)" \
	test $starved -eq 0
ok=0
for ((i = 0; i < NTAP; i++)); do
	ctl ethdev-del $((i + 2)) >/dev/null && ok=$((ok + 1))
done
t_check "$ok of $NTAP taps removed" test $ok -eq $NTAP
# the extra pools go once their mbufs are back (checked once a second)
t_check "DPDK heap, mbufs in use and pools as before the taps" \
	t_wait_for "mem_same \"\$(mem_state)\" \"$MEM0\" &&
		ctl --json memory | grep -q '\"mbuf_pools\": 1'" 10
t_note "before: $MEM0; after: $(mem_state)"
t_check "vmpath still serves" eval "ctl version >/dev/null"
stop_vmpath
t_done
