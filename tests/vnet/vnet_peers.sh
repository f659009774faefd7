#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The vmpath switch between real virtio-user frontends in other processes:
# vnet-peer (DPDK net_virtio_user through ethdev) on port 0 sends numbered,
# patterned packets to dpdk-testpmd (net_virtio_user, --forward-mode=macswap)
# on port 1, which sends them back; the peer checks that every packet came
# back exactly once, intact. Both directions go through the switch's dequeue
# and enqueue on both ports. Matrix: sync and async (dma_skeleton; our
# dma_swdma on a DMA lcore for 1 queue pair), 1 and 2
# queue pairs, 64 B, 1518 B, and 1518 B as 3-segment mbufs into 512 B guest
# buffers (indirect TX chains, mergeable RX). Port 1 is a client socket in the
# 2-queue runs, and its peer restarts (reconnect). Then jumbo frames: 9000 B
# through two MTU 9000 ports, and dropped (counted) at a 1500 one.
#
# No thread of the three processes is pinned to one CPU (EAL --lcores
# N@(0-1)): on these 2-vCPU VMs one vCPU can make (almost) no progress for
# seconds to minutes (dmesg: "workqueue lockup - pool cpus=0 ... stuck for
# 43s"). Pinned (the peer, testpmd's forwarding lcore and the switch's control
# threads all on CPU 0), a run waited for CPU 0 as long; unpinned, the kernel
# runs them on the other vCPU (checked by hand with a SCHED_FIFO busy loop on
# CPU 0 during a run: 10 s pinned, 1.1 s unpinned; not in CI, where an RT hog
# would add the very stall risk this avoids).
ANY="(0-1)" # every lcore may run on either CPU
. "$VMPATH_SRC/tests/lib.sh"
. "$VMPATH_SRC/tests/vnet/vnet_lib.sh"
PEER="$VMPATH_BUILD/tests/vnet/vnet-peer"
cd "$T_TMP"
LOGS=(--log-level=lib.eal:error --log-level=lib.vhost.config:warning)
N=${VNET_TEST_PKTS:-3000}

# start_switch NAME QP CLIENT(0|1) [vmpath args...]; A_OPTS, B_OPTS: more
# options of port 0 and port 1 (",mtu=9000")
start_switch() {
	SWP=vmpt-vn-$1-$$
	local b="$T_TMP/b.sock,queues=$2${B_OPTS:-}"
	[ "$3" = 1 ] && b="$b,client"
	rm -f "$T_TMP/a.sock" "$T_TMP/b.sock"
	"$VMPATH" ${SW_LCORES:---lcores 0@$ANY,1@$ANY} --no-pci --no-huge \
		-m 256 --iova-mode=va \
		--file-prefix=$SWP "${LOGS[@]}" -- \
		--vhost "$T_TMP/a.sock,queues=$2${A_OPTS:-}" --vhost "$b" "${@:4}" \
		--stats-period 0 >sw-$1.log 2>&1 &
	SW=$!
	T_PIDS+=("$SW")
	t_wait_for "test -S $T_TMP/a.sock" 30 || t_bad "switch $1 did not start"
}

# start_echo QP SERVER(0|1)
start_echo() {
	echo "== [${SECONDS}s] start_echo $*" >>tp.log
	local extra=""
	[ "$2" = 1 ] && extra=",server=1"
	dpdk-testpmd --lcores "0@$ANY,1@$ANY" --main-lcore 1 --no-pci \
		--no-huge -m 512 \
		--file-prefix=vmpt-vn-tp-$$ "${LOGS[@]}" \
		--vdev "net_virtio_user0,path=$T_TMP/b.sock,queues=$1,queue_size=1024,mac=02:00:00:00:00:b1$extra" \
		-- --forward-mode=macswap --rxq=$1 --txq=$1 \
		--total-num-mbufs=8192 --stats-period 100 -a --no-mlockall \
		</dev/null >>tp.log 2>&1 &
	TP=$!
	T_PIDS+=("$TP")
	t_wait_for "tel $SWP /vmpath/ports | grep -q '\"1\": {[^}]*\"connected\": 1'" 40
	t_note "echo started, rc $?"
}

stop_echo() {
	kill -INT "$TP" 2>/dev/null
	t_wait_pid "$TP" 20
	t_note "echo stopped, rc $T_RC"
}

stop_switch() {
	kill -TERM "$SW"
	t_wait_pid "$SW" 30
	t_check "switch exits 0 (got $T_RC)" test "$T_RC" -eq 0
}

# run_peer LABEL QP [peer args...]
run_peer() {
	local w t0 tpid
	t0=$(date +%s.%N)
	timeout 90 "$PEER" --lcores "0@$ANY" --no-pci --no-huge -m 256 \
		--file-prefix=vmpt-vn-peer-$$ "${LOGS[@]}" \
		--vdev "net_virtio_user0,path=$T_TMP/a.sock,queues=$2,queue_size=1024,mac=02:00:00:00:00:a1" \
		-- --dst 02:00:00:00:00:b1 --queues "$2" --count "$N" \
		--timeout 60 "${@:3}" >peer.log 2>&1 &
	tpid=$!
	# Diagnostics of a slow peer run, every 2 s: where the peer's threads
	# are (state, CPU, kernel stack) and the switch's counters. Reads no
	# /proc file that needs the peer's mm (cmdline, as pgrep reads it).
	( sleep 2; while :; do
		echo "== [${SECONDS}s] $1 $(date +%s.%N)"
		grep -E '^cpu[0-9]' /proc/stat
		for p in $tpid $(cat /proc/$tpid/task/$tpid/children 2>/dev/null); do
			for t in /proc/$p/task/*; do
				echo "$t $(cat $t/comm) $(cut -d' ' -f3,39 $t/stat) $(cat $t/wchan)"
				cat $t/stack
			done
		done
		tel $SWP /vmpath/port_stats,0; tel $SWP /vmpath/port_stats,1
		sleep 2
	done ) >>watch.log 2>&1 &
	w=$!
	wait $tpid
	local rc=$?
	kill $w
	{ echo "== [${SECONDS}s] $1 rc $rc, ran $t0 .. $(date +%s.%N)"; cat peer.log; } >>peer-all.log
	if [ $rc -eq 0 ]; then
		t_ok "$1: $(grep -a 'vnet-peer: size' peer.log | head -1)"
	else
		t_bad "$1 (rc $rc)"
		grep -av TELEMETRY peer.log | tail -n 5 | sed 's/^/       | /'
		# where the peer's threads were while it was slow
		grep -av '^{' watch.log 2>/dev/null | tail -n 40 |
			sed 's/^/       w /'
	fi
}

matrix() { # matrix LABEL QP
	run_peer "$1 qp=$2 64B" "$2" --size 64 --window 256
	run_peer "$1 qp=$2 1518B" "$2" --size 1518 --window 256
	run_peer "$1 qp=$2 1518B chained" "$2" --size 1518 --segs 3 \
		--rx-buf 512 --window 128
}

echo "-- embedded guests (what usertools/vmpath-run runs)"
timeout 60 "$VMPATH" -l 0-1 --no-pci --no-huge -m 512 \
	--file-prefix=vmpt-vn-emb-$$ "${LOGS[@]}" -- \
	--vhost "$T_TMP/e0.sock" --vhost "$T_TMP/e1.sock" --embedded-guests 2 \
	--guest-pkt-len 200 --run-time 3 --stats-period 1 >emb.log 2>&1
t_check "exits 0 after --run-time" test $? -eq 0
t_grep "guest 0 received checked packets" \
	"guest 0: sent [0-9]+ received [1-9][0-9]* bad 0 .*Mpps" emb.log
t_grep "guest 1 received checked packets" \
	"guest 1: sent [0-9]+ received [1-9][0-9]* bad 0 .*Mpps" emb.log
t_check "no bad packet ever" eval "! grep -qE 'bad [1-9]' emb.log"

echo "-- the prompt: show ports, show port stats"
printf 'help\nshow ports\nshow port stats 1\nshow port stats 7\nquit\n' |
	timeout 60 "$VMPATH" -l 0-1 --no-pci --no-huge -m 256 \
	--file-prefix=vmpt-vn-cli-$$ "${LOGS[@]}" -- -i \
	--vhost "$T_TMP/c0.sock" --vhost "$T_TMP/c1.sock,client,queues=2" \
	>cli.log 2>&1
t_check "prompt exits 0" test $? -eq 0
t_grep "show ports lists the server port" "^ +0 +$T_TMP/c0.sock +server +1 +none +down" cli.log
t_grep "show ports lists the client port" "^ +1 +$T_TMP/c1.sock +client +2 +none +down" cli.log
t_grep "show port stats 1 has 4 vrings" "^ +3 +from-vm +0 " cli.log
t_grep "show port stats 7 refused" "no port 7 \(have 2\)" cli.log
t_grep "help lists the port commands" "show port stats N" cli.log

echo "-- a bad --vhost is refused, naming the value"
"$VMPATH" -l 0-1 --no-pci --no-huge -m 256 --file-prefix=vmpt-vn-cli-$$ \
	"${LOGS[@]}" -- --vhost "$T_TMP/x.sock,queues=12" >bad.log 2>&1
t_check "exits non-zero" test $? -ne 0
t_grep "names the value" "queues=12" bad.log

for mode in sync async sw; do
	dma=()
	SW_LCORES=
	[ $mode = async ] && dma=(--dma skeleton)
	# our dma_swdma: its engines run on a DMA lcore (lcore 2)
	[ $mode = sw ] && dma=(--dma sw --dma-lcores 1) &&
		SW_LCORES="--lcores 0@$ANY,1@$ANY,2@$ANY"
	echo "-- $mode, 1 queue pair, server sockets"
	start_switch $mode-1 1 0 "${dma[@]}"
	start_echo 1 0
	matrix $mode 1
	tel $SWP /vmpath/port_stats,0 >ps0.json
	tel $SWP /vmpath/port_stats,1 >ps1.json
	stop_echo
	stop_switch
	t_grep "$mode: per-vring stats read over telemetry" \
		'"vring1": \{"packets": [1-9]' ps0.json
	if [ $mode = sw ]; then
		t_grep "sw: engines placed on the DMA lcore" \
			"dma_swdma0: engines on DMA lcore 2" sw-$mode-1.log
		t_grep "sw: port 0 copies went to dma_swdma" \
			'"dma_copies": [1-9]' ps0.json
		t_grep "sw: port 1 copies went to dma_swdma" \
			'"dma_copies": [1-9]' ps1.json
	elif [ $mode = async ]; then
		t_grep "async: DMA device set up" "dma_skeleton0 .* for datapath" \
			sw-$mode-1.log
		t_grep "async: port 0 copies went to the DMA engine" \
			'"dma_copies": [1-9]' ps0.json
		t_grep "async: port 1 copies went to the DMA engine" \
			'"dma_copies": [1-9]' ps1.json
	else
		t_check "sync: no DMA copies" \
			eval "! grep -q '\"dma_copies\": [1-9]' ps0.json"
	fi
	t_check "$mode: no bad chains, no DMA errors, none in flight" eval \
		"! grep -qE '\"(bad_chain|dma_errors|inflight)\": [1-9]' ps0.json ps1.json"

	# dma_swdma: the 1-queue-pair matrix above; the rest is not DMA-specific
	[ $mode = sw ] && continue

	echo "-- $mode, 2 queue pairs, port 1 is a client; its peer restarts"
	start_switch $mode-2 2 1 "${dma[@]}"
	start_echo 2 1
	matrix $mode 2
	stop_echo
	t_check "$mode: port 1 seen down" t_wait_for \
		"tel $SWP /vmpath/ports | grep -q '\"1\": {[^}]*\"connected\": 0'" 20
	start_echo 2 1
	run_peer "$mode qp=2 after peer restart" 2 --size 256 --window 256
	t_check "$mode: port 1 reconnected (connects 2)" eval \
		"tel $SWP /vmpath/ports | grep -q '\"1\": {[^}]*\"connects\": 2'"
	stop_echo
	stop_switch
done

echo "-- jumbo frames: MTU 9000 on both ports, 9000 B frames in 5 mbufs"
A_OPTS=,mtu=9000 B_OPTS=,mtu=9000 start_switch jumbo 1 0
start_echo 1 0
run_peer "jumbo 9000B chained" 1 --size 9000 --segs 5 --window 64
tel $SWP /vmpath/ports >pj.json
t_grep "jumbo: both ports report MTU 9000" \
	'"1": \{[^}]*"mtu": 9000' pj.json
stop_echo
stop_switch
echo "-- over the MTU: port 1 at the default 1500 drops them, counted"
A_OPTS=,mtu=9000 start_switch mtu 1 0
start_echo 1 0
timeout 90 "$PEER" --lcores "0@$ANY" --no-pci --no-huge -m 256 \
	--file-prefix=vmpt-vn-peer-$$ "${LOGS[@]}" \
	--vdev "net_virtio_user0,path=$T_TMP/a.sock,queues=1,queue_size=1024,mac=02:00:00:00:00:a1" \
	-- --dst 02:00:00:00:00:b1 --count 64 --window 64 --size 9000 \
	--segs 5 --timeout 5 >peer.log 2>&1
t_grep "over the MTU: none delivered" "sent 64 received 0 bad 0" peer.log
tel $SWP /vmpath/port_stats,1 >pm.json
t_grep "over the MTU: 64 counted at port 1" \
	'"vring0": \{[^}]*"mtu_drops": 64' pm.json
stop_echo
stop_switch
t_done
