#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Live migration of a real Linux guest (QEMU 7.2, TCG) attached to a vmpath
# port, on one host, while the host kernel (through a net_tap port of the
# switch) streams 32 MiB of random data into it over TCP, pings it and
# sends it 1000 UDP datagrams per second.
#
#   vnet_migrate.sh VARIANT
#     sync         --dma none; source and destination on ONE server socket
#     async        --dma skeleton --dma-threshold 64 (guest RX copies on the
#                  engine); one server socket
#     async-slow   --dma sw with a per-copy delay (dma_swdma delay_us): copies
#                  are certainly in flight when GET_VRING_BASE arrives
#     client-sync, client-async
#                  two client ports of vmpath, QEMU listens (server=on): the
#                  guest changes switch port, SEND_RARP must move its MAC
#     testpmd      the anchor: DPDK's builtin vhost backend (dpdk-testpmd,
#                  net_vhost0 and net_tap0, io forwarding) instead of vmpath;
#                  the same checks but vmpath's counters
# Prints 'RESULT variant total_ms downtime_ms gap_s lost first_after_s' for
# tests/vnet/vnet_migrate_bench.sh.
#
# Pass: QEMU reports `completed`; the guest's RAM is the same in the paused
# source and destination (compared page by page before the destination
# runs); the guest, now in the destination QEMU,
# prints the stream's sha256; its /proc/net/snmp counts 0 InCsumErrors (Ip
# has no such column: its InHdrErrors is checked) and its kernel logs no
# virtio error or corruption; pings answer again within 1 s of the
# switchover; vmpath counted pages logged during the migration and (async
# variants) RARPs sent; async-slow: copies drained at the stop.
# With the RAM comparison, vmpath records every guest write and dirty-log
# mark (VMP_VNET_WTRACE, lib/vnet/vnet_wtrace.c) and each differing page is
# checked against that record (vnet_wtrace.py): a page vmpath wrote and did
# not mark in time fails the test; pages vmpath never wrote are QEMU's.
# VNET_MIG_WTRACE=0: no record (the page labels only).
# VNET_MIG_KEEP=1 keeps the logs (VMPATH_KEEP_TMP).
. "$VMPATH_SRC/tests/lib.sh"
. "$VMPATH_SRC/tests/vnet/vnet_lib.sh"
cd "$T_TMP"
V=${1:-sync}
guest_initramfs tap
MIG=$VMPATH_SRC/tests/vnet/vnet_mig.py
NET=10.98.$(($$ % 200))
IF=vmpm$$
P=vmpt-mig-$$
MPORT=$((20000 + $$ % 20000))
MAC=52:54:00:00:00:2a
LOGS=(--log-level=lib.eal:error --log-level=lib.vhost.config:warning)
EAL=(-l 0-1)
APP=()
case $V in
sync | client-sync) APP=(--dma none) ;;
async | client-async) APP=(--dma skeleton --dma-threshold 64) ;;
testpmd) ;;
async-slow)
	# the engine (service lcore 2, set by its devarg) shares core 1 with
	# the datapath lcore; 200 us per copy
	EAL=(--lcores 0@0,1@1,2@1 --vdev dma_swdma0,lcores=2,delay_us=200)
	APP=(--dma sw --dma-threshold 64)
	;;
*)
	echo "unknown variant $V"
	exit 1
	;;
esac
if [ "${V#client-}" != "$V" ]; then
	PORTS=(--vhost "$T_TMP/a.sock,client" --vhost "$T_TMP/b.sock,client")
	SRC_CHR="path=$T_TMP/a.sock,server=on,wait=off"
	DST_CHR="path=$T_TMP/b.sock,server=on,wait=off"
else
	PORTS=(--vhost "$T_TMP/vm.sock")
	SRC_CHR="path=$T_TMP/vm.sock"
	DST_CHR=$SRC_CHR
fi

if [ "$V" = testpmd ]; then
	dpdk-testpmd -l 0-1 --no-pci --no-huge -m 256 --file-prefix=$P \
		"${LOGS[@]}" --vdev "net_vhost0,iface=$T_TMP/vm.sock,queues=1" \
		--vdev "net_tap0,iface=$IF" -- --forward-mode=io --nb-cores=1 \
		--total-num-mbufs=8192 --stats-period 100 -a --no-mlockall \
		</dev/null >sw.log 2>&1 &
else
	# the destination stays paused until the RAMs were compared: the
	# record ends with the source's writes
	[ "${VNET_MIG_RAMCMP:-1}" = 1 ] && [ "${VNET_MIG_WTRACE:-1}" = 1 ] &&
		export VMP_VNET_WTRACE=$T_TMP/wtrace.txt
	"$VMPATH" "${EAL[@]}" --no-pci --no-huge -m 256 --iova-mode=va \
		--file-prefix=$P "${LOGS[@]}" -- "${PORTS[@]}" \
		--ethdev "net_tap0,iface=$IF" "${APP[@]}" >sw.log 2>&1 &
fi
SW=$!
T_PIDS+=("$SW")
if ! t_wait_for "ip link show $IF >/dev/null 2>&1" 30; then
	t_bad "tap interface created"
	tail -n 20 sw.log
	t_done
	exit 1
fi
# server ports: the socket exists before a QEMU connects to it (a loaded
# host can create the tap first)
if [ "${V#client-}" = "$V" ] &&
	! t_wait_for "test -S $T_TMP/vm.sock" 30; then
	t_bad "vhost-user socket created"
	t_done
	exit 1
fi
ip addr add $NET.1/24 dev $IF
ip link set $IF up

# the guest size: QG_KB in vnet_lib.sh (why 256 MiB + 128 KiB)
GUEST_KB=$QG_KB
# qemu NAME CHARDEV [extra...]: a guest half (source or destination)
qemu() {
	local name=$1 chr=$2
	shift 2
	qemu_guest_cmd "vmp.ip=$NET.2/24 vmp.listen=5000" "$chr" "mac=$MAC" q35
	"${QG[@]}" -qmp unix:$T_TMP/$name.qmp,server=on,wait=off "$@" \
		</dev/null >$name.log 2>&1 &
}
qemu src "$SRC_CHR"
SRC=$!
T_PIDS+=("$SRC")
# the destination connects at once (same socket: a second connection); it
# stays paused after the migration until both RAMs were compared
# (VNET_MIG_RAMCMP=0: no comparison, the destination runs at once: the
# benchmark's switchover)
RAMCMP=${VNET_MIG_RAMCMP:-1}
DST_S=(-S)
[ "$RAMCMP" = 1 ] || DST_S=()
qemu dst "$DST_CHR" "${DST_S[@]}" -incoming tcp:127.0.0.1:$MPORT
DST=$!
T_PIDS+=("$DST")
t_check "guest booted and listens" \
	t_wait_for "grep -q VMP-GUEST-LISTEN src.log" 120
tel $P /vmpath/ports >ports-before.json

head -c 32M /dev/urandom >data
SUM=$(sha256sum data | cut -d' ' -f1)
python3 "$MIG" ping $NET.2 ping.log &
PING=$!
T_PIDS+=("$PING")
# and UDP the guest drops (no listener): it keeps arriving while the guest
# is paused for the stop, so copies are in flight at GET_VRING_BASE
python3 "$MIG" udp $NET.2 1000 data &
UDP=$!
T_PIDS+=("$UDP")
# 32 chunks of 1 MiB, paced so the stream spans the migration
(
	for i in $(seq 0 31); do
		dd if=data bs=1M skip=$i count=1 status=none
		sleep 0.25
	done >/dev/tcp/$NET.2/5000
) 2>stream.err &
STREAM=$!
T_PIDS+=("$STREAM")
sleep 1
# 48 MB/s: the guest's RAM takes a few seconds, logging stays on that long
python3 "$MIG" migrate src.qmp tcp:127.0.0.1:$MPORT 48000000 >mig.log 2>&1
cat mig.log
t_grep "QEMU reports the migration completed" "status completed" mig.log
# Guest RAM, source vs destination, both paused: a page vmpath wrote after
# it was logged and collected differs (the destination has the old one).
# QEMU TCG itself can lose guest-CPU writes on a loaded host
# (docs/migration.md). With vmpath's write record, that record decides
# (below): the labels are reported only. Without one (testpmd, or
# VNET_MIG_WTRACE=0), a differing page that holds packet payload ('rx') or
# a used ring ('used') fails the test; any other ('cpu') is reported.
# (only after `completed`: before it the destination is not the guest yet)
if [ "$RAMCMP" = 1 ] && grep -q "status completed" mig.log; then
	python3 "$MIG" ramcmp src.qmp dst.qmp "$T_TMP" $((GUEST_KB << 10)) data \
		>ram.log 2>&1
	cat ram.log
	t_grep "guest RAM compared" "ramcmp pages" ram.log
	if [ -n "${VMP_VNET_WTRACE:-}" ]; then
		t_note "differing pages: $(sed -n 's/^ramcmp pages [0-9]* //p' ram.log)"
	else
		t_check "no page with packet payload or a used ring differs between source and destination" \
			grep -q "ramcmp pages [0-9]* differ [0-9]* rx 0 used 0 " ram.log
	fi
	if grep -q "ramcmp pages [0-9]* differ [0-9]* rx 0 used 0 " ram.log &&
		! grep -q "ramcmp pages [0-9]* differ 0 " ram.log; then
		t_note "pages without packet payload differ: guest-CPU writes (QEMU TCG on a loaded host?)"
		CPU_ONLY=1
	fi
	# the switchover, for the pings: the destination runs from here
	T0=$(sed -n 's/^cont \([0-9.]*\).*/\1/p' ram.log)
else
	T0=$(sed -n 's/.* end \([0-9.]*\).*/\1/p' mig.log)
fi
tel $P /vmpath/ports >ports-after.json
kill -TERM "$UDP"
# the source quits last, as libvirt does: its connection goes then
python3 "$MIG" qmp src.qmp quit >/dev/null 2>&1
t_wait_pid "$SRC" 30
# a guest that panicked (panic=-1, -no-reboot: its QEMU exits) ends the
# waits at once, not after their bounds
t_wait_for "! kill -0 $STREAM 2>/dev/null || ! kill -0 $DST 2>/dev/null" 120
t_wait_pid "$STREAM" 1
t_check "host sent the whole stream (rc $T_RC)" test "$T_RC" -eq 0
t_wait_for "grep -q VMP-GUEST-DONE dst.log || ! kill -0 $DST 2>/dev/null" 120
t_check "the guest (destination) finished" grep -q VMP-GUEST-DONE dst.log
t_check "the guest (destination) did not panic" eval "! grep -q 'Kernel panic' dst.log"
sleep 1
kill -TERM "$PING"
t_wait_pid "$PING" 10
tr -d '\r' <dst.log >dst.txt
t_grep "guest received the stream intact (sha256 $SUM)" \
	"VMP-GUEST-SHA: $SUM" dst.txt
# /proc/net/snmp: a header line then a value line per protocol
sed -n 's/^VMP-GUEST-SNMP: //p' dst.txt | awk '
	$1 == last { for (i = 2; i <= NF; i++)
			if (h[i] == "InCsumErrors" || h[i] == "InHdrErrors")
				print $1 h[i], $i
		     next }
	{ last = $1; for (i = 2; i <= NF; i++) h[i] = $i }' >csum.txt
cat csum.txt
t_check "guest counts checksum errors (Ip, Tcp, Udp, Icmp)" \
	test "$(wc -l <csum.txt)" -ge 4
t_check "guest counts 0 checksum errors" eval "! awk '\$2 != 0' csum.txt | grep -q ."
t_check "guest kernel logged no virtio error" eval \
	"! grep -E 'VMP-GUEST-DMESG: .*(virtio|virtqueue|virtnet)[^ ]*:.*([Ee]rror|[Bb]roken|[Bb]ad |not a head)' dst.txt"
t_check "guest kernel logged no warning, BUG, oops or corruption" eval \
	"! grep -q VMP-GUEST-TRACE: dst.txt"
if [ -n "$T0" ]; then
	python3 "$MIG" pings ping.log "$T0" | tee pings.txt
	FIRST=$(sed -n 's/.*first_after_s \([-0-9.]*\).*/\1/p' pings.txt)
	t_check "pings answer again within 1 s of the switchover (${FIRST}s)" \
		awk -v f="$FIRST" 'BEGIN { exit !(f >= 0 && f <= 1.0) }'
	echo "RESULT $V $(sed -n 's/.*total_ms \([0-9-]*\) downtime_ms \([0-9-]*\).*/\1 \2/p' mig.log)" \
		"$(sed -n 's/.*first_after_s \([-0-9.]*\) gap_s \([0-9.]*\) lost \([0-9]*\).*/\2 \3 \1/p' pings.txt)"
fi
if [ "$V" = testpmd ]; then
	t_wait_pid "$DST" 30
	kill -INT "$SW"
	t_wait_pid "$SW" 30
	t_done
	exit
fi
# migration counters: difference over the migration
jq_port() { python3 -c "import json,sys; d=json.load(open(sys.argv[1]))['/vmpath/ports']
print(sum(int(p.get(sys.argv[2], 0)) for p in d.values()))" "$1" "$2"; }
LP=$(($(jq_port ports-after.json log_pages) - $(jq_port ports-before.json log_pages)))
DR=$(($(jq_port ports-after.json drained) - $(jq_port ports-before.json drained)))
sleep 0.5
tel $P /vmpath/ports >ports-end.json
RS=$(jq_port ports-end.json rarp_sent)
t_note "vmpath: pages logged $LP, copies drained at stop $DR, rarp sent $RS"
t_check "vmpath logged guest pages during the migration ($LP)" test "$LP" -gt 0
t_check "vmpath announced the guest on SEND_RARP ($RS)" test "$RS" -gt 0
if [ "$V" = async-slow ]; then
	t_check "copies in flight were drained at the stop ($DR)" test "$DR" -gt 0
fi
t_wait_pid "$DST" 30
kill -TERM "$SW"
t_wait_pid "$SW" 30
t_check "switch exits 0 (got $T_RC)" test "$T_RC" -eq 0
# vmpath's own record (complete once it exited): every page it wrote, then
# the pages that differ
if [ -f "$T_TMP/wtrace.txt" ]; then
	python3 "$VMPATH_SRC/tests/vnet/vnet_wtrace.py" "$T_TMP/wtrace.txt" - \
		src.log >wtrace-all.log 2>&1
	head -n 20 wtrace-all.log
	t_check "every guest page vmpath wrote in the run was marked in the log before the stop" \
		grep -q "^wtrace pages [1-9][0-9]* never 0 ok [0-9]* unmarked 0 late 0 " wtrace-all.log
fi
if [ -f "$T_TMP/ramdiff.txt" ] && [ -f "$T_TMP/wtrace.txt" ]; then
	python3 "$VMPATH_SRC/tests/vnet/vnet_wtrace.py" "$T_TMP/wtrace.txt" \
		"$T_TMP/ramdiff.txt" src.log >wtrace.log 2>&1
	head -n 40 wtrace.log
	# The evidence for an inconclusive run: vmpath never wrote these pages,
	# or marked each of its writes before the stop (after which QEMU sent
	# the page again) and the source's copy holds no payload or used ring:
	# what changed it later was not vmpath.
	t_check "no differing page is one vmpath wrote without a timely mark, or holds payload or a used ring it wrote" \
		grep -q "^wtrace pages [0-9]* never [0-9]* ok [0-9]* unmarked 0 late 0 suspect 0" wtrace.log
	CPU_ONLY=0
	grep -q "^wtrace pages [1-9][0-9]* never [0-9]* ok [0-9]* unmarked 0 late 0 suspect 0" wtrace.log &&
		grep -q "unmarked 0 late 0 " wtrace-all.log && CPU_ONLY=1
fi
if [ "$T_FAIL" -ne 0 ]; then
	for f in sw.log src.log dst.log stream.err; do
		echo "--- $f"
		grep -v VMP-GUEST-SNMP $f | tail -n 80 | tr -d '\r'
	done
fi
# The guest went wrong after QEMU lost writes that were not vmpath's:
# vmpath's record shows every differing page unwritten by it or marked
# after its last write, before the stop (without a record: no differing
# page holds packet payload or a used ring). The run says nothing about
# vmpath either way. Skipped, with the evidence above.
if [ "$T_FAIL" -ne 0 ] && [ "${CPU_ONLY:-0}" = 1 ]; then
	echo "SKIP: inconclusive: guest pages differ that vmpath did not" \
		"write after marking them (QEMU TCG lost guest-CPU writes)," \
		"then the guest failed"
	exit 77
fi
t_done
