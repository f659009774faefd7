#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A halting switch (--idle halt) between real virtio-user frontends: vnet-peer
# on port 0 sends single-packet bursts to dpdk-testpmd (macswap) on port 1,
# one packet in flight (--window 1), so every packet needs the switch's
# datapath lcore to wake on a guest kick twice (each way); a lost wake-up
# leaves the packet unserved and the peer fails at its timeout.
#   - long idle gaps (0..400 ms): every packet served, the lcore slept;
#   - a stress of single-packet bursts with random gaps 0..200 us
#     (VNET_IDLE_STRESS packets: 10000 in CI; the perf-tests entry
#     vnet_idle_stress runs 1000000);
#   - the echo peer restarts (new kick eventfds): still served;
#   - attached but silent guests: the switch uses (almost) no CPU;
#   - the prompt sets the policy at run time; SIGTERM ends a sleeping lcore.
ANY="(0-1)"
. "$VMPATH_SRC/tests/lib.sh"
. "$VMPATH_SRC/tests/vnet/vnet_lib.sh"
PEER="$VMPATH_BUILD/tests/vnet/vnet-peer"
cd "$T_TMP"
LOGS=(--log-level=lib.eal:error --log-level=lib.vhost.config:warning)
STRESS=${VNET_IDLE_STRESS:-10000}
# idle_field FIELD: the datapath lcore's counter in /vmpath/idle
idle_field() {
	tel $SWP /vmpath/idle | sed -n "s/.*\"$1\": \([0-9]*\).*/\1/p"
}

SWP=vmpt-vi-$$
"$VMPATH" --lcores "0@$ANY,1@$ANY" --no-pci --no-huge -m 256 --iova-mode=va \
	--file-prefix=$SWP "${LOGS[@]}" -- \
	--vhost "$T_TMP/a.sock" --vhost "$T_TMP/b.sock" \
	--idle halt --idle-polls 100 --stats-period 0 >sw.log 2>&1 &
SW=$!
T_PIDS+=("$SW")
t_wait_for "test -S $T_TMP/b.sock" 30 || t_bad "switch did not start"

start_echo() {
	dpdk-testpmd --lcores "0@$ANY,1@$ANY" --main-lcore 1 --no-pci \
		--no-huge -m 512 --file-prefix=vmpt-vi-tp-$$ "${LOGS[@]}" \
		--vdev "net_virtio_user0,path=$T_TMP/b.sock,queues=1,queue_size=1024,mac=02:00:00:00:00:b1" \
		-- --forward-mode=macswap --total-num-mbufs=8192 \
		--stats-period 100 -a --no-mlockall </dev/null >>tp.log 2>&1 &
	TP=$!
	T_PIDS+=("$TP")
	t_wait_for "tel $SWP /vmpath/ports | grep -q '\"1\": {[^}]*\"connected\": 1'" 40
}

# run_peer LABEL TIMEOUT [peer args...]: fails if the packet in flight does
# not come back within 30 s (--stall) or all are not back within TIMEOUT
run_peer() {
	timeout $(($2 + 30)) "$PEER" --lcores "0@$ANY" --no-pci --no-huge \
		-m 256 --file-prefix=vmpt-vi-peer-$$ "${LOGS[@]}" \
		--vdev "net_virtio_user0,path=$T_TMP/a.sock,queues=1,queue_size=1024,mac=02:00:00:00:00:a1" \
		-- --dst 02:00:00:00:00:b1 --window 1 --timeout "$2" --stall 30 \
		"${@:3}" >peer.log 2>&1
	local rc=$?
	cat peer.log >>peer-all.log
	if [ $rc -eq 0 ]; then
		t_ok "$1: $(grep -a 'vnet-peer: size' peer.log | head -1)"
		t_note "$1: $(grep -a 'rtt us' peer.log | head -1)"
	else
		t_bad "$1 (rc $rc)"
		grep -av TELEMETRY peer.log | grep -v 'resumed after' |
			tail -n 8 | sed 's/^/       | /'
		tel $SWP /vmpath/idle | sed 's/^/       | /'
		tel $SWP /vmpath/port_stats,0 | sed 's/^/       | /'
		tel $SWP /vmpath/port_stats,1 | sed 's/^/       | /'
	fi
}

start_echo
s0=$(idle_field sleeps)
run_peer "long idle gaps (0..400 ms)" 60 --count 15 --gap-us 400000
s1=$(idle_field sleeps)
k1=$(idle_field wake_kick)
t_check "the datapath lcore slept between them ($s0 -> $s1 sleeps)" \
	test "${s1:-0}" -gt "$((${s0:-0} + 10))"
t_check "guest kicks woke it ($k1)" test "${k1:-0}" -gt 10
# the time bound allows 10 ms a packet (a loaded machine); --stall catches
# a packet that never comes back
run_peer "$STRESS single-packet bursts, gaps 0..200 us" \
	$((STRESS / 100 + 60)) --count "$STRESS" --gap-us 200

echo "-- the echo peer restarts: new kick eventfds"
kill -INT "$TP"
t_wait_pid "$TP" 20
t_wait_for "tel $SWP /vmpath/ports | grep -q '\"1\": {[^}]*\"connected\": 0'" 20
start_echo
run_peer "after reconnect, gaps 0..20 ms" 60 --count 200 --gap-us 20000

echo "-- attached, silent: the switch sleeps"
c0=$(awk '{print $14 + $15}' /proc/$SW/stat)
sleep 3
c1=$(awk '{print $14 + $15}' /proc/$SW/stat)
hz=$(getconf CLK_TCK)
t_note "switch CPU over 3 s idle: $((c1 - c0)) ticks of $((3 * hz))"
# a polling lcore takes 3 s (300 ticks); the bound leaves room for the
# control threads on a loaded machine
t_check "switch used < 20% of a core while idle" \
	test $((c1 - c0)) -lt $((3 * hz / 5))
tel $SWP /vmpath/idle >idle.json
t_grep "telemetry: wakes by cause, time asleep, latency histogram" \
	'"wake_kick": [1-9].*"ns_asleep": [1-9].*"wake_lat_us_log2": \[' idle.json

kill -INT "$TP"
t_wait_pid "$TP" 20
kill -TERM "$SW"
t_wait_pid "$SW" 30
t_check "a sleeping switch exits 0 on SIGTERM (got $T_RC)" test "$T_RC" -eq 0

echo "-- the prompt: show idle, set idle, set idle-polls"
printf 'show idle\nset idle halt\nset idle-polls 50\nshow idle\nset idle-polls 0\nset idle poll\nquit\n' |
	timeout 60 "$VMPATH" -l 0-1 --no-pci --no-huge -m 256 \
	--file-prefix=vmpt-vi-cli-$$ "${LOGS[@]}" -- -i \
	--vhost "$T_TMP/c0.sock" >cli.log 2>&1
t_check "prompt exits 0" test $? -eq 0
t_grep "show idle: poll by default" "idle: poll, after 2000 empty loops" cli.log
t_grep "set idle halt, set idle-polls 50" "idle: halt, after 50 empty loops" cli.log
t_grep "set idle-polls 0 refused" "idle-polls: 0 is out of range" cli.log
t_grep "per-lcore counters" "lcore 1: sleeps [0-9]+ aborted" cli.log

echo "-- a bad --idle is refused, naming the value"
"$VMPATH" -l 0-1 --no-pci --no-huge -m 256 --file-prefix=vmpt-vi-bad-$$ \
	"${LOGS[@]}" -- --vhost "$T_TMP/x.sock" --idle sometimes >bad.log 2>&1
t_check "exits non-zero" test $? -ne 0
t_grep "names the value" "--idle: 'sometimes'" bad.log
t_done
