# SPDX-License-Identifier: BSD-3-Clause
# Helpers for vmpath's integration scripts (bash). Source it.
#   VMPATH_BUILD  build directory (meson sets it)
#   VMPATH_SRC    source directory
#   VMPATH_KEEP_TMP  if set: keep the temp dir (the processes' logs), print its path
set -u
: "${VMPATH_BUILD:?run through meson test, or set VMPATH_BUILD}"
VMPATH="$VMPATH_BUILD/app/vmpath/vmpath"
VMPATH_TEST="$VMPATH_BUILD/tests/vmpath-test"
T_PASS=0
T_FAIL=0
T_TMP=$(mktemp -d /tmp/vmpt.XXXXXX)
T_PIDS=()

t_cleanup() {
	local p
	for p in "${T_PIDS[@]}"; do
		# the children first: a `timeout ... qemu` killed alone leaves
		# QEMU running for the rest of a CI run
		pkill -KILL -P "$p" 2>/dev/null || true
		kill -KILL "$p" 2>/dev/null || true
	done
	if [ -n "${VMPATH_KEEP_TMP:-}" ]; then
		echo "kept $T_TMP"
	else
		rm -rf "$T_TMP"
	fi
	# EAL runtime dirs of the prefixes this script made (they end in $$)
	rm -rf /var/run/dpdk/*-"$$" 2>/dev/null || true
}
trap t_cleanup EXIT

# Each result line carries the script's elapsed seconds, so a slow step shows
# in the log of the run that was slow.
t_ok() { T_PASS=$((T_PASS + 1)); echo "  ok   [${SECONDS}s] $*"; }
t_note() { echo "  ..   [${SECONDS}s] $*"; }
t_bad() { T_FAIL=$((T_FAIL + 1)); echo "  FAIL [${SECONDS}s] $*"; }

# t_check "what" cond...: run the condition, count the result.
t_check() {
	local what=$1
	shift
	if "$@"; then t_ok "$what"; else t_bad "$what"; fi
}

# t_grep "what" pattern file
t_grep() {
	if grep -qE -- "$2" "$3"; then
		t_ok "$1"
	else
		t_bad "$1: /$2/ not in $3:"
		sed 's/^/       | /' "$3" | tail -n 20
	fi
}

# t_wait_for cond_cmd timeout_s: poll until the command succeeds.
t_wait_for() {
	local i n=$(($2 * 10))
	for ((i = 0; i < n; i++)); do
		if eval "$1"; then return 0; fi
		sleep 0.1
	done
	return 1
}

# tel file_prefix command: one telemetry request to the DPDK process with
# that --file-prefix; its JSON answer on stdout.
tel() {
	echo "$2" | timeout 20 dpdk-telemetry.py -f "$1" 2>/dev/null
}

# t_tel_ready file_prefix command timeout_s: wait until the process answers
# its own telemetry command with data. The socket appears during EAL init;
# vmpath registers its commands later (some after the guest is set up), and
# until then DPDK answers `null`.
t_tel_ready() {
	t_wait_for "tel '$1' '$2' | grep -qF '\"$2\": {'" "$3"
}

# t_wait_pid pid timeout_s: wait for a background child to exit; its status
# lands in T_RC (124 on timeout). Not in $(...): wait needs the parent shell.
t_wait_pid() {
	local i n=$(($2 * 10))
	T_RC=124
	for ((i = 0; i < n; i++)); do
		if ! kill -0 "$1" 2>/dev/null; then
			wait "$1"
			T_RC=$?
			return 0
		fi
		sleep 0.1
	done
}

# t_tail file [n]: the last n (20) lines of a log, indented, for a failure's
# context (the switch's or a peer's own account of what it saw).
t_tail() {
	echo "  --   ${1##*/} (last ${2:-20} lines):"
	sed 's/^/       | /' "$1" 2>/dev/null | tail -n "${2:-20}"
}

t_done() {
	echo "$T_PASS passed, $T_FAIL failed"
	[ "$T_FAIL" -eq 0 ]
}

# t_spin_model FILE.pml: model-check scripts start here: skip (77) without
# spin or cc, else cd to $T_TMP with FILE copied to model.pml
t_spin_model() {
	if ! command -v spin >/dev/null || ! command -v cc >/dev/null; then
		echo "spin or cc missing (usertools/vmpath-setup installs spin): skip"
		exit 77
	fi
	cd "$T_TMP" && cp "$1" model.pml
}

# t_spin_verify "defines...": run spin's verifier on model.pml, output in
# out.txt
t_spin_verify() {
	rm -f pan pan.* model.pml.trail
	spin "$@" -a model.pml >spin.txt 2>&1 || { cat spin.txt; return 1; }
	cc -O2 -DSAFETY -o pan pan.c 2>cc.txt || { cat cc.txt; return 1; }
	./pan -m200000 >out.txt 2>&1
	grep -E 'errors:|states, stored' out.txt | sed 's/^/       /'
}
