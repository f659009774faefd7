/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the split-ring datapath of lib/vnet (guest RX and TX,
 * CPU copies or dma_swdma copies) over a synthetic guest. Everything a guest
 * controls comes from the input: the memory table (1-4 regions of 256 B to
 * 64 KiB at chosen guest addresses, so holes and overlaps), the descriptor
 * tables, indirect tables placed in guest memory, avail indexes and entries,
 * the negotiated features; and between datapath calls the guest rewrites
 * descriptors and indexes while DMA copies may be in flight (the engine runs
 * on this thread, only when the input says so).
 *
 * Oracles, checked after every step:
 *  - ASan: no access outside a region, a ring, or freed memory (regions are
 *    freed after each input: a pointer kept from an earlier input is a
 *    use-after-free);
 *  - no byte of guest memory changes unless some descriptor made it
 *    writable (a direct or indirect descriptor with VRING_DESC_F_WRITE);
 *  - descriptor tables and avail rings are never written;
 *  - each used element names a head < queue size, its length fits the
 *    writable (RX) bytes of that chain, and is 0 on TX;
 *  - each datapath call's CPU time stays under a bound
 *    (VMP_FUZZ_WORK_MS, default 100 ms);
 *  - at the end every in-flight copy lands (bounded) and every mbuf is
 *    back in its pool.
 *
 * Input layout (little endian; reads past the end give zeros): see
 * decode_guest() and run_ops(); tests/fuzz/gen_seeds.py writes seeds.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>
#include <linux/vhost.h>

#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_service.h>

#include <vmp_config.h>

#include "vnet_pvt.h"
#include "fuzz_common.h"
#include "fuzz_vnet_common.h"

#define NREG_MAX 4
#define QSIZE_LOG2_MAX 8
#define NOPS_MAX 24
#define RX_BURST_MAX 32
#define TX_BURST_MAX 64
#define PKT_LEN_MAX 9200
#define NIND_MAX 8
#define DRAIN_ITERS 100000

struct guest {
	unsigned int nreg;
	uint16_t qsize;
	struct rte_vhost_memory *mem;
	uint8_t *host[NREG_MAX];
	uint8_t *snap[NREG_MAX];
	uint8_t *wmask[NREG_MAX];
	/* vring 0: guest RX, 1: guest TX */
	struct vring_desc *desc[2], *desc_ref[2];
	struct vring_avail *avail[2], *avail_ref[2];
	struct vring_used *used[2];
	uint16_t used_seen[2];
	/* per head, the most writable bytes its chain had at any step: the
	 * guest may rewrite a chain the datapath already walked */
	uint64_t cap_max[2][1u << QSIZE_LOG2_MAX];
	size_t avail_sz;
};

static struct vmp_vnet_port *port;
static struct rte_mempool *mp;
static struct vmp_vnet_dma *dma;
static uint32_t svc_id;
static uint64_t work_ns_max = 100ull * 1000 * 1000;
static char sock_dir[64];

static const struct rte_vhost_mem_region *
reg(const struct guest *g, unsigned int r)
{
	return &g->mem->regions[r];
}

/*
 * A guest address from the input: mostly "region, offset" so that inputs
 * reach memory, sometimes raw (holes, the top of the address space). Bit 15
 * of the offset counts it back from the region's end: structures that end
 * at or straddle a region boundary are one small mutation away.
 */
static uint64_t
xlate(const struct guest *g, uint64_t a)
{
	const struct rte_vhost_mem_region *r;
	uint64_t off = a & 0xffff;

	if (a >> 63)
		return a;
	if ((a >> 62) & 1)
		return a & ~(1ull << 62);
	r = reg(g, (unsigned int)((a >> 16) % g->nreg));
	if (off & 0x8000)
		return r->guest_phys_addr + r->size - (off & 0xff);
	return r->guest_phys_addr + off % (r->size + 32);
}

static void
desc_decode(const struct guest *g, struct fz_in *in, struct vring_desc *d)
{
	uint32_t len = fz_u32(in);

	d->addr = xlate(g, fz_u64(in));
	/* mostly short, sometimes anything */
	d->len = (len >> 31) ? len : (len & 0x1fff);
	d->flags = fz_u16(in);
	d->next = fz_u16(in);
	/* mostly in the table or one past it, sometimes anything */
	if (!(d->next & 0x8000))
		d->next %= g->qsize + 1;
}

/* Host address of [gpa, gpa + len) if one region holds all of it. */
static uint8_t *
ghva(const struct guest *g, uint64_t gpa, uint64_t len)
{
	unsigned int i;

	for (i = 0; i < g->nreg; i++) {
		uint64_t off = gpa - reg(g, i)->guest_phys_addr;

		if (off < reg(g, i)->size && len <= reg(g, i)->size - off)
			return g->host[i] + off;
	}
	return NULL;
}

static void
mark_writable(struct guest *g, uint64_t gpa, uint32_t len)
{
	uint64_t end = gpa + len < gpa ? UINT64_MAX : gpa + len;
	unsigned int i;

	for (i = 0; i < g->nreg; i++) {
		uint64_t a = reg(g, i)->guest_phys_addr;
		uint64_t b = a + reg(g, i)->size;
		uint64_t lo = RTE_MAX(a, gpa), hi = RTE_MIN(b, end);

		if (lo < hi)
			memset(g->wmask[i] + (lo - a), 1, hi - lo);
	}
}

/* Everything any descriptor reachable from @t makes writable (more than
 * the datapath may accept: an over-approximation never blames it wrongly). */
static void
scan_writable(struct guest *g, const struct vring_desc *t, uint32_t n, bool top)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		struct vring_desc d;
		const struct vring_desc *ind;

		memcpy(&d, &t[i], sizeof(d));
		if (top && (d.flags & VRING_DESC_F_INDIRECT)) {
			ind = (const void *)ghva(g, d.addr, d.len);
			if (ind != NULL)
				scan_writable(g, ind, d.len / sizeof(d), false);
		}
		if (d.flags & VRING_DESC_F_WRITE)
			mark_writable(g, d.addr, d.len);
	}
}

/* Bytes of chain @head in the direction @wr, read the lenient way. */
static uint64_t
ref_capacity(const struct guest *g, unsigned int r, uint16_t head, bool wr)
{
	const struct vring_desc *t = g->desc[r];
	uint32_t n = g->qsize, idx = head, steps = 0;
	bool ind = false;
	uint64_t cap = 0;

	while (idx < n && steps++ <= n) {
		struct vring_desc d;

		memcpy(&d, &t[idx], sizeof(d));
		if ((d.flags & VRING_DESC_F_INDIRECT) && !ind) {
			t = (const void *)ghva(g, d.addr, d.len);
			if (t == NULL)
				break;
			n = d.len / sizeof(d);
			idx = 0;
			steps = 0;
			ind = true;
			continue;
		}
		if (!!(d.flags & VRING_DESC_F_WRITE) == wr)
			cap += d.len;
		if (!(d.flags & VRING_DESC_F_NEXT))
			break;
		idx = d.next;
	}
	return cap;
}

static void
guest_free(struct guest *g)
{
	unsigned int i;

	for (i = 0; i < g->nreg; i++) {
		free(g->host[i]);
		free(g->snap[i]);
		free(g->wmask[i]);
	}
	for (i = 0; i < 2; i++) {
		free(g->desc[i]);
		free(g->desc_ref[i]);
		free(g->avail[i]);
		free(g->avail_ref[i]);
		free(g->used[i]);
	}
	/* port->mem is g->mem: the datapath is parked (OFF) by now */
	port->mem = NULL;
	free(g->mem);
}

/* Indirect tables written into guest memory: u8 count, then per table
 * u8 region, u16 offset, u8 descriptors, that many descriptors. */
static void
place_indirect(struct guest *g, struct fz_in *in)
{
	unsigned int k, nt = fz_u8(in) % (NIND_MAX + 1);

	for (k = 0; k < nt; k++) {
		unsigned int r = fz_u8(in) % g->nreg, i;
		uint32_t size = (uint32_t)reg(g, r)->size;
		uint32_t off = fz_u16(in) % size;
		unsigned int nd = fz_u8(in);

		for (i = 0; i < nd; i++) {
			struct vring_desc d;

			desc_decode(g, in, &d);
			if (off + (i + 1) * sizeof(d) <= size)
				memcpy(g->host[r] + off + i * sizeof(d), &d,
				       sizeof(d));
		}
	}
}

/*
 * u8 flags (bit 0 MRG_RXBUF, 1 VERSION_1, 2 INDIRECT_DESC, 3 async, 4 dirty
 * logging on), u8 log2 queue size, u8 regions - 1, u8 DMA threshold / 8;
 * per region u16 guest page, u8 size / 256 - 1; per vring u16 last_avail,
 * u16 avail->idx, u16 avail->flags, the avail entries, the descriptors;
 * then the indirect tables.
 */
static bool
decode_guest(struct guest *g, struct fz_in *in, uint8_t *flags)
{
	unsigned int i, r;
	uint8_t th;

	memset(g, 0, sizeof(*g));
	*flags = fz_u8(in);
	g->qsize = (uint16_t)(1u << (fz_u8(in) % (QSIZE_LOG2_MAX + 1)));
	g->nreg = fz_u8(in) % NREG_MAX + 1;
	th = fz_u8(in);
	dma->threshold = 1u + 8u * th;
	g->mem = calloc(1,
			sizeof(*g->mem) + g->nreg * sizeof(g->mem->regions[0]));
	if (g->mem == NULL)
		return false;
	g->mem->nregions = g->nreg;
	for (i = 0; i < g->nreg; i++) {
		struct rte_vhost_mem_region *mr = &g->mem->regions[i];
		uint32_t j;

		mr->guest_phys_addr = (uint64_t)fz_u16(in) << 12;
		mr->size = 256u * (fz_u8(in) + 1u);
		g->host[i] = malloc(mr->size);
		g->snap[i] = malloc(mr->size);
		g->wmask[i] = calloc(1, mr->size);
		if (!g->host[i] || !g->snap[i] || !g->wmask[i])
			return false;
		for (j = 0; j < mr->size; j++)
			g->host[i][j] = (uint8_t)(j * 7 + i);
		mr->host_user_addr = (uint64_t)(uintptr_t)g->host[i];
		mr->mmap_addr = g->host[i];
		mr->mmap_size = mr->size;
	}
	g->avail_sz = sizeof(struct vring_avail) + 2u * g->qsize + 2;
	for (r = 0; r < 2; r++) {
		size_t dsz = sizeof(struct vring_desc) * g->qsize;
		struct vnet_vq *vq = &port->vq[r];

		g->desc[r] = malloc(dsz);
		g->desc_ref[r] = malloc(dsz);
		g->avail[r] = malloc(g->avail_sz);
		g->avail_ref[r] = malloc(g->avail_sz);
		g->used[r] = calloc(1, sizeof(struct vring_used) +
					       8u * g->qsize + 2);
		if (!g->desc[r] || !g->desc_ref[r] || !g->avail[r] ||
		    !g->avail_ref[r] || !g->used[r])
			return false;
		vq->last_avail = fz_u16(in);
		vq->last_used = vq->last_avail;
		g->used[r]->idx = vq->last_used;
		g->used_seen[r] = vq->last_used;
		g->avail[r]->idx = fz_u16(in);
		g->avail[r]->flags = fz_u16(in);
		for (i = 0; i < g->qsize; i++)
			g->avail[r]->ring[i] = fz_u16(in) % (g->qsize + 1);
		g->avail[r]->ring[g->qsize] = 0; /* used_event */
		for (i = 0; i < g->qsize; i++)
			desc_decode(g, in, &g->desc[r][i]);
	}
	place_indirect(g, in);
	return true;
}

static void
port_setup(struct guest *g, uint8_t flags)
{
	uint64_t f = 0;
	unsigned int r;

	if (flags & 1)
		f |= 1ull << VIRTIO_NET_F_MRG_RXBUF;
	if (flags & 2)
		f |= 1ull << VIRTIO_F_VERSION_1;
	if (flags & 4)
		f |= 1ull << VIRTIO_RING_F_INDIRECT_DESC;
	/* offloads: the guest's TX headers are parsed, and what it sends is
	 * fed back to its RX (op_tx): passed in the header (64) or finished
	 * in software */
	if (flags & 32)
		f |= (1ull << VIRTIO_NET_F_CSUM) |
		     (1ull << VIRTIO_NET_F_HOST_TSO4) |
		     (1ull << VIRTIO_NET_F_HOST_TSO6);
	if (flags & 64)
		f |= (1ull << VIRTIO_NET_F_GUEST_CSUM) |
		     (1ull << VIRTIO_NET_F_GUEST_TSO4) |
		     (1ull << VIRTIO_NET_F_GUEST_TSO6);
	/* calls decided on used_event (the ring's trailing u16, which the
	 * guest rewrites: op 2) */
	if (flags & 128)
		f |= 1ull << VIRTIO_RING_F_EVENT_IDX;
	port->mem = g->mem;
	port->features = f;
	port->mrg = !!(f & (1ull << VIRTIO_NET_F_MRG_RXBUF));
	port->hdr_len = (port->mrg || (f & (1ull << VIRTIO_F_VERSION_1)))
				? VNET_HDR_MRG
				: VNET_HDR_LEGACY;
	port->log_on = !!(flags & 16);
	if (vmp_vnet_port_set_dma(port, 0, (flags & 8) ? dma : NULL) < 0)
		FZ_FAIL("set_dma refused between inputs");
	for (r = 0; r < 2; r++) {
		struct vnet_vq *vq = &port->vq[r];

		vq->desc = g->desc[r];
		vq->avail = g->avail[r];
		vq->used = g->used[r];
		vq->size = g->qsize;
		vq->broken = false;
		vq->call_pending = false;
		vq->pk_head = vq->pk_tail = 0;
		vq->us_head = vq->us_tail = 0;
		vq->lr_head = vq->lr_tail = 0;
		memset(&vq->st, 0, sizeof(vq->st));
		memcpy(g->desc_ref[r], g->desc[r],
		       sizeof(struct vring_desc) * g->qsize);
		memcpy(g->avail_ref[r], g->avail[r], g->avail_sz);
		/* OFF->ON: this thread is the control and the datapath */
		__atomic_store_n(&vq->state, VQ_ON, __ATOMIC_RELEASE);
	}
}

static void
update_caps(struct guest *g)
{
	unsigned int h;

	scan_writable(g, g->desc[0], g->qsize, true);
	scan_writable(g, g->desc[1], g->qsize, true);
	for (h = 0; h < g->qsize; h++)
		g->cap_max[0][h] =
			RTE_MAX(g->cap_max[0][h],
				ref_capacity(g, 0, (uint16_t)h, true));
}

static void
snapshot(struct guest *g)
{
	unsigned int i;

	for (i = 0; i < g->nreg; i++)
		memcpy(g->snap[i], g->host[i], reg(g, i)->size);
	update_caps(g);
}

/* Used elements published since the last check: sane ids and lengths. */
static void
check_used(struct guest *g, unsigned int r)
{
	uint16_t idx = __atomic_load_n(&g->used[r]->idx, __ATOMIC_ACQUIRE);
	uint16_t n = (uint16_t)(idx - g->used_seen[r]), i;
	uint16_t took = (uint16_t)(port->vq[r].last_avail - g->used_seen[r]);

	/* A guest that re-posts heads still in flight may have more than a
	 * ring of them outstanding: then only the newest qsize elements are
	 * still in the ring. Never more returned than taken. */
	if (n > took)
		FZ_FAIL("vring %u: used idx moved by %u, %u heads taken", r, n,
			took);
	for (i = n > g->qsize ? n - g->qsize : 0; i < n; i++) {
		const struct vring_used_elem *u =
			&g->used[r]
				 ->ring[(g->used_seen[r] + i) & (g->qsize - 1)];
		uint64_t cap;

		if (u->id >= g->qsize)
			FZ_FAIL("vring %u: used id %u >= size %u", r, u->id,
				g->qsize);
		if (r == 1 && u->len != 0)
			FZ_FAIL("TX used len %u (not 0)", u->len);
		cap = g->cap_max[r][u->id];
		if (r == 0 && u->len > cap)
			FZ_FAIL("RX used id %u len %u > chain's %lu writable "
				"bytes",
				u->id, u->len, (unsigned long)cap);
	}
	g->used_seen[r] = idx;
}

/* After a step: nothing written that no descriptor allowed. */
static void
check_step(struct guest *g)
{
	unsigned int i, r;
	size_t j;

	/* descriptors the step's writes may have created count too */
	update_caps(g);
	for (i = 0; i < g->nreg; i++)
		for (j = 0; j < reg(g, i)->size; j++)
			if (g->host[i][j] != g->snap[i][j] && !g->wmask[i][j])
				FZ_FAIL("region %u (gpa 0x%lx) byte %zu "
					"written, "
					"no descriptor made it writable",
					i,
					(unsigned long)reg(g, i)
						->guest_phys_addr,
					j);
	for (r = 0; r < 2; r++) {
		if (memcmp(g->desc[r], g->desc_ref[r],
			   sizeof(struct vring_desc) * g->qsize))
			FZ_FAIL("vring %u: descriptor table written", r);
		if (memcmp(g->avail[r], g->avail_ref[r], g->avail_sz))
			FZ_FAIL("vring %u: avail ring written", r);
		check_used(g, r);
	}
}

static uint64_t
thread_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
work_check(uint64_t t0, const char *what)
{
	uint64_t ns = thread_ns() - t0;

	if (ns > work_ns_max)
		FZ_FAIL("%s took %lu us of CPU (bound %lu us)", what,
			(unsigned long)(ns / 1000),
			(unsigned long)(work_ns_max / 1000));
}

/* An mbuf chain of @len bytes in @seg-byte segments, or NULL when the pool
 * ran dry (in-flight RX records hold their packets: not a leak). */
static struct rte_mbuf *
rx_mbuf(uint32_t len, uint16_t seg, uint8_t fill)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp), *last = m;

	if (m == NULL)
		return NULL;
	for (;;) {
		uint16_t l = (uint16_t)RTE_MIN(len, seg);

		memset(rte_pktmbuf_mtod(last, void *), fill, l);
		last->data_len = l;
		m->pkt_len += l;
		len -= l;
		if (len == 0)
			return m;
		last->next = rte_pktmbuf_alloc(mp);
		if (last->next == NULL) {
			rte_pktmbuf_free(m);
			return NULL;
		}
		last = last->next;
		m->nb_segs++;
	}
}

/* RX burst: u8 count - 1, u8 segment size / 8, per packet u16 length. */
static void
op_rx(struct fz_in *in)
{
	struct rte_mbuf *pkts[RX_BURST_MAX];
	unsigned int n = fz_u8(in) % RX_BURST_MAX + 1, i;
	uint16_t seg = (uint16_t)RTE_MIN(2048, 64 + 8 * fz_u8(in)), done;
	uint64_t t0;

	for (i = 0; i < n; i++) {
		pkts[i] = rx_mbuf(fz_u16(in) % (PKT_LEN_MAX + 1), seg,
				  (uint8_t)(0xc3 ^ i));
		if (pkts[i] == NULL) {
			n = i;
			break;
		}
	}
	t0 = thread_ns();
	done = vmp_vnet_enqueue_burst(port, 0, pkts, (uint16_t)n);
	work_check(t0, "enqueue_burst");
	if (done > n)
		FZ_FAIL("enqueue_burst took %u of %u", done, n);
	for (i = done; i < n; i++)
		rte_pktmbuf_free(pkts[i]);
}

static void
free_tx(struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t i;

	for (i = 0; i < n; i++) {
		const struct rte_mbuf *s;
		uint32_t sum = 0;

		for (s = pkts[i]; s != NULL; s = s->next)
			sum += s->data_len;
		if (sum != pkts[i]->pkt_len)
			FZ_FAIL("TX mbuf pkt_len %u, segments hold %u",
				pkts[i]->pkt_len, sum);
		rte_pktmbuf_free(pkts[i]);
	}
}

static void
op_tx(struct fz_in *in)
{
	struct rte_mbuf *pkts[TX_BURST_MAX];
	uint16_t n = (uint16_t)(fz_u8(in) % TX_BURST_MAX + 1), got;
	uint64_t t0 = thread_ns();
	uint16_t back = 0;

	got = vmp_vnet_dequeue_burst(port, 0, pkts, n);
	work_check(t0, "dequeue_burst");
	if (got > n)
		FZ_FAIL("dequeue_burst returned %u of %u", got, n);
	if (port->features & (1ull << VIRTIO_NET_F_CSUM)) {
		/* offload requests the guest made, back to its RX */
		t0 = thread_ns();
		back = vmp_vnet_enqueue_burst(port, 0, pkts, got);
		work_check(t0, "enqueue_burst of TX packets");
		if (back > got)
			FZ_FAIL("enqueue_burst took %u of %u", back, got);
	}
	free_tx(pkts + back, (uint16_t)(got - back));
}

static void
engine_run(unsigned int iters)
{
	while (iters--)
		rte_service_run_iter_on_app_lcore(svc_id, 1);
}

/*
 * Ops until the input ends (at most NOPS_MAX), u8 kind then its operands:
 * 0 RX burst, 1 TX burst, 2 u8 vring (bit 1: used_event instead) + u16
 * avail->idx, 3 u8 vring + u8 slot
 * + descriptor, 4 u8 engine iterations, 5 u8 vring + u8 slot + u16 head.
 */
static void
run_ops(struct guest *g, struct fz_in *in)
{
	unsigned int k;

	for (k = 0; k < NOPS_MAX && fz_left(in) > 0; k++) {
		uint8_t op = fz_u8(in) % 6;
		unsigned int r, s;

		snapshot(g);
		switch (op) {
		case 0:
			op_rx(in);
			break;
		case 1:
			op_tx(in);
			break;
		case 2:
			r = fz_u8(in);
			if (r & 2) /* used_event: after avail->ring[qsize] */
				g->avail[r & 1]->ring[g->qsize] = fz_u16(in);
			else
				g->avail[r & 1]->idx = fz_u16(in);
			break;
		case 3:
			r = fz_u8(in) & 1;
			s = fz_u8(in) % g->qsize;
			desc_decode(g, in, &g->desc[r][s]);
			break;
		case 4:
			engine_run(fz_u8(in) % 8);
			break;
		default:
			r = fz_u8(in) & 1;
			s = fz_u8(in) % g->qsize;
			g->avail[r]->ring[s] = fz_u16(in);
			break;
		}
		if (op >= 2 && op != 4) { /* the guest's own writes */
			for (r = 0; r < 2; r++) {
				memcpy(g->desc_ref[r], g->desc[r],
				       sizeof(struct vring_desc) * g->qsize);
				memcpy(g->avail_ref[r], g->avail[r],
				       g->avail_sz);
			}
		}
		check_step(g);
	}
}

/* Land every copy, publish, return stashed TX mbufs; park both vrings. */
static void
drain(struct guest *g)
{
	struct rte_mbuf *pkts[TX_BURST_MAX];
	unsigned int i, r;

	/* no new heads from here on: only what is in flight */
	for (r = 0; r < 2; r++) {
		g->avail[r]->idx = port->vq[r].last_avail;
		memcpy(g->avail_ref[r], g->avail[r], g->avail_sz);
	}
	snapshot(g);
	for (i = 0; i < DRAIN_ITERS; i++) {
		engine_run(1);
		vmp_vnet_enqueue_burst(port, 0, pkts, 0);
		free_tx(pkts,
			vmp_vnet_dequeue_burst(port, 0, pkts, TX_BURST_MAX));
		if (!vnet_infl_count(&port->vq[0]) &&
		    !vnet_infl_count(&port->vq[1]) && !port->vq[1].stash_n)
			break;
	}
	if (i == DRAIN_ITERS)
		FZ_FAIL("copies still in flight after %u polls", DRAIN_ITERS);
	check_step(g);
	for (r = 0; r < 2; r++) {
		__atomic_store_n(&port->vq[r].state, VQ_OFF, __ATOMIC_RELEASE);
	}
	if (rte_mempool_in_use_count(mp) != 0)
		FZ_FAIL("%u mbufs not returned to the pool",
			rte_mempool_in_use_count(mp));
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct vmp_vnet_port_conf pc = {.nb_qp = 1};
	char path[128];
	const char *w = getenv("VMP_FUZZ_WORK_MS");

	(void)argc;
	(void)argv;
	if (w != NULL)
		work_ns_max = strtoull(w, NULL, 10) * 1000 * 1000;
	fz_eal_init("0");
	mp = rte_pktmbuf_pool_create("fz_mbufs", 8191, 0, 0,
				     RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	if (mp == NULL)
		FZ_FAIL("no mempool");
	dma = fz_swdma_create("dma_swdma_fz", &svc_id);
	/* a port nobody connects to: its vrings are the harness's */
	snprintf(sock_dir, sizeof(sock_dir), "/tmp/vmpfz-XXXXXX");
	if (mkdtemp(sock_dir) == NULL)
		FZ_FAIL("mkdtemp: %d", errno);
	snprintf(path, sizeof(path), "%s/dp.sock", sock_dir);
	pc.path = path;
	pc.mp = mp;
	port = vmp_vnet_port_create(&pc);
	if (port == NULL)
		FZ_FAIL("port create: %d", rte_errno);
	unlink(path);
	rmdir(sock_dir);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = {.p = data, .n = size};
	struct guest g;
	uint8_t flags;

	if (decode_guest(&g, &in, &flags)) {
		port_setup(&g, flags);
		run_ops(&g, &in);
		drain(&g);
	}
	guest_free(&g);
	return 0;
}
