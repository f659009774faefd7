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
#   churn+fe  the same with a client port whose frontend (a testpmd
#          net_virtio_user server=1, -i, never started: no spinning thread)
#          connects before each port_del
# Each window CTL_BENCH_WINDOW s (median of its one-second samples), ROUNDS
# rounds; the table gives the median per mode and its ratio to calm, and
# per window the CPU (% of one CPU) that the switch's datapath lcore, the
# loop's forwarding lcore, and the control side (vmpath's other threads plus
# the churning client) got: on 2 CPUs the loop's rate follows the first two.
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
MODES="calm churn churn+fe"

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
	[ "$1" = churn+fe ] && args=("$CTLSOCK" 1000000
		"{\"path\": \"$T_TMP/d.sock\", \"client\": true}")
	rm -f stop
	$PY "$VMPATH_SRC/tests/ctl/ctl_cycles.py" --until stop "${args[@]}" \
		>cycles.log 2>&1 &
	CH=$!
	T_PIDS+=("$CH")
}

# pct TICKS NS: ticks over NS nanoseconds as % of one CPU
pct() { awk -v w=$1 -v t=$2 -v hz=$(getconf CLK_TCK) 'BEGIN {printf "%.0f", 100 * w / hz / (t / 1e9)}'; }
declare -A R C
printf "%6s %-9s %8s %10s %6s %6s %6s\n" round mode Mpps cycles/s dp% fwd% ctl%
for ((r = 0; r < ROUNDS; r++)); do
	for m in $MODES; do
		[ $m != calm ] && churn $m
		t0=$(date +%s%N) d0=$(wticks $SW) f0=$(wticks $LOOP)
		c0=$(($(pticks $SW) - d0))
		loop_pps "$WIN"
		t1=$(date +%s%N) d1=$(wticks $SW) f1=$(wticks $LOOP)
		c1=$(($(pticks $SW) - d1))
		cyc=""
		if [ $m != calm ]; then
			c1=$((c1 + $(pticks $CH)))
			touch stop
			t_wait_pid "$CH" 30
			[ "$T_RC" -eq 0 ] || t_bad "$m: $(cat cycles.log)"
			cyc=$(sed -n 's/.* \([0-9.]*\) cycles\/s/\1/p' cycles.log)
			C[$m]+="$cyc "
			rm -f cycles.log
		fi
		R[$m]+="$LOOP_PPS "
		printf "%6d %-9s %8s %10s %6s %6s %6s\n" $r $m $LOOP_PPS "$cyc" \
			$(pct $((d1 - d0)) $((t1 - t0))) $(pct $((f1 - f0)) $((t1 - t0))) \
			$(pct $((c1 - c0)) $((t1 - t0)))
	done
done
med() { printf '%s\n' ${R[$1]:-} | median; }
echo
printf "%-9s | %12s | %10s | %s\n" mode "Mpps (0+1)" cycles/s "x calm"
for m in $MODES; do
	printf "%-9s | %12s | %10s | %s\n" $m "$(med $m)" \
		"$(printf '%s\n' ${C[$m]:-} | median)" \
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
