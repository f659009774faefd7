#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Benchmark (perf-tests; prints a table, asserts nothing about speed): TCP
# throughput between a QEMU TCG guest and the host kernel through vmpath
# (vnet_offload_qemu.sh), offloads on (the default) against off (csum=off), run
# alternately REPS times (VNET_OL_BENCH_REPS, default 3) in the same run;
# medians per direction and family, Mbit/s. The guest is TCG-emulated, so
# the absolute rates are the emulated guest's, far below a KVM guest's; the
# on/off ratio is what the offloads save the guest (and the switch). Run it
# holding the bench lock: flock /work/benchlock meson test -C build
# vnet_offload_bench (docs/vnet.md has the results).
. "$VMPATH_SRC/tests/lib.sh"
REPS=${VNET_OL_BENCH_REPS:-3}
OUT=$T_TMP/streams
: >"$OUT"
for ((r = 0; r < REPS; r++)); do
	for ol in on off; do
		# the kernel's own MSS, as the earlier results had
		VNET_OL_QEMU_ADVMSS= VMPATH_KEEP_TMP= \
			bash "$VMPATH_SRC/tests/vnet/vnet_offload_qemu.sh" \
			$ol >"$T_TMP/run-$r-$ol.log" 2>&1
		rc=$?
		grep -h "offloads $ol: STREAM" "$T_TMP/run-$r-$ol.log" >>"$OUT"
		echo "  rep $r offloads $ol: rc $rc, $(grep -c STREAM "$T_TMP/run-$r-$ol.log") streams"
	done
done
median() { sort -g | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "-"}'; }
printf "\n%-22s | %10s | %10s | %s\n" "stream (Mbit/s)" "on" "off" "on/off"
for s in "to-guest ipv4" "from-guest ipv4" "to-guest ipv6" "from-guest ipv6"; do
	on=$(grep "offloads on: STREAM $s " "$OUT" | awk '{print $NF}' | median)
	off=$(grep "offloads off: STREAM $s " "$OUT" | awk '{print $NF}' | median)
	printf "%-22s | %10s | %10s | %s\n" "$s" "$on" "$off" \
		"$(awk -v a="$on" -v b="$off" 'BEGIN {if (b + 0 > 0) printf "%.2f", a / b; else print "-"}')"
done
echo "(medians of $REPS runs; $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg))"
t_ok "benchmark ran"
t_done
