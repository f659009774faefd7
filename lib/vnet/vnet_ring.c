/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Split virtqueue mechanics shared by RX and TX: guest address translation,
 * descriptor chain validation, the datapath side of the vring state word,
 * in-order publication of used elements with dirty logging, and guest
 * notification. Everything read from guest memory is untrusted.
 */
#include <stddef.h>
#include <string.h>

#include <rte_atomic.h>
#include <rte_pause.h>

#include "vnet_pvt.h"
#include "vnet_wtrace.h"

RTE_DEFINE_PER_LCORE(struct vnet_cpu_batch, vnet_cpu_batch);

void
__vmp_vnet_cpu_flush(struct vnet_cpu_batch *b)
{
	unsigned int i;

	for (i = 0; i < b->n; i++)
		rte_memcpy(b->e[i].dst, b->e[i].src, b->e[i].len);
	b->n = 0;
}

/* Translate [gpa, gpa+len) into segments, splitting at region ends.
 * Bound: one pass per segment added, at most VNET_MAX_SEGS in all. */
static int
add_segs(const struct rte_vhost_memory *mem, struct vnet_chain *c, uint64_t gpa,
	 uint32_t len)
{
	while (len > 0) {
		uint64_t l = len;
		void *hva;

		if (gpa + len < gpa)
			return VNET_WALK_BAD; /* wraps the address space */
		hva = __vmp_vnet_gpa_to_hva(mem, gpa, &l);
		if (hva == NULL)
			return VNET_WALK_BAD;
		if (c->nb_seg == VNET_MAX_SEGS)
			return VNET_WALK_LIMIT;
		c->seg[c->nb_seg].hva = hva;
		c->seg[c->nb_seg].gpa = gpa;
		c->seg[c->nb_seg].len = (uint32_t)l;
		c->nb_seg++;
		gpa += l;
		len -= (uint32_t)l;
	}
	return 0;
}

/*
 * Validate and translate the chain at @head. Each descriptor is read once
 * into locals, so the guest rewriting it meanwhile cannot make us use a value
 * we did not check. Rejects (VNET_WALK_BAD): index past the table, more
 * descriptors than the table holds (a loop), nested or chained indirect
 * tables, an indirect table not a multiple of 16 bytes, with more entries
 * than the queue size or not in guest memory, a descriptor whose direction
 * is wrong (@writable), a range outside the memory table, a chain over
 * 4 GiB, a chain of no bytes at all (nothing can be written to or read from
 * it). VNET_WALK_LIMIT: more than VMP_VNET_CHAIN_DESC descriptors or
 * VNET_MAX_SEGS segments. VNET_WALK_MAX: @max_desc descriptors read and the
 * chain goes on.
 *
 * Bound: at most min(@max_desc, VMP_VNET_CHAIN_DESC) descriptors are read,
 * direct and indirect parts counted together; each is charged to
 * vq->burst_desc.
 *
 * @return 0 or a VNET_WALK_* error (the caller returns the chain with
 * length 0, or for VNET_WALK_MAX leaves it in the ring).
 */
int
__vmp_vnet_chain_walk(struct vnet_vq *vq, uint16_t head, bool writable,
		      uint32_t max_desc, struct vnet_chain *c)
{
	const struct rte_vhost_memory *mem = vq->port->mem;
	const volatile struct vring_desc *table = vq->desc;
	uint32_t tsize = vq->size, idx = head, n = 0, nt = 0;
	bool indirect = false;
	uint64_t total = 0;
	int rc = 0;

	c->head = head;
	c->nb_seg = 0;
	/* Bound: n < min(max_desc, VMP_VNET_CHAIN_DESC) passes (and nt, the
	 * passes in this table, < its size). */
	for (;;) {
		uint64_t addr;
		uint32_t len;
		uint16_t flags, nxt;

		if (idx >= tsize || ++nt > tsize) {
			rc = VNET_WALK_BAD;
			break;
		}
		if (n == max_desc || n == VMP_VNET_CHAIN_DESC) {
			rc = n == VMP_VNET_CHAIN_DESC ? VNET_WALK_LIMIT
						      : VNET_WALK_MAX;
			break;
		}
		n++;
		addr = table[idx].addr;
		len = table[idx].len;
		flags = table[idx].flags;
		nxt = table[idx].next;

		if (flags & VRING_DESC_F_INDIRECT) {
			uint64_t tl = len;

			if (indirect || (flags & VRING_DESC_F_NEXT) ||
			    len == 0 || (len % sizeof(struct vring_desc)) ||
			    len / sizeof(struct vring_desc) > vq->size ||
			    !(vq->port->features &
			      (1ULL << VIRTIO_RING_F_INDIRECT_DESC))) {
				rc = VNET_WALK_BAD;
				break;
			}
			table = __vmp_vnet_gpa_to_hva(mem, addr, &tl);
			if (table == NULL || tl != len) {
				rc = VNET_WALK_BAD;
				break;
			}
			tsize = len / sizeof(struct vring_desc);
			idx = 0;
			nt = 0;
			indirect = true;
			continue;
		}
		if (!!(flags & VRING_DESC_F_WRITE) != writable) {
			rc = VNET_WALK_BAD;
			break;
		}
		total += len;
		if (total > UINT32_MAX) {
			rc = VNET_WALK_BAD;
			break;
		}
		rc = add_segs(mem, c, addr, len);
		if (rc < 0 || !(flags & VRING_DESC_F_NEXT))
			break;
		idx = nxt;
	}
	vq->burst_desc += n;
	if (rc == 0 && total == 0)
		rc = VNET_WALK_BAD;
	c->total = (uint32_t)total;
	return rc;
}

bool
__vmp_vnet_vq_enter(struct vnet_vq *vq)
{
	uint32_t s = __atomic_load_n(&vq->state, __ATOMIC_RELAXED);

	if (likely(s == VQ_ON)) {
		/* ON->BUSY; acquire pairs with the ctl's release of ON. */
		if (__atomic_compare_exchange_n(&vq->state, &s, VQ_BUSY, false,
						__ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED)) {
			vq->polls++;
			return true;
		}
		return false;
	}
	if (s == VQ_STOP || s == VQ_HUNG) {
		/* STOP->DRAIN (the ctl waits for our in-flight copies) or
		 * HUNG->DRAIN (it gave up: their ring may be gone). */
		if (!__atomic_compare_exchange_n(&vq->state, &s, VQ_DRAIN,
						 false, __ATOMIC_ACQUIRE,
						 __ATOMIC_RELAXED))
			return false;
		vq->polls++;
		__vmp_vnet_drain(vq, s == VQ_STOP);
		/* DRAIN->OFF, or back to STOP / HUNG; release pairs with the
		 * ctl's acquire load in park, which then reads the indexes we
		 * wrote. */
		__atomic_store_n(&vq->state, vnet_infl_count(vq) ? s : VQ_OFF,
				 __ATOMIC_RELEASE);
	}
	return false;
}

void
__vmp_vnet_vq_exit(struct vnet_vq *vq)
{
	/* BUSY->ON (or ->OFF when broken); release pairs with park. */
	__atomic_store_n(&vq->state,
			 (vq->broken && !vnet_infl_count(vq)) ? VQ_OFF : VQ_ON,
			 __ATOMIC_RELEASE);
}

void
__vmp_vnet_vq_mark_broken(struct vnet_vq *vq, const char *why, unsigned int v)
{
	if (!vq->broken)
		VNET_LOG(ERR, "%s vring %u: %s (%u): queue stopped",
			 vq->port->path, vq->index, why, v);
	vq->broken = true;
	vq->st.broken++;
}

/* Return a bad chain to the guest: a record with no mbuf, used length 0. */
void
__vmp_vnet_pkt_drop(struct vnet_vq *vq, uint16_t head)
{
	struct vnet_pkt *p = &vq->pkts[vq->pk_tail & (VNET_INFL - 1)];

	p->m = NULL;
	vnet_used_push(vq, head, 0);
	p->nb_used = 1;
	p->nb_log = 0;
	p->ndma = 0;
	vq->pk_tail++;
	vq->st.bad_chain++;
}

static void
log_used(struct vnet_vq *vq, int vid, uint16_t from, uint16_t to)
{
	uint16_t mask = vq->size - 1, a = from & mask, b = to & mask;
	size_t e = sizeof(struct vring_used_elem);
	size_t base = offsetof(struct vring_used, ring);

	if (from == to)
		return;
	vnet_wtrace_hva(vq, VNET_WT_ULOG, &vq->used->ring[a],
			(uint16_t)(to - from) * e);
	if (a < b) {
		rte_vhost_log_used_vring(vid, vq->index, base + a * e,
					 (b - a) * e);
	} else {
		rte_vhost_log_used_vring(vid, vq->index, base + a * e,
					 (vq->size - a) * e);
		if (b)
			rte_vhost_log_used_vring(vid, vq->index, base, b * e);
	}
}

/* RX mbufs of published records are freed in bulks of this many. */
#define PUBLISH_FREE_BULK 64

/*
 * Publish, in guest order, every record whose copies all landed: payload
 * pages logged first (if logging is on NOW, which covers records submitted
 * before it was switched on), then the used elements, then used->idx.
 * TX records hand their mbuf to @out (at most @n); RX records free theirs.
 */
uint16_t
__vmp_vnet_publish(struct vnet_vq *vq, struct rte_mbuf **out, uint16_t n)
{
	struct vmp_vnet_port *port = vq->port;
	bool log = port->log_on;
	int vid = port->vid;
	uint16_t mask = vq->size - 1, idx = vq->last_used, nout = 0;
	volatile struct vring_used_elem *ring = vq->used->ring;
	struct rte_mbuf *fr[PUBLISH_FREE_BULK];
	unsigned int nfr = 0;
	uint32_t nused = 0;

	while (vq->pk_head != vq->pk_tail) {
		struct vnet_pkt *p = &vq->pkts[vq->pk_head & (VNET_INFL - 1)];
		uint16_t i;

		if (!vnet_pkt_landed(vq, p))
			break;
		if (!vq->rx && p->m != NULL && nout == n)
			break;
		if (log) {
			/* the record's ranges: the oldest nb_log */
			for (i = 0; i < p->nb_log; i++) {
				const struct vnet_log_range *r =
					&vq->logr[(vq->lr_head + i) &
						  (VNET_LOGR - 1)];

				rte_vhost_log_write(vid, r->gpa, r->len);
				vnet_wtrace_gpa(vq, VNET_WT_LOG, r->gpa,
						r->len);
				vq->st.log_pages +=
					((r->gpa + r->len - 1) >> 12) -
					(r->gpa >> 12) + 1;
			}
			vq->st.logged += p->nb_log;
		}
		nused += p->nb_used;
		vq->lr_head += p->nb_log;
		if (p->m != NULL) {
			if (!vq->rx) {
				out[nout++] = p->m;
			} else {
				fr[nfr++] = p->m;
				if (nfr == PUBLISH_FREE_BULK) {
					rte_pktmbuf_free_bulk(fr, nfr);
					nfr = 0;
				}
			}
		}
		vq->pk_head++;
	}
	vq->st.inflight = vnet_infl_count(vq);
	/* The published records' used elements are the next nused of the
	 * shadow, in order: copied in runs (a few wide stores into the lines
	 * the guest reads, not two narrow ones per element). */
	while (nused > 0) {
		uint32_t so = vq->us_head & (VNET_USHADOW - 1);
		uint32_t run = RTE_MIN(nused, VNET_USHADOW - so);

		run = RTE_MIN(run, (uint32_t)(vq->size - (idx & mask)));
		rte_memcpy((void *)(uintptr_t)&ring[idx & mask],
			   &vq->ushadow[so], run * sizeof(ring[0]));
		vnet_wtrace_hva(vq, VNET_WT_USED, &ring[idx & mask],
				run * sizeof(ring[0]));
		idx = (uint16_t)(idx + run);
		vq->us_head += run;
		nused -= run;
	}
	if (idx != vq->last_used) {
		if (log)
			log_used(vq, vid, vq->last_used, idx);
		/* Store-release of used->idx: pairs with the guest's read
		 * barrier between loading used->idx and reading the elements
		 * (and the payload they describe). */
		__atomic_store_n(&vq->used->idx, idx, __ATOMIC_RELEASE);
		vnet_wtrace_hva(vq, VNET_WT_IDX, &vq->used->idx,
				sizeof(uint16_t));
		if (log) {
			rte_vhost_log_used_vring(
				vid, vq->index,
				offsetof(struct vring_used, idx),
				sizeof(uint16_t));
			vnet_wtrace_hva(vq, VNET_WT_ULOG, &vq->used->idx,
					sizeof(uint16_t));
		}
		vq->last_used = idx;
		vq->call_pending = true;
	}
	if (vq->call_pending)
		__vmp_vnet_notify(vq);
	/* After used->idx: the guest gets its buffers back first. */
	if (nfr)
		rte_pktmbuf_free_bulk(fr, nfr);
	return nout;
}

/* Interrupt the guest unless it set VRING_AVAIL_F_NO_INTERRUPT or, under
 * EVENT_IDX, unless used->idx did not pass its used_event. */
void
__vmp_vnet_notify(struct vnet_vq *vq)
{
	/* Full barrier: our used->idx store before the avail->flags (or
	 * used_event) load; pairs with the guest's barrier between clearing
	 * NO_INTERRUPT (or storing used_event) and re-reading used->idx, so
	 * one of us sees the other. */
	rte_atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (vnet_evidx(vq->port)) {
		__vmp_vnet_evidx_notify(vq);
		return;
	}
	if (__atomic_load_n(&vq->avail->flags, __ATOMIC_RELAXED) &
	    VRING_AVAIL_F_NO_INTERRUPT) {
		vq->call_pending = false;
		return;
	}
	/* Non-blocking: the vhost thread holds rte_vhost's queue lock while
	 * it waits for us to park; a failed try is retried next burst. */
	if (rte_vhost_vring_call_nonblock(vq->port->vid, vq->index) == 0) {
		vq->call_pending = false;
		vq->st.notify++;
	}
}

/* Forget landed records without touching the ring (it may be unmapped or
 * moved): their mbufs are freed, the guest never sees them used. */
static void
drop_landed(struct vnet_vq *vq)
{
	while (vq->pk_head != vq->pk_tail) {
		struct vnet_pkt *p = &vq->pkts[vq->pk_head & (VNET_INFL - 1)];

		if (!vnet_pkt_landed(vq, p))
			break;
		rte_pktmbuf_free(p->m);
		vq->us_head += p->nb_used;
		vq->lr_head += p->nb_log;
		vq->pk_head++;
	}
	vq->st.inflight = vnet_infl_count(vq);
}

/*
 * One drain pass of the lcore that polls @vq (and its channel), in DRAIN:
 * retire what the engine completed, then publish what landed (@publish,
 * the ring is still the guest's; landed TX packets wait in the stash for
 * the next dequeue: a park never loses them) or drop it (HUNG). Never
 * waits: the ctl waits, bounded, for the vring to reach OFF.
 */
void
__vmp_vnet_drain(struct vnet_vq *vq, bool publish)
{
	if (vq->dma != NULL)
		__vmp_vnet_dma_poll(vq->dma);
	if (publish)
		vq->stash_n += __vmp_vnet_publish(vq, vq->stash + vq->stash_n,
						  VNET_INFL - vq->stash_n);
	else
		drop_landed(vq);
}
