#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Ethdev (vdev) ports added and removed at run time (vmpathctl ethdev-add /
# ethdev-del): a net_tap port is added, the host kernel pings a
# dpdk-testpmd icmpecho peer on port 0 through it and the switch, it is
# removed (its interface goes); then CTL_ETH_CYCLES add/del cycles of a
# net_tap port, after which vmpath's DPDK heap and mbufs in use are as
# before. Argument "halt": with --idle halt (the tap's Rx interrupt fd on
# the lcore's waker, off it again at removal).
. "$VMPATH_SRC/tests/lib.sh"
. "$VMPATH_SRC/tests/vnet/vnet_lib.sh"
. "$VMPATH_SRC/tests/ctl/ctl_lib.sh"
cd "$T_TMP"
need_tun
LOGS=(--log-level=lib.eal:error --log-level=lib.vhost.config:warning)
CYCLES=${CTL_ETH_CYCLES:-10}
IDLE=()
[ "${1:-}" = halt ] && IDLE=(--idle halt --idle-polls 200)
IF=vmpt$$
NET=10.98.$(($$ % 200))

start_vmpath eth "${IDLE[@]}"
start_icmpecho "$T_TMP/a.sock" vmpt-ctleth-tp-$$
t_wait_for "port_up 0" 40 || t_bad "icmpecho peer did not attach to port 0"
ID=$(ctl ethdev-add net_tap0 "iface=$IF" | awk '{print $2}')
t_check "ethdev-add net_tap0 gives port 2 (got '$ID')" test "$ID" = 2
t_check "its interface exists" ip link show "$IF"
ctl port-list >list.txt
t_grep "port-list shows it" "^ +2 +net_tap0,iface=$IF +ethdev" list.txt
ip addr add $NET.1/24 dev $IF
ip link set $IF up
"${PING[@]}" -c 3 -W 3 -I $IF $NET.3 >ping.log 2>&1
t_grep "the kernel pinged the peer through the run-time tap port" \
	"3 packets transmitted, 3 (packets )?received" ping.log
ctl ethdev-del 2 >del.txt
t_grep "ethdev-del 2" "port 2 removed" del.txt
t_check "its interface is gone" eval "! ip link show $IF >/dev/null 2>&1"
t_check "only ports 0 and 1 are left" \
	test "$(ctl port-list | grep -cE '^ +[0-9]+ ')" -eq 2

MEM0=$(mem_state)
ok=0
for ((i = 0; i < CYCLES; i++)); do
	ID=$(ctl ethdev-add net_tap3 "iface=$IF" | awk '{print $2}')
	[ "$ID" = 2 ] && ip link show "$IF" >/dev/null 2>&1 &&
		ctl ethdev-del 2 >/dev/null &&
		! ip link show "$IF" >/dev/null 2>&1 && ok=$((ok + 1))
done
t_check "$ok of $CYCLES net_tap add/del cycles" test $ok -eq $CYCLES
MEM1=$(mem_state)
t_note "before the cycles: $MEM0; after: $MEM1"
t_check "DPDK heap and mbufs in use as before the cycles" \
	mem_same "$MEM0" "$MEM1"
t_check "vmpath still serves" eval "ctl version >/dev/null"
stop_vmpath
echo "$T_PASS passed, $T_FAIL failed"
[ "$T_FAIL" -eq 0 ]
