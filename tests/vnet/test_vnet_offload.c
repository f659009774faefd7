/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/vnet's checksum and TSO offloads against crafted rings: two ports that
 * offer them, one frontend negotiating only the guest TX side (CSUM,
 * HOST_TSO4/6: what it receives must be finished in software), the other
 * everything (GUEST_CSUM, GUEST_TSO4/6 too: it receives offload requests in
 * the header). Checks that good headers become mbuf requests, that every
 * kind of malformed header is dropped and counted by reason, that a header
 * the guest rewrites after it was read changes nothing, and that a TSO frame
 * reaches each guest in the form that guest agreed to: whole with a header,
 * or as segments with the right sizes, sequence numbers, checksums and bytes
 * (a third frontend negotiates GUEST_CSUM but not GUEST_TSO4/6: its
 * segments carry partial checksums that it completes), and that a frame
 * whose L4 checksum an ethdev found good reaches a GUEST_CSUM guest with
 * DATA_VALID, any other verdict without.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/virtio_net.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include <vmp_config.h>
#include <vmp_vnet.h>
#if VMP_HAS_DMA_DRIVER
#include <rte_pmd_swdma.h>
#endif

#include "vhu_front.h"
#include "vnet_test_util.h"
#include "vmp_test.h"
#include "vmp_test_wait.h"

#define RXQ 0
#define TXQ 1
#define HDR 12
#define BUF(k) (VHU_GPA_BASE + 0x10000 + (uint64_t)(k)*0x1000)
#define MSS 1448
#define FRAME_PAYLOAD 20000 /* 14 segments of MSS */
#define RXBUF 2048

/* A guest: its port, its frontend. */
struct og {
	struct vmp_vnet_port *port;
	struct vhu_front fr;
	char path[64];
	uint16_t rx_next; /* next RX descriptor to post */
};

static struct rte_mempool *mp;
static struct og ga; /* guest TX offloads only */
static struct og gb; /* every offload */
static struct og gc; /* guest TX offloads and GUEST_CSUM */

static const uint64_t base_f =
	(1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_NET_F_MRG_RXBUF) |
	(1ULL << VIRTIO_RING_F_INDIRECT_DESC) | (1ULL << 30);
static const uint64_t tx_f = (1ULL << VIRTIO_NET_F_CSUM) |
			     (1ULL << VIRTIO_NET_F_HOST_TSO4) |
			     (1ULL << VIRTIO_NET_F_HOST_TSO6);
static const uint64_t rx_f = (1ULL << VIRTIO_NET_F_GUEST_CSUM) |
			     (1ULL << VIRTIO_NET_F_GUEST_TSO4) |
			     (1ULL << VIRTIO_NET_F_GUEST_TSO6);

static struct vmp_vnet_vq_stats
stats(struct og *g, uint16_t vring)
{
	struct vmp_vnet_vq_stats st;

	vmp_vnet_vq_stats_get(g->port, vring, &st);
	return st;
}

static int
og_open(struct og *g, const char *tag, uint64_t features)
{
	struct vmp_vnet_port_conf pc = {
		.nb_qp = 1,
		.socket_id = 0,
		.mp = mp,
		.offloads = VMP_VNET_OL_CSUM | VMP_VNET_OL_TSO,
		/* IPv6 segments of MSS 1448 with TCP options are 1534 B */
		.mtu = 9000,
	};
	struct vmp_vnet_port_info in = {0};
	struct vmp_test_wait w;

	snprintf(g->path, sizeof(g->path), "/tmp/vmpt-ol%s-%d.sock", tag,
		 getpid());
	unlink(g->path);
	pc.path = g->path;
	g->port = vmp_vnet_port_create(&pc);
	TEST_ASSERT_NOT_NULL(g->port, "port create");
	TEST_ASSERT_SUCCESS(vhu_front_open(&g->fr, g->path, features),
			    "frontend");
	for (vnet_test_wait_init(&w, "port state");
	     vmp_test_wait_check(&w, 0) == 0;) {
		vmp_vnet_port_info_get(g->port, &in);
		if (in.connected && in.running == 3)
			break;
		usleep(10000);
	}
	TEST_ASSERT_EQUAL(in.running, 3, "both vrings run");
	TEST_ASSERT_EQUAL_U64(in.features & (tx_f | rx_f),
			      features & (tx_f | rx_f), "offloads negotiated");
	return TEST_SUCCESS;
}

static int
setup(void)
{
	struct vmp_vnet_port_conf bad = {.nb_qp = 1, .path = "/tmp/x"};

	mp = rte_pktmbuf_pool_create("vnet_offload", 2047, 0, 0,
				     RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	TEST_ASSERT_NOT_NULL(mp, "mempool");
	bad.mp = mp;
	bad.offloads = VMP_VNET_OL_TSO; /* TSO without CSUM */
	TEST_ASSERT_NULL(vmp_vnet_port_create(&bad), "TSO needs CSUM");
	TEST_ASSERT_SUCCESS(og_open(&ga, "a", base_f | tx_f), "guest a");
	TEST_ASSERT_SUCCESS(og_open(&gb, "b", base_f | tx_f | rx_f), "guest b");
	TEST_ASSERT_SUCCESS(
		og_open(&gc, "c",
			base_f | tx_f | (1ULL << VIRTIO_NET_F_GUEST_CSUM)),
		"guest c");
	return TEST_SUCCESS;
}

static void
og_close(struct og *g)
{
	vhu_front_close(&g->fr);
	vmp_vnet_port_destroy(g->port);
	unlink(g->path);
}

static void
teardown(void)
{
	og_close(&ga);
	og_close(&gb);
	og_close(&gc);
	rte_mempool_free(mp);
}

static void
desc(struct og *g, unsigned int r, uint16_t i, uint64_t addr, uint32_t len,
     uint16_t flags, uint16_t next)
{
	struct vring_desc *d = &g->fr.ring[r].desc[i];

	d->addr = addr;
	d->len = len;
	d->flags = flags;
	d->next = next;
}

/* Guest TX of header @vh and a frame of @flen bytes already at BUF(64) on:
 * header in its own descriptor (as Linux sends it), frame in the next. */
static void
tx_post(struct og *g, const struct virtio_net_hdr *vh, uint32_t flen)
{
	uint8_t *h = vhu_gpa(&g->fr, BUF(60));

	memset(h, 0, HDR);
	memcpy(h, vh, sizeof(*vh));
	desc(g, TXQ, 0, BUF(60), HDR, VRING_DESC_F_NEXT, 1);
	desc(g, TXQ, 1, BUF(64), flen, 0, 0);
	vhu_front_post(&g->fr, TXQ, 0);
}

/* Dequeue what @g sent: @n packets into @m (the rest freed). */
static int
tx_take(struct og *g, struct rte_mbuf **m, unsigned int n, const char *what)
{
	struct rte_mbuf *got[4];
	struct vring_used_elem e;
	uint16_t k, i;

	k = vmp_vnet_dequeue_burst(g->port, 0, got, 4);
	for (i = 0; i < k; i++) {
		if (i < n && m != NULL)
			m[i] = got[i];
		else
			rte_pktmbuf_free(got[i]);
	}
	TEST_ASSERT_EQUAL(k, n, "%s: packets", what);
	TEST_ASSERT_SUCCESS(vhu_front_used(&g->fr, TXQ, &e),
			    "%s: chain returned", what);
	return TEST_SUCCESS;
}

static struct virtio_net_hdr
hdr_gso(bool v6, uint16_t gso_size)
{
	struct virtio_net_hdr vh = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.gso_type = v6 ? VIRTIO_NET_HDR_GSO_TCPV6
			       : VIRTIO_NET_HDR_GSO_TCPV4,
		.hdr_len = 0,
		.gso_size = gso_size,
		.csum_start = (uint16_t)(14 + (v6 ? 40 : 20)),
		.csum_offset = 16,
	};

	return vh;
}

/* A GSO frame from guest a as one TSO mbuf (chain). */
static struct rte_mbuf *
tso_from_guest(bool v6, uint32_t seq)
{
	struct virtio_net_hdr vh = hdr_gso(v6, MSS);
	uint32_t flen = vnet_test_tcp_frame(vhu_gpa(&ga.fr, BUF(64)), v6,
					    FRAME_PAYLOAD, seq);
	struct rte_mbuf *m = NULL;

	tx_post(&ga, &vh, flen);
	if (tx_take(&ga, &m, 1, "gso frame") != TEST_SUCCESS)
		return NULL;
	return m;
}

static int
test_tx_requests(void)
{
	struct virtio_net_hdr vh = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.csum_start = 34,
		.csum_offset = 16,
	};
	uint64_t ip4 = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
	struct rte_mbuf *m;
	int v6;

	/* partial checksum -> L4 request */
	tx_post(&ga, &vh,
		vnet_test_tcp_frame(vhu_gpa(&ga.fr, BUF(64)), false, 100, 1));
	TEST_ASSERT_SUCCESS(tx_take(&ga, &m, 1, "csum"), "csum");
	TEST_ASSERT_EQUAL_U64(m->ol_flags,
			      RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM,
			      "csum flags");
	TEST_ASSERT(m->l2_len == 14 && m->l3_len == 20 && m->l4_len == 32,
		    "csum lengths %u/%u/%u", m->l2_len, m->l3_len, m->l4_len);
	TEST_ASSERT_EQUAL(m->pkt_len, 14 + 20 + 32 + 100, "no header");
	rte_pktmbuf_free(m);
	/* GSO frames (64 KiB class) -> TSO requests in mbuf chains */
	for (v6 = 0; v6 < 2; v6++) {
		m = tso_from_guest(v6, 5000);
		TEST_ASSERT_NOT_NULL(m, "gso frame v6=%d", v6);
		TEST_ASSERT_EQUAL_U64(m->ol_flags,
				      RTE_MBUF_F_TX_TCP_SEG |
					      RTE_MBUF_F_TX_TCP_CKSUM |
					      (v6 ? RTE_MBUF_F_TX_IPV6 : ip4),
				      "tso flags v6=%d", v6);
		TEST_ASSERT_EQUAL(m->tso_segsz, MSS, "tso_segsz");
		TEST_ASSERT(m->nb_segs > 1, "a chain");
		TEST_ASSERT_EQUAL(m->l3_len, v6 ? 40 : 20, "l3_len");
		rte_pktmbuf_free(m);
	}
	TEST_ASSERT_EQUAL_U64(stats(&ga, TXQ).ol_tso, 2, "TSO counted");
	TEST_ASSERT_EQUAL_U64(stats(&ga, TXQ).ol_csum, 1, "csum counted");
	return TEST_SUCCESS;
}

/* Post @vh with a TCP/IPv4 frame of @plen payload; expect a drop counted
 * as @reason. */
static int
tx_bad(struct virtio_net_hdr vh, uint32_t plen, bool v6, unsigned int reason,
       const char *what)
{
	uint64_t before = stats(&ga, TXQ).bad_hdr[reason];

	tx_post(&ga, &vh,
		vnet_test_tcp_frame(vhu_gpa(&ga.fr, BUF(64)), v6, plen, 9));
	TEST_ASSERT_SUCCESS(tx_take(&ga, NULL, 0, what), "%s", what);
	TEST_ASSERT_EQUAL_U64(stats(&ga, TXQ).bad_hdr[reason] - before, 1,
			      "%s: counted as reason %u", what, reason);
	return TEST_SUCCESS;
}

static int
test_tx_bad_headers(void)
{
	struct virtio_net_hdr c = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				   .csum_start = 34,
				   .csum_offset = 16};
	struct virtio_net_hdr h;
	uint64_t pkts = stats(&ga, TXQ).packets;

	h = c;
	h.csum_start = 5000; /* past the 166-byte packet */
	TEST_ASSERT_SUCCESS(tx_bad(h, 100, false, VMP_VNET_BAD_HDR_CSUM,
				   "csum_start past the packet"),
			    "");
	h = c;
	h.csum_start = 34;
	h.csum_offset = 200; /* inside the packet, past any TCP header */
	TEST_ASSERT_SUCCESS(tx_bad(h, 1000, false, VMP_VNET_BAD_HDR_CSUM,
				   "csum_offset past the headers"),
			    "");
	h = c;
	h.csum_start = 160;
	h.csum_offset = 6; /* field would end past the packet */
	TEST_ASSERT_SUCCESS(tx_bad(h, 100, false, VMP_VNET_BAD_HDR_CSUM,
				   "csum field past the end"),
			    "");
	h = hdr_gso(false, MSS);
	h.gso_type = 7;
	TEST_ASSERT_SUCCESS(tx_bad(h, 5000, false, VMP_VNET_BAD_HDR_GSO_TYPE,
				   "unknown gso_type"),
			    "");
	h.gso_type = VIRTIO_NET_HDR_GSO_UDP;
	TEST_ASSERT_SUCCESS(tx_bad(h, 5000, false, VMP_VNET_BAD_HDR_GSO_TYPE,
				   "UFO, not negotiated"),
			    "");
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN;
	TEST_ASSERT_SUCCESS(tx_bad(h, 5000, false, VMP_VNET_BAD_HDR_GSO_TYPE,
				   "ECN, not negotiated"),
			    "");
	h = hdr_gso(false, 0);
	TEST_ASSERT_SUCCESS(
		tx_bad(h, 5000, false, VMP_VNET_BAD_HDR_GSO_SIZE, "gso_size 0"),
		"");
	h = hdr_gso(false, 6000);
	TEST_ASSERT_SUCCESS(tx_bad(h, 5000, false, VMP_VNET_BAD_HDR_GSO_SIZE,
				   "gso_size bigger than the frame"),
			    "");
	h = hdr_gso(false, 40);
	TEST_ASSERT_SUCCESS(tx_bad(h, 20000, false, VMP_VNET_BAD_HDR_GSO_SIZE,
				   "over VMP_VNET_GSO_MAX_SEGS segments"),
			    "");
	h = hdr_gso(false, MSS);
	TEST_ASSERT_SUCCESS(tx_bad(h, 5000, true, VMP_VNET_BAD_HDR_PARSE,
				   "TCPV4 on an IPv6 frame"),
			    "");
	h = c;
	h.flags |= VIRTIO_NET_HDR_F_DATA_VALID;
	TEST_ASSERT_SUCCESS(tx_bad(h, 100, false, VMP_VNET_BAD_HDR_FLAGS,
				   "DATA_VALID on TX"),
			    "");
	TEST_ASSERT_EQUAL_U64(stats(&ga, TXQ).packets - pkts, 11,
			      "every chain consumed");
	return TEST_SUCCESS;
}

/* A partial checksum at a place no mbuf flag expresses (here: the IPv4
 * header's) is done at dequeue, from csum_start to the end. */
static int
test_tx_csum_generic(void)
{
	struct virtio_net_hdr vh = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				    .csum_start = 14,
				    .csum_offset = 10};
	uint8_t *p = vhu_gpa(&ga.fr, BUF(64));
	struct rte_ipv4_hdr *ip = (void *)(p + 14);
	struct rte_mbuf *m;
	uint32_t flen = vnet_test_tcp_frame(p, false, 0, 1);

	/* an IP header only, its checksum field zero (the partial sum of a
	 * header with no pseudo-header) */
	ip->total_length = rte_cpu_to_be_16(20);
	ip->next_proto_id = 200;
	ip->hdr_checksum = 0;
	flen = 34;
	tx_post(&ga, &vh, flen);
	TEST_ASSERT_SUCCESS(tx_take(&ga, &m, 1, "generic"), "");
	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, 14);
	TEST_ASSERT_EQUAL(rte_raw_cksum(ip, 20), 0xffff, "IP checksum valid");
	TEST_ASSERT_EQUAL_U64(m->ol_flags, 0, "nothing left to request");
	rte_pktmbuf_free(m);
	return TEST_SUCCESS;
}

/* Post @n RX buffers of RXBUF bytes on guest @g. */
static void
rx_give(struct og *g, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		uint16_t d = (uint16_t)(g->rx_next++ % 128);

		desc(g, RXQ, d, BUF(200) + (uint64_t)d * RXBUF, RXBUF,
		     VRING_DESC_F_WRITE, 0);
		vhu_front_post(&g->fr, RXQ, d);
	}
}

/* Next packet guest @g received: header into *@vh, frame into @out
 * (gathered over its num_buffers buffers); returns its length or -1. */
static int
rx_get(struct og *g, struct virtio_net_hdr_mrg_rxbuf *vh, uint8_t *out,
       uint32_t max)
{
	struct vring_used_elem e;
	uint32_t got = 0;
	uint16_t nb, i;
	uint8_t *b;

	if (vhu_front_used(&g->fr, RXQ, &e) < 0)
		return -1;
	b = vhu_gpa(&g->fr, g->fr.ring[RXQ].desc[e.id].addr);
	memcpy(vh, b, sizeof(*vh));
	nb = vh->num_buffers;
	for (i = 0;; i++) {
		uint32_t off = i == 0 ? HDR : 0, l = e.len - off;

		if (got + l > max)
			return -1;
		memcpy(out + got, b + off, l);
		got += l;
		if (i + 1 == nb)
			break;
		if (vhu_front_used(&g->fr, RXQ, &e) < 0)
			return -1;
		b = vhu_gpa(&g->fr, g->fr.ring[RXQ].desc[e.id].addr);
	}
	return (int)got;
}

/* A TSO frame into guest @g, which has no GUEST_TSO: segments made in
 * software, complete or (@partial: GUEST_CSUM) with partial checksums. */
static int
rx_segments(struct og *g, bool partial)
{
	static uint8_t f[RXBUF];
	struct virtio_net_hdr_mrg_rxbuf vh;
	uint32_t n = (FRAME_PAYLOAD + MSS - 1) / MSS, i, k, hl;
	int v6, len;

	for (v6 = 0; v6 < 2; v6++) {
		struct rte_mbuf *m = tso_from_guest(v6, 0xfffff000u);
		uint64_t segs0 = stats(g, RXQ).sw_segs;

		TEST_ASSERT_NOT_NULL(m, "frame");
		hl = 14 + (v6 ? 40 : 20) + 32;
		rx_give(g, n);
		TEST_ASSERT_EQUAL(vmp_vnet_enqueue_burst(g->port, 0, &m, 1), 1,
				  "taken");
		TEST_ASSERT_EQUAL_U64(stats(g, RXQ).sw_segs - segs0, n,
				      "segments counted");
		for (i = 0; i < n; i++) {
			uint32_t pl =
				i + 1 < n ? MSS : FRAME_PAYLOAD - (n - 1) * MSS;
			const struct rte_tcp_hdr *th;

			len = rx_get(g, &vh, f, sizeof(f));
			TEST_ASSERT_EQUAL(len, (int)(hl + pl),
					  "v6=%d segment %u size", v6, i);
			if (partial)
				TEST_ASSERT_SUCCESS(
					vnet_test_tcp_partial_complete(
						&vh.hdr, f, len, v6),
					"v6=%d segment %u partial", v6, i);
			else
				TEST_ASSERT(vh.hdr.flags == 0 &&
						    vh.hdr.gso_type == 0,
					    "no offload in the header");
			TEST_ASSERT(vnet_test_tcp_csum_ok(f, v6),
				    "v6=%d segment %u checksums", v6, i);
			th = (const void *)(f + hl - 32);
			TEST_ASSERT_EQUAL(rte_be_to_cpu_32(th->sent_seq),
					  0xfffff000u + i * MSS,
					  "segment %u seq", i);
			TEST_ASSERT_EQUAL(!!(th->tcp_flags & RTE_TCP_PSH_FLAG),
					  i + 1 == n, "PSH on the last only");
			for (k = 0; k < pl; k++)
				if (f[hl + k] !=
				    (uint8_t)((0xfffff000u + i * MSS + k) * 7))
					break;
			TEST_ASSERT_EQUAL(k, pl, "segment %u payload", i);
		}
		TEST_ASSERT(rx_get(g, &vh, f, sizeof(f)) < 0, "nothing more");
	}
	return TEST_SUCCESS;
}

/* A TSO frame into guest a (no GUEST_CSUM): complete segments. */
static int
test_rx_sw_segments(void)
{
	return rx_segments(&ga, false);
}

/* Into guest c (GUEST_CSUM, no GUEST_TSO): partial segments. */
static int
test_rx_partial_segments(void)
{
	return rx_segments(&gc, true);
}

/* The same frame into guest b (GUEST_TSO4/6): whole, with a header. */
static int
test_rx_tso_passed(void)
{
	static uint8_t f[FRAME_PAYLOAD + 200];
	struct virtio_net_hdr_mrg_rxbuf vh;
	int v6, len;

	for (v6 = 0; v6 < 2; v6++) {
		struct rte_mbuf *m = tso_from_guest(v6, 77);
		uint32_t hl = 14 + (v6 ? 40 : 20) + 32;

		TEST_ASSERT_NOT_NULL(m, "frame");
		rx_give(&gb, 12);
		TEST_ASSERT_EQUAL(vmp_vnet_enqueue_burst(gb.port, 0, &m, 1), 1,
				  "taken");
		len = rx_get(&gb, &vh, f, sizeof(f));
		TEST_ASSERT_EQUAL(len, (int)(hl + FRAME_PAYLOAD), "whole");
		TEST_ASSERT_EQUAL(vh.hdr.gso_type,
				  v6 ? VIRTIO_NET_HDR_GSO_TCPV6
				     : VIRTIO_NET_HDR_GSO_TCPV4,
				  "gso_type");
		TEST_ASSERT_EQUAL(vh.hdr.gso_size, MSS, "gso_size");
		TEST_ASSERT_EQUAL(vh.hdr.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM,
				  "flags");
		TEST_ASSERT_EQUAL(vh.hdr.csum_start, hl - 32, "csum_start");
		TEST_ASSERT_EQUAL(vh.hdr.csum_offset, 16, "csum_offset");
		TEST_ASSERT(memcmp(f, vhu_gpa(&ga.fr, BUF(64)), (size_t)len) ==
				    0,
			    "the frame as sent");
		/* what is left of the buffers */
		while (rx_get(&gb, &vh, f, sizeof(f)) >= 0)
			;
	}
	TEST_ASSERT_EQUAL_U64(stats(&gb, RXQ).ol_tso, 2, "counted");
	return TEST_SUCCESS;
}

/* A partial checksum into guest a (no GUEST_CSUM): completed; into guest b:
 * passed in the header. */
static int
test_rx_csum(void)
{
	struct virtio_net_hdr c = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				   .csum_start = 34,
				   .csum_offset = 16};
	static uint8_t f[RXBUF];
	struct virtio_net_hdr_mrg_rxbuf vh;
	struct rte_mbuf *m;
	uint64_t sw0 = stats(&ga, RXQ).sw_csum;

	tx_post(&ga, &c,
		vnet_test_tcp_frame(vhu_gpa(&ga.fr, BUF(64)), false, 300, 1));
	TEST_ASSERT_SUCCESS(tx_take(&ga, &m, 1, "csum"), "");
	/* shared with another destination: completed on a copy */
	rte_mbuf_refcnt_update(m, 1);
	rx_give(&ga, 1);
	TEST_ASSERT_EQUAL(vmp_vnet_enqueue_burst(ga.port, 0, &m, 1), 1, "a");
	TEST_ASSERT_EQUAL(rx_get(&ga, &vh, f, sizeof(f)), 66 + 300, "len");
	TEST_ASSERT(vh.hdr.flags == 0, "no request left");
	TEST_ASSERT(vnet_test_tcp_csum_ok(f, false), "checksum completed");
	TEST_ASSERT_EQUAL_U64(stats(&ga, RXQ).sw_csum - sw0, 1, "counted");
	TEST_ASSERT_EQUAL_U64(m->ol_flags,
			      RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM,
			      "the shared mbuf untouched");
	rx_give(&gb, 1);
	TEST_ASSERT_EQUAL(vmp_vnet_enqueue_burst(gb.port, 0, &m, 1), 1, "b");
	TEST_ASSERT_EQUAL(rx_get(&gb, &vh, f, sizeof(f)), 66 + 300, "len");
	TEST_ASSERT(vh.hdr.flags == VIRTIO_NET_HDR_F_NEEDS_CSUM &&
			    vh.hdr.csum_start == 34 && vh.hdr.csum_offset == 16,
		    "passed in the header");
	TEST_ASSERT(memcmp(f, vhu_gpa(&ga.fr, BUF(64)), 66 + 300) == 0,
		    "partial sum left for the guest");
	return TEST_SUCCESS;
}

/* A TCP/IPv4 frame as an ethdev received it, its TCP checksum complete
 * and the PMD's verdict @l4 in ol_flags: one mbuf, or a chain of two. */
static struct rte_mbuf *
rx_eth_frame(uint64_t l4, bool chain, uint8_t *f)
{
	uint32_t len = vnet_test_tcp_frame(f, false, 300, 7),
		 cut = chain ? 100 : len;
	struct rte_tcp_hdr *th = (void *)(f + 34);
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp), *m2 = NULL;

	th->cksum = 0;
	th->cksum = rte_ipv4_udptcp_cksum((const void *)(f + 14), th);
	if (chain)
		m2 = rte_pktmbuf_alloc(mp);
	if (m == NULL || (chain && m2 == NULL)) {
		rte_pktmbuf_free(m);
		rte_pktmbuf_free(m2);
		return NULL;
	}
	memcpy(rte_pktmbuf_append(m, (uint16_t)cut), f, cut);
	if (chain) {
		memcpy(rte_pktmbuf_append(m2, (uint16_t)(len - cut)), f + cut,
		       len - cut);
		rte_pktmbuf_chain(m, m2);
	}
	m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_GOOD | l4;
	return m;
}

/* One frame with the ethdev verdict @l4 into guest @g: DATA_VALID in its
 * header iff @want, nothing else, the frame intact, ol_valid counted. */
static int
rx_valid_one(struct og *g, uint64_t l4, bool chain, bool want)
{
	static uint8_t f[RXBUF], got[RXBUF];
	struct virtio_net_hdr_mrg_rxbuf vh;
	struct rte_mbuf *m = rx_eth_frame(l4, chain, f);
	uint64_t v0 = stats(g, RXQ).ol_valid;

	TEST_ASSERT_NOT_NULL(m, "mbufs");
	rx_give(g, 1);
	TEST_ASSERT_EQUAL(vmp_vnet_enqueue_burst(g->port, 0, &m, 1), 1,
			  "enqueued");
	TEST_ASSERT_EQUAL(rx_get(g, &vh, got, sizeof(got)), 66 + 300, "len");
	TEST_ASSERT(vh.hdr.flags == (want ? VIRTIO_NET_HDR_F_DATA_VALID : 0),
		    "%s, L4 flags 0x%" PRIx64 ", chain %d: header flags %u",
		    g->path, l4, chain, vh.hdr.flags);
	TEST_ASSERT(vh.hdr.gso_type == 0 && vh.hdr.csum_start == 0 &&
			    vh.hdr.csum_offset == 0 && vh.num_buffers == 1,
		    "nothing else in the header");
	TEST_ASSERT(memcmp(got, f, 66 + 300) == 0, "frame intact");
	TEST_ASSERT_EQUAL_U64(stats(g, RXQ).ol_valid - v0, want ? 1 : 0,
			      "ol_valid counted");
	return TEST_SUCCESS;
}

/* An ethdev's L4 checksum verdict into each guest: DATA_VALID only for
 * GOOD and only to a guest that negotiated GUEST_CSUM (b, c), through the
 * one-buffer path (one mbuf) and the general one (a chain). */
static int
test_rx_data_valid(void)
{
	static const struct {
		uint64_t l4;
		bool valid;
	} c[] = {
		{RTE_MBUF_F_RX_L4_CKSUM_GOOD, true},
		{RTE_MBUF_F_RX_L4_CKSUM_BAD, false},
		{RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN, false},
		{RTE_MBUF_F_RX_L4_CKSUM_NONE, false},
	};
	struct og *gs[] = {&ga, &gb, &gc};
	unsigned int i, j, chain;

	for (i = 0; i < RTE_DIM(gs); i++)
		for (j = 0; j < RTE_DIM(c); j++)
			for (chain = 0; chain < 2; chain++)
				TEST_ASSERT_SUCCESS(
					rx_valid_one(gs[i], c[j].l4, chain,
						     c[j].valid &&
							     gs[i] != &ga),
					"");
	return TEST_SUCCESS;
}

/*
 * The guest rewrites the header (and the packet) after the device read it,
 * while the packet's copy is still in flight on a stalled DMA engine: the
 * header read at dequeue is what counts, checked against the packet bytes
 * that landed.
 */
static int
test_tx_hdr_changed_after_read(void)
{
#if VMP_HAS_DMA_DRIVER
	struct virtio_net_hdr vh = hdr_gso(false, MSS);
	struct vmp_vnet_dma *dma;
	struct rte_mbuf *m = NULL;
	struct vmp_test_wait w;
	uint8_t *gh = vhu_gpa(&ga.fr, BUF(60));
	int id, n = 0;

	id = test_dma_open("dma_swdma_offload", NULL, 1);
	TEST_ASSERT(id >= 0, "dma_swdma");
	dma = vmp_vnet_dma_create((int16_t)id, 0, 64, 0);
	TEST_ASSERT_NOT_NULL(dma, "channel");
	TEST_ASSERT_SUCCESS(vmp_vnet_port_set_dma(ga.port, 0, dma), "set");
	TEST_ASSERT_SUCCESS(rte_pmd_swdma_stall_set((int16_t)id, 1), "stall");
	tx_post(&ga, &vh,
		vnet_test_tcp_frame(vhu_gpa(&ga.fr, BUF(64)), false,
				    FRAME_PAYLOAD, 1));
	TEST_ASSERT_EQUAL(vmp_vnet_dequeue_burst(ga.port, 0, &m, 1), 0,
			  "copies held by the engine");
	/* now every header field goes bad */
	((struct virtio_net_hdr *)gh)->gso_type = 7;
	((struct virtio_net_hdr *)gh)->gso_size = 0;
	((struct virtio_net_hdr *)gh)->csum_start = 60000;
	TEST_ASSERT_SUCCESS(rte_pmd_swdma_stall_set((int16_t)id, 0), "go");
	for (vnet_test_wait_init(&w, "copies landed");
	     n == 0 && vmp_test_wait_check(&w, 0) == 0;)
		n = vmp_vnet_dequeue_burst(ga.port, 0, &m, 1);
	TEST_ASSERT_EQUAL(n, 1, "delivered");
	TEST_ASSERT(m->ol_flags & RTE_MBUF_F_TX_TCP_SEG, "as first read");
	TEST_ASSERT_EQUAL(m->tso_segsz, MSS, "gso_size as first read");
	rte_pktmbuf_free(m);
	TEST_ASSERT_SUCCESS(
		vhu_front_used(&ga.fr, TXQ, &(struct vring_used_elem){0}),
		"returned");
	TEST_ASSERT_SUCCESS(vmp_vnet_port_set_dma(ga.port, 0, NULL), "unset");
	TEST_ASSERT_SUCCESS(vmp_vnet_dma_free(dma), "free");
	test_dma_close(id, "dma_swdma_offload");
	return TEST_SUCCESS;
#else
	return TEST_SKIPPED;
#endif
}

/* vmp_vnet_offload_finish() on its own: what it refuses. */
static int
test_finish_api(void)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp), *out[4];
	static uint8_t lin[66 + 1000];
	uint8_t *p;

	TEST_ASSERT_NOT_NULL(m, "mbuf");
	p = (uint8_t *)rte_pktmbuf_append(m, 66 + 1900);
	TEST_ASSERT_NOT_NULL(p, "room");
	vnet_test_tcp_frame(p, false, 1900, 1);
	m->ol_flags = RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_IPV4 |
		      RTE_MBUF_F_TX_TCP_CKSUM;
	m->l2_len = 14;
	m->l3_len = 20;
	m->l4_len = 32;
	m->tso_segsz = 200;
	TEST_ASSERT_EQUAL(vmp_vnet_offload_finish(m, 0, mp, out, 4), -ENOSPC,
			  "10 segments into 4");
	m->tso_segsz = 0;
	TEST_ASSERT_EQUAL(vmp_vnet_offload_finish(m, 0, mp, out, 4), -EINVAL,
			  "tso_segsz 0");
	m->tso_segsz = 1000;
	m->l2_len = 127; /* headers past the first segment */
	m->l4_len = 60;
	m->data_len = 100;
	TEST_ASSERT_EQUAL(vmp_vnet_offload_finish(m, 0, mp, out, 4), -EINVAL,
			  "headers outside the first segment");
	m->data_len = (uint16_t)m->pkt_len;
	m->l2_len = 14;
	m->l4_len = 32;
	TEST_ASSERT_EQUAL(
		vmp_vnet_offload_finish(m, VMP_VNET_CAP_TSO4, mp, out, 4), 1,
		"taken whole");
	TEST_ASSERT(out[0] == m && (m->ol_flags & RTE_MBUF_F_TX_TCP_SEG),
		    "request kept");
	TEST_ASSERT_EQUAL(vmp_vnet_offload_finish(m, 0, mp, out, 4), 2,
			  "two segments");
	TEST_ASSERT(out[0]->pkt_len == 66 + 1000 && out[1]->pkt_len == 66 + 900,
		    "segment sizes");
	/* a segment is its headers chained to the frame's payload */
	TEST_ASSERT(vnet_test_tcp_csum_ok(
			    rte_pktmbuf_read(out[1], 0, out[1]->pkt_len, lin),
			    false),
		    "checksums");
	rte_pktmbuf_free_bulk(out, 2);
	return TEST_SUCCESS;
}

static struct vmp_test_suite offload_suite = {
	.name = "vnet: checksum and TSO offloads",
	.setup = setup,
	.teardown = teardown,
	.cases =
		{
			TEST_CASE(test_tx_requests),
			TEST_CASE(test_tx_bad_headers),
			TEST_CASE(test_tx_csum_generic),
			TEST_CASE(test_rx_sw_segments),
			TEST_CASE(test_rx_partial_segments),
			TEST_CASE(test_rx_tso_passed),
			TEST_CASE(test_rx_csum),
			TEST_CASE(test_rx_data_valid),
			TEST_CASE(test_tx_hdr_changed_after_read),
			TEST_CASE(test_finish_api),
			TEST_CASES_END(),
		},
};

static int
test_vnet_offload(void)
{
	return vmp_test_suite_run(&offload_suite);
}

REGISTER_TEST_COMMAND(vnet_offload_autotest, test_vnet_offload);
