#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Failure handling: cancel mid-round, destination killed, a flipped byte,
# a handshake with another version or page size.
. "$VMPATH_SRC/tests/migrate/mig_lib.sh"

echo "-- cancel mid-round: source intact, destination cancelled"
m_dest d1 --guest-mem 256M --migrate-listen tcp:127.0.0.1:$PORT
dpid=$M_PID
mkfifo in1
exec 9<>in1 # hold the prompt's stdin open (read-write: does not block)
M_IN=in1
m_src s1 -i --guest-mem 256M --guest-writers 1 --guest-rate 2000 \
	--migrate-bandwidth 8
spid=$M_PID
t_wait_for "grep -q 'vmpath> ' s1.log" 30
# 1 MiB pinned (DMA in flight): reported dirty by every sync, counted
echo "guest pin 0 1048576" >&9
echo "migrate tcp:127.0.0.1:$PORT" >&9
t_check "migration under way" \
	t_wait_for "grep -qE '^migrate: active round 0 sent [1-9]' s1.log" 30
echo "migrate cancel" >&9
t_check "source reports cancelled" \
	t_wait_for "grep -q 'vmpath: migration cancelled' s1.log" 30
echo "guest info" >&9
sleep 1
echo "guest info" >&9
echo "info migrate" >&9
t_wait_pid "$dpid" 30
t_check "destination exits after the cancel (rc $T_RC)" test "$T_RC" -eq 0
t_grep "destination reports cancelled" "^Migration status: cancelled" d1.log
t_grep "destination discards" "memory discarded" d1.log
t_check "source prompt still answers" \
	t_wait_for "test \$(grep -c 'paused: no' s1.log) -ge 2" 20
w=($(grep -oE 'writes: [0-9]+' s1.log | grep -oE '[0-9]+'))
t_check "source vCPUs keep running (${w[0]:-?} -> ${w[1]:-?} writes)" \
	test "${w[1]:-0}" -gt "${w[0]:-0}"
t_grep "info migrate says cancelled" "^Migration status: cancelled" s1.log
t_grep "pinned pages counted" "^pinned pages: 256 pages" s1.log
echo "quit" >&9
t_wait_pid "$spid" 30
exec 9>&-
t_check "source quits cleanly (rc $T_RC)" test "$T_RC" -eq 0

echo "-- destination killed mid-way: source fails and keeps running"
PORT=$((PORT + 1))
m_dest d2 --guest-mem 256M --migrate-listen tcp:127.0.0.1:$PORT
dpid=$M_PID
mkfifo in2
exec 9<>in2
M_IN=in2
m_src s2 -i --guest-mem 256M --guest-writers 1 --guest-rate 2000 \
	--migrate-bandwidth 8
spid=$M_PID
t_wait_for "grep -q 'vmpath> ' s2.log" 30
echo "migrate tcp:127.0.0.1:$PORT" >&9
t_check "migration under way" \
	t_wait_for "grep -qE '^migrate: active round 0 sent [1-9]' s2.log" 30
{ kill -KILL "$dpid" && wait "$dpid"; } 2>/dev/null
t_check "source reports failure" \
	t_wait_for "grep -q 'vmpath: migration failed' s2.log" 30
echo "guest info" >&9
t_check "source still running, guest not paused" \
	t_wait_for "grep -q 'paused: no' s2.log" 20
t_check "source process alive" kill -0 "$spid"
echo "quit" >&9
t_wait_pid "$spid" 30
exec 9>&-
t_check "source quits cleanly (rc $T_RC)" test "$T_RC" -eq 0

M_IN=
echo "-- a byte flipped in the stream is caught by CRC32C"
PORT=$((PORT + 1))
m_dest d3 --guest-mem 256M --migrate-listen tcp:127.0.0.1:$PORT
dpid=$M_PID
python3 "$MIGWIRE" proxy $((PORT + 1000)) "$PORT" 3000000 >proxy.log 2>&1 &
T_PIDS+=($!)
t_wait_for "grep -q listening proxy.log" 10
m_src s3 --guest-mem 256M --guest-writers 1 --guest-rate 2000 \
	--migrate-to tcp:127.0.0.1:$((PORT + 1000)) --migrate-exit \
	--migrate-timeout 100
spid=$M_PID
t_wait_pid "$spid" 120
t_wait_pid "$dpid" 30
t_grep "proxy flipped a byte" "flipped byte at offset 3000000" proxy.log
t_grep "destination saw the CRC mismatch" "CRC32C" d3.log
t_grep "destination failed" "^Migration status: failed" d3.log
t_check "destination never completed" bash -c "! grep -q 'status: completed' d3.log"
t_grep "source failed" "^Migration status: failed" s3.log
t_check "source never completed" bash -c "! grep -q 'status: completed' s3.log"

echo "-- handshake: another version or page size is refused"
PORT=$((PORT + 1))
m_dest d4 --guest-mem 64M --migrate-listen tcp:127.0.0.1:$PORT \
	--migrate-workers 0
python3 "$MIGWIRE" hello 127.0.0.1 "$PORT" 2 4096 $((64 << 20)) >h1 2>&1
t_grep "version 2 refused" "^REFUSE [0-9]+ wire version 2 refused" h1
t_wait_pid "$M_PID" 20
t_grep "destination logs the refusal" "refused: wire version 2" d4.log
m_dest d5 --guest-mem 64M --migrate-listen tcp:127.0.0.1:$PORT \
	--migrate-workers 0
python3 "$MIGWIRE" hello 127.0.0.1 "$PORT" 1 8192 $((64 << 20)) >h2 2>&1
t_grep "page size 8192 refused" "^REFUSE [0-9]+ page size 8192 refused" h2
t_wait_pid "$M_PID" 20
m_dest d6 --guest-mem 64M --migrate-listen tcp:127.0.0.1:$PORT \
	--migrate-workers 0
python3 "$MIGWIRE" hello 127.0.0.1 "$PORT" 1 4096 $((32 << 20)) >h3 2>&1
t_grep "other region size refused" "^REFUSE [0-9]+ region 0" h3
t_wait_pid "$M_PID" 20
m_dest d7 --guest-mem 64M --migrate-listen tcp:127.0.0.1:$PORT \
	--migrate-workers 0
python3 "$MIGWIRE" hello 127.0.0.1 "$PORT" 1 4096 $((64 << 20)) >h4 2>&1
t_grep "the right HELLO is accepted (second implementation)" "^ACCEPT" h4
t_wait_pid "$M_PID" 20
t_grep "then a vanished source fails the destination" \
	"^Migration status: failed" d7.log
# a page twice in one round (its CRC could race its other copy) is refused
m_dest d8 --guest-mem 64M --migrate-listen tcp:127.0.0.1:$PORT \
	--migrate-workers 0
python3 "$MIGWIRE" twice 127.0.0.1 "$PORT" $((64 << 20)) >h5 2>&1
t_wait_pid "$M_PID" 20
t_grep "a page twice in one round fails the destination" \
	"page 5 twice in round 0" d8.log
t_grep "and it ends failed" "^Migration status: failed" d8.log

t_done
