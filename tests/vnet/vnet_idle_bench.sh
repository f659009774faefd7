#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Benchmark of the datapath lcores' idle policy (perf-tests; prints a table,
# asserts nothing about speed). Each row: --idle poll and --idle halt, run
# alternately in the same run of this script, median of REPS runs. Guests
# are dpdk-testpmd / vnet-peer net_virtio_user processes; every thread
# floats over both CPUs (EAL --lcores N@(0-1)).
#   idle     CPU of the datapath lcore (its rte-worker thread) over SECS s
#            with two attached but silent guests (testpmd -i, not started)
#   rtt      round trip through the switch, guest -> echo (testpmd macswap)
#            -> guest, one packet at a time every 0..20 ms (vnet-peer
#            --window 1 --gap-us 20000): p50 and p99 in us
#   load     64 B Mpps through the switch in a loop: one testpmd with two
#            ports (a, b), io forwarding; once both are connected,
#            `start tx_first 8` puts 2 x 256 packets in the loop a -> switch
#            -> b -> testpmd -> a ..., where none is dropped, so the rate
#            is set by the two spinning threads (testpmd's forwarding lcore and
#            the datapath lcore), one per CPU; Mpps summed over both ports
#   oversub  the load row's busy pair (a, b) with 4 datapath lcores on the
#            2 CPUs and three idle pairs (ports c..h, attached to one
#            silent testpmd), against the busy pair alone: the same switch
#            and policy with 2 datapath lcores and no other port, in the
#            same rep. The planner puts a and b on two lcores either way
#            (port_list "placement" is printed), so both have the same
#            spinning threads when every idle lcore halts; Mpps, and the
#            ratio of each rep. Also, for reference, the pair on 1
#            datapath lcore (both ports on one lcore: one spinner less)
# Run it holding the bench lock: flock /work/benchlock meson test -C build
# vnet_idle_bench (docs/vnet.md has the results).
. "$VMPATH_SRC/tests/lib.sh"
. "$VMPATH_SRC/tests/vnet/vnet_lib.sh"
cd "$T_TMP"
PEER="$VMPATH_BUILD/tests/vnet/vnet-peer"
REPS=${VNET_IDLE_BENCH_REPS:-3}
SECS=${VNET_IDLE_BENCH_SECS:-5}
ROWS=${VNET_IDLE_BENCH_ROWS:-idle rtt load oversub}
ANY="(0-1)"
LOGS=(--log-level=lib.eal:error --log-level=lib.vhost.config:error
	--log-level=vmpath.vnet:warning)
IDLE_PORTS=()
for c in 0 1 2 3 4 5; do IDLE_PORTS+=(--vhost "$T_TMP/i$c.sock"); done

# start_sw POLICY [vmpath args...]: the switch, ports a (0) and b (1)
start_sw() {
	SWP=vmpt-vib-$$
	rm -f a.sock b.sock
	"$VMPATH" ${SW_LCORES:---lcores 0@$ANY,1@$ANY} --no-pci --no-huge \
		-m 256 --iova-mode=va --file-prefix=$SWP "${LOGS[@]}" -- \
		--vhost "$T_TMP/a.sock" --vhost "$T_TMP/b.sock" --idle "$1" \
		--ctl "$T_TMP/ctl.sock" "${@:2}" --stats-period 0 >sw.log 2>&1 &
	SW=$!
	T_PIDS+=("$SW")
	t_wait_for "test -S b.sock" 30
}
# PLACE: the datapath lcore polling ports 0 and 1 ("a@L b@L")
placement() {
	PLACE=$(timeout 20 python3 "$VMPATH_SRC/usertools/vmpathctl" \
		--socket "$T_TMP/ctl.sock" --json port-list 2>/dev/null |
		python3 -c 'import json, sys
p = json.load(sys.stdin)
p = p.get("result", p) if isinstance(p, dict) else p
print(" ".join("%s@%s" % ("ab"[x["id"]], x["placement"][0]["lcore"])
	for x in p if x["id"] < 2))' 2>/dev/null)
}
stop_pid() { kill -${2:-INT} "$1" 2>/dev/null; t_wait_pid "$1" 20; }

# guest NAME SOCK MAC MODE: testpmd on SOCK; MODE silent (-i, never
# started) or a forwarding mode; pid in GP_<NAME>
guest() {
	local args=(--forward-mode=$4 --txpkts=64 --stats-period 1 -a)
	[ "$4" = silent ] && args=(-i)
	if [ "$4" = silent ]; then
		dpdk-testpmd --lcores "0@$ANY,1@$ANY" --main-lcore 1 --no-pci \
			--no-huge -m 512 --file-prefix=vmpt-vib-$1-$$ "${LOGS[@]}" \
			--vdev "net_virtio_user0,path=$T_TMP/$2,queues=1,queue_size=1024,mac=$3" \
			-- "${args[@]}" --total-num-mbufs=16384 --no-mlockall \
			<&8 >g-$1.log 2>&1 &
	else
		dpdk-testpmd --lcores "0@$ANY,1@$ANY" --main-lcore 1 --no-pci \
			--no-huge -m 512 --file-prefix=vmpt-vib-$1-$$ "${LOGS[@]}" \
			--vdev "net_virtio_user0,path=$T_TMP/$2,queues=1,queue_size=1024,mac=$3" \
			-- "${args[@]}" --total-num-mbufs=16384 --no-mlockall \
			</dev/null >g-$1.log 2>&1 &
	fi
	eval "GP_$1=$!"
	T_PIDS+=("$!")
}
connected() { # [N] ports (2) have a running frontend
	[ "$(tel $SWP /vmpath/ports | grep -o '"connected": 1' | wc -l)" -eq ${1:-2} ]
}
run_idle() { # POLICY -> V (% of a core)
	start_sw $1
	guest s0 a.sock 02:00:00:00:00:a1 silent
	guest s1 b.sock 02:00:00:00:00:b1 silent
	t_wait_for connected 40
	sleep 1
	local w0 t0 w1 t1
	w0=$(wticks $SW) t0=$(date +%s%N)
	sleep $SECS
	w1=$(wticks $SW) t1=$(date +%s%N)
	V=$(awk -v w=$((w1 - w0)) -v t=$((t1 - t0)) -v hz=$(getconf CLK_TCK) \
		'BEGIN {printf "%.1f", 100 * w / hz / (t / 1e9)}')
	stop_pid $GP_s0 KILL
	stop_pid $GP_s1 KILL
	stop_pid $SW TERM
	echo "  idle $1: datapath lcore $V% of a core"
}

run_rtt() { # POLICY -> P50, P99 (us)
	start_sw $1
	guest e b.sock 02:00:00:00:00:b1 macswap
	t_wait_for "tel $SWP /vmpath/ports | grep -q '\"1\": {[^}]*\"connected\": 1'" 40
	timeout 120 "$PEER" --lcores "0@$ANY" --no-pci --no-huge -m 256 \
		--file-prefix=vmpt-vib-peer-$$ "${LOGS[@]}" \
		--vdev "net_virtio_user0,path=$T_TMP/a.sock,queues=1,queue_size=1024,mac=02:00:00:00:00:a1" \
		-- --dst 02:00:00:00:00:b1 --window 1 --gap-us 20000 \
		--count $((SECS * 100)) --timeout 90 >peer.log 2>&1
	P50=$(sed -n 's/.*rtt us: p50 \([0-9.]*\).*/\1/p' peer.log)
	P99=$(sed -n 's/.*p99 \([0-9.]*\).*/\1/p' peer.log)
	stop_pid $GP_e
	stop_pid $SW TERM
	echo "  rtt $1: p50 ${P50:--} us p99 ${P99:--} us ($(grep -a 'vnet-peer: size' peer.log))"
}

run_load() { # POLICY [vmpath args] -> PPS (Mpps through the switch)
	local nports=2
	start_sw "$@"
	if [ -n "${IDLE_PAIRS:-}" ]; then
		# three idle pairs: ports 2..7, one silent testpmd on all six
		local v=() c
		for c in 0 1 2 3 4 5; do
			v+=(--vdev "net_virtio_user$c,path=$T_TMP/i$c.sock,queues=1,queue_size=1024,mac=02:00:00:00:01:c$c")
		done
		dpdk-testpmd --lcores "0@$ANY,1@$ANY" --main-lcore 1 --no-pci \
			--no-huge -m 512 --file-prefix=vmpt-vib-i-$$ "${LOGS[@]}" \
			"${v[@]}" -- -i --total-num-mbufs=16384 --no-mlockall \
			<&8 >g-i.log 2>&1 &
		GP_i=$!
		T_PIDS+=("$GP_i")
		nports=8
	fi
	loop_start "connected $nports" ||
		echo "  load $*: the loop's ports did not connect"
	placement
	loop_pps "$SECS"
	PPS=$LOOP_PPS
	loop_stop
	stop_pid $SW TERM
	[ -n "${IDLE_PAIRS:-}" ] && stop_pid $GP_i KILL
	echo "  load $1 ${2:-} ${3:-}${IDLE_PAIRS:+ + 3 idle pairs}: $PPS Mpps ($PLACE)"
}

# a silent guest's prompt reads a fifo nobody writes (held open here)
mkfifo silent.fifo
exec 8<>silent.fifo
declare -A R
for row in $ROWS; do
	for ((r = 0; r < REPS; r++)); do
		for pol in poll halt; do
			case $row in
			idle) run_idle $pol; R[$row,$pol]+="$V " ;;
			rtt) run_rtt $pol
				R[rtt50,$pol]+="${P50:-} "
				R[rtt99,$pol]+="${P99:-} " ;;
			load) run_load $pol; R[$row,$pol]+="$PPS " ;;
			oversub)
				SW_LCORES="--lcores (0-2)@$ANY" run_load $pol \
					--datapath-lcores 2
				R[alone,$pol]+="$PPS "
				A=$PPS
				if [ $pol = poll ]; then
					run_load poll
					R[one,x]+="$PPS "
				fi
				SW_LCORES="--lcores (0-4)@$ANY" IDLE_PAIRS=1 \
					run_load $pol --datapath-lcores 4 \
					"${IDLE_PORTS[@]}"
				R[$row,$pol]+="$PPS "
				R[ratio,$pol]+="$(awk -v a="$A" -v p="$PPS" \
					'BEGIN {if (a + 0 > 0) printf "%.2f", p / a}') " ;;
			esac
		done
	done
done
med() { printf '%s\n' ${R[$1]:-} | median; }
echo
printf "%-28s | %12s | %12s | %s\n" row poll halt "halt/poll"
line() { # LABEL KEY
	local p h
	p=$(med "$2,poll") h=$(med "$2,halt")
	printf "%-28s | %12s | %12s | %s\n" "$1" "$p" "$h" \
		"$(awk -v p="$p" -v h="$h" 'BEGIN {if (p + 0 > 0) printf "%.2f", h / p; else print "-"}')"
}
case " $ROWS " in *" idle "*) line "idle: lcore CPU %" idle ;; esac
case " $ROWS " in *" rtt "*)
	line "rtt p50 us (gaps 0..20 ms)" rtt50
	line "rtt p99 us" rtt99 ;;
esac
case " $ROWS " in *" load "*) line "load: 64 B Mpps" load ;; esac
case " $ROWS " in *" oversub "*)
	line "oversub: 4 dp lcores, Mpps" oversub
	line "  busy pair alone, 2 lcores" alone
	line "  oversub / alone, same rep" ratio
	printf "%-28s | %12s |\n" "  (pair on 1 dp lcore)" "$(med one,x)" ;;
esac
echo "(medians of $REPS runs; $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg))"
t_ok "benchmark ran"
t_done
