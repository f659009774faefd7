/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The locked baseline (vmp_workpool_locked.h): QEMU's compression threads
 * before the lockless rework, kept ONLY to measure lib/workpool against.
 * Written from the description in QEMU's "migration: introduce lockless
 * multithreads model" patch; not for production use.
 *
 * Per worker there is exactly one job buffer: a 64-byte header holding the
 * worker index (so put() finds the worker from the job pointer), then the
 * caller data. Its life cycle, with the lock that guards each transition:
 *
 *   IDLE --G1 get--> HELD --P1 put--> PENDING --K1 take--> RUNNING
 *    ^                ^                                      |
 *    |                +--G1 get (H1 first)--+               K2 finish
 *    +------------H1 harvest: done()--------FINISHED <------+
 *
 *   G1  submitter, under done_lock: idle 1 -> 0 (held 0 -> 1, private).
 *   P1  submitter, under w->mutex: held 1 -> 0, has_req 0 -> 1, signal
 *       w->cond.
 *   K1  worker, under w->mutex: has_req 1 -> 0; unlock, run the handler.
 *   K2  worker, under done_lock: idle 0 -> 1 and result 0 -> 1, signal
 *       done_cond.
 *   H1  submitter, under done_lock: result 1 -> 0, then done() still under
 *       done_lock (QEMU's compression threads sent the result under the
 *       global lock), in get (the chosen worker only), poll and drain
 *       (every finished worker).
 *   Q1  destroy, under w->mutex: quit 0 -> 1, signal w->cond. The worker
 *       leaves only with has_req 0, so a job put before quit still runs.
 *
 * What guards what:
 *   done_lock (global): every worker's idle and result; done_cond waits on
 *     them (the submitter, in get(wait) and drain; workers signal it at K2).
 *   w->mutex: w->has_req and w->quit; w->cond waits on them (the worker;
 *     the submitter signals it at P1 and Q1).
 *   held: submitter-private (only the submitter reads or writes it).
 *   counters: single writer, relaxed atomic stores; stats_get reads them
 *     relaxed from any thread.
 *
 * Ordering of the job data: the submitter writes it between G1 and P1; P1's
 * unlock of w->mutex (release) pairs with K1's lock (acquire), so the handler
 * sees it. The handler's writes precede K2's unlock of done_lock (release),
 * which pairs with the lock (acquire) taken by G1/H1 before done() reads
 * them.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "vmp_workpool_locked.h"
#include "workpool_pvt.h"

/* Header in front of each job's caller data: the worker index. */
#define LK_HDR_SIZE 64

struct lk_worker {
	/* guarded by mutex (w->cond waits on them) */
	pthread_mutex_t mutex;
	pthread_cond_t cond;
	bool has_req; /* P1 sets, K1 clears */
	bool quit;    /* Q1 sets */

	/* guarded by pool->done_lock */
	bool idle;   /* may take a job: K2 sets, G1 clears */
	bool result; /* finished, done() not run yet: K2 sets, H1 clears */

	/* submitter-private */
	bool held; /* got, not put: G1 sets, P1 clears */

	/* set at create, read-only afterwards */
	struct vmp_workpool_locked *pool;
	uint8_t *buf; /* LK_HDR_SIZE bytes (worker index) + the job */
	unsigned int idx;
	unsigned int lcore_id;

	/* start handshake: store-release by the worker, load-acquire by
	 * create, which then reads start_rc */
	uint32_t start; /* enum __vmp_worker_start */
	int start_rc;

	/* written by the worker only (relaxed), read by stats_get */
	uint64_t handled __rte_cache_aligned;
	uint64_t busy_cycles;
	uint64_t halts; /* waits on cond */
	uint64_t wakes; /* returns from them */
} __rte_cache_aligned;

struct vmp_workpool_locked {
	char name[VMP_POOL_NAMESIZE];
	struct vmp_pool_params p; /* copy; p.lcores and p.name not kept */
	unsigned int nb_workers;
	pthread_mutex_t done_lock;
	pthread_cond_t done_cond;

	/* written by the submitter only (relaxed), read by stats_get; own
	 * cache line, away from done_lock that the workers take at K2 */
	uint64_t taken __rte_cache_aligned; /* successful gets */
	uint64_t submitted;
	uint64_t completed;
	uint64_t submit_full;

	struct lk_worker w[];
};

static inline void *
lk_data(const struct lk_worker *w)
{
	return w->buf + LK_HDR_SIZE;
}

static int
lk_worker_main(void *arg)
{
	struct lk_worker *w = arg;
	struct vmp_workpool_locked *pool = w->pool;
	const struct vmp_pool_params *p = &pool->p;
	uint64_t t0;
	int rc;

	rc = p->worker_init != NULL ? p->worker_init(w->idx, p->cb_arg) : 0;
	w->start_rc = rc;
	/* release: pairs with create's load-acquire, which then reads
	 * start_rc */
	__atomic_store_n(&w->start, rc == 0 ? WP_START_READY : WP_START_FAILED,
			 __ATOMIC_RELEASE);
	if (rc != 0)
		return rc;

	pthread_mutex_lock(&w->mutex);
	for (;;) {
		while (!w->has_req && !w->quit) {
			WP_INC(w->halts, 1);
			/* sleeps with w->mutex released; P1/Q1 signal */
			pthread_cond_wait(&w->cond, &w->mutex);
			WP_INC(w->wakes, 1);
		}
		if (!w->has_req)
			break;	    /* Q1 seen, nothing pending */
		w->has_req = false; /* K1 (under w->mutex) */
		pthread_mutex_unlock(&w->mutex);

		t0 = rte_rdtsc();
		p->handler(lk_data(w), w->idx, p->cb_arg);
		WP_INC(w->busy_cycles, rte_rdtsc() - t0);
		WP_INC(w->handled, 1);

		pthread_mutex_lock(&pool->done_lock);
		w->idle = true; /* K2 (under done_lock) */
		w->result = true;
		pthread_cond_signal(&pool->done_cond);
		pthread_mutex_unlock(&pool->done_lock);
		pthread_mutex_lock(&w->mutex);
	}
	pthread_mutex_unlock(&w->mutex);
	if (p->worker_uninit != NULL)
		p->worker_uninit(w->idx, p->cb_arg);
	return 0;
}

/* Q1 for the first n workers, then wait for their lcores. */
static void
lk_stop(struct vmp_workpool_locked *pool, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct lk_worker *w = &pool->w[i];

		pthread_mutex_lock(&w->mutex);
		w->quit = true; /* Q1 (under w->mutex) */
		pthread_cond_signal(&w->cond);
		pthread_mutex_unlock(&w->mutex);
	}
	for (i = 0; i < n; i++)
		rte_eal_wait_lcore(pool->w[i].lcore_id);
}

/* uninit the first nb_inited jobs, free every buffer and the pool. */
static void
lk_free(struct vmp_workpool_locked *pool, unsigned int nb_inited)
{
	unsigned int i;

	for (i = 0; i < pool->nb_workers; i++) {
		struct lk_worker *w = &pool->w[i];

		if (i < nb_inited && pool->p.uninit != NULL)
			pool->p.uninit(lk_data(w), pool->p.cb_arg);
		rte_free(w->buf);
		pthread_mutex_destroy(&w->mutex);
		pthread_cond_destroy(&w->cond);
	}
	pthread_mutex_destroy(&pool->done_lock);
	pthread_cond_destroy(&pool->done_cond);
	rte_free(pool);
}

/* Launch every worker and wait until each ran worker_init: 0 or -errno. */
static int
lk_launch(struct vmp_workpool_locked *pool)
{
	unsigned int i, n;
	int rc = 0;

	for (n = 0; n < pool->nb_workers; n++) {
		if (rte_eal_remote_launch(lk_worker_main, &pool->w[n],
					  pool->w[n].lcore_id) != 0) {
			WP_LOG(ERR, "locked %s: launch on lcore %u failed",
			       pool->name, pool->w[n].lcore_id);
			rc = -EBUSY;
			break;
		}
	}
	/* acquire: pairs with the worker's store-release of start. Yield: a
	 * worker may share this core. */
	for (i = 0; i < n; i++) {
		struct lk_worker *w = &pool->w[i];
		uint32_t s;

		while ((s = __atomic_load_n(&w->start, __ATOMIC_ACQUIRE)) ==
		       WP_START_PENDING)
			sched_yield();
		if (s == WP_START_FAILED && rc == 0) {
			WP_LOG(ERR, "locked %s: worker_init on lcore %u: %d",
			       pool->name, w->lcore_id, w->start_rc);
			rc = w->start_rc < 0 ? w->start_rc : -EIO;
		}
	}
	if (rc != 0)
		lk_stop(pool, n);
	return rc;
}

struct vmp_workpool_locked *
vmp_workpool_locked_create(const struct vmp_pool_params *params)
{
	unsigned int lcores[VMP_POOL_MAX_WORKERS];
	unsigned int i, ring_size, nb_inited = 0;
	struct vmp_workpool_locked *pool;
	size_t sz;
	int socket, rc;

	rc = __vmp_pool_create_check(params, lcores, &ring_size, &socket);
	if (rc != 0) {
		rte_errno = -rc;
		return NULL;
	}
	RTE_SET_USED(ring_size); /* validated only: one job per worker */
	pool = rte_zmalloc_socket("vmp_workpool_locked",
				  sizeof(*pool) + params->nb_workers *
							  sizeof(pool->w[0]),
				  RTE_CACHE_LINE_SIZE, socket);
	if (pool == NULL) {
		WP_LOG(ERR, "locked: no memory for %u workers",
		       params->nb_workers);
		rte_errno = ENOMEM;
		return NULL;
	}
	pool->p = *params;
	pool->p.lcores = NULL;
	pool->p.name = NULL;
	snprintf(pool->name, sizeof(pool->name), "%s",
		 params->name != NULL ? params->name : "locked");
	pool->nb_workers = params->nb_workers;
	pthread_mutex_init(&pool->done_lock, NULL);
	pthread_cond_init(&pool->done_cond, NULL);
	for (i = 0; i < pool->nb_workers; i++) {
		pthread_mutex_init(&pool->w[i].mutex, NULL);
		pthread_cond_init(&pool->w[i].cond, NULL);
	}

	sz = LK_HDR_SIZE +
	     RTE_ALIGN_CEIL(params->req_size, RTE_CACHE_LINE_SIZE);
	for (i = 0; i < pool->nb_workers; i++) {
		struct lk_worker *w = &pool->w[i];

		w->pool = pool;
		w->idx = i;
		w->lcore_id = lcores[i];
		w->idle = true;
		/* the job on its worker's socket (it touches it most),
		 * unless the caller chose one */
		w->buf = rte_zmalloc_socket(
			"vmp_workpool_locked_job", sz, RTE_CACHE_LINE_SIZE,
			params->socket_id >= 0
				? socket
				: (int)rte_lcore_to_socket_id(lcores[i]));
		if (w->buf == NULL) {
			WP_LOG(ERR, "locked %s: no memory for job %u",
			       pool->name, i);
			rc = -ENOMEM;
			goto fail;
		}
		*(unsigned int *)w->buf = i;
		if (params->init != NULL) {
			rc = params->init(lk_data(w), i, params->cb_arg);
			if (rc != 0) {
				WP_LOG(ERR, "locked %s: init of job %u: %d",
				       pool->name, i, rc);
				rc = rc < 0 ? rc : -EIO;
				goto fail;
			}
		}
		nb_inited++;
	}
	rc = lk_launch(pool);
	if (rc != 0)
		goto fail;
	return pool;

fail:
	lk_free(pool, nb_inited);
	rte_errno = -rc;
	return NULL;
}

/* H1, under done_lock: run the done callback of w's finished job. */
static void
lk_harvest(struct vmp_workpool_locked *pool, struct lk_worker *w)
{
	w->result = false;
	pool->p.done(lk_data(w), pool->p.cb_arg);
	WP_INC(pool->completed, 1);
}

/* Under done_lock: H1 for every finished job. */
static int
lk_harvest_all(struct vmp_workpool_locked *pool)
{
	unsigned int i;
	int n = 0;

	for (i = 0; i < pool->nb_workers; i++) {
		if (pool->w[i].result) {
			lk_harvest(pool, &pool->w[i]);
			n++;
		}
	}
	return n;
}

void *
vmp_workpool_locked_get(struct vmp_workpool_locked *pool, int wait)
{
	bool first = true, can_finish;
	void *data = NULL;
	unsigned int i;

	if (pool == NULL)
		return NULL;
	pthread_mutex_lock(&pool->done_lock);
	for (;;) {
		can_finish = false;
		for (i = 0; i < pool->nb_workers; i++) {
			struct lk_worker *w = &pool->w[i];

			if (!w->idle) {
				/* put, so it will reach K2 */
				can_finish |= !w->held;
				continue;
			}
			if (w->result)
				lk_harvest(pool, w); /* H1 */
			w->idle = false;	     /* G1 (under done_lock) */
			w->held = true;
			WP_INC(pool->taken, 1);
			data = lk_data(w);
			break;
		}
		if (data != NULL)
			break;
		if (first)
			WP_INC(pool->submit_full, 1);
		first = false;
		if (!wait || !can_finish)
			break;
		/* sleeps with done_lock released; K2 signals */
		pthread_cond_wait(&pool->done_cond, &pool->done_lock);
	}
	pthread_mutex_unlock(&pool->done_lock);
	return data;
}

int
vmp_workpool_locked_put(struct vmp_workpool_locked *pool, void *data)
{
	struct lk_worker *w;
	unsigned int idx;

	if (pool == NULL || data == NULL)
		return -EINVAL;
	idx = *(const unsigned int *)((uint8_t *)data - LK_HDR_SIZE);
	if (idx >= pool->nb_workers || lk_data(&pool->w[idx]) != data ||
	    !pool->w[idx].held) {
		WP_LOG(ERR, "locked %s: put of %p: not a held job", pool->name,
		       data);
		return -EINVAL;
	}
	w = &pool->w[idx];
	w->held = false;
	WP_INC(pool->submitted, 1);
	pthread_mutex_lock(&w->mutex);
	w->has_req = true; /* P1 (under w->mutex) */
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->mutex);
	return 0;
}

int
vmp_workpool_locked_poll(struct vmp_workpool_locked *pool)
{
	int n;

	if (pool == NULL)
		return -EINVAL;
	pthread_mutex_lock(&pool->done_lock);
	n = lk_harvest_all(pool);
	pthread_mutex_unlock(&pool->done_lock);
	return n;
}

int
vmp_workpool_locked_drain(struct vmp_workpool_locked *pool)
{
	unsigned int i;
	int n;

	if (pool == NULL)
		return -EINVAL;
	pthread_mutex_lock(&pool->done_lock);
	for (;;) {
		for (i = 0; i < pool->nb_workers; i++)
			if (!pool->w[i].idle && !pool->w[i].held)
				break;
		if (i == pool->nb_workers)
			break;
		/* sleeps with done_lock released; K2 signals */
		pthread_cond_wait(&pool->done_cond, &pool->done_lock);
	}
	n = lk_harvest_all(pool);
	pthread_mutex_unlock(&pool->done_lock);
	return n;
}

int
vmp_workpool_locked_destroy(struct vmp_workpool_locked *pool)
{
	unsigned int i, busy = 0;

	if (pool == NULL)
		return 0;
	pthread_mutex_lock(&pool->done_lock);
	for (i = 0; i < pool->nb_workers; i++)
		busy += pool->w[i].held || !pool->w[i].idle ||
			pool->w[i].result;
	pthread_mutex_unlock(&pool->done_lock);
	if (busy != 0) {
		WP_LOG(ERR, "locked %s: destroy refused: %u jobs in flight",
		       pool->name, busy);
		return -EBUSY;
	}
	lk_stop(pool, pool->nb_workers);
	lk_free(pool, pool->nb_workers);
	return 0;
}

int
vmp_workpool_locked_stats_get(const struct vmp_workpool_locked *pool,
			      struct vmp_pool_stats *st)
{
	unsigned int i;

	if (pool == NULL || st == NULL)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	st->nb_workers = pool->nb_workers;
	st->ring_size = 1;
	st->tsc_hz = rte_get_tsc_hz();
	st->submitted = __atomic_load_n(&pool->submitted, __ATOMIC_RELAXED);
	st->completed = __atomic_load_n(&pool->completed, __ATOMIC_RELAXED);
	st->submit_full = __atomic_load_n(&pool->submit_full, __ATOMIC_RELAXED);
	st->in_flight =
		__atomic_load_n(&pool->taken, __ATOMIC_RELAXED) - st->completed;
	for (i = 0; i < pool->nb_workers; i++) {
		const struct lk_worker *w = &pool->w[i];
		struct vmp_pool_worker_stats *ws = &st->worker[i];

		ws->lcore_id = w->lcore_id;
		ws->handled = __atomic_load_n(&w->handled, __ATOMIC_RELAXED);
		ws->busy_cycles =
			__atomic_load_n(&w->busy_cycles, __ATOMIC_RELAXED);
		ws->halts = __atomic_load_n(&w->halts, __ATOMIC_RELAXED);
		ws->wakes = __atomic_load_n(&w->wakes, __ATOMIC_RELAXED);
	}
	return 0;
}
