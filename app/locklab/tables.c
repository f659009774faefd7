/* SPDX-License-Identifier: BSD-3-Clause */
/* Lock lab tables: the layout of the PV qspinlock patch's table (Waiman
 * Long, v10) plus DPDK/glibc columns, a fairness table, the PV event
 * counters, and the PV lock's goals (print_goals) read off the numbers.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include <rte_lcore.h>

#include <vmp_pvlock.h>

#include "lab.h"

#define MAX_ROWS 64

struct table {
	unsigned int rows;
	unsigned int tasks[MAX_ROWS];
	struct lab_cell cell[MAX_ROWS][LAB_NB_LOCKS];
};

static struct table tab[LAB_NB_SCENARIOS];
static double unc_min[LAB_NB_LOCKS], unc_med[LAB_NB_LOCKS];
static int unc_done;

#define UNC_BATCHES 51
#define UNC_OPS 100000

static int
run_uncontended(const struct lab_conf *c, FILE *f)
{
	unsigned int k;
	int rc;

	fprintf(f,
		"\n== uncontended: one lcore, ns per lock/unlock pair, %u "
		"batches of %u (min filters out preemption) ==\n",
		UNC_BATCHES, UNC_OPS);
	fprintf(f, "  %-15s %8s %8s\n", "lock", "min", "median");
	for (k = 0; k < LAB_NB_LOCKS; k++) {
		if (!lab_lock_on(c, k))
			continue;
		rc = lab_uncontended(k, UNC_BATCHES, UNC_OPS, &unc_min[k],
				     &unc_med[k]);
		if (rc != 0)
			return rc;
		fprintf(f, "  %-15s %8.2f %8.2f\n", lab_lock_name(k),
			unc_min[k], unc_med[k]);
	}
	unc_done = 1;
	return 0;
}

static double
pct(double off, double on)
{
	return off > 0 ? (on - off) * 100.0 / off : 0;
}

static void
fmt_ms(char *b, size_t n, const struct lab_cell *c)
{
	snprintf(b, n, c->ms < 100 ? "%s%.1f" : "%s%.0f", c->capped ? "~" : "",
		 c->ms);
}

/* a header of lock names, then per task count the double at @p off of each
 * lock's cell, with @p prec decimals and @p unit after it
 */
static void
print_lock_rows(FILE *f, const struct table *t, size_t off, int prec,
		const char *unit)
{
	unsigned int r, k;

	fprintf(f, "  tasks |");
	for (k = 0; k < LAB_NB_LOCKS; k++)
		fprintf(f, " %8.8s", lab_lock_name(k));
	fprintf(f, "\n");
	for (r = 0; r < t->rows; r++) {
		fprintf(f, "  %5u |", t->tasks[r]);
		for (k = 0; k < LAB_NB_LOCKS; k++)
			fprintf(f, " %*.*f%s", 8 - (int)strlen(unit), prec,
				*(const double *)((const char *)&t->cell[r][k] +
						  off),
				unit);
		fprintf(f, "\n");
	}
}

static void
print_table(FILE *f, const struct table *t, const char *title,
	    const struct lab_conf *c)
{
	unsigned int r, k;
	char b[LAB_NB_LOCKS][32];

	fprintf(f,
		"\n%s\nms for %" PRIu64
		" lock/unlock pairs per task, median of "
		"%u runs ('~': a run hit the %" PRIu64
		" ms cap, time extrapolated)\n",
		title, c->ops, c->reps, c->max_ms);
	fprintf(f,
		"  # of  |      Ticket lock        |       Queue lock        "
		"| rte_spin- rte_ticket- rte_mcs-  pthread_\n");
	fprintf(f,
		"  tasks |  PV off/  PV on/%%Change |  PV off/  PV on/%%Change "
		"|     lock       lock     lock     mutex\n");
	fprintf(f,
		"  ----- | ----------------------- | ----------------------- "
		"| -------------------------------------\n");
	for (r = 0; r < t->rows; r++) {
		const struct lab_cell *x = t->cell[r];

		for (k = 0; k < LAB_NB_LOCKS; k++)
			fmt_ms(b[k], sizeof(b[k]), &x[k]);
		fprintf(f,
			"  %5u | %7s/%7s/%+6.0f%% | %7s/%7s/%+6.0f%% | %8s "
			"%10s "
			"%8s %9s\n",
			t->tasks[r], b[LAB_TICKET_OFF], b[LAB_TICKET_ON],
			pct(x[LAB_TICKET_OFF].ms, x[LAB_TICKET_ON].ms),
			b[LAB_QUEUE_OFF], b[LAB_QUEUE_ON],
			pct(x[LAB_QUEUE_OFF].ms, x[LAB_QUEUE_ON].ms),
			b[LAB_RTE_SPIN], b[LAB_RTE_TICKET], b[LAB_RTE_MCS],
			b[LAB_PTHREAD]);
	}
	fprintf(f, "fairness: spread of per-task completion, (last - first) / "
		   "last, %% (0 = all finish together)\n");
	print_lock_rows(f, t, offsetof(struct lab_cell, spread), 0, "%");
	fprintf(f,
		"fairness while all tasks contend: share spread, the pairs "
		"each task did between\nthe moment every task had done "
		"%u and the moment the first one finished,\n(max - min) / "
		"max, %% (-1: no such window in any run)\n",
		LAB_SAMPLE);
	print_lock_rows(f, t, offsetof(struct lab_cell, share), 0, "%");
	fprintf(f, "the share spread split: the CPU time each task's thread "
		   "got in that window\n(the scheduler's part), spread, %%\n");
	print_lock_rows(f, t, offsetof(struct lab_cell, cpu), 0, "%");
	fprintf(f, "and each task's pairs per CPU us in that window (the "
		   "lock's part), spread, %%\n");
	print_lock_rows(f, t, offsetof(struct lab_cell, rate), 0, "%");
}

/* per task count: p99 acquisition latency of every lock, and the PV
 * events of the PV-on locks, per 1000 pairs (so rows compare), with the
 * average kick-to-wake latency
 */
static void
print_latency_events(FILE *f, const struct table *t, const struct lab_conf *c)
{
	static const enum lab_lock pv[] = {LAB_TICKET_ON, LAB_QUEUE_ON};
	unsigned int r, i;

	fprintf(f,
		"p99 acquisition latency, us (every %u-th lock call "
		"timed, all runs)\n",
		LAB_SAMPLE);
	print_lock_rows(f, t, offsetof(struct lab_cell, p99_us), 2, "");
	fprintf(f, "p99.9 acquisition latency, us (same samples)\n");
	print_lock_rows(f, t, offsetof(struct lab_cell, p999_us), 2, "");
	fprintf(f, "max acquisition latency, us (same samples, bucket upper "
		   "bound)\n");
	print_lock_rows(f, t, offsetof(struct lab_cell, max_us), 0, "");
	fprintf(f, "PV events per 1000 pairs (all runs): slow = slow paths, "
		   "halt = waiter+head halts, kick, steal; wake = average "
		   "kick-to-wake; run = most steals in one turn of the queue "
		   "head; lead = steals the lead bound refused; defer = looks "
		   "of a queue head that left the lock to busy stealers\n");
	for (i = 0; i < RTE_DIM(pv); i++) {
		if (!lab_lock_on(c, pv[i]))
			continue;
		fprintf(f,
			"  %-13s tasks |     slow     halt     kick    steal "
			"   wake us      run     lead    defer\n",
			lab_lock_name(pv[i]));
		for (r = 0; r < t->rows; r++) {
			const struct lab_cell *x = &t->cell[r][pv[i]];
			double n = x->pairs ? x->pairs / 1000.0 : 1;

			fprintf(f,
				"  %19u | %8.1f %8.2f %8.2f %8.1f %10.1f "
				"%8" PRIu64 " %8.2f %8.2f\n",
				t->tasks[r], x->ev.slowpath / n,
				(x->ev.halt_waiter + x->ev.halt_head) / n,
				x->ev.kick / n, x->ev.steal / n,
				x->ev.kick_wake_ns_avg / 1000.0,
				x->ev.steal_run_max, x->ev.lead_refused / n,
				x->ev.head_defer / n);
		}
	}
}

static const char *const sc_names[LAB_NB_SCENARIOS] = {
	[LAB_PINNED] = "pinned",
	[LAB_OVERSUB] = "oversubscribed",
	[LAB_STACKED] = "stacked",
};
static const char *const sc_titles[LAB_NB_SCENARIOS] = {
	[LAB_PINNED] = "== one lcore per core (task i pinned to core i) ==",
	[LAB_OVERSUB] = "== oversubscribed (every task on every core) ==",
	[LAB_STACKED] = "== stacked (task i pinned to core i mod cores) ==",
};

static int
run_table(const struct lab_conf *c, enum lab_scenario sc, unsigned int mint,
	  unsigned int maxt, struct table *t, FILE *f)
{
	unsigned int n, k;
	int rc;

	t->rows = 0;
	for (n = RTE_MAX(mint, 1u); n <= maxt && t->rows < MAX_ROWS; n++) {
		t->tasks[t->rows] = n;
		for (k = 0; k < LAB_NB_LOCKS; k++) {
			if (!lab_lock_on(c, k)) {
				t->cell[t->rows][k] = (struct lab_cell){0};
				continue;
			}
			rc = lab_run_cell(k, sc, n, c, &t->cell[t->rows][k]);
			if (rc != 0) {
				fprintf(f, "locklab: %s, %u tasks: %s\n",
					lab_lock_name(k), n, strerror(-rc));
				return rc;
			}
			if (t->cell[t->rows][k].off_core)
				fprintf(f,
					"locklab: %s, %u tasks: %d task runs "
					"not on their %s cores\n",
					lab_lock_name(k), n,
					t->cell[t->rows][k].off_core,
					sc_names[sc]);
		}
		t->rows++;
		fprintf(stderr, "  [%s: %u tasks done]\n", sc_names[sc], n);
	}
	print_table(f, t, sc_titles[sc], c);
	print_latency_events(f, t, c);
	return 0;
}

/* @p v is printed with @p unit appended: "x" ratio or "%" change */
static void
goal(FILE *f, const char *what, int met, double v, const char *unit)
{
	fprintf(f, "  [%s] %s: %.2f%s\n", met ? "met   " : "MISSED", what, v,
		unit);
}

/* The goal lines of one oversubscribed table (@p tag names the stacked
 * one): a PV lock at least as fast as pthread_mutex, with a fairness spread
 * no worse, at every task count from 2 up.
 */
static void
print_goal_rows(FILE *f, const struct lab_conf *c, const struct table *t,
		const char *tag)
{
	static const enum lab_lock pv[] = {LAB_QUEUE_ON, LAB_TICKET_ON};
	unsigned int r, i;
	char w[160];

	for (i = 0; i < RTE_DIM(pv); i++) {
		if (!lab_lock_on(c, pv[i]) || !lab_lock_on(c, LAB_PTHREAD))
			continue;
		for (r = 0; r < t->rows; r++) {
			const struct lab_cell *x = t->cell[r];
			double sp = x[LAB_PTHREAD].ms / x[pv[i]].ms;

			if (t->tasks[r] < 2)
				continue;
			snprintf(w, sizeof(w),
				 "%s%u tasks: %s speed / pthread_mutex's >= 1",
				 tag, t->tasks[r], lab_lock_name(pv[i]));
			goal(f, w, sp >= 1.0, sp, "x");
			snprintf(w, sizeof(w),
				 "%s%u tasks: %s spread <= pthread_mutex's "
				 "(%.0f%%)",
				 tag, t->tasks[r], lab_lock_name(pv[i]),
				 x[LAB_PTHREAD].spread);
			goal(f, w, x[pv[i]].spread <= x[LAB_PTHREAD].spread,
			     x[pv[i]].spread, "%");
			snprintf(w, sizeof(w),
				 "%s%u tasks: %s share spread <= "
				 "pthread_mutex's (%.0f%%)",
				 tag, t->tasks[r], lab_lock_name(pv[i]),
				 x[LAB_PTHREAD].share);
			goal(f, w,
			     x[pv[i]].share >= 0 &&
				     x[pv[i]].share <= x[LAB_PTHREAD].share,
			     x[pv[i]].share, "%");
		}
	}
}

/* The goals: per oversubscribed table (print_goal_rows()); uncontended
 * cost of the queued PV lock at most 7.3 ns per pair (6.9 ns before the
 * changes of 2026-12-02, + 5 %).
 */
static void
print_goals(FILE *f, const struct lab_conf *c)
{
	fprintf(f, "\ngoals, read off the tables above (pthread_mutex from "
		   "the same run):\n");
	if (c->oversub)
		print_goal_rows(f, c, &tab[LAB_OVERSUB], "");
	if (c->stacked)
		print_goal_rows(f, c, &tab[LAB_STACKED], "stacked, ");
	if (unc_done && lab_lock_on(c, LAB_QUEUE_ON))
		goal(f, "uncontended (min ns): queue PV on <= 7.3 ns",
		     unc_min[LAB_QUEUE_ON] <= 7.3, unc_min[LAB_QUEUE_ON],
		     " ns");
}

int
lab_run(const struct lab_conf *c, FILE *f)
{
	rte_cpuset_t cs;
	unsigned int cores;
	enum lab_scenario sc;
	int rc;

	lab_cores_get(&cs);
	cores = CPU_COUNT(&cs);
	fprintf(f,
		"vmpath lock lab: %u lcores on %u cores; anchors rte_spinlock, "
		"rte_ticketlock, rte_mcslock, pthread_mutex measured in the "
		"same "
		"run\n",
		rte_lcore_count(), cores);
	rc = run_uncontended(c, f);
	if (rc != 0)
		return rc;
	if (c->pinned) {
		unsigned int n = RTE_MIN(cores, rte_lcore_count());

		rc = run_table(c, LAB_PINNED, 1, n, &tab[LAB_PINNED], f);
		if (rc != 0)
			return rc;
	}
	for (sc = LAB_OVERSUB; sc <= LAB_STACKED; sc++) {
		unsigned int n = RTE_MIN(c->max_tasks, rte_lcore_count());

		if (!(sc == LAB_OVERSUB ? c->oversub : c->stacked))
			continue;
		rc = run_table(c, sc, c->min_tasks, n, &tab[sc], f);
		if (rc != 0)
			return rc;
	}
	print_goals(f, c);
	return 0;
}
