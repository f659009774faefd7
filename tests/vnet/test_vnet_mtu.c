/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-port MTU of lib/vnet against crafted frontends: a port of the default
 * MTU (1500) and one of 9000. Frames into a guest longer than its port's MTU
 * allows (MTU + Ethernet header + VLAN tag) are dropped and counted, its
 * buffers untouched; a 9018-byte frame reaches the 9000 port's guest whole,
 * over mergeable buffers, byte for byte. A TSO frame reaches a guest that
 * takes TSO whole while its segments fit the guest's MTU and is dropped and
 * counted when its gso_size would not. NET_SET_MTU above the port's MTU,
 * or with a short payload, is refused (REPLY_ACK error); one within it is
 * taken. MTUs outside 68..9000 are refused at port create.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/virtio_net.h>

#include <rte_mbuf.h>

#include <vmp_vnet.h>

#include "vhu_front.h"
#include "vnet_test_util.h"
#include "vmp_test.h"

#define RXQ 0
#define HDR 12
#define RXBUF 2048
#define RXBUF_GPA(d) (VHU_GPA_BASE + 0x200000 + (uint64_t)(d)*RXBUF)
#define NB_RXBUF 16
#define F_NET_MTU (1ULL << 4) /* vhost-user protocol features */
#define F_REPLY_ACK (1ULL << 3)
#define NET_SET_MTU 20
#define NEED_REPLY (1u << 3)

struct mg {
	const char *tag;
	struct vhu_front fr;
	struct vmp_vnet_port *port;
	struct rte_mempool *mp;
	uint16_t next; /* next RX descriptor to post */
};

static struct mg m1500 = {.tag = "vnet_mtu_a"};
static struct mg m9000 = {.tag = "vnet_mtu_b"};

static int
setup(void)
{
	struct vhu_front_opts o = {.protocol_features =
					   F_NET_MTU | F_REPLY_ACK};
	struct vmp_vnet_port_info in;

	TEST_ASSERT_SUCCESS(vnet_test_port_open_opts(
				    m1500.tag, &m1500.fr, &m1500.port,
				    &m1500.mp, 0,
				    (1ULL << VIRTIO_NET_F_MTU) |
					    (1ULL << VIRTIO_NET_F_GUEST_CSUM) |
					    (1ULL << VIRTIO_NET_F_GUEST_TSO4),
				    &o),
			    "port, default MTU");
	TEST_ASSERT_SUCCESS(vnet_test_port_open_opts(m9000.tag, &m9000.fr,
						     &m9000.port, &m9000.mp,
						     9000, 0, &o),
			    "port, MTU 9000");
	vmp_vnet_port_info_get(m1500.port, &in);
	TEST_ASSERT(in.features & (1ULL << VIRTIO_NET_F_MTU),
		    "VIRTIO_NET_F_MTU offered");
	TEST_ASSERT_EQUAL(in.mtu, 1500, "default MTU");
	return TEST_SUCCESS;
}

static void
teardown(void)
{
	vnet_test_port_close(m1500.tag, &m1500.fr, m1500.port, m1500.mp);
	vnet_test_port_close(m9000.tag, &m9000.fr, m9000.port, m9000.mp);
}

/* Post @n RX buffers of RXBUF bytes, each its own chain. */
static void
rx_give(struct mg *g, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		uint16_t d = (uint16_t)(g->next++ % NB_RXBUF);
		struct vring_desc *ds = &g->fr.ring[RXQ].desc[d];

		ds->addr = RXBUF_GPA(d);
		ds->len = RXBUF;
		ds->flags = VRING_DESC_F_WRITE;
		ds->next = 0;
		vhu_front_post(&g->fr, RXQ, d);
	}
}

/* A frame of @len bytes (byte i = i * 13 + @seed) as a chain of mbufs of
 * at most 2000 bytes each. */
static struct rte_mbuf *
frame(struct rte_mempool *mp, uint32_t len, uint8_t seed)
{
	struct rte_mbuf *head = NULL, *last = NULL;
	uint32_t off = 0;

	while (off < len) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
		uint32_t l = RTE_MIN(len - off, 2000u), i;
		uint8_t *p;

		if (m == NULL) {
			rte_pktmbuf_free(head);
			return NULL;
		}
		p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)l);
		for (i = 0; i < l; i++)
			p[i] = (uint8_t)((off + i) * 13 + seed);
		if (head == NULL) {
			head = m;
		} else {
			last->next = m;
			head->nb_segs++;
			head->pkt_len += l;
		}
		last = m;
		off += l;
	}
	return head;
}

/* The next frame the guest received, checked against frame(@len, @seed):
 * 0 if it is that frame, whole. */
static int
rx_check(struct mg *g, uint32_t len, uint8_t seed)
{
	struct vring_used_elem e;
	uint32_t got = 0, i;
	uint16_t nb = 1, k;

	for (k = 0; k < nb; k++) {
		const uint8_t *b;
		uint32_t off = k == 0 ? HDR : 0;

		if (vhu_front_used(&g->fr, RXQ, &e) < 0 || e.len < off)
			return -1;
		b = vhu_gpa(&g->fr, g->fr.ring[RXQ].desc[e.id].addr);
		if (k == 0)
			memcpy(&nb, b + 10, sizeof(nb)); /* num_buffers */
		for (i = off; i < e.len; i++, got++)
			if (got >= len || b[i] != (uint8_t)(got * 13 + seed))
				return -1;
	}
	return got == len ? 0 : -1;
}

/* @g gets frames of @ok bytes whole and drops @ok + 1 bytes. */
static int
mtu_edge(struct mg *g, uint32_t ok)
{
	struct vmp_vnet_vq_stats st0, st;
	struct vring_used_elem e;
	struct rte_mbuf *m;

	vmp_vnet_vq_stats_get(g->port, RXQ, &st0);
	rx_give(g, (ok + HDR + RXBUF - 1) / RXBUF);
	m = frame(g->mp, ok + 1, 1);
	TEST_ASSERT_NOT_NULL(m, "frame");
	TEST_ASSERT_EQUAL(vmp_vnet_enqueue_burst(g->port, 0, &m, 1), 1,
			  "%u B frame consumed", ok + 1);
	vmp_vnet_vq_stats_get(g->port, RXQ, &st);
	TEST_ASSERT_EQUAL_U64(st.mtu_drops - st0.mtu_drops, 1,
			      "%u B frame counted as over the MTU", ok + 1);
	TEST_ASSERT(vhu_front_used(&g->fr, RXQ, &e) < 0,
		    "%u B frame: no buffer used", ok + 1);
	m = frame(g->mp, ok, 2);
	TEST_ASSERT_NOT_NULL(m, "frame");
	TEST_ASSERT_EQUAL(vmp_vnet_enqueue_burst(g->port, 0, &m, 1), 1,
			  "%u B frame taken", ok);
	TEST_ASSERT_SUCCESS(rx_check(g, ok, 2), "%u B frame received whole",
			    ok);
	vmp_vnet_vq_stats_get(g->port, RXQ, &st);
	TEST_ASSERT_EQUAL_U64(st.mtu_drops - st0.mtu_drops, 1, "one drop only");
	return TEST_SUCCESS;
}

static int
test_rx_over_mtu(void)
{
	TEST_ASSERT_SUCCESS(mtu_edge(&m1500, 1500 + 14 + 4), "MTU 1500");
	TEST_ASSERT_SUCCESS(mtu_edge(&m9000, 9000 + 14 + 4), "MTU 9000");
	return TEST_SUCCESS;
}

/* A TSO frame of @len bytes whose segments carry @mss payload bytes behind
 * 54 bytes of Ethernet, IPv4 and TCP headers. */
static struct rte_mbuf *
tso_frame(struct rte_mempool *mp, uint32_t len, uint16_t mss, uint8_t seed)
{
	struct rte_mbuf *m = frame(mp, len, seed);

	if (m == NULL)
		return NULL;
	m->l2_len = 14;
	m->l3_len = 20;
	m->l4_len = 20;
	m->tso_segsz = mss;
	m->ol_flags |= RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_IPV4 |
		       RTE_MBUF_F_TX_TCP_CKSUM;
	return m;
}

/*
 * A guest that takes TSO gets a TSO frame longer than its MTU whole while
 * the frame's segments fit it; one whose gso_size would put a segment past
 * its MTU (another guest's bigger MTU) is an egress drop, as a frame over
 * the MTU: counted in mtu_drops, no buffer used.
 */
static int
test_rx_tso_over_mtu(void)
{
	const uint32_t max = 1500 + 14 + 4, len = 4000;
	struct vmp_vnet_vq_stats st0, st;
	struct vring_used_elem e;
	struct rte_mbuf *m;

	vmp_vnet_vq_stats_get(m1500.port, RXQ, &st0);
	rx_give(&m1500, (len + HDR + RXBUF - 1) / RXBUF);
	m = tso_frame(m1500.mp, len, (uint16_t)(max - 54 + 1), 5);
	TEST_ASSERT_NOT_NULL(m, "frame");
	TEST_ASSERT_EQUAL(vmp_vnet_enqueue_burst(m1500.port, 0, &m, 1), 1,
			  "TSO frame with gso_size %u consumed", max - 54 + 1);
	vmp_vnet_vq_stats_get(m1500.port, RXQ, &st);
	TEST_ASSERT_EQUAL_U64(st.mtu_drops - st0.mtu_drops, 1,
			      "segments of %u B counted as over the MTU",
			      max + 1);
	TEST_ASSERT(vhu_front_used(&m1500.fr, RXQ, &e) < 0,
		    "dropped TSO frame: no buffer used");
	m = tso_frame(m1500.mp, len, (uint16_t)(max - 54), 6);
	TEST_ASSERT_NOT_NULL(m, "frame");
	TEST_ASSERT_EQUAL(vmp_vnet_enqueue_burst(m1500.port, 0, &m, 1), 1,
			  "TSO frame with gso_size %u taken", max - 54);
	TEST_ASSERT_SUCCESS(rx_check(&m1500, len, 6),
			    "TSO frame of %u B received whole", len);
	vmp_vnet_vq_stats_get(m1500.port, RXQ, &st);
	TEST_ASSERT_EQUAL_U64(st.mtu_drops - st0.mtu_drops, 1, "one drop only");
	return TEST_SUCCESS;
}

/* NET_SET_MTU @mtu (payload @size bytes) with NEED_REPLY: the ack. */
static int
set_mtu(struct mg *g, uint64_t mtu, uint32_t size, uint64_t *ack)
{
	if (vhu_front_send(&g->fr, NET_SET_MTU, NEED_REPLY, &mtu, size, -1) < 0)
		return -1;
	return vhu_front_recv(&g->fr, ack);
}

static int
test_set_mtu(void)
{
	struct vmp_vnet_port_info in;
	uint64_t ack;

	TEST_ASSERT_SUCCESS(set_mtu(&m1500, 9000, 8, &ack), "ack 9000");
	TEST_ASSERT(ack != 0, "MTU 9000 on a 1500 port refused");
	TEST_ASSERT_SUCCESS(set_mtu(&m1500, 1400, 4, &ack), "ack short");
	TEST_ASSERT(ack != 0, "short NET_SET_MTU refused");
	TEST_ASSERT_SUCCESS(set_mtu(&m1500, 67, 8, &ack), "ack 67");
	TEST_ASSERT(ack != 0, "MTU 67 refused");
	vmp_vnet_port_info_get(m1500.port, &in);
	TEST_ASSERT_EQUAL(in.guest_mtu, 0, "no MTU taken yet");
	TEST_ASSERT_SUCCESS(set_mtu(&m1500, 1400, 8, &ack), "ack 1400");
	TEST_ASSERT_EQUAL_U64(ack, 0, "MTU 1400 on a 1500 port taken");
	TEST_ASSERT_SUCCESS(set_mtu(&m9000, 9000, 8, &ack), "ack 9000");
	TEST_ASSERT_EQUAL_U64(ack, 0, "MTU 9000 on a 9000 port taken");
	vmp_vnet_port_info_get(m1500.port, &in);
	TEST_ASSERT_EQUAL(in.guest_mtu, 1400, "guest MTU 1400");
	TEST_ASSERT(in.connected, "the refusals left the connection up");
	/* the datapath still serves after the messages */
	TEST_ASSERT_SUCCESS(mtu_edge(&m1500, 1518), "after NET_SET_MTU");
	return TEST_SUCCESS;
}

static int
test_conf_range(void)
{
	struct vmp_vnet_port_conf pc = {
		.path = "/tmp/vmpt-mtu-bad.sock", .nb_qp = 1, .mp = m1500.mp};

	pc.mtu = 67;
	TEST_ASSERT_NULL(vmp_vnet_port_create(&pc), "MTU 67 refused");
	pc.mtu = 9001;
	TEST_ASSERT_NULL(vmp_vnet_port_create(&pc), "MTU 9001 refused");
	return TEST_SUCCESS;
}

static struct vmp_test_suite mtu_suite = {
	.name = "vnet: per-port MTU and jumbo frames",
	.setup = setup,
	.teardown = teardown,
	.cases =
		{
			TEST_CASE(test_conf_range),
			TEST_CASE(test_rx_over_mtu),
			TEST_CASE(test_rx_tso_over_mtu),
			TEST_CASE(test_set_mtu),
			TEST_CASES_END(),
		},
};

static int
test_vnet_mtu(void)
{
	return vmp_test_suite_run(&mtu_suite);
}

REGISTER_TEST_COMMAND(vnet_mtu_autotest, test_vnet_mtu);
