#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The halting datapath lcore of lib/vnet (vnet_idle.c), model-checked by
# spin (tests/vnet/vnet_idle.pml): the guest-kick handshake (guest avail
# store / barrier / flags load against the lcore's flag store / barrier /
# avail re-read) and the control side's wake after a vring restart lose no
# wake-up; each deliberately broken variant is shown to lose one: no
# re-check, no barrier between the flag store and the re-check, no barrier
# after publishing "sleeping", no control wake after a restart.
. "$VMPATH_SRC/tests/lib.sh"

if ! command -v spin >/dev/null || ! command -v cc >/dev/null; then
	echo "spin or cc missing (usertools/vmpath-setup installs spin): skip"
	exit 77
fi
cd "$T_TMP"
cp "$VMPATH_SRC/tests/vnet/vnet_idle.pml" model.pml

# verify "defines...": run spin's verifier, output in out.txt
verify() {
	rm -f pan pan.* model.pml.trail
	spin "$@" -a model.pml >spin.txt 2>&1 || { cat spin.txt; return 1; }
	cc -O2 -DSAFETY -o pan pan.c 2>cc.txt || { cat cc.txt; return 1; }
	./pan -m200000 >out.txt 2>&1
	grep -E 'errors:|states, stored' out.txt | sed 's/^/       /'
}

for p in 1 2 3; do
	echo "-- the protocol, $p buffers"
	verify -DP=$p
	t_grep "P=$p: no lost wake-up" 'errors: 0$' out.txt
	t_check "P=$p: search completed" \
		bash -c '! grep -q "Search not completed" out.txt'
done
for b in BROKEN_NO_RECHECK BROKEN_NO_BARRIER BROKEN_NO_L2 \
	BROKEN_NO_CTL_WAKE; do
	echo "-- $b"
	verify -D$b
	t_grep "$b: spin finds an error" 'errors: [1-9]' out.txt
	t_grep "$b: it is a lost wake-up" 'invalid end state' out.txt
	# replay the counterexample: the lcore asleep, buffers left
	spin -D$b -t -g model.pml >trail.txt 2>&1
	t_grep "$b: trail ends with the lcore asleep" 'asleep = 1' trail.txt
	t_check "$b: trail ends with buffers not taken" bash -c \
		"[ \"\$(sed -n 's/^[[:space:]]*avail = //p' trail.txt | tail -1)\" != \
\"\$(sed -n 's/^[[:space:]]*last = //p' trail.txt | tail -1)\" ]"
done
t_done
