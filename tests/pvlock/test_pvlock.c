/* SPDX-License-Identifier: BSD-3-Clause */
/* lib/pvlock: mutual exclusion under contention (exact non-atomic count) for
 * both locks with PV off and on, trylock semantics, bad input, counters, and
 * (debug builds) the refusal of an unlock by a non-holder.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_pause.h>

#include <vmp_pvlock.h>

#include "vmp_test.h"
#include "vmp_test_wait.h"

#define STRESS_SECONDS 2 /* per lock variant */
/* and at least this many lock hand-offs in all, however long a loaded host
 * takes: the count checks exclusion only if enough of them happened */
#define STRESS_MIN_DONE 1000

struct stress {
	int queue; /* 0 ticket, 1 queued */
	int pv;
	uint32_t spin;
	uint32_t iters;	   /* per lcore, at most */
	uint64_t deadline; /* timer cycles: stop starting new iterations */
};

static struct vmp_pvlock_ticket tlock;
static struct vmp_pvlock_q qlock;
static struct stress cur;
static uint64_t shared_count; /* non-atomic on purpose */
static uint32_t arrived;
static uint64_t done[RTE_MAX_LCORE]; /* iterations each lcore completed */
static uint32_t stopping; /* past the deadline: check every iteration */

/* Past the deadline, and enough done by all lcores together. */
static int
stress_stop(uint32_t i)
{
	uint64_t total = 0;
	unsigned int lc;

	if (rte_get_timer_cycles() <= cur.deadline)
		return 0;
	/* an lcore preempted in its 64 iterations stops at its next one */
	__atomic_store_n(&stopping, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&done[rte_lcore_id()], i, __ATOMIC_RELAXED);
	RTE_LCORE_FOREACH (lc)
		total += __atomic_load_n(&done[lc], __ATOMIC_RELAXED);
	return total >= STRESS_MIN_DONE;
}

static int
stress_worker(void *arg __rte_unused)
{
	uint32_t i;

	/* start together, or lcores launched late run alone */
	__atomic_fetch_add(&arrived, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(&arrived, __ATOMIC_ACQUIRE) < rte_lcore_count())
		rte_pause();
	for (i = 0; i < cur.iters; i++) {
		uint64_t v;

		/* the time cap keeps oversubscribed PV-off runs (a scheduler
		 * slice per hand-off to a preempted waiter) bounded; the
		 * count stays exact whatever the number done
		 */
		if (((i & 63) == 0 ||
		     __atomic_load_n(&stopping, __ATOMIC_RELAXED)) &&
		    stress_stop(i))
			break;
		if (cur.queue)
			vmp_pvlock_q_lock(&qlock);
		else
			vmp_pvlock_ticket_lock(&tlock);
		/* read-modify-write in three steps: a second holder shows as
		 * a lost update
		 */
		v = *(volatile uint64_t *)&shared_count;
		rte_pause(); /* widen the window a second holder would hit */
		rte_pause();
		*(volatile uint64_t *)&shared_count = v + 1;
		if (cur.queue)
			vmp_pvlock_q_unlock(&qlock);
		else
			vmp_pvlock_ticket_unlock(&tlock);
	}
	done[rte_lcore_id()] = i;
	return 0;
}

static int
run_stress(const struct stress *s, const char *what, int oversub)
{
	unsigned int n = rte_lcore_count();
	struct vmp_pvlock_stats st0, st1;
	enum vmp_pvlock_type type =
		s->queue ? VMP_PVLOCK_QUEUE : VMP_PVLOCK_TICKET;
	uint64_t t0 = rte_get_timer_cycles(), ms, total = 0;
	unsigned int lc, lcores[VMP_TEST_WAIT_MAX_THREADS], nl = 0;
	struct vmp_test_watchdog wd;

	cur = *s;
	cur.deadline = t0 + STRESS_SECONDS * rte_get_timer_hz();
	memset(done, 0, sizeof(done));
	stopping = 0;
	shared_count = 0;
	arrived = 0;
	if (s->queue)
		TEST_ASSERT_SUCCESS(vmp_pvlock_q_init(&qlock, s->pv, s->spin),
				    "q init");
	else
		TEST_ASSERT_SUCCESS(
			vmp_pvlock_ticket_init(&tlock, s->pv, s->spin),
			"ticket init");
	vmp_pvlock_stats_get(type, &st0);
	/* every contender may block in the lock: a control thread watches
	 * the count for a lost wake-up (all asleep, nothing counted) */
	RTE_LCORE_FOREACH (lc)
		if (nl < RTE_DIM(lcores))
			lcores[nl++] = lc;
	vmp_test_wait_lcores(&wd.w, what, lcores, nl, 5000);
	TEST_ASSERT_SUCCESS(vmp_test_watchdog_start(&wd, &shared_count),
			    "watchdog");
	rte_eal_mp_remote_launch(stress_worker, NULL, SKIP_MAIN);
	stress_worker(NULL);
	rte_eal_mp_wait_lcore();
	vmp_test_watchdog_stop(&wd);
	ms = (rte_get_timer_cycles() - t0) * 1000 / rte_get_timer_hz();
	vmp_pvlock_stats_get(type, &st1);
	RTE_LCORE_FOREACH (lc)
		total += done[lc];
	printf("    %-22s %u lcores, %" PRIu64 " of %" PRIu64
	       " done in %" PRIu64 " ms, slowpath %" PRIu64 " halts %" PRIu64
	       "/%" PRIu64 " kicks %" PRIu64 "/%" PRIu64 " spurious %" PRIu64
	       "\n",
	       what, n, total, (uint64_t)n * s->iters, ms,
	       st1.slowpath - st0.slowpath, st1.halt_waiter - st0.halt_waiter,
	       st1.halt_head - st0.halt_head, st1.kick - st0.kick,
	       st1.kick_nohalt - st0.kick_nohalt, st1.spurious - st0.spurious);
	fflush(stdout);
	TEST_ASSERT_EQUAL_U64(shared_count, total, "%s: lost updates", what);
	TEST_ASSERT(total >= 1000, "%s: only %" PRIu64 " done", what, total);
	/* lock is free again */
	if (s->queue) {
		TEST_ASSERT_EQUAL(vmp_pvlock_q_trylock(&qlock), 1, "%s", what);
		vmp_pvlock_q_unlock(&qlock);
	} else {
		TEST_ASSERT_EQUAL(vmp_pvlock_ticket_trylock(&tlock), 1, "%s",
				  what);
		vmp_pvlock_ticket_unlock(&tlock);
	}
	RTE_SET_USED(oversub);
	return TEST_SUCCESS;
}

/* Iterations per lcore: oversubscribed PV-off locks hand over to preempted
 * waiters (a scheduler slice each), so they get far fewer.
 */
static uint32_t
iters_for(int pv, int oversub)
{
	const char *e = getenv("VMP_PVLOCK_STRESS_ITERS");

	if (e != NULL)
		return (uint32_t)strtoul(e, NULL, 0);
	RTE_SET_USED(pv);
	return oversub ? 50000 : 100000;
}

static int
stress_all(void)
{
	int oversub = rte_lcore_count() > 2;
	static const struct {
		int queue, pv;
		uint32_t spin;
		const char *name;
	} v[] = {
		{0, 0, 0, "ticket PV off"},
		{0, 1, 0, "ticket PV on"},
		{0, 1, 16, "ticket PV on, spin 16"},
		{1, 0, 0, "queue PV off"},
		{1, 1, 0, "queue PV on"},
		{1, 1, 16, "queue PV on, spin 16"},
	};
	unsigned int i;

	if (rte_lcore_count() < 2)
		return TEST_SKIPPED;
	for (i = 0; i < RTE_DIM(v); i++) {
		struct stress s = {
			.queue = v[i].queue,
			.pv = v[i].pv,
			.spin = v[i].spin,
			.iters = iters_for(v[i].pv, oversub),
		};

		if (run_stress(&s, v[i].name, oversub) != TEST_SUCCESS)
			return TEST_FAILED;
	}
	return TEST_SUCCESS;
}

static struct vmp_test_suite stress_suite = {
	.name = "pvlock stress",
	.cases =
		{
			TEST_CASE(stress_all),
			TEST_CASES_END(),
		},
};

static int
test_pvlock_stress(void)
{
	return vmp_test_suite_run(&stress_suite);
}

/* -l 0-1: one lcore per core; --lcores (0-7)@(0-1): 8 on 2 */
REGISTER_TEST_COMMAND(pvlock_stress_pinned_autotest, test_pvlock_stress);
REGISTER_TEST_COMMAND(pvlock_stress_oversub_autotest, test_pvlock_stress);

/* ---- trylock, init, counters, debug ---- */

static uint32_t remote_result;

static int
remote_trylock(void *arg)
{
	if (*(int *)arg)
		remote_result = vmp_pvlock_q_trylock(&qlock);
	else
		remote_result = vmp_pvlock_ticket_trylock(&tlock);
	if (remote_result) {
		if (*(int *)arg)
			vmp_pvlock_q_unlock(&qlock);
		else
			vmp_pvlock_ticket_unlock(&tlock);
	}
	return 0;
}

static int
remote_try(int queue)
{
	unsigned int lc = rte_get_next_lcore(-1, 1, 0);

	remote_result = 99;
	rte_eal_remote_launch(remote_trylock, &queue, lc);
	rte_eal_wait_lcore(lc);
	return remote_result;
}

static int
test_trylock(void)
{
	int pv;

	for (pv = 0; pv <= 1; pv++) {
		TEST_ASSERT_SUCCESS(vmp_pvlock_ticket_init(&tlock, pv, 0), "");
		TEST_ASSERT_SUCCESS(vmp_pvlock_q_init(&qlock, pv, 0), "");
		/* free: taken; held: refused, by us and by another lcore */
		TEST_ASSERT_EQUAL(vmp_pvlock_ticket_trylock(&tlock), 1, "");
		TEST_ASSERT_EQUAL(vmp_pvlock_ticket_trylock(&tlock), 0, "");
		TEST_ASSERT_EQUAL(remote_try(0), 0, "ticket pv %d", pv);
		vmp_pvlock_ticket_unlock(&tlock);
		TEST_ASSERT_EQUAL(remote_try(0), 1, "ticket pv %d", pv);
		TEST_ASSERT_EQUAL(vmp_pvlock_ticket_trylock(&tlock), 1, "");
		vmp_pvlock_ticket_unlock(&tlock);

		TEST_ASSERT_EQUAL(vmp_pvlock_q_trylock(&qlock), 1, "");
		TEST_ASSERT_EQUAL(vmp_pvlock_q_trylock(&qlock), 0, "");
		TEST_ASSERT_EQUAL(remote_try(1), 0, "queue pv %d", pv);
		vmp_pvlock_q_unlock(&qlock);
		TEST_ASSERT_EQUAL(remote_try(1), 1, "queue pv %d", pv);
		/* lock then trylock by the same lcore: no recursion */
		vmp_pvlock_q_lock(&qlock);
		TEST_ASSERT_EQUAL(vmp_pvlock_q_trylock(&qlock), 0, "");
		vmp_pvlock_q_unlock(&qlock);
		vmp_pvlock_ticket_lock(&tlock);
		TEST_ASSERT_EQUAL(vmp_pvlock_ticket_trylock(&tlock), 0, "");
		vmp_pvlock_ticket_unlock(&tlock);
	}
	return TEST_SUCCESS;
}

static uint32_t waiter_has_ticket;

static int
ticket_waiter(void *arg __rte_unused)
{
	__atomic_store_n(&waiter_has_ticket, 1, __ATOMIC_RELEASE);
	vmp_pvlock_ticket_lock(&tlock);
	vmp_pvlock_ticket_unlock(&tlock);
	return 0;
}

static int
q_waiter(void *arg __rte_unused)
{
	__atomic_store_n(&waiter_has_ticket, 1, __ATOMIC_RELEASE);
	vmp_pvlock_q_lock(&qlock);
	vmp_pvlock_q_unlock(&qlock);
	return 0;
}

static int
test_trylock_waiter_queued(void)
{
	unsigned int lc = rte_get_next_lcore(-1, 1, 0);

	/* a ticket trylock fails while someone waits, even at the instant
	 * the lock is released (FIFO: the waiter's ticket is next)
	 */
	TEST_ASSERT_SUCCESS(vmp_pvlock_ticket_init(&tlock, 1, 64), "");
	vmp_pvlock_ticket_lock(&tlock);
	waiter_has_ticket = 0;
	rte_eal_remote_launch(ticket_waiter, NULL, lc);
	while (!__atomic_load_n(&waiter_has_ticket, __ATOMIC_ACQUIRE))
		;
	usleep(20000); /* it took a ticket, spun 64 and halted */
	TEST_ASSERT_EQUAL(vmp_pvlock_ticket_trylock(&tlock), 0, "");
	vmp_pvlock_ticket_unlock(&tlock);
	rte_eal_wait_lcore(lc);
	TEST_ASSERT_EQUAL(vmp_pvlock_ticket_trylock(&tlock), 1, "");
	vmp_pvlock_ticket_unlock(&tlock);
	return TEST_SUCCESS;
}

static int
test_bad_input(void)
{
	struct vmp_pvlock_stats st;

	TEST_ASSERT_EQUAL(vmp_pvlock_ticket_init(NULL, 0, 0), -EINVAL, "");
	TEST_ASSERT_EQUAL(vmp_pvlock_q_init(NULL, 1, 0), -EINVAL, "");
	TEST_ASSERT_EQUAL(vmp_pvlock_ticket_init(&tlock, 2, 0), -EINVAL, "");
	TEST_ASSERT_EQUAL(vmp_pvlock_q_init(&qlock, -1, 0), -EINVAL, "");
	TEST_ASSERT_EQUAL(vmp_pvlock_stats_get(VMP_PVLOCK_NB_TYPES, &st),
			  -EINVAL, "");
	TEST_ASSERT_EQUAL(vmp_pvlock_stats_get(VMP_PVLOCK_QUEUE, NULL), -EINVAL,
			  "");
	TEST_ASSERT_EQUAL(vmp_pvlock_stats_lcore_get(VMP_PVLOCK_QUEUE,
						     RTE_MAX_LCORE, &st),
			  -EINVAL, "");
	TEST_ASSERT_EQUAL(
		vmp_pvlock_stats_lcore_get(VMP_PVLOCK_NB_TYPES, 0, &st),
		-EINVAL, "");
	TEST_ASSERT_SUCCESS(vmp_pvlock_stats_lcore_get(VMP_PVLOCK_QUEUE,
						       rte_lcore_id(), &st),
			    "");
	TEST_ASSERT_NULL(vmp_pvlock_type_name(VMP_PVLOCK_NB_TYPES), "");
	TEST_ASSERT_STR_EQUAL(vmp_pvlock_type_name(VMP_PVLOCK_QUEUE), "queue",
			      "");
	return TEST_SUCCESS;
}

/* the waiter (spin 64) counts its halt just before the futex call; poll for
 * it rather than sleep a fixed time on a loaded machine
 */
static int
wait_halted(enum vmp_pvlock_type type)
{
	struct vmp_pvlock_stats st;
	int i;

	for (i = 0; i < 10000; i++) {
		vmp_pvlock_stats_get(type, &st);
		if (st.halt_head + st.halt_waiter > 0)
			return 1;
		usleep(1000);
	}
	return 0;
}

static int
test_counters_halt_kick(void)
{
	unsigned int lc = rte_get_next_lcore(-1, 1, 0);
	struct vmp_pvlock_stats st;

	/* a PV ticket waiter halts (spin 64) while we hold the lock; our
	 * unlock must count one kick and one measured wake-up
	 */
	vmp_pvlock_stats_reset();
	TEST_ASSERT_SUCCESS(vmp_pvlock_ticket_init(&tlock, 1, 64), "");
	vmp_pvlock_ticket_lock(&tlock);
	waiter_has_ticket = 0;
	rte_eal_remote_launch(ticket_waiter, NULL, lc);
	TEST_ASSERT(wait_halted(VMP_PVLOCK_TICKET),
		    "ticket waiter never halted");
	vmp_pvlock_ticket_unlock(&tlock);
	rte_eal_wait_lcore(lc);
	TEST_ASSERT_SUCCESS(vmp_pvlock_stats_get(VMP_PVLOCK_TICKET, &st), "");
	TEST_ASSERT_EQUAL_U64(st.slowpath, 1, "");
	TEST_ASSERT_EQUAL_U64(st.halt_head, 1, "next in line halted once");
	TEST_ASSERT_EQUAL_U64(st.kick, 1, "");
	TEST_ASSERT_EQUAL_U64(st.wakes, 1, "");
	TEST_ASSERT(st.kick_wake_ns_avg > 0 && st.kick_wake_ns_avg < 1000000000,
		    "latency %" PRIu64 " ns", st.kick_wake_ns_avg);
	TEST_ASSERT_EQUAL_U64(st.steal, 0, "");
	/* the same with the queued lock: the head halts, unlock kicks */
	TEST_ASSERT_SUCCESS(vmp_pvlock_q_init(&qlock, 1, 64), "");
	vmp_pvlock_q_lock(&qlock);
	waiter_has_ticket = 0;
	rte_eal_remote_launch(q_waiter, NULL, lc);
	TEST_ASSERT(wait_halted(VMP_PVLOCK_QUEUE), "queue head never halted");
	TEST_ASSERT_EQUAL(vmp_pvlock_q_trylock(&qlock), 0, "queued waiter");
	vmp_pvlock_q_unlock(&qlock);
	rte_eal_wait_lcore(lc);
	TEST_ASSERT_SUCCESS(vmp_pvlock_stats_get(VMP_PVLOCK_QUEUE, &st), "");
	TEST_ASSERT_EQUAL_U64(st.slowpath, 1, "");
	TEST_ASSERT_EQUAL_U64(st.halt_head, 1, "the queue head halted once");
	TEST_ASSERT_EQUAL_U64(st.kick, 1, "");
	TEST_ASSERT_EQUAL_U64(st.wakes, 1, "");
	TEST_ASSERT_EQUAL(vmp_pvlock_q_trylock(&qlock), 1, "free again");
	vmp_pvlock_q_unlock(&qlock);
	return TEST_SUCCESS;
}

#ifdef VMP_DEBUG_CHECKS
static int
remote_unlock(void *arg)
{
	if (*(int *)arg)
		vmp_pvlock_q_unlock(&qlock);
	else
		vmp_pvlock_ticket_unlock(&tlock);
	return 0;
}
#endif

/* Built with -Ddebug_checks=true only; tests/pvlock/pvlock_debug.sh checks
 * the abort of a default debug build.
 */
static int
test_debug_bad_unlock(void)
{
#ifdef VMP_DEBUG_CHECKS
	unsigned int lc = rte_get_next_lcore(-1, 1, 0);
	uint64_t bad0 = vmp_pvlock_debug_bad_unlocks();
	int queue;

	vmp_pvlock_debug_abort_set(0);
	for (queue = 0; queue <= 1; queue++) {
		TEST_ASSERT_SUCCESS(vmp_pvlock_ticket_init(&tlock, 1, 0), "");
		TEST_ASSERT_SUCCESS(vmp_pvlock_q_init(&qlock, 1, 0), "");
		if (queue)
			vmp_pvlock_q_lock(&qlock);
		else
			vmp_pvlock_ticket_lock(&tlock);
		rte_eal_remote_launch(remote_unlock, &queue, lc);
		rte_eal_wait_lcore(lc);
		TEST_ASSERT_EQUAL_U64(vmp_pvlock_debug_bad_unlocks(),
				      bad0 + queue + 1, "not caught");
		/* refused: still held */
		TEST_ASSERT_EQUAL(remote_try(queue), 0, "unlocked anyway");
		if (queue)
			vmp_pvlock_q_unlock(&qlock);
		else
			vmp_pvlock_ticket_unlock(&tlock);
		TEST_ASSERT_EQUAL(remote_try(queue), 1, "holder's unlock");
	}
	vmp_pvlock_debug_abort_set(1);
	return TEST_SUCCESS;
#else
	printf("    not a debug_checks build\n");
	return TEST_SKIPPED;
#endif
}

static struct vmp_test_suite pvlock_suite = {
	.name = "pvlock API",
	.cases =
		{
			TEST_CASE(test_trylock),
			TEST_CASE(test_trylock_waiter_queued),
			TEST_CASE(test_bad_input),
			TEST_CASE(test_counters_halt_kick),
			TEST_CASE(test_debug_bad_unlock),
			TEST_CASES_END(),
		},
};

static int
test_pvlock(void)
{
	if (rte_lcore_count() < 2)
		return TEST_SKIPPED;
	return vmp_test_suite_run(&pvlock_suite);
}

REGISTER_TEST_COMMAND(pvlock_autotest, test_pvlock);
