/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Cost of segmenting one 64 KiB TCP/IPv4 TSO frame (MSS 1448, 46 segments)
 * in software, in TSC cycles per output segment: vmp_vnet_offload_finish()
 * (headers copied, payload attached as indirect mbufs, every checksum filled)
 * against DPDK's rte_gso_segment() (indirect mbufs over the payload, no
 * checksums) alone and followed by the IP and TCP checksums a destination
 * without offloads needs; and vmp_vnet_offload_finish() for a destination
 * that takes TCP checksum requests (partial segments, payload not read:
 * like for like with rte_gso_segment()), with the IPv4 header checksum
 * filled (a guest with GUEST_CSUM) or left too (an ethdev with both
 * checksum offloads). Prints a table of medians; asserts nothing about
 * speed. VNET_GSO_PERF_REPS (default 2001) frames per column;
 * VNET_GSO_PERF_ONLY=K runs way K (0..4, the table's rows) alone, for a
 * profiler.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_gso.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include <vmp_vnet.h>

#include "vmp_test.h"
#include "vnet_test_util.h"

#define MSS 1448
#define HL (14 + 20 + 20)
#define PAYLOAD (65535 - 20 - 20)
#define MAXSEG 64

static struct rte_mempool *dpool, *ipool;

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The frame as an mbuf chain with its TSO request. */
static struct rte_mbuf *
frame(void)
{
	static uint8_t buf[HL + PAYLOAD];
	struct rte_ipv4_hdr *ip = (void *)(buf + 14);
	struct rte_tcp_hdr *th = (void *)(buf + 34);
	struct rte_mbuf *m;
	uint32_t i;

	memset(buf, 0, HL);
	((struct rte_ether_hdr *)buf)->ether_type =
		rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16(20 + 20 + PAYLOAD);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	th->data_off = 5 << 4;
	th->tcp_flags = RTE_TCP_ACK_FLAG;
	for (i = 0; i < PAYLOAD; i++)
		buf[HL + i] = (uint8_t)i;
	/* every mbuf filled to its data room, as a driver's RX chain */
	m = vnet_test_chain(dpool, buf, sizeof(buf), NULL, 0,
			    RTE_MBUF_DEFAULT_DATAROOM);
	if (m == NULL)
		return NULL;
	m->ol_flags = RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_IPV4 |
		      RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM;
	m->l2_len = 14;
	m->l3_len = 20;
	m->l4_len = 20;
	m->tso_segsz = MSS;
	return m;
}

/* The checksums a destination without offloads needs, on each segment. */
static void
cksum_segs(struct rte_mbuf **s, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		struct rte_ipv4_hdr *ip =
			rte_pktmbuf_mtod_offset(s[i], void *, 14);
		struct rte_tcp_hdr *th =
			rte_pktmbuf_mtod_offset(s[i], void *, 34);

		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		th->cksum = 0;
		th->cksum = rte_ipv4_udptcp_cksum_mbuf(s[i], ip, 34);
	}
}

enum { K_VNET, K_GSO, K_GSO_CSUM, K_VNET_PART, K_VNET_PART_IP, K_N };
static const char *const kname[K_N] = {
	"vmp_vnet_offload_finish (indirect + checksums)",
	"rte_gso_segment (indirect, no checksums)",
	"rte_gso_segment + IP/TCP checksums",
	"vmp_vnet_offload_finish partial (IP csum)",
	"vmp_vnet_offload_finish partial (no csums)",
};
/* what the destination of each vmp_vnet_offload_finish() way takes */
static const uint32_t kcaps[K_N] = {
	[K_VNET_PART] = VMP_VNET_CAP_L4_CSUM,
	[K_VNET_PART_IP] = VMP_VNET_CAP_L4_CSUM | VMP_VNET_CAP_IP_CSUM,
};

/* Cycles per output segment of one frame by way @k; 0 on failure. */
static uint64_t
one(struct rte_mbuf *m, int k, struct rte_gso_ctx *ctx)
{
	struct rte_mbuf *out[MAXSEG], *seg;
	uint64_t t0, t1;
	int n;

	/* rte_gso_segment() clears the request of the frame it segments */
	m->ol_flags = RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_IPV4 |
		      RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM;
	/* both ways consume one reference to every segment of the frame, which
	 * every rep reuses */
	for (seg = m; seg != NULL; seg = seg->next)
		rte_mbuf_refcnt_update(seg, 1);
	t0 = rte_rdtsc_precise();
	if (k == K_VNET || k == K_VNET_PART || k == K_VNET_PART_IP) {
		n = vmp_vnet_offload_finish(m, kcaps[k], dpool, out, MAXSEG);
	} else {
		n = rte_gso_segment(m, ctx, out, MAXSEG);
		if (k == K_GSO_CSUM && n > 0)
			cksum_segs(out, n);
	}
	t1 = rte_rdtsc_precise();
	if (n <= 0)
		return 0;
	rte_pktmbuf_free_bulk(out, (unsigned int)n);
	return (t1 - t0) / (uint64_t)n;
}

static int
test_vnet_gso_perf(void)
{
	struct rte_gso_ctx ctx;
	const char *e = getenv("VNET_GSO_PERF_REPS");
	const char *only = getenv("VNET_GSO_PERF_ONLY");
	unsigned int reps = e ? (unsigned int)atoi(e) : 2001, r;
	uint64_t *c[K_N], med[K_N];
	struct rte_mbuf *m;
	int k;

	dpool = rte_pktmbuf_pool_create("gso_perf_d", 4095, 256, 0,
					RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	ipool = rte_pktmbuf_pool_create("gso_perf_i", 4095, 256, 0, 0, 0);
	TEST_ASSERT(dpool != NULL && ipool != NULL, "pools");
	memset(&ctx, 0, sizeof(ctx));
	ctx.direct_pool = dpool;
	ctx.indirect_pool = ipool;
	ctx.gso_types = RTE_ETH_TX_OFFLOAD_TCP_TSO;
	ctx.gso_size = HL + MSS;
	m = frame();
	TEST_ASSERT_NOT_NULL(m, "frame");
	if (reps < 3)
		reps = 3;
	for (k = 0; k < K_N; k++) {
		c[k] = calloc(reps, sizeof(uint64_t));
		TEST_ASSERT_NOT_NULL(c[k], "memory");
	}
	/* interleaved, so load changes hit every column alike */
	for (r = 0; r < reps; r++)
		for (k = 0; k < K_N; k++) {
			if (only != NULL && atoi(only) != k) {
				c[k][r] = 1;
				continue;
			}
			c[k][r] = one(m, k, &ctx);
			TEST_ASSERT(c[k][r] != 0, "%s failed", kname[k]);
		}
	printf("64 KiB TCP/IPv4 frame (%u payload bytes, MSS %u: %u segments), "
	       "%u frames each, TSC cycles per output segment\n",
	       PAYLOAD, MSS, (PAYLOAD + MSS - 1) / MSS, reps);
	printf("%-45s %10s %10s %10s %8s\n", "way", "p10", "median", "p90",
	       "ratio");
	for (k = 0; k < K_N; k++) {
		qsort(c[k], reps, sizeof(uint64_t), cmp_u64);
		med[k] = c[k][reps / 2];
	}
	for (k = 0; k < K_N; k++)
		printf("%-45s %10" PRIu64 " %10" PRIu64 " %10" PRIu64
		       " %8.2f\n",
		       kname[k], c[k][reps / 10], med[k], c[k][reps * 9 / 10],
		       (double)med[k] / (double)med[K_GSO]);
	for (k = 0; k < K_N; k++)
		free(c[k]);
	rte_pktmbuf_free(m);
	rte_mempool_free(ipool);
	rte_mempool_free(dpool);
	return TEST_SUCCESS;
}

REGISTER_TEST_COMMAND(vnet_gso_perf_autotest, test_vnet_gso_perf);
