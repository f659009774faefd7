/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker side of lib/workpool: the poll loop on an EAL worker lcore and
 * the halt/kick handshake (states and labels in workpool_pvt.h).
 */
#include <errno.h>

#include <rte_atomic.h>
#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_pause.h>

#include <vmp_common.h>

#include "workpool_pvt.h"

/*
 * Submitter side of the handshake, after S1 (the enqueue or the quit store).
 * Cheap when the worker is awake: one fence and one load of a line the worker
 * writes only when it halts.
 */
void
__vmp_pool_worker_kick(struct vmp_pool *pool, struct __vmp_pool_worker *w)
{
	uint32_t halted = WP_HALT_HALTED;

	/* F_S: orders S1 before S2's load; pairs with F_W in wp_halt(). */
	rte_atomic_thread_fence(__ATOMIC_SEQ_CST);
	/* S2: load the word; AWAKE -> no syscall. */
	if (likely(__atomic_load_n(&w->halt_word, __ATOMIC_RELAXED) ==
		   WP_HALT_AWAKE))
		return;
	/*
	 * S2: HALTED -> AWAKE. Release: the worker's acquire load of AWAKE
	 * after W3 sees our enqueue. Only the CAS winner kicks, so a worker
	 * that cancelled its own halt (W2) costs no syscall.
	 */
	if (__atomic_compare_exchange_n(&w->halt_word, &halted, WP_HALT_AWAKE,
					false, __ATOMIC_RELEASE,
					__ATOMIC_RELAXED)) {
		vmp_halt_kick(&w->halt_word, 1);
		WP_INC(pool->kicks, 1);
	}
}

static inline int
wp_has_work(struct __vmp_pool_worker *w)
{
	return !rte_ring_empty(w->ring) ||
	       __atomic_load_n(&w->quit, __ATOMIC_RELAXED);
}

/* Worker side of the handshake: returns when there may be work or quit. */
static void
wp_halt(struct __vmp_pool_worker *w)
{
	uint32_t halted = WP_HALT_HALTED;

	/* W1: AWAKE -> HALTED. */
	__atomic_store_n(&w->halt_word, WP_HALT_HALTED, __ATOMIC_RELAXED);
	/* F_W: orders W1 before W2's loads; pairs with F_S in
	 * __vmp_pool_worker_kick(). */
	rte_atomic_thread_fence(__ATOMIC_SEQ_CST);

	/* W2: re-check after publishing. */
	while (!wp_has_work(w)) {
		WP_INC(w->halts, 1);
		/* W3: sleep while the word still says HALTED. */
		vmp_halt_wait(&w->halt_word, WP_HALT_HALTED, 0);
		WP_INC(w->wakes, 1);
		/* Acquire pairs with the release CAS of S2: if the submitter
		 * woke us, its enqueue (or quit) is visible now. */
		if (__atomic_load_n(&w->halt_word, __ATOMIC_ACQUIRE) ==
		    WP_HALT_AWAKE)
			return;
		/* Spurious wake-up or signal: the word is still HALTED, so a
		 * later S2 will still kick us; re-check and sleep again. */
	}
	/* W2 found work: HALTED -> AWAKE, unless S2 already did it. */
	__atomic_compare_exchange_n(&w->halt_word, &halted, WP_HALT_AWAKE,
				    false, __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE);
}

static inline void
wp_handle(struct vmp_pool *pool, struct __vmp_pool_worker *w,
	  struct vmp_pool_req *req)
{
	uint64_t t0, t1;

	t0 = rte_rdtsc();
	pool->p.handler(vmp_pool_req_data(req), w->idx, pool->p.cb_arg);
	t1 = rte_rdtsc();
	WP_INC(w->busy_cycles, t1 - t0);
	WP_INC(w->handled, 1);
	/*
	 * Done ring: MP enqueue, store-release of its prod.tail, which the
	 * submitter's SC dequeue loads with acquire: the handler's writes to
	 * the request are visible to the done callback. It cannot be full (its
	 * capacity is every request of the pool), so the retry is defensive.
	 */
	while (unlikely(rte_ring_mp_enqueue(pool->done_ring, req) != 0))
		rte_pause();
}

int
__vmp_pool_worker_main(void *arg)
{
	struct __vmp_pool_worker *w = arg;
	struct vmp_pool *pool = w->pool;
	const uint32_t spin_polls = pool->p.spin_polls;
	struct vmp_pool_req *reqs[VMP_POOL_RING_SIZE_DEFAULT];
	uint32_t spins = 0;
	unsigned int i, n;
	int rc = 0;

	if (pool->p.worker_init != NULL)
		rc = pool->p.worker_init(w->idx, pool->p.cb_arg);
	w->start_rc = rc;
	/* Release pairs with the creator's acquire load of start. */
	__atomic_store_n(&w->start, rc == 0 ? WP_START_READY : WP_START_FAILED,
			 __ATOMIC_RELEASE);
	if (rc != 0)
		return rc;

	for (;;) {
		/* Ring: SC dequeue, load-acquire of prod.tail pairs with the
		 * submitter's SP enqueue store-release (S1). */
		n = rte_ring_sc_dequeue_burst(w->ring, (void **)reqs,
					      RTE_DIM(reqs), NULL);
		if (n > 0) {
			for (i = 0; i < n; i++)
				wp_handle(pool, w, reqs[i]);
			spins = 0;
			continue;
		}
		if (__atomic_load_n(&w->quit, __ATOMIC_ACQUIRE))
			break;
		if (spin_polls == VMP_POOL_SPIN_FOREVER ||
		    ++spins < spin_polls) {
			rte_pause();
			continue;
		}
		wp_halt(w);
		spins = 0;
	}

	if (pool->p.worker_uninit != NULL)
		pool->p.worker_uninit(w->idx, pool->p.cb_arg);
	return 0;
}
