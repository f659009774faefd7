#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# vmpath launched like dpdk-testpmd: option errors, --help, the prompt,
# telemetry, signals and --run-time, against the real binary.
. "$VMPATH_SRC/tests/lib.sh"

EAL=(-l 0-1 --no-pci --no-huge -m 256 --log-level=lib.eal:error)
cd "$T_TMP"

echo "-- an unknown option is named and refused"
"$VMPATH" "${EAL[@]}" --file-prefix=vmpt-cli1-$$ -- --bogus >out 2>err
t_check "--bogus exits non-zero" test $? -ne 0
t_grep "--bogus named" "unknown option '--bogus'" err

"$VMPATH" "${EAL[@]}" --file-prefix=vmpt-cli1-$$ -- --stats-period abc >out 2>err
t_check "malformed value exits non-zero" test $? -ne 0
t_grep "--stats-period named" "stats-period: 'abc' is not a number" err

echo "-- --help lists every option"
"$VMPATH" "${EAL[@]}" --file-prefix=vmpt-cli1-$$ -- --help >out 2>err
t_check "--help exits 0" test $? -eq 0
# every long option in the parser's table must be in the usage text
opts=$(grep -oE '^\s*\{ "[a-z-]+"' "$VMPATH_SRC/app/vmpath/params.c" |
	grep -oE '[a-z-]+')
for o in $opts; do
	t_grep "--help lists --$o" "\-\-$o" out
done

echo "-- a plan that cannot be met is refused"
"$VMPATH" "${EAL[@]}" --file-prefix=vmpt-cli1-$$ -- --datapath-lcores 2 >out 2>&1
t_check "too few lcores exits non-zero" test $? -ne 0
t_grep "says what it needs" "need 2 worker lcores" out

echo "-- the prompt"
printf 'help\nshow lcores\nshow config\nshow stats\nquit\n' |
	timeout 60 "$VMPATH" "${EAL[@]}" --file-prefix=vmpt-cli2-$$ -- -i >out 2>&1
t_check "quit exits 0" test $? -eq 0
t_grep "prompt shown" "vmpath> " out
t_grep "help lists show" "show lcores\|config\|stats" out
t_grep "lcore 0 is main" "^ +0 +[0-9]+ +0 +main" out
t_grep "lcore 1 is datapath" "^ +1 +[0-9]+ +0 +datapath" out
t_grep "show config" "datapath-lcores +1" out
t_grep "clean exit" "vmpath: bye" out

echo "-- telemetry and SIGTERM"
"$VMPATH" "${EAL[@]}" --file-prefix=vmpt-cli3-$$ -- --stats-period 1 >out 2>&1 &
pid=$!
T_PIDS+=("$pid")
sock=/var/run/dpdk/vmpt-cli3-$$/dpdk_telemetry.v2
[ "$(id -u)" = 0 ] || sock=${XDG_RUNTIME_DIR:-/tmp}/dpdk/vmpt-cli3-$$/dpdk_telemetry.v2
t_check "telemetry socket appears" t_wait_for "test -S $sock" 30
t_check "vmpath's commands are registered" \
	t_tel_ready vmpt-cli3-$$ /vmpath/config 60
printf '/vmpath/version\n/vmpath/lcores\n/vmpath/config\n' |
	timeout 20 dpdk-telemetry.py -f vmpt-cli3-$$ >tel 2>&1
t_grep "/vmpath/version read" '"/vmpath/version": \{"version": "[0-9.]+"' tel
t_grep "/vmpath/lcores read" '"role": "datapath"' tel
t_grep "/vmpath/config read" '"datapath_lcores": 1' tel
t_wait_for "grep -q loops/s out" 10
t_grep "stats printed" "loops/s" out
kill -TERM "$pid"
t_wait_pid "$pid" 20
rc=$T_RC
t_check "SIGTERM exits 0 (got $rc)" test "$rc" -eq 0
t_grep "SIGTERM cleans up" "vmpath: bye" out

echo "-- SIGINT at the prompt"
mkfifo in
timeout 60 "$VMPATH" "${EAL[@]}" --file-prefix=vmpt-cli4-$$ -- -i <in >out 2>&1 &
pid=$!
T_PIDS+=("$pid")
exec 9>in # hold the prompt's stdin open
t_wait_for "grep -q 'vmpath> ' out" 30
kill -INT "$pid"
t_wait_pid "$pid" 20
rc=$T_RC
exec 9>&-
t_check "SIGINT at the prompt exits 0 (got $rc)" test "$rc" -eq 0

echo "-- --run-time"
timeout 60 "$VMPATH" "${EAL[@]}" --file-prefix=vmpt-cli5-$$ -- --run-time 2 \
	--stats-period 1 >out 2>&1
t_check "--run-time exits 0" test $? -eq 0
t_grep "stats while running" "datapath +[0-9]+" out

t_done
