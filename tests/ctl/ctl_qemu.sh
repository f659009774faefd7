#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A real Linux guest (QEMU 7.2, TCG) on a port added at run time with
# vmpathctl: it boots, pings a dpdk-testpmd icmpecho peer on the port vmpath
# started with, powers off, and the port is removed. Kernel and initramfs:
# usertools/vmpath-guest (run by vmpath-setup).
. "$VMPATH_SRC/tests/lib.sh"
. "$VMPATH_SRC/tests/vnet/vnet_lib.sh"
. "$VMPATH_SRC/tests/ctl/ctl_lib.sh"
cd "$T_TMP"
guest_initramfs
LOGS=(--log-level=lib.eal:error --log-level=lib.vhost.config:warning)
SWP=vmpt-ctlq-$$
CTLSOCK="$T_TMP/run/vmpath.sock"
"$VMPATH" -l 0-1 --no-pci --no-huge -m 256 --iova-mode=va --file-prefix=$SWP \
	"${LOGS[@]}" -- --vhost "$T_TMP/peer.sock" --ctl "$CTLSOCK" >sw.log 2>&1 &
SW=$!
T_PIDS+=("$SW")
t_wait_for "test -S $CTLSOCK" 30 || t_bad "vmpath did not start"
start_icmpecho "$T_TMP/peer.sock" $SWP-tp
t_wait_for "port_up 0" 40 || t_bad "the icmpecho peer did not attach"
ID=$(ctl port-add "$T_TMP/vm.sock" --mac 52:54:00:00:00:02 | awk '{print $2}')
t_check "port-add of the guest's port gives port 1 (got '$ID')" test "$ID" = 1
t_note "QEMU boots the guest"
qemu_guest_cmd "vmp.ip=10.99.0.2/24 vmp.ping=10.99.0.3" "path=$T_TMP/vm.sock" \
	mac=52:54:00:00:00:02
timeout -k 10 240 "${QG[@]}" </dev/null >qemu.log 2>&1
rc=$?
t_check "QEMU guest ran and powered off (rc $rc)" test $rc -eq 0
t_grep "the guest negotiated with the run-time port" "vm.sock: device running" sw.log
t_grep "the guest pinged the peer through the switch, 5 of 5" \
	"VMP-GUEST-PING: 5 of 5" qemu.log
ctl port-stats 1 >ps1.txt
t_grep "port 1 counted the guest's packets" "from-vm [1-9][0-9]* pkts" ps1.txt
ctl port-del 1 >del.txt
t_grep "port-del 1" "port 1 removed" del.txt
ctl port-list >list.txt
t_check "only port 0 is left" test "$(grep -cE '^ +[0-9]+ ' list.txt)" -eq 1
kill -INT "$TP"
t_wait_pid "$TP" 20
kill -TERM "$SW"
t_wait_pid "$SW" 30
t_check "vmpath exits 0 (got $T_RC)" test "$T_RC" -eq 0
if [ "$T_FAIL" -ne 0 ]; then
	t_tail qemu.log 40
	t_tail sw.log 40
fi
t_done
