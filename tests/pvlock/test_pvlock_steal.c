/* SPDX-License-Identifier: BSD-3-Clause */
/* lib/pvlock: the starvation bound of the queued PV lock. Lcores outside the
 * queue may steal the lock ahead of the queue head, running or halted, but
 * between two acquisitions by a head at most steal_max + (n - 1) times (the
 * budget, plus one per other lcore whose read of the budget raced its end;
 * vmp_pvlock_q_steal_max_set()). The lock counts the steals of every turn of
 * the head and keeps the largest (steal_run_max); each budget here runs
 * SB_MS on every lcore (4 on 2 cores, spin 16 so that heads halt too) and
 * that maximum must stay within the bound, reach the budget (the budget, not
 * a lack of contention, ended the turns) and, for budget 0, no lcore may
 * steal at all. The exact count checks exclusion meanwhile. These runs turn
 * the lead bound off, so that only the budget ends a turn. A queue head
 * leaves the lock to busy stealers while the budget lasts (L4, qlock.c):
 * with the default budget it must have done so, with budget 0 never.
 *
 * The lead bound: a queue head waits while another lcore steals; that lcore
 * stops once it leads the head by lead_max slow-path acquisitions (plus one
 * per halt of the head it stole across), queues, and the head gets the lock
 * (test_lead_bound: within that many; a head woken by a kick often wins the
 * byte sooner, so this checks the bound and liveness, not that the bound is
 * what ended the wait). Under oversubscription with a budget that never runs
 * out, the bound must refuse steals (test_lead_bound_contended); with it off,
 * none is refused.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_pause.h>

#include <vmp_pvlock.h>

#include "vmp_test.h"
#include "vmp_test_wait.h"

#define SB_MS 300  /* per budget */
#define LB_LEAD 64 /* the lead bound the tests set */

static struct vmp_pvlock_q sb_lock;
static uint64_t sb_count; /* non-atomic on purpose */
static uint64_t sb_deadline;
static uint32_t sb_arrived;
static uint64_t sb_done[RTE_MAX_LCORE];

static int
sb_worker(void *arg __rte_unused)
{
	uint64_t i;

	/* start together, or lcores launched late run alone */
	__atomic_fetch_add(&sb_arrived, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(&sb_arrived, __ATOMIC_ACQUIRE) <
	       rte_lcore_count())
		rte_pause();
	for (i = 0;; i++) {
		if ((i & 63) == 0 && rte_get_timer_cycles() > sb_deadline)
			break;
		vmp_pvlock_q_lock(&sb_lock);
		*(volatile uint64_t *)&sb_count = sb_count + 1;
		vmp_pvlock_q_unlock(&sb_lock);
	}
	sb_done[rte_lcore_id()] = i;
	return 0;
}

static int
sb_run(uint32_t steal_max, uint32_t lead_max)
{
	unsigned int lc, n = rte_lcore_count(),
			 lcores[VMP_TEST_WAIT_MAX_THREADS], nl = 0;
	uint64_t total = 0, bound = steal_max + n - 1;
	struct vmp_test_watchdog wd;
	struct vmp_pvlock_stats st;

	TEST_ASSERT_SUCCESS(vmp_pvlock_q_init(&sb_lock, 1, 16), "init");
	TEST_ASSERT_SUCCESS(vmp_pvlock_q_steal_max_set(&sb_lock, steal_max),
			    "steal_max %u", steal_max);
	TEST_ASSERT_SUCCESS(vmp_pvlock_q_lead_max_set(&sb_lock, lead_max),
			    "lead_max %u", lead_max);
	sb_count = 0;
	sb_arrived = 0;
	memset(sb_done, 0, sizeof(sb_done));
	vmp_pvlock_stats_reset();
	RTE_LCORE_FOREACH (lc)
		if (nl < RTE_DIM(lcores))
			lcores[nl++] = lc;
	vmp_test_wait_lcores(&wd.w, "steal bound", lcores, nl, 5000);
	TEST_ASSERT_SUCCESS(vmp_test_watchdog_start(&wd, &sb_count),
			    "watchdog");
	sb_deadline =
		rte_get_timer_cycles() + SB_MS * rte_get_timer_hz() / 1000;
	rte_eal_mp_remote_launch(sb_worker, NULL, SKIP_MAIN);
	sb_worker(NULL);
	rte_eal_mp_wait_lcore();
	vmp_test_watchdog_stop(&wd);
	RTE_LCORE_FOREACH (lc)
		total += sb_done[lc];
	vmp_pvlock_stats_get(VMP_PVLOCK_QUEUE, &st);
	printf("    steal_max %5u: %u lcores, %" PRIu64
	       " pairs, slowpath %" PRIu64 " steals %" PRIu64 " halts %" PRIu64
	       ", most steals in one "
	       "turn of the head %" PRIu64 " (bound %" PRIu64
	       "); lead bound %u refused %" PRIu64 "; head deferred %" PRIu64
	       "\n",
	       steal_max, n, total, st.slowpath, st.steal,
	       st.halt_waiter + st.halt_head, st.steal_run_max, bound, lead_max,
	       st.lead_refused, st.head_defer);
	fflush(stdout);
	TEST_ASSERT_EQUAL_U64(sb_count, total, "steal_max %u: lost updates",
			      steal_max);
	TEST_ASSERT(st.steal_run_max <= bound,
		    "steal_max %u: a head waited through %" PRIu64
		    " steals, bound %" PRIu64,
		    steal_max, st.steal_run_max, bound);
	if (lead_max != 0) {
		/* the bound, not the budget, ends the turns here */
		TEST_ASSERT(st.lead_refused > 0,
			    "lead_max %u: no steal refused in %" PRIu64
			    " pairs",
			    lead_max, total);
		return TEST_SUCCESS;
	}
	TEST_ASSERT_EQUAL_U64(st.lead_refused, 0, "lead off: refused");
	if (steal_max == 0) {
		TEST_ASSERT_EQUAL_U64(st.steal, 0, "steal_max 0: steals");
		TEST_ASSERT_EQUAL_U64(st.head_defer, 0,
				      "steal_max 0: head deferred");
	} else {
		if (steal_max == VMP_PVLOCK_STEAL_MAX)
			TEST_ASSERT(st.head_defer > 0,
				    "steal_max %u: no head left the lock to "
				    "busy stealers in %" PRIu64 " steals",
				    steal_max, st.steal);
		TEST_ASSERT(st.steal_run_max >= steal_max,
			    "steal_max %u: no turn of the head spent the "
			    "budget (%" PRIu64 "): not enough contention to "
			    "test the bound",
			    steal_max, st.steal_run_max);
	}
	return TEST_SUCCESS;
}

static int
test_steal_budget_0(void)
{
	return sb_run(0, 0);
}

static int
test_steal_budget_16(void)
{
	return sb_run(16, 0);
}

static int
test_steal_budget_default(void)
{
	return sb_run(VMP_PVLOCK_STEAL_MAX, 0);
}

/* the lead bound under oversubscription, with a budget that never runs out:
 * it refuses steals, and the exact count holds
 */
static int
test_lead_bound_contended(void)
{
	return sb_run(VMP_PVLOCK_STEAL_MAX_LIMIT, LB_LEAD);
}

/* A per-lock knob's setter: a NULL lock and a value above @p limit are
 * refused, @p limit itself is taken and stored in @p knob of @p l.
 */
static int
knob_set_check(struct vmp_pvlock_q *l, const uint32_t *knob,
	       int (*set)(struct vmp_pvlock_q *, uint32_t), uint32_t limit)
{
	TEST_ASSERT_EQUAL(set(NULL, 1), -EINVAL, "NULL lock");
	TEST_ASSERT_SUCCESS(vmp_pvlock_q_init(l, 1, 0), "init");
	TEST_ASSERT_EQUAL(set(l, limit + 1), -EINVAL, "%u", limit + 1);
	TEST_ASSERT_SUCCESS(set(l, limit), "%u", limit);
	TEST_ASSERT_EQUAL(*knob, limit, "stored %u", *knob);
	return TEST_SUCCESS;
}

static int
test_steal_max_set_bad(void)
{
	return knob_set_check(&sb_lock, &sb_lock.steal_max,
			      vmp_pvlock_q_steal_max_set,
			      VMP_PVLOCK_STEAL_MAX_LIMIT);
}

#define LB_SLACK 16  /* steals across the head's halts (see above) */
#define LB_MAX 20000 /* the main lcore's acquisitions, at most */
#define LB_HOLD 4096 /* pauses the main lcore holds the lock (~0.1 ms) */

static struct vmp_pvlock_q lb_lock;
static uint32_t lb_got; /* the head's acquisition happened */

static int
lb_head(void *arg __rte_unused)
{
	vmp_pvlock_q_lock(&lb_lock);
	__atomic_store_n(&lb_got, 1, __ATOMIC_RELEASE);
	vmp_pvlock_q_unlock(&lb_lock);
	return 0;
}

/* The main lcore holds the lock, a worker queues as head behind it (spin 16
 * so that it halts), then the main lcore unlocks and relocks (each relock a
 * steal past the head, holding it LB_HOLD pauses) until the head has had
 * the lock. Returns its
 * acquisitions meanwhile in @p acq, or -1 if the head never queued.
 */
static int
lb_run(uint32_t lead_max, uint64_t *acq)
{
	unsigned int wlc = rte_get_next_lcore(-1, 1, 0);
	uint64_t i, end;
	unsigned int k;

	if (vmp_pvlock_q_init(&lb_lock, 1, 16) != 0 ||
	    vmp_pvlock_q_steal_max_set(&lb_lock, VMP_PVLOCK_STEAL_MAX_LIMIT) !=
		    0 ||
	    vmp_pvlock_q_lead_max_set(&lb_lock, lead_max) != 0)
		return -1;
	lb_got = 0;
	vmp_pvlock_q_lock(&lb_lock);
	if (rte_eal_remote_launch(lb_head, NULL, wlc) != 0) {
		vmp_pvlock_q_unlock(&lb_lock);
		return -1;
	}
	end = rte_get_timer_cycles() + 5 * rte_get_timer_hz();
	/* the head queued and halted (its hint published, H2): our first
	 * unlock kicks it, and its first look comes after a wake-up, not in
	 * the gap of our first relock
	 */
	while (__atomic_load_n(&lb_lock.hint, __ATOMIC_ACQUIRE) == 0 &&
	       rte_get_timer_cycles() < end)
		rte_pause();
	for (i = 0; i < LB_MAX && !__atomic_load_n(&lb_got, __ATOMIC_ACQUIRE);
	     i++) {
		vmp_pvlock_q_unlock(&lb_lock);
		vmp_pvlock_q_lock(&lb_lock);
		/* hold it, so that the head's polls find it held */
		for (k = 0; k < LB_HOLD; k++)
			rte_pause();
	}
	vmp_pvlock_q_unlock(&lb_lock);
	rte_eal_wait_lcore(wlc);
	*acq = i;
	return __atomic_load_n(&lb_got, __ATOMIC_ACQUIRE) ? 0 : -1;
}

static int
test_lead_bound(void)
{
	uint64_t acq;

	TEST_ASSERT_SUCCESS(lb_run(LB_LEAD, &acq), "head never got the lock");
	printf("    lead bound %u: the head waited through %" PRIu64
	       " acquisitions of another lcore\n",
	       LB_LEAD, acq);
	TEST_ASSERT(acq <= LB_LEAD + LB_SLACK,
		    "lead bound %u: %" PRIu64 " acquisitions past the head",
		    LB_LEAD, acq);
	return TEST_SUCCESS;
}

static int
test_lead_max_set_bad(void)
{
	return knob_set_check(&lb_lock, &lb_lock.lead_max,
			      vmp_pvlock_q_lead_max_set,
			      VMP_PVLOCK_LEAD_MAX_LIMIT);
}

static struct vmp_test_suite steal_suite = {
	.name = "pvlock queued PV steal bound",
	.cases =
		{
			TEST_CASE(test_steal_max_set_bad),
			TEST_CASE(test_steal_budget_0),
			TEST_CASE(test_steal_budget_16),
			TEST_CASE(test_steal_budget_default),
			TEST_CASE(test_lead_max_set_bad),
			TEST_CASE(test_lead_bound),
			TEST_CASE(test_lead_bound_contended),
			TEST_CASES_END(),
		},
};

static int
test_pvlock_steal(void)
{
	if (rte_lcore_count() < 2)
		return TEST_SKIPPED;
	return vmp_test_suite_run(&steal_suite);
}

REGISTER_TEST_COMMAND(pvlock_steal_autotest, test_pvlock_steal);
