/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/vnet's split-ring datapath against a hostile guest (crafted rings
 * through vhu_front.c), beside a well-behaved port polled by the same lcore:
 *  - RX buffer sets with chains of no bytes: nothing is written outside the
 *    writable buffers the guest gave, each used length stays within its
 *    chain (the whole guest memory is compared before and after);
 *  - descriptor work: an indirect table over the queue size, 65535
 *    zero-length descriptors, chains over VMP_VNET_CHAIN_DESC, bursts of
 *    long chains, a mergeable set that can never fit: the descriptors walked
 *    per call stay within the documented bounds (vq stats desc_walked);
 *  - a valid TX chain of 17 and 19 descriptors is delivered, one over
 *    VMP_VNET_CHAIN_SEGS segments is counted as over_limit;
 *  - the rate of the well-behaved port beside each attack (printed: this
 *    test asserts work counters, never wall-clock speed).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/virtio_net.h>

#include <rte_cycles.h>
#include <rte_mbuf.h>

#include <vmp_vnet.h>

#include "vhu_front.h"
#include "vmp_test.h"

#define RXQ 0
#define TXQ 1
#define HDR 12
#define PKT 1000 /* payload of the RX packets sent */
/* 4 KiB buffers below BIGT; BIGT: a 1 MiB indirect table */
#define BUF(k) (VHU_GPA_BASE + 0x10000 + (uint64_t)(k)*0x1000)
#define BIGT (VHU_GPA_BASE + 0x200000)
#define W VRING_DESC_F_WRITE
#define N VRING_DESC_F_NEXT
#define I VRING_DESC_F_INDIRECT

struct peer {
	struct vhu_front fr;
	struct vmp_vnet_port *port;
	char path[64];
};

static struct rte_mempool *mp;
static struct peer atk, good;
static uint8_t snap[VHU_MEM_SIZE];

static void
desc(struct vhu_front *f, unsigned int r, uint16_t i, uint64_t addr,
     uint32_t len, uint16_t flags, uint16_t next)
{
	f->ring[r].desc[i] = (struct vring_desc){addr, len, flags, next};
}

static void
idesc(struct vhu_front *f, uint64_t table, uint32_t i, uint64_t addr,
      uint32_t len, uint16_t flags, uint16_t next)
{
	struct vring_desc *t = vhu_gpa(f, table);

	t[i] = (struct vring_desc){addr, len, flags, next};
}

static struct vmp_vnet_vq_stats
st(const struct peer *p, uint16_t vring)
{
	struct vmp_vnet_vq_stats s;

	vmp_vnet_vq_stats_get(p->port, vring, &s);
	return s;
}

/* (Re)connect @p's frontend: fresh guest memory and rings. */
static int
peer_connect(struct peer *p)
{
	uint64_t f = (1ULL << VIRTIO_F_VERSION_1) |
		     (1ULL << VIRTIO_NET_F_MRG_RXBUF) |
		     (1ULL << VIRTIO_RING_F_INDIRECT_DESC) | (1ULL << 30);
	struct vmp_vnet_port_info in = {0};
	int i;

	if (p->fr.mem != NULL)
		vhu_front_close(&p->fr);
	/* the port sees the old connection go before the new one comes */
	for (i = 0; i < 300; i++) {
		vmp_vnet_port_info_get(p->port, &in);
		if (!in.connected)
			break;
		usleep(10000);
	}
	TEST_ASSERT_SUCCESS(vhu_front_open(&p->fr, p->path, f), "frontend");
	for (i = 0; i < 500; i++) {
		vmp_vnet_port_info_get(p->port, &in);
		if (in.connected && in.running == 3)
			break;
		usleep(10000);
	}
	TEST_ASSERT_EQUAL(in.running, 3, "both vrings run");
	p->fr.ring[RXQ].avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
	p->fr.ring[TXQ].avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
	return TEST_SUCCESS;
}

static int
peer_open(struct peer *p, const char *tag)
{
	struct vmp_vnet_port_conf pc = {.nb_qp = 1, .socket_id = 0};

	snprintf(p->path, sizeof(p->path), "/tmp/vmpt-%s-%d.sock", tag,
		 getpid());
	unlink(p->path);
	pc.path = p->path;
	pc.mp = mp;
	p->port = vmp_vnet_port_create(&pc);
	TEST_ASSERT_NOT_NULL(p->port, "port create");
	return peer_connect(p);
}

static void
peer_close(struct peer *p)
{
	if (p->fr.mem != NULL)
		vhu_front_close(&p->fr);
	if (p->port != NULL)
		vmp_vnet_port_destroy(p->port);
	unlink(p->path);
}

static int
setup(void)
{
	mp = rte_pktmbuf_pool_create("vnet_hostile", 4095, 256, 0,
				     RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	TEST_ASSERT_NOT_NULL(mp, "mempool");
	TEST_ASSERT_SUCCESS(peer_open(&atk, "hostile"), "attacker port");
	TEST_ASSERT_SUCCESS(peer_open(&good, "good"), "good port");
	return TEST_SUCCESS;
}

static void
teardown(void)
{
	peer_close(&atk);
	peer_close(&good);
	rte_mempool_free(mp);
}

/* Each case starts from a fresh attacker connection. */
static int
fresh(void)
{
	return peer_connect(&atk);
}

/* Payload byte @j of the packet with salt @salt (each packet its own, so
 * that a stray write of one over another's bytes shows). */
static uint8_t
pbyte(uint32_t salt, uint32_t j)
{
	return (uint8_t)(0x40 + salt * 31 + j * 7);
}

static uint32_t salt;

static struct rte_mbuf *
pkt(uint32_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	uint8_t *d;
	uint32_t j;

	if (m == NULL)
		return NULL;
	salt++;
	d = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
	for (j = 0; j < len; j++)
		d[j] = pbyte(salt, j);
	return m;
}

/* A writable guest range the device may write. */
struct range {
	uint64_t gpa;
	uint32_t len;
};

/* First guest byte that changed since snap[] outside @ok and the RX used
 * ring, as an offset into guest memory; -1 if none. */
static int64_t
changed_outside(struct vhu_front *f, const struct range *ok, unsigned int n)
{
	uint64_t used = f->ring[RXQ].used_gpa - VHU_GPA_BASE;
	uint64_t o;
	unsigned int i;

	for (o = 0; o < VHU_MEM_SIZE; o++) {
		if (f->mem[o] == snap[o] || (o >= used && o < used + 0x1000))
			continue;
		for (i = 0; i < n; i++)
			if (o >= ok[i].gpa - VHU_GPA_BASE &&
			    o < ok[i].gpa - VHU_GPA_BASE + ok[i].len)
				break;
		if (i == n)
			return (int64_t)o;
	}
	return -1;
}

/*
 * Leave stale guest segments in the lcore's RX scratch: a PKT-byte packet
 * into [30 B at BUF(0)][4 KiB at BUF(1)]; the guest gets both back, so
 * BUF(1) is the guest's again.
 */
static int
prime_scratch(void)
{
	struct rte_mbuf *m = pkt(PKT);
	struct vring_used_elem e;

	desc(&atk.fr, RXQ, 0, BUF(0), 30, W, 0);
	desc(&atk.fr, RXQ, 1, BUF(1), 4096, W, 0);
	vhu_front_post(&atk.fr, RXQ, 0);
	vhu_front_post(&atk.fr, RXQ, 1);
	TEST_ASSERT_EQUAL(vmp_vnet_enqueue_burst(atk.port, 0, &m, 1), 1,
			  "priming packet");
	TEST_ASSERT_SUCCESS(vhu_front_used(&atk.fr, RXQ, &e), "used 1");
	TEST_ASSERT_SUCCESS(vhu_front_used(&atk.fr, RXQ, &e), "used 2");
	TEST_ASSERT(e.id == 1 && e.len == HDR + PKT - 30, "used 2: %u/%u", e.id,
		    e.len);
	return TEST_SUCCESS;
}

/*
 * Post RX chains @heads (chain k holds @bytes[k] writable bytes, all of
 * them in @ok), send one PKT-byte packet: nothing outside @ok changes, each
 * chain comes back with a used length within it, and if the packet was
 * taken its bytes are where the used elements say.
 */
static int
rx_set_check(const char *what, const uint16_t *heads, const uint32_t *bytes,
	     unsigned int nh, const struct range *ok, unsigned int nok)
{
	struct vring_used_elem e[8];
	struct rte_mbuf *m = pkt(PKT);
	unsigned int k, ne = 0, nb = 0;
	uint32_t got = 0;
	int64_t o;
	uint16_t n;

	for (k = 0; k < nh; k++)
		vhu_front_post(&atk.fr, RXQ, heads[k]);
	memcpy(snap, atk.fr.mem, VHU_MEM_SIZE);
	n = vmp_vnet_enqueue_burst(atk.port, 0, &m, 1);
	if (n == 0)
		rte_pktmbuf_free(m);
	o = changed_outside(&atk.fr, ok, nok);
	TEST_ASSERT(o < 0,
		    "%s: guest byte at gpa 0x%" PRIx64
		    " written, outside the buffers given",
		    what, (uint64_t)(VHU_GPA_BASE + (uint64_t)o));
	while (ne < RTE_DIM(e) && vhu_front_used(&atk.fr, RXQ, &e[ne]) == 0)
		ne++;
	for (k = 0; k < ne; k++) {
		unsigned int c;

		for (c = 0; c < nh && heads[c] != e[k].id; c++)
			;
		TEST_ASSERT(c < nh, "%s: used id %u not posted", what, e[k].id);
		TEST_ASSERT(e[k].len <= bytes[c],
			    "%s: used len %u of chain %u, which holds %u B",
			    what, e[k].len, e[k].id, bytes[c]);
	}
	TEST_ASSERT_EQUAL(n, 1, "%s: packet taken", what);
	/* the packet: the first used element with bytes has the header */
	for (k = 0; k < ne && e[k].len == 0; k++)
		;
	TEST_ASSERT(k < ne, "%s: packet placed", what);
	for (; k < ne && e[k].len > 0; k++, nb++) {
		const uint8_t *b = NULL;
		uint32_t j, skip = nb == 0 ? HDR : 0;
		unsigned int c;

		for (c = 0; c < nok; c++)
			if (ok[c].len >= e[k].len && heads[c] == e[k].id)
				b = vhu_gpa(&atk.fr, ok[c].gpa);
		if (b == NULL)
			continue; /* placement over several ranges: not here */
		for (j = skip; j < e[k].len; j++)
			TEST_ASSERT_EQUAL(b[j], pbyte(salt, got + j - skip),
					  "%s: byte %u", what, got + j - skip);
		got += e[k].len - skip;
	}
	TEST_ASSERT_EQUAL(got, PKT, "%s: payload bytes", what);
	return TEST_SUCCESS;
}

static void
fill(uint64_t gpa, uint32_t len, uint8_t v)
{
	memset(vhu_gpa(&atk.fr, gpa), v, len);
}

/* Item: a chain of no bytes inside a mergeable RX set. */
static int
test_rx_empty_chain_in_set(void)
{
	/* heads 10, 11, 12: [30 B][0 B][2048 B]; ok[k] belongs to heads[k] */
	const uint16_t heads[] = {10, 11, 12};
	const uint32_t bytes[] = {30, 0, 2048};
	const struct range ok[] = {
		{BUF(10) + 64, 30}, {BUF(11) + 64, 0}, {BUF(12) + 64, 2048}};
	uint64_t bad0 = st(&atk, RXQ).bad_chain;

	TEST_ASSERT_SUCCESS(prime_scratch(), "prime");
	fill(BUF(10), 3 * 4096, 0xa5);
	desc(&atk.fr, RXQ, 10, BUF(10) + 64, 30, W, 0);
	desc(&atk.fr, RXQ, 11, BUF(11) + 64, 0, W, 0);
	desc(&atk.fr, RXQ, 12, BUF(12) + 64, 2048, W, 0);
	TEST_ASSERT_SUCCESS(
		rx_set_check("[30][0][2048]", heads, bytes, 3, ok, 3), "");
	TEST_ASSERT(st(&atk, RXQ).bad_chain > bad0, "empty chain counted");

	/* the empty chain as two zero-length descriptors */
	TEST_ASSERT_SUCCESS(prime_scratch(), "prime");
	desc(&atk.fr, RXQ, 11, BUF(11) + 64, 0, W | N, 13);
	desc(&atk.fr, RXQ, 13, BUF(11) + 128, 0, W, 0);
	TEST_ASSERT_SUCCESS(
		rx_set_check("[30][0+0][2048]", heads, bytes, 3, ok, 3), "");

	/* the empty chain as an indirect table of three empty entries */
	TEST_ASSERT_SUCCESS(prime_scratch(), "prime");
	idesc(&atk.fr, BUF(14), 0, BUF(11) + 64, 0, W | N, 1);
	idesc(&atk.fr, BUF(14), 1, BUF(11) + 64, 0, W | N, 2);
	idesc(&atk.fr, BUF(14), 2, BUF(11) + 64, 0, W, 0);
	desc(&atk.fr, RXQ, 11, BUF(14), 3 * 16, I, 0);
	TEST_ASSERT_SUCCESS(
		rx_set_check("[30][ind 0,0,0][2048]", heads, bytes, 3, ok, 3),
		"");

	/* the empty chain first, on a fresh scratch */
	desc(&atk.fr, RXQ, 11, BUF(11) + 64, 0, W, 0);
	TEST_ASSERT_SUCCESS(
		rx_set_check("[0][2048]", heads + 1, bytes + 1, 2, ok + 1, 2),
		"");
	return TEST_SUCCESS;
}

/* Post TX @head, dequeue once: returns the packets, *@walked the
 * descriptors the call walked. */
static uint16_t
tx_once(uint16_t head, unsigned int posts, uint64_t *walked)
{
	uint64_t w0 = st(&atk, TXQ).desc_walked;
	struct rte_mbuf *m[32];
	unsigned int k;
	uint16_t n;

	for (k = 0; k < posts; k++)
		vhu_front_post(&atk.fr, TXQ, head);
	n = vmp_vnet_dequeue_burst(atk.port, 0, m, 32);
	rte_pktmbuf_free_bulk(m, n);
	*walked = st(&atk, TXQ).desc_walked - w0;
	return n;
}

/* Item: descriptor work per chain: indirect table size, zero-length
 * descriptors, chain length. */
static int
test_chain_desc_bounds(void)
{
	struct vmp_vnet_vq_stats s0 = st(&atk, TXQ), r0;
	struct rte_mbuf *m;
	uint64_t walked;
	uint32_t i;

	/* 256 empty entries then a valid packet: 257 > queue size */
	for (i = 0; i < 256; i++)
		idesc(&atk.fr, BIGT, i, BUF(20), 0, N, (uint16_t)(i + 1));
	idesc(&atk.fr, BIGT, 256, BUF(20), HDR + 60, 0, 0);
	desc(&atk.fr, TXQ, 0, BIGT, 257 * 16, I, 0);
	TEST_ASSERT_EQUAL(tx_once(0, 1, &walked), 0,
			  "indirect table over the queue size refused");
	TEST_ASSERT_EQUAL_U64(st(&atk, TXQ).bad_chain - s0.bad_chain, 1,
			      "counted as bad_chain");
	TEST_ASSERT_EQUAL_U64(walked, 1, "only its indirect descriptor read");

	/* 65535 zero-length descriptors in one indirect table */
	for (i = 0; i < 65535; i++)
		idesc(&atk.fr, BIGT, i, BUF(20), 0, i < 65534 ? N : 0,
		      (uint16_t)(i + 1));
	desc(&atk.fr, TXQ, 0, BIGT, 65535 * 16, I, 0);
	TEST_ASSERT_EQUAL(tx_once(0, 1, &walked), 0, "65535 empty: dropped");
	TEST_ASSERT_EQUAL_U64(walked, 1, "65535 empty: descriptors read");
	r0 = st(&atk, RXQ);
	for (i = 0; i < 65535; i++)
		idesc(&atk.fr, BIGT, i, BUF(20), 0, W | (i < 65534 ? N : 0),
		      (uint16_t)(i + 1));
	desc(&atk.fr, RXQ, 0, BIGT, 65535 * 16, I, 0);
	vhu_front_post(&atk.fr, RXQ, 0);
	m = pkt(PKT);
	TEST_ASSERT_EQUAL(vmp_vnet_enqueue_burst(atk.port, 0, &m, 1), 0,
			  "RX 65535 empty: no room");
	rte_pktmbuf_free(m);
	TEST_ASSERT_EQUAL_U64(st(&atk, RXQ).desc_walked - r0.desc_walked, 1,
			      "RX 65535 empty: descriptors read");
	TEST_ASSERT_EQUAL_U64(st(&atk, RXQ).bad_chain - r0.bad_chain, 1,
			      "RX 65535 empty: counted");

	/* a direct chain of 100 empty descriptors and a valid one */
	s0 = st(&atk, TXQ);
	for (i = 0; i < 100; i++)
		desc(&atk.fr, TXQ, (uint16_t)(100 + i), BUF(20), 0, N,
		     (uint16_t)(101 + i));
	desc(&atk.fr, TXQ, 200, BUF(20), HDR + 60, 0, 0);
	TEST_ASSERT_EQUAL(tx_once(100, 1, &walked), 0,
			  "101 descriptors: over the chain limit");
	TEST_ASSERT_EQUAL_U64(st(&atk, TXQ).over_limit - s0.over_limit, 1,
			      "counted as over_limit");
	TEST_ASSERT_EQUAL_U64(walked, VMP_VNET_CHAIN_DESC,
			      "walk stopped at the chain limit");
	return TEST_SUCCESS;
}

/* TX head @h: an indirect table at @t of 63 entries (a packet in the
 * first, 62 empty ones): 64 descriptors, a valid chain. */
static void
tx_long_chain(uint16_t h, uint64_t t)
{
	uint32_t i;

	idesc(&atk.fr, t, 0, BUF(21), HDR + 60, N, 1);
	for (i = 1; i < 63; i++)
		idesc(&atk.fr, t, i, BUF(21), 0, i < 62 ? N : 0,
		      (uint16_t)(i + 1));
	desc(&atk.fr, TXQ, h, t, 63 * 16, I, 0);
}

/* Item: a burst's descriptor budget: 32 valid 64-descriptor TX chains. */
static int
test_tx_burst_budget(void)
{
	struct vmp_vnet_vq_stats s0 = st(&atk, TXQ);
	unsigned int k, total = 0, calls = 0;
	uint64_t walked;
	uint16_t n;

	for (k = 0; k < 32; k++)
		tx_long_chain((uint16_t)k, BUF(40 + k));
	for (k = 0; k < 32; k++)
		vhu_front_post(&atk.fr, TXQ, (uint16_t)k);
	while (total < 32 && calls < 10) {
		n = tx_once(0, 0, &walked);
		calls++;
		total += n;
		TEST_ASSERT(walked <= VMP_VNET_BURST_DESC +
					      VMP_VNET_CHAIN_DESC - 1,
			    "call %u walked %" PRIu64 " descriptors", calls,
			    walked);
		TEST_ASSERT(n <= VMP_VNET_BURST_DESC / 64,
			    "call %u: %u long chains past the budget", calls,
			    n);
	}
	TEST_ASSERT_EQUAL(total, 32, "every valid chain delivered");
	TEST_ASSERT_EQUAL(calls, 32 * 64 / VMP_VNET_BURST_DESC,
			  "calls to deliver them");
	TEST_ASSERT(st(&atk, TXQ).desc_budget - s0.desc_budget >= 3,
		    "bursts cut by the budget counted");
	TEST_ASSERT_EQUAL_U64(st(&atk, TXQ).bad_chain - s0.bad_chain, 0,
			      "none dropped");
	return TEST_SUCCESS;
}

/* RX head @h: an indirect table at @t of 63 writable entries (one byte,
 * then 62 empty ones): 64 descriptors holding 1 byte. */
static void
rx_tiny_chain(uint16_t h, uint64_t t)
{
	uint32_t i;

	for (i = 0; i < 63; i++)
		idesc(&atk.fr, t, i, BUF(22) + h, i == 0, W | (i < 62 ? N : 0),
		      (uint16_t)(i + 1));
	desc(&atk.fr, RXQ, h, t, 63 * 16, I, 0);
}

/* Item: a mergeable set that can never fit is walked once, not once per
 * packet, until avail->idx moves. */
static int
test_rx_set_never_fits(void)
{
	struct vmp_vnet_vq_stats s0 = st(&atk, RXQ), s1;
	struct rte_mbuf *m[32];
	unsigned int k;

	for (k = 0; k < 64; k++) {
		rx_tiny_chain((uint16_t)k, BUF(100 + k));
		vhu_front_post(&atk.fr, RXQ, (uint16_t)k);
	}
	for (k = 0; k < 32; k++)
		m[k] = pkt(PKT);
	TEST_ASSERT_EQUAL(vmp_vnet_enqueue_burst(atk.port, 0, m, 32), 32,
			  "packets taken (dropped as too long)");
	s1 = st(&atk, RXQ);
	TEST_ASSERT_EQUAL_U64(s1.desc_walked - s0.desc_walked,
			      VMP_VNET_PKT_DESC,
			      "the set walked once, up to its limit");
	TEST_ASSERT_EQUAL_U64(s1.nofit_skip - s0.nofit_skip, 31,
			      "the other packets not offered to it");
	TEST_ASSERT_EQUAL_U64(s1.too_long - s0.too_long, 32, "too_long");
	for (k = 0; k < 32; k++)
		m[k] = pkt(PKT);
	TEST_ASSERT_EQUAL(vmp_vnet_enqueue_burst(atk.port, 0, m, 32), 32,
			  "next call");
	TEST_ASSERT_EQUAL_U64(st(&atk, RXQ).desc_walked - s1.desc_walked, 0,
			      "not walked again while avail->idx stays");
	/* the guest adds a buffer that fits: walked again, packet placed */
	desc(&atk.fr, RXQ, 64, BUF(30), 2048, W, 0);
	vhu_front_post(&atk.fr, RXQ, 64);
	m[0] = pkt(10);
	TEST_ASSERT_EQUAL(vmp_vnet_enqueue_burst(atk.port, 0, m, 1), 1,
			  "small packet after avail moved");
	TEST_ASSERT(st(&atk, RXQ).desc_walked > s1.desc_walked,
		    "walked again after avail->idx moved");
	return TEST_SUCCESS;
}

/* TX chain of @nd direct descriptors from @h0: the header, then nd - 1
 * payload descriptors of 100 B in separate pages. */
static void
tx_frags(uint16_t h0, unsigned int nd)
{
	unsigned int k;
	uint8_t *b;

	desc(&atk.fr, TXQ, h0, BUF(200), HDR, N, (uint16_t)(h0 + 1));
	for (k = 1; k < nd; k++) {
		b = vhu_gpa(&atk.fr, BUF(200 + k));
		memset(b, (int)k, 100);
		desc(&atk.fr, TXQ, (uint16_t)(h0 + k), BUF(200 + k), 100,
		     k + 1 < nd ? N : 0, (uint16_t)(h0 + k + 1));
	}
}

/* A valid 17- and 19-descriptor TX chain (Linux: MAX_SKB_FRAGS + 2) is
 * delivered; one of 33 segments is dropped as over_limit. */
static int
test_tx_many_frags(void)
{
	const unsigned int nds[] = {17, 19, VMP_VNET_CHAIN_SEGS};
	struct vmp_vnet_vq_stats s0;
	struct rte_mbuf *m[2];
	unsigned int i, k;
	uint16_t n;

	for (i = 0; i < RTE_DIM(nds); i++) {
		tx_frags(0, nds[i]);
		vhu_front_post(&atk.fr, TXQ, 0);
		n = vmp_vnet_dequeue_burst(atk.port, 0, m, 2);
		TEST_ASSERT_EQUAL(n, 1, "%u descriptors: delivered", nds[i]);
		TEST_ASSERT_EQUAL(m[0]->pkt_len, 100 * (nds[i] - 1),
				  "%u descriptors: length", nds[i]);
		for (k = 1; k < nds[i]; k++) {
			uint8_t v, *b = (uint8_t *)(uintptr_t)rte_pktmbuf_read(
					   m[0], 100 * (k - 1) + 99, 1, &v);

			TEST_ASSERT(b != NULL && *b == k,
				    "%u descriptors: fragment %u", nds[i], k);
		}
		rte_pktmbuf_free(m[0]);
	}
	s0 = st(&atk, TXQ);
	tx_frags(0, VMP_VNET_CHAIN_SEGS + 1);
	vhu_front_post(&atk.fr, TXQ, 0);
	TEST_ASSERT_EQUAL(vmp_vnet_dequeue_burst(atk.port, 0, m, 2), 0,
			  "over the segment limit: not delivered");
	TEST_ASSERT_EQUAL_U64(st(&atk, TXQ).over_limit - s0.over_limit, 1,
			      "counted as over_limit");
	return TEST_SUCCESS;
}

/* What an attacker keeps posted beside the good port. */
struct attack {
	const char *name;
	unsigned int r;		 /* vring it posts on */
	void (*setup)(void);	 /* writes its descriptors */
	uint16_t head, nb_heads; /* posts head .. head + nb_heads - 1 */
};

static void
atk_none(void)
{
}

static void
atk_tx_empty65535(void)
{
	uint32_t i;

	for (i = 0; i < 65535; i++)
		idesc(&atk.fr, BIGT, i, BUF(20), 0, i < 65534 ? N : 0,
		      (uint16_t)(i + 1));
	desc(&atk.fr, TXQ, 0, BIGT, 65535 * 16, I, 0);
}

static void
atk_tx_long(void)
{
	tx_long_chain(0, BUF(40));
}

static void
atk_rx_over_limit(void)
{
	uint16_t i;

	for (i = 100; i < 200; i++)
		desc(&atk.fr, RXQ, i, BUF(20), 0, W | (i < 199 ? N : 0),
		     (uint16_t)(i + 1));
}

static void
atk_rx_never_fits(void)
{
	uint16_t k;

	for (k = 0; k < 64; k++)
		rx_tiny_chain(k, BUF(100 + k));
}

/* Not an attack: the work a well-behaved neighbour asks for, for scale. */
static void
atk_tx_mtu(void)
{
	desc(&atk.fr, TXQ, 0, BUF(40), HDR + 1500, 0, 0);
}

static const struct attack attacks[] = {
	{"idle neighbour (anchor)", TXQ, atk_none, 0, 0},
	{"(good neighbour: TX 1500 B packets)", TXQ, atk_tx_mtu, 0, 1},
	{"TX: 65535 empty in an indirect table", TXQ, atk_tx_empty65535, 0, 1},
	{"TX: valid 64-descriptor chains", TXQ, atk_tx_long, 0, 1},
	{"RX: 100-descriptor empty chains", RXQ, atk_rx_over_limit, 100, 1},
	{"RX: a set that never fits", RXQ, atk_rx_never_fits, 0, 64},
};

/* Keep 32 (or nb_heads if more) of @a's heads posted: as many as came
 * back since the last call. */
static void
atk_refill(const struct attack *a, unsigned int *posted)
{
	struct vring_used_elem e;
	unsigned int want = RTE_MAX(32u, (unsigned int)a->nb_heads);

	while (vhu_front_used(&atk.fr, a->r, &e) == 0)
		(*posted)--;
	for (; a->nb_heads && *posted < want; (*posted)++)
		vhu_front_post(&atk.fr, a->r,
			       (uint16_t)(a->head + *posted % a->nb_heads));
}

/* One call of the attacker's vring; its TSC cycles. */
static uint64_t
atk_call(const struct attack *a, uint64_t *walked)
{
	uint64_t w0 = st(&atk, (uint16_t)a->r).desc_walked, t;
	struct rte_mbuf *m[32];
	uint16_t n, k;

	if (a->r == RXQ) {
		for (k = 0; k < 32; k++)
			m[k] = pkt(64);
		t = rte_rdtsc();
		n = vmp_vnet_enqueue_burst(atk.port, 0, m, 32);
		t = rte_rdtsc() - t;
		rte_pktmbuf_free_bulk(m + n, 32 - n);
	} else {
		t = rte_rdtsc();
		n = vmp_vnet_dequeue_burst(atk.port, 0, m, 32);
		t = rte_rdtsc() - t;
		rte_pktmbuf_free_bulk(m, n);
	}
	*walked = st(&atk, (uint16_t)a->r).desc_walked - w0;
	return t;
}

/* One round of the good port: 32 packets each way; its TSC cycles. */
static int
good_round(uint64_t *cyc)
{
	struct rte_mbuf *m[32];
	struct vring_used_elem e;
	uint16_t k, ntx, nrx;
	uint64_t t;

	for (k = 0; k < 32; k++) {
		vhu_front_post(&good.fr, TXQ, k);
		vhu_front_post(&good.fr, RXQ, k);
	}
	t = rte_rdtsc();
	ntx = vmp_vnet_dequeue_burst(good.port, 0, m, 32);
	*cyc += rte_rdtsc() - t;
	rte_pktmbuf_free_bulk(m, ntx);
	for (k = 0; k < 32; k++)
		m[k] = pkt(64);
	t = rte_rdtsc();
	nrx = vmp_vnet_enqueue_burst(good.port, 0, m, 32);
	*cyc += rte_rdtsc() - t;
	rte_pktmbuf_free_bulk(m + nrx, 32 - nrx);
	while (vhu_front_used(&good.fr, TXQ, &e) == 0 ||
	       vhu_front_used(&good.fr, RXQ, &e) == 0)
		;
	TEST_ASSERT(ntx == 32 && nrx == 32, "good port: %u TX, %u RX", ntx,
		    nrx);
	return TEST_SUCCESS;
}

/*
 * The good port and the attacker's vring polled in turn by this lcore, as
 * a datapath lcore polls its ports. Only the time inside the datapath
 * calls is counted (the guests' own work runs on other cores in real life).
 * Printed per attacker: the good port's rate counting its own calls and
 * the attacker's, its rate counting its own calls only ("alone"), and the
 * share the first is of the second, all measured in the same rounds; asserted:
 * the good port is served fully in every round, and no attacker call walks more
 * than its budget.
 */
static int
test_rate_beside_attacker(void)
{
	uint64_t hz = rte_get_tsc_hz();
	unsigned int i, k;

	TEST_ASSERT_SUCCESS(peer_connect(&good), "good port");
	for (k = 0; k < 32; k++) {
		memset(vhu_gpa(&good.fr, BUF(k)), 0, HDR);
		desc(&good.fr, TXQ, k, BUF(k), HDR + 64, 0, 0);
		desc(&good.fr, RXQ, k, BUF(64 + k), 2048, W, 0);
	}
	printf("  %-38s %9s %9s %7s %9s %9s\n", "attacker", "good Mpps",
	       "alone", "share", "atk us", "atk desc");
	for (i = 0; i < RTE_DIM(attacks); i++) {
		const struct attack *a = &attacks[i];
		uint64_t gc = 0, ac = 0, walked, wmax = 0, wsum = 0, end;
		unsigned int rounds = 0, posted = 0;
		double rate, alone;

		TEST_ASSERT_SUCCESS(peer_connect(&atk), "attacker");
		a->setup();
		end = rte_get_timer_cycles() + rte_get_timer_hz() / 8;
		while (rounds < 20000 &&
		       (rounds < 20 || rte_get_timer_cycles() < end)) {
			atk_refill(a, &posted);
			TEST_ASSERT_SUCCESS(good_round(&gc), "%s", a->name);
			ac += atk_call(a, &walked);
			TEST_ASSERT(walked <= VMP_VNET_BURST_DESC +
						      VMP_VNET_CHAIN_DESC - 1,
				    "%s: a call walked %" PRIu64, a->name,
				    walked);
			wmax = RTE_MAX(wmax, walked);
			wsum += walked;
			rounds++;
		}
		rate = 64.0 * rounds * hz / (double)(gc + ac) / 1e6;
		alone = 64.0 * rounds * hz / (double)gc / 1e6;
		printf("  %-38s %9.2f %9.2f %6.1f%% %9.2f %5" PRIu64
		       "/%-4" PRIu64 "\n",
		       a->name, rate, alone, 100.0 * rate / alone,
		       (double)ac / rounds * 1e6 / hz, wsum / rounds, wmax);
	}
	return TEST_SUCCESS;
}

static struct vmp_test_suite hostile_suite = {
	.name = "vnet: hostile guest datapath",
	.setup = setup,
	.teardown = teardown,
	.cases =
		{
			TEST_CASE_ST(fresh, NULL, test_rx_empty_chain_in_set),
			TEST_CASE_ST(fresh, NULL, test_chain_desc_bounds),
			TEST_CASE_ST(fresh, NULL, test_tx_burst_budget),
			TEST_CASE_ST(fresh, NULL, test_rx_set_never_fits),
			TEST_CASE_ST(fresh, NULL, test_tx_many_frags),
			TEST_CASE_ST(fresh, NULL, test_rate_beside_attacker),
			TEST_CASES_END(),
		},
};

static int
test_vnet_hostile_dp(void)
{
	return vmp_test_suite_run(&hostile_suite);
}

REGISTER_TEST_COMMAND(vnet_hostile_dp_autotest, test_vnet_hostile_dp);
