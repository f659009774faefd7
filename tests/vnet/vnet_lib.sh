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
