#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Model-check lib/workpool's halt/kick handshake (workpool_halt.pml) with
# spin: the protocol as built must have no lost wake-up, no double handling
# and no needless kick; two broken variants (no seq_cst fences, no re-check
# after publishing HALTED) must be caught, which shows the model can fail.
. "$VMPATH_SRC/tests/lib.sh"

if ! command -v spin >/dev/null || ! command -v cc >/dev/null; then
	echo "spin or cc missing (usertools/vmpath-setup installs spin): skip"
	exit 77
fi
cd "$T_TMP"
cp "$VMPATH_SRC/tests/workpool/workpool_halt.pml" .

# run_model "defines": prints pan's output to pan.out
run_model() {
	rm -f pan pan.* ./*.trail
	spin -a "$@" workpool_halt.pml >spin.out 2>&1 &&
		cc -O2 -w -o pan pan.c >>spin.out 2>&1 &&
		./pan -m100000 >pan.out 2>&1
	cat spin.out >>pan.out
}

for n in 2 4 6; do
	echo "-- protocol as built, $n requests"
	run_model -DNREQ=$n
	t_grep "NREQ=$n: errors: 0" "errors: 0" pan.out
	t_check "NREQ=$n: no invalid end state" \
		bash -c '! grep -q "invalid end state (" pan.out'
	grep -E "states, stored" pan.out | sed 's/^/     /'
done

echo "-- without the seq_cst fences F_W / F_S (store-buffer reordering)"
run_model -DNO_FENCE
t_grep "NO_FENCE: lost wake-up found" "invalid end state \(" pan.out

echo "-- without the re-check W2 after W1"
run_model -DNO_RECHECK
t_grep "NO_RECHECK: lost wake-up found" "invalid end state \(" pan.out

t_done
