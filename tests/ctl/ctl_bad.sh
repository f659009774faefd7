#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The control socket refuses bad requests one by one and keeps serving
# (ctl_bad.py), and its 0660 mode keeps out a user who is neither root nor
# in its group (the same user in the group gets in).
. "$VMPATH_SRC/tests/lib.sh"
. "$VMPATH_SRC/tests/vnet/vnet_lib.sh"
. "$VMPATH_SRC/tests/ctl/ctl_lib.sh"
cd "$T_TMP"
LOGS=(--log-level=lib.eal:error --log-level=lib.vhost.config:warning)
MAXP=6

start_vmpath bad --max-ports $MAXP
t_check "the socket is 0660" test "$(stat -c %a "$CTLSOCK")" = 660
$PY "$VMPATH_SRC/tests/ctl/ctl_bad.py" "$CTLSOCK" "$T_TMP" $MAXP >bad.log 2>&1
rc=$?
cat bad.log
t_check "every bad request got its error, the daemon kept serving" test $rc -eq 0
t_check "vmpath still runs" kill -0 "$SW"

echo "-- socket permissions"
U=vmpt-ctl-user
id -u "$U" >/dev/null 2>&1 || useradd -M -N -g nogroup -s /usr/sbin/nologin "$U"
uid=$(id -u "$U")
# the directories let anyone through: only the socket's mode decides
chmod 711 "$T_TMP"
chmod 755 "$T_TMP/run"
setpriv --reuid="$uid" --regid=nogroup --clear-groups \
	$PY "$CTL" --socket "$CTLSOCK" version >perm.log 2>&1
rc=$?
t_check "a user outside the socket's group is refused (exit $rc)" test $rc -eq 3
t_grep "refused by the socket's permissions" \
	"vmpath.sock: \[Errno 13\] Permission denied" perm.log
gid=$(stat -c %g "$CTLSOCK")
setpriv --reuid="$uid" --regid=nogroup --groups="$gid" \
	$PY "$CTL" --socket "$CTLSOCK" version >perm2.log 2>&1
t_check "the same user in the socket's group gets in" test $? -eq 0
stop_vmpath
t_check "the socket is removed at exit" test ! -e "$CTLSOCK"
echo "-- the prompt: port add / port del through the same control API"
printf 'port add %s\nport add %s client,queues=2\nport add %s\nport add %s queues=12\nshow ports\nport del 1\nport del 1\nethdev add net_bogus0\nethdev add net_null9,size=64\nethdev del 0\nethdev del 1\nethdev del 1\nquit\n' \
	"$T_TMP/p0.sock" "$T_TMP/p1.sock" "$T_TMP/p0.sock" "$T_TMP/p2.sock" |
	timeout 60 "$VMPATH" -l 0-1 --no-pci --no-huge -m 256 \
	--file-prefix=vmpt-ctl-cli-$$ "${LOGS[@]}" -- -i --ctl none \
	>cli.log 2>&1
t_check "prompt exits 0" test $? -eq 0
t_grep "port add PATH gives port 0" "^port 0$" cli.log
t_grep "port add PATH OPTS: a 2-queue client port" \
	"^ +1 +$T_TMP/p1.sock +client +2 +none" cli.log
t_grep "a path in use is refused, naming it" \
	"port add refused: path '$T_TMP/p0.sock' already in use by port 0" cli.log
t_grep "bad OPTS refused, naming them" "refused: .*'queues=12'" cli.log
t_grep "port del 1" "^port 1 removed$" cli.log
t_grep "a second port del 1 refused" "port del refused: port 1 does not exist" cli.log
t_grep "ethdev add of an unknown driver refused, naming it" \
	"ethdev add refused: port 1: ethdev 'net_bogus0': no such driver" cli.log
t_check "ethdev add NAME,ARGS gives port 1, ethdev del 1 removes it" \
	eval "grep -q '^vmpath: port 1 added (net_null9,size=64)' cli.log &&
	test \"\$(grep -c '^port 1 removed$' cli.log)\" = 2"
t_grep "ethdev del of a vhost port refused" \
	"ethdev del refused: port 0 is a vhost-user port" cli.log
t_grep "a second ethdev del 1 refused" "ethdev del refused: port 1 does not exist" cli.log
echo "-- the vmpath.app logtype: --log-level silences the app's messages"
printf 'port add %s\nquit\n' "$T_TMP/q0.sock" |
	timeout 60 "$VMPATH" -l 0-1 --no-pci --no-huge -m 256 \
	--file-prefix=vmpt-ctl-log-$$ "${LOGS[@]}" \
	--log-level=vmpath.app:warning -- -i --ctl none >log.log 2>&1
t_grep "the prompt still answers" "^port 0$" log.log
t_check "no 'vmpath: port 0 added' at vmpath.app:warning" \
	eval "! grep -q 'vmpath: port 0 added' log.log"
echo "$T_PASS passed, $T_FAIL failed"
[ "$T_FAIL" -eq 0 ]
