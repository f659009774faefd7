/* SPDX-License-Identifier: BSD-3-Clause */
/* The lock lab as a perf test: prints the tables (all three scenarios),
 * asserts nothing about speed. Smaller than vmpath-locklab's defaults; set
 * VMP_LOCKLAB_OPS / VMP_LOCKLAB_REPS to change.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_cycles.h>
#include <rte_lcore.h>

#include "../../app/locklab/lab.h"
#include "vmp_test.h"

static int
test_locklab(void)
{
	const char *o = getenv("VMP_LOCKLAB_OPS"),
		   *r = getenv("VMP_LOCKLAB_REPS");
	struct lab_conf c = {
		.ops = o ? strtoull(o, NULL, 0) : 1000000,
		.reps = r ? strtoul(r, NULL, 0) : 3,
		.max_ms = 2000,
		.max_tasks = rte_lcore_count(),
		.pinned = 1,
		.oversub = 1,
		.stacked = 1,
	};

	if (rte_lcore_count() < 2)
		return TEST_SKIPPED;
	/* a failure here is a broken lock (count mismatch) or bad lcores */
	return lab_run(&c, stdout) == 0 ? TEST_SUCCESS : TEST_FAILED;
}

REGISTER_TEST_COMMAND(locklab_perf_autotest, test_locklab);

/* The lab's cap is honoured by a fair spinning lock with more tasks than
 * cores, where each hand-off may wait a scheduler slice for a preempted
 * waiter: every task stops within the acquisition it waits in, so a capped
 * run ends shortly after its cap (it took 40-60 s past a 2 s cap when tasks
 * read the clock only every 256 pairs). The bound is loose (the machine may
 * be loaded); a lock that drains slowly overshoots it by far. Also: the
 * share spread and its split (CPU time, pairs per CPU us) are measured or
 * marked absent together, and one task alone is fair.
 */
#define CAP_MS 100
#define CAP_SLACK_MS 3000

static int
test_locklab_cap(void)
{
	struct lab_conf c = {
		.ops = 100000000, /* far more than fit in the cap */
		.reps = 1,
		.max_ms = CAP_MS,
		.max_tasks = rte_lcore_count(),
	};
	unsigned int n = rte_lcore_count();
	struct lab_cell cell;
	uint64_t t0, ms;
	int rc;

	if (n < 4)
		return TEST_SKIPPED;
	t0 = rte_get_timer_cycles();
	rc = lab_run_cell(LAB_RTE_TICKET, LAB_OVERSUB, n, &c, &cell);
	ms = (rte_get_timer_cycles() - t0) * 1000 / rte_get_timer_hz();
	printf("    rte_ticketlock, %u tasks, cap %u ms: run took %" PRIu64
	       " ms, %" PRIu64 " pairs, share spread %.0f%%\n",
	       n, CAP_MS, ms, cell.pairs, cell.share);
	TEST_ASSERT_SUCCESS(rc, "lab_run_cell: %d", rc);
	TEST_ASSERT_EQUAL(cell.capped, 1, "run not capped");
	TEST_ASSERT(ms < CAP_MS + CAP_SLACK_MS,
		    "capped run took %" PRIu64 " ms, cap %u ms", ms, CAP_MS);
	TEST_ASSERT(cell.share == -1 || (cell.share >= 0 && cell.share <= 100),
		    "share spread %f", cell.share);
	/* its split: both measured with the share, or absent with it */
	TEST_ASSERT((cell.share == -1) == (cell.cpu == -1) &&
			    (cell.share == -1) == (cell.rate == -1) &&
			    cell.cpu <= 100 && cell.rate <= 100,
		    "share %f: cpu %f rate %f", cell.share, cell.cpu,
		    cell.rate);
	TEST_ASSERT_EQUAL(cell.off_core, 0, "%d tasks off the lab's cores",
			  cell.off_core);
	c.ops = 10000;
	c.max_ms = 10000;
	TEST_ASSERT_SUCCESS(
		lab_run_cell(LAB_PTHREAD, LAB_OVERSUB, 1, &c, &cell),
		"one task");
	TEST_ASSERT(cell.share == 0 && cell.spread == 0 && !cell.capped &&
			    cell.cpu == 0 && cell.rate == 0,
		    "one task: share %f spread %f capped %d cpu %f rate %f",
		    cell.share, cell.spread, cell.capped, cell.cpu, cell.rate);
	return TEST_SUCCESS;
}

REGISTER_TEST_COMMAND(locklab_cap_autotest, test_locklab_cap);

/* Stacked: task i stays on core i mod cores (several tasks per core), and
 * the PV lock's exact count holds there; every task of every scenario ends
 * on a core its scenario gives it (off_core counts those that do not), and
 * pinned / stacked task i on the core the test expects, worked out here
 * from the lab's cores, not by the lab.
 */
/* the @p i-th core (0-based) set in @p cs, -1 if none */
static int
nth_core(const rte_cpuset_t *cs, unsigned int i)
{
	int c;

	for (c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, cs) && i-- == 0)
			return c;
	return -1;
}

static int
test_locklab_stacked(void)
{
	static const enum lab_scenario sc[] = {LAB_PINNED, LAB_OVERSUB,
					       LAB_STACKED};
	struct lab_conf c = {
		.ops = 20000,
		.reps = 2,
		.max_ms = 10000,
		.max_tasks = rte_lcore_count(),
	};
	unsigned int i, k, n = rte_lcore_count(), cores;
	rte_cpuset_t cs;
	struct lab_cell cell;

	lab_cores_get(&cs);
	cores = CPU_COUNT(&cs);
	if (n < 2 * cores || cores < 2)
		return TEST_SKIPPED;
	for (i = 0; i < RTE_DIM(sc); i++) {
		unsigned int t = sc[i] == LAB_PINNED ? cores : n;

		TEST_ASSERT_SUCCESS(
			lab_run_cell(LAB_QUEUE_ON, sc[i], t, &c, &cell),
			"scenario %u, %u tasks", sc[i], t);
		TEST_ASSERT_EQUAL(cell.pairs, (uint64_t)t * c.ops * c.reps,
				  "scenario %u: %" PRIu64 " pairs", sc[i],
				  cell.pairs);
		TEST_ASSERT_EQUAL(cell.off_core, 0,
				  "scenario %u: %d task runs off their cores",
				  sc[i], cell.off_core);
		for (k = 0; k < t; k++) {
			int want = sc[i] == LAB_OVERSUB
					   ? cell.end_cpu[k]
					   : nth_core(&cs, k % cores);

			TEST_ASSERT(cell.end_cpu[k] >= 0 &&
					    CPU_ISSET(cell.end_cpu[k], &cs) &&
					    cell.end_cpu[k] == want,
				    "scenario %u: task %u ended on core %d, "
				    "not %d",
				    sc[i], k, cell.end_cpu[k], want);
		}
	}
	/* more pinned tasks than cores is refused, not stacked */
	TEST_ASSERT(lab_run_cell(LAB_QUEUE_ON, LAB_PINNED, cores + 1, &c,
				 &cell) == -EINVAL,
		    "pinned with %u tasks on %u cores", cores + 1, cores);
	return TEST_SUCCESS;
}

REGISTER_TEST_COMMAND(locklab_stacked_autotest, test_locklab_stacked);
