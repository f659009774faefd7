/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP frames for the offload tests: build one as a guest's driver leaves it
 * for a checksum or TSO request, check a segment's checksums, and finish a
 * partial checksum as a guest would.
 */
#include <string.h>

#include <linux/virtio_net.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "vmp_test.h"
#include "vnet_test_util.h"

/* See vnet_test_util.h for the three helpers. */
uint32_t
vnet_test_tcp_frame(uint8_t *p, bool v6, uint32_t plen, uint32_t seq)
{
	struct rte_ether_hdr *eh = (void *)p;
	uint32_t l3 = v6 ? sizeof(struct rte_ipv6_hdr)
			 : sizeof(struct rte_ipv4_hdr),
		 l4 = 32, i;
	struct rte_tcp_hdr *th = (void *)(p + 14 + l3);
	uint8_t *pay = p + 14 + l3 + l4;

	memset(p, 0, 14 + l3 + l4);
	eh->dst_addr.addr_bytes[0] = 0x52;
	eh->src_addr.addr_bytes[0] = 0x54;
	eh->ether_type = rte_cpu_to_be_16(v6 ? RTE_ETHER_TYPE_IPV6
					     : RTE_ETHER_TYPE_IPV4);
	if (v6) {
		struct rte_ipv6_hdr *ip = (void *)(p + 14);

		ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
		ip->payload_len = rte_cpu_to_be_16((uint16_t)(l4 + plen));
		ip->proto = IPPROTO_TCP;
		ip->hop_limits = 64;
		ip->src_addr[15] = 1;
		ip->dst_addr[15] = 2;
		th->cksum = rte_ipv6_phdr_cksum(ip, RTE_MBUF_F_TX_TCP_SEG);
	} else {
		struct rte_ipv4_hdr *ip = (void *)(p + 14);

		ip->version_ihl = 0x45;
		ip->total_length = rte_cpu_to_be_16((uint16_t)(l3 + l4 + plen));
		ip->packet_id = rte_cpu_to_be_16(100);
		ip->time_to_live = 64;
		ip->next_proto_id = IPPROTO_TCP;
		ip->src_addr = rte_cpu_to_be_32(0x0a000001);
		ip->dst_addr = rte_cpu_to_be_32(0x0a000002);
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		th->cksum = rte_ipv4_phdr_cksum(ip, RTE_MBUF_F_TX_TCP_SEG);
	}
	th->src_port = rte_cpu_to_be_16(1000);
	th->dst_port = rte_cpu_to_be_16(2000);
	th->sent_seq = rte_cpu_to_be_32(seq);
	th->data_off = (uint8_t)((l4 / 4) << 4);
	th->tcp_flags = RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG;
	th->rx_win = rte_cpu_to_be_16(1000);
	for (i = 0; i < plen; i++)
		pay[i] = (uint8_t)((seq + i) * 7);
	return 14 + l3 + l4 + plen;
}

int
vnet_test_tcp_csum_ok(const uint8_t *p, bool v6)
{
	const void *l4 = p + 14 + (v6 ? 40 : 20);

	if (v6)
		return rte_ipv6_udptcp_cksum_verify((const void *)(p + 14),
						    l4) == 0;
	return rte_raw_cksum(p + 14, 20) == 0xffff &&
	       rte_ipv4_udptcp_cksum_verify((const void *)(p + 14), l4) == 0;
}

int
vnet_test_tcp_partial_complete(const struct virtio_net_hdr *vh, uint8_t *f,
			       int len, bool v6)
{
	uint16_t cs = vh->csum_start, ph;
	uint16_t *field = (uint16_t *)(f + cs + vh->csum_offset);

	TEST_ASSERT(vh->flags == VIRTIO_NET_HDR_F_NEEDS_CSUM &&
			    vh->gso_type == VIRTIO_NET_HDR_GSO_NONE,
		    "NEEDS_CSUM, no GSO");
	TEST_ASSERT(cs == 14 + (v6 ? 40 : 20) && vh->csum_offset == 16,
		    "csum_start %u csum_offset %u", cs, vh->csum_offset);
	ph = v6 ? rte_ipv6_phdr_cksum((const void *)(f + 14), 0)
		: rte_ipv4_phdr_cksum((const void *)(f + 14), 0);
	TEST_ASSERT_EQUAL(*field, ph, "pseudo-header sum in the field");
	*field = (uint16_t)~rte_raw_cksum(f + cs, (size_t)len - cs);
	return TEST_SUCCESS;
}
