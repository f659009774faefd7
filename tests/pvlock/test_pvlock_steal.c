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
 * steal at all. The exact count checks exclusion meanwhile.
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

#define SB_MS 300 /* per budget */

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
sb_run(uint32_t steal_max)
{
	unsigned int lc, n = rte_lcore_count(),
			 lcores[VMP_TEST_WAIT_MAX_THREADS], nl = 0;
	uint64_t total = 0, bound = steal_max + n - 1;
	struct vmp_test_watchdog wd;
	struct vmp_pvlock_stats st;

	TEST_ASSERT_SUCCESS(vmp_pvlock_q_init(&sb_lock, 1, 16), "init");
	TEST_ASSERT_SUCCESS(vmp_pvlock_q_steal_max_set(&sb_lock, steal_max),
			    "steal_max %u", steal_max);
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
	       "turn of the head %" PRIu64 " (bound %" PRIu64 ")\n",
	       steal_max, n, total, st.slowpath, st.steal,
	       st.halt_waiter + st.halt_head, st.steal_run_max, bound);
	fflush(stdout);
	TEST_ASSERT_EQUAL_U64(sb_count, total, "steal_max %u: lost updates",
			      steal_max);
	TEST_ASSERT(st.steal_run_max <= bound,
		    "steal_max %u: a head waited through %" PRIu64
		    " steals, bound %" PRIu64,
		    steal_max, st.steal_run_max, bound);
	if (steal_max == 0)
		TEST_ASSERT_EQUAL_U64(st.steal, 0, "steal_max 0: steals");
	else
		TEST_ASSERT(st.steal_run_max >= steal_max,
			    "steal_max %u: no turn of the head spent the "
			    "budget (%" PRIu64 "): not enough contention to "
			    "test the bound",
			    steal_max, st.steal_run_max);
	return TEST_SUCCESS;
}

static int
test_steal_budget_0(void)
{
	return sb_run(0);
}

static int
test_steal_budget_16(void)
{
	return sb_run(16);
}

static int
test_steal_budget_default(void)
{
	return sb_run(VMP_PVLOCK_STEAL_MAX);
}

static int
test_steal_max_set_bad(void)
{
	TEST_ASSERT_EQUAL(vmp_pvlock_q_steal_max_set(NULL, 1), -EINVAL, "");
	TEST_ASSERT_SUCCESS(vmp_pvlock_q_init(&sb_lock, 1, 0), "");
	TEST_ASSERT_EQUAL(vmp_pvlock_q_steal_max_set(
				  &sb_lock, VMP_PVLOCK_STEAL_MAX_LIMIT + 1),
			  -EINVAL, "");
	TEST_ASSERT_SUCCESS(vmp_pvlock_q_steal_max_set(
				    &sb_lock, VMP_PVLOCK_STEAL_MAX_LIMIT),
			    "");
	return TEST_SUCCESS;
}

static struct vmp_test_suite steal_suite = {
	.name = "pvlock queued PV steal bound",
	.cases =
		{
			TEST_CASE(test_steal_max_set_bad),
			TEST_CASE(test_steal_budget_0),
			TEST_CASE(test_steal_budget_16),
			TEST_CASE(test_steal_budget_default),
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
