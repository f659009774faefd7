/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vmpath-locklab: the lock lab (docs/pvlock.md).
 *
 *   vmpath-locklab --lcores '(0-7)@(0-1)' --no-huge -m 256 --no-pci \
 *       --file-prefix=locklab -- [--ops N] [--reps R] [--max-ms MS]
 *       [--tasks N] [--min-tasks N] [--spin N]
 *       [--scenario pinned|oversub|stacked|both|all]
 *       [--locks LIST] [--detail] [--steal-max N] [--lead-max N]
 */
#include <errno.h>
#include <inttypes.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_debug.h>
#include <rte_eal.h>
#include <rte_lcore.h>

#include "lab.h"

static const struct option long_opts[] = {
	{"ops", required_argument, NULL, 'o'},
	{"reps", required_argument, NULL, 'r'},
	{"max-ms", required_argument, NULL, 'x'},
	{"tasks", required_argument, NULL, 't'},
	{"min-tasks", required_argument, NULL, 'm'},
	{"scenario", required_argument, NULL, 's'},
	{"spin", required_argument, NULL, 'S'},
	{"locks", required_argument, NULL, 'L'},
	{"detail", no_argument, NULL, 'd'},
	{"steal-max", required_argument, NULL, 'B'},
	{"lead-max", required_argument, NULL, 'D'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static void
usage(const char *prog)
{
	printf("usage: %s [EAL args] -- [options]\n"
	       "  --ops N        lock/unlock pairs per task (default 5000000)\n"
	       "  --reps R       runs per cell, medians printed (default 3)\n"
	       "  --max-ms MS    cap per run, capped runs extrapolated "
	       "(default 2000)\n"
	       "  --tasks N      oversubscribed rows up to N (default: all "
	       "lcores)\n"
	       "  --min-tasks N  oversubscribed rows from N (default 1)\n"
	       "  --scenario S   pinned, oversub, stacked, both (pinned and "
	       "oversub,\n"
	       "                 the default) or all three\n"
	       "  --spin N       PV spin threshold, rte_pause() iterations\n"
	       "                 (default: about 4 us, calibrated by the lib)\n"
	       "  --locks LIST   comma-separated subset of ticket-off, "
	       "ticket-on,\n"
	       "                 queue-off, queue-on, spinlock, ticketlock, "
	       "mcslock,\n"
	       "                 pthread (default: all)\n"
	       "  --detail       per run, per task: finish time, pairs, time "
	       "waiting,\n"
	       "                 and its lcore's steals, halts, wake-ups\n"
	       "  --steal-max N  queued PV lock's steal budget per turn of "
	       "its queue\n"
	       "                 head (default: the lib's, "
	       "VMP_PVLOCK_STEAL_MAX)\n"
	       "  --lead-max N   queued PV lock's lead bound (0: off; default: "
	       "the lib's,\n"
	       "                 VMP_PVLOCK_LEAD_MAX)\n"
	       "  --help\n"
	       "Give it lcores floating over the cores, e.g. --lcores "
	       "'(0-7)@(0-1)': the pinned scenario pins task i to core i,\n"
	       "oversub lets every task run on every core, stacked pins task "
	       "i to\ncore i mod cores\n",
	       prog);
}

/* --scenario: one of them, "both" (pinned and oversub) or "all" */
static int
scenario_parse(struct lab_conf *c, const char *s)
{
	int all = strcmp(s, "all") == 0, both = strcmp(s, "both") == 0;

	c->pinned = all || both || strcmp(s, "pinned") == 0;
	c->oversub = all || both || strcmp(s, "oversub") == 0;
	c->stacked = all || strcmp(s, "stacked") == 0;
	return c->pinned || c->oversub || c->stacked ? 0 : -EINVAL;
}

static uint64_t
num(const char *opt, const char *v, uint64_t min)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(v, &end, 0);
	if (errno != 0 || *end != '\0' || end == v || n < min)
		rte_exit(EXIT_FAILURE,
			 "--%s: '%s' is not a number >= %" PRIu64 "\n", opt, v,
			 min);
	return n;
}

/* num() from 0, at most @p max */
static uint32_t
num_max(const char *opt, const char *v, uint32_t max)
{
	uint64_t n = num(opt, v, 0);

	if (n > max)
		rte_exit(EXIT_FAILURE, "--%s: '%s' > %u\n", opt, v, max);
	return (uint32_t)n;
}

int
main(int argc, char **argv)
{
	struct lab_conf c = {
		.ops = 5000000,
		.reps = 3,
		.max_ms = 2000,
		.spin = 0,
		.max_tasks = 0,
		.pinned = 1,
		.oversub = 1,
	};
	int ret, opt;

	ret = rte_eal_init(argc, argv);
	if (ret < 0)
		rte_exit(EXIT_FAILURE, "EAL init failed\n");
	argc -= ret;
	argv += ret;
	while ((opt = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		switch (opt) {
		case 'o':
			c.ops = num("ops", optarg, 1);
			break;
		case 'r':
			c.reps = num("reps", optarg, 1);
			break;
		case 'x':
			c.max_ms = num("max-ms", optarg, 1);
			break;
		case 't':
			c.max_tasks = num("tasks", optarg, 1);
			break;
		case 'm':
			c.min_tasks = num("min-tasks", optarg, 1);
			break;
		case 'd':
			c.detail = 1;
			break;
		case 'S':
			c.spin = num("spin", optarg, 1);
			break;
		case 'B':
			c.steal_max = num_max("steal-max", optarg,
					      VMP_PVLOCK_STEAL_MAX_LIMIT);
			c.steal_max_set = 1;
			break;
		case 'D':
			c.lead_max = num_max("lead-max", optarg,
					     VMP_PVLOCK_LEAD_MAX_LIMIT);
			c.lead_max_set = 1;
			break;
		case 'L':
			c.locks = lab_locks_parse(optarg);
			if (c.locks == 0)
				rte_exit(EXIT_FAILURE,
					 "--locks: '%s' names an unknown lock; "
					 "see --help\n",
					 optarg);
			break;
		case 's':
			if (scenario_parse(&c, optarg) != 0)
				rte_exit(EXIT_FAILURE,
					 "--scenario: '%s' is not pinned, "
					 "oversub, stacked, both or all\n",
					 optarg);
			break;
		case 'h':
			usage(argv[0]);
			rte_eal_cleanup();
			return 0;
		default:
			rte_exit(EXIT_FAILURE, "unknown option; see --help\n");
		}
	}
	if (c.max_tasks == 0)
		c.max_tasks = rte_lcore_count();
	ret = lab_run(&c, stdout);
	rte_eal_cleanup();
	return ret == 0 ? 0 : 1;
}
