#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The PV halt/kick handshakes of lib/pvlock, model-checked by spin: the real
# protocol (queued lock PV on and off, ticket lock) has no lost wake-up and
# keeps mutual exclusion; each deliberately broken variant is shown to fail:
# no membarrier or no re-check before halting loses a wake-up, and so does a
# ticket unlocker that looks for the waiter among EAL lcores only (missing a
# registered thread) or a waiter that joins the halted set too late; a plain store
# taking the locked byte (Q3, Q5', Q7) against the byte-CAS fast path gives
# the lock two owners; a stealer that skips the steal budget (B1) lets the
# queue head wait through more acquisitions than the starvation bound, and
# a head that defers to stealers (L4) without a new steal defers unbounded.
. "$VMPATH_SRC/tests/lib.sh"

t_spin_model "$VMPATH_SRC/tests/pvlock/pvlock_halt.pml"

# broken "what spin must find" "pattern in out.txt" "pattern in the trail"
broken() {
	local what=$1 out=$2 trail=$3 b
	shift 3
	b="$*"
	echo "-- $lock lock: $b"
	t_spin_verify "${d[@]}" "$@"
	t_grep "$lock $b: spin finds an error" 'errors: [1-9]' out.txt
	t_grep "$lock $b: it is $what" "$out" out.txt
	# replay the counterexample: its last step shows the error
	spin "${d[@]}" "$@" -t -g model.pml >trail.txt 2>&1
	t_grep "$lock $b: trail ends with $what" "$trail" trail.txt
}

for lock in queue pvoff ticket; do
	d=()
	[ "$lock" = ticket ] && d=(-DTICKET)
	[ "$lock" = pvoff ] && d=(-DPVOFF)
	echo "-- $lock lock: the protocol"
	t_spin_verify "${d[@]}"
	t_grep "$lock: no lost wake-up, no exclusion violation" \
		'errors: 0$' out.txt
	t_check "$lock: search completed" \
		bash -c '! grep -q "Search not completed" out.txt'
	if [ "$lock" != pvoff ]; then
		lost=(BROKEN_NO_MEMBARRIER BROKEN_NO_RECHECK)
		[ "$lock" = ticket ] && lost+=(BROKEN_EAL_SCAN BROKEN_HSET_LATE)
		for b in "${lost[@]}"; do
			broken "a lost wake-up (waiter asleep)" \
				'invalid end state' 'sleeping\[[0-3]\] = 1' -D$b
		done
	fi
	# the byte-CAS fast path (Q0) against a plain store taking the byte
	case $lock in
	queue) stores=(BROKEN_Q5_STORE) ;;
	pvoff) stores=(BROKEN_Q3_STORE BROKEN_Q7_STORE) ;;
	*) stores=() ;;
	esac
	for b in "${stores[@]}"; do
		broken "two owners (mutual exclusion)" \
			'assertion violated' 'assertion violated' -D$b
	done
	# a stealer that ignores the budget starves the queue head
	if [ "$lock" = queue ]; then
		broken "a head starved past the steal bound" \
			'assertion violated' 'failed assertion: assert\(\(byp' \
			-DBROKEN_NO_BUDGET
		broken "a head deferring past the budget" \
			'assertion violated' 'failed assertion: assert\(\(defers' \
			-DBROKEN_DEFER_IDLE
	fi
done
t_done
