/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Async copies over any rte_dma vchan. A channel keeps, in submission order,
 * a tag per copy naming the vring record it belongs to; rte_dma completes in
 * order, so the n completions of a poll are the n oldest tags. A record is
 * published (vnet_ring.c) only when all its copies landed, so used elements
 * still reach the guest in order while copies fly. The channel, its tags and
 * the records are touched only by the lcore that polls them: no locks.
 */
#include <errno.h>

#include <rte_dmadev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_memcpy.h>

#include "vnet_pvt.h"

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
	d->dma_id = dma_id;
	d->vchan = vchan;
	d->threshold = threshold ? threshold : VMP_VNET_ASYNC_THRESHOLD;
	d->mask = DMA_TAGS - 1;
	return d;
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
	rte_free(d->tags);
	rte_free(d);
	return 0;
}

void
__vmp_vnet_dma_kick(struct vmp_vnet_dma *d)
{
	if (d->unsubmitted) {
		rte_dma_submit(d->dma_id, d->vchan);
		d->unsubmitted = 0;
	}
}

/* Retire the @n oldest tags; @status NULL: all succeeded. A copy the
 * engine failed is redone on the CPU (its source mbuf / guest buffer is
 * still held), so a packet is never published with missing data; it is
 * counted in dma_errors. */
static void
retire(struct vmp_vnet_dma *d, uint16_t n,
       const enum rte_dma_status_code *status)
{
	uint16_t i;

	for (i = 0; i < n && d->head != d->tail; i++) {
		struct vnet_dma_tag *t = &d->tags[d->head & d->mask];
		struct vnet_vq *vq = t->vq;

		if (unlikely(status != NULL &&
			     status[i] != RTE_DMA_STATUS_SUCCESSFUL)) {
			rte_memcpy((void *)t->dst, (const void *)t->src,
				   t->len);
			vq->st.dma_errors++;
		}
		if (t->pin_gpa)
			vq->port->pin_cb(vq->port->pin_arg, vq->port->vid,
					 t->pin_gpa, t->len, false);
		vq->pkts[t->pkt & (VNET_INFL - 1)].pending--;
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
	uint16_t last, n;
	bool err = false;

	if (d->head == d->tail)
		return 0;
	__vmp_vnet_dma_kick(d);
	do {
		n = rte_dma_completed(d->dma_id, d->vchan, DMA_POLL_BURST,
				      &last, &err);
		retire(d, n, NULL);
		total += n;
	} while (n == DMA_POLL_BURST && !err);
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
