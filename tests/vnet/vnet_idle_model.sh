#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The halting datapath lcore of lib/vnet (vnet_idle.c), model-checked by
# spin (tests/vnet/vnet_idle.pml): the guest-kick handshake (guest avail
# store / barrier / flags load against the lcore's flag store / barrier /
# avail re-read) and the control side's wake after a vring restart lose no
# wake-up; each deliberately broken variant is shown to lose one: no
# re-check, no barrier between the flag store and the re-check, no barrier
# after publishing "sleeping", no control wake after a restart. The same
# with VIRTIO_RING_F_EVENT_IDX (-DEVIDX: avail_event instead of the flag,
# plus a variant that asks for the kick one buffer too early), and the
# guest-call side of EVENT_IDX (tests/vnet/vnet_evidx_call.pml: used->idx
# store / barrier / used_event load against the guest's used_event store /
# barrier / used->idx re-read; broken without the barrier or without the
# modulo-2^16 comparison).
. "$VMPATH_SRC/tests/lib.sh"

# lost_wakeup LABEL VAR1 VAR2 DEFINES...: spin finds an invalid end state
# whose trail ends with the sleeper waiting and VAR1 != VAR2 (work left)
lost_wakeup() {
	local l=$1 v1=$2 v2=$3 w=$4
	shift 4
	t_spin_verify "$@"
	t_grep "$l: spin finds an error" 'errors: [1-9]' out.txt
	t_grep "$l: it is a lost wake-up" 'invalid end state' out.txt
	spin "$@" -t -g model.pml >trail.txt 2>&1
	t_grep "$l: trail ends with the sleeper waiting" "$w = 1" trail.txt
	t_check "$l: trail ends with work not taken" bash -c \
		"[ \"\$(sed -n 's/^[[:space:]]*$v1 = //p' trail.txt | tail -1)\" != \
\"\$(sed -n 's/^[[:space:]]*$v2 = //p' trail.txt | tail -1)\" ]"
}

t_spin_model "$VMPATH_SRC/tests/vnet/vnet_idle.pml"

for ev in "" -DEVIDX; do
	ps="1 2 3"
	[ -z "$ev" ] || ps="1 3" # CI time: each spin run is a compile
	for p in $ps; do
		echo "-- the protocol ${ev:-(flags)}, $p buffers"
		t_spin_verify -DP=$p $ev
		t_grep "P=$p $ev: no lost wake-up" 'errors: 0$' out.txt
		t_check "P=$p $ev: search completed" \
			bash -c '! grep -q "Search not completed" out.txt'
	done
	for b in BROKEN_NO_RECHECK BROKEN_NO_BARRIER BROKEN_NO_L2 \
		BROKEN_NO_CTL_WAKE ${ev:+BROKEN_AE_BEHIND}; do
		echo "-- $b $ev"
		lost_wakeup "$b $ev" avail last asleep -D$b $ev
	done
done

cp "$VMPATH_SRC/tests/vnet/vnet_evidx_call.pml" model.pml
for q in 6 9; do # both wrap the indexes (modulo 4)
	echo "-- guest calls under EVENT_IDX, $q used entries"
	t_spin_verify -DQ=$q
	t_grep "calls Q=$q: no lost interrupt" 'errors: 0$' out.txt
	t_check "calls Q=$q: search completed" \
		bash -c '! grep -q "Search not completed" out.txt'
done
for b in BROKEN_NO_CALL_BARRIER BROKEN_WRAP; do
	echo "-- $b"
	lost_wakeup "$b" nused seen gasleep -D$b
done
t_done
