# SPDX-License-Identifier: BSD-3-Clause
# Helpers shared by tests/ctl scripts (source after tests/lib.sh).
CTL="$VMPATH_SRC/usertools/vmpathctl"
# the system python: a python3 found first on root's PATH may be a shim that
# takes seconds to start on a loaded machine, or sits where other users
# cannot read it
PY=/usr/bin/python3

# ctl ARGS...: vmpathctl on this test's control socket ($CTLSOCK).
ctl() { timeout 60 $PY "$CTL" --socket "$CTLSOCK" "$@"; }

# start_vmpath NAME [vmpath args...]: ports a.sock and b.sock, the control
# socket at $CTLSOCK; pid in SW, file prefix in SWP. SW_LCORES: its EAL
# --lcores (default: main lcore 0 and datapath lcore 1, both on CPUs 0-1).
start_vmpath() {
	SWP=vmpt-ctl-$1-$$
	CTLSOCK="$T_TMP/run/vmpath.sock"
	"$VMPATH" --lcores "${SW_LCORES:-0@(0-1),1@(0-1)}" --no-pci --no-huge -m 512 \
		--iova-mode=va --file-prefix=$SWP "${LOGS[@]}" -- \
		--vhost "$T_TMP/a.sock" --vhost "$T_TMP/b.sock" \
		--ctl "$CTLSOCK" "${@:2}" >sw-$1.log 2>&1 &
	SW=$!
	T_PIDS+=("$SW")
	t_wait_for "test -S $CTLSOCK" 30 || t_bad "vmpath $1 did not start"
}

stop_vmpath() {
	kill -TERM "$SW"
	t_wait_pid "$SW" 30
	t_check "vmpath exits 0 (got $T_RC)" test "$T_RC" -eq 0
}

# port_up ID: port_list shows it with a frontend connected
port_up() {
	ctl --json port-list | $PY -c "import json,sys
p=[x for x in json.load(sys.stdin) if x['id']==$1]
sys.exit(0 if p and p[0]['state']=='up' else 1)"
}

# mem_state: DPDK heap in use (bytes, allocations) and the switch pool's
# mbufs in use, one line
mem_state() {
	ctl --json memory | $PY -c 'import json,sys
d=json.load(sys.stdin)
print("heap", d["heap_alloc_bytes"], d["heap_alloc_count"], "mbufs", d["mbufs_in_use"])'
}

# mem_same "$MEM0" "$MEM1": the same allocations and mbufs in use. DPDK's
# heap_alloc_bytes is the heap's size minus its free elements, so an element's
# alignment pad and an unsplit tail too small to be free count as allocated:
# the same allocations placed elsewhere can differ by tens of bytes (seen: +64
# with the same count). Counts must be equal; bytes within one 4 KiB page.
mem_same() {
	local b0 c0 m0 b1 c1 m1 d
	read -r _ b0 c0 _ m0 <<<"$1"
	read -r _ b1 c1 _ m1 <<<"$2"
	[ -n "$b0" ] && [ -n "$b1" ] || return 1
	d=$((b1 > b0 ? b1 - b0 : b0 - b1))
	[ "$c0" = "$c1" ] && [ "$m0" = "$m1" ] && [ "$d" -lt 4096 ]
}
