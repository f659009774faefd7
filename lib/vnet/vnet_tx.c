/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Guest TX (guest -> host): a readable descriptor chain (direct or through an
 * indirect table) into an mbuf chain from the port's NUMA-local mempool
 * (GSO frames up to 64 KiB become chains). The virtio-net header is not
 * part of the packet: with offloads negotiated it is copied once into the
 * mbuf's headroom and checked after the packet landed (vnet_offload.c). The
 * guest buffer is returned (used element, length 0) only after its bytes
 * were copied out.
 */
#include <string.h>

#include <rte_mbuf.h>

#include "vnet_pvt.h"

/* Make @head (a fresh mbuf) an mbuf chain able to hold @len bytes. */
static struct rte_mbuf *
chain_fill(struct rte_mempool *mp, struct rte_mbuf *head, uint32_t len)
{
	struct rte_mbuf *last = head;
	uint32_t room = rte_pktmbuf_tailroom(head);

	head->data_len = (uint16_t)RTE_MIN(room, len);
	head->pkt_len = len;
	len -= head->data_len;
	/* Bound: len <= VNET_MAX_TX_PKT, one mbuf's data room per pass */
	while (len > 0) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(mp);

		if (m == NULL) {
			rte_pktmbuf_free(head);
			return NULL;
		}
		m->data_len = (uint16_t)RTE_MIN(rte_pktmbuf_tailroom(m), len);
		len -= m->data_len;
		last->next = m;
		last = m;
		head->nb_segs++;
	}
	return head;
}

/* The chain's first @len (< its total) bytes into @dst: the header. */
static void
hdr_gather(const struct vnet_chain *c, uint8_t *dst, uint32_t len)
{
	uint16_t s;

	/* Bound: nb_seg segments */
	for (s = 0; s < c->nb_seg && len > 0; s++) {
		uint32_t l = RTE_MIN(len, c->seg[s].len);

		memcpy(dst, c->seg[s].hva, l);
		dst += l;
		len -= l;
	}
}

/* Copy the chain's bytes after the header into @m. */
static void
copy_out(struct vnet_vq *vq, uint32_t rec, const struct vnet_chain *c,
	 uint32_t skip, struct rte_mbuf *m)
{
	uint16_t s = 0;
	uint32_t goff = skip, moff = 0;

	while (s < c->nb_seg && goff >= c->seg[s].len)
		goff -= c->seg[s++].len;
	/* Bound: each pass ends a guest segment (< nb_seg) or an mbuf */
	while (m != NULL && s < c->nb_seg) {
		uint32_t l = RTE_MIN(c->seg[s].len - goff,
				     (uint32_t)m->data_len - moff);
		uint8_t *src = c->seg[s].hva + goff;

		if (l)
			vnet_copy(vq, rec,
				  rte_pktmbuf_mtod_offset(m, void *, moff),
				  rte_pktmbuf_iova_offset(m, moff), src,
				  (rte_iova_t)(uintptr_t)src, l, 0, NULL);
		goff += l;
		moff += l;
		if (goff == c->seg[s].len) {
			s++;
			goff = 0;
		}
		if (moff == m->data_len) {
			m = m->next;
			moff = 0;
		}
	}
}

/*
 * The common packet, without building a struct vnet_chain: one direct
 * readable descriptor (vnet_desc_one()) holding header and payload, the
 * payload fitting @m's tailroom. False (nothing done) sends the packet to
 * the full walk; true: placed, its payload length in *@plen.
 */
static inline bool
tx_fast(struct vnet_vq *vq, uint16_t head, struct rte_mbuf *m, uint32_t hdr,
	uint32_t *plen)
{
	struct vnet_pkt *p;
	uint64_t gpa;
	uint32_t len, rec;
	uint8_t *hva = vnet_desc_one(vq, head, false, &gpa, &len);

	if (unlikely(hva == NULL || len <= hdr ||
		     len - hdr > rte_pktmbuf_tailroom(m)))
		return false;
	*plen = len - hdr;
	if (vnet_tx_ol(vq->port))
		memcpy(vnet_tx_hdr_stash(m), hva, VNET_HDR_LEGACY);
	m->data_len = (uint16_t)*plen;
	m->pkt_len = *plen;
	rec = vnet_pkt_open(vq, m);
	p = &vq->pkts[rec & (VNET_INFL - 1)];
	vnet_copy(vq, rec, rte_pktmbuf_mtod(m, void *), rte_pktmbuf_iova(m),
		  hva + hdr, (rte_iova_t)(uintptr_t)(hva + hdr), *plen, 0,
		  hva + hdr);
	vnet_used_push(vq, head, 0);
	p->nb_used = 1;
	vq->pk_tail++;
	vq->last_avail++;
	return true;
}

/* Heads whose descriptors are prefetched at the start of a burst. */
#define TX_LOOKAHEAD 32

/* Up to @budget (<= TX_LOOKAHEAD) packets; returns false to stop the burst
 * (broken ring, no mbufs, no room for records). */
static bool
tx_chunk(struct vnet_vq *vq, uint16_t avail_idx, uint16_t budget)
{
	struct vmp_vnet_port *port = vq->port;
	const volatile uint16_t *ring = vq->avail->ring;
	uint16_t mask = vq->size - 1, k, used = 0;
	struct rte_mbuf *heads[TX_LOOKAHEAD];
	uint32_t hdr = port->hdr_len, npkt = 0;
	uint64_t nbytes = 0;
	struct vnet_chain c;
	bool more = true;
	int rc;

	/* One bulk allocation of the chunk's head mbufs and, as hints, its
	 * descriptors: the guest just wrote them on its core, so their misses
	 * overlap instead of coming one per packet. */
	for (k = 0; k < budget; k++)
		vnet_prefetch_desc(vq, (uint16_t)(vq->last_avail + k));
	if (rte_pktmbuf_alloc_bulk(port->mp, heads, budget) < 0) {
		vq->st.no_mbuf++;
		return false; /* left in the ring: retried next burst */
	}
	/* Bound: @budget heads, each consumed or left for the next call;
	 * full walks also stop at the call's VMP_VNET_BURST_DESC */
	for (k = 0; k < budget && vq->last_avail != avail_idx; k++) {
		uint16_t head = ring[vq->last_avail & mask];
		struct rte_mbuf *m;
		struct vnet_pkt *p;
		uint32_t rec, plen;

		if (vnet_infl_count(vq) + 1 >= VNET_INFL ||
		    vq->us_tail - vq->us_head >= VNET_USHADOW) {
			more = false;
			break;
		}
		if (head >= vq->size) {
			__vmp_vnet_vq_mark_broken(vq, "avail head", head);
			more = false;
			break;
		}
		if (likely(tx_fast(vq, head, heads[used], hdr, &plen))) {
			used++;
			npkt++;
			nbytes += plen;
			continue;
		}
		/* the call's budget, checked before each full walk */
		if (vq->burst_desc >= VMP_VNET_BURST_DESC) {
			vq->st.desc_budget++;
			more = false; /* left in the ring: next call */
			break;
		}
		rc = vnet_chain_walk(vq, head, false, VMP_VNET_CHAIN_DESC, &c);
		if (rc < 0 || c.total < port->hdr_len) {
			vnet_chain_drop(vq, head, rc);
			vq->last_avail++;
			continue;
		}
		plen = c.total - port->hdr_len;
		if (plen > VNET_MAX_TX_PKT) {
			__vmp_vnet_pkt_drop(vq, head);
			vq->st.bad_chain--;
			vq->st.too_long++;
			vq->last_avail++;
			continue;
		}
		m = chain_fill(port->mp, heads[used++], plen);
		if (m == NULL) {
			vq->st.no_mbuf++;
			more = false; /* left in the ring: retried next burst */
			break;
		}
		if (vnet_tx_ol(port))
			hdr_gather(&c, vnet_tx_hdr_stash(m), VNET_HDR_LEGACY);
		rec = vnet_pkt_open(vq, m);
		p = &vq->pkts[rec & (VNET_INFL - 1)];
		copy_out(vq, rec, &c, port->hdr_len, m);
		vnet_used_push(vq, head, 0);
		p->nb_used = 1;
		vq->pk_tail++;
		vq->last_avail++;
		npkt++;
		nbytes += plen;
	}
	vq->st.packets += npkt;
	vq->st.bytes += nbytes;
	if (used < budget)
		rte_pktmbuf_free_bulk(heads + used, budget - used);
	return more;
}

static void
tx_pkts(struct vnet_vq *vq, uint16_t budget)
{
	uint16_t avail_idx, n;

	if (!vnet_avail_load(vq, &avail_idx))
		return;
	vq->burst_desc = 0;
	/* Bound: @budget packets, and VMP_VNET_BURST_DESC descriptors of full
	 * walks (tx_chunk) */
	while (budget > 0 && vq->last_avail != avail_idx) {
		n = RTE_MIN(budget, (uint16_t)(avail_idx - vq->last_avail));
		n = RTE_MIN(n, (uint16_t)TX_LOOKAHEAD);
		if (!tx_chunk(vq, avail_idx, n))
			break;
		budget -= n;
	}
	vq->st.desc_walked += vq->burst_desc;
}

uint16_t
vmp_vnet_dequeue_burst(struct vmp_vnet_port *port, uint16_t qp,
		       struct rte_mbuf **pkts, uint16_t n)
{
	struct vnet_vq *vq;
	uint16_t nout = 0;

	if (unlikely(port == NULL || qp >= port->nb_qp))
		return 0;
	vq = &port->vq[2 * qp + 1];
	/* the guest's announcement goes before its own packets */
	if (unlikely(qp == 0 && vnet_rarp_pending(port)))
		nout = __vmp_vnet_rarp_put(port, pkts, n);
	if (unlikely(vq->stash_n)) {
		uint16_t k =
			(uint16_t)RTE_MIN(vq->stash_n, (uint32_t)(n - nout));

		memcpy(pkts + nout, vq->stash, k * sizeof(*pkts));
		vq->stash_n -= k;
		memmove(vq->stash, vq->stash + k, vq->stash_n * sizeof(*pkts));
		nout += k;
	}
	if (!__vmp_vnet_vq_enter(vq))
		return vnet_tx_ol(port) ? __vmp_vnet_tx_offload(vq, pkts, nout)
					: nout;
	if (vq->dma != NULL)
		__vmp_vnet_dma_poll(vq->dma);
	if (!vq->broken)
		tx_pkts(vq, n - nout);
	vnet_cpu_flush(); /* before any record can be published */
	if (vq->dma != NULL)
		__vmp_vnet_dma_kick(vq->dma);
	nout += __vmp_vnet_publish(vq, pkts + nout, n - nout);
	if (vnet_tx_ol(port)) /* on landed bytes only: see vnet_offload.c */
		nout = __vmp_vnet_tx_offload(vq, pkts, nout);
	__vmp_vnet_vq_exit(vq);
	return nout;
}
