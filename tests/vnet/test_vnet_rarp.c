/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VHOST_USER_SEND_RARP on a running port, from the crafted frontend: the
 * port offers VHOST_USER_PROTOCOL_F_RARP, and each SEND_RARP puts one RARP
 * request from the given MAC (broadcast) first into the next dequeue of
 * queue pair 0, where the switch learns and floods it. A MAC that is not a
 * unicast address is not announced, a short payload is refused, and a flood
 * of SEND_RARP owes a bounded number of frames.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include <vmp_vnet.h>

#include "vhu_front.h"
#include "vmp_test.h"
#include "vnet_test_util.h"

#define TAG "rarp"
#define GET_FEATURES 1
#define GET_PROTOCOL_FEATURES 15
#define SEND_RARP 19
#define PROTOCOL_F_RARP (1ULL << 2)
/* owed frames at most (vnet_rarp.c), as the test knows it */
#define MAX_PENDING 8

static const uint8_t guest_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

/* A round trip: every message sent before it has been handled. */
static int
sync_front(struct vhu_front *f)
{
	uint64_t v;

	if (vhu_front_send(f, GET_FEATURES, 0, NULL, 0, -1) < 0)
		return -1;
	return vhu_front_recv(f, &v);
}

static int
send_rarp(struct vhu_front *f, const uint8_t *mac, uint32_t size)
{
	uint64_t pl = 0;

	memcpy(&pl, mac, 6);
	return vhu_front_send(f, SEND_RARP, 0, &pl, size, -1);
}

/* Dequeue queue pair 0 a few times; count RARP frames from @mac, free all. */
static unsigned int
take_rarps(struct vmp_vnet_port *port, const uint8_t *mac, unsigned int *other)
{
	struct rte_mbuf *m[32];
	unsigned int k, r, found = 0;

	*other = 0;
	for (r = 0; r < 4; r++) {
		uint16_t n = vmp_vnet_dequeue_burst(port, 0, m, 4);

		for (k = 0; k < n; k++) {
			const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(
				m[k], const struct rte_ether_hdr *);
			const struct rte_arp_hdr *ah =
				(const struct rte_arp_hdr *)(eh + 1);

			if (m[k]->pkt_len >= 42 &&
			    eh->ether_type ==
				    rte_cpu_to_be_16(RTE_ETHER_TYPE_RARP) &&
			    rte_is_broadcast_ether_addr(&eh->dst_addr) &&
			    memcmp(eh->src_addr.addr_bytes, mac, 6) == 0 &&
			    ah->arp_opcode ==
				    rte_cpu_to_be_16(RTE_ARP_OP_REVREQUEST) &&
			    memcmp(ah->arp_data.arp_sha.addr_bytes, mac, 6) ==
				    0 &&
			    memcmp(ah->arp_data.arp_tha.addr_bytes, mac, 6) ==
				    0)
				found++;
			else
				(*other)++;
			rte_pktmbuf_free(m[k]);
		}
	}
	return found;
}

static int
test_vnet_rarp(void)
{
	static const uint8_t mcast[6] = {0x01, 0x00, 0x5e, 0, 0, 1};
	struct vmp_vnet_port_info in;
	struct rte_mempool *mp = NULL;
	struct vmp_vnet_port *port = NULL;
	struct vhu_front fr;
	unsigned int got, other, k;
	uint64_t pf = 0;
	int rc = TEST_FAILED;

	if (vnet_test_port_open(TAG, &fr, &port, &mp) != 0)
		goto out;
	if (vhu_front_send(&fr, GET_PROTOCOL_FEATURES, 0, NULL, 0, -1) < 0 ||
	    vhu_front_recv(&fr, &pf) < 0 || !(pf & PROTOCOL_F_RARP)) {
		printf("VHOST_USER_PROTOCOL_F_RARP not offered (0x%lx)\n",
		       (unsigned long)pf);
		goto out;
	}
	/* one request, one frame, first in the burst */
	if (send_rarp(&fr, guest_mac, 8) < 0 || sync_front(&fr) < 0)
		goto out;
	got = take_rarps(port, guest_mac, &other);
	vmp_vnet_port_info_get(port, &in);
	printf("one SEND_RARP: %u RARP frames, %u others, rarp_sent %lu\n", got,
	       other, (unsigned long)in.rarp_sent);
	if (got != 1 || other != 0 || in.rarp_sent != 1)
		goto out;
	/* multicast MAC, short payload: nothing owed */
	if (send_rarp(&fr, mcast, 8) < 0 || send_rarp(&fr, guest_mac, 4) < 0 ||
	    sync_front(&fr) < 0)
		goto out;
	got = take_rarps(port, guest_mac, &other) + other;
	printf("multicast MAC, 4-byte payload: %u frames\n", got);
	if (got != 0)
		goto out;
	/* a flood owes at most MAX_PENDING frames */
	for (k = 0; k < 4 * MAX_PENDING; k++)
		if (send_rarp(&fr, guest_mac, 8) < 0)
			goto out;
	if (sync_front(&fr) < 0)
		goto out;
	got = take_rarps(port, guest_mac, &other);
	printf("%u SEND_RARP at once: %u frames (bound %u)\n", 4 * MAX_PENDING,
	       got, MAX_PENDING);
	if (got < 1 || got > MAX_PENDING || other != 0)
		goto out;
	rc = TEST_SUCCESS;
out:
	if (port != NULL)
		vnet_test_port_close(TAG, &fr, port, mp);
	return rc;
}

REGISTER_TEST_COMMAND(vnet_rarp_autotest, test_vnet_rarp);
