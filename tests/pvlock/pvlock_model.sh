#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The PV halt/kick handshakes of lib/pvlock, model-checked by spin: the real
# protocol (queued and ticket lock) has no lost wake-up and keeps mutual
# exclusion; each deliberately broken variant (no membarrier, no re-check
# before halting) is shown to lose a wake-up.
. "$VMPATH_SRC/tests/lib.sh"

if ! command -v spin >/dev/null || ! command -v cc >/dev/null; then
	echo "spin or cc missing (usertools/vmpath-setup installs spin): skip"
	exit 77
fi
cd "$T_TMP"
cp "$VMPATH_SRC/tests/pvlock/pvlock_halt.pml" model.pml

# verify "defines...": run spin's verifier, output in out.txt
verify() {
	rm -f pan pan.* model.pml.trail
	spin "$@" -a model.pml >spin.txt 2>&1 || { cat spin.txt; return 1; }
	cc -O2 -DSAFETY -o pan pan.c 2>cc.txt || { cat cc.txt; return 1; }
	./pan -m200000 >out.txt 2>&1
	grep -E 'errors:|states, stored' out.txt | sed 's/^/       /'
}

for lock in queue ticket; do
	d=()
	[ "$lock" = ticket ] && d=(-DTICKET)
	echo "-- $lock lock: the protocol"
	verify "${d[@]}"
	t_grep "$lock: no lost wake-up, no exclusion violation" \
		'errors: 0$' out.txt
	t_check "$lock: search completed" \
		bash -c '! grep -q "Search not completed" out.txt'
	for broken in BROKEN_NO_MEMBARRIER BROKEN_NO_RECHECK; do
		echo "-- $lock lock: $broken"
		verify "${d[@]}" -D$broken
		t_grep "$lock $broken: spin finds an error" \
			'errors: [1-9]' out.txt
		t_grep "$lock $broken: it is a lost wake-up (waiter asleep)" \
			'invalid end state' out.txt
		# replay the counterexample: the last step leaves a sleeper
		spin "${d[@]}" -D$broken -t -g model.pml >trail.txt 2>&1
		t_grep "$lock $broken: trail ends with a waiter asleep" \
			'sleeping\[[0-2]\] = 1' trail.txt
	done
done
t_done
