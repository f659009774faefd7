/* SPDX-License-Identifier: BSD-3-Clause */
/* The locked baseline: see locked_pool.h. Written from the seed's description
 * of the old QEMU compression threads; benchmark use only. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "locked_pool.h"

struct lk_worker {
	struct lk_pool *pool;
	unsigned int idx;
	unsigned int lcore_id;
	/* guarded by mutex */
	pthread_mutex_t mutex;
	pthread_cond_t cond;
	bool pending; /* a request is waiting for this worker */
	bool quit;
	/* guarded by pool->done_lock */
	bool done; /* idle: the previous request (if any) is finished */
	/* submitter-private */
	bool has_result;
	/* worker-written */
	uint64_t busy_cycles;
	uint64_t handled;
	void *data;
} __rte_cache_aligned;

struct lk_pool {
	struct vmp_pool_params p;
	unsigned int nb_workers;
	pthread_mutex_t done_lock;
	pthread_cond_t done_cond;
	struct lk_worker w[];
};

static int
lk_worker_main(void *arg)
{
	struct lk_worker *w = arg;
	struct lk_pool *pool = w->pool;
	uint64_t t0;

	if (pool->p.worker_init != NULL)
		pool->p.worker_init(w->idx, pool->p.cb_arg);
	pthread_mutex_lock(&w->mutex);
	while (!w->quit) {
		if (!w->pending) {
			pthread_cond_wait(&w->cond, &w->mutex);
			continue;
		}
		w->pending = false;
		pthread_mutex_unlock(&w->mutex);

		t0 = rte_rdtsc();
		pool->p.handler(w->data, w->idx, pool->p.cb_arg);
		__atomic_store_n(&w->busy_cycles,
				 w->busy_cycles + rte_rdtsc() - t0,
				 __ATOMIC_RELAXED);
		__atomic_store_n(&w->handled, w->handled + 1, __ATOMIC_RELAXED);

		pthread_mutex_lock(&pool->done_lock);
		w->done = true;
		pthread_cond_signal(&pool->done_cond);
		pthread_mutex_unlock(&pool->done_lock);
		pthread_mutex_lock(&w->mutex);
	}
	pthread_mutex_unlock(&w->mutex);
	if (pool->p.worker_uninit != NULL)
		pool->p.worker_uninit(w->idx, pool->p.cb_arg);
	return 0;
}

struct lk_pool *
lk_pool_create(const struct vmp_pool_params *p)
{
	struct lk_pool *pool;
	unsigned int i, l, n = 0;
	size_t sz = RTE_ALIGN_CEIL(p->req_size, RTE_CACHE_LINE_SIZE);

	pool = rte_zmalloc(NULL,
			   sizeof(*pool) + p->nb_workers * sizeof(pool->w[0]),
			   RTE_CACHE_LINE_SIZE);
	if (pool == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	pool->p = *p;
	pool->nb_workers = p->nb_workers;
	pthread_mutex_init(&pool->done_lock, NULL);
	pthread_cond_init(&pool->done_cond, NULL);
	RTE_LCORE_FOREACH_WORKER (l) {
		if (n < p->nb_workers && rte_eal_get_lcore_state(l) == WAIT)
			pool->w[n++].lcore_id = l;
	}
	if (n < p->nb_workers)
		goto fail;
	for (i = 0; i < n; i++) {
		struct lk_worker *w = &pool->w[i];

		w->pool = pool;
		w->idx = i;
		w->done = true;
		pthread_mutex_init(&w->mutex, NULL);
		pthread_cond_init(&w->cond, NULL);
		w->data = rte_zmalloc(NULL, sz ? sz : 64, RTE_CACHE_LINE_SIZE);
		if (w->data == NULL)
			goto fail;
	}
	for (i = 0; i < n; i++)
		rte_eal_remote_launch(lk_worker_main, &pool->w[i],
				      pool->w[i].lcore_id);
	return pool;
fail:
	for (i = 0; i < p->nb_workers; i++)
		rte_free(pool->w[i].data);
	rte_free(pool);
	rte_errno = EBUSY;
	return NULL;
}

void
lk_pool_submit(struct lk_pool *pool, void (*fill)(void *, void *), void *ctx)
{
	unsigned int i;

	pthread_mutex_lock(&pool->done_lock);
	for (;;) {
		for (i = 0; i < pool->nb_workers; i++) {
			struct lk_worker *w = &pool->w[i];

			if (!w->done)
				continue;
			w->done = false;
			if (w->has_result)
				pool->p.done(w->data, pool->p.cb_arg);
			fill(w->data, ctx);
			w->has_result = true;
			pthread_mutex_lock(&w->mutex);
			w->pending = true;
			pthread_cond_signal(&w->cond);
			pthread_mutex_unlock(&w->mutex);
			pthread_mutex_unlock(&pool->done_lock);
			return;
		}
		pthread_cond_wait(&pool->done_cond, &pool->done_lock);
	}
}

void
lk_pool_flush(struct lk_pool *pool)
{
	unsigned int i;

	for (i = 0; i < pool->nb_workers; i++) {
		struct lk_worker *w = &pool->w[i];

		pthread_mutex_lock(&pool->done_lock);
		while (!w->done)
			pthread_cond_wait(&pool->done_cond, &pool->done_lock);
		pthread_mutex_unlock(&pool->done_lock);
		if (w->has_result) {
			pool->p.done(w->data, pool->p.cb_arg);
			w->has_result = false;
		}
	}
}

void
lk_pool_destroy(struct lk_pool *pool)
{
	unsigned int i;

	lk_pool_flush(pool);
	for (i = 0; i < pool->nb_workers; i++) {
		struct lk_worker *w = &pool->w[i];

		pthread_mutex_lock(&w->mutex);
		w->quit = true;
		pthread_cond_signal(&w->cond);
		pthread_mutex_unlock(&w->mutex);
		rte_eal_wait_lcore(w->lcore_id);
		rte_free(w->data);
	}
	rte_free(pool);
}

uint64_t
lk_pool_busy_cycles(const struct lk_pool *pool, unsigned int w)
{
	return __atomic_load_n(&pool->w[w].busy_cycles, __ATOMIC_RELAXED);
}

uint64_t
lk_pool_handled(const struct lk_pool *pool, unsigned int w)
{
	return __atomic_load_n(&pool->w[w].handled, __ATOMIC_RELAXED);
}
