# SPDX-License-Identifier: BSD-3-Clause
# Helpers shared by tests/vnet scripts (source after tests/lib.sh).

# tel PREFIX CMD: one telemetry request to the DPDK process with
# --file-prefix PREFIX; its JSON answer on stdout.
tel() {
	echo "$2" | timeout 20 dpdk-telemetry.py -f "$1" 2>/dev/null
}

# start_icmpecho SOCK PREFIX: dpdk-testpmd answering ARP and ICMP echo on a
# net_virtio_user port (MAC 02:00:00:00:00:b1) at SOCK; pid in TP.
start_icmpecho() {
	dpdk-testpmd -l 0-1 --main-lcore 1 --no-pci --no-huge -m 512 \
		--file-prefix="$2" "${LOGS[@]}" \
		--vdev "net_virtio_user0,path=$1,queues=1,mac=02:00:00:00:00:b1" \
		-- --forward-mode=icmpecho --total-num-mbufs=8192 \
		--stats-period 100 -a --no-mlockall </dev/null >tp.log 2>&1 &
	TP=$!
	T_PIDS+=("$TP")
}

# wticks PID: CPU ticks (utime + stime) used so far by PID's rte-worker-*
# threads (its forwarding lcore). Sampled over a run, it shows how much of a
# core each side really got: on a shared machine a low share, not the
# datapath, explains a low Mpps.
wticks() {
	local t n=0
	for t in /proc/$1/task/*; do
		case "$(cat $t/comm 2>/dev/null)" in
		rte-worker-*) n=$((n + $(awk '{print $14 + $15}' $t/stat))) ;;
		esac
	done
	echo $n
}

# guest_initramfs [NEEDS_TAP]: the QEMU test guest's kernel in $G and its own
# initramfs in $T_TMP/initramfs.gz (usertools/vmpath-guest, whatever version
# another tree cached); exits 77 (SKIP) if QEMU or the guest is missing, or
# with NEEDS_TAP=tap if this is not root with /dev/net/tun.
guest_initramfs() {
	G=${VMPATH_CACHE:-/var/cache/vmpath}/guest
	if ! command -v qemu-system-x86_64 >/dev/null || [ ! -f "$G/vmlinuz" ]; then
		echo "SKIP: qemu-system-x86_64 or the guest (usertools/vmpath-guest) missing"
		exit 77
	fi
	if [ "${1:-}" = tap ] &&
		{ [ "$(id -u)" != 0 ] || [ ! -c /dev/net/tun ]; }; then
		echo "SKIP: needs root and /dev/net/tun"
		exit 77
	fi
	"$VMPATH_SRC/usertools/vmpath-guest" --initramfs "$T_TMP/initramfs.gz" \
		>/dev/null 2>"$T_TMP/guest-build.log" || {
		echo "SKIP: cannot build the guest's initramfs"
		exit 77
	}
}
