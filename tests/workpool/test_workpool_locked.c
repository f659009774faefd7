/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The locked baseline (lib/workpool vmp_workpool_locked.h): what its two
 * users (the workpool benchmark and lib/migrate's locked model) rely on:
 * parameter checks, worker_init/uninit on the worker lcore, every job
 * handled once and its done callback run once with the handler's result,
 * get(0) returning NULL while every worker is busy, get(1) not waiting for
 * jobs only the caller can put, destroy refused while anything is in
 * flight, and the counters.
 */
#include <errno.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_pause.h>

#include <vmp_workpool.h>
#include <vmp_workpool_locked.h>

#include "test_workpool.h"
#include "vmp_test.h"
#include "vmp_test_wait.h"

/* CPU time the workers may burn without finishing a job */
#define LK_CPU_MS 5000

#define LK_JOBS 20000u
#define LK_MAX_W 4u

struct lk_job {
	uint64_t seq;
	uint64_t result;
	uint32_t block; /* the handler waits for lk_release */
	unsigned int worker;
	unsigned int lcore;
	uint32_t tag; /* set by init */
};

static struct {
	uint8_t seen[LK_JOBS];
	unsigned int init_lcore[LK_MAX_W];
	unsigned int nb_init, nb_uninit, nb_winit, nb_wuninit;
	uint64_t done, bad;
	int winit_rc;
	uint32_t release;
} lk;

static int
lk_init(void *data, unsigned int idx, void *arg __rte_unused)
{
	((struct lk_job *)data)->tag = 0xabc0 + idx;
	lk.nb_init++;
	return 0;
}

static void
lk_uninit(void *data __rte_unused, void *arg __rte_unused)
{
	lk.nb_uninit++;
}

static int
lk_winit(unsigned int w, void *arg __rte_unused)
{
	if (lk.winit_rc != 0)
		return lk.winit_rc;
	lk.init_lcore[w] = rte_lcore_id();
	__atomic_fetch_add(&lk.nb_winit, 1, __ATOMIC_RELAXED);
	return 0;
}

static void
lk_wuninit(unsigned int w __rte_unused, void *arg __rte_unused)
{
	__atomic_fetch_add(&lk.nb_wuninit, 1, __ATOMIC_RELAXED);
}

static void
lk_handler(void *data, unsigned int w, void *arg __rte_unused)
{
	struct lk_job *j = data;

	while (j->block && !__atomic_load_n(&lk.release, __ATOMIC_ACQUIRE))
		rte_pause();
	j->result = j->seq * 3 + 1;
	j->worker = w;
	j->lcore = rte_lcore_id();
}

static void
lk_done(void *data, void *arg __rte_unused)
{
	struct lk_job *j = data;

	lk.done++;
	if (j->seq < LK_JOBS)
		lk.seen[j->seq]++;
	if (j->result != j->seq * 3 + 1 || j->worker >= LK_MAX_W ||
	    j->lcore != lk.init_lcore[j->worker] || (j->tag & ~0xfu) != 0xabc0)
		lk.bad++;
}

static void
lk_params(struct vmp_pool_params *p, unsigned int nw)
{
	memset(p, 0, sizeof(*p));
	p->name = "lk_test";
	p->nb_workers = nw;
	p->req_size = sizeof(struct lk_job);
	p->socket_id = SOCKET_ID_ANY;
	p->init = lk_init;
	p->uninit = lk_uninit;
	p->handler = lk_handler;
	p->done = lk_done;
	p->worker_init = lk_winit;
	p->worker_uninit = lk_wuninit;
}

static int
lk_invalid(unsigned int nw)
{
	struct vmp_pool_params p;
	struct vmp_pool_stats st;
	struct vmp_workpool_locked *pool;

	TEST_ASSERT(vmp_workpool_locked_create(NULL) == NULL &&
			    rte_errno == EINVAL,
		    "NULL params");
	lk_params(&p, 0);
	TEST_ASSERT(vmp_workpool_locked_create(&p) == NULL &&
			    rte_errno == EINVAL,
		    "0 workers");
	lk_params(&p, 1);
	p.handler = NULL;
	TEST_ASSERT(vmp_workpool_locked_create(&p) == NULL &&
			    rte_errno == EINVAL,
		    "NULL handler");
	lk_params(&p, rte_lcore_count());
	TEST_ASSERT(vmp_workpool_locked_create(&p) == NULL &&
			    rte_errno == EBUSY,
		    "more workers than idle lcores");
	TEST_ASSERT(vmp_workpool_locked_get(NULL, 1) == NULL, "get NULL");
	TEST_ASSERT_EQUAL(vmp_workpool_locked_put(NULL, &p), -EINVAL, "put");
	TEST_ASSERT_EQUAL(vmp_workpool_locked_poll(NULL), -EINVAL, "poll");
	TEST_ASSERT_EQUAL(vmp_workpool_locked_drain(NULL), -EINVAL, "drain");
	TEST_ASSERT_EQUAL(vmp_workpool_locked_stats_get(NULL, &st), -EINVAL,
			  "stats");
	TEST_ASSERT_EQUAL(vmp_workpool_locked_destroy(NULL), 0, "destroy");

	/* a failing worker_init fails create with its errno, frees lcores */
	lk_params(&p, nw);
	lk.winit_rc = -ENOTSUP;
	pool = vmp_workpool_locked_create(&p);
	lk.winit_rc = 0;
	TEST_ASSERT(pool == NULL && rte_errno == ENOTSUP,
		    "worker_init error: %d", rte_errno);
	TEST_ASSERT_EQUAL(lk.nb_init, lk.nb_uninit, "init/uninit paired");
	pool = vmp_workpool_locked_create(&p);
	TEST_ASSERT(pool != NULL, "lcores free again: %d", rte_errno);
	TEST_ASSERT_EQUAL(vmp_workpool_locked_destroy(pool), 0, "destroy");
	return TEST_SUCCESS;
}

static uint64_t
lk_handled(const struct vmp_workpool_locked *pool, unsigned int nw)
{
	struct vmp_pool_stats st;
	uint64_t n = 0;
	unsigned int i;

	vmp_workpool_locked_stats_get(pool, &st);
	for (i = 0; i < nw; i++)
		n += st.worker[i].handled;
	return n;
}

/* Every job handled once, done once with the handler's result. */
static int
lk_exactly_once(struct vmp_workpool_locked *pool, unsigned int nw)
{
	struct vmp_pool_stats st;
	struct vmp_test_wait w;
	struct lk_job *j;
	unsigned int i, n = 0;

	lk.done = 0;
	/* a job done is progress: the bound is per job, not per run */
	vmp_test_wait_init(&w, "locked exactly_once", LK_CPU_MS);
	while (n < LK_JOBS) {
		/* both kinds of get, as the benchmark (1) and migrate (0) */
		j = vmp_workpool_locked_get(pool, n & 1);
		if (j == NULL) {
			TEST_ASSERT(!(n & 1), "get(1) returned NULL");
			vmp_workpool_locked_poll(pool);
			TEST_ASSERT(vmp_test_wait_check(&w, n + lk.done) == 0,
				    "stuck at %u: %s", n, w.verdict);
			continue;
		}
		j->seq = n++;
		j->block = 0;
		TEST_ASSERT_EQUAL(vmp_workpool_locked_put(pool, j), 0, "put");
	}
	vmp_workpool_locked_drain(pool);
	TEST_ASSERT_EQUAL(lk.done, LK_JOBS, "done callbacks");
	TEST_ASSERT_EQUAL(lk.bad, 0, "wrong result/worker/lcore/tag");
	for (i = 0; i < LK_JOBS; i++)
		TEST_ASSERT_EQUAL(lk.seen[i], 1, "job %u seen %u times", i,
				  lk.seen[i]);
	TEST_ASSERT_EQUAL(vmp_workpool_locked_stats_get(pool, &st), 0, "stats");
	TEST_ASSERT_EQUAL(st.nb_workers, nw, "nb_workers");
	TEST_ASSERT_EQUAL(st.submitted, LK_JOBS, "submitted");
	TEST_ASSERT_EQUAL(st.completed, LK_JOBS, "completed");
	TEST_ASSERT_EQUAL(st.in_flight, 0, "in flight");
	for (i = 0; i < nw; i++)
		TEST_ASSERT_EQUAL(st.worker[i].lcore_id, lk.init_lcore[i],
				  "worker %u lcore", i);
	TEST_ASSERT_EQUAL(lk_handled(pool, nw), LK_JOBS, "handled");
	return TEST_SUCCESS;
}

/* Held and running jobs: get(0) NULL, get(1) not stuck, destroy refused. */
static int
lk_in_flight(struct vmp_workpool_locked *pool, unsigned int nw)
{
	struct lk_job *held[LK_MAX_W], *j;
	struct vmp_pool_stats st;
	struct vmp_test_wait w;
	uint64_t full0;
	unsigned int i;
	int n;

	for (i = 0; i < nw; i++) {
		held[i] = vmp_workpool_locked_get(pool, 0);
		TEST_ASSERT(held[i] != NULL, "get %u", i);
		held[i]->seq = LK_JOBS + i;
		held[i]->block = 1;
	}
	vmp_workpool_locked_stats_get(pool, &st);
	full0 = st.submit_full;
	TEST_ASSERT(vmp_workpool_locked_get(pool, 0) == NULL, "all held");
	TEST_ASSERT(vmp_workpool_locked_get(pool, 1) == NULL,
		    "get(1) with every job held must not wait");
	vmp_workpool_locked_stats_get(pool, &st);
	TEST_ASSERT_EQUAL(st.submit_full, full0 + 2, "submit_full");
	TEST_ASSERT_EQUAL(st.in_flight, nw, "in flight");
	TEST_ASSERT_EQUAL(vmp_workpool_locked_destroy(pool), -EBUSY,
			  "destroy with held jobs");
	TEST_ASSERT_EQUAL(vmp_workpool_locked_put(pool, (char *)held[0] + 64),
			  -EINVAL, "foreign pointer");
	for (i = 0; i < nw; i++)
		TEST_ASSERT_EQUAL(vmp_workpool_locked_put(pool, held[i]), 0,
				  "put");
	TEST_ASSERT_EQUAL(vmp_workpool_locked_put(pool, held[0]), -EINVAL,
			  "put twice");
	/* workers blocked in the handler: no idle one, destroy refused */
	TEST_ASSERT(vmp_workpool_locked_get(pool, 0) == NULL, "all running");
	TEST_ASSERT_EQUAL(vmp_workpool_locked_destroy(pool), -EBUSY,
			  "destroy with running jobs");
	TEST_ASSERT_EQUAL(lk.done, LK_JOBS, "no done ran early");
	__atomic_store_n(&lk.release, 1, __ATOMIC_RELEASE);
	/* finished (or about to be): refused until harvested */
	vmp_test_wait_init(&w, "locked blocked jobs", LK_CPU_MS);
	while (lk_handled(pool, nw) < LK_JOBS + nw) {
		TEST_ASSERT(vmp_test_wait_check(&w, lk_handled(pool, nw)) == 0,
			    "not handled: %s", w.verdict);
		rte_pause();
	}
	TEST_ASSERT_EQUAL(vmp_workpool_locked_destroy(pool), -EBUSY,
			  "destroy with unharvested results");
	for (n = 0; n < (int)nw;) {
		TEST_ASSERT(vmp_test_wait_check(&w, LK_JOBS + nw + n) == 0,
			    "not finished: %s", w.verdict);
		n += vmp_workpool_locked_poll(pool);
	}
	TEST_ASSERT_EQUAL(n, (int)nw, "poll");
	TEST_ASSERT_EQUAL(lk.done, LK_JOBS + nw, "done of the blocked jobs");
	j = vmp_workpool_locked_get(pool, 1);
	TEST_ASSERT(j != NULL, "idle again");
	j->seq = LK_JOBS + nw;
	j->block = 0;
	vmp_workpool_locked_put(pool, j);
	TEST_ASSERT_EQUAL(vmp_workpool_locked_drain(pool), 1, "drain");
	TEST_ASSERT_EQUAL(lk.bad, 0, "results");
	return TEST_SUCCESS;
}

int
test_locked_baseline(void)
{
	struct vmp_pool_params p;
	struct vmp_workpool_locked *pool;
	unsigned int nw = RTE_MIN(rte_lcore_count() - 1, LK_MAX_W);
	int rc;

	if (nw == 0)
		return TEST_SKIPPED;
	memset(&lk, 0, sizeof(lk));
	rc = lk_invalid(nw);
	if (rc != TEST_SUCCESS)
		return rc;
	memset(&lk, 0, sizeof(lk));
	lk_params(&p, nw);
	pool = vmp_workpool_locked_create(&p);
	TEST_ASSERT(pool != NULL, "create: %d", rte_errno);
	TEST_ASSERT_EQUAL(lk.nb_init, nw, "one job per worker");
	TEST_ASSERT_EQUAL(lk.nb_winit, nw,
			  "worker_init ran before create "
			  "returned");
	rc = lk_exactly_once(pool, nw);
	if (rc == TEST_SUCCESS)
		rc = lk_in_flight(pool, nw);
	__atomic_store_n(&lk.release, 1, __ATOMIC_RELEASE);
	if (rc != TEST_SUCCESS) {
		vmp_workpool_locked_drain(pool);
		vmp_workpool_locked_destroy(pool);
		return rc;
	}
	TEST_ASSERT_EQUAL(vmp_workpool_locked_destroy(pool), 0, "destroy");
	TEST_ASSERT_EQUAL(lk.nb_uninit, nw, "uninit per job");
	TEST_ASSERT_EQUAL(lk.nb_wuninit, nw, "worker_uninit per worker");
	return TEST_SUCCESS;
}
