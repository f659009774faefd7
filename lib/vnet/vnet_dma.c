/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Async copies over any rte_dma vchan. rte_dma completes a vchan's copies in
 * order, so the n completions of a poll are the n oldest copies: the channel
 * counts copies submitted (tail) and retired (head), and a vring record that
 * remembers the channel's tail after its last copy has landed once head got
 * there. A record is published (vnet_ring.c) only when it and every record
 * before it landed, so used elements reach the guest in order while copies
 * fly. A copy the engine failed is redone on the CPU from its record (the
 * common packet's one copy: vnet_pkt.gbuf) or from its tag (any other copy,
 * and every pinned one, whose pin callback must hear that it landed). The
 * channel, its tags and the records are touched only by the lcore that
 * polls them: no locks.
 */
#include <errno.h>

#include <rte_dmadev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_memcpy.h>

#include "vnet_pvt.h"
#include "vnet_wtrace.h"

#define DMA_TAGS 4096
#define DMA_POLL_BURST 64

struct vmp_vnet_dma *
vmp_vnet_dma_create(int16_t dma_id, uint16_t vchan, uint32_t threshold,
		    int socket_id)
{
	struct rte_dma_info info;
	struct vmp_vnet_dma *d;

	if (!rte_dma_is_valid(dma_id) || rte_dma_info_get(dma_id, &info) ||
	    vchan >= info.nb_vchans) {
		VNET_LOG(ERR, "dma %d vchan %u: no such channel", dma_id,
			 vchan);
		rte_errno = EINVAL;
		return NULL;
	}
	if (rte_eal_iova_mode() != RTE_IOVA_VA) {
		VNET_LOG(ERR,
			 "dma %d: guest memory needs IOVA-as-VA mode "
			 "(--iova-mode=va)",
			 dma_id);
		rte_errno = EINVAL;
		return NULL;
	}
	d = rte_zmalloc_socket("vnet_dma", sizeof(*d), RTE_CACHE_LINE_SIZE,
			       socket_id);
	if (d == NULL)
		goto nomem;
	d->tags =
		rte_zmalloc_socket("vnet_dma_tags", DMA_TAGS * sizeof(*d->tags),
				   RTE_CACHE_LINE_SIZE, socket_id);
	if (d->tags == NULL)
		goto free_d;
	d->pin_gpa = rte_zmalloc_socket("vnet_dma_pins",
					DMA_TAGS * sizeof(*d->pin_gpa),
					RTE_CACHE_LINE_SIZE, socket_id);
	if (d->pin_gpa == NULL)
		goto free_tags;
	d->dma_id = dma_id;
	d->vchan = vchan;
	d->threshold = threshold ? threshold : VMP_VNET_ASYNC_THRESHOLD;
	d->mask = DMA_TAGS - 1;
	return d;
free_tags:
	rte_free(d->tags);
free_d:
	rte_free(d);
nomem:
	rte_errno = ENOMEM;
	return NULL;
}

int
vmp_vnet_dma_free(struct vmp_vnet_dma *d)
{
	if (d == NULL)
		return -EINVAL;
	if (d->users || d->head != d->tail)
		return -EBUSY;
	rte_free(d->pin_gpa);
	rte_free(d->tags);
	rte_free(d);
	return 0;
}

/* Put @vq on @dma's users. No copy of @vq in flight: the caller checked. */
int
__vmp_vnet_dma_attach(struct vnet_vq *vq, struct vmp_vnet_dma *dma)
{
	unsigned int u;

	for (u = 0; u < VNET_DMA_MAX_USERS; u++)
		if (dma->user[u] == NULL)
			break;
	if (u == VNET_DMA_MAX_USERS) {
		VNET_LOG(ERR, "dma %d vchan %u: already %u vrings on it",
			 dma->dma_id, dma->vchan, VNET_DMA_MAX_USERS);
		return -ENOSPC;
	}
	dma->user[u] = vq;
	dma->users++;
	vq->dma = dma;
	vq->dma_user = (uint16_t)u;
	return 0;
}

/* Take @vq off its channel, if any. No copy of @vq in flight. */
void
__vmp_vnet_dma_detach(struct vnet_vq *vq)
{
	struct vmp_vnet_dma *dma = vq->dma;

	if (dma == NULL)
		return;
	dma->user[vq->dma_user] = NULL;
	dma->users--;
	vq->dma = NULL;
}

void
__vmp_vnet_dma_kick(struct vmp_vnet_dma *d)
{
	if (d->tail != d->kicked) {
		rte_dma_submit(d->dma_id, d->vchan);
		d->kicked = d->tail;
	}
}

/*
 * The record that copy number @copy belongs to, and its vring: a record's
 * copies are consecutive on the channel, [seq - ndma, seq). Only for a
 * failed copy: a walk over the in-flight records of the channel's users.
 */
static struct vnet_pkt *
copy_owner(struct vmp_vnet_dma *d, uint32_t copy, struct vnet_vq **vqp)
{
	unsigned int u;
	uint32_t r;

	for (u = 0; u < VNET_DMA_MAX_USERS; u++) {
		struct vnet_vq *vq = d->user[u];

		if (vq == NULL)
			continue;
		for (r = vq->pk_head; r != vq->pk_tail; r++) {
			struct vnet_pkt *p = &vq->pkts[r & (VNET_INFL - 1)];

			if (copy - (p->seq - p->ndma) < p->ndma) {
				*vqp = vq;
				return p;
			}
		}
	}
	return NULL;
}

/* Redo failed copy number @copy (its tag, or its untagged record's). */
static void
redo(struct vmp_vnet_dma *d, uint32_t copy)
{
	const struct vnet_dma_tag *t = &d->tags[copy & d->mask];
	struct vnet_vq *vq = NULL;
	struct vnet_pkt *p = copy_owner(d, copy, &vq);
	uint8_t *mb;

	if (p == NULL) {
		/* every copy in flight has a record: a bug if not */
		VNET_LOG(ERR, "dma %d: failed copy %u has no record", d->dma_id,
			 copy);
		return;
	}
	vq->st.dma_errors++;
	if (p->gbuf == NULL) {
		rte_memcpy((void *)t->dst, (const void *)t->src, t->len);
		if (vq->rx)
			vnet_wtrace_hva(vq, VNET_WT_REDO, (void *)t->dst,
					t->len);
		return;
	}
	mb = rte_pktmbuf_mtod(p->m, uint8_t *);
	if (vq->rx) {
		rte_memcpy(p->gbuf, mb, p->m->data_len);
		vnet_wtrace_hva(vq, VNET_WT_REDO, p->gbuf, p->m->data_len);
	} else {
		rte_memcpy(mb, p->gbuf, p->m->data_len);
	}
}

/*
 * Retire the @n oldest copies; @status NULL: all succeeded. Without an error
 * or a pinned tag this only moves head, which lands the records waiting for
 * it. A copy the engine failed is redone on the CPU first (its source mbuf
 * or guest buffer is still held: the record is not published before head
 * passes it), so no packet is published with missing data; it is counted in
 * dma_errors.
 */
static void
retire(struct vmp_vnet_dma *d, uint32_t n,
       const enum rte_dma_status_code *status)
{
	uint32_t i;

	n = RTE_MIN(n, d->tail - d->head);
	if (likely(status == NULL && d->pinned == 0)) {
		d->head += n;
		return;
	}
	for (i = 0; i < n; i++) {
		uint32_t k = d->head & d->mask;
		struct vnet_dma_tag *t = &d->tags[k];

		if (unlikely(status != NULL &&
			     status[i] != RTE_DMA_STATUS_SUCCESSFUL))
			redo(d, d->head);
		if (d->pin_gpa[k] != 0) {
			/* pinned copies are tagged */
			struct vnet_vq *vq = t->vq;

			vq->port->pin_cb(vq->port->pin_arg, vq->port->vid,
					 d->pin_gpa[k], t->len, false);
			d->pin_gpa[k] = 0;
			d->pinned--;
		}
		d->head++;
	}
}

/*
 * Retire completed copies, oldest first. rte_dma_completed() while the
 * engine reports no error (it stops in front of a failed copy and says so);
 * then rte_dma_completed_status() for the copies from the failed one on.
 */
unsigned int
__vmp_vnet_dma_poll(struct vmp_vnet_dma *d)
{
	enum rte_dma_status_code status[DMA_POLL_BURST];
	unsigned int total = 0;
	uint16_t last, n, want;
	bool err = false;

	if (d->head == d->tail)
		return 0;
	__vmp_vnet_dma_kick(d);
	do {
		/* no status array: ask for every copy in flight at once */
		want = (uint16_t)RTE_MIN(d->tail - d->head,
					 (uint32_t)UINT16_MAX);
		n = rte_dma_completed(d->dma_id, d->vchan, want, &last, &err);
		retire(d, n, NULL);
		total += n;
	} while (n == want && !err && d->head != d->tail);
	if (unlikely(err)) {
		do {
			n = rte_dma_completed_status(d->dma_id, d->vchan,
						     DMA_POLL_BURST, &last,
						     status);
			retire(d, n, status);
			total += n;
		} while (n == DMA_POLL_BURST);
	}
	return total;
}
