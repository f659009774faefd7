/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dma_swdma fast path: the rte_dma_fp_object functions the application
 * calls (producer side of each vchan ring) and the engine's service callback
 * (consumer side). The ring protocol, its labels and barrier pairs are
 * described in swdma_pvt.h.
 */
#include <errno.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_memcpy.h>
#include <rte_pause.h>
#include <rte_prefetch.h>

#include "swdma_pvt.h"

static inline struct swdma_vchan *
vchan_of(void *priv, uint16_t vchan)
{
	return ((struct swdma_dev *)priv)->vchans[vchan];
}

/* PENDING -> SUBMITTED for [sub_shadow, head) (B1, release). */
static inline void
vchan_doorbell(struct swdma_vchan *vc)
{
	uint32_t n = vc->head - vc->sub_shadow;

	if (n == 0)
		return;
	vc->st_submitted += n;
	vc->sub_shadow = vc->head;
	/* B1: pairs with the engine's load-acquire in vchan_drain */
	__atomic_store_n(&vc->submitted, vc->head, __ATOMIC_RELEASE);
}

/* FREE -> PENDING: the slot to fill, or NULL when the ring is full. */
static inline struct swdma_desc *
vchan_slot(struct swdma_vchan *vc)
{
	if (unlikely(vc->head - vc->tail >= vc->nb_desc))
		return NULL;
	return &vc->ring[vc->head & vc->mask];
}

static inline int
vchan_commit(struct swdma_vchan *vc, uint64_t flags)
{
	uint16_t id = (uint16_t)vc->head++;

	if (flags & RTE_DMA_OP_FLAG_SUBMIT)
		vchan_doorbell(vc);
	return id;
}

/* FREE -> PENDING for a job the slot cannot hold: in the slot's ext entry.
 * @hint: an address the engine may prefetch (a source, or the destination). */
static inline struct swdma_ext *
vchan_put_ext(struct swdma_vchan *vc, struct swdma_desc *d, uint8_t op,
	      uint64_t hint)
{
	struct swdma_ext *e = &vc->ext[vc->head & vc->mask];

	e->op = op;
	d->src = hint;
	d->dl = 0;
	return e;
}

int
swdma_copy(void *priv, uint16_t vchan, rte_iova_t src, rte_iova_t dst,
	   uint32_t length, uint64_t flags)
{
	struct swdma_vchan *vc = vchan_of(priv, vchan);
	struct swdma_desc *d = vchan_slot(vc);
	struct swdma_ext *e;

	if (unlikely(d == NULL))
		return -ENOSPC;
	/* 1..SWDMA_DL_LEN_MAX bytes (0 wraps to UINT32_MAX) */
	if (likely(length - 1 < SWDMA_DL_LEN_MAX && dst <= SWDMA_DL_ADDR_MAX)) {
		d->src = src;
		d->dl = dst | (uint64_t)length << SWDMA_DL_SHIFT;
	} else {
		e = vchan_put_ext(vc, d, SWDMA_OP_COPY, src);
		e->src = src;
		e->dst = dst;
		e->len = length;
	}
	return vchan_commit(vc, flags);
}

int
swdma_fill(void *priv, uint16_t vchan, uint64_t pattern, rte_iova_t dst,
	   uint32_t length, uint64_t flags)
{
	struct swdma_vchan *vc = vchan_of(priv, vchan);
	struct swdma_desc *d = vchan_slot(vc);
	struct swdma_ext *e;

	if (unlikely(d == NULL))
		return -ENOSPC;
	e = vchan_put_ext(vc, d, SWDMA_OP_FILL, dst);
	e->src = pattern;
	e->dst = dst;
	e->len = length;
	return vchan_commit(vc, flags);
}

int
swdma_copy_sg(void *priv, uint16_t vchan, const struct rte_dma_sge *src,
	      const struct rte_dma_sge *dst, uint16_t nb_src, uint16_t nb_dst,
	      uint64_t flags)
{
	struct swdma_vchan *vc = vchan_of(priv, vchan);
	struct swdma_desc *d;
	struct swdma_ext *e;

	/* Refused before it is accepted: no job id is consumed. */
	if (unlikely(nb_src == 0 || nb_dst == 0 || nb_src > SWDMA_MAX_SGES ||
		     nb_dst > SWDMA_MAX_SGES || src == NULL || dst == NULL))
		return -EINVAL;
	d = vchan_slot(vc);
	if (unlikely(d == NULL))
		return -ENOSPC;
	e = vchan_put_ext(vc, d, SWDMA_OP_COPY_SG, src[0].addr);
	memcpy(e->sg, src, nb_src * sizeof(e->sg[0]));
	memcpy(e->sg + SWDMA_MAX_SGES, dst, nb_dst * sizeof(e->sg[0]));
	e->nb_src = (uint8_t)nb_src;
	e->nb_dst = (uint8_t)nb_dst;
	return vchan_commit(vc, flags);
}

int
swdma_submit(void *priv, uint16_t vchan)
{
	vchan_doorbell(vchan_of(priv, vchan));
	return 0;
}

static inline void
vchan_reaped(struct swdma_vchan *vc, uint32_t n, uint16_t *last_idx)
{
	vc->tail += n;
	vc->st_completed += n;
	*last_idx = (uint16_t)(vc->tail - 1);
}

/* DONE -> FREE for the successful prefix of [tail, done). */
uint16_t
swdma_completed(void *priv, uint16_t vchan, const uint16_t nb_cpls,
		uint16_t *last_idx, bool *has_error)
{
	struct swdma_vchan *vc = vchan_of(priv, vchan);
	/* B2: pairs with the engine's store-release of done */
	uint32_t done = __atomic_load_n(&vc->done, __ATOMIC_ACQUIRE);
	uint32_t n = RTE_MIN(done - vc->tail, (uint32_t)nb_cpls);
	uint32_t i;

	if (unlikely(__atomic_load_n(&vc->errs, __ATOMIC_RELAXED) !=
		     vc->errs_seen)) {
		/* an unreaped error exists: stop in front of the first */
		for (i = 0; i < n; i++)
			if (vc->status[(vc->tail + i) & vc->mask] !=
			    RTE_DMA_STATUS_SUCCESSFUL)
				break;
		if (i < n)
			*has_error = true;
		n = i;
	}
	vchan_reaped(vc, n, last_idx);
	return (uint16_t)n;
}

/* DONE -> FREE for up to nb_cpls slots, whatever their status. */
uint16_t
swdma_completed_status(void *priv, uint16_t vchan, const uint16_t nb_cpls,
		       uint16_t *last_idx, enum rte_dma_status_code *status)
{
	struct swdma_vchan *vc = vchan_of(priv, vchan);
	/* B2: pairs with the engine's store-release of done */
	uint32_t done = __atomic_load_n(&vc->done, __ATOMIC_ACQUIRE);
	uint32_t n = RTE_MIN(done - vc->tail, (uint32_t)nb_cpls);
	uint32_t i, errs = 0;

	if (likely(__atomic_load_n(&vc->errs, __ATOMIC_RELAXED) ==
		   vc->errs_seen)) {
		for (i = 0; i < n; i++)
			status[i] = RTE_DMA_STATUS_SUCCESSFUL;
	} else {
		for (i = 0; i < n; i++) {
			uint32_t slot = (vc->tail + i) & vc->mask;

			status[i] = (enum rte_dma_status_code)vc->status[slot];
			if (status[i] != RTE_DMA_STATUS_SUCCESSFUL) {
				errs++;
				/* the engine writes failures only: the slot
				 * is FREE again with the success value */
				vc->status[slot] = RTE_DMA_STATUS_SUCCESSFUL;
			}
		}
	}
	vc->errs_seen += errs;
	vc->st_errors += errs;
	vchan_reaped(vc, n, last_idx);
	return (uint16_t)n;
}

uint16_t
swdma_burst_capacity(const void *priv, uint16_t vchan)
{
	const struct swdma_vchan *vc =
		((const struct swdma_dev *)priv)->vchans[vchan];

	return (uint16_t)(vc->nb_desc - (vc->head - vc->tail));
}

/* ---- engine side ---- */

static inline bool
addr_bad(uint64_t a, uint32_t len)
{
	return a < SWDMA_ADDR_MIN || a + len < a;
}

static void
fill_bytes(uint8_t *dst, uint64_t pattern, uint32_t len)
{
	uint32_t i;

	for (i = 0; i + 8 <= len; i += 8)
		memcpy(dst + i, &pattern, 8);
	memcpy(dst + i, &pattern, len - i);
}

static uint16_t
exec_sg(const struct swdma_ext *e)
{
	const struct rte_dma_sge *s = e->sg, *t = e->sg + SWDMA_MAX_SGES;
	uint64_t slen = 0, dlen = 0;
	uint32_t si = 0, ti = 0, so = 0, to = 0;
	unsigned int k;

	for (k = 0; k < e->nb_src; k++) {
		if (addr_bad(s[k].addr, s[k].length))
			return RTE_DMA_STATUS_INVALID_SRC_ADDR;
		slen += s[k].length;
	}
	for (k = 0; k < e->nb_dst; k++) {
		if (addr_bad(t[k].addr, t[k].length))
			return RTE_DMA_STATUS_INVALID_DST_ADDR;
		dlen += t[k].length;
	}
	if (slen == 0 || slen != dlen)
		return RTE_DMA_STATUS_INVALID_LENGTH;
	while (si < e->nb_src && ti < e->nb_dst) {
		uint32_t n = RTE_MIN(s[si].length - so, t[ti].length - to);

		rte_memcpy((void *)(uintptr_t)(t[ti].addr + to),
			   (const void *)(uintptr_t)(s[si].addr + so), n);
		so += n;
		to += n;
		if (so == s[si].length) {
			si++;
			so = 0;
		}
		if (to == t[ti].length) {
			ti++;
			to = 0;
		}
	}
	return RTE_DMA_STATUS_SUCCESSFUL;
}

/* Always inline (with exec_ext): the job loop keeps its copies specialised
 * in place although exec_faulty() calls them too; an out-of-line call here
 * costs small copies their rate. */
static __rte_always_inline uint16_t
exec_copy(uint64_t src, uint64_t dst, uint32_t len)
{
	if (unlikely(len == 0))
		return RTE_DMA_STATUS_INVALID_LENGTH;
	if (unlikely(addr_bad(src, len)))
		return RTE_DMA_STATUS_INVALID_SRC_ADDR;
	if (unlikely(addr_bad(dst, len)))
		return RTE_DMA_STATUS_INVALID_DST_ADDR;
	rte_memcpy((void *)(uintptr_t)dst, (const void *)(uintptr_t)src, len);
	return RTE_DMA_STATUS_SUCCESSFUL;
}

static __rte_always_inline uint16_t
exec_ext(const struct swdma_ext *e)
{
	switch (e->op) {
	case SWDMA_OP_COPY:
		return exec_copy(e->src, e->dst, e->len);
	case SWDMA_OP_FILL:
		if (unlikely(e->len == 0))
			return RTE_DMA_STATUS_INVALID_LENGTH;
		if (unlikely(addr_bad(e->dst, e->len)))
			return RTE_DMA_STATUS_INVALID_DST_ADDR;
		fill_bytes((uint8_t *)(uintptr_t)e->dst, e->src, e->len);
		return RTE_DMA_STATUS_SUCCESSFUL;
	case SWDMA_OP_COPY_SG:
		return exec_sg(e);
	default:
		return RTE_DMA_STATUS_ERROR_UNKNOWN;
	}
}

static inline uint16_t
exec_desc(const struct swdma_desc *d, const struct swdma_ext *e)
{
	uint64_t dl = d->dl;

	if (likely(dl != 0))
		return exec_copy(d->src, dl & SWDMA_DL_ADDR_MAX,
				 (uint32_t)(dl >> SWDMA_DL_SHIFT));
	return exec_ext(e);
}

/*
 * The job of @slot through the test devargs, in this order: stall (hold
 * the job inside the batch, as a hung engine holds a descriptor: seq stays
 * odd, so dev_stop / dev_close time out, until rte_pmd_swdma_stall_set()
 * clears it), delay_us (busy-wait, the job then runs), fail_every (an
 * injected failure copies nothing, so that the application's error path
 * is seen to redo it).
 */
static __rte_noinline uint16_t
exec_faulty(struct swdma_vchan *vc, uint32_t slot)
{
	/* relaxed: a flag, see swdma_vchan.faults */
	while (__atomic_load_n(&vc->faults, __ATOMIC_RELAXED) &
	       SWDMA_FAULT_STALL)
		rte_pause();
	if (vc->delay_us != 0)
		rte_delay_us_block(vc->delay_us);
	if (vc->fail_every != 0 && ++vc->since_fail == vc->fail_every) {
		vc->since_fail = 0;
		return RTE_DMA_STATUS_ERROR_UNKNOWN;
	}
	return exec_desc(&vc->ring[slot], &vc->ext[slot]);
}

/* SUBMITTED -> DONE for up to `batch` slots of one vchan; returns how many. */
static inline uint32_t
vchan_drain(struct swdma_vchan *vc, uint32_t batch)
{
	/* B1: pairs with the app's store-release in vchan_doorbell */
	uint32_t sub = __atomic_load_n(&vc->submitted, __ATOMIC_ACQUIRE);
	uint32_t done = vc->done; /* the engine is its only writer */
	uint32_t n = RTE_MIN(sub - done, batch);
	uint32_t i, errs = 0;
	uint16_t st;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		uint32_t slot = (done + i) & vc->mask;
		struct swdma_desc *d = &vc->ring[slot];

		if (i + 1 < n) {
			const struct swdma_desc *nx =
				&vc->ring[(done + i + 1) & vc->mask];

			rte_prefetch0((const void *)(uintptr_t)nx->src);
		}
		if (unlikely(__atomic_load_n(&vc->faults, __ATOMIC_RELAXED)))
			st = exec_faulty(vc, slot);
		else
			st = exec_desc(d, &vc->ext[slot]);
		/* Only a failure is written back, and apart from the ring: a
		 * slot's line stays clean (shared), so the app's next write to
		 * it does not have to fetch it dirty from this core. */
		if (unlikely(st != RTE_DMA_STATUS_SUCCESSFUL)) {
			vc->status[slot] = st;
			errs++;
		}
	}
	if (unlikely(errs))
		__atomic_store_n(&vc->errs, vc->errs + errs, __ATOMIC_RELAXED);
	vc->nb_batches++;
	/* B2: pairs with the app's load-acquire in completed* */
	__atomic_store_n(&vc->done, done + n, __ATOMIC_RELEASE);
	return n;
}

int32_t
swdma_engine_run(void *arg)
{
	struct swdma_engine *e = arg;
	uint32_t work = 0;
	uint16_t i;

	/* Q1 enter: seq even -> odd, then check running (seq_cst pair with
	 * swdma_engines_quiesce's store of running and load of seq) */
	__atomic_fetch_add(&e->seq, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&e->running, __ATOMIC_SEQ_CST)) {
		unsigned int pass = 0;
		uint32_t got;

		/* round robin, one batch per vchan per pass; a few passes per
		 * call while there is work, to amortise the service loop */
		do {
			got = 0;
			for (i = 0; i < e->nb_vchans; i++)
				got += vchan_drain(e->vchans[i], e->batch);
			work += got;
		} while (got != 0 && ++pass < SWDMA_PASSES);
		e->nb_calls++;
	}
	/* Q1 leave: seq odd -> even; release pairs with quiesce's acquire */
	__atomic_fetch_add(&e->seq, 1, __ATOMIC_RELEASE);
	if (work != 0) {
		e->idle_polls = 0;
		return 0;
	}
	/* Optional idle backoff (devarg idle_us, default 0 = pure polling):
	 * after SWDMA_IDLE_POLLS empty calls, sleep instead of spinning. A
	 * system call, but only when there is nothing to copy. */
	if (e->idle_us != 0 && ++e->idle_polls >= SWDMA_IDLE_POLLS) {
		e->nb_sleeps++;
		rte_delay_us_sleep(e->idle_us);
	}
	return -EAGAIN;
}

/* dev_stop, engine quiesced: SUBMITTED -> DONE with NOT_ATTEMPTED. */
void
swdma_vchan_abort(struct swdma_vchan *vc)
{
	uint32_t sub = __atomic_load_n(&vc->submitted, __ATOMIC_ACQUIRE);
	uint32_t done = vc->done;
	uint32_t i;

	if (sub == done)
		return;
	for (i = done; i != sub; i++)
		vc->status[i & vc->mask] = RTE_DMA_STATUS_NOT_ATTEMPTED;
	__atomic_store_n(&vc->errs, vc->errs + (sub - done), __ATOMIC_RELAXED);
	/* B2: pairs with the app's load-acquire in completed* */
	__atomic_store_n(&vc->done, sub, __ATOMIC_RELEASE);
}
