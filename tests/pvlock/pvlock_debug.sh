#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# An unlock by a non-holder is undefined, but a debug build (meson option
# debug_checks, i.e. -DVMP_DEBUG_CHECKS=1) catches it. This builds lib/pvlock
# with that define into a small program (seconds, not a second meson tree)
# and checks that it aborts naming the lock, for both lock types; and that
# the same program without the define does not check (the fast path has no
# debug cost).
. "$VMPATH_SRC/tests/lib.sh"

cd "$T_TMP"
ulimit -c 0 # the debug build aborts on purpose
src=$VMPATH_SRC
build() { # out defines...
	local out=$1
	shift
	cc -O1 -std=gnu11 -D_GNU_SOURCE -DALLOW_EXPERIMENTAL_API "$@" \
		-I"$VMPATH_BUILD/config" -I"$src/lib/common" -I"$src/lib/pvlock" \
		$(pkg-config --cflags libdpdk) \
		"$src/tests/pvlock/debug_unlock.c" "$src"/lib/pvlock/*.c \
		"$src/lib/common/vmp_halt.c" \
		$(pkg-config --libs libdpdk) -lpthread -o "$out" 2>cc.txt
}
build dbg -DVMP_DEBUG_CHECKS=1
t_check "debug build compiles" test -x dbg; [ -x dbg ] || tail -20 cc.txt
build nodbg
t_check "plain build compiles" test -x nodbg; [ -x nodbg ] || tail -20 cc.txt

for lock in ticket queue; do
	./dbg $lock >out.txt 2>&1
	rc=$?
	t_check "debug $lock: unlock by non-holder aborts (rc $rc)" \
		test "$rc" -eq 134
	t_grep "debug $lock: says who" \
		"$lock unlock by non-holder: tid [0-9]+, holder tid [0-9]+" out.txt
	./nodbg $lock >out.txt 2>&1
	rc=$?
	t_check "plain $lock: not checked (rc $rc)" test "$rc" -eq 0
done
t_done
