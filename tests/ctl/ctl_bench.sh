#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Benchmark (perf-tests; asserts nothing about speed): the packet rate of
# ports 0 and 1 while a third port is added and removed back to back, against
# the same rate without churn, windows alternating in one run.
#   load   the loop of vnet_idle_bench (tests/vnet/vnet_lib.sh loop_start):
#          ONE testpmd with two ports on 0 (a) and 1 (b), io forwarding,
#          `start tx_first 8`; Mpps = Rx-pps summed over both ports
#   calm   nothing changes
#   churn  port_add / port_del of a server port with no frontend, back to
#          back over one control connection (ctl_cycles.py --no-wait)
#   churn10  the same, 10 add/del per second at most (100 ms pauses): an
#          orchestrator's rate
#   churn+fe  the same as churn with a client port whose frontend (a testpmd
#          net_virtio_user server=1, -i, never started: no spinning thread)
#          connects before each port_del (port_list polled every 20 ms)
#   tick   a control with no vmpath work: a client that only wakes up
#          every 0.5 ms (as often as churn's does), to tell what the
#          scheduler makes of more wake-ups on a loaded 2-CPU machine from
#          what vmpath's port changes cost
# Each window CTL_BENCH_WINDOW s (median of its one-second samples), ROUNDS
# rounds; the table gives the median per mode and its ratio to calm, and
# per window the CPU (% of one CPU) that the switch's datapath lcore, the
# loop's forwarding lcore, vmpath's other threads (the main lcore serving the
# socket, rte_vhost's thread) and the churning client got (on 2 CPUs the
# loop's rate follows the first two), and vmpath's control CPU per add/del
# cycle (ms): the cost that churn takes from the datapath where the main
# lcore shares a CPU with it.
# Argument: float (default: every lcore on CPUs 0-1, as
# vnet_idle_bench) or pinned (the datapath lcore on CPU 1, the loop's
# forwarding lcore on CPU 0: two spinners never share a CPU; the main lcores
# and the client float).
# Run it holding the bench lock: flock /work/benchlock meson test -C build
# ctl_bench (docs/control.md "Measured").
. "$VMPATH_SRC/tests/lib.sh"
. "$VMPATH_SRC/tests/vnet/vnet_lib.sh"
. "$VMPATH_SRC/tests/ctl/ctl_lib.sh"
cd "$T_TMP"
LOGS=(--log-level=lib.eal:error --log-level=lib.vhost.config:error
	--log-level=vmpath.vnet:warning)
ROUNDS=${CTL_BENCH_ROUNDS:-3}
LAYOUT=${1:-float}
if [ "$LAYOUT" = pinned ]; then
	SW_LCORES="0@(0-1),1@1"
	LOOP_LCORES="0@0,1@(0-1)"
fi
WIN=${CTL_BENCH_WINDOW:-5}
MODES="calm churn churn10 churn+fe tick"

start_vmpath bench --stats-period 0
# the frontend of churn+fe: its prompt reads a fifo nobody writes
mkfifo fe.fifo
exec 8<>fe.fifo
dpdk-testpmd --lcores "0@(0-1),1@(0-1)" --main-lcore 1 --no-pci --no-huge \
	-m 512 --file-prefix=vmpt-ctlb-fe-$$ "${LOGS[@]}" \
	--vdev "net_virtio_user0,path=$T_TMP/d.sock,queues=1,server=1,mac=02:00:00:00:00:d1" \
	-- -i --total-num-mbufs=4096 --no-mlockall <&8 >fe.log 2>&1 &
T_PIDS+=($!)
t_wait_for "test -S $T_TMP/d.sock" 30 || t_bad "the churn+fe frontend did not listen"
loop_start "port_up 0 && port_up 1" || t_bad "the loop's ports did not connect"

# churn MODE: add/del cycles in the background until the file stop appears
churn() {
	local args=(--no-wait "$CTLSOCK" 1000000
		"{\"path\": \"$T_TMP/c.sock\"}")
	[ "$1" = churn10 ] && args=(--gap-ms 100 "${args[@]}")
	# port_list every 20 ms: the client's polling is control CPU too
	[ "$1" = churn+fe ] && args=(--poll-ms 20 "$CTLSOCK" 1000000
		"{\"path\": \"$T_TMP/d.sock\", \"client\": true}")
	rm -f stop
	if [ "$1" = tick ]; then
		$PY -c 'import os, time
while not os.path.exists("stop"):
    time.sleep(0.0005)' >cycles.log 2>&1 &
	else
		$PY "$VMPATH_SRC/tests/ctl/ctl_cycles.py" --until stop "${args[@]}" \
			>cycles.log 2>&1 &
	fi
	CH=$!
	T_PIDS+=("$CH")
}

# pct TICKS NS: ticks over NS nanoseconds as % of one CPU
pct() { awk -v w=$1 -v t=$2 -v hz=$(getconf CLK_TCK) 'BEGIN {printf "%.0f", 100 * w / hz / (t / 1e9)}'; }
declare -A R C M
printf "%6s %-9s %8s %10s %6s %6s %6s %6s %8s\n" round mode Mpps cycles/s \
	dp% fwd% ctl% client% "ms/cycle"
for ((r = 0; r < ROUNDS; r++)); do
	for m in $MODES; do
		[ $m != calm ] && churn $m
		t0=$(date +%s%N) d0=$(wticks $SW) f0=$(wticks $LOOP)
		c0=$(wticks $SW other)
		loop_pps "$WIN"
		t1=$(date +%s%N) d1=$(wticks $SW) f1=$(wticks $LOOP)
		c1=$(wticks $SW other)
		cyc="" cl=0 cms=""
		if [ $m != calm ]; then
			cl=$(awk '{print $14 + $15}' /proc/$CH/stat)
			touch stop
			t_wait_pid "$CH" 30
			[ "$T_RC" -eq 0 ] || t_bad "$m: $(cat cycles.log)"
			cyc=$(sed -n 's/.* \([0-9.]*\) cycles\/s/\1/p' cycles.log)
			C[$m]+="$cyc "
			cms=$(awk -v w=$((c1 - c0)) -v t=$((t1 - t0)) -v c="$cyc" \
				-v hz=$(getconf CLK_TCK) \
				'BEGIN {if (c > 0) printf "%.3f", 1e3 * w / hz / (c * t / 1e9)}')
			[ -n "$cyc" ] && M[$m]+="$cms "
			rm -f cycles.log
		fi
		R[$m]+="$LOOP_PPS "
		printf "%6d %-9s %8s %10s %6s %6s %6s %6s %8s\n" $r $m $LOOP_PPS \
			"$cyc" $(pct $((d1 - d0)) $((t1 - t0))) \
			$(pct $((f1 - f0)) $((t1 - t0))) $(pct $((c1 - c0)) $((t1 - t0))) \
			$(pct $cl $((t1 - t0))) "$cms"
	done
done
med() { printf '%s\n' ${R[$1]:-} | median; }
echo
printf "%-9s | %12s | %10s | %8s | %s\n" mode "Mpps (0+1)" cycles/s \
	"ms/cycle" "x calm"
for m in $MODES; do
	printf "%-9s | %12s | %10s | %8s | %s\n" $m "$(med $m)" \
		"$(printf '%s\n' ${C[$m]:-} | median)" \
		"$(printf '%s\n' ${M[$m]:-} | median)" \
		"$(awk -v a="$(med $m)" -v c="$(med calm)" 'BEGIN {if (c + 0 > 0) printf "%.3f", a / c; else print "-"}')"
done
echo "(layout $LAYOUT; medians of $ROUNDS windows of $WIN s; $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg))"
loop_stop
ctl port-list
ctl port-stats 0
ctl port-stats 1
t_check "the benchmark ran" test -n "$(med calm)" -a "$(med calm)" != -
stop_vmpath
echo "$T_PASS passed, $T_FAIL failed"
[ "$T_FAIL" -eq 0 ]
