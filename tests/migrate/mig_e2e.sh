#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End to end: a 256 MiB guest with a writer migrates between two vmpath
# processes; the destination's memory equals the source's, compared with
# cmp on memory dumps (not with the engine's digest); zero pages are not
# sent as data.
. "$VMPATH_SRC/tests/migrate/mig_lib.sh"

echo "-- zlib, 2 workers, lockless, tcp loopback, writer active"
m_dest d1 --guest-mem 256M --migrate-listen tcp:127.0.0.1:$PORT \
	--migrate-workers 2 --guest-dump "$T_TMP/d1.bin"
dpid=$M_PID
m_src s1 --guest-mem 256M --guest-writers 1 --guest-rate 3000 \
	--migrate-to tcp:127.0.0.1:$PORT --migrate-workers 2 \
	--migrate-max-rounds 8 --migrate-timeout 150 --migrate-exit \
	--guest-dump "$T_TMP/s1.bin"
spid=$M_PID
t_wait_pid "$spid" 180
t_check "source exits 0 (rc $T_RC)" test "$T_RC" -eq 0
t_wait_pid "$dpid" 30
t_check "destination exits 0 (rc $T_RC)" test "$T_RC" -eq 0
t_grep "source completed" "^Migration status: completed" s1.log
t_grep "destination completed" "^Migration status: completed" d1.log
t_grep "writer was active" "1 writers at 3000 pages/s" s1.log
t_grep "progress line printed" "^migrate: active round" s1.log
t_check "more than one round (writes re-sent)" \
	test "$(m_field s1.log 'dirty sync count')" -ge 3
t_check "destination memory == source memory (cmp)" cmp -s s1.bin d1.bin
t_check "memory is not trivially zero" test "$(tr -d '\0' <d1.bin | head -c 1 | wc -c)" -eq 1
t_check "zero pages counted" test "$(m_field s1.log duplicate)" -gt 10000
t_check "compressed" test "$(m_field s1.log 'compressed size')" -gt 0
t_grep "downtime reported" "^downtime: [0-9]+ milliseconds" s1.log

echo "-- no compression, unix socket: zero pages are markers, not data"
m_dest d2 --guest-mem 256M --migrate-listen unix:$T_TMP/mig.sock \
	--migrate-workers 0 --guest-dump "$T_TMP/d2.bin"
dpid=$M_PID
m_src s2 --guest-mem 256M --migrate-to unix:$T_TMP/mig.sock \
	--migrate-comp none --migrate-timeout 100 --migrate-exit \
	--guest-dump "$T_TMP/s2.bin"
spid=$M_PID
t_wait_pid "$spid" 120
t_wait_pid "$dpid" 30
t_grep "unix: completed" "^Migration status: completed" s2.log
t_check "unix: destination memory == source memory" cmp -s s2.bin d2.bin
dup=$(m_field s2.log duplicate)
norm=$(m_field s2.log normal)
xfer=$(m_field s2.log 'transferred ram')
# raw pages cost 4096 + 16 bytes; a zero page must cost < 64 bytes
limit=$(((norm * 4112 + dup * 64) / 1024 + 64))
t_check "zero pages ($dup) not sent as data: $xfer KiB <= $limit KiB" \
	test "$xfer" -le "$limit"
t_check "a quarter of the guest is zero" test "$dup" -gt 15000

echo "-- the same through telemetry"
PORT=$((PORT + 1))
m_dest d3 --guest-mem 64M --migrate-listen tcp:127.0.0.1:$PORT
dpid=$M_PID
m_src s3 --guest-mem 64M --guest-writers 1 --guest-rate 1000
spid=$M_PID
sock=/var/run/dpdk/vmpt-s3-$$/dpdk_telemetry.v2
[ "$(id -u)" = 0 ] || sock=${XDG_RUNTIME_DIR:-/tmp}/dpdk/vmpt-s3-$$/dpdk_telemetry.v2
t_check "telemetry socket appears" t_wait_for "test -S $sock" 30
t_check "its migration commands are registered" \
	t_tel_ready vmpt-s3-$$ /vmpath/guest/info 60
tel vmpt-s3-$$ "/vmpath/migrate/start,tcp:127.0.0.1:$PORT" >tel1
t_grep "/vmpath/migrate/start" '"result": "started"' tel1
t_check "/vmpath/migrate/info reaches completed" \
	t_wait_for "tel vmpt-s3-$$ /vmpath/migrate/info | grep -q '\"status\": \"completed\"'" 60
tel vmpt-s3-$$ /vmpath/migrate/info >tel2
t_grep "info has QEMU's counters" '"dirty_sync_count": [1-9]' tel2
tel vmpt-s3-$$ /vmpath/guest/info >tel3
t_grep "guest paused after completion" '"paused": 1' tel3
kill -TERM "$spid"
t_wait_pid "$spid" 30
t_wait_pid "$dpid" 30
t_grep "destination completed" "^Migration status: completed" d3.log

echo "-- auto-converge: writers outrun a 4 MB/s link, get throttled, it ends"
PORT=$((PORT + 1))
m_dest d4 --guest-mem 32M --migrate-listen tcp:127.0.0.1:$PORT \
	--guest-dump "$T_TMP/d4.bin"
dpid=$M_PID
m_src s4 --guest-mem 32M --guest-writers 1 --guest-rate 4000 \
	--migrate-to tcp:127.0.0.1:$PORT --migrate-bandwidth 4 \
	--migrate-auto-converge --migrate-max-rounds 4 --migrate-exit \
	--migrate-timeout 100 --guest-dump "$T_TMP/s4.bin"
spid=$M_PID
t_wait_pid "$spid" 120
t_wait_pid "$dpid" 30
t_grep "auto-converge: completed" "^Migration status: completed" s4.log
t_check "writers were throttled ($(m_field s4.log 'auto-converge throttle') %)" \
	test "$(m_field s4.log 'auto-converge throttle')" -ge 20
t_check "auto-converge: memory equal" cmp -s s4.bin d4.bin

t_done
