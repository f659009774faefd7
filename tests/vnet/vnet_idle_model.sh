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

t_spin_model "$VMPATH_SRC/tests/vnet/vnet_idle.pml"

for p in 1 2 3; do
	echo "-- the protocol, $p buffers"
	t_spin_verify -DP=$p
	t_grep "P=$p: no lost wake-up" 'errors: 0$' out.txt
	t_check "P=$p: search completed" \
		bash -c '! grep -q "Search not completed" out.txt'
done
for b in BROKEN_NO_RECHECK BROKEN_NO_BARRIER BROKEN_NO_L2 \
	BROKEN_NO_CTL_WAKE; do
	echo "-- $b"
	t_spin_verify -D$b
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
