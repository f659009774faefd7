#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Ports added and removed at run time through vmpathctl while two other ports
# carry traffic that is checked packet by packet:
#   - vnet-peer on port 0 sends numbered packets to dpdk-testpmd (macswap) on
#     port 1, which sends them back; each vnet-peer run exits 0 only if every
#     packet came back exactly once, intact. Runs back to back the whole time.
#   - phase A: port 2 is added (async copies: dma=skeleton), a second
#     vnet-peer attaches to it and exchanges exact traffic with port 1's
#     echo, port 2 is removed.
#   - phase B: CTL_CYCLES add/del cycles of a client-mode async port whose peer
#     (dpdk-testpmd, net_virtio_user server=1, rxonly) stays up, so every
#     added port connects to a live frontend before it is removed.
# Argument "halt": the same with --idle halt (datapath lcores sleep when
# idle; every change must wake them to pass their quiescent point).
# Afterwards: ports 0/1 dropped nothing (drop_full, no_buf 0), vmpath's DPDK
# heap and its mbufs in use are back where they were before the cycles.
. "$VMPATH_SRC/tests/lib.sh"
. "$VMPATH_SRC/tests/vnet/vnet_lib.sh"
. "$VMPATH_SRC/tests/ctl/ctl_lib.sh"
PEER="$VMPATH_BUILD/tests/vnet/vnet-peer"
cd "$T_TMP"
LOGS=(--log-level=lib.eal:error --log-level=lib.vhost.config:warning)
CYCLES=${CTL_CYCLES:-${2:-100}}
IDLE=()
[ "${1:-}" = halt ] && IDLE=(--idle halt --idle-polls 200)
ANY="(0-1)"

start_vmpath churn "${IDLE[@]}"
dpdk-testpmd --lcores "0@$ANY,1@$ANY" --main-lcore 1 --no-pci --no-huge \
	-m 512 --file-prefix=vmpt-ctl-echo-$$ "${LOGS[@]}" \
	--vdev "net_virtio_user0,path=$T_TMP/b.sock,queues=1,queue_size=1024,mac=02:00:00:00:00:b1" \
	-- --forward-mode=macswap --total-num-mbufs=8192 --stats-period 100 \
	-a --no-mlockall </dev/null >echo.log 2>&1 &
T_PIDS+=($!)
t_wait_for "port_up 1" 40 || t_bad "echo peer did not attach to port 1"

# the checked stream on port 0, run after run until told to stop
(
	i=0
	while [ ! -f stop ]; do
		# paused between two runs: port 0 has no frontend then
		if [ -f pause ]; then
			touch paused
			sleep 0.1
			continue
		fi
		rm -f paused
		i=$((i + 1))
		timeout 90 "$PEER" --lcores "0@$ANY" --no-pci --no-huge -m 256 \
			--file-prefix=vmpt-ctl-peer-$$ "${LOGS[@]}" \
			--vdev "net_virtio_user0,path=$T_TMP/a.sock,queues=1,queue_size=1024,mac=02:00:00:00:00:a1" \
			-- --dst 02:00:00:00:00:b1 --count 20000 --window 256 \
			--timeout 60 --stall 10 >peer-$i.log 2>&1
		echo "run $i rc $?" >>stream.log
	done
) &
STREAM=$!
t_wait_for "grep -q 'rc' stream.log 2>/dev/null" 60 ||
	t_note "first stream run still going"

echo "-- phase A: add port 2, a checked peer on it, remove it"
T0=$(date +%s%N)
ID=$(ctl port-add "$T_TMP/c.sock" --dma skeleton | awk '{print $2}')
T1=$(date +%s%N)
t_check "port-add returns port 2 (got '$ID')" test "$ID" = 2
t_check "its socket listens" test -S "$T_TMP/c.sock"
t_note "port_add answered in $(((T1 - T0) / 1000000)) ms (vmpathctl round trip)"
ctl port-list >list-a.txt
t_grep "port-list shows port 2 and its lcore" "^ +2 +$T_TMP/c.sock +server +down +1 +skeleton +0:1" list-a.txt
timeout 90 "$PEER" --lcores "0@$ANY" --no-pci --no-huge -m 256 \
	--file-prefix=vmpt-ctl-peer2-$$ "${LOGS[@]}" \
	--vdev "net_virtio_user0,path=$T_TMP/c.sock,queues=1,queue_size=1024,mac=02:00:00:00:00:c1" \
	-- --dst 02:00:00:00:00:b1 --count 5000 --size 1518 --window 128 \
	--timeout 60 --stall 10 >peer-c.log 2>&1
t_check "a peer on the run-time port: every packet back once, intact" test $? -eq 0
ctl port-stats 2 >stats-2.txt
t_grep "port 2 counted its traffic" "from-vm [1-9][0-9]* pkts" stats-2.txt
t_grep "port 2's copies went to the DMA engine" "dma_copies [1-9]" stats-2.txt
ctl port-del 2 >del-a.txt
t_check "port-del 2" grep -q "port 2 removed" del-a.txt
t_check "its socket is gone" test ! -e "$T_TMP/c.sock"

# From here on nothing may stay allocated (phase A made the lcore's DMA
# device, which is kept for the next async port). Measured while port 0 has
# no frontend (rte_vhost allocates per connection), as at the end.
touch pause
t_wait_for "test -f paused" 100 || t_bad "the stream did not pause"
MEM0=$(mem_state)
rm -f pause
t_note "before the cycles: $MEM0"

echo "-- phase B: $CYCLES add/del cycles, a client port (dma=skeleton) with a live peer"
dpdk-testpmd --lcores "0@$ANY,1@$ANY" --main-lcore 1 --no-pci --no-huge \
	-m 512 --file-prefix=vmpt-ctl-rx-$$ "${LOGS[@]}" \
	--vdev "net_virtio_user0,path=$T_TMP/d.sock,queues=2,queue_size=256,server=1,mac=02:00:00:00:00:d1" \
	-- --forward-mode=rxonly --rxq=2 --txq=2 --total-num-mbufs=4096 \
	--stats-period 100 -a --no-mlockall </dev/null >rx.log 2>&1 &
T_PIDS+=($!)
t_wait_for "test -S $T_TMP/d.sock" 30 || t_bad "rxonly peer did not listen"
B0=$SECONDS
$PY "$VMPATH_SRC/tests/ctl/ctl_cycles.py" "$CTLSOCK" "$CYCLES" \
	"{\"path\": \"$T_TMP/d.sock\", \"client\": true, \"queues\": 2, \"dma\": \"skeleton\"}" \
	>cycles.log 2>&1
rc=$?
cat cycles.log | sed 's/^/       | /'
t_check "$CYCLES add/del cycles, each with its peer attached ($((SECONDS - B0)) s)" test $rc -eq 0

touch stop
wait $STREAM
runs=$(wc -l <stream.log)
good=$(grep -c 'rc 0$' stream.log)
t_check "port 0<->1 stream: $good of $runs runs exact (every packet back once)" test "$runs" -ge 1 -a "$good" -eq "$runs"
ctl --json port-stats 0 >ps0.json
ctl --json port-stats 1 >ps1.json
t_check "ports 0 and 1: nothing dropped (drop_full, no_buf, no_mbuf 0)" eval \
	"grep -q '\"drop_full\": 0' ps0.json && grep -q '\"drop_full\": 0' ps1.json &&
	! grep -qE '\"(drop_full|no_buf|no_mbuf)\": [1-9]' ps0.json ps1.json"
ctl port-list >list-end.txt
t_check "only ports 0 and 1 are left" test "$(grep -cE '^ +[0-9]+ ' list-end.txt)" -eq 2
sleep 1 # the last packets of the echo peer settle
MEM1=$(mem_state)
t_note "after:  $MEM1"
t_check "DPDK heap and mbufs in use as before the cycles" \
	mem_same "$MEM0" "$MEM1"
stop_vmpath
echo "$T_PASS passed, $T_FAIL failed"
[ "$T_FAIL" -eq 0 ]
