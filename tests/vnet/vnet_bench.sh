#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# lib/vnet benchmark (perf-tests; prints a table, asserts nothing about speed).
# One queue, one datapath lcore, the frontend is dpdk-testpmd net_virtio_user
# in another process (its forwarding lcore on the other core). For each mode
# (enq: host -> guest, guest runs rxonly; deq: guest -> host, guest runs
# txonly) and size (64, 1518 B):
#   builtin  dpdk-testpmd --vdev net_vhost0 (txonly / rxonly): DPDK's datapath
#   sync     vnetbench (lib/vnet, CPU copies)
#   async    vnetbench with dma_skeleton (copies >= 256 B on the engine)
# Mpps is read at the guest (testpmd Rx-pps / Tx-pps), median of REPS runs,
# all in the same run of this script; vnetbench also prints the datapath
# lcore's cycles per packet. The machine may be shared: compare ratios.
. "$VMPATH_SRC/tests/lib.sh"
. "$VMPATH_SRC/tests/vnet/vnet_lib.sh"
cd "$T_TMP"
# VNET_BENCH_BIN: another vnetbench binary (e.g. an older build, for a
# before/after comparison against the same builtin anchor).
BENCH=${VNET_BENCH_BIN:-$VMPATH_BUILD/app/vnetbench/vnetbench}
REPS=${VNET_BENCH_REPS:-3}
SECS=${VNET_BENCH_SECS:-4}
# VNET_BENCH_MODES / _SIZES / _DMAS: a subset of the table (e.g. "enq", "64")
MODES=${VNET_BENCH_MODES:-enq deq}
SIZES=${VNET_BENCH_SIZES:-64 1518}
DMAS=${VNET_BENCH_DMAS:-none skeleton}
LOGS=(--log-level=lib.eal:error --log-level=lib.vhost.config:error
	--log-level=vmpath.vnet:warning)

median() { sort -g | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print 0}'; }

# guest MODE SIZE SOCK: testpmd virtio-user on the other core
guest() {
	local fwd=rxonly
	[ "$1" = deq ] && fwd=txonly
	dpdk-testpmd -l 0-1 --main-lcore 1 --no-pci --no-huge -m 512 \
		--file-prefix=vmpt-vb-g-$$ "${LOGS[@]}" \
		--vdev "net_virtio_user0,path=$3,queues=1,queue_size=1024" -- \
		--forward-mode=$fwd --txpkts=$2 --total-num-mbufs=16384 \
		--stats-period 1 -a --no-mlockall </dev/null >guest.log 2>&1 &
	GP=$!
	T_PIDS+=("$GP")
}

# guest_pps MODE: median of the guest's last per-second rates -> PPS (Mpps)
guest_pps() {
	local key=Rx-pps
	[ "$1" = deq ] && key=Tx-pps
	PPS=$(grep -a "$key" guest.log | awk '{print $2}' |
		tail -n $((SECS - 1)) | median | awk '{printf "%.3f", $1 / 1e6}')
}

# share PID0 PID1: start sampling both workers' CPU; share_end prints "%,%"
share() { SH0=$(wticks $1) SH1=$(wticks $2) SHP=("$1" "$2") SHT=$(date +%s%N); }
share_end() {
	local d=$(( ($(date +%s%N) - SHT) / 10000000 )) # 1/100 s
	[ $d -gt 0 ] || d=1
	local h=$(( ($(wticks ${SHP[0]}) - SH0) * 100 / d ))
	local g=$(( ($(wticks ${SHP[1]}) - SH1) * 100 / d ))
	# negative: that process had already exited (its threads are gone)
	[ $h -ge 0 ] || h="?"
	[ $g -ge 0 ] || g="?"
	SHARE="host $h% guest $g% cpu"
}

stop_pid() { kill -INT "$1" 2>/dev/null; t_wait_pid "$1" 20; }

run_builtin() { # MODE SIZE -> PPS
	local fwd=txonly s=$T_TMP/b.sock
	[ "$1" = deq ] && fwd=rxonly
	rm -f $s
	dpdk-testpmd -l 0-1 --main-lcore 0 --no-pci --no-huge -m 512 \
		--file-prefix=vmpt-vb-h-$$ "${LOGS[@]}" \
		--vdev "net_vhost0,iface=$s,queues=1" -- --nb-cores=1 \
		--forward-mode=$fwd --txpkts=$2 --total-num-mbufs=16384 \
		--stats-period 1 -a --no-mlockall </dev/null >host.log 2>&1 &
	local hp=$!
	T_PIDS+=("$hp")
	t_wait_for "test -S $s" 20
	guest "$1" "$2" $s
	sleep 2
	share $hp $GP
	sleep $SECS
	share_end
	stop_pid $GP
	stop_pid $hp
	guest_pps "$1"
	echo "  run builtin $1 $2: $PPS Mpps ($SHARE)"
}

run_vnet() { # MODE SIZE DMA -> PPS, CYC (busy cycles/packet)
	local s=$T_TMP/v.sock
	rm -f $s
	"$BENCH" -l 0-1 --no-pci --no-huge -m 512 --iova-mode=va \
		--file-prefix=vmpt-vb-v-$$ "${LOGS[@]}" -- --vhost $s \
		--mode "$1" --size "$2" --seconds $((SECS + 1)) --dma "$3" \
		>bench.log 2>&1 &
	local bp=$!
	T_PIDS+=("$bp")
	t_wait_for "test -S $s" 20
	guest "$1" "$2" $s
	sleep 2
	share $bp $GP
	sleep $((SECS - 2))
	share_end
	t_wait_pid $bp $((SECS + 30))
	stop_pid $GP
	guest_pps "$1"
	CYC=$(grep -ao '[0-9.]* busy cycles/pkt' bench.log | awk '{print $1}')
	CYC=${CYC:-0}
	MED=$(grep -ao '[0-9]* cycles/pkt median' bench.log | awk '{print $1}')
	BPB=$(grep -ao '[0-9.]* pkts per burst' bench.log | awk '{print $1}')
	echo "  run vnet $3 $1 $2: $PPS Mpps, $CYC busy cyc/pkt, ${BPB:-?} pkts/burst," \
		"${MED:-?} full-burst median ($SHARE)"
}

LINEPP=$VMPATH_BUILD/app/vnetbench/vmpath-linepp
[ -x "$LINEPP" ] && "$LINEPP" 1 0
printf "\n%-5s %5s | %13s | %13s %9s | %13s %9s\n" mode size \
	"builtin Mpps" "sync Mpps" "cyc/pkt" "async Mpps" "cyc/pkt"
for mode in $MODES; do
	for size in $SIZES; do
		b=() s=() sc=() a=() ac=()
		for ((r = 0; r < REPS; r++)); do
			run_builtin $mode $size
			b+=("$PPS")
			PPS=- CYC=-
			case " $DMAS " in *" none "*) run_vnet $mode $size none ;; esac
			s+=("$PPS"); sc+=("$CYC")
			PPS=- CYC=-
			for d in $DMAS; do
				[ "$d" = none ] || run_vnet $mode $size $d
			done
			a+=("$PPS"); ac+=("$CYC")
		done
		printf "%-5s %5s | %13s | %13s %9s | %13s %9s\n" $mode $size \
			"$(printf '%s\n' "${b[@]}" | median)" \
			"$(printf '%s\n' "${s[@]}" | median)" \
			"$(printf '%s\n' "${sc[@]}" | median)" \
			"$(printf '%s\n' "${a[@]}" | median)" \
			"$(printf '%s\n' "${ac[@]}" | median)"
	done
done
[ -x "$LINEPP" ] && "$LINEPP" 1 0
echo "(medians of $REPS runs of ${SECS}s; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg))"
t_ok "benchmark ran"
t_done
