/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VHOST_USER_SEND_RARP: after a live migration the destination frontend
 * asks the backend to announce the guest's MAC (QEMU sends it when the guest
 * did not negotiate VIRTIO_NET_F_GUEST_ANNOUNCE, once per announce round).
 * The frame is handed to the switch by the next dequeue of queue pair 0, as
 * if the guest had sent it: the MAC table and every port it floods to learn
 * the guest's new port at once instead of when the guest next transmits.
 *
 * Handshake (one word pair, no lock): the vhost-user thread writes the MAC
 * and then bumps rarp_req (release); the lcore polling queue pair 0 reads
 * rarp_req (acquire), then the MAC, and advances rarp_done. A MAC rewritten
 * while a frame is being built is at worst announced twice, once each.
 */
#include <string.h>

#include <rte_arp.h>
#include <rte_ether.h>

#include "vnet_pvt.h"
#include "vnet_vhu_msg.h"

/* RARP frames owed at most at once: QEMU's announce rounds are 5, a
 * frontend repeating the message faster gets no more frames than this. */
#define VNET_RARP_MAX_PENDING 8

void
__vmp_vnet_rarp_request(struct vmp_vnet_port *port, const void *msg)
{
	const uint8_t *pl = vnet_vhu_payload(msg, sizeof(uint64_t));
	struct rte_ether_addr mac;
	uint32_t req, done;

	if (pl == NULL) {
		VNET_LOG(ERR, "%s: SEND_RARP: payload of %u bytes refused",
			 port->path, vnet_vhu_u32(msg, VHU_OFF_SIZE));
		return;
	}
	memcpy(mac.addr_bytes, pl, RTE_ETHER_ADDR_LEN);
	if (!rte_is_valid_assigned_ether_addr(&mac)) {
		VNET_LOG(ERR,
			 "%s: SEND_RARP: " RTE_ETHER_ADDR_PRT_FMT
			 " is not a unicast MAC: not announced",
			 port->path, RTE_ETHER_ADDR_BYTES(&mac));
		return;
	}
	req = __atomic_load_n(&port->rarp_req, __ATOMIC_RELAXED);
	done = __atomic_load_n(&port->rarp_done, __ATOMIC_ACQUIRE);
	if (req - done >= VNET_RARP_MAX_PENDING)
		return;
	memcpy(port->rarp_mac, mac.addr_bytes, RTE_ETHER_ADDR_LEN);
	/* Release: pairs with the acquire in __vmp_vnet_rarp_put(), which
	 * then reads the MAC written above. */
	__atomic_store_n(&port->rarp_req, req + 1, __ATOMIC_RELEASE);
	VNET_LOG(INFO, "%s: SEND_RARP for " RTE_ETHER_ADDR_PRT_FMT, port->path,
		 RTE_ETHER_ADDR_BYTES(&mac));
}

/* A RARP request (RFC 903) from @mac for itself, broadcast, padded to the
 * Ethernet minimum, as DPDK's builtin backend and QEMU's self-announce
 * build it. */
static struct rte_mbuf *
rarp_build(struct rte_mempool *mp, const uint8_t *mac)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	struct rte_ether_hdr *eh;
	struct rte_arp_hdr *ah;

	if (m == NULL)
		return NULL;
	eh = (struct rte_ether_hdr *)rte_pktmbuf_append(
		m, RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN);
	if (eh == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	memset(eh, 0, RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN);
	memset(eh->dst_addr.addr_bytes, 0xff, RTE_ETHER_ADDR_LEN);
	memcpy(eh->src_addr.addr_bytes, mac, RTE_ETHER_ADDR_LEN);
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_RARP);
	ah = (struct rte_arp_hdr *)(eh + 1);
	ah->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	ah->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ah->arp_hlen = RTE_ETHER_ADDR_LEN;
	ah->arp_plen = sizeof(uint32_t);
	ah->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REVREQUEST);
	memcpy(ah->arp_data.arp_sha.addr_bytes, mac, RTE_ETHER_ADDR_LEN);
	memcpy(ah->arp_data.arp_tha.addr_bytes, mac, RTE_ETHER_ADDR_LEN);
	return m;
}

uint16_t
__vmp_vnet_rarp_put(struct vmp_vnet_port *port, struct rte_mbuf **pkts,
		    uint16_t n)
{
	/* Acquire: pairs with the release in __vmp_vnet_rarp_request(). */
	uint32_t req = __atomic_load_n(&port->rarp_req, __ATOMIC_ACQUIRE);
	uint16_t k = 0;

	while (port->rarp_done != req && k < n) {
		pkts[k] = rarp_build(port->mp, port->rarp_mac);
		if (pkts[k] == NULL)
			break; /* mempool empty: retried by the next dequeue */
		k++;
		port->rarp_sent++;
		/* Release: the vhost thread's acquire of rarp_done bounds
		 * what it leaves pending. */
		__atomic_store_n(&port->rarp_done, port->rarp_done + 1,
				 __ATOMIC_RELEASE);
	}
	return k;
}
