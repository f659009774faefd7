#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Benchmark (perf-tests): the guest and traffic of vnet_migrate.sh (32 MiB TCP
# stream from the host kernel through a net_tap port, pings every 50 ms,
# 1000 UDP datagrams/s; no RAM comparison, so the destination runs at once)
# migrated with vmpath sync (--dma none), vmpath async (dma_skeleton,
# threshold 64) and the anchor, DPDK's builtin vhost backend (dpdk-testpmd
# net_vhost0), interleaved, VNET_MIG_BENCH_REPS rounds (default 3). Per
# backend, medians: QEMU's total time and downtime, the longest ping silence
# around the switchover, echoes lost in it, first reply after `completed`.
# Then lib/vnet's datapath cycles per packet with dirty logging off vs on
# (vnet_cost_perf_autotest). Prints tables; asserts nothing about speed.
# Hold `flock /work/benchlock` (or your machine's) around it on a shared host.
. "$VMPATH_SRC/tests/lib.sh"
REPS=${VNET_MIG_BENCH_REPS:-3}
VARIANTS=${VNET_MIG_BENCH_VARIANTS:-"testpmd sync async"}
for r in $(seq 1 "$REPS"); do
	for v in $VARIANTS; do
		# no RAM comparison: the destination runs at once
		VNET_MIG_RAMCMP=0 bash "$VMPATH_SRC/tests/vnet/vnet_migrate.sh" \
			"$v" >"$T_TMP/$v-$r.log" 2>&1
		rc=$?
		res=$(grep '^RESULT ' "$T_TMP/$v-$r.log")
		echo "round $r $v: rc $rc ${res:-no result}"
		[ "$rc" -eq 0 ] && [ -n "$res" ] && echo "$res" >>"$T_TMP/results"
	done
done
echo
echo "live migration, QEMU 7.2 TCG guest, 256 MiB, max-bandwidth 48 MB/s;"
echo "medians of the passing runs (n): total and downtime as QEMU reports"
echo "them; gap: longest silence between ping replies around the switchover;"
echo "lost: echoes sent in it; first: first reply after 'completed', seconds"
printf "%-9s %3s %9s %12s %7s %5s %7s\n" backend n total_ms downtime_ms gap_s \
	lost first
for v in $VARIANTS; do
	grep "^RESULT $v " "$T_TMP/results" 2>/dev/null | python3 -c '
import statistics, sys
rows = [l.split()[2:] for l in sys.stdin]
if not rows:
    print("%-9s %3d" % (sys.argv[1], 0)); sys.exit()
m = lambda i: statistics.median(float(r[i]) for r in rows)
print("%-9s %3d %9.0f %12.0f %7.3f %5.0f %7.3f" % (sys.argv[1], len(rows),
      m(0), m(1), m(2), m(3), m(4)))' "$v"
done
echo
"$VMPATH_TEST" -l 0-1 --no-huge -m 512 --no-pci --iova-mode=va \
	--file-prefix=vmpt-migb-$$ --log-level=lib.vhost.config:warning \
	--log-level=vmpath.vnet:warning vnet_cost_perf_autotest 2>&1 |
	sed -n '/^lib\/vnet datapath/,/^Test/p'
