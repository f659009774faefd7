/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LOCKLAB_LAB_H
#define LOCKLAB_LAB_H

/* The lock lab's engine, shared by app/locklab (vmpath-locklab) and the
 * perf test locklab_perf_autotest: N tasks on N lcores, each doing M
 * lock/unlock pairs on one shared lock, for the vmpath PV locks and DPDK's
 * and glibc's locks, repeated, medians reported.
 */

#include <stdint.h>
#include <stdio.h>

#include <rte_lcore.h>

enum lab_lock {
	LAB_TICKET_OFF,
	LAB_TICKET_ON,
	LAB_QUEUE_OFF,
	LAB_QUEUE_ON,
	LAB_RTE_SPIN,
	LAB_RTE_TICKET,
	LAB_RTE_MCS,
	LAB_PTHREAD,
	LAB_NB_LOCKS,
};

enum lab_scenario {
	LAB_PINNED,  /* one lcore per core, tasks <= cores */
	LAB_OVERSUB, /* every task may run on every core: 8 on 2 */
	LAB_STACKED, /* task i pinned to core i mod cores: several lcores
		      * share each core, as EAL --lcores '0@0,1@1,2@0,3@1'
		      */
	LAB_NB_SCENARIOS,
};

struct lab_conf {
	uint64_t ops;		/* lock/unlock pairs per task */
	uint32_t reps;		/* runs per cell; medians reported */
	uint64_t max_ms;	/* cap per run; a capped run is extrapolated */
	uint32_t spin;		/* PV spin threshold, 0 = default */
	unsigned int min_tasks; /* oversubscribed rows min_tasks..max_tasks */
	unsigned int max_tasks;
	int pinned, oversub, stacked; /* scenarios to run */
	uint32_t locks;	    /* bit (1 << enum lab_lock) per lock; 0: all */
	int detail;	    /* print per-task finish, waits, PV events */
	uint32_t steal_max; /* queued PV lock's steal budget, if set */
	int steal_max_set;  /* 0: the lib's default */
	uint32_t lead_max;  /* queued PV lock's lead bound, if set */
	int lead_max_set;   /* 0: the lib's default */
};

/* Whether @p c selects lock @p k. */
static inline int
lab_lock_on(const struct lab_conf *c, enum lab_lock k)
{
	return c->locks == 0 || (c->locks >> k) & 1;
}

/* Parse a comma-separated list of lock keys (lab_lock_key()) into a mask.
 * Returns the mask, or 0 if a key is unknown.
 */
uint32_t lab_locks_parse(const char *list);

/* Short key of a lock, for --locks: ticket-off, ..., pthread. */
const char *lab_lock_key(enum lab_lock k);

#include <vmp_pvlock.h>

/* most tasks in a cell */
#define LAB_MAX_TASKS 64

/* every LAB_SAMPLE-th acquisition of a contended run is timed (p99) */
#define LAB_SAMPLE 32

struct lab_cell {
	double ms;     /* median time for ops pairs per task, all tasks */
	double spread; /* median of (last - first task finish) / last, % */
	double share;  /* median of the share spread (lab.c, PH_OPEN): the
			* pairs each task did while all contend, (max -
			* min) / max, %; -1 if no run had such a window
			*/
	double cpu;    /* median spread of the CPU time each task's thread
			* got in that window, %: the scheduler's part of
			* the share spread; -1 without a window
			*/
	double rate;   /* median spread of the pairs per CPU us in that
			* window, %: the lock's part; -1 without a window
			*/
	int no_window; /* runs without that window */
	int capped;    /* runs that hit max_ms (extrapolated) */
	int off_core;  /* tasks, over the runs, whose thread could not be
			* given its scenario's cores or ended on another
			*/
	int end_cpu[LAB_MAX_TASKS]; /* the core task i ended the last run
				     * on (sched_getcpu(), -1 unknown)
				     */
	double p99_us;	/* p99 of sampled acquisition latency, all runs, us */
	double p999_us; /* p99.9 of the same */
	double max_us;	/* the largest sample (its bucket's upper bound) */
	uint64_t pairs; /* pairs done, all runs */
	struct vmp_pvlock_stats ev; /* PV events of the cell, all runs */
};

/* The cores the lab runs on: those of every lcore (--lcores '(0-7)@(0-1)'
 * and '0@0,1@1,2@0,3@1' both give cores 0 and 1).
 */
void lab_cores_get(rte_cpuset_t *cs);

/* Names for table headers. */
const char *lab_lock_name(enum lab_lock k);

/* Run one cell: @p tasks tasks under @p sc. Returns 0 or -errno. */
int lab_run_cell(enum lab_lock k, enum lab_scenario sc, unsigned int tasks,
		 const struct lab_conf *c, struct lab_cell *out);

/* Uncontended cost on the calling lcore: @p batches batches of @p ops
 * lock/unlock pairs; ns per pair, minimum and median over the batches (the
 * minimum filters out preemption on a shared machine). 0 or -EINVAL.
 */
int lab_uncontended(enum lab_lock k, unsigned int batches, uint64_t ops,
		    double *min_ns, double *med_ns);

/* Run the scenarios of @p c and print the tables to @p f. Returns 0 or
 * -errno (not enough lcores).
 */
int lab_run(const struct lab_conf *c, FILE *f);

#endif /* LOCKLAB_LAB_H */
