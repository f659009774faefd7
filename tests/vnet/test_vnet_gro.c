/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * GRO for guests that take TSO (lib/vnet/vnet_gro.c): a host's in-order
 * segments of one flow, checked GOOD by their ethdev, become one TSO frame
 * that software segmentation turns back into exactly the same segments
 * (IPv4 and IPv6); each thing that must end a run ends it (a checksum not
 * checked GOOD, a sequence gap, another flow, other TCP options, flags
 * other than ACK/PSH, a longer segment, PSH, a shared or chained mbuf, the
 * 64 KiB IP limit); segments over the destination's MTU are left alone; a
 * destination without TSO gets the burst unchanged.
 */
#include <stdio.h>
#include <string.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include <vmp_vnet.h>

#include "../../lib/vnet/vnet_pvt.h" /* __vmp_vnet_gro_merge() */
#include "vmp_test.h"

#define MSS 1448
#define L4 32 /* TCP with timestamps */
#define MAXSEG 64
#define FMAX 9018 /* MTU 9000 + Ethernet header + VLAN tag */
#define CAPS_ALL (VMP_VNET_CAP_L4_CSUM | VMP_VNET_CAP_TSO4 | VMP_VNET_CAP_TSO6)

static struct rte_mempool *mp;
/* the segments as built, to compare the round trip with */
static uint8_t orig[MAXSEG][2048];
static uint32_t orig_len[MAXSEG];

/* Segment @i of a flow (IPv4 or IPv6, TCP with 12 option bytes, @plen
 * payload bytes at sequence number @seq, TCP flags @fl), checksums
 * complete, the ethdev's verdicts GOOD; a copy in orig[@i]. */
static struct rte_mbuf *
seg(bool v6, unsigned int i, uint32_t seq, uint32_t plen, uint8_t fl)
{
	uint32_t l3 = v6 ? 40 : 20, len = 14 + l3 + L4 + plen, k;
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	uint8_t *p;
	struct rte_tcp_hdr *th;

	if (m == NULL)
		return NULL;
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
	memset(p, 0, 14 + l3 + L4);
	p[0] = 0x52;
	p[6] = 0x02;
	*(rte_be16_t *)(p + 12) = rte_cpu_to_be_16(v6 ? RTE_ETHER_TYPE_IPV6
						      : RTE_ETHER_TYPE_IPV4);
	th = (void *)(p + 14 + l3);
	th->src_port = rte_cpu_to_be_16(5201);
	th->dst_port = rte_cpu_to_be_16(40000);
	th->sent_seq = rte_cpu_to_be_32(seq);
	th->recv_ack = rte_cpu_to_be_32(77);
	th->data_off = (L4 / 4) << 4;
	th->tcp_flags = fl;
	th->rx_win = rte_cpu_to_be_16(500);
	/* NOP NOP timestamps (TSval 1000, TSecr 2000) */
	memcpy((uint8_t *)th + 20,
	       (const uint8_t[]){1, 1, 8, 10, 0, 0, 3, 232, 0, 0, 7, 208}, 12);
	for (k = 0; k < plen; k++)
		p[14 + l3 + L4 + k] = (uint8_t)((seq + k) * 13);
	if (v6) {
		struct rte_ipv6_hdr *ip = (void *)(p + 14);

		ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
		ip->payload_len = rte_cpu_to_be_16((uint16_t)(L4 + plen));
		ip->proto = IPPROTO_TCP;
		ip->hop_limits = 64;
		ip->src_addr[0] = 0xfd;
		ip->src_addr[15] = 1;
		ip->dst_addr[0] = 0xfd;
		ip->dst_addr[15] = 2;
		th->cksum = rte_ipv6_udptcp_cksum(ip, th);
	} else {
		struct rte_ipv4_hdr *ip = (void *)(p + 14);

		ip->version_ihl = 0x45;
		ip->total_length = rte_cpu_to_be_16((uint16_t)(l3 + L4 + plen));
		ip->packet_id = rte_cpu_to_be_16((uint16_t)(300 + i));
		ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
		ip->time_to_live = 64;
		ip->next_proto_id = IPPROTO_TCP;
		ip->src_addr = rte_cpu_to_be_32(0x0a000001);
		ip->dst_addr = rte_cpu_to_be_32(0x0a000002);
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		th->cksum = rte_ipv4_udptcp_cksum(ip, th);
	}
	m->ol_flags = RTE_MBUF_F_RX_L4_CKSUM_GOOD |
		      (v6 ? 0 : RTE_MBUF_F_RX_IP_CKSUM_GOOD);
	if (i < MAXSEG) {
		memcpy(orig[i], p, len);
		orig_len[i] = len;
	}
	return m;
}

/* @n segments of a flow from sequence number 1000, MSS bytes each but the
 * last (@last bytes, PSH with it); 0 or -1. */
static int
flow(bool v6, struct rte_mbuf **m, unsigned int n, uint32_t last)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		bool end = i + 1 == n;

		m[i] = seg(v6, i, 1000 + i * MSS, end ? last : MSS,
			   RTE_TCP_ACK_FLAG | (end ? RTE_TCP_PSH_FLAG : 0));
		if (m[i] == NULL)
			return -1;
	}
	return 0;
}

/* n segments merged, then segmented in software again: the same bytes. */
static int
roundtrip(bool v6, unsigned int n, uint32_t last)
{
	struct rte_mbuf *m[MAXSEG], *out[VMP_VNET_GSO_MAX_SEGS];
	uint32_t l3 = v6 ? 40 : 20, hl = 14 + l3 + L4;
	const uint8_t *p;
	unsigned int i;
	int k;

	TEST_ASSERT_SUCCESS(flow(v6, m, n, last), "mbufs");
	TEST_ASSERT_EQUAL(__vmp_vnet_gro_merge(m, (uint16_t)n, CAPS_ALL, FMAX),
			  1, "%u segments into one frame", n);
	TEST_ASSERT_EQUAL(m[0]->nb_segs, n, "a chain of them");
	TEST_ASSERT_EQUAL(m[0]->pkt_len, hl + (n - 1) * MSS + last, "length");
	TEST_ASSERT_EQUAL(m[0]->tso_segsz, MSS, "gso_size");
	TEST_ASSERT(m[0]->ol_flags & RTE_MBUF_F_RX_LRO, "marked coalesced");
	TEST_ASSERT(m[0]->ol_flags & RTE_MBUF_F_TX_TCP_SEG, "a TSO request");
	p = rte_pktmbuf_mtod(m[0], const uint8_t *);
	if (v6) {
		const struct rte_ipv6_hdr *ip = (const void *)(p + 14);

		TEST_ASSERT_EQUAL(rte_be_to_cpu_16(ip->payload_len),
				  L4 + (n - 1) * MSS + last, "IPv6 length");
		TEST_ASSERT_EQUAL(*(const uint16_t *)(p + 14 + l3 + 16),
				  rte_ipv6_phdr_cksum(ip, 0),
				  "pseudo-header sum for NEEDS_CSUM");
	} else {
		const struct rte_ipv4_hdr *ip = (const void *)(p + 14);

		TEST_ASSERT_EQUAL(rte_be_to_cpu_16(ip->total_length),
				  l3 + L4 + (n - 1) * MSS + last,
				  "IPv4 length");
		TEST_ASSERT(rte_raw_cksum(ip, l3) == 0xffff, "IPv4 checksum");
		TEST_ASSERT_EQUAL(*(const uint16_t *)(p + 14 + l3 + 16),
				  rte_ipv4_phdr_cksum(ip, 0),
				  "pseudo-header sum for NEEDS_CSUM");
	}
	TEST_ASSERT(p[14 + l3 + 13] & RTE_TCP_PSH_FLAG, "PSH kept");
	k = vmp_vnet_offload_finish(m[0], 0, mp, out, RTE_DIM(out));
	TEST_ASSERT_EQUAL(k, (int)n, "segmented again into %u", n);
	for (i = 0; i < n; i++) {
		TEST_ASSERT_EQUAL(out[i]->pkt_len, orig_len[i], "seg %u len",
				  i);
		TEST_ASSERT(
			memcmp(rte_pktmbuf_mtod(out[i], void *), orig[i],
			       out[i]->data_len) == 0 &&
				(out[i]->next == NULL ||
				 memcmp(rte_pktmbuf_mtod(out[i]->next, void *),
					orig[i] + out[i]->data_len,
					orig_len[i] - out[i]->data_len) == 0),
			"segment %u as the host sent it", i);
	}
	rte_pktmbuf_free_bulk(out, (unsigned int)k);
	return TEST_SUCCESS;
}

static int
test_gro_roundtrip(void)
{
	TEST_ASSERT_SUCCESS(roundtrip(false, 20, 500), "IPv4");
	TEST_ASSERT_SUCCESS(roundtrip(true, 20, 500), "IPv6");
	TEST_ASSERT_SUCCESS(roundtrip(false, 2, MSS), "IPv4, two full");
	TEST_ASSERT_EQUAL(rte_mempool_in_use_count(mp), 0, "all freed");
	return TEST_SUCCESS;
}

/* How the third segment of a three-segment IPv4 burst is spoilt. */
enum spoil {
	SP_L4_BAD,
	SP_L4_UNKNOWN,
	SP_L4_NONE,
	SP_IP_BAD,
	SP_SEQ_GAP,
	SP_OTHER_PORT,
	SP_OTHER_TSVAL,
	SP_FIN,
	SP_LONGER,
	SP_SHARED,
	SP_CHAINED,
	SP_PSH_BEFORE, /* PSH on the second: the run ends there */
	SP_MAX
};

static int
spoilt(enum spoil s)
{
	struct rte_mbuf *m[3], *c = NULL;
	uint8_t *p;
	unsigned int i;
	uint16_t n;

	for (i = 0; i < 3; i++) {
		m[i] = seg(false, i, 1000 + i * MSS,
			   s == SP_LONGER && i == 2 ? MSS + 2 : MSS,
			   RTE_TCP_ACK_FLAG | (s == SP_PSH_BEFORE && i == 1
						       ? RTE_TCP_PSH_FLAG
						       : 0));
		TEST_ASSERT_NOT_NULL(m[i], "mbufs");
	}
	p = rte_pktmbuf_mtod(m[2], uint8_t *);
	switch (s) {
	case SP_L4_BAD:
	case SP_L4_UNKNOWN:
	case SP_L4_NONE:
		m[2]->ol_flags &= ~RTE_MBUF_F_RX_L4_CKSUM_MASK;
		m[2]->ol_flags |= s == SP_L4_BAD ? RTE_MBUF_F_RX_L4_CKSUM_BAD
				  : s == SP_L4_NONE
					  ? RTE_MBUF_F_RX_L4_CKSUM_NONE
					  : 0;
		break;
	case SP_IP_BAD:
		m[2]->ol_flags &= ~RTE_MBUF_F_RX_IP_CKSUM_MASK;
		m[2]->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_BAD;
		break;
	case SP_SEQ_GAP:
		p[34 + 7] ^= 1;
		break;
	case SP_OTHER_PORT:
		p[34 + 1] ^= 1;
		break;
	case SP_OTHER_TSVAL:
		p[34 + 20 + 7] ^= 1;
		break;
	case SP_FIN:
		p[34 + 13] |= RTE_TCP_FIN_FLAG;
		break;
	case SP_SHARED:
		rte_mbuf_refcnt_update(m[2], 1);
		break;
	case SP_CHAINED:
		c = rte_pktmbuf_alloc(mp);
		TEST_ASSERT_NOT_NULL(c, "mbuf");
		rte_pktmbuf_append(c, 2);
		rte_pktmbuf_trim(m[2], 2);
		TEST_ASSERT_SUCCESS(rte_pktmbuf_chain(m[2], c), "chain");
		break;
	default:
		break;
	}
	n = __vmp_vnet_gro_merge(m, 3, CAPS_ALL, FMAX);
	TEST_ASSERT_EQUAL(n, 2, "spoil %d: %u packets", s, n);
	TEST_ASSERT_EQUAL(m[0]->nb_segs, 2, "spoil %d: the first two merged",
			  s);
	TEST_ASSERT(m[1]->pkt_len == orig_len[2] &&
			    !(m[1]->ol_flags & VNET_OL_FLAGS),
		    "spoil %d: the third as it came", s);
	if (s == SP_SHARED)
		rte_pktmbuf_free(m[1]);
	rte_pktmbuf_free_bulk(m, 2);
	return TEST_SUCCESS;
}

static int
test_gro_run_ends(void)
{
	struct rte_mbuf *m[MAXSEG];
	int s;

	for (s = 0; s < SP_MAX; s++)
		TEST_ASSERT_SUCCESS(spoilt((enum spoil)s), "spoil %d", s);
	/* 50 full segments: 45 fit a 64 KiB IPv4 packet, 5 make another */
	TEST_ASSERT_SUCCESS(flow(false, m, 50, MSS), "mbufs");
	TEST_ASSERT_EQUAL(__vmp_vnet_gro_merge(m, 50, CAPS_ALL, FMAX), 2,
			  "64 KiB");
	TEST_ASSERT(m[0]->pkt_len - 14 <= 65535 && m[0]->nb_segs == 45 &&
			    m[1]->nb_segs == 5,
		    "45 + 5 segments");
	rte_pktmbuf_free_bulk(m, 2);
	/* no TSO for this destination (or not for IPv4): as they came */
	TEST_ASSERT_SUCCESS(flow(false, m, 4, MSS), "mbufs");
	TEST_ASSERT_EQUAL(
		__vmp_vnet_gro_merge(m, 4, VMP_VNET_CAP_L4_CSUM, FMAX), 4,
		"no TSO");
	TEST_ASSERT_EQUAL(
		__vmp_vnet_gro_merge(
			m, 4, VMP_VNET_CAP_L4_CSUM | VMP_VNET_CAP_TSO6, FMAX),
		4, "TSO6 only");
	/* segments over the destination's MTU are its drops: never merged */
	TEST_ASSERT_EQUAL(__vmp_vnet_gro_merge(m, 4, CAPS_ALL, 1500), 4,
			  "over the MTU");
	TEST_ASSERT(m[0]->nb_segs == 1 && !(m[0]->ol_flags & VNET_OL_FLAGS),
		    "untouched");
	rte_pktmbuf_free_bulk(m, 4);
	TEST_ASSERT_EQUAL(rte_mempool_in_use_count(mp), 0, "all freed");
	return TEST_SUCCESS;
}

static int
setup(void)
{
	mp = rte_pktmbuf_pool_create("vnet_gro", 1023, 0, 0,
				     RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	TEST_ASSERT_NOT_NULL(mp, "mempool");
	return TEST_SUCCESS;
}

static void
teardown(void)
{
	rte_mempool_free(mp);
}

static struct vmp_test_suite gro_suite = {
	.name = "vnet: GRO of a host's segments for TSO guests",
	.setup = setup,
	.teardown = teardown,
	.cases =
		{
			TEST_CASE(test_gro_roundtrip),
			TEST_CASE(test_gro_run_ends),
			TEST_CASES_END(),
		},
};

static int
test_vnet_gro(void)
{
	return vmp_test_suite_run(&gro_suite);
}

REGISTER_TEST_COMMAND(vnet_gro_autotest, test_vnet_gro);
