/* SPDX-License-Identifier: BSD-3-Clause */
/* Lock lab tables: the seed's layout plus DPDK/glibc columns, a fairness
 * table, the PV event counters, and the goals read off the numbers.
 */
#include <errno.h>
#include <inttypes.h>
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

static struct table tab[2];
static double unc_min[LAB_NB_LOCKS], unc_med[LAB_NB_LOCKS];
static int unc_done;

#define UNC_BATCHES 51
#define UNC_OPS 100000

static int
run_uncontended(FILE *f)
{
	unsigned int k;
	int rc;

	fprintf(f,
		"\n== uncontended: one lcore, ns per lock/unlock pair, %u "
		"batches of %u (min filters out preemption) ==\n",
		UNC_BATCHES, UNC_OPS);
	fprintf(f, "  %-15s %8s %8s\n", "lock", "min", "median");
	for (k = 0; k < LAB_NB_LOCKS; k++) {
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
	fprintf(f, "  tasks |");
	for (k = 0; k < LAB_NB_LOCKS; k++)
		fprintf(f, " %8.8s", lab_lock_name(k));
	fprintf(f, "\n");
	for (r = 0; r < t->rows; r++) {
		fprintf(f, "  %5u |", t->tasks[r]);
		for (k = 0; k < LAB_NB_LOCKS; k++)
			fprintf(f, " %7.0f%%", t->cell[r][k].spread);
		fprintf(f, "\n");
	}
}

static void
print_counters(FILE *f, const struct vmp_pvlock_stats *before)
{
	unsigned int t;

	fprintf(f, "PV lock events in this scenario (all runs):\n");
	fprintf(f, "  type   slowpath halt_waiter halt_head      kick "
		   "kick_nohalt  spurious     steal kick->wake\n");
	for (t = 0; t < VMP_PVLOCK_NB_TYPES; t++) {
		struct vmp_pvlock_stats s;

		vmp_pvlock_stats_get(t, &s);
		fprintf(f,
			"  %-6s %9" PRIu64 " %11" PRIu64 " %9" PRIu64
			" %9" PRIu64 " %11" PRIu64 " %9" PRIu64 " %9" PRIu64
			" %7" PRIu64 " ns\n",
			vmp_pvlock_type_name(t),
			s.slowpath - before[t].slowpath,
			s.halt_waiter - before[t].halt_waiter,
			s.halt_head - before[t].halt_head,
			s.kick - before[t].kick,
			s.kick_nohalt - before[t].kick_nohalt,
			s.spurious - before[t].spurious,
			s.steal - before[t].steal, s.kick_wake_ns_avg);
	}
}

static int
run_table(const struct lab_conf *c, enum lab_scenario sc, unsigned int mint,
	  unsigned int maxt, struct table *t, FILE *f)
{
	struct vmp_pvlock_stats before[VMP_PVLOCK_NB_TYPES];
	unsigned int n, k;
	int rc;

	vmp_pvlock_stats_reset();
	for (k = 0; k < VMP_PVLOCK_NB_TYPES; k++)
		vmp_pvlock_stats_get(k, &before[k]);
	t->rows = 0;
	for (n = RTE_MAX(mint, 1u); n <= maxt && t->rows < MAX_ROWS; n++) {
		t->tasks[t->rows] = n;
		for (k = 0; k < LAB_NB_LOCKS; k++) {
			rc = lab_run_cell(k, sc, n, c, &t->cell[t->rows][k]);
			if (rc != 0) {
				fprintf(f, "locklab: %s, %u tasks: %s\n",
					lab_lock_name(k), n, strerror(-rc));
				return rc;
			}
		}
		t->rows++;
		fprintf(stderr, "  [%s: %u tasks done]\n",
			sc == LAB_PINNED ? "pinned" : "oversubscribed", n);
	}
	print_table(
		f, t,
		sc == LAB_PINNED
			? "== one lcore per core (task i pinned to core i) =="
			: "== oversubscribed (every task on every core) ==",
		c);
	print_counters(f, before);
	return 0;
}

static const struct lab_cell *
find(const struct table *t, unsigned int tasks)
{
	unsigned int r;

	for (r = 0; r < t->rows; r++)
		if (t->tasks[r] == tasks)
			return t->cell[r];
	return NULL;
}

/* @p v is printed with @p unit appended: "x" ratio or "%" change */
static void
goal(FILE *f, const char *what, int met, double v, const char *unit)
{
	fprintf(f, "  [%s] %s: %+.2f%s\n", met ? "met   " : "MISSED", what, v,
		unit);
}

static void
print_goals(FILE *f, unsigned int cores, unsigned int maxt)
{
	const struct lab_cell *x;
	unsigned int n;
	char w[96];
	double p;

	fprintf(f, "\ngoals (issue 3), read off the tables above:\n");
	for (n = 1; n <= 2; n++) {
		x = find(&tab[LAB_PINNED], n);
		if (x == NULL)
			continue;
		snprintf(w, sizeof(w),
			 "queue PV on vs off, %u task(s), one per core, <= "
			 "+10%%",
			 n);
		p = pct(x[LAB_QUEUE_OFF].ms, x[LAB_QUEUE_ON].ms);
		goal(f, w, p <= 10.0, p, "%");
	}
	x = find(&tab[LAB_OVERSUB], maxt);
	if (x != NULL && maxt > cores) {
		double r1 = x[LAB_QUEUE_OFF].ms / x[LAB_QUEUE_ON].ms;
		double r2 = x[LAB_RTE_TICKET].ms / x[LAB_QUEUE_ON].ms;
		double r3 = x[LAB_PTHREAD].ms / x[LAB_QUEUE_ON].ms;

		goal(f, "oversubscribed: queue PV on >= 10x faster than PV off",
		     r1 >= 10.0, r1, "x");
		goal(f,
		     "oversubscribed: queue PV on >= 10x faster than "
		     "rte_ticketlock",
		     r2 >= 10.0, r2, "x");
		goal(f,
		     "oversubscribed: queue PV on no slower than pthread_mutex",
		     r3 >= 1.0, r3, "x pthread_mutex's speed");
	}
	if (unc_done) {
		static const struct {
			enum lab_lock base, lock;
			double max;
			const char *what;
		} u[] = {
			{LAB_QUEUE_OFF, LAB_QUEUE_ON, 10.0,
			 "uncontended (min ns): queue PV on vs off <= +10%"},
			{LAB_RTE_SPIN, LAB_QUEUE_ON, 5.0,
			 "uncontended (min ns): queue PV on within 5% of "
			 "rte_spinlock"},
			{LAB_RTE_SPIN, LAB_QUEUE_OFF, 5.0,
			 "uncontended (min ns): queue PV off within 5% of "
			 "rte_spinlock"},
			{LAB_RTE_SPIN, LAB_TICKET_ON, 5.0,
			 "uncontended (min ns): ticket PV on within 5% of "
			 "rte_spinlock"},
		};
		unsigned int i;

		for (i = 0; i < RTE_DIM(u); i++) {
			p = pct(unc_min[u[i].base], unc_min[u[i].lock]);
			goal(f, u[i].what, p <= u[i].max, p, "%");
		}
	}
	x = find(&tab[LAB_PINNED], 1);
	if (x != NULL) {
		p = pct(x[LAB_RTE_SPIN].ms, x[LAB_QUEUE_ON].ms);

		goal(f,
		     "1 task row (median ms): queue PV on within 5% of "
		     "rte_spinlock",
		     p <= 5.0, p, "%");
		p = pct(x[LAB_RTE_SPIN].ms, x[LAB_TICKET_ON].ms);
		goal(f,
		     "1 task row (median ms): ticket PV on within 5% of "
		     "rte_spinlock",
		     p <= 5.0, p, "%");
	}
}

int
lab_run(const struct lab_conf *c, FILE *f)
{
	rte_cpuset_t cs = rte_lcore_cpuset(rte_get_main_lcore());
	unsigned int cores = CPU_COUNT(&cs);
	int rc;

	fprintf(f,
		"vmpath lock lab: %u lcores on %u cores; anchors rte_spinlock, "
		"rte_ticketlock, rte_mcslock, pthread_mutex measured in the "
		"same "
		"run\n",
		rte_lcore_count(), cores);
	rc = run_uncontended(f);
	if (rc != 0)
		return rc;
	if (c->pinned) {
		unsigned int n = RTE_MIN(cores, rte_lcore_count());

		rc = run_table(c, LAB_PINNED, 1, n, &tab[LAB_PINNED], f);
		if (rc != 0)
			return rc;
	}
	if (c->oversub) {
		unsigned int n = RTE_MIN(c->max_tasks, rte_lcore_count());

		rc = run_table(c, LAB_OVERSUB, c->min_tasks, n,
			       &tab[LAB_OVERSUB], f);
		if (rc != 0)
			return rc;
	}
	print_goals(f, cores, RTE_MIN(c->max_tasks, rte_lcore_count()));
	return 0;
}
