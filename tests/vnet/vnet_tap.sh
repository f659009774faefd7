#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# An ethdev port in the switch: the host kernel pings, through a net_tap port
# of vmpath and the MAC-learning switch, a dpdk-testpmd icmpecho peer on a
# vhost-user port (ARP flooded, then unicast both ways). The tap port has
# --ethdev ...,mtu=1400 (the kernel interface gets it through the PMD) and
# the kernel also pings with 1372-byte payloads: full 1414-byte frames both
# ways. A second tap port of MTU 1280 gets the flooded copies of 1342-byte
# frames (sent to a MAC nobody has): dropped, counted as its mtu_drops. An
# MTU the PMD refuses stops vmpath with an error naming it: 9000 on net_tap
# (DPDK 22.11's net_tap reports max_rx_pktlen 1522, so the ethdev layer
# refuses any MTU over 1500, and its TX drops frames over MTU + 22), any on
# net_ring (no mtu_set); 9001 anywhere (out of range).
. "$VMPATH_SRC/tests/lib.sh"
. "$VMPATH_SRC/tests/vnet/vnet_lib.sh"
cd "$T_TMP"
need_tun
LOGS=(--log-level=lib.eal:error --log-level=lib.vhost.config:warning)
IF=vmpt$$
IF2=vmpu$$
P=vmpt-vt-$$
NET=10.99.$(($$ % 200))
"$VMPATH" -l 0-1 --no-pci --no-huge -m 256 --file-prefix=$P "${LOGS[@]}" -- \
	--vhost "$T_TMP/peer.sock" \
	--ethdev "net_tap0,iface=$IF,mtu=1400" \
	--ethdev "net_tap1,mtu=1280,iface=$IF2" \
	--stats-period 1 >sw.log 2>&1 &
SW=$!
T_PIDS+=("$SW")
t_check "tap interface created" t_wait_for "ip link show $IF >/dev/null 2>&1" 30
t_check "second tap interface created" \
	t_wait_for "ip link show $IF2 >/dev/null 2>&1" 30
ip link show $IF >link.txt 2>&1
t_grep "the tap interface got MTU 1400 from vmpath" " mtu 1400 " link.txt
ip link show $IF2 >link2.txt 2>&1
t_grep "the second one MTU 1280" " mtu 1280 " link2.txt
start_icmpecho "$T_TMP/peer.sock" $P-tp
t_wait_for "tel $P /vmpath/ports | grep -q '\"connected\": 1'" 30
ip addr add $NET.1/24 dev $IF
ip link set $IF up
ip link set $IF2 up
"${PING[@]}" -c 3 -W 3 -I $IF $NET.3 >ping.log 2>&1
t_grep "kernel pinged the peer through tap and switch" \
	"3 packets transmitted, 3 (packets )?received" ping.log
"${PING[@]}" -c 3 -W 3 -s 1372 -I $IF $NET.3 >pingmtu.log 2>&1
t_grep "1414-byte frames (IP MTU 1400) both ways through the tap" \
	"3 packets transmitted, 3 (packets )?received" pingmtu.log
# 1342-byte frames to MACs nobody has: flooded, over the second tap's MTU
# (a new MAC each: testpmd's icmpecho answers from the one it was sent to,
# and the switch learns it)
for i in 1 2 3 4; do
	ip neigh replace $NET.9 lladdr 02:00:00:00:00:9$i dev $IF nud permanent
	"${PING[@]}" -c 1 -W 1 -s 1300 -I $IF $NET.9 >/dev/null 2>&1
done
for try in 1 2 3; do
	tel $P /vmpath/ports >ports.json
	grep -q '"mtu_drops"' ports.json && break
	t_note "telemetry, try $try: no answer"
done
t_grep "second tap: the 4 flooded 1342-byte frames dropped and counted" \
	'"2": \{[^}]*"mtu_drops": 4[,}]' ports.json
t_grep "first tap: no MTU drop" '"1": \{[^}]*"mtu_drops": 0[,}]' ports.json
kill -INT "$TP"
t_wait_pid "$TP" 20
kill -TERM "$SW"
t_wait_pid "$SW" 30
t_check "switch exits 0 (got $T_RC)" test "$T_RC" -eq 0
t_grep "port 1 (tap) counted traffic" "port 1: from-vm [1-9]" sw.log
t_check "tap interface removed" eval "! ip link show $IF >/dev/null 2>&1"

# bad MTUs: refused by the PMD, and out of range
for spec in "net_tap2,iface=${IF}x,mtu=9000" "net_ring0,mtu=1400" \
	"net_null0,mtu=9001"; do
	timeout 30 "$VMPATH" -l 0-1 --no-pci --no-huge -m 256 \
		--file-prefix=$P-bad "${LOGS[@]}" -- --ethdev "$spec" \
		--run-time 1 >bad.log 2>&1
	rc=$?
	t_check "--ethdev $spec refused (exit $rc)" test $rc -ne 0
	t_grep "--ethdev $spec: the error names the MTU" \
		"MTU (9000|1400) refused by its PMD|mtu must be 68..9000" bad.log
done
t_done
