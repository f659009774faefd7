#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# TCP streams between a real Linux guest (QEMU 7.2, TCG) on a vmpath port
# with checksum and TSO offloads on (the default) and the host kernel
# behind a net_tap port of the switch, both directions, IPv4 then IPv6:
# host -> guest, guest -> host, host -> guest, guest -> host, MIB MiB each
# (default 32). The guest's virtio_net sends 64 KiB TSO frames with partial
# checksums; vmpath checks each header, and segments and checksums them in
# software or leaves them to net_tap, by what it takes: IPv4 TSO frames
# whose segments fit the tap's MTU check (tso_segsz + all headers <= MTU:
# the host's route to the guest advertises MSS VNET_OL_QEMU_ADVMSS, default
# 1400, so the guest's TSO frames fit; empty: the kernel's 1460, then they
# do not), never IPv6 TSO (net_tap's rte_gso is IPv4 only). The guest
# receives the host's frames with GUEST_CSUM/TSO negotiated.
#
#   vnet_offload_qemu.sh [on|off]   (off: the same with csum=off: no offloads)
#
# Pass: every stream's sha256 is the same at both ends; the guest counts 0
# TCP InCsumErrors and 0 Ip InHdrErrors, its kernel logs no virtio error or
# trace; the guest negotiated CSUM and HOST_TSO4/6 (on) and its TX vring
# counted offloaded packets (ol_csum, ol_tso) and no bad header; the tap
# port took IPv4 TSO frames whole (hw_tso, with ADVMSS) and got the IPv6
# ones as segments made by vmpath (sw_segs); the guest's `ethtool -k eth0`
# shows tx-checksumming and tx-tcp(6)-segmentation on (off with csum=off)
# when ethtool is in its initramfs.
# The host's frames reach the guest with DATA_VALID (net_tap checked their
# TCP checksums: ol_valid), their runs of segments merged into TSO frames
# (gro_frames).
# Prints 'STREAM dir family MiB seconds Mbit/s' per stream (the benchmark
# reads them).
#
# VNET_OL_QEMU_IPERF=SECONDS: iperf3 instead (vnet_offload_bench): the same
# four streams, each SECONDS long, from the guest's iperf3 client to an
# `iperf3 -s` on the host: guest -> host with -Z (the guest sends with
# sendfile: it never touches the payload), host -> guest with -R -Z (the
# host sends, with sendfile). No sha256 (iperf3 sends a repeated buffer):
# each run must end with its receiver's numbers instead. SKIP (77) without
# iperf3 on the host (the guest takes the host's: usertools/vmpath-guest).
# VNET_OL_QEMU_SWARGS: more vmpath application arguments (e.g. --idle halt).
. "$VMPATH_SRC/tests/lib.sh"
. "$VMPATH_SRC/tests/vnet/vnet_lib.sh"
cd "$T_TMP"
OL=${1:-on}
MIB=${VNET_OL_QEMU_MIB:-32}
ADVMSS=${VNET_OL_QEMU_ADVMSS-1400}
IPERF=${VNET_OL_QEMU_IPERF:-}
IPERF_PIDS=()
if [ -n "$IPERF" ] && ! command -v iperf3 >/dev/null; then
	echo "SKIP: iperf3 missing (apt-get install iperf3)"
	exit 77
fi
guest_initramfs tap
N=$(($$ % 200))
NET=10.97.$N
NET6=fd00:97:$N:
IF=vmpo$$
P=vmpt-olq-$$
LOGS=(--log-level=lib.eal:error --log-level=lib.vhost.config:warning)
PORT="$T_TMP/vm.sock"
# offloads are on by default (csum=off turns TSO off too)
[ "$OL" = on ] || PORT="$PORT,csum=off"

"$VMPATH" -l 0-1 --no-pci --no-huge -m 256 --iova-mode=va --file-prefix=$P \
	"${LOGS[@]}" -- --vhost "$PORT" --ethdev "net_tap0,iface=$IF" \
	--stats-period 0 ${VNET_OL_QEMU_SWARGS:-} >sw.log 2>&1 &
SW=$!
T_PIDS+=("$SW")
if ! t_wait_for "ip link show $IF >/dev/null 2>&1" 30; then
	t_bad "tap interface created"
	tail -n 20 sw.log
	t_done
	exit 1
fi
ip addr add $NET.1/24 dev $IF
ip -6 addr add ${NET6}:1/64 dev $IF nodad
ip link set $IF up
[ -n "$ADVMSS" ] && ip route replace $NET.0/24 dev $IF src $NET.1 advmss "$ADVMSS"

# host -> guest on PORTs 5001 (IPv4) and 5003 (IPv6); guest -> host on 5002
# and 5004, to the host's listeners below
STEPS="recv:5001+send:$NET.1:5002:$MIB+recv:5003+send:${NET6}:1:5004:$MIB"
# VNET_OL_QEMU_HASH=1: first time the guest's sha256 of MIB MiB (the guest
# hashes what it receives as it reads)
[ -n "${VNET_OL_QEMU_HASH:-}" ] && STEPS="hash:$MIB+$STEPS"
# iperf3: guest -> host on 5201 (IPv4) and 5203 (IPv6), host -> guest (-R)
# on 5202 and 5204
IPERF_RUNS=("5201 $NET.1 from-guest ipv4 Z" "5202 $NET.1 to-guest ipv4 RZ"
	"5203 ${NET6}:1 from-guest ipv6 Z" "5204 ${NET6}:1 to-guest ipv6 RZ")
if [ -n "$IPERF" ]; then
	STEPS=
	for r in "${IPERF_RUNS[@]}"; do
		set -- $r
		STEPS="$STEPS${STEPS:++}iperf:$2:$1:$IPERF:$5"
		# one test each, then exit; its JSON on stdout
		iperf3 -s -1 -J -p "$1" -B "$2" >iperf-$1.json 2>iperf-$1.err &
		T_PIDS+=($!)
		IPERF_PIDS+=($!)
	done
fi
qemu_guest_cmd "vmp.ip=$NET.2/24 vmp.ip6=${NET6}:2/64 vmp.tcp=$STEPS" \
	"path=$T_TMP/vm.sock" mac=52:54:00:00:00:3a
timeout -k 10 $((400 + 4 * ${IPERF:-0})) "${QG[@]}" </dev/null >qemu.log 2>&1 &
QM=$!
T_PIDS+=("$QM")

# stream DIR FAMILY ADDR PORT: one transfer, host side; its sha256 and
# timing in stream-PORT.out
stream() {
	python3 - "$@" "$MIB" >stream-$4.out 2>&1 <<'PY'
import hashlib, os, socket, sys, time
d, fam, addr, port, mib = sys.argv[1:6]
port, n = int(port), int(mib) << 20
af = socket.AF_INET6 if fam == "ipv6" else socket.AF_INET
h = hashlib.sha256()
if d == "to-guest":
    data = os.urandom(n)
    h.update(data)
    end = time.time() + 240
    while True:  # until the guest's nc listens
        try:
            s = socket.create_connection((addr, port), timeout=5)
            break
        except OSError:
            if time.time() > end:
                raise
            time.sleep(0.5)
    t0 = time.time()
    s.settimeout(120)
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    s.recv(1)  # the guest closes once it has everything
else:
    ls = socket.socket(af, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(1)
    ls.settimeout(360)
    s, _ = ls.accept()
    s.settimeout(120)
    t0, got = time.time(), 0
    while True:
        b = s.recv(1 << 20)
        if not b:
            break
        h.update(b)
        got += len(b)
    n = got
dt = time.time() - t0
print("SHA %s" % h.hexdigest())
print("STREAM %s %s %d %.2f %.1f" % (d, fam, n >> 20, dt, n * 8 / dt / 1e6))
PY
}
# iperf_result PORT DIR FAMILY: the STREAM line of the iperf3 run on PORT,
# as its receiver counted: the host's server (its JSON) for guest -> host,
# the guest's client (its receiver line; iperf3 3.12's sending server has
# no receiver numbers) for host -> guest
iperf_result() {
	python3 - "$@" <<'PY'
import json, re, sys
port, d, fam = sys.argv[1:4]
if d == "from-guest":
    e = json.load(open("iperf-%s.json" % port))["end"]["sum_received"]
    n, secs, mbit = e["bytes"], e["seconds"], e["bits_per_second"] / 1e6
else:
    m = re.search(r"VMP-GUEST-IPERF: %s .*?([0-9.]+)-([0-9.]+) +sec +"
                  r"\S+ \S+ +([0-9.]+) Mbits/sec +receiver" % port,
                  open("qemu.log", errors="replace").read())
    secs = float(m.group(2)) - float(m.group(1))
    mbit = float(m.group(3))
    n = int(mbit * 1e6 * secs / 8)
print("STREAM %s %s %d %.2f %.1f" % (d, fam, n >> 20, secs, mbit))
PY
}

if [ -n "$IPERF" ]; then
	t_check "guest booted with its streams to run" \
		t_wait_for "grep -q 'VMP-GUEST-TCP: ready' qemu.log" 200
	t_wait_pid $QM $((300 + 4 * IPERF))
	t_check "QEMU guest ran and powered off (rc $T_RC)" test "$T_RC" -eq 0
	for i in "${!IPERF_RUNS[@]}"; do
		set -- ${IPERF_RUNS[$i]}
		t_wait_pid "${IPERF_PIDS[$i]}" 10
		t_check "iperf3 server $1 ran one test (rc $T_RC)" \
			test "$T_RC" -eq 0
		t_grep "guest's iperf3 -c $2 -p $1 (-$5) succeeded" \
			"VMP-GUEST-IPERF-RC: $1 0" qemu.log
		iperf_result "$1" "$3" "$4" >stream-$1.out 2>&1
		t_grep "iperf3 $1 ($3 $4) measured" "^STREAM " stream-$1.out
		# the guest CPU during this run (/proc/stat cpu fields)
		awk -v p="$1" -v s="$3 $4" '$2 == p && /VMP-GUEST-ISTAT[01]:/ {
			for (i = 4; i <= 10; i++) v[$1, i] = $i}
		END {for (i = 4; i <= 10; i++) {
			d[i] = v["VMP-GUEST-ISTAT1:", i] - v["VMP-GUEST-ISTAT0:", i]
			t += d[i]}
		if (t) printf "  guest cpu %s: busy %.0f%% (user %.0f%% system %.0f%% softirq %.0f%% irq %.0f%%)\n",
			s, 100 - 100 * d[7] / t, 100 * d[4] / t, 100 * d[6] / t,
			100 * d[10] / t, 100 * d[9] / t}' qemu.log
	done
	grep -h "VMP-GUEST-IPERF:" qemu.log | sed 's/^/  /'
	grep -h "^STREAM" stream-520[1-4].out | sed "s/^/  offloads $OL: /"
else
	stream from-guest ipv4 $NET.1 5002 &
	L1=$!
	stream from-guest ipv6 ${NET6}:1 5004 &
	L2=$!
	T_PIDS+=("$L1" "$L2")
	t_check "guest booted with its streams to run" \
		t_wait_for "grep -q 'VMP-GUEST-TCP: ready' qemu.log" 200
	stream to-guest ipv4 $NET.2 5001
	stream to-guest ipv6 ${NET6}:2 5003
	t_wait_pid $L1 300
	t_wait_pid $L2 300
	t_wait_pid $QM 300
	t_check "QEMU guest ran and powered off (rc $T_RC)" test "$T_RC" -eq 0

	sha_of() { sed -n "s/^SHA //p" stream-$1.out; }
	for port in 5001 5003; do
		t_grep "host -> guest stream $port intact" \
			"VMP-GUEST-RECV: $port $(sha_of $port)" qemu.log
	done
	for port in 5002 5004; do
		t_grep "guest -> host stream $port intact" \
			"VMP-GUEST-SEND: $port $(sha_of $port)" qemu.log
	done
	grep -h "^STREAM" stream-500[1-4].out | sed "s/^/  offloads $OL: /"
fi
# the guest CPU over all four streams (/proc/stat cpu: user nice system idle
# iowait irq softirq): busy % and where
awk '/VMP-GUEST-STAT[01]: cpu / {for (i = 3; i <= 9; i++) v[$1, i] = $i}
	END {for (i = 3; i <= 9; i++) {
		d[i] = v["VMP-GUEST-STAT1:", i] - v["VMP-GUEST-STAT0:", i]
		t += d[i]}
	if (t) printf "  guest cpu: busy %.0f%% (user %.0f%% system %.0f%% softirq %.0f%% irq %.0f%%)\n",
		100 - 100 * d[6] / t, 100 * d[3] / t, 100 * d[5] / t,
		100 * d[9] / t, 100 * d[8] / t}' qemu.log
grep -h "VMP-GUEST-SOFTIRQ" qemu.log | sed 's/^/  /'
sed -n 's/.*VMP-GUEST-HASH: \([0-9]*\) MiB in \([0-9.]*\) \([0-9.]*\).*/\1 \2 \3/p' \
	qemu.log | awk '{printf "  guest sha256: %d MiB in %.2f s, %.1f Mbit/s\n",
	$1, $3 - $2, $1 * 8 * 1.048576 / ($3 - $2)}'
t_grep "guest counted no TCP checksum error" \
	"VMP-GUEST-SNMP: Tcp: [-0-9 ]* 0[[:space:]]*$" qemu.log
t_grep "guest counted no IP header error" \
	"VMP-GUEST-SNMP: Ip: [0-9]+ [0-9]+ [0-9]+ 0 " qemu.log
t_check "guest kernel logged no virtio error or trace" eval \
	"! grep -qE 'VMP-GUEST-TRACE|VMP-GUEST-DMESG: .*(error|bad|corrupt)' qemu.log"

tel $P /vmpath/ports >ports.json
tel $P /vmpath/port_stats,0 >ps.json
# what the guest's kernel turned on, as `ethtool -k eth0` in the guest shows
# it (ethtool is in the guest when the host has it: vmpath-setup installs it)
if grep -q "VMP-GUEST-ETHTOOL:" qemu.log; then
	grep "VMP-GUEST-ETHTOOL:" qemu.log | sed 's/^.*VMP-GUEST-ETHTOOL: /  guest ethtool -k: /'
	[ "$OL" = on ] && want=on || want=off
	for feat in tx-checksumming tx-tcp-segmentation tx-tcp6-segmentation; do
		t_grep "guest's ethtool -k: $feat $want" \
			"VMP-GUEST-ETHTOOL: $feat: $want" qemu.log
	done
else
	t_note "no ethtool on the host, so none in the guest: ethtool -k not shown"
fi
if [ "$OL" = on ]; then
	f=$(sed -n 's/.*"0": {[^}]*"features": \([0-9]*\).*/\1/p' ports.json)
	t_check "guest negotiated CSUM and HOST_TSO4/6 (features $f)" \
		test $((${f:-0} & 0x1801)) -eq $((0x1801))
	t_grep "guest sent TSO frames (ol_tso)" \
		'"vring1": \{[^}]*"ol_tso": [1-9]' ps.json
	t_grep "guest sent partial checksums (ol_csum)" \
		'"vring1": \{[^}]*"ol_csum": [1-9]' ps.json
	# (a vmpath without the counter: a base build in vnet_offload_bench)
	if grep -q '"ol_valid"' ps.json; then
		t_grep "host frames checked by net_tap reached the guest DATA_VALID (ol_valid)" \
			'"vring0": \{[^}]*"ol_valid": [1-9]' ps.json
	else
		t_note "this vmpath has no ol_valid counter"
	fi
	# the host's segments merged into TSO frames for the guest (GRO)
	if grep -q '"gro_frames"' ps.json; then
		t_grep "host segments reached the guest merged (gro_frames)" \
			'"vring0": \{[^}]*"gro_frames": [1-9]' ps.json
		grep -o '"vring0": {[^}]*}' ps.json |
			grep -o '"\(packets\|no_buf\|ol_valid\|ol_tso\|gro_[a-z]*\)": [0-9]*' |
			paste -sd' ' | sed 's/^/  guest rx: /'
	fi
	t_grep "IPv6 TSO frames segmented by vmpath for the tap (sw_segs)" \
		'"1": \{[^}]*"mode": "ethdev"[^}]*"sw_segs": [1-9]' ports.json
	[ -n "$ADVMSS" ] && t_grep "IPv4 TSO frames left to the tap (hw_tso)" \
		'"1": \{[^}]*"mode": "ethdev"[^}]*"hw_tso": [1-9]' ports.json
	grep -o '"1": {[^}]*}' ports.json | sed 's/^/  tap port: /'
fi
t_check "no bad header from the guest" eval \
	"! grep -qE '\"bad_hdr_[a-z_]+\": [1-9]' ps.json"
kill -TERM "$SW"
t_wait_pid "$SW" 30
t_check "switch exits 0 (got $T_RC)" test "$T_RC" -eq 0
if [ "$T_FAIL" -ne 0 ]; then
	t_tail qemu.log 40
	t_tail sw.log 20
	tail -n 5 stream-*.out
fi
t_done
