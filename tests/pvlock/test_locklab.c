/* SPDX-License-Identifier: BSD-3-Clause */
/* The lock lab as a perf test: prints the tables (both scenarios), asserts
 * nothing about speed. Smaller than vmpath-locklab's defaults; set
 * VMP_LOCKLAB_OPS / VMP_LOCKLAB_REPS to change.
 */
#include <stdlib.h>

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
	};

	if (rte_lcore_count() < 2)
		return TEST_SKIPPED;
	/* a failure here is a broken lock (count mismatch) or bad lcores */
	return lab_run(&c, stdout) == 0 ? TEST_SUCCESS : TEST_FAILED;
}

REGISTER_TEST_COMMAND(locklab_perf_autotest, test_locklab);
