/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The locked model: what the seed replaced (QEMU's compress threads before
 * 2018), kept to measure against. One global "done" lock and condition
 * variable, and per worker a mutex, a condition variable and exactly ONE
 * pending request:
 *
 *   submitter                              worker i
 *   lock(done_lock)                        lock(w.mutex)
 *   find w with w.idle (else wait on       while !w.has_req: wait(w.cond)
 *     done_cond, still holding nothing     w.has_req = false; unlock
 *     else); harvest w's last result      handler(job)
 *   w.idle = false; unlock(done_lock)     lock(done_lock)
 *   lock(w.mutex); w.has_req = true;       w.idle = true; w.result = true
 *   signal(w.cond); unlock(w.mutex)        signal(done_cond); unlock
 *
 * Every hand-off takes two locks and, when the peer sleeps, a futex wake; the
 * submitter sleeps whenever no worker is idle. That is the cost the lockless
 * pool removes.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "mig_pvt.h"

#define LK_HDR 64

struct lk_worker {
	pthread_mutex_t mutex;
	pthread_cond_t cond;
	bool has_req; /* under mutex */
	bool quit;    /* under mutex */
	bool idle;    /* under done_lock: may take a request */
	bool result;  /* under done_lock: finished job not harvested */
	uint8_t *buf; /* LK_HDR bytes (worker index) + the job */
	unsigned int idx;
	unsigned int lcore;
	struct mig_locked *l;
	uint64_t busy_cycles;
	int init_rc;
	volatile bool started;
} __rte_cache_aligned;

struct mig_locked {
	struct mig_cpool_params p;
	pthread_mutex_t done_lock;
	pthread_cond_t done_cond;
	uint64_t t0;
	unsigned int nb;
	struct lk_worker w[VMP_MIG_MAX_WORKERS];
};

static int
lk_worker_main(void *arg)
{
	struct lk_worker *w = arg;
	struct mig_locked *l = w->l;
	uint64_t t;

	w->init_rc = l->p.worker_init ? l->p.worker_init(w->idx, l->p.arg) : 0;
	w->started = true;
	if (w->init_rc != 0)
		return w->init_rc;
	pthread_mutex_lock(&w->mutex);
	for (;;) {
		while (!w->has_req && !w->quit)
			pthread_cond_wait(&w->cond, &w->mutex);
		if (w->has_req) {
			w->has_req = false;
			pthread_mutex_unlock(&w->mutex);
			t = rte_get_tsc_cycles();
			l->p.handler(w->buf + LK_HDR, w->idx, l->p.arg);
			w->busy_cycles += rte_get_tsc_cycles() - t;
			pthread_mutex_lock(&l->done_lock);
			w->idle = true;
			w->result = true;
			pthread_cond_signal(&l->done_cond);
			pthread_mutex_unlock(&l->done_lock);
			pthread_mutex_lock(&w->mutex);
			continue;
		}
		break; /* quit and nothing pending */
	}
	pthread_mutex_unlock(&w->mutex);
	if (l->p.worker_uninit)
		l->p.worker_uninit(w->idx, l->p.arg);
	return 0;
}

static void
lk_stop(struct mig_locked *l, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct lk_worker *w = &l->w[i];

		pthread_mutex_lock(&w->mutex);
		w->quit = true;
		pthread_cond_signal(&w->cond);
		pthread_mutex_unlock(&w->mutex);
		rte_eal_wait_lcore(w->lcore);
	}
}

struct mig_locked *
mig_locked_create(const struct mig_cpool_params *p)
{
	struct mig_locked *l;
	unsigned int i, lc = 0, self = rte_lcore_id();
	int rc = 0;

	if (p->nb_workers == 0 || p->nb_workers > VMP_MIG_MAX_WORKERS) {
		rte_errno = EINVAL;
		return NULL;
	}
	l = rte_zmalloc("mig_locked", sizeof(*l), RTE_CACHE_LINE_SIZE);
	if (l == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	l->p = *p;
	pthread_mutex_init(&l->done_lock, NULL);
	pthread_cond_init(&l->done_cond, NULL);
	for (i = 0; i < p->nb_workers; i++) {
		struct lk_worker *w = &l->w[i];

		if (p->lcores != NULL) {
			lc = p->lcores[i];
		} else {
			/* the next idle worker lcore that is not us */
			lc = rte_get_next_lcore(i == 0 ? (unsigned int)-1 : lc,
						1, 0);
			while (lc < RTE_MAX_LCORE &&
			       (lc == self ||
				rte_eal_get_lcore_state(lc) != WAIT))
				lc = rte_get_next_lcore(lc, 1, 0);
		}
		if (lc >= RTE_MAX_LCORE || !rte_lcore_is_enabled(lc) ||
		    lc == rte_get_main_lcore() ||
		    rte_eal_get_lcore_state(lc) != WAIT) {
			MIG_LOG(ERR,
				"locked model: no idle lcore for worker %u", i);
			rc = EBUSY;
			break;
		}
		w->buf = rte_zmalloc_socket("mig_lk_job", LK_HDR + p->job_size,
					    64, rte_lcore_to_socket_id(lc));
		if (w->buf == NULL) {
			rc = ENOMEM;
			break;
		}
		*(unsigned int *)w->buf = i;
		w->idx = i;
		w->lcore = lc;
		w->l = l;
		w->idle = true;
		pthread_mutex_init(&w->mutex, NULL);
		pthread_cond_init(&w->cond, NULL);
		if (rte_eal_remote_launch(lk_worker_main, w, lc) != 0) {
			rte_free(w->buf);
			rc = EBUSY;
			break;
		}
		while (!w->started)
			sched_yield();
		if (w->init_rc != 0) {
			rte_eal_wait_lcore(lc);
			rte_free(w->buf);
			rc = ENOMEM;
			break;
		}
		l->nb++;
	}
	if (rc != 0) {
		lk_stop(l, l->nb);
		for (i = 0; i < l->nb; i++)
			rte_free(l->w[i].buf);
		rte_free(l);
		rte_errno = rc;
		return NULL;
	}
	l->t0 = rte_get_tsc_cycles();
	return l;
}

/* Under done_lock: run the done callback of every finished job. */
static int
lk_harvest(struct mig_locked *l)
{
	unsigned int i;
	int n = 0;

	for (i = 0; i < l->nb; i++) {
		if (l->w[i].result) {
			l->w[i].result = false;
			l->p.done(l->w[i].buf + LK_HDR, l->p.arg);
			n++;
		}
	}
	return n;
}

void *
mig_locked_get(struct mig_locked *l, bool wait)
{
	unsigned int i;
	void *job = NULL;

	pthread_mutex_lock(&l->done_lock);
	for (;;) {
		for (i = 0; i < l->nb; i++) {
			struct lk_worker *w = &l->w[i];

			if (!w->idle)
				continue;
			if (w->result) {
				/* as the seed: send the last result under the
				 * global lock */
				w->result = false;
				l->p.done(w->buf + LK_HDR, l->p.arg);
			}
			w->idle = false;
			job = w->buf + LK_HDR;
			break;
		}
		if (job != NULL || !wait)
			break;
		pthread_cond_wait(&l->done_cond, &l->done_lock);
	}
	pthread_mutex_unlock(&l->done_lock);
	return job;
}

void
mig_locked_put(struct mig_locked *l, void *job)
{
	unsigned int i = *(unsigned int *)((uint8_t *)job - LK_HDR);
	struct lk_worker *w = &l->w[i];

	pthread_mutex_lock(&w->mutex);
	w->has_req = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->mutex);
}

int
mig_locked_poll(struct mig_locked *l)
{
	int n;

	pthread_mutex_lock(&l->done_lock);
	n = lk_harvest(l);
	pthread_mutex_unlock(&l->done_lock);
	return n;
}

void
mig_locked_drain(struct mig_locked *l)
{
	unsigned int i;

	pthread_mutex_lock(&l->done_lock);
	for (;;) {
		for (i = 0; i < l->nb; i++)
			if (!l->w[i].idle)
				break;
		if (i == l->nb)
			break;
		pthread_cond_wait(&l->done_cond, &l->done_lock);
	}
	lk_harvest(l);
	pthread_mutex_unlock(&l->done_lock);
}

void
mig_locked_destroy(struct mig_locked *l)
{
	unsigned int i;

	if (l == NULL)
		return;
	lk_stop(l, l->nb);
	for (i = 0; i < l->nb; i++) {
		pthread_mutex_destroy(&l->w[i].mutex);
		pthread_cond_destroy(&l->w[i].cond);
		rte_free(l->w[i].buf);
	}
	pthread_mutex_destroy(&l->done_lock);
	pthread_cond_destroy(&l->done_cond);
	rte_free(l);
}

unsigned int
mig_locked_worker_busy(const struct mig_locked *l, double *pct,
		       unsigned int *lcores, unsigned int max)
{
	uint64_t el = rte_get_tsc_cycles() - l->t0;
	unsigned int i;

	for (i = 0; i < l->nb && i < max; i++) {
		pct[i] = el ? 100.0 * (double)l->w[i].busy_cycles / el : 0;
		lcores[i] = l->w[i].lcore;
	}
	return i;
}
