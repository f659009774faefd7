#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A real Linux guest (QEMU 7.2, TCG) whose virtio-net driver pings through
# the vmpath switch to a second peer (dpdk-testpmd net_virtio_user,
# --forward-mode=icmpecho). The switch copies with DMA (dma_skeleton,
# threshold 64 B so pings go to the engine) unless VNET_QEMU_DMA=none.
# Kernel and initramfs: usertools/vmpath-guest (run by vmpath-setup).
# Argument "halt": the switch runs --idle halt (its datapath lcore sleeps
# between the pings, woken by the guest's kicks; vnet_qemu_halt). Without
# it, both ports and the guest (QEMU host_mtu, VIRTIO_NET_F_MTU) have MTU
# 9000, and the guest also pings with 8972-byte payloads: jumbo frames both
# ways, through mergeable RX buffers and chained mbufs.
# The guest negotiates VIRTIO_RING_F_EVENT_IDX (Linux always offers it):
# while it pings, a third port (vnet-peer) sends it a burst of frames it
# drops, so that its NAPI polls with interrupts off and the switch has
# calls to suppress (used_event not crossed); both counts are printed.
# VNET_QEMU_EVENT_IDX=off: QEMU withholds it (virtio-net-pci event_idx=off),
# the flags form runs instead (the anchor of the calls-per-packet count).
. "$VMPATH_SRC/tests/lib.sh"
. "$VMPATH_SRC/tests/vnet/vnet_lib.sh"
cd "$T_TMP"
guest_initramfs
dma=${VNET_QEMU_DMA:-skeleton}
idle=()
evidx=${VNET_QEMU_EVENT_IDX:-on}
mtu=,mtu=9000 host_mtu=,host_mtu=9000 big=" vmp.pingsize=8972"
[ "${1:-}" = halt ] && idle=(--idle halt --idle-polls 100) && mtu= &&
	host_mtu= && big=
LOGS=(--log-level=lib.eal:error --log-level=lib.vhost.config:warning)
P=vmpt-vq-$$
"$VMPATH" -l 0-1 --no-pci --no-huge -m 256 --iova-mode=va --file-prefix=$P \
	"${LOGS[@]}" -- --vhost "$T_TMP/vm.sock$mtu" --vhost "$T_TMP/peer.sock$mtu" \
	--vhost "$T_TMP/burst.sock" \
	--dma "$dma" --dma-threshold 64 "${idle[@]}" >sw.log 2>&1 &
SW=$!
T_PIDS+=("$SW")
t_wait_for "test -S $T_TMP/peer.sock" 30
start_icmpecho "$T_TMP/peer.sock" $P-tp
sleep 2
# Once the guest's eth0 is up: 1000 frames to its MAC (ethertype 0x88b5,
# dropped by its stack), one every 0..200 us (each its own publication, so
# each its own call decision); nothing comes back (vnet-peer's verdict is
# ignored).
(
	t_wait_for "grep -q 'VMP-GUEST-STEP: .* eth0 up' qemu.log" 200 ||
		exit 0
	timeout 30 "$VMPATH_BUILD/tests/vnet/vnet-peer" -l 0 --no-pci \
		--no-huge -m 256 --file-prefix=$P-burst "${LOGS[@]}" \
		--vdev "net_virtio_user0,path=$T_TMP/burst.sock,queues=1,mac=02:00:00:00:00:c1" \
		-- --dst 52:54:00:00:00:02 --count 1000 --window 1000 \
		--gap-us 200 --timeout 3 --stall 2 >burst.log 2>&1
	echo "burst rc $?" >>burst.log
) &
T_PIDS+=("$!")
t_note "switch and peer started; QEMU boots the guest"
# -k: QEMU blocked in a vhost-user exchange does not act on SIGTERM.
qemu_guest_cmd "vmp.ip=10.99.0.2/24 vmp.ping=10.99.0.3$big" "path=$T_TMP/vm.sock" \
	"mac=52:54:00:00:00:02$host_mtu,event_idx=$evidx"
timeout -k 10 240 "${QG[@]}" </dev/null >qemu.log 2>&1
rc=$?
t_check "QEMU guest ran and powered off (rc $rc)" test $rc -eq 0
t_grep "guest negotiated with the switch" "vm.sock: device running" sw.log
t_grep "guest pinged the peer through the switch, 5 of 5" \
	"VMP-GUEST-PING: 5 of 5" qemu.log
if [ -n "$big" ]; then
	t_grep "guest took MTU 9000 from the device (NET_SET_MTU accepted)" \
		"VMP-GUEST-MTU: 9000" qemu.log
	t_grep "jumbo pings (9014-byte frames) answered, 3 of 3" \
		"VMP-GUEST-PING-BIG: 3 of 3" qemu.log
	tel $P /vmpath/ports >ports.json
	t_grep "switch saw the guest's MTU" '"0": \{[^}]*"guest_mtu": 9000' \
		ports.json
fi
tel $P /vmpath/port_stats,0 >ps.json
if [ "$dma" != none ]; then
	t_grep "guest RX copies went to the DMA engine" \
		'"vring0": \{[^}]*"dma_copies": [1-9]' ps.json
fi
t_grep "guest was interrupted (it asked to be)" \
	'"vring0": \{[^}]*"notify": [1-9]' ps.json
# Linux's virtio_net always offers VIRTIO_RING_F_EVENT_IDX (bit 29): calls
# then follow the guest's used_event, kicks our avail_event.
feat=$(sed -n 's/.*vm\.sock: device running (vid [0-9]*), features \(0x[0-9a-f]*\).*/\1/p' \
	sw.log | tail -n 1)
want=1
[ "$evidx" = on ] || want=0
t_check "guest negotiated EVENT_IDX: $evidx (features ${feat:-none}, bit 29)" \
	test $(((${feat:-0} >> 29) & 1)) -eq $want
sup=$(grep -o '"notify_suppressed": [0-9]*' ps.json | awk '{s += $2} END {print s + 0}')
sent=$(grep -o '"notify": [0-9]*' ps.json | awk '{s += $2} END {print s + 0}')
v0=$(grep -o '"vring0": {[^}]*}' ps.json)
f0() { echo "$v0" | grep -o "\"$1\": [0-9]*" | grep -o '[0-9]*$'; }
echo "guest notifications: sent $sent, suppressed by used_event $sup;" \
	"guest RX vring: $(f0 packets) packets, $(f0 notify) calls," \
	"$(f0 notify_suppressed) suppressed"
if [ "$evidx" = on ]; then
	t_check "used_event suppressed guest notifications ($sup)" \
		test "$sup" -gt 0
fi
if [ ${#idle[@]} -gt 0 ]; then
	tel $P /vmpath/idle >idle.json
	t_grep "halt: the datapath lcore slept and guest kicks woke it" \
		'"sleeps": [1-9].*"wake_kick": [1-9]' idle.json
fi
kill -INT "$TP"
t_wait_pid "$TP" 20
kill -TERM "$SW"
t_wait_pid "$SW" 30
t_check "switch exits 0 (got $T_RC)" test "$T_RC" -eq 0
if [ "$T_FAIL" -ne 0 ]; then
	t_tail qemu.log 40
	t_tail sw.log 40
	t_tail tp.log 10
fi
t_done
