#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# TSO through the switch between real virtio-user frontends (dpdk-testpmd):
# peer A reads big TCP/IPv4 and TCP/IPv6 frames from a pcap and sends them in
# `csum` forwarding mode with `tso set 1448` (virtio-user negotiates CSUM and
# HOST_TSO4/6 and puts GSO requests in the virtio-net header). vmpath floods
# them (unknown destination MAC) to peer B, which negotiated no guest offload
# (vmpath segments and checksums in software), and to peer C, which
# negotiated GUEST_CSUM and GUEST_TSO4/6 (`--enable-lro`: frames arrive
# whole), and to peer D, which negotiated GUEST_CSUM but not GUEST_TSO4/6
# (vmpath segments without reading the payload: each segment's TCP checksum
# is the pseudo-header sum, NEEDS_CSUM in its header). B, C and D write what
# they receive to pcap files; tso_frames.py checks B's segments (count,
# sizes, sequence numbers, IP and TCP checksums, bytes), D's the same once
# their partial checksums are completed as a receiver does, and C's whole
# frames. A net_pcap ethdev port of vmpath (no TX offloads
# configured) gets the segments too, made by vmpath before rte_eth_tx_burst().
# The ports' MTU is 9000: testpmd segments IPv6 at MSS 1448 too, 1522-byte
# frames that a 1500 port drops as over its MTU.
. "$VMPATH_SRC/tests/lib.sh"
cd "$T_TMP"
LOGS=(--log-level=lib.eal:error --log-level=lib.vhost.config:warning)
ANY="(0-1)"
FR="$VMPATH_SRC/tests/vnet/tso_frames.py"
MSS=1448
python3 "$FR" gen in.pcap || t_bad "frames generated"

"$VMPATH" --lcores "0@$ANY,1@$ANY" --no-pci --no-huge -m 256 --iova-mode=va \
	--file-prefix=vmpt-tso-$$ "${LOGS[@]}" -- \
	--vhost "$T_TMP/a.sock,tso=on,mtu=9000" \
	--vhost "$T_TMP/b.sock,tso=on,mtu=9000" \
	--vhost "$T_TMP/c.sock,tso=on,mtu=9000" \
	--vhost "$T_TMP/d.sock,tso=on,mtu=9000" \
	--ethdev "net_pcap9,tx_pcap=$T_TMP/oute.pcap" \
	--stats-period 1 >sw.log 2>&1 &
SW=$!
T_PIDS+=("$SW")
t_wait_for "test -S $T_TMP/d.sock" 30 || t_bad "switch did not start"

# tp NAME SOCK MODE [testpmd args]: an interactive testpmd whose commands
# come from the fifo NAME.in (kept open on fd 7/8/9 by the caller).
tp() {
	local n=$1 s=$2 mode=$3
	shift 3
	mkfifo "$n.in"
	dpdk-testpmd --lcores "0@$ANY,1@$ANY" --main-lcore 1 --no-pci \
		--no-huge -m 512 --file-prefix=vmpt-tso-$n-$$ "${LOGS[@]}" \
		--vdev "net_virtio_user0,path=$T_TMP/$s.sock,queues=1,mac=02:00:00:00:00:$n$n" \
		"$@" -- -i --forward-mode=$mode --total-num-mbufs=8192 \
		--no-mlockall --no-flush-rx <"$n.in" >"$n.log" 2>&1 &
	T_PIDS+=("$!")
	eval "TP_$n=$!"
}
features() { # features NAME: what port NAME negotiated last
	grep "$1.sock: device running" sw.log | tail -n 1 |
		sed -n 's/.*features \(0x[0-9a-f]*\).*/\1/p'
}
connected() { # connected NAME FEATURE-HEX-MASK: negotiated by port NAME
	local f
	f=$(features "$1")
	[ -n "$f" ] && (((f & $2) == $2))
}
not_connected() { # not_connected NAME MASK: none of MASK negotiated
	local f
	f=$(features "$1")
	[ -n "$f" ] && (((f & $2) == 0))
}

# B: no guest offload; C: GUEST_CSUM + GUEST_TSO4/6 (LRO on its port 0)
tp bb b io --vdev "net_pcap0,tx_pcap=$T_TMP/outb.pcap"
exec 8>bb.in
tp cc c io --vdev "net_pcap0,tx_pcap=$T_TMP/outc.pcap"
exec 9>cc.in
echo start >&8
printf '%s\n' "port stop all" "port config 0 rx_offload tcp_lro on" \
	"port config 0 rx_offload tcp_cksum on" "port start all" start >&9
t_check "peer C negotiated GUEST_CSUM and GUEST_TSO4/6" \
	t_wait_for "connected c 0x182" 60
t_check "peer B connected" t_wait_for "connected b 0x8000" 60
# D: GUEST_CSUM (rx tcp_cksum on its port 0), no LRO: no GUEST_TSO4/6
tp dd d io --vdev "net_pcap0,tx_pcap=$T_TMP/outd.pcap"
exec 6>dd.in
printf '%s\n' "port stop all" "port config 0 rx_offload tcp_cksum on" \
	"port start all" start >&6
t_check "peer D negotiated GUEST_CSUM" t_wait_for "connected d 0x2" 60
t_check "peer D did not negotiate GUEST_TSO4/6" not_connected d 0x180
# A: csum engine, TSO 1448 on its virtio port (0), frames from pcap (1)
tp aa a csum --vdev "net_pcap0,rx_pcap=$T_TMP/in.pcap"
exec 7>aa.in
printf '%s\n' "port stop all" "csum set tcp hw 0" "tso set $MSS 0" \
	"port start all" start >&7
t_check "peer A negotiated CSUM and HOST_TSO4/6" \
	t_wait_for "connected a 0x1801" 60
# 16 frames of 16000 payload bytes: 12 segments each (11 of MSS)
t_check "B got every segment" t_wait_for \
	"grep -q 'port 1: from-vm 0 .*to-vm 192 ' sw.log" 90
t_check "C got every frame" t_wait_for \
	"grep -q 'port 2: from-vm 0 .*to-vm 16 ' sw.log" 30
t_check "D got every segment" t_wait_for \
	"grep -q 'port 3: from-vm 0 .*to-vm 192 ' sw.log" 30
# a loaded host can make dpdk-telemetry.py miss its 20 s: ask again
for p in 0 1 2 3; do
	for try in 1 2 3; do
		tel vmpt-tso-$$ /vmpath/port_stats,$p >ps$p.json
		grep -q '"vring0"' ps$p.json && break
		t_note "telemetry of port $p, try $try: no answer"
	done
done
t_grep "A's 16 frames counted as TSO requests" \
	'"vring1": \{[^}]*"ol_tso": 16,' ps0.json
t_grep "B's segments counted" '"vring0": \{[^}]*"sw_segs": 192,' ps1.json
t_grep "C's frames counted as passed whole" \
	'"vring0": \{[^}]*"ol_tso": 16,' ps2.json
t_grep "D's segments counted" '"vring0": \{[^}]*"sw_segs": 192,' ps3.json
t_grep "D's segments counted as partial checksums" \
	'"vring0": \{[^}]*"ol_csum": 192,' ps3.json
echo quit >&7
echo quit >&8
echo quit >&9
echo quit >&6
exec 6>&- 7>&- 8>&- 9>&-
for p in "$TP_aa" "$TP_bb" "$TP_cc" "$TP_dd"; do
	t_wait_pid "$p" 30
done
kill -TERM "$SW"
t_wait_pid "$SW" 30
t_check "switch exits 0 (got $T_RC)" test "$T_RC" -eq 0
python3 "$FR" check-segs outb.pcap $MSS >chk-b.log 2>&1
t_grep "B: segments right (sizes, seq, checksums, payload)" "^ok" chk-b.log
python3 "$FR" check-segs oute.pcap $MSS >chk-e.log 2>&1
t_grep "ethdev port: segments right" "^ok" chk-e.log
python3 "$FR" check-segs outd.pcap $MSS partial >chk-d.log 2>&1
t_grep "D: partial segments right (completed checksums, sizes, seq, payload)" \
	"^ok" chk-d.log
python3 "$FR" check-whole outc.pcap >chk-c.log 2>&1
t_grep "C: frames whole" "^ok" chk-c.log
t_done
