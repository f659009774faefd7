#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Benchmark (perf-tests; prints a table, asserts nothing about speed): iperf3
# TCP throughput between a QEMU TCG guest and the host kernel through vmpath
# (vnet_offload_qemu.sh with VNET_OL_QEMU_IPERF: a net_tap port on the host
# side), guest -> host (the guest sends with -Z: sendfile) and host -> guest
# (-R), IPv4 and IPv6, offloads on (the default) against off (csum=off), run
# alternately REPS times (VNET_OL_BENCH_REPS, default 3) in the same run;
# medians per stream in Gbit/s and Mbit/s, and on/off.
#
#   VNET_OL_BENCH_SECS   each iperf3 run's length (default 10)
#   VNET_OL_BENCH_BASE   another build directory (e.g. of the base commit):
#                        its vmpath runs too, offloads on, in the same
#                        rotation (column "base", ratio on/base)
#   VNET_OL_BENCH_WRAP   command prefix for each guest run (e.g. the locks
#                        of a shared machine, taken and released per run)
#
# Each run must produce its four streams: a run that does not (an iperf3 or
# guest failure) fails the benchmark. The guest is TCG-emulated, so the rates
# are the emulated guest's, far below a KVM guest's. docs/vnet.md has the
# results.
. "$VMPATH_SRC/tests/lib.sh"
. "$VMPATH_SRC/tests/vnet/vnet_lib.sh"
REPS=${VNET_OL_BENCH_REPS:-3}
SECS=${VNET_OL_BENCH_SECS:-10}
BASE=${VNET_OL_BENCH_BASE:-}
read -r -a WRAP <<<"${VNET_OL_BENCH_WRAP:-}"
if ! command -v iperf3 >/dev/null; then
	echo "SKIP: iperf3 missing (apt-get install iperf3)"
	exit 77
fi
OUT=$T_TMP/streams
: >"$OUT"
: >"$T_TMP/cpu"
VARIANTS=(on off)
[ -n "$BASE" ] && VARIANTS+=(base)
for ((r = 0; r < REPS; r++)); do
	for v in "${VARIANTS[@]}"; do
		b=$VMPATH_BUILD ol=$v
		[ "$v" = base ] && b=$BASE ol=on
		log=$T_TMP/run-$r-$v.log
		# the kernel's own MSS (no advmss on the host's route)
		"${WRAP[@]}" env VMPATH_BUILD="$b" VNET_OL_QEMU_ADVMSS= \
			VNET_OL_QEMU_IPERF="$SECS" VMPATH_KEEP_TMP= \
			bash "$VMPATH_SRC/tests/vnet/vnet_offload_qemu.sh" \
			$ol >"$log" 2>&1
		rc=$?
		n=$(grep -c "offloads $ol: STREAM" "$log")
		grep -h "offloads $ol: STREAM" "$log" | sed "s/offloads $ol:/$v/" >>"$OUT"
		grep -h "guest cpu " "$log" | sed "s/^ */rep $r $v: /" >>"$T_TMP/cpu"
		t_check "rep $r $v: rc $rc, $n of 4 streams measured (load $(cut -d" " -f1 /proc/loadavg))" \
			test "$rc" -eq 0 -a "$n" -eq 4
		[ "$rc" -eq 0 ] || tail -n 30 "$log"
	done
done
# mbit VARIANT STREAM: the median Mbit/s
mbit() { grep "^ *$1 STREAM $2 " "$OUT" | awk '{print $NF}' | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b + 0 > 0) printf "%.2f", a / b; else print "-"}'; }
gbit() { awk -v a="$1" 'BEGIN {if (a + 0 > 0) printf "%.3f", a / 1000; else print "-"}'; }
printf "\n%-16s | %-17s | %-17s | %6s" "iperf3 stream" "on Gbit/s (Mbit/s)" "off Gbit/s (Mbit/s)" "on/off"
[ -n "$BASE" ] && printf " | %-17s | %7s" "base Gbit/s (Mbit/s)" "on/base"
echo
for s in "from-guest ipv4" "to-guest ipv4" "from-guest ipv6" "to-guest ipv6"; do
	on=$(mbit on "$s")
	off=$(mbit off "$s")
	printf "%-16s | %6s (%8s) | %6s (%8s) | %6s" "$s" "$(gbit "$on")" "$on" \
		"$(gbit "$off")" "$off" "$(ratio "$on" "$off")"
	if [ -n "$BASE" ]; then
		base=$(mbit base "$s")
		printf " | %6s (%8s) | %7s" "$(gbit "$base")" "$base" \
			"$(ratio "$on" "$base")"
	fi
	echo
done
echo "(medians of $REPS runs of ${SECS} s; $(date -u '+%F %H:%M UTC');" \
	"$(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1);" \
	"load $(cut -d' ' -f1-3 /proc/loadavg))"
echo "all runs (Mbit/s):"
sed 's/^/  /' "$OUT"
echo "the guest CPU during each run (/proc/stat):"
sed 's/^/  /' "$T_TMP/cpu"
t_done
