/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vmp_vnet_offload_finish()'s software TCP segmentation on frames whose
 * mbuf layout is not the friendly one: chains of odd-length mbufs (payload
 * pieces that start at odd offsets of a segment, whose sums must be byte
 * swapped), a frame shared with another holder, a frame of indirect mbufs
 * (a clone), and a pool that runs dry half way (the frame must come back
 * as it was). Every segment's IP and TCP checksums and bytes are checked,
 * and every mbuf reference is accounted for afterwards. The partial form
 * (for a destination that takes checksum requests but not TSO) is checked
 * as its receiver sees it: the TCP field holds the pseudo-header sum, and
 * completing it (and the IPv4 header checksum when that is left too) gives
 * the segments a full segmentation makes.
 */
#include <string.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include <vmp_vnet.h>

#include "vmp_test.h"
#include "vnet_test_util.h"

#define MSS 1000
#define PLEN 7777 /* 8 segments, the last 777 bytes */
#define NSEG 8
#define HL_V4 (14 + 20 + 32)
#define HL_V6 (14 + 40 + 32)

static struct rte_mempool *mp;

/* The frame's bytes: headers (TCP with 12 option bytes), then a pattern. */
static uint32_t
frame_bytes(uint8_t *p, bool v6)
{
	uint32_t l3 = v6 ? 40 : 20, i;
	struct rte_tcp_hdr *th = (void *)(p + 14 + l3);

	memset(p, 0, 14 + l3 + 32);
	((struct rte_ether_hdr *)p)->ether_type = rte_cpu_to_be_16(
		v6 ? RTE_ETHER_TYPE_IPV6 : RTE_ETHER_TYPE_IPV4);
	if (v6) {
		struct rte_ipv6_hdr *ip = (void *)(p + 14);

		ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
		ip->payload_len = rte_cpu_to_be_16(32 + PLEN);
		ip->proto = IPPROTO_TCP;
		ip->hop_limits = 64;
		ip->src_addr[15] = 1;
		ip->dst_addr[15] = 2;
	} else {
		struct rte_ipv4_hdr *ip = (void *)(p + 14);

		ip->version_ihl = 0x45;
		ip->total_length = rte_cpu_to_be_16(20 + 32 + PLEN);
		ip->time_to_live = 64;
		ip->next_proto_id = IPPROTO_TCP;
		ip->src_addr = rte_cpu_to_be_32(0x0a000001);
		ip->dst_addr = rte_cpu_to_be_32(0x0a000002);
	}
	th->sent_seq = rte_cpu_to_be_32(0xfffff000);
	th->data_off = 8 << 4;
	th->tcp_flags = RTE_TCP_ACK_FLAG;
	for (i = 0; i < PLEN; i++)
		p[14 + l3 + 32 + i] = (uint8_t)(i * 13 + (i >> 8));
	return 14 + l3 + 32 + PLEN;
}

/* The frame as a chain whose mbufs hold @cut[0], @cut[1], ... bytes (the
 * last one the rest), with its TSO request. */
static struct rte_mbuf *
frame(bool v6, const uint16_t *cut, unsigned int ncut)
{
	static uint8_t buf[HL_V6 + PLEN];
	uint32_t len = frame_bytes(buf, v6);
	struct rte_mbuf *m =
		vnet_test_chain(mp, buf, len, cut, ncut, UINT16_MAX);

	if (m == NULL)
		return NULL;
	m->ol_flags = RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_TCP_CKSUM |
		      (v6 ? RTE_MBUF_F_TX_IPV6
			  : RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM);
	m->l2_len = 14;
	m->l3_len = v6 ? 40 : 20;
	m->l4_len = 32;
	m->tso_segsz = MSS;
	return m;
}

/* The @n segments of a frame: sizes, sequence numbers, checksums, bytes. */
static int
segs_ok(struct rte_mbuf **out, int n, bool v6)
{
	static uint8_t ref[HL_V6 + PLEN], lin[HL_V6 + MSS];
	uint32_t hl = v6 ? HL_V6 : HL_V4, l3 = v6 ? 40 : 20;
	int i;

	frame_bytes(ref, v6);
	TEST_ASSERT_EQUAL(n, NSEG, "segments");
	for (i = 0; i < n; i++) {
		uint32_t plen =
			RTE_MIN((uint32_t)MSS, PLEN - (uint32_t)i * MSS);
		const uint8_t *p;
		const struct rte_tcp_hdr *th;

		TEST_ASSERT_EQUAL(out[i]->pkt_len, hl + plen, "segment %d size",
				  i);
		p = rte_pktmbuf_read(out[i], 0, hl + plen, lin);
		th = (const void *)(p + 14 + l3);
		TEST_ASSERT_EQUAL(rte_be_to_cpu_32(th->sent_seq),
				  0xfffff000u + (uint32_t)i * MSS, "seq %d", i);
		if (v6)
			TEST_ASSERT(rte_ipv6_udptcp_cksum_verify(
					    (const void *)(p + 14), th) == 0,
				    "segment %d TCP checksum", i);
		else
			TEST_ASSERT(rte_raw_cksum(p + 14, 20) == 0xffff &&
					    rte_ipv4_udptcp_cksum_verify(
						    (const void *)(p + 14),
						    th) == 0,
				    "segment %d IP/TCP checksums", i);
		TEST_ASSERT(
			memcmp(p + hl, ref + hl + (uint32_t)i * MSS, plen) == 0,
			"segment %d bytes", i);
	}
	return TEST_SUCCESS;
}

/* Odd-length mbufs: pieces at odd offsets of a segment's payload. */
static const uint16_t odd_cut[] = {HL_V6 + 333, 999, 1,	   1001,
				   777,		3,   2047, 1501};

static int
test_odd_chain(void)
{
	unsigned int free0 = rte_mempool_avail_count(mp);
	struct rte_mbuf *m, *out[NSEG + 2];
	int v, n;

	for (v = 0; v < 2; v++) {
		m = frame(v, odd_cut, RTE_DIM(odd_cut));
		TEST_ASSERT_NOT_NULL(m, "frame");
		n = vmp_vnet_offload_finish(m, 0, mp, out, RTE_DIM(out));
		TEST_ASSERT_SUCCESS(segs_ok(out, n, v), "IPv%d", v ? 6 : 4);
		rte_pktmbuf_free_bulk(out, (unsigned int)n);
		TEST_ASSERT_EQUAL(rte_mempool_avail_count(mp), free0,
				  "every mbuf back in the pool (IPv%d)",
				  v ? 6 : 4);
	}
	return TEST_SUCCESS;
}

/* A checksum request alone on an odd chain (completed in place). */
static int
test_odd_chain_csum(void)
{
	static uint8_t lin[HL_V6 + PLEN];
	struct rte_mbuf *m, *out[1];
	const uint8_t *p;
	int v;

	for (v = 0; v < 2; v++) {
		m = frame(v, odd_cut, RTE_DIM(odd_cut));
		TEST_ASSERT_NOT_NULL(m, "frame");
		m->ol_flags &= ~RTE_MBUF_F_TX_TCP_SEG;
		TEST_ASSERT_EQUAL(vmp_vnet_offload_finish(m, 0, mp, out, 1), 1,
				  "finished");
		p = rte_pktmbuf_read(out[0], 0, out[0]->pkt_len, lin);
		TEST_ASSERT(
			v ? rte_ipv6_udptcp_cksum_verify((const void *)(p + 14),
							 p + HL_V6 - 32) == 0
			  : rte_raw_cksum(p + 14, 20) == 0xffff &&
					rte_ipv4_udptcp_cksum_verify(
						(const void *)(p + 14),
						p + HL_V4 - 32) == 0,
			"IPv%d checksums", v ? 6 : 4);
		rte_pktmbuf_free(out[0]);
	}
	return TEST_SUCCESS;
}

/* Another holder of the frame keeps it, unchanged, with its references. */
static int
test_shared_and_clone(void)
{
	unsigned int free0 = rte_mempool_avail_count(mp);
	struct rte_mbuf *m, *c, *s, *out[NSEG + 2];
	int n;

	m = frame(false, odd_cut, RTE_DIM(odd_cut));
	TEST_ASSERT_NOT_NULL(m, "frame");
	for (s = m; s != NULL; s = s->next)
		rte_mbuf_refcnt_update(s, 1);
	n = vmp_vnet_offload_finish(m, 0, mp, out, RTE_DIM(out));
	TEST_ASSERT_SUCCESS(segs_ok(out, n, false), "shared frame");
	rte_pktmbuf_free_bulk(out, (unsigned int)n);
	for (s = m; s != NULL; s = s->next)
		TEST_ASSERT_EQUAL(rte_mbuf_refcnt_read(s), 1,
				  "the other holder's reference only");
	/* a clone: indirect mbufs over the frame */
	c = rte_pktmbuf_clone(m, mp);
	TEST_ASSERT_NOT_NULL(c, "clone");
	n = vmp_vnet_offload_finish(c, 0, mp, out, RTE_DIM(out));
	TEST_ASSERT_SUCCESS(segs_ok(out, n, false), "clone");
	rte_pktmbuf_free_bulk(out, (unsigned int)n);
	for (s = m; s != NULL; s = s->next)
		TEST_ASSERT_EQUAL(rte_mbuf_refcnt_read(s), 1,
				  "clone's references released");
	rte_pktmbuf_free(m);
	TEST_ASSERT_EQUAL(rte_mempool_avail_count(mp), free0,
			  "every mbuf back in the pool");
	return TEST_SUCCESS;
}

/* The pool runs dry after @k mbufs: -ENOMEM, the frame as it was. */
static int
test_nomem_unwind(void)
{
	unsigned int free0 = rte_mempool_avail_count(mp), k, i, nh;
	struct rte_mbuf *m, *s, *out[NSEG + 2], *hold[512];
	int n;

	for (k = 1; k < 3 * NSEG; k += 3) {
		m = frame(false, odd_cut, RTE_DIM(odd_cut));
		TEST_ASSERT_NOT_NULL(m, "frame");
		nh = rte_mempool_avail_count(mp) - k;
		TEST_ASSERT(nh <= RTE_DIM(hold), "pool small enough");
		TEST_ASSERT_SUCCESS(rte_pktmbuf_alloc_bulk(mp, hold, nh),
				    "hold");
		n = vmp_vnet_offload_finish(m, 0, mp, out, RTE_DIM(out));
		TEST_ASSERT_EQUAL(n, -ENOMEM, "%u mbufs: %d", k, n);
		TEST_ASSERT_EQUAL(rte_mempool_avail_count(mp), k,
				  "%u mbufs given back", k);
		for (s = m, i = 0; s != NULL; s = s->next, i++)
			TEST_ASSERT_EQUAL(rte_mbuf_refcnt_read(s), 1,
					  "mbuf %u of the frame refcnt", i);
		rte_pktmbuf_free_bulk(hold, nh);
		n = vmp_vnet_offload_finish(m, 0, mp, out, RTE_DIM(out));
		TEST_ASSERT_SUCCESS(segs_ok(out, n, false), "after %u", k);
		rte_pktmbuf_free_bulk(out, (unsigned int)n);
		TEST_ASSERT_EQUAL(rte_mempool_avail_count(mp), free0,
				  "every mbuf back in the pool");
	}
	return TEST_SUCCESS;
}

/* What a receiver of partial segment @s does: the TCP checksum completed
 * from its pseudo-header sum (checked to be there), and the IPv4 header
 * checksum if @s asks for it; then @s is as a full segmentation makes it. */
static int
partial_complete(struct rte_mbuf *s, bool v6, uint64_t want_fl)
{
	static uint8_t lin[HL_V6 + MSS];
	uint32_t l3 = v6 ? 40 : 20, l4o = 14 + l3;
	void *ip = rte_pktmbuf_mtod_offset(s, void *, 14);
	struct rte_tcp_hdr *th = rte_pktmbuf_mtod_offset(s, void *, l4o);
	uint16_t ph;
	const uint8_t *p;

	TEST_ASSERT_EQUAL_U64(s->ol_flags, want_fl, "requests left");
	TEST_ASSERT(s->l2_len == 14 && s->l3_len == l3 && s->l4_len == 32,
		    "header lengths");
	TEST_ASSERT(s->data_len >= l4o + 32, "headers in the first mbuf");
	if (s->ol_flags & RTE_MBUF_F_TX_IP_CKSUM) {
		TEST_ASSERT_EQUAL(((struct rte_ipv4_hdr *)ip)->hdr_checksum, 0,
				  "IP checksum left at 0");
		((struct rte_ipv4_hdr *)ip)->hdr_checksum = rte_ipv4_cksum(ip);
	}
	ph = v6 ? rte_ipv6_phdr_cksum(ip, 0) : rte_ipv4_phdr_cksum(ip, 0);
	TEST_ASSERT_EQUAL(th->cksum, ph, "pseudo-header sum in the field");
	/* the sum from csum_start to the end, field included (RFC 1071) */
	p = rte_pktmbuf_read(s, 0, s->pkt_len, lin);
	th->cksum = (uint16_t)~rte_raw_cksum(p + l4o, s->pkt_len - l4o);
	return TEST_SUCCESS;
}

/* A destination that takes L4 checksum requests (a guest with GUEST_CSUM;
 * and the IPv4 header checksum: an ethdev): partial segments. */
static int
test_partial(void)
{
	static const uint32_t caps[] = {
		VMP_VNET_CAP_L4_CSUM,
		VMP_VNET_CAP_L4_CSUM | VMP_VNET_CAP_IP_CSUM,
		/* TSO of the other IP version only */
		VMP_VNET_CAP_L4_CSUM | VMP_VNET_CAP_TSO6,
	};
	unsigned int free0 = rte_mempool_avail_count(mp), c;
	struct rte_mbuf *m, *out[NSEG + 2];
	uint32_t cp;
	uint64_t fl;
	int v, n, i;

	for (c = 0; c < RTE_DIM(caps); c++)
		for (v = 0; v < 2; v++) {
			m = frame(v, odd_cut, RTE_DIM(odd_cut));
			TEST_ASSERT_NOT_NULL(m, "frame");
			cp = caps[c];
			if (v && (cp & VMP_VNET_CAP_TSO6))
				cp ^= VMP_VNET_CAP_TSO6 | VMP_VNET_CAP_TSO4;
			n = vmp_vnet_offload_finish(m, cp, mp, out,
						    RTE_DIM(out));
			fl = RTE_MBUF_F_TX_TCP_CKSUM |
			     (v ? RTE_MBUF_F_TX_IPV6
				: RTE_MBUF_F_TX_IPV4 |
					      ((caps[c] & VMP_VNET_CAP_IP_CSUM)
						       ? RTE_MBUF_F_TX_IP_CKSUM
						       : 0));
			TEST_ASSERT_EQUAL(n, NSEG, "caps 0x%x IPv%d: %d",
					  caps[c], v ? 6 : 4, n);
			for (i = 0; i < n; i++)
				TEST_ASSERT_SUCCESS(
					partial_complete(out[i], v, fl),
					"caps 0x%x IPv%d segment %d", caps[c],
					v ? 6 : 4, i);
			TEST_ASSERT_SUCCESS(segs_ok(out, n, v),
					    "caps 0x%x IPv%d completed",
					    caps[c], v ? 6 : 4);
			rte_pktmbuf_free_bulk(out, (unsigned int)n);
			TEST_ASSERT_EQUAL(rte_mempool_avail_count(mp), free0,
					  "every mbuf back in the pool");
		}
	return TEST_SUCCESS;
}

static int
setup(void)
{
	/* no per-lcore cache: avail_count is exact */
	mp = rte_pktmbuf_pool_create("vnet_gso_t", 255, 0, 0,
				     RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	return mp == NULL ? -1 : 0;
}

static void
teardown(void)
{
	rte_mempool_free(mp);
	mp = NULL;
}

static struct vmp_test_suite gso_suite = {
	.name = "vnet: software TCP segmentation",
	.setup = setup,
	.teardown = teardown,
	.cases =
		{
			TEST_CASE(test_odd_chain),
			TEST_CASE(test_odd_chain_csum),
			TEST_CASE(test_shared_and_clone),
			TEST_CASE(test_nomem_unwind),
			TEST_CASE(test_partial),
			TEST_CASES_END(),
		},
};

static int
test_vnet_gso(void)
{
	return vmp_test_suite_run(&gso_suite);
}

REGISTER_TEST_COMMAND(vnet_gso_autotest, test_vnet_gso);
