#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Migration through the control socket: `vmpathctl migrate` moves a source's
# synthetic guest (a writer active) to a destination, `migrate-info` is
# polled until completed, and the destination's memory equals the source's
# (dumps compared with cmp). On the way, each wrong request gets its own
# JSON-RPC error and the daemon keeps serving: a bad URI, cancel with none
# running, migrate on a destination, a second migrate while one runs, a
# guest pause while one runs; a cancelled run leaves the source running.
. "$VMPATH_SRC/tests/migrate/mig_lib.sh"
. "$VMPATH_SRC/tests/ctl/ctl_lib.sh"

SSOCK=$T_TMP/run/src.sock
DSOCK=$T_TMP/run/dst.sock
# sctl / dctl ARGS...: vmpathctl on the source's / destination's socket
sctl() { timeout 60 $PY "$CTL" --socket "$SSOCK" "$@"; }
dctl() { timeout 60 $PY "$CTL" --socket "$DSOCK" "$@"; }
# mstatus: the source's migration status
mstatus() {
	sctl --json migrate-info | $PY -c 'import json,sys
print(json.load(sys.stdin)["status"])'
}
# refused WHAT PATTERN CMD...: CMD exits 1 and its message matches PATTERN
refused() {
	local what=$1 pat=$2
	shift 2
	"$@" >ref.out 2>&1
	local rc=$?
	t_check "$what: refused (exit $rc): $(head -c 160 ref.out)" \
		eval "test $rc -eq 1 && grep -qE \"$pat\" ref.out"
}
serving() { t_check "$1 still serves" eval "$2 version >/dev/null"; }

echo "-- wrong requests on a source and a destination"
m_dest d1 --guest-mem 64M --migrate-listen tcp:127.0.0.1:$PORT --ctl "$DSOCK"
dpid=$M_PID
m_src s1 --guest-mem 64M --guest-writers 1 --guest-rate 1000 --ctl "$SSOCK"
spid=$M_PID
t_check "source control socket up" t_wait_for "test -S $SSOCK" 30
t_check "migrate-info with none: status none" \
	eval "test \"\$(mstatus)\" = none"
refused "cancel with none running" "no migration to cancel" sctl migrate-cancel
for u in foo:bar tcp:127.0.0.1 tcp:127.0.0.1:99999 unix:rel.sock; do
	refused "bad uri '$u'" "uri '$u' is not tcp:HOST:PORT or unix:/PATH" \
		sctl migrate "$u"
done
serving "the source" sctl
refused "migrate on a destination" "this vmpath is a destination" \
	dctl migrate tcp:127.0.0.1:$PORT
serving "the destination" dctl
sctl --json call migrate '{"uri": 7}' >raw.out 2>&1
t_grep "a wrong-typed uri: -32602" '"code": -32602' raw.out

echo "-- a slow run (1 MB/s): a second migrate and a pause refused, cancel"
sctl migrate tcp:127.0.0.1:$PORT --bandwidth 1 >m1.out 2>&1
t_check "migrate started ($(cat m1.out))" grep -q "started" m1.out
t_check "status active" t_wait_for "test \"\$(mstatus)\" = active" 30
refused "a second migrate while one runs" "a migration is running" \
	sctl migrate tcp:127.0.0.1:$PORT
refused "guest-pause while one runs" "a migration is running" sctl guest-pause
# the same run seen from telemetry's thread (one lock over the state)
t_check "telemetry's migration commands are registered" \
	t_tel_ready vmpt-s1-$$ /vmpath/guest/info 60
tel vmpt-s1-$$ /vmpath/migrate/info >tel.out
t_grep "telemetry sees the run" '"status": "active"' tel.out
sctl migrate-cancel >c1.out 2>&1
t_grep "migrate-cancel answers" "migration cancelling" c1.out
t_check "status cancelled" t_wait_for "test \"\$(mstatus)\" = cancelled" 30
refused "cancel after the end" "already ended" sctl migrate-cancel
sctl guest-info >g1.out 2>&1
t_grep "the source guest runs on" "paused: no" g1.out
t_wait_pid "$dpid" 30
t_grep "the destination saw the cancel" "^Migration status: cancelled" d1.log

echo "-- vmpathctl migrate: source to destination, memory equal"
PORT=$((PORT + 1))
m_dest d2 --guest-mem 64M --migrate-listen tcp:127.0.0.1:$PORT \
	--guest-dump "$T_TMP/d2.bin"
dpid=$M_PID
sctl migrate tcp:127.0.0.1:$PORT --max-rounds 8 >m2.out 2>&1
t_check "migrate started ($(cat m2.out))" grep -q "started" m2.out
t_check "migrate-info reaches completed" \
	t_wait_for "test \"\$(mstatus)\" = completed" 120
sctl migrate-info >info.out 2>&1
cat info.out
t_grep "migrate-info has the counters of info migrate" \
	"^dirty sync count: [1-9]" info.out
sctl --json guest-info >g2.out 2>&1
t_grep "the source guest stays paused" '"paused": true' g2.out
sctl guest-dump "$T_TMP/s2.bin" >dump.out 2>&1
t_grep "guest-dump wrote the source" "written to $T_TMP/s2.bin" dump.out
refused "guest-dump never overwrites" "File exists" sctl guest-dump "$T_TMP/s2.bin"
t_wait_pid "$dpid" 30
t_check "destination exits 0 (rc $T_RC)" test "$T_RC" -eq 0
t_grep "destination completed" "^Migration status: completed" d2.log
t_check "destination memory == source memory (cmp)" cmp -s s2.bin d2.bin
t_check "memory is not trivially zero" \
	test "$(tr -d '\0' <d2.bin | head -c 1 | wc -c)" -eq 1
serving "the source" sctl
kill -TERM "$spid"
t_wait_pid "$spid" 30
t_check "source exits 0 (rc $T_RC)" test "$T_RC" -eq 0
t_done
