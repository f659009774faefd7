#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# lib/pvlock registers /vmpath/pvlock/stats itself: any vmpath process (here
# the daemon) answers it with the counters of both lock types.
. "$VMPATH_SRC/tests/lib.sh"

if ! command -v dpdk-telemetry.py >/dev/null; then
	echo "dpdk-telemetry.py missing: skip"
	exit 77
fi
EAL=(-l 0-1 --no-pci --no-huge -m 256 --log-level=lib.eal:error)
cd "$T_TMP"
prefix=vmpt-pvtel-$$
"$VMPATH" "${EAL[@]}" --file-prefix=$prefix -- --stats-period 5 >out 2>&1 &
pid=$!
T_PIDS+=("$pid")
sock=/var/run/dpdk/$prefix/dpdk_telemetry.v2
[ "$(id -u)" = 0 ] || sock=${XDG_RUNTIME_DIR:-/tmp}/dpdk/$prefix/dpdk_telemetry.v2
t_check "telemetry socket appears" t_wait_for "test -S $sock" 30
printf '/\n/vmpath/pvlock/stats\n' | timeout 20 dpdk-telemetry.py -f $prefix >tel 2>&1
t_grep "command listed" '"/vmpath/pvlock/stats"' tel
for type in ticket queue; do
	t_grep "$type counters" "\"$type\": \\{\"slowpath\": [0-9]+, \"halt_waiter\": [0-9]+, \"halt_head\": [0-9]+, \"kick\": [0-9]+, \"kick_nohalt\": [0-9]+, \"spurious\": [0-9]+, \"steal\": [0-9]+, \"steal_run_max\": [0-9]+, \"lead_refused\": [0-9]+, \"head_defer\": [0-9]+, \"wakes\": [0-9]+, \"kick_wake_ns_avg\": [0-9]+\\}" tel
done
kill -TERM "$pid"
t_wait_pid "$pid" 20
t_done
