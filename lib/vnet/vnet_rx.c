/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Guest RX (host -> guest): an mbuf chain into one or more guest buffers
 * (mergeable when VIRTIO_NET_F_MRG_RXBUF was negotiated, else exactly one),
 * virtio-net header first. Buffers are validated before a byte is copied, so
 * a packet either fits completely or is not taken.
 */
#include <string.h>

#include <rte_mbuf.h>
#include <rte_per_lcore.h>
#include <rte_prefetch.h>

#include "vnet_pvt.h"
#include "vnet_wtrace.h"

/* Scratch chains of the packet being placed (one set per lcore). */
static RTE_DEFINE_PER_LCORE(struct vnet_chain, rx_chains[VNET_MAX_BUFS]);

/* Where the next byte goes in the packet's guest buffers. */
struct gwriter {
	struct vnet_chain *ch;
	uint16_t nb, b, s;
	uint32_t off;
	uint32_t written[VNET_MAX_BUFS];
};

static void
log_range_add(struct vnet_vq *vq, struct vnet_pkt *p, uint64_t gpa,
	      uint32_t len)
{
	struct vnet_log_range *r;

	if (p->nb_log) {
		r = &vq->logr[(vq->lr_tail - 1) & (VNET_LOGR - 1)];
		if (r->gpa + r->len == gpa) {
			r->len += len;
			return;
		}
	}
	r = &vq->logr[vq->lr_tail++ & (VNET_LOGR - 1)];
	r->gpa = gpa;
	r->len = len;
	p->nb_log++;
}

/*
 * Copy @len bytes from @src (at @iova, or RTE_BAD_IOVA: CPU only) at the
 * writer's position, moving through the segments of chains 0..nb-1 only.
 * Bound: each pass copies bytes or moves to the next segment or chain, so
 * at most (copies) + nb * (VNET_MAX_SEGS + 1) passes. The caller checked
 * that the chains hold the packet; if they still end first (their totals
 * lied), the rest is not written and the vring is stopped.
 */
static __rte_always_inline void
gw_write(struct vnet_vq *vq, uint32_t rec, struct gwriter *w,
	 const uint8_t *src, rte_iova_t iova, uint32_t len)
{
	struct vnet_pkt *p = &vq->pkts[rec & (VNET_INFL - 1)];

	while (len > 0) {
		const struct vnet_chain *c = &w->ch[w->b];
		const struct vnet_seg *sg;
		uint32_t room, l;
		int dma;

		if (w->s >= c->nb_seg || w->off == c->seg[w->s].len) {
			/* next segment, else the next chain's first */
			w->off = 0;
			if (w->s < c->nb_seg && ++w->s < c->nb_seg)
				continue;
			if (w->b + 1 == w->nb) {
				__vmp_vnet_vq_mark_broken(
					vq, "buffers short by", len);
				return;
			}
			w->s = 0;
			w->b++;
			continue;
		}
		sg = &c->seg[w->s];
		room = sg->len - w->off;
		l = RTE_MIN(room, len);
		dma = vnet_copy(vq, rec, sg->hva + w->off,
				(rte_iova_t)(uintptr_t)(sg->hva + w->off), src,
				iova, l, sg->gpa + w->off, NULL);
		vnet_wtrace_gpa(vq, dma ? VNET_WT_DMA : VNET_WT_CPU,
				sg->gpa + w->off, l);
		log_range_add(vq, p, sg->gpa + w->off, l);
		w->written[w->b] += l;
		w->off += l;
		src += l;
		if (iova != RTE_BAD_IOVA)
			iova += l;
		len -= l;
	}
}

/* Return chains 0..nb-1 unused (length 0) after a bad one broke a packet. */
static void
give_back(struct vnet_vq *vq, struct vnet_chain *ch, uint16_t nb)
{
	uint16_t i;

	for (i = 0; i < nb; i++) {
		__vmp_vnet_pkt_drop(vq, ch[i].head);
		vq->st.bad_chain--; /* good chain, returned unused */
	}
}

static bool
room_for_packet(const struct vnet_vq *vq)
{
	return vnet_infl_count(vq) + 2 * VNET_MAX_BUFS < VNET_INFL &&
	       vq->us_tail - vq->us_head + 2 * VNET_MAX_BUFS <= VNET_USHADOW &&
	       vq->lr_tail - vq->lr_head + VNET_MAX_BUFS * VNET_MAX_SEGS <=
		       VNET_LOGR;
}

/* Heads looked ahead of the packet being placed, and how far ahead of it
 * the first guest buffer is prefetched for writing. */
#define RX_LOOKAHEAD 32
#define RX_BUF_AHEAD 2

static inline void
rx_prefetch_buf(const struct vnet_vq *vq, const volatile uint16_t *ring,
		uint16_t idx, uint32_t bytes)
{
	uint16_t head = ring[idx & (vq->size - 1)];
	uint32_t hl = vq->port->hdr_len;
	uint64_t l;
	uint8_t *hva;

	if (head >= vq->size)
		return;
	l = RTE_MIN(vq->desc[head].len, hl + bytes);
	hva = __vmp_vnet_gpa_to_hva(vq->port->mem, vq->desc[head].addr, &l);
	if (hva == NULL || l <= hl)
		return;
	/* the header is usually left as it is (hdr_store): read it; the
	 * first payload lines will be written */
	rte_prefetch0(hva);
	rte_prefetch0_write(hva + hl);
	if (l > hl + 64)
		rte_prefetch0_write(hva + hl + 64);
}

/*
 * Store the virtio-net header only if the guest buffer does not already hold
 * these bytes. A guest that recycles its receive buffers usually finds the
 * same header there (it read it on its own core when it took the previous
 * packet): a load leaves that line shared, a store would have to take it back
 * from the guest's cache first. DPDK's builtin datapath skips unchanged header
 * fields for the same reason.
 */
static inline void
hdr_store(uint8_t *dst, const uint8_t *hdr, uint32_t len)
{
	if (len == VNET_HDR_MRG) {
		uint64_t a, b;
		uint32_t c, d;

		memcpy(&a, dst, 8);
		memcpy(&b, hdr, 8);
		memcpy(&c, dst + 8, 4);
		memcpy(&d, hdr + 8, 4);
		if (a == b && c == d)
			return;
	} else if (memcmp(dst, hdr, len) == 0) {
		return;
	}
	memcpy(dst, hdr, len);
}

/*
 * A one-segment mbuf @m into one guest segment (@hva at @gpa, from chain
 * @head) that holds header and packet, as record @rec. @log: keep the
 * payload's log range.
 */
static __rte_always_inline void
rx_place_one(struct vnet_vq *vq, uint32_t rec, uint16_t head, uint8_t *hva,
	     uint64_t gpa, const uint8_t *hdr, struct rte_mbuf *m, bool log)
{
	struct vnet_pkt *p = &vq->pkts[rec & (VNET_INFL - 1)];
	uint32_t hl = vq->port->hdr_len, dl = m->data_len;
	int dma;

	hdr_store(hva, hdr, hl);
	vnet_wtrace_gpa(vq, VNET_WT_HDR, gpa, hl);
	dma = vnet_copy(vq, rec, hva + hl, (rte_iova_t)(uintptr_t)(hva + hl),
			rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_iova(m), dl,
			gpa + hl, hva + hl);
	vnet_wtrace_gpa(vq, dma ? VNET_WT_DMA : VNET_WT_CPU, gpa + hl, dl);
	if (log)
		log_range_add(vq, p, gpa, hl + dl);
	vnet_used_push(vq, head, hl + dl);
	p->nb_used = 1;
}

/*
 * The common packet, without building a struct vnet_chain: a one-segment
 * mbuf into one direct writable descriptor (vnet_desc_one()) that holds
 * header and packet. False (nothing done) sends the packet to the general
 * path. @log: keep the payload's log range (logging is on, or a copy may
 * still be in flight when it is switched on: a sync-only queue publishes
 * every record in the call that placed it, and logging changes only while
 * the queue is parked).
 */
static inline bool
rx_fast(struct vnet_vq *vq, uint16_t head, struct rte_mbuf *m, bool log)
{
	/* num_buffers = 1 (little endian) in the 12-byte header */
	static const uint8_t hdr[VNET_HDR_MRG] = {[10] = 1};
	static const uint8_t hdr_valid[VNET_HDR_MRG] = {
		[0] = VIRTIO_NET_HDR_F_DATA_VALID, [10] = 1};
	const uint8_t *h = hdr;
	uint32_t len;
	uint64_t gpa;
	uint8_t *hva = vnet_desc_one(vq, head, true, &gpa, &len);

	if (unlikely(hva == NULL || m->next != NULL ||
		     len < vq->port->hdr_len + m->data_len))
		return false;
	if (vnet_rx_data_valid(vq->port, m)) {
		h = hdr_valid;
		vq->st.ol_valid++;
	}
	rx_place_one(vq, vnet_pkt_open(vq, m), head, hva, gpa, h, m, log);
	vq->pk_tail++;
	return true;
}

/* The general case: header and mbuf chain over @nb guest chains. */
static void
rx_place(struct vnet_vq *vq, uint32_t rec, struct vnet_chain *ch, uint16_t nb,
	 const uint8_t *hdr, struct rte_mbuf *m)
{
	struct vnet_pkt *p = &vq->pkts[rec & (VNET_INFL - 1)];
	uint32_t hl = vq->port->hdr_len;
	struct gwriter w;
	uint16_t i;

	w.ch = ch;
	w.nb = nb;
	w.b = 0;
	w.s = 0;
	w.off = 0;
	memset(w.written, 0, nb * sizeof(w.written[0]));
	if (ch[0].nb_seg > 0 && ch[0].seg[0].len >= hl) {
		hdr_store(ch[0].seg[0].hva, hdr, hl);
		vnet_wtrace_gpa(vq, VNET_WT_HDR, ch[0].seg[0].gpa, hl);
		log_range_add(vq, p, ch[0].seg[0].gpa, hl);
		w.written[0] = hl;
		w.off = hl;
	} else {
		gw_write(vq, rec, &w, hdr, RTE_BAD_IOVA, hl);
	}
	for (; m != NULL; m = m->next)
		gw_write(vq, rec, &w, rte_pktmbuf_mtod(m, uint8_t *),
			 rte_pktmbuf_iova(m), m->data_len);
	p->nb_used = nb;
	for (i = 0; i < nb; i++)
		vnet_used_push(vq, ch[i].head, w.written[i]);
}

/* What collecting guest buffers for one packet found. */
enum rx_set {
	RX_SET_OK,     /* chains 0..nb-1 hold the packet */
	RX_SET_FULL,   /* as many buffers as a packet may take: too small */
	RX_SET_SHORT,  /* every buffer the guest offered: too small now */
	RX_SET_BUDGET, /* the call's descriptor budget is used up */
	RX_SET_STOP,   /* no room for records, or the vring broke */
};

/*
 * Walk guest buffers from *@cur on into @ch until they hold @need bytes.
 * A bad chain met on the way is returned, with the good ones before it
 * (unused), and collecting starts again after it. Sets *@nb and *@cap.
 * Bound: at most max_bufs chains kept and VMP_VNET_PKT_DESC descriptors
 * walked per set; every walk is charged to the call's budget, checked
 * before it; every dropped chain consumes an avail entry.
 */
static enum rx_set
rx_collect(struct vnet_vq *vq, struct vnet_chain *ch, uint64_t need,
	   uint16_t max_bufs, uint16_t avail_idx, uint16_t *cur, uint16_t *nb,
	   uint64_t *cap)
{
	const volatile uint16_t *ring = vq->avail->ring;
	uint16_t mask = vq->size - 1;
	uint32_t set_desc = 0;

	*nb = 0;
	*cap = 0;
	/* Bound: each pass consumes an avail entry or keeps a chain, and walks
	 * >= 1 descriptor charged to the call's VMP_VNET_BURST_DESC; a consumed
	 * (bad) chain is charged to its VMP_VNET_BURST_DROPS */
	while (*cap < need) {
		uint32_t d0 = vq->burst_desc;
		uint16_t head;
		int rc;

		if (*nb == max_bufs || set_desc >= VMP_VNET_PKT_DESC)
			return RX_SET_FULL;
		if (*cur == avail_idx)
			return RX_SET_SHORT;
		if (vq->burst_desc >= VMP_VNET_BURST_DESC ||
		    vq->burst_drops >= VMP_VNET_BURST_DROPS)
			return RX_SET_BUDGET;
		head = ring[*cur & mask];
		if (head >= vq->size) {
			__vmp_vnet_vq_mark_broken(vq, "avail head", head);
			give_back(vq, ch, *nb);
			vq->last_avail = *cur;
			return RX_SET_STOP;
		}
		rc = vnet_chain_walk(
			vq, head, true,
			RTE_MIN((uint32_t)VMP_VNET_CHAIN_DESC,
				(uint32_t)VMP_VNET_PKT_DESC - set_desc),
			&ch[*nb]);
		set_desc += vq->burst_desc - d0;
		if (rc == VNET_WALK_MAX)
			return RX_SET_FULL; /* the set reached its descriptors
					     */
		(*cur)++;
		if (rc < 0) {
			give_back(vq, ch, *nb);
			vnet_chain_drop(vq, head, rc);
			vq->burst_drops++;
			vq->last_avail = *cur;
			*nb = 0;
			*cap = 0;
			set_desc = 0;
			if (!room_for_packet(vq))
				return RX_SET_STOP;
			continue;
		}
		*cap += ch[*nb].total;
		(*nb)++;
	}
	return RX_SET_OK;
}

/* Remember that the buffers from last_avail on hold only @cap bytes. */
static void
rx_nofit_set(struct vnet_vq *vq, uint16_t avail_idx, uint64_t cap, bool full)
{
	vq->nofit = true;
	vq->nofit_full = full;
	vq->nofit_start = vq->last_avail;
	vq->nofit_avail = avail_idx;
	vq->nofit_cap = cap;
}

/* Were the buffers from last_avail on already found smaller than @need? */
static inline bool
rx_nofit(const struct vnet_vq *vq, uint16_t avail_idx, uint64_t need)
{
	return vq->nofit && vq->nofit_start == vq->last_avail &&
	       vq->nofit_avail == avail_idx && need > vq->nofit_cap;
}

/* Place @m into chains 0..nb-1 as the next record. */
static void
rx_place_set(struct vnet_vq *vq, struct vnet_chain *ch, uint16_t nb,
	     struct rte_mbuf *m)
{
	uint32_t hl = vq->port->hdr_len, rec = vnet_pkt_open(vq, m);
	uint8_t hdr[VNET_HDR_MRG];

	memset(hdr, 0, sizeof(hdr));
	if (unlikely(m->ol_flags & VNET_OL_FLAGS)) {
		__vmp_vnet_rx_hdr_fill(vq, m, hdr);
	} else if (vnet_rx_data_valid(vq->port, m)) {
		hdr[0] = VIRTIO_NET_HDR_F_DATA_VALID;
		vq->st.ol_valid++;
	}
	if (hl == VNET_HDR_MRG) {
		/* num_buffers, little endian (VERSION_1 or MRG) */
		hdr[10] = (uint8_t)nb;
		hdr[11] = (uint8_t)(nb >> 8);
	}
	if (nb == 1 && ch[0].nb_seg == 1 && m->next == NULL &&
	    m->data_len + hl <= ch[0].seg[0].len) {
		/* The common case, straight: one guest segment (it holds
		 * header and packet) and one mbuf. */
		rx_place_one(vq, rec, ch[0].head, ch[0].seg[0].hva,
			     ch[0].seg[0].gpa, hdr, m, true);
	} else {
		rx_place(vq, rec, ch, nb, hdr, m);
	}
	vq->pk_tail++;
}

/* What became of one packet offered to the guest. */
enum rx_one {
	RX_ONE_PLACED,
	RX_ONE_DROPPED, /* can never fit: freed, counted too_long */
	RX_ONE_STOP,	/* not taken: too few buffers now, or stop */
};

/*
 * Place @m into the guest buffers from *@cur on (header from its offload
 * requests, if any). Bound: one rx_collect().
 */
static enum rx_one
rx_one(struct vnet_vq *vq, struct rte_mbuf *m, uint16_t avail_idx,
       uint16_t *cur, bool log)
{
	struct vmp_vnet_port *port = vq->port;
	struct vnet_chain *ch = RTE_PER_LCORE(rx_chains);
	uint64_t need = (uint64_t)port->hdr_len + m->pkt_len, cap;
	uint16_t max_bufs = port->mrg ? VNET_MAX_BUFS : 1, nb;
	enum rx_set r;

	if (unlikely(m->pkt_len > port->max_frame) &&
	    (!(m->ol_flags & RTE_MBUF_F_TX_TCP_SEG) ||
	     (uint32_t)m->l2_len + m->l3_len + m->l4_len + m->tso_segsz >
		     port->max_frame)) {
		/* over the MTU this guest was told, or a TSO frame whose
		 * segments would be (gso_size past the guest's MTU: another
		 * guest's bigger MTU): a switch port's egress drop, buffers
		 * untouched */
		vq->st.mtu_drops++;
		rte_pktmbuf_free(m);
		return RX_ONE_DROPPED;
	}
	if (!room_for_packet(vq))
		return RX_ONE_STOP;
	if (likely(*cur != avail_idx && !(m->ol_flags & VNET_OL_FLAGS))) {
		uint16_t head = vq->avail->ring[*cur & (vq->size - 1)];

		if (likely(head < vq->size) && rx_fast(vq, head, m, log)) {
			vq->last_avail = ++(*cur);
			return RX_ONE_PLACED;
		}
	}
	if (unlikely(rx_nofit(vq, avail_idx, need))) {
		vq->st.nofit_skip++;
		r = vq->nofit_full ? RX_SET_FULL : RX_SET_SHORT;
	} else {
		r = rx_collect(vq, ch, need, max_bufs, avail_idx, cur, &nb,
			       &cap);
		if (r == RX_SET_FULL || r == RX_SET_SHORT)
			rx_nofit_set(vq, avail_idx, cap, r == RX_SET_FULL);
	}
	if (r == RX_SET_FULL) {
		/* Can never fit: drop it, keep the buffers. */
		vq->st.too_long++;
		rte_pktmbuf_free(m);
		*cur = vq->last_avail;
		return RX_ONE_DROPPED;
	}
	if (r == RX_SET_BUDGET)
		vq->st.desc_budget++;
	if (r != RX_SET_OK)
		return RX_ONE_STOP; /* guest has too few buffers now, or stop */
	rx_place_set(vq, ch, nb, m);
	vq->last_avail = *cur;
	return RX_ONE_PLACED;
}

/*
 * @m asks for offloads: what this guest did not negotiate is finished in
 * software first (vmp_vnet_offload_finish()), the rest goes in the header.
 * @m is consumed: placed, or dropped and counted (sw_fail when it cannot be
 * finished, no_buf for the segments the guest had no buffers for).
 * Bound: VMP_VNET_GSO_MAX_SEGS segments, each one rx_one().
 */
static enum rx_one
rx_offload(struct vnet_vq *vq, struct rte_mbuf *m, uint16_t avail_idx,
	   uint16_t *cur, bool log, uint16_t *npkt, uint64_t *nbytes)
{
	struct rte_mbuf *seg[VMP_VNET_GSO_MAX_SEGS];
	enum rx_one r = RX_ONE_PLACED;
	uint64_t fl = m->ol_flags;
	uint32_t len;
	int i, n;

	if (fl & RTE_MBUF_F_RX_LRO) {
		/* vmp_vnet_gro_burst()'s: tso_segsz is the MSS */
		uint32_t mss = m->tso_segsz,
			 hl = m->l2_len + m->l3_len + m->l4_len;

		vq->st.gro_frames++;
		if (mss != 0 && m->pkt_len > hl)
			vq->st.gro_segs += (m->pkt_len - hl + mss - 1) / mss;
	}
	n = vmp_vnet_offload_finish(m, __vmp_vnet_rx_caps(vq->port),
				    vq->port->mp, seg, RTE_DIM(seg));
	if (n < 0) {
		vq->st.sw_fail++;
		rte_pktmbuf_free(m);
		return RX_ONE_DROPPED;
	}
	/* m may be freed by now: only its address is compared */
	if (n > 1)
		vq->st.sw_segs += (uint64_t)n;
	else if (seg[0] != m || seg[0]->ol_flags != fl)
		vq->st.sw_csum++;
	for (i = 0; i < n; i++) {
		len = seg[i]->pkt_len;
		r = rx_one(vq, seg[i], avail_idx, cur, log);
		if (r == RX_ONE_STOP) {
			/* the rest: the guest had no buffers for them */
			vq->st.no_buf += (uint64_t)(n - i);
			rte_pktmbuf_free_bulk(seg + i, (unsigned int)(n - i));
			return RX_ONE_STOP;
		}
		if (r == RX_ONE_PLACED) {
			(*npkt)++;
			*nbytes += len;
		}
	}
	return RX_ONE_PLACED;
}

/*
 * Bound: @n packets; full chain walks stop at the call's descriptor budget
 * and bad chains at its drop budget (rx_collect), and buffers already found
 * too small are not walked again until last_avail or avail->idx moves
 * (rx_nofit).
 */
static uint16_t
rx_pkts(struct vnet_vq *vq, struct rte_mbuf **pkts, uint16_t n)
{
	struct vmp_vnet_port *port = vq->port;
	const volatile uint16_t *ring = vq->avail->ring;
	uint16_t avail_idx, cur, done;
	bool log = port->log_on || vq->dma != NULL;
	uint64_t nbytes = 0;
	uint16_t i, pf, npkt = 0;

	if (!vnet_avail_load(vq, &avail_idx))
		return 0;
	vq->burst_desc = 0;
	vq->burst_drops = 0;
	cur = vq->last_avail;
	/* Overlap the burst's misses on the avail ring and descriptors. */
	pf = RTE_MIN((uint16_t)(avail_idx - cur), RX_LOOKAHEAD);
	pf = RTE_MIN(pf, n);
	for (i = 0; i < pf; i++)
		vnet_prefetch_desc(vq, (uint16_t)(cur + i));

	/* Bound: @n packets; see above for the descriptors */
	for (done = 0; done < n; done++) {
		struct rte_mbuf *m = pkts[done];
		enum rx_one r;

		if ((uint16_t)(avail_idx - cur) > RX_BUF_AHEAD &&
		    done + RX_BUF_AHEAD < n)
			rx_prefetch_buf(vq, ring,
					(uint16_t)(cur + RX_BUF_AHEAD),
					pkts[done + RX_BUF_AHEAD]->data_len);
		if (unlikely(m->ol_flags & VNET_OL_FLAGS)) {
			if (cur == avail_idx || !room_for_packet(vq))
				break; /* left to the caller, unchanged */
			/* consumed whatever happens */
			if (rx_offload(vq, m, avail_idx, &cur, log, &npkt,
				       &nbytes) == RX_ONE_STOP) {
				done++;
				break;
			}
			continue;
		}
		r = rx_one(vq, m, avail_idx, &cur, log);
		if (r == RX_ONE_PLACED) {
			npkt++;
			nbytes += m->pkt_len;
		}
		if (r == RX_ONE_STOP)
			break;
	}
	vq->st.packets += npkt;
	vq->st.bytes += nbytes;
	vq->st.desc_walked += vq->burst_desc;
	return done;
}

uint16_t
vmp_vnet_enqueue_burst(struct vmp_vnet_port *port, uint16_t qp,
		       struct rte_mbuf **pkts, uint16_t n)
{
	struct vnet_vq *vq;
	uint16_t done;

	if (unlikely(port == NULL || qp >= port->nb_qp))
		return 0;
	vq = &port->vq[2 * qp];
	if (!__vmp_vnet_vq_enter(vq))
		return 0;
	done = (vq->broken || n == 0) ? 0 : rx_pkts(vq, pkts, n);
	vnet_cpu_flush(); /* before any record can be published */
	vq->st.no_buf += n - done;
	if (vq->dma != NULL) {
		__vmp_vnet_dma_kick(vq->dma);
		__vmp_vnet_dma_poll(vq->dma);
	}
	__vmp_vnet_publish(vq, NULL, 0);
	__vmp_vnet_vq_exit(vq);
	return done;
}
