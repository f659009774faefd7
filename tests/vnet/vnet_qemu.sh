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
. "$VMPATH_SRC/tests/lib.sh"
. "$VMPATH_SRC/tests/vnet/vnet_lib.sh"
cd "$T_TMP"
guest_initramfs
dma=${VNET_QEMU_DMA:-skeleton}
idle=()
mtu=,mtu=9000 host_mtu=,host_mtu=9000 big=" vmp.pingsize=8972"
[ "${1:-}" = halt ] && idle=(--idle halt --idle-polls 100) && mtu= &&
	host_mtu= && big=
LOGS=(--log-level=lib.eal:error --log-level=lib.vhost.config:warning)
P=vmpt-vq-$$
"$VMPATH" -l 0-1 --no-pci --no-huge -m 256 --iova-mode=va --file-prefix=$P \
	"${LOGS[@]}" -- --vhost "$T_TMP/vm.sock$mtu" --vhost "$T_TMP/peer.sock$mtu" \
	--dma "$dma" --dma-threshold 64 "${idle[@]}" >sw.log 2>&1 &
SW=$!
T_PIDS+=("$SW")
t_wait_for "test -S $T_TMP/peer.sock" 30
start_icmpecho "$T_TMP/peer.sock" $P-tp
sleep 2
t_note "switch and peer started; QEMU boots the guest"
# -k: QEMU blocked in a vhost-user exchange does not act on SIGTERM.
timeout -k 10 240 qemu-system-x86_64 -accel tcg -m 256 -nographic -no-reboot \
	-kernel "$G/vmlinuz" -initrd "$T_TMP/initramfs.gz" \
	-append "console=ttyS0 quiet panic=-1 vmp.ip=10.99.0.2/24 vmp.ping=10.99.0.3$big" \
	-object memory-backend-memfd,id=mem,size=256M,share=on \
	-machine memory-backend=mem \
	-chardev socket,id=c0,path="$T_TMP/vm.sock" \
	-netdev vhost-user,id=n0,chardev=c0 \
	-device virtio-net-pci,netdev=n0,vectors=0,romfile=,mac=52:54:00:00:00:02$host_mtu \
	</dev/null >qemu.log 2>&1
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
	echo /vmpath/ports | timeout 20 dpdk-telemetry.py -f $P >ports.json 2>&1
	t_grep "switch saw the guest's MTU" '"0": \{[^}]*"guest_mtu": 9000' \
		ports.json
fi
echo /vmpath/port_stats,0 | timeout 20 dpdk-telemetry.py -f $P >ps.json 2>&1
if [ "$dma" != none ]; then
	t_grep "guest RX copies went to the DMA engine" \
		'"vring0": \{[^}]*"dma_copies": [1-9]' ps.json
fi
t_grep "guest was interrupted (it asked to be)" \
	'"vring0": \{[^}]*"notify": [1-9]' ps.json
if [ ${#idle[@]} -gt 0 ]; then
	echo /vmpath/idle | timeout 20 dpdk-telemetry.py -f $P >idle.json 2>&1
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
