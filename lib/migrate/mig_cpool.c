/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The compression worker front: one small interface over three back ends so
 * the source and destination code does not care which runs their jobs:
 *   - lockless: lib/workpool (vmp_pool_*), the model under test;
 *   - locked:   lib/workpool's locked baseline (vmp_workpool_locked_*), the
 *               model QEMU's compression threads used before the
 *               lockless-multithreads patch;
 *   - inline:   no workers, the job runs on the caller (nb_workers 0).
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_pause.h>

#include <vmp_workpool.h>
#include <vmp_workpool_locked.h>

#include "mig_pvt.h"

/* Bounds of the sleep of a submitter waiting for room (lockless). */
#define MIG_WAIT_SLEEP_MIN_US 20u
#define MIG_WAIT_SLEEP_MAX_US 1000u

/* Each worker's job time, for the submitter's sleep: written by that worker
 * only, read (approximately, no ordering needed) by the submitter. */
struct mig_wtime {
	uint64_t cycles;
	uint64_t jobs;
} __rte_cache_aligned;

struct mig_cpool {
	struct mig_cpool_params p;
	struct vmp_pool *pool;		    /* lockless */
	struct vmp_workpool_locked *locked; /* locked */
	void *inline_job;		    /* inline */
	uint64_t busy;			    /* get() found no room */
	uint64_t t0;
	struct mig_wtime wt[VMP_MIG_MAX_WORKERS];
};

static void
pool_handler(void *data, unsigned int worker, void *arg)
{
	struct mig_cpool *cp = arg;
	uint64_t t = rte_get_tsc_cycles();

	cp->p.handler(data, worker, cp->p.arg);
	if (worker < VMP_MIG_MAX_WORKERS) {
		struct mig_wtime *w = &cp->wt[worker];

		/* single writer; relaxed stores keep the reader's loads whole
		 */
		__atomic_store_n(&w->cycles,
				 w->cycles + rte_get_tsc_cycles() - t,
				 __ATOMIC_RELAXED);
		__atomic_store_n(&w->jobs, w->jobs + 1, __ATOMIC_RELAXED);
	}
}

/*
 * How long a submitter that found every ring full sleeps: a quarter of a
 * ring's worth of jobs at the measured job time (32 deflated pages of
 * ~50 us: 400 us). Sleeping for one job's worth (the old fixed 50 us) woke the
 * submitter once per page, and each wake-up preempts the worker that shares
 * its CPU: in a VM that cost the worker 15-20 % of its pages
 * (migrate_perf_autotest, a worker on the submitter's CPU).
 */
static unsigned int
wait_sleep_us(const struct mig_cpool *cp)
{
	uint64_t cyc = 0, jobs = 0;
	unsigned int i, ring = cp->p.ring_size ? cp->p.ring_size
					       : MIG_RING_SIZE_DEFAULT;
	double us;

	for (i = 0; i < cp->p.nb_workers && i < VMP_MIG_MAX_WORKERS; i++) {
		cyc += __atomic_load_n(&cp->wt[i].cycles, __ATOMIC_RELAXED);
		jobs += __atomic_load_n(&cp->wt[i].jobs, __ATOMIC_RELAXED);
	}
	if (jobs == 0)
		return MIG_WAIT_SLEEP_MIN_US;
	us = (double)cyc / jobs * 1e6 / rte_get_tsc_hz() * ring / 4;
	if (us < MIG_WAIT_SLEEP_MIN_US)
		return MIG_WAIT_SLEEP_MIN_US;
	return us > MIG_WAIT_SLEEP_MAX_US ? MIG_WAIT_SLEEP_MAX_US
					  : (unsigned int)us;
}

static void
pool_done(void *data, void *arg)
{
	struct mig_cpool *cp = arg;

	cp->p.done(data, cp->p.arg);
}

static int
pool_winit(unsigned int worker, void *arg)
{
	struct mig_cpool *cp = arg;

	return cp->p.worker_init ? cp->p.worker_init(worker, cp->p.arg) : 0;
}

static void
pool_wuninit(unsigned int worker, void *arg)
{
	struct mig_cpool *cp = arg;

	if (cp->p.worker_uninit)
		cp->p.worker_uninit(worker, cp->p.arg);
}

struct mig_cpool *
mig_cpool_create(const struct mig_cpool_params *p)
{
	struct vmp_pool_params pp;
	struct mig_cpool *cp;
	int rc;

	cp = rte_zmalloc("mig_cpool", sizeof(*cp), RTE_CACHE_LINE_SIZE);
	if (cp == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	cp->p = *p;
	cp->t0 = rte_get_tsc_cycles();
	if (p->nb_workers == 0) {
		cp->inline_job = rte_zmalloc("mig_job", p->job_size, 64);
		if (cp->inline_job == NULL) {
			rc = ENOMEM;
			goto out_free;
		}
		if (p->worker_init && p->worker_init(0, p->arg) != 0) {
			rc = ENOMEM;
			goto out_free_job;
		}
		return cp;
	}
	memset(&pp, 0, sizeof(pp));
	pp.name = p->name;
	pp.nb_workers = p->nb_workers;
	pp.lcores = p->lcores;
	pp.req_size = p->job_size;
	pp.socket_id = SOCKET_ID_ANY;
	if (p->model == VMP_MIG_MODEL_LOCKED) {
		/* one job per worker, no ring, no spinning: the caller's
		 * callbacks directly, as QEMU's compression threads ran them */
		pp.handler = p->handler;
		pp.done = p->done;
		pp.worker_init = p->worker_init;
		pp.worker_uninit = p->worker_uninit;
		pp.cb_arg = p->arg;
		cp->locked = vmp_workpool_locked_create(&pp);
		if (cp->locked == NULL) {
			rc = rte_errno;
			MIG_LOG(ERR, "cannot create the %s locked workers: %s",
				p->name, rte_strerror(rc));
			goto out_free;
		}
		return cp;
	}
	/* deeper than the pool's default 4: a submitter descheduled for a
	 * time slice (2 shared cores) must not leave the workers idle */
	pp.ring_size = p->ring_size ? p->ring_size : MIG_RING_SIZE_DEFAULT;
	pp.dispatch = VMP_POOL_DISPATCH_LEAST_LOADED;
	pp.spin_polls = p->spin_polls;
	pp.handler = pool_handler;
	pp.done = pool_done;
	pp.worker_init = pool_winit;
	pp.worker_uninit = pool_wuninit;
	pp.cb_arg = cp;
	cp->pool = vmp_pool_create(&pp);
	if (cp->pool == NULL) {
		rc = rte_errno;
		MIG_LOG(ERR, "cannot create the %s worker pool: %s", p->name,
			rte_strerror(rc));
		goto out_free;
	}
	return cp;

out_free_job:
	rte_free(cp->inline_job);
out_free:
	rte_free(cp);
	rte_errno = rc;
	return NULL;
}

void *
mig_cpool_get(struct mig_cpool *cp)
{
	struct vmp_pool_req *req;
	void *job;

	if (cp->inline_job != NULL)
		return cp->inline_job;
	if (cp->locked != NULL) {
		job = vmp_workpool_locked_get(cp->locked, 0);
		if (job == NULL)
			cp->busy++;
		return job;
	}
	req = vmp_pool_submit_prepare(cp->pool);
	if (req == NULL) {
		cp->busy++;
		return NULL;
	}
	return vmp_pool_req_data(req);
}

/* Blocking get: the lockless pool is polled, spinning a little and then
 * sleeping (2 cores are shared by everyone); the locked model waits on its
 * condition variable, as QEMU's migration thread did. */
void *
mig_cpool_get_wait(struct mig_cpool *cp, const volatile bool *stop)
{
	struct vmp_pool_req *req;
	unsigned int spins = 0;
	void *job = mig_cpool_get(cp);

	if (job != NULL)
		return job;
	if (cp->locked != NULL)
		return vmp_workpool_locked_get(cp->locked, 1);
	for (;;) {
		if (stop != NULL && *stop)
			return NULL;
		vmp_pool_poll_done(cp->pool, 0);
		req = vmp_pool_submit_prepare(cp->pool);
		if (req != NULL)
			return vmp_pool_req_data(req);
		/* A short spin, then sleep: every ring holds ~32 pages of
		 * work (1-2 ms), and on shared cores a spinning or
		 * sched_yield()ing submitter takes CPU from the workers it
		 * waits for (seen: 51 % CPU for the migration thread). */
		if (++spins < 64)
			rte_pause();
		else
			rte_delay_us_sleep(wait_sleep_us(cp));
	}
}

void
mig_cpool_put(struct mig_cpool *cp, void *job)
{
	if (cp->inline_job != NULL) {
		cp->p.handler(job, 0, cp->p.arg);
		cp->p.done(job, cp->p.arg);
		return;
	}
	if (cp->locked != NULL) {
		vmp_workpool_locked_put(cp->locked, job);
		return;
	}
	vmp_pool_submit_commit(cp->pool, vmp_pool_req_from_data(job));
}

int
mig_cpool_poll(struct mig_cpool *cp)
{
	if (cp->inline_job != NULL)
		return 0;
	if (cp->locked != NULL)
		return vmp_workpool_locked_poll(cp->locked);
	return vmp_pool_poll_done(cp->pool, 0);
}

void
mig_cpool_drain(struct mig_cpool *cp)
{
	if (cp->inline_job != NULL)
		return;
	if (cp->locked != NULL)
		vmp_workpool_locked_drain(cp->locked);
	else
		vmp_pool_wait_done(cp->pool);
}

void
mig_cpool_destroy(struct mig_cpool *cp)
{
	if (cp == NULL)
		return;
	if (cp->inline_job != NULL) {
		if (cp->p.worker_uninit)
			cp->p.worker_uninit(0, cp->p.arg);
		rte_free(cp->inline_job);
	} else if (cp->locked != NULL) {
		vmp_workpool_locked_drain(cp->locked);
		if (vmp_workpool_locked_destroy(cp->locked) < 0)
			MIG_LOG(ERR, "locked workers %s not destroyed (busy)",
				cp->p.name);
	} else {
		vmp_pool_wait_done(cp->pool);
		if (vmp_pool_destroy(cp->pool) < 0)
			MIG_LOG(ERR, "pool %s not destroyed (busy)",
				cp->p.name);
	}
	rte_free(cp);
}

uint64_t
mig_cpool_busy_count(const struct mig_cpool *cp)
{
	return cp->busy;
}

unsigned int
mig_cpool_worker_busy(const struct mig_cpool *cp, double *pct,
		      unsigned int *lcores, unsigned int max)
{
	struct vmp_pool_stats st;
	uint64_t el = rte_get_tsc_cycles() - cp->t0;
	unsigned int i;

	if (cp->inline_job != NULL)
		return 0;
	if (cp->locked != NULL
		    ? vmp_workpool_locked_stats_get(cp->locked, &st) < 0
		    : vmp_pool_stats_get(cp->pool, &st) < 0)
		return 0;
	for (i = 0; i < st.nb_workers && i < max; i++) {
		pct[i] = el ? 100.0 * (double)st.worker[i].busy_cycles / el : 0;
		lcores[i] = st.worker[i].lcore_id;
	}
	return i;
}
