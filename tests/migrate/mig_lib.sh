# SPDX-License-Identifier: BSD-3-Clause
# Helpers for the migration integration scripts: two real vmpath processes.
. "$VMPATH_SRC/tests/lib.sh"
MIGWIRE="$VMPATH_SRC/tests/migrate/migwire.py"
# 2 cores shared by everyone: lcores float over both; the datapath role off.
EAL_SRC=(--lcores '0@0,(1-5)@(0-1)' --no-pci --no-huge -m 128
	--log-level=lib.eal:error)
EAL_DST=(--lcores '0@0,(1-4)@(0-1)' --no-pci --no-huge -m 128
	--log-level=lib.eal:error)
# a port per test run
PORT=$((20000 + ($$ * 7) % 30000))
cd "$T_TMP"

# m_dest NAME ARGS...: destination in the background, output in NAME.log;
# no `timeout` wrapper: M_PID must be vmpath itself (tests kill it)
m_dest() {
	local name=$1
	shift
	"$VMPATH" "${EAL_DST[@]}" --file-prefix=vmpt-$name-$$ -- \
		--datapath-lcores 0 --run-time 200 --migrate-exit "$@" \
		>"$name.log" 2>&1 &
	M_PID=$!
	T_PIDS+=("$M_PID")
	t_wait_for "grep -q 'waiting for a migration' $name.log 2>/dev/null" 30
}

# m_src NAME ARGS...: source in the background; stdin from $M_IN if set
# (a background command's stdin is /dev/null unless redirected on it)
m_src() {
	local name=$1
	shift
	"$VMPATH" "${EAL_SRC[@]}" --file-prefix=vmpt-$name-$$ -- \
		--datapath-lcores 0 --run-time 200 "$@" <"${M_IN:-/dev/null}" \
		>"$name.log" 2>&1 &
	M_PID=$!
	T_PIDS+=("$M_PID")
}

# m_field FILE "name": value of an `info migrate` line (first number)
m_field() {
	grep -E "^$2: " "$1" | tail -n 1 | grep -oE '[0-9]+' | head -n 1
}
