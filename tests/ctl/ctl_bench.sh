#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Benchmark (perf-tests; asserts nothing about speed): dpdk-testpmd txonly on
# port 0 sends 64 B frames to port 1's static MAC, dpdk-testpmd rxonly on
# port 1 receives them; port 1's rate with and without back-to-back add/del
# of a third port (no frontend), alternating windows in one run
# (ctl_bench.py). Run it under `flock /work/benchlock` on a shared machine.
# On 2 CPUs this layout starves the receiver (three spinning threads):
# docs/control.md "Measured"; the one-testpmd io loop of vnet_idle_bench is
# the layout to move to.
. "$VMPATH_SRC/tests/lib.sh"
. "$VMPATH_SRC/tests/vnet/vnet_lib.sh"
. "$VMPATH_SRC/tests/ctl/ctl_lib.sh"
cd "$T_TMP"
LOGS=(--log-level=lib.eal:error --log-level=lib.vhost.config:warning)
ROUNDS=${CTL_BENCH_ROUNDS:-3}
WIN=${CTL_BENCH_WINDOW:-5}

SWP=vmpt-ctlb-$$
CTLSOCK="$T_TMP/run/vmpath.sock"
"$VMPATH" --lcores "0@(0-1),1@(0-1)" --no-pci --no-huge -m 512 --iova-mode=va \
	--file-prefix=$SWP "${LOGS[@]}" -- --ctl "$CTLSOCK" >sw.log 2>&1 &
SW=$!
T_PIDS+=("$SW")
t_wait_for "test -S $CTLSOCK" 30 || t_bad "vmpath did not start"
ctl port-add "$T_TMP/a.sock" >/dev/null
ctl port-add "$T_TMP/b.sock" --mac 02:00:00:00:00:b1 >/dev/null
dpdk-testpmd --lcores "0@(0-1),1@(0-1)" --main-lcore 1 --no-pci --no-huge -m 512 \
	--file-prefix=vmpt-ctlb-rx-$$ "${LOGS[@]}" \
	--vdev "net_virtio_user0,path=$T_TMP/b.sock,queues=1,mac=02:00:00:00:00:b1" \
	-- --forward-mode=rxonly --total-num-mbufs=8192 --stats-period 100 -a --no-mlockall \
	</dev/null >rx.log 2>&1 &
T_PIDS+=($!)
dpdk-testpmd --lcores "0@(0-1),1@(0-1)" --main-lcore 0 --no-pci --no-huge -m 512 \
	--file-prefix=vmpt-ctlb-tx-$$ "${LOGS[@]}" \
	--vdev "net_virtio_user0,path=$T_TMP/a.sock,queues=1,mac=02:00:00:00:00:a1" \
	-- --forward-mode=txonly --txpkts=64 --eth-peer=0,02:00:00:00:00:b1 \
	--total-num-mbufs=8192 --stats-period 100 -a --no-mlockall </dev/null >tx.log 2>&1 &
T_PIDS+=($!)
t_wait_for "port_up 0 && port_up 1" 60 || t_bad "the peers did not attach"
sleep 2
$PY "$VMPATH_SRC/tests/ctl/ctl_bench.py" "$CTLSOCK" 1 "$T_TMP/c.sock" \
	"$ROUNDS" "$WIN" | tee bench.log
t_check "the benchmark ran" grep -q "^median" bench.log
ctl port-list
ctl port-stats 0
ctl port-stats 1
kill -TERM "$SW"
t_wait_pid "$SW" 30
echo "$T_PASS passed, $T_FAIL failed"
[ "$T_FAIL" -eq 0 ]
