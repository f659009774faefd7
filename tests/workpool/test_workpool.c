/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/workpool behaviour: parameter checks, exactly-once handling and
 * completion under both dispatch policies (run with more worker lcores than
 * cores), the sleep/wake race, a stuck worker, destroy with requests in
 * flight, per-worker init, counters and telemetry.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_pause.h>
#include <rte_random.h>

#include <vmp_workpool.h>

#include "test_workpool.h"
#include "vmp_test.h"
#include "vmp_test_wait.h"

/* CPU time the workers may burn without completing a request */
#define WP_CPU_MS 5000

struct seq_req {
	uint64_t seq;
	uint64_t result;
	uint32_t worker;
	uint32_t stick; /* handler spins until release is set */
};

static struct {
	uint32_t *handled; /* per sequence number, by the handlers */
	uint32_t *done;	   /* per sequence number, by done callbacks */
	uint64_t nb_seq;
	uint64_t errors; /* done callback saw a bad request */
	uint64_t per_worker[VMP_POOL_MAX_WORKERS];
	uint32_t release;
	uint64_t nb_handled; /* progress, for vmp_test_wait */
	uint64_t nb_done;
} T;

/* A pool whose destroy was refused after a failed case: its workers may
 * still write T's arrays, so they are never freed after that. */
static struct vmp_pool *leaked_pool;

static uint64_t
seq_result(uint64_t seq)
{
	return (seq * 0x9e3779b97f4a7c15ull) ^ 0x5a5a;
}

static void
seq_handler(void *data, unsigned int worker, void *arg __rte_unused)
{
	struct seq_req *r = data;

	while (r->stick && !__atomic_load_n(&T.release, __ATOMIC_ACQUIRE))
		sched_yield();
	if (r->seq < T.nb_seq)
		__atomic_fetch_add(&T.handled[r->seq], 1, __ATOMIC_RELAXED);
	r->result = seq_result(r->seq);
	r->worker = worker;
	__atomic_fetch_add(&T.nb_handled, 1, __ATOMIC_RELAXED);
}

static void
seq_done(void *data, void *arg __rte_unused)
{
	struct seq_req *r = data;

	/* The done ring's release/acquire makes the handler's writes visible.
	 */
	if (r->seq >= T.nb_seq || r->result != seq_result(r->seq) ||
	    T.handled[r->seq] != 1) {
		T.errors++;
		return;
	}
	T.done[r->seq]++;
	T.nb_done++;
	T.per_worker[r->worker]++;
	r->stick = 0;
}

static uint64_t
seq_progress(void)
{
	return __atomic_load_n(&T.nb_handled, __ATOMIC_RELAXED) + T.nb_done;
}

static int
seq_setup(uint64_t n)
{
	if (leaked_pool != NULL) {
		printf("    a pool of an earlier failed case still runs\n");
		return -EBUSY;
	}
	rte_free(T.handled);
	rte_free(T.done);
	memset(&T, 0, sizeof(T));
	T.handled = rte_zmalloc(NULL, n * sizeof(uint32_t), 0);
	T.done = rte_zmalloc(NULL, n * sizeof(uint32_t), 0);
	T.nb_seq = n;
	return T.handled != NULL && T.done != NULL ? 0 : -ENOMEM;
}

static void
seq_params(struct vmp_pool_params *p, enum vmp_pool_dispatch d,
	   unsigned int nb_workers)
{
	memset(p, 0, sizeof(*p));
	p->nb_workers = nb_workers;
	p->req_size = sizeof(struct seq_req);
	p->dispatch = d;
	p->spin_polls = 64; /* halt often: exercises the sleep/wake path */
	p->socket_id = SOCKET_ID_ANY;
	p->handler = seq_handler;
	p->done = seq_done;
}

static unsigned int
nb_worker_lcores(void)
{
	return RTE_MIN(rte_lcore_count() - 1,
		       (unsigned int)VMP_POOL_MAX_WORKERS);
}

/*
 * Prepare, fill with @p seq, commit. On a full pool: waits until @p deadline
 * (an expected stall: UINT64_MAX for none), or until @p w gives up on the
 * workers (lost wake-up, no progress, starved).
 */
static int
submit_seq(struct vmp_pool *pool, uint64_t seq, uint64_t deadline,
	   struct vmp_test_wait *w)
{
	struct vmp_pool_req *req;
	struct seq_req *r;

	while ((req = vmp_pool_submit_prepare(pool)) == NULL) {
		if (rte_get_timer_cycles() > deadline) {
			vmp_pool_dump(stdout, pool);
			return -ETIMEDOUT;
		}
		if (w != NULL && vmp_test_wait_check(w, seq_progress()) != 0) {
			vmp_pool_dump(stdout, pool);
			return -ETIMEDOUT;
		}
		/* yield: with more lcores than cores, the worker we wait for
		 * may be queued behind us on this core */
		if (vmp_pool_poll_done(pool, 0) == 0)
			sched_yield();
	}
	r = vmp_pool_req_data(req);
	r->seq = seq;
	r->result = 0;
	r->stick = 0;
	return vmp_pool_submit_commit(pool, req);
}

/* Harvest until nothing is in flight; a lost wake-up fails instead of hanging
 * (vmp_pool_wait_done() itself has no timeout). */
static int
drain(struct vmp_pool *pool, const char *what)
{
	struct vmp_test_wait w;

	vmp_test_wait_init(&w, what, WP_CPU_MS);
	while (vmp_pool_in_flight(pool) != 0) {
		if (vmp_test_wait_check(&w, seq_progress()) != 0)
			return -ETIMEDOUT;
		if (vmp_pool_poll_done(pool, 0) == 0)
			sched_yield();
	}
	return 0;
}

/* Wait until the handlers ran @p n requests in all, before a call that
 * blocks without a bound (vmp_pool_wait_done()). */
static int
wait_handled(uint64_t n, const char *what)
{
	struct vmp_test_wait w;

	vmp_test_wait_init(&w, what, WP_CPU_MS);
	while (__atomic_load_n(&T.nb_handled, __ATOMIC_RELAXED) < n) {
		if (vmp_test_wait_check(&w, seq_progress()) != 0)
			return -ETIMEDOUT;
		sched_yield();
	}
	return 0;
}

/*
 * After a failed case: unstick, drain and destroy @p pool, so the next case
 * starts with free lcores. A pool that still refuses is left running (and
 * T's arrays with it): later cases then fail at setup instead of crashing.
 */
static void
pool_cleanup(struct vmp_pool *pool)
{
	__atomic_store_n(&T.release, 1, __ATOMIC_RELEASE);
	if (drain(pool, "cleanup after a failed case") != 0 ||
	    vmp_pool_destroy(pool) != 0) {
		vmp_pool_dump(stdout, pool);
		leaked_pool = pool;
		vmp_test_threads_leaked();
	}
}

static int
test_invalid_params(void)
{
	struct vmp_pool_params p;
	unsigned int l[2];

	TEST_ASSERT_NULL(vmp_pool_create(NULL), "NULL params");
	TEST_ASSERT_EQUAL(rte_errno, EINVAL, "NULL params");

	seq_params(&p, VMP_POOL_DISPATCH_ROUND_ROBIN, 0);
	TEST_ASSERT_NULL(vmp_pool_create(&p), "0 workers");
	TEST_ASSERT_EQUAL(rte_errno, EINVAL, "0 workers");

	seq_params(&p, VMP_POOL_DISPATCH_ROUND_ROBIN, VMP_POOL_MAX_WORKERS + 1);
	TEST_ASSERT_NULL(vmp_pool_create(&p), "too many workers");
	TEST_ASSERT_EQUAL(rte_errno, EINVAL, "too many workers");

	seq_params(&p, VMP_POOL_DISPATCH_ROUND_ROBIN, 1);
	p.ring_size = 3;
	TEST_ASSERT_NULL(vmp_pool_create(&p), "ring size 3");
	TEST_ASSERT_EQUAL(rte_errno, EINVAL, "ring size 3");
	p.ring_size = 6;
	TEST_ASSERT_NULL(vmp_pool_create(&p), "ring size 6");
	TEST_ASSERT_EQUAL(rte_errno, EINVAL, "ring size 6");
	p.ring_size = VMP_POOL_RING_SIZE_MAX * 2;
	TEST_ASSERT_NULL(vmp_pool_create(&p), "ring size too big");
	TEST_ASSERT_EQUAL(rte_errno, EINVAL, "ring size too big");

	seq_params(&p, VMP_POOL_DISPATCH_ROUND_ROBIN, 1);
	p.handler = NULL;
	TEST_ASSERT_NULL(vmp_pool_create(&p), "NULL handler");
	TEST_ASSERT_EQUAL(rte_errno, EINVAL, "NULL handler");
	seq_params(&p, VMP_POOL_DISPATCH_ROUND_ROBIN, 1);
	p.done = NULL;
	TEST_ASSERT_NULL(vmp_pool_create(&p), "NULL done");
	TEST_ASSERT_EQUAL(rte_errno, EINVAL, "NULL done");

	seq_params(&p, VMP_POOL_DISPATCH_ROUND_ROBIN, 1);
	p.dispatch = (enum vmp_pool_dispatch)7;
	TEST_ASSERT_NULL(vmp_pool_create(&p), "bad dispatch");
	TEST_ASSERT_EQUAL(rte_errno, EINVAL, "bad dispatch");

	seq_params(&p, VMP_POOL_DISPATCH_ROUND_ROBIN, 1);
	l[0] = rte_get_main_lcore();
	p.lcores = l;
	TEST_ASSERT_NULL(vmp_pool_create(&p), "main lcore as worker");
	TEST_ASSERT_EQUAL(rte_errno, EINVAL, "main lcore as worker");
	l[0] = RTE_MAX_LCORE + 3;
	TEST_ASSERT_NULL(vmp_pool_create(&p), "lcore out of range");
	TEST_ASSERT_EQUAL(rte_errno, EINVAL, "lcore out of range");
	if (nb_worker_lcores() >= 1) {
		l[0] = l[1] = rte_get_next_lcore(-1, 1, 0);
		p.nb_workers = 2;
		TEST_ASSERT_NULL(vmp_pool_create(&p), "lcore listed twice");
		TEST_ASSERT_EQUAL(rte_errno, EINVAL, "lcore listed twice");
	}

	seq_params(&p, VMP_POOL_DISPATCH_ROUND_ROBIN, nb_worker_lcores() + 1);
	TEST_ASSERT_NULL(vmp_pool_create(&p), "more workers than lcores");
	TEST_ASSERT_EQUAL(rte_errno, EBUSY, "more workers than lcores");

	seq_params(&p, VMP_POOL_DISPATCH_ROUND_ROBIN, 1);
	p.name = "a-name-that-is-much-longer-than-31-characters";
	TEST_ASSERT_NULL(vmp_pool_create(&p), "long name");
	TEST_ASSERT_EQUAL(rte_errno, EINVAL, "long name");

	/* NULL handles and foreign requests on the other entry points */
	TEST_ASSERT_NULL(vmp_pool_submit_prepare(NULL), "prepare(NULL)");
	TEST_ASSERT_EQUAL(vmp_pool_submit_commit(NULL, NULL), -EINVAL, "");
	TEST_ASSERT_EQUAL(vmp_pool_poll_done(NULL, 1), -EINVAL, "");
	TEST_ASSERT_EQUAL(vmp_pool_wait_done(NULL), -EINVAL, "");
	TEST_ASSERT_EQUAL(vmp_pool_stats_get(NULL, NULL), -EINVAL, "");
	TEST_ASSERT_EQUAL(vmp_pool_destroy(NULL), 0, "destroy(NULL)");
	return TEST_SUCCESS;
}

static int
bad_request(struct vmp_pool *pool, void *arg __rte_unused)
{
	struct vmp_pool_req *req;
	uint64_t junk[16] = {0};

	TEST_ASSERT_EQUAL(vmp_pool_submit_commit(pool, (void *)&junk[8]),
			  -EINVAL, "foreign request");
	req = vmp_pool_submit_prepare(pool);
	TEST_ASSERT_NOT_NULL(req, "prepare on an idle pool");
	TEST_ASSERT_EQUAL(
		vmp_pool_submit_commit(pool, (void *)((char *)req + 8)),
		-EINVAL, "misaligned request");
	((struct seq_req *)vmp_pool_req_data(req))->seq = 0;
	TEST_ASSERT_SUCCESS(vmp_pool_submit_commit(pool, req), "commit");
	TEST_ASSERT_EQUAL(vmp_pool_submit_commit(pool, req), -EINVAL,
			  "double commit");
	TEST_ASSERT_EQUAL(vmp_pool_submit_abort(pool, req), -EINVAL,
			  "abort after commit");
	TEST_ASSERT_SUCCESS(wait_handled(1, "bad_request"), "handled");
	TEST_ASSERT_EQUAL(vmp_pool_wait_done(pool), 1, "one completion");
	TEST_ASSERT_EQUAL(T.done[0], 1, "done once");
	{
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);

		TEST_ASSERT_NOT_NULL(f, "memstream");
		TEST_ASSERT_SUCCESS(vmp_pool_dump(f, pool), "dump");
		fclose(f);
		TEST_ASSERT_STR_CONTAINS(buf, "w0 lcore", "dump lists workers");
		free(buf);
	}
	TEST_ASSERT_EQUAL(vmp_pool_dump(NULL, pool), -EINVAL, "dump(NULL)");
	return TEST_SUCCESS;
}

/* Create a pool for @p body; destroy it, or clean up after a failure. */
static int
with_pool(const struct vmp_pool_params *p,
	  int (*body)(struct vmp_pool *, void *), void *arg)
{
	struct vmp_pool *pool = vmp_pool_create(p);
	int rc;

	TEST_ASSERT_NOT_NULL(pool, "create: %d", rte_errno);
	rc = body(pool, arg);
	if (rc != TEST_SUCCESS) {
		pool_cleanup(pool);
		return rc;
	}
	TEST_ASSERT_SUCCESS(vmp_pool_destroy(pool), "destroy");
	return TEST_SUCCESS;
}

static int
test_bad_request(void)
{
	struct vmp_pool_params p;

	TEST_ASSERT_SUCCESS(seq_setup(4), "alloc");
	seq_params(&p, VMP_POOL_DISPATCH_ROUND_ROBIN, 1);
	return with_pool(&p, bad_request, NULL);
}

/*
 * Every request handled once and completed once, checked by sequence number,
 * with bursts separated by pauses long enough for workers to halt.
 */
static int
exactly_once_run(struct vmp_pool *pool, void *arg)
{
	enum vmp_pool_dispatch d = *(enum vmp_pool_dispatch *)arg;
	const uint64_t max = 200000;
	unsigned int nw = nb_worker_lcores(), i;
	struct vmp_pool_stats s;
	struct vmp_test_wait w;
	uint64_t seq, n, budget, sum = 0, hz = rte_get_timer_hz();

	/* Up to max requests in a 4 s budget, and at least 1000: the budget
	 * bounds the run time on a loaded machine; a stuck request is found
	 * by the wait's verdict on the workers, not by the clock. */
	vmp_test_wait_init(&w, "exactly_once submit", WP_CPU_MS);
	budget = rte_get_timer_cycles() + 4 * hz;
	for (seq = 0;
	     seq < max && (seq < 1000 || rte_get_timer_cycles() < budget);
	     seq++) {
		TEST_ASSERT_SUCCESS(submit_seq(pool, seq, UINT64_MAX, &w),
				    "submit %" PRIu64 ": %s", seq, w.verdict);
		if (rte_rand_max(2048) == 0) /* let the workers halt */
			rte_delay_us_sleep(200 + rte_rand_max(300));
		if (rte_rand_max(64) == 0)
			vmp_pool_poll_done(pool, 1 + rte_rand_max(8));
	}
	n = seq;
	TEST_ASSERT(n >= 1000, "only %" PRIu64 " requests in 4 s", n);
	if (drain(pool, "exactly_once drain") != 0)
		vmp_pool_dump(stdout, pool);
	TEST_ASSERT_EQUAL(vmp_pool_in_flight(pool), 0,
			  "lost wake-up: %u in flight",
			  vmp_pool_in_flight(pool));
	TEST_ASSERT_EQUAL(T.errors, 0, "done saw unhandled/corrupt requests");
	for (seq = 0; seq < max; seq++) {
		TEST_ASSERT_EQUAL(T.handled[seq], seq < n, "seq %" PRIu64, seq);
		TEST_ASSERT_EQUAL(T.done[seq], seq < n, "seq %" PRIu64, seq);
	}
	TEST_ASSERT_SUCCESS(vmp_pool_stats_get(pool, &s), "stats");
	TEST_ASSERT_EQUAL_U64(s.submitted, n, "submitted");
	TEST_ASSERT_EQUAL_U64(s.completed, n, "completed");
	TEST_ASSERT_EQUAL_U64(s.in_flight, 0, "in flight");
	printf("    %s ring %u: %" PRIu64 " requests, %u workers, per worker:",
	       d == VMP_POOL_DISPATCH_ROUND_ROBIN ? "rr" : "ll", s.ring_size, n,
	       nw);
	for (i = 0; i < nw; i++) {
		TEST_ASSERT_EQUAL_U64(s.worker[i].handled, T.per_worker[i],
				      "worker %u", i);
		sum += s.worker[i].handled;
		printf(" %" PRIu64 " (halts %" PRIu64 ")", s.worker[i].handled,
		       s.worker[i].halts);
	}
	printf(", kicks %" PRIu64 "\n", s.kicks);
	TEST_ASSERT_EQUAL_U64(sum, n, "sum of handled");
	return TEST_SUCCESS;
}

static int
exactly_once(enum vmp_pool_dispatch d, unsigned int ring_size)
{
	struct vmp_pool_params p;
	unsigned int nw = nb_worker_lcores();

	if (nw == 0)
		return TEST_SKIPPED;
	TEST_ASSERT_SUCCESS(seq_setup(200000), "alloc");
	seq_params(&p, d, nw);
	p.ring_size = ring_size;
	return with_pool(&p, exactly_once_run, &d);
}

static int
test_exactly_once_rr(void)
{
	return exactly_once(VMP_POOL_DISPATCH_ROUND_ROBIN, 0);
}

static int
test_exactly_once_ll(void)
{
	return exactly_once(VMP_POOL_DISPATCH_LEAST_LOADED, 0);
}

static int
test_exactly_once_ll_ring1(void)
{
	return exactly_once(VMP_POOL_DISPATCH_LEAST_LOADED, 1);
}

/*
 * Sleep/wake race: workers halt after a single empty poll and every request
 * is submitted alone, so the submitter's S1/S2 keep racing the worker's
 * W1/W2/W3. A lost wake-up leaves a request in a halted worker's ring: the
 * bounded wait below reports it instead of hanging.
 */
#define HALT_RACE_MAX 50000

static int
halt_race(struct vmp_pool *pool, void *arg __rte_unused)
{
	const uint64_t max = HALT_RACE_MAX;
	unsigned int nw = nb_worker_lcores(), i;
	struct vmp_pool_stats s;
	struct vmp_test_wait w;
	uint64_t seq, n, budget, halts = 0, hz = rte_get_timer_hz();

	vmp_test_wait_init(&w, "halt_race", WP_CPU_MS);
	budget = rte_get_timer_cycles() + 4 * hz;
	for (seq = 0; seq < max && rte_get_timer_cycles() < budget; seq++) {
		TEST_ASSERT_SUCCESS(submit_seq(pool, seq, UINT64_MAX, &w),
				    "submit: %s", w.verdict);
		/* vary the submitter's timing against the worker's halt */
		for (i = rte_rand_max(200); i > 0; i--)
			rte_pause();
		while (vmp_pool_in_flight(pool) != 0) {
			TEST_ASSERT(vmp_test_wait_check(&w, seq_progress()) ==
					    0,
				    "request %" PRIu64 ": %s", seq, w.verdict);
			if (vmp_pool_poll_done(pool, 0) == 0)
				sched_yield();
		}
	}
	n = seq;
	TEST_ASSERT_SUCCESS(vmp_pool_stats_get(pool, &s), "stats");
	for (i = 0; i < nw; i++)
		halts += s.worker[i].halts;
	printf("    %" PRIu64 " requests, halts %" PRIu64 ", kicks %" PRIu64
	       "\n",
	       n, halts, s.kicks);
	TEST_ASSERT_EQUAL(T.errors, 0, "corrupt completions");
	TEST_ASSERT_EQUAL_U64(s.completed, n, "completed");
	TEST_ASSERT(halts > 0 && s.kicks > 0,
		    "the race was not exercised (halts %" PRIu64
		    ", kicks %" PRIu64 ")",
		    halts, s.kicks);
	return TEST_SUCCESS;
}

static int
test_halt_race(void)
{
	struct vmp_pool_params p;
	unsigned int nw = nb_worker_lcores();

	if (nw == 0)
		return TEST_SKIPPED;
	TEST_ASSERT_SUCCESS(seq_setup(HALT_RACE_MAX), "alloc");
	seq_params(&p, VMP_POOL_DISPATCH_LEAST_LOADED, nw);
	p.spin_polls = 1;
	return with_pool(&p, halt_race, NULL);
}

/*
 * One worker stuck in its handler. Least-loaded keeps submitting to the
 * others; strict round-robin stalls when the stuck worker's turn comes and
 * its ring is full (the case a reviewer of QEMU's lockless-multithreads patch
 * raised, shown for contrast).
 */
#define STUCK_N 2000

struct stuck_arg {
	enum vmp_pool_dispatch d;
	uint64_t submitted;
};

static int
stuck_worker_run(struct vmp_pool *pool, void *arg)
{
	struct stuck_arg *a = arg;
	const uint64_t n = STUCK_N;
	/* least-loaded must get all n through (a stall fails on the wait's
	 * verdict); round-robin is expected to stall, so it gets 0.5 s */
	uint64_t deadline =
		a->d == VMP_POOL_DISPATCH_ROUND_ROBIN
			? rte_get_timer_cycles() + rte_get_timer_hz() / 2
			: UINT64_MAX;
	struct vmp_pool_req *req;
	struct vmp_test_wait w;
	struct seq_req *r;
	uint64_t seq;

	req = vmp_pool_submit_prepare(pool);
	TEST_ASSERT_NOT_NULL(req, "prepare");
	r = vmp_pool_req_data(req);
	r->seq = n; /* the stuck one */
	r->stick = 1;
	TEST_ASSERT_SUCCESS(vmp_pool_submit_commit(pool, req), "commit");

	vmp_test_wait_init(&w, "stuck_worker submit", WP_CPU_MS);
	for (seq = 0; seq < n; seq++)
		if (submit_seq(pool, seq, deadline, &w) != 0)
			break;
	a->submitted = seq;
	/* unstick, finish the rest, check everything ran once */
	__atomic_store_n(&T.release, 1, __ATOMIC_RELEASE);
	vmp_test_wait_init(&w, "stuck_worker released", WP_CPU_MS);
	for (; seq < n; seq++)
		TEST_ASSERT_SUCCESS(submit_seq(pool, seq, UINT64_MAX, &w),
				    "submit: %s", w.verdict);
	if (drain(pool, "stuck_worker drain") != 0)
		vmp_pool_dump(stdout, pool);
	TEST_ASSERT_EQUAL(vmp_pool_in_flight(pool), 0,
			  "lost wake-up: %u in flight",
			  vmp_pool_in_flight(pool));
	TEST_ASSERT_EQUAL(T.errors, 0, "corrupt completions");
	for (seq = 0; seq <= n; seq++)
		TEST_ASSERT_EQUAL(T.done[seq], 1, "seq %" PRIu64, seq);
	return TEST_SUCCESS;
}

static int
stuck_worker(enum vmp_pool_dispatch d, uint64_t *nb_submitted)
{
	struct stuck_arg a = {.d = d};
	struct vmp_pool_params p;
	int rc;

	TEST_ASSERT_SUCCESS(seq_setup(STUCK_N + 1), "alloc");
	seq_params(&p, d, nb_worker_lcores());
	rc = with_pool(&p, stuck_worker_run, &a);
	*nb_submitted = a.submitted;
	return rc;
}

static int
test_stuck_worker(void)
{
	uint64_t ll = 0, rr = 0;

	if (nb_worker_lcores() < 2) {
		printf("    needs 2 worker lcores\n");
		return TEST_SKIPPED;
	}
	TEST_ASSERT_SUCCESS(stuck_worker(VMP_POOL_DISPATCH_LEAST_LOADED, &ll),
			    "least-loaded");
	TEST_ASSERT_SUCCESS(stuck_worker(VMP_POOL_DISPATCH_ROUND_ROBIN, &rr),
			    "round-robin");
	printf("    submitted while one worker was stuck: "
	       "least-loaded %" PRIu64 "/2000, round-robin %" PRIu64 "/2000\n",
	       ll, rr);
	TEST_ASSERT_EQUAL_U64(ll, 2000,
			      "least-loaded stalled on a stuck worker");
	TEST_ASSERT(rr < 2000, "round-robin did not stall (%" PRIu64 ")", rr);
	return TEST_SUCCESS;
}

/* destroy refuses (-EBUSY) while anything is in flight; the pool lives on. */
static int
destroy_in_flight(struct vmp_pool *pool, void *arg __rte_unused)
{
	struct vmp_pool_req *req;
	struct seq_req *r;

	req = vmp_pool_submit_prepare(pool); /* prepared, not committed */
	TEST_ASSERT_NOT_NULL(req, "prepare");
	TEST_ASSERT_EQUAL(vmp_pool_destroy(pool), -EBUSY, "prepared request");
	TEST_ASSERT_SUCCESS(vmp_pool_submit_abort(pool, req), "abort");
	TEST_ASSERT_EQUAL(vmp_pool_in_flight(pool), 0, "after abort");

	req = vmp_pool_submit_prepare(pool); /* committed, worker stuck */
	r = vmp_pool_req_data(req);
	r->seq = 0;
	r->stick = 1;
	TEST_ASSERT_SUCCESS(vmp_pool_submit_commit(pool, req), "commit");
	TEST_ASSERT_SUCCESS(submit_seq(pool, 1, UINT64_MAX, NULL), "commit 2");
	TEST_ASSERT_EQUAL(vmp_pool_destroy(pool), -EBUSY, "queued requests");
	TEST_ASSERT_EQUAL(T.done[0] + T.done[1], 0, "no done behind our back");

	__atomic_store_n(&T.release, 1, __ATOMIC_RELEASE);
	TEST_ASSERT_SUCCESS(wait_handled(2, "destroy_in_flight"), "handled");
	TEST_ASSERT_EQUAL(vmp_pool_wait_done(pool), 2, "wait_done");
	TEST_ASSERT_EQUAL(T.done[0] + T.done[1], 2, "both done once");
	return TEST_SUCCESS;
}

static int
test_destroy_in_flight(void)
{
	struct vmp_pool_params p;

	TEST_ASSERT_SUCCESS(seq_setup(8), "alloc");
	seq_params(&p, VMP_POOL_DISPATCH_LEAST_LOADED, 1);
	/* with_pool checks that destroy succeeds once idle */
	return with_pool(&p, destroy_in_flight, NULL);
}

static uint32_t wi_lcore[VMP_POOL_MAX_WORKERS];
static uint32_t wi_uninit;
static int wi_fail_on = -1;

static int
wi_init(unsigned int worker, void *arg __rte_unused)
{
	wi_lcore[worker] = rte_lcore_id();
	return (int)worker == wi_fail_on ? -ENOTSUP : 0;
}

static void
wi_uninit_cb(unsigned int worker __rte_unused, void *arg __rte_unused)
{
	__atomic_fetch_add(&wi_uninit, 1, __ATOMIC_RELAXED);
}

static int
req_count_init(void *data, unsigned int idx, void *arg)
{
	((struct seq_req *)data)->seq = idx;
	(*(unsigned int *)arg)++;
	return 0;
}

static void
req_count_uninit(void *data __rte_unused, void *arg)
{
	(*(unsigned int *)arg)--;
}

/* worker_init runs on the worker's own lcore; its failure fails create and
 * gives the lcores back; per-request init/uninit are paired. */
static int
test_worker_init(void)
{
	unsigned int nw = nb_worker_lcores(), i, l, lcores[2], nreq = 0;
	struct vmp_pool_params p;
	struct vmp_pool *pool;

	if (nw == 0)
		return TEST_SKIPPED;
	nw = RTE_MIN(nw, 2u);
	TEST_ASSERT_SUCCESS(seq_setup(1), "alloc");
	seq_params(&p, VMP_POOL_DISPATCH_ROUND_ROBIN, nw);
	i = 0;
	RTE_LCORE_FOREACH_WORKER (l) {
		if (i < nw)
			lcores[nw - 1 - i++] = l; /* reversed: order is ours */
	}
	p.lcores = lcores;
	p.worker_init = wi_init;
	p.worker_uninit = wi_uninit_cb;
	p.init = req_count_init;
	p.uninit = req_count_uninit;
	p.cb_arg = &nreq;
	p.ring_size = 8;
	p.name = "wi_test";
	wi_uninit = 0;
	wi_fail_on = -1;
	pool = vmp_pool_create(&p);
	TEST_ASSERT_NOT_NULL(pool, "create: %d", rte_errno);
	TEST_ASSERT_EQUAL(nreq, nw * 8, "init per request");
	for (i = 0; i < nw; i++)
		TEST_ASSERT_EQUAL(wi_lcore[i], lcores[i], "worker %u lcore", i);
	TEST_ASSERT_NULL(vmp_pool_create(&p), "second pool, lcores busy");
	TEST_ASSERT(rte_errno == EBUSY || rte_errno == EEXIST, "errno %d",
		    rte_errno);
	TEST_ASSERT_SUCCESS(vmp_pool_destroy(pool), "destroy");
	TEST_ASSERT_EQUAL(nreq, 0, "uninit per request");
	TEST_ASSERT_EQUAL(wi_uninit, nw, "worker_uninit per worker");

	wi_fail_on = (int)nw - 1;
	TEST_ASSERT_NULL(vmp_pool_create(&p), "worker_init fails");
	TEST_ASSERT_EQUAL(rte_errno, ENOTSUP, "worker_init errno");
	TEST_ASSERT_EQUAL(nreq, 0, "requests unwound");
	for (i = 0; i < nw; i++)
		TEST_ASSERT_EQUAL(rte_eal_get_lcore_state(lcores[i]), WAIT,
				  "lcore %u given back", lcores[i]);
	wi_fail_on = -1;
	pool = vmp_pool_create(&p);
	TEST_ASSERT_NOT_NULL(pool, "create again: %d", rte_errno);
	TEST_ASSERT_SUCCESS(vmp_pool_destroy(pool), "destroy");
	return TEST_SUCCESS;
}

static struct vmp_test_suite workpool_suite = {
	.name = "workpool",
	.cases =
		{
			TEST_CASE(test_invalid_params),
			TEST_CASE(test_bad_request),
			TEST_CASE(test_destroy_in_flight),
			TEST_CASE(test_worker_init),
			TEST_CASE(test_exactly_once_rr),
			TEST_CASE(test_exactly_once_ll),
			TEST_CASE(test_exactly_once_ll_ring1),
			TEST_CASE(test_halt_race),
			TEST_CASE(test_stuck_worker),
			TEST_CASE(test_counters_telemetry),
			TEST_CASE(test_no_syscall_when_awake),
			TEST_CASE(test_locked_baseline),
			TEST_CASES_END(),
		},
};

static int
workpool_autotest(void)
{
	int rc = vmp_test_suite_run(&workpool_suite);

	if (leaked_pool != NULL)
		return TEST_FAILED; /* its workers may still use T */
	rte_free(T.handled);
	rte_free(T.done);
	T.handled = T.done = NULL;
	return rc;
}

REGISTER_TEST_COMMAND(workpool_autotest, workpool_autotest);
/* the same suite, registered again for a one-worker-per-core entry */
REGISTER_TEST_COMMAND(workpool_1w_autotest, workpool_autotest);
