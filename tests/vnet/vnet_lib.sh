# SPDX-License-Identifier: BSD-3-Clause
# Helpers shared by tests/vnet scripts (source after tests/lib.sh).

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
# datapath, explains a low Mpps. wticks PID other: the ticks of its other
# threads (main lcore, rte_vhost's, ...) instead.
wticks() {
	local t n=0 w
	for t in /proc/$1/task/*; do
		case "$(cat $t/comm 2>/dev/null)" in
		rte-worker-*) w=1 ;;
		*) w=0 ;;
		esac
		[ "${2:-}" = other ] && w=$((1 - w))
		[ $w = 1 ] && n=$((n + $(awk '{print $14 + $15}' $t/stat 2>/dev/null || echo 0)))
	done
	echo $n
}

# need_tun: exits 77 (SKIP) unless this is root with /dev/net/tun; PING is
# then the ping command to use (busybox's where there is one).
need_tun() {
	if [ "$(id -u)" != 0 ] || [ ! -c /dev/net/tun ]; then
		echo "SKIP: needs root and /dev/net/tun"
		exit 77
	fi
	PING=(busybox ping)
	command -v busybox >/dev/null || PING=(ping)
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

# The test guest's RAM: 256 MiB + 128 KiB. QEMU before 9.0 (Debian 12 has
# 7.2) with TCG loses guest CPU writes during migration when a RAM block's
# size is a multiple of 64 pages: the bitmap sync's word-at-a-time path
# clears the migration dirty bits without resetting the TCG TLB entries that
# skip dirty tracking (include/exec/ram_addr.h
# cpu_physical_memory_sync_dirty_bitmap; fixed upstream by 03bfc2188f,
# "physmem: Fix migration dirty bitmap coherency with TCG memory access").
# The page-at-a-time path this size takes resets them. KVM guests track
# dirty pages in the kernel and are not affected. One size for every test
# guest, so the tests that migrate and the others boot the same machine.
QG_KB=${VNET_GUEST_KB:-262272}

# qemu_guest_cmd APPEND CHARDEV DEVICE [MACHINE]: the QEMU command line of the
# TCG test guest (kernel and initramfs from guest_initramfs) in the array QG:
# kernel arguments APPEND after the console ones, RAM in a shared memfd (the
# vhost-user backend maps it), one virtio-net-pci device on a vhost-user
# chardev (CHARDEV: its options after id=, e.g. path=SOCK) with DEVICE added
# to its options (mac=..., ...). MACHINE: a machine type (default QEMU's).
# Run it as: timeout ... "${QG[@]}" [more args] </dev/null >log 2>&1
qemu_guest_cmd() {
	QG=(qemu-system-x86_64 -accel tcg -m "${QG_KB}K" -nographic -no-reboot
		-kernel "$G/vmlinuz" -initrd "$T_TMP/initramfs.gz"
		-append "console=ttyS0 quiet panic=-1 $1"
		-object "memory-backend-memfd,id=mem,size=${QG_KB}K,share=on"
		-machine "${4:+$4,}memory-backend=mem"
		-chardev "socket,id=c0,$2" -netdev vhost-user,id=n0,chardev=c0
		-device "virtio-net-pci,netdev=n0,vectors=0,romfile=,$3")
}

# median: the median of the numbers on stdin, one a line ("-" if none).
median() { sort -g | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "-"}'; }

# loop_start READY: the loop load of the benchmarks. ONE dpdk-testpmd with two
# net_virtio_user ports on $T_TMP/a.sock and b.sock (MACs 02:..:a1, 02:..:b1),
# io forwarding, each port's frames addressed to the other port's MAC. Once
# the command READY succeeds (both frontends connected: packets sent before
# both vrings run would be lost to the loop), `start tx_first 8` puts 2 x 256
# packets in the loop a -> switch -> b -> testpmd -> a ..., where none is
# dropped, so the rate is set by the two spinning threads (testpmd's
# forwarding lcore and the switch's datapath lcore), one per CPU. Its prompt
# reads the fifo held on fd 9; pid in LOOP. Uses LOGS, and LOOP_LCORES for
# its EAL --lcores (default: both lcores on CPUs 0-1; lcore 0 forwards);
# returns 1 if READY never succeeded (40 s).
loop_start() {
	rm -f l.fifo && mkfifo l.fifo && exec 9<>l.fifo
	dpdk-testpmd --lcores "${LOOP_LCORES:-0@(0-1),1@(0-1)}" --main-lcore 1 \
		--no-pci --no-huge -m 512 --file-prefix=vmpt-loop-$$ "${LOGS[@]}" \
		--vdev "net_virtio_user0,path=$T_TMP/a.sock,queues=1,queue_size=1024,mac=02:00:00:00:00:a1" \
		--vdev "net_virtio_user1,path=$T_TMP/b.sock,queues=1,queue_size=1024,mac=02:00:00:00:00:b1" \
		-- -i --forward-mode=io --txpkts=64 \
		--eth-peer=0,02:00:00:00:00:b1 --eth-peer=1,02:00:00:00:00:a1 \
		--total-num-mbufs=16384 --no-mlockall <&9 >loop.log 2>&1 &
	LOOP=$!
	T_PIDS+=("$LOOP")
	t_wait_for "$1" 40 || return 1
	echo "start tx_first 8" >&9
	sleep 2
}

# loop_pps SECS: LOOP_PPS = the loop's rate in Mpps, Rx-pps summed over both
# ports, median of SECS one-second samples. testpmd's Rx-pps covers the time
# since the previous `show port stats`: the first pair of each call covers
# what came before and is dropped.
loop_pps() {
	local i n0
	n0=$(grep -ac "Rx-pps" loop.log)
	for ((i = 0; i <= $1; i++)); do
		echo "show port stats all" >&9
		sleep 1
	done
	LOOP_PPS=$(grep -a "Rx-pps" loop.log | tail -n +$((n0 + 3)) |
		awk '{s += $2} NR % 2 == 0 {print s; s = 0}' |
		tail -n "$1" | median | awk '{printf "%.3f", $1 / 1e6}')
}

# loop_stop: quit the loop's testpmd, close its fifo.
loop_stop() {
	echo quit >&9
	kill -INT "$LOOP" 2>/dev/null
	t_wait_pid "$LOOP" 20
	exec 9>&-
}
