#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# An ethdev port in the switch: the host kernel pings, through a net_tap port
# of vmpath and the MAC-learning switch, a dpdk-testpmd icmpecho peer on a
# vhost-user port (ARP flooded, then unicast both ways).
. "$VMPATH_SRC/tests/lib.sh"
. "$VMPATH_SRC/tests/vnet/vnet_lib.sh"
cd "$T_TMP"
need_tun
LOGS=(--log-level=lib.eal:error --log-level=lib.vhost.config:warning)
IF=vmpt$$
P=vmpt-vt-$$
"$VMPATH" -l 0-1 --no-pci --no-huge -m 256 --file-prefix=$P "${LOGS[@]}" -- \
	--vhost "$T_TMP/peer.sock" --ethdev "net_tap0,iface=$IF" \
	--stats-period 1 >sw.log 2>&1 &
SW=$!
T_PIDS+=("$SW")
t_check "tap interface created" t_wait_for "ip link show $IF >/dev/null 2>&1" 30
start_icmpecho "$T_TMP/peer.sock" $P-tp
t_wait_for "echo /vmpath/ports | timeout 10 dpdk-telemetry.py -f $P 2>/dev/null | grep -q '\"connected\": 1'" 30
ip addr add 10.99.$(($$ % 200)).1/24 dev $IF
ip link set $IF up
"${PING[@]}" -c 3 -W 3 -I $IF 10.99.$(($$ % 200)).3 >ping.log 2>&1
t_grep "kernel pinged the peer through tap and switch" \
	"3 packets transmitted, 3 (packets )?received" ping.log
kill -INT "$TP"
t_wait_pid "$TP" 20
kill -TERM "$SW"
t_wait_pid "$SW" 30
t_check "switch exits 0 (got $T_RC)" test "$T_RC" -eq 0
t_grep "port 1 (tap) counted traffic" "port 1: from-vm [1-9]" sw.log
t_check "tap interface removed" eval "! ip link show $IF >/dev/null 2>&1"
t_done
