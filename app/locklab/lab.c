/* SPDX-License-Identifier: BSD-3-Clause */
/* Lock lab engine: see lab.h. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <rte_alarm.h>
#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mcslock.h>
#include <rte_pause.h>
#include <rte_spinlock.h>
#include <rte_ticketlock.h>

#include <vmp_pvlock.h>

#include "lab.h"

/* Acquisition latency: every LAB_SAMPLE-th lock call is timed (rdtsc before
 * and after) into a log-linear histogram of cycles, 4 buckets per power of
 * two; the loops the uncontended cost is measured with are not timed.
 */
#define LAB_HIST (16 + 60 * 4)

static const char *const lock_keys[LAB_NB_LOCKS] = {
	[LAB_TICKET_OFF] = "ticket-off", [LAB_TICKET_ON] = "ticket-on",
	[LAB_QUEUE_OFF] = "queue-off",	 [LAB_QUEUE_ON] = "queue-on",
	[LAB_RTE_SPIN] = "spinlock",	 [LAB_RTE_TICKET] = "ticketlock",
	[LAB_RTE_MCS] = "mcslock",	 [LAB_PTHREAD] = "pthread",
};

static const char *const lock_names[LAB_NB_LOCKS] = {
	[LAB_TICKET_OFF] = "ticket PV off", [LAB_TICKET_ON] = "ticket PV on",
	[LAB_QUEUE_OFF] = "queue PV off",   [LAB_QUEUE_ON] = "queue PV on",
	[LAB_RTE_SPIN] = "rte_spinlock",    [LAB_RTE_TICKET] = "rte_ticketlock",
	[LAB_RTE_MCS] = "rte_mcslock",	    [LAB_PTHREAD] = "pthread_mutex",
};

/* the locks, each on its own cache line */
static struct {
	struct vmp_pvlock_ticket t __rte_cache_aligned;
	struct vmp_pvlock_q q __rte_cache_aligned;
	rte_spinlock_t sl __rte_cache_aligned;
	rte_ticketlock_t tl __rte_cache_aligned;
	rte_mcslock_t *mcs __rte_cache_aligned;
	pthread_mutex_t mtx __rte_cache_aligned;
	uint64_t count __rte_cache_aligned; /* the critical section's data */
} L;

struct task {
	unsigned int idx;
	unsigned int lcore; /* for the PV lock's per-lcore counters */
	uint64_t ops;	    /* pairs done */
	uint64_t end_tsc;   /* when it finished */
	uint32_t seen;	    /* lab_phase bits this task has acted on */
	uint64_t at_open;   /* pairs done when it saw PH_OPEN */
	uint64_t at_close;  /* pairs done when it saw PH_CLOSE */
	/* its thread's CPU time and the times it was preempted, at PH_OPEN
	 * and PH_CLOSE (ns, involuntary switches): lab_sched_note()
	 */
	uint64_t cpu_ns[2];
	uint64_t preempt[2];
	rte_cpuset_t cores; /* where its scenario lets it run (set_affinity) */
	int off_core;	    /* the affinity failed, or it ended elsewhere */
	int end_cpu;	    /* the core it finished on, -1 unknown */
} __rte_cache_aligned;

static struct {
	enum lab_lock kind;
	enum lab_scenario sc;
	unsigned int ntasks;
	uint64_t ops;
	uint64_t deadline; /* tsc */
	uint64_t cap_us;   /* the cap, for the alarm */
	uint64_t start;	   /* tsc, set when every task arrived */
	uint32_t arrived;
	uint32_t in;	    /* tasks that did LAB_SAMPLE pairs */
	int window_empty;   /* PH_CLOSE came before PH_OPEN */
	rte_cpuset_t cores; /* the cores the lab runs on */
	int sample;	    /* time every LAB_SAMPLE-th acquisition */
	struct task task[LAB_MAX_TASKS];
} run;

/* h[LAB_HIST]: the sampled cycles of the current run, for --detail */
static struct {
	uint64_t h[LAB_HIST + 1];
} __rte_cache_aligned hist[LAB_MAX_TASKS];

/* The phase of a contended run, read by every task before each lock call.
 * PH_STOP: the cap has passed (the EAL alarm, or a task that read the clock
 * past the deadline). A task checking the clock only every 256 pairs is not
 * enough for a fair spinning lock: under oversubscription each of its
 * hand-offs may wait a scheduler slice for a preempted waiter, so 256 pairs
 * of every task took tens of seconds past the cap. With the flag, each task
 * finishes at most the one acquisition it is waiting in.
 * PH_OPEN / PH_CLOSE bound the window in which every task contends: it
 * opens when each task has done LAB_SAMPLE pairs, and closes when the first
 * task has done all its pairs (or at the cap). Each task notes its pairs
 * at both (its count cannot move while it is preempted, so a late look is
 * exact): the shares of the window are the fairness of the lock, without
 * the head start of the task that runs alone before the others are
 * scheduled (a whole slice: 0.5M pairs of a 5.5 ns lock).
 * Its own cache line, written three times per run, stays shared in every
 * core's cache.
 */
#define PH_STOP 1u
#define PH_OPEN 2u
#define PH_CLOSE 4u
static uint32_t lab_phase __rte_cache_aligned;

static void
lab_phase_set(uint32_t bits)
{
	uint32_t old = __atomic_fetch_or(&lab_phase, bits, __ATOMIC_RELAXED);

	if ((bits & PH_CLOSE) && !(old & (PH_OPEN | PH_CLOSE)))
		run.window_empty = 1;
}

static void
lab_stop_alarm(void *arg)
{
	RTE_SET_USED(arg);
	lab_phase_set(PH_STOP | PH_CLOSE);
}

/* The CPU time the scheduler gave task @p t's thread so far and how often
 * it was preempted, into slot @p k (0: window opens, 1: closes), so that a
 * share spread can be split into the scheduler's part (CPU time) and the
 * lock's (pairs per CPU us): window_spreads(), --detail
 */
static void
lab_sched_note(struct task *t, int k)
{
	struct timespec ts;
	struct rusage ru;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0)
		t->cpu_ns[k] = (uint64_t)ts.tv_sec * 1000000000ull +
			       (uint64_t)ts.tv_nsec;
	if (getrusage(RUSAGE_THREAD, &ru) == 0)
		t->preempt[k] = (uint64_t)ru.ru_nivcsw;
}

/* task @p t, having done @p i pairs, sees phase @p ph: note the window;
 * returns 1 to stop
 */
static int
lab_phase_seen(struct task *t, uint32_t ph, uint64_t i)
{
	uint32_t fresh = ph & ~t->seen;

	if (fresh & PH_OPEN) {
		t->at_open = i;
		lab_sched_note(t, 0);
	}
	if (fresh & PH_CLOSE) {
		t->at_close = i;
		lab_sched_note(t, 1);
	}
	t->seen = ph;
	return (ph & PH_STOP) != 0;
}

static void
lab_task_in(void)
{
	if (__atomic_add_fetch(&run.in, 1, __ATOMIC_RELAXED) == run.ntasks)
		lab_phase_set(PH_OPEN);
}

static inline unsigned int
hist_bucket(uint64_t c)
{
	unsigned int msb;

	if (c < 16)
		return c;
	msb = 63 - __builtin_clzll(c);
	return RTE_MIN(16 + (msb - 4) * 4 + ((c >> (msb - 2)) & 3),
		       LAB_HIST - 1u);
}

/* upper bound of a bucket, cycles */
static double
hist_upper(unsigned int b)
{
	unsigned int msb;

	if (b < 16)
		return b + 1;
	msb = (b - 16) / 4 + 4;
	return (double)(1ull << msb) * (1.0 + ((b - 16) % 4 + 1) / 4.0);
}

static rte_cpuset_t lab_cores;
static int lab_cores_known;

const char *
lab_lock_name(enum lab_lock k)
{
	return (unsigned int)k < LAB_NB_LOCKS ? lock_names[k] : "?";
}

const char *
lab_lock_key(enum lab_lock k)
{
	return (unsigned int)k < LAB_NB_LOCKS ? lock_keys[k] : "?";
}

uint32_t
lab_locks_parse(const char *list)
{
	char buf[256], *tok, *save = NULL;
	uint32_t mask = 0;
	unsigned int k;

	if (list == NULL || strlen(list) >= sizeof(buf))
		return 0;
	strcpy(buf, list);
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		for (k = 0; k < LAB_NB_LOCKS; k++)
			if (strcmp(tok, lock_keys[k]) == 0)
				break;
		if (k == LAB_NB_LOCKS)
			return 0;
		mask |= 1u << k;
	}
	return mask;
}

void
lab_cores_get(rte_cpuset_t *cs)
{
	rte_cpuset_t l;
	unsigned int lc;

	CPU_ZERO(cs);
	RTE_LCORE_FOREACH (lc) {
		l = rte_lcore_cpuset(lc);
		CPU_OR(cs, cs, &l);
	}
}

static unsigned int
ncores(void)
{
	return CPU_COUNT(&lab_cores);
}

/* Task @p t's cores under the run's scenario: every lab core (oversub),
 * core idx (pinned, tasks <= cores) or core idx mod cores (stacked).
 * Returns the affinity call's result.
 */
static int
set_affinity(struct task *t)
{
	rte_cpuset_t cs;
	unsigned int c, n = 0, idx = t->idx;

	if (run.sc == LAB_OVERSUB) {
		cs = lab_cores;
	} else {
		idx %= ncores();
		CPU_ZERO(&cs);
		for (c = 0; c < CPU_SETSIZE; c++)
			if (CPU_ISSET(c, &lab_cores) && n++ == idx)
				CPU_SET(c, &cs);
	}
	t->cores = cs;
	return rte_thread_set_affinity(&cs);
}

/* One loop per lock so every lock call is inlined, as a user's would be;
 * name##_sampled() times every LAB_SAMPLE-th lock call into hist[task].
 */
#define LAB_LOOP(name, DECL, LOCK, UNLOCK)                                     \
	static uint64_t name(void)                                             \
	{                                                                      \
		uint64_t i;                                                    \
		for (i = 0; i < run.ops; i++) {                                \
			DECL;                                                  \
			if ((i & 255) == 0 &&                                  \
			    rte_get_timer_cycles() > run.deadline)             \
				break;                                         \
			LOCK;                                                  \
			L.count++;                                             \
			UNLOCK;                                                \
		}                                                              \
		return i;                                                      \
	}                                                                      \
	static uint64_t name##_sampled(struct task *t)                         \
	{                                                                      \
		uint64_t i, t0, *h = hist[t->idx].h;                           \
		uint32_t ph;                                                   \
		for (i = 0; i < run.ops; i++) {                                \
			DECL;                                                  \
			ph = __atomic_load_n(&lab_phase, __ATOMIC_RELAXED);    \
			if (unlikely(ph != t->seen) &&                         \
			    lab_phase_seen(t, ph, i))                          \
				break;                                         \
			if ((i & (LAB_SAMPLE - 1)) != 0) {                     \
				LOCK;                                          \
			} else {                                               \
				if (i == LAB_SAMPLE)                           \
					lab_task_in();                         \
				if ((i & 255) == 0 &&                          \
				    rte_get_timer_cycles() > run.deadline) {   \
					lab_stop_alarm(NULL);                  \
					break;                                 \
				}                                              \
				t0 = rte_rdtsc();                              \
				LOCK;                                          \
				t0 = rte_rdtsc() - t0;                         \
				h[hist_bucket(t0)]++;                          \
				h[LAB_HIST] += t0;                             \
			}                                                      \
			L.count++;                                             \
			UNLOCK;                                                \
		}                                                              \
		return i;                                                      \
	}

LAB_LOOP(loop_ticket, , vmp_pvlock_ticket_lock(&L.t),
	 vmp_pvlock_ticket_unlock(&L.t))
LAB_LOOP(loop_queue, , vmp_pvlock_q_lock(&L.q), vmp_pvlock_q_unlock(&L.q))
LAB_LOOP(loop_spin, , rte_spinlock_lock(&L.sl), rte_spinlock_unlock(&L.sl))
LAB_LOOP(loop_rte_ticket, , rte_ticketlock_lock(&L.tl),
	 rte_ticketlock_unlock(&L.tl))
LAB_LOOP(loop_mcs, rte_mcslock_t me, rte_mcslock_lock(&L.mcs, &me),
	 rte_mcslock_unlock(&L.mcs, &me))
LAB_LOOP(loop_pthread, , pthread_mutex_lock(&L.mtx),
	 pthread_mutex_unlock(&L.mtx))

static uint64_t run_loop(struct task *t);

static int
task_main(void *arg)
{
	struct task *t = arg;
	uint64_t start;
	int cpu;

	t->off_core = set_affinity(t) != 0;
	t->lcore = rte_lcore_id();
	/* start together: tasks launched late must not run alone */
	if (__atomic_add_fetch(&run.arrived, 1, __ATOMIC_ACQ_REL) ==
	    run.ntasks) {
		run.deadline = rte_get_timer_cycles() +
			       run.deadline; /* was the budget in cycles */
		/* the cap, for tasks stuck in a lock call (PH_STOP) */
		if (run.sample &&
		    rte_eal_alarm_set(run.cap_us, lab_stop_alarm, NULL) != 0)
			printf("locklab: no alarm: a capped run may overrun "
			       "its cap\n");
		__atomic_store_n(&run.start, rte_get_timer_cycles(),
				 __ATOMIC_RELEASE);
	}
	while ((start = __atomic_load_n(&run.start, __ATOMIC_ACQUIRE)) == 0)
		sched_yield(); /* oversubscribed: let the others arrive */
	t->ops = run_loop(run.sample ? t : NULL);
	if (t->ops == run.ops)
		lab_phase_set(PH_CLOSE); /* the first to finish closes it */
	lab_phase_seen(t, __atomic_load_n(&lab_phase, __ATOMIC_RELAXED),
		       t->ops);
	t->end_tsc = rte_get_timer_cycles();
	cpu = sched_getcpu();
	t->end_cpu = cpu;
	if (cpu < 0 || !CPU_ISSET(cpu, &t->cores))
		t->off_core = 1;
	return 0;
}

#define LAB_PICK(loop, t) ((t) != NULL ? loop##_sampled(t) : loop())

/* @p t: the task, whose acquisitions are timed, or NULL (untimed loop) */
static uint64_t
run_loop(struct task *t)
{
	switch (run.kind) {
	case LAB_TICKET_OFF:
	case LAB_TICKET_ON:
		return LAB_PICK(loop_ticket, t);
	case LAB_QUEUE_OFF:
	case LAB_QUEUE_ON:
		return LAB_PICK(loop_queue, t);
	case LAB_RTE_SPIN:
		return LAB_PICK(loop_spin, t);
	case LAB_RTE_TICKET:
		return LAB_PICK(loop_rte_ticket, t);
	case LAB_RTE_MCS:
		return LAB_PICK(loop_mcs, t);
	default:
		return LAB_PICK(loop_pthread, t);
	}
}

/* The @p per_mille-th quantile of the histograms of @p n tasks (1000: the
 * largest sample), in microseconds (upper bound of its bucket).
 */
static double
hist_quantile_us(unsigned int n, unsigned int per_mille)
{
	uint64_t sum = 0, acc = 0, c;
	unsigned int t, b;

	for (t = 0; t < n; t++)
		for (b = 0; b < LAB_HIST; b++)
			sum += hist[t].h[b];
	if (sum == 0)
		return 0;
	for (b = 0; b < LAB_HIST; b++) {
		for (c = 0, t = 0; t < n; t++)
			c += hist[t].h[b];
		acc += c;
		if (acc * 1000 >= sum * per_mille)
			break;
	}
	return hist_upper(b) * 1e6 / rte_get_tsc_hz();
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
one_run_init(const struct lab_conf *c)
{
	memset(&L, 0, sizeof(L));
	vmp_pvlock_ticket_init(&L.t, run.kind == LAB_TICKET_ON, c->spin);
	vmp_pvlock_q_init(&L.q, run.kind == LAB_QUEUE_ON, c->spin);
	if (c->steal_max_set)
		vmp_pvlock_q_steal_max_set(&L.q, c->steal_max);
	if (c->lead_max_set)
		vmp_pvlock_q_lead_max_set(&L.q, c->lead_max);
	rte_spinlock_init(&L.sl);
	rte_ticketlock_init(&L.tl);
	pthread_mutex_init(&L.mtx, NULL);
}

/* Task @p t's CPU time in the all-contend window, ns, and its pairs there
 * per CPU us (0 without CPU time): the two parts of its share
 */
static double
win_cpu_ns(const struct task *t)
{
	return (double)(t->cpu_ns[1] - t->cpu_ns[0]);
}

static double
win_rate(const struct task *t)
{
	double ns = win_cpu_ns(t);

	return ns > 0 ? (double)(t->at_close - t->at_open) * 1000.0 / ns : 0;
}

/* --detail: which tasks finish late, and why. Per task, in finishing
 * order: its finish time, the pairs it did, its time waiting in lock calls
 * (the sampled calls times LAB_SAMPLE), and for a PV lock the slow-path
 * events of its lcore in this run (steals it made, its halts, the kicks it
 * woke from). @p ev0: the per-task counters before the run.
 */
static void
print_detail(const struct vmp_pvlock_stats *ev0, uint64_t hz)
{
	enum vmp_pvlock_type type = run.kind == LAB_TICKET_ON
					    ? VMP_PVLOCK_TICKET
					    : VMP_PVLOCK_QUEUE;
	int pv = run.kind == LAB_TICKET_ON || run.kind == LAB_QUEUE_ON;
	unsigned int i, j, ord[LAB_MAX_TASKS];

	for (i = 0; i < run.ntasks; i++) {
		for (j = i; j > 0 &&
			    run.task[ord[j - 1]].end_tsc > run.task[i].end_tsc;
		     j--)
			ord[j] = ord[j - 1];
		ord[j] = i;
	}
	printf("  detail %s, %u tasks: task lcore finish_ms pairs window "
	       "wait_ms steals halts wakes win_cpu_ms pairs/cpu_us "
	       "win_preempts\n",
	       lock_names[run.kind], run.ntasks);
	for (j = 0; j < run.ntasks; j++) {
		const struct task *t = &run.task[ord[j]];
		struct vmp_pvlock_stats e = {0};

		if (pv)
			vmp_pvlock_stats_lcore_get(type, t->lcore, &e);
		printf("    %2u %3u %9.1f %8" PRIu64 " %7" PRIu64
		       " %8.1f %7" PRIu64 " %5" PRIu64 " %5" PRIu64
		       " %8.1f %6.1f %5" PRIu64 "\n",
		       t->idx, t->lcore,
		       (double)(t->end_tsc - run.start) * 1000.0 / hz, t->ops,
		       t->at_close - t->at_open,
		       (double)hist[t->idx].h[LAB_HIST] * LAB_SAMPLE * 1000.0 /
			       rte_get_tsc_hz(),
		       e.steal - ev0[t->idx].steal,
		       e.halt_waiter + e.halt_head - ev0[t->idx].halt_waiter -
			       ev0[t->idx].halt_head,
		       e.wakes - ev0[t->idx].wakes, win_cpu_ns(t) / 1e6,
		       win_rate(t), t->preempt[1] - t->preempt[0]);
	}
}

/* per-task counters before a run, for print_detail() (tasks' lcores are
 * the main lcore, then the workers in order, as one_run launches them)
 */
static void
detail_snapshot(struct vmp_pvlock_stats *ev0)
{
	enum vmp_pvlock_type type = run.kind == LAB_TICKET_ON
					    ? VMP_PVLOCK_TICKET
					    : VMP_PVLOCK_QUEUE;
	unsigned int i = 0, lc;

	RTE_LCORE_FOREACH (lc) {
		if (i >= run.ntasks)
			break;
		vmp_pvlock_stats_lcore_get(type, lc, &ev0[i]);
		hist[i].h[LAB_HIST] = 0;
		i++;
	}
}

static double
spread_pct(double mx, double mn)
{
	return mx > 0 ? (mx - mn) * 100.0 / mx : 0;
}

/* The window where all contend (a task finished, or the cap passed, before
 * every task had started: -1 in each): (max - min) / max, %, of the pairs
 * each task did in it (@p w[0], share spread), of the CPU time its thread
 * got (@p w[1]) and of its pairs per CPU us (@p w[2]). With every task
 * holding the lock in turn, its pairs are its CPU time times its rate: a
 * share spread with a flat rate is the scheduler's CPU split, one with a
 * flat CPU time is the lock's hand-out.
 */
static void
window_spreads(double w[3])
{
	double mx[3] = {0, 0, 0}, mn[3] = {1e300, 1e300, 1e300}, v[3];
	unsigned int i, k;

	if (run.window_empty) {
		w[0] = w[1] = w[2] = -1;
		return;
	}
	for (i = 0; i < run.ntasks; i++) {
		const struct task *t = &run.task[i];

		v[0] = (double)(t->at_close - t->at_open);
		v[1] = win_cpu_ns(t);
		v[2] = win_rate(t);
		for (k = 0; k < 3; k++) {
			mx[k] = RTE_MAX(mx[k], v[k]);
			mn[k] = RTE_MIN(mn[k], v[k]);
		}
	}
	for (k = 0; k < 3; k++)
		w[k] = spread_pct(mx[k], mn[k]);
}

/* one run: returns elapsed ms (extrapolated if capped), spread and the
 * window's spreads (window_spreads())
 */
static int
one_run(const struct lab_conf *c, double *ms, double *spread, double w[3],
	int *capped, uint64_t *pairs, int *off_core, int *end_cpu)
{
	unsigned int i, lc;
	uint64_t hz = rte_get_timer_hz(), sum = 0;
	double tmax = 0, tmin = 1e300, last = 0;
	struct vmp_pvlock_stats ev0[LAB_MAX_TASKS];

	one_run_init(c);
	detail_snapshot(ev0);
	run.arrived = 0;
	run.start = 0;
	run.deadline = c->max_ms * hz / 1000;
	run.cap_us = c->max_ms * 1000;
	lab_phase = 0;
	run.in = 0;
	run.window_empty = 0;
	for (i = 0; i < run.ntasks; i++)
		run.task[i] = (struct task){.idx = i};
	i = 1;
	RTE_LCORE_FOREACH_WORKER (lc) {
		if (i >= run.ntasks)
			break;
		if (rte_eal_remote_launch(task_main, &run.task[i], lc) != 0)
			return -EBUSY;
		i++;
	}
	task_main(&run.task[0]);
	rte_eal_mp_wait_lcore();
	/* waits for a callback already running; the next run re-arms */
	rte_eal_alarm_cancel(lab_stop_alarm, NULL);
	window_spreads(w);
	/* ms: the time until the last task finished its ops pairs; if the
	 * cap stopped the run, extrapolated at the pace the whole run kept
	 * (total pairs done), so one starved task does not blow it up.
	 * spread: each task's own time for its ops (extrapolated at its own
	 * pace if capped), (slowest - fastest) / slowest.
	 */
	*capped = 0;
	for (i = 0; i < run.ntasks; i++) {
		sum += run.task[i].ops;
		*off_core += run.task[i].off_core;
		end_cpu[i] = run.task[i].end_cpu;
	}
	for (i = 0; i < run.ntasks; i++) {
		struct task *t = &run.task[i];
		double tt = (double)(t->end_tsc - run.start) * 1000.0 / hz;

		last = RTE_MAX(last, tt);
		if (t->ops < run.ops) {
			*capped = 1;
			tt = t->ops ? tt * (double)run.ops / t->ops : 1e12;
		}
		tmax = RTE_MAX(tmax, tt);
		tmin = RTE_MIN(tmin, tt);
	}
	if (*capped)
		last = sum ? last * (double)run.ops * run.ntasks / sum : 1e12;
	if (L.count != sum) {
		printf("locklab: %s: count %" PRIu64 " != %" PRIu64
		       " pairs done: mutual exclusion broken\n",
		       lock_names[run.kind], L.count, sum);
		return -EIO;
	}
	*ms = last;
	*spread = spread_pct(tmax, tmin);
	if (c->detail) {
		printf("  run: %.1f ms, spread %.0f%%, share spread %.0f%% "
		       "(CPU time %.0f%%, pairs per CPU us %.0f%%)%s\n",
		       last, *spread, w[0], w[1], w[2],
		       *capped ? " (capped)" : "");
		print_detail(ev0, hz);
	}
	*pairs = sum;
	pthread_mutex_destroy(&L.mtx);
	return 0;
}

int
lab_run_cell(enum lab_lock k, enum lab_scenario sc, unsigned int tasks,
	     const struct lab_conf *c, struct lab_cell *out)
{
	double ms[64], sp[64], win[3][64], w[3];
	unsigned int r, i, nw = 0, reps = RTE_MIN(c->reps, 64u);
	enum vmp_pvlock_type type = k == LAB_TICKET_OFF || k == LAB_TICKET_ON
					    ? VMP_PVLOCK_TICKET
					    : VMP_PVLOCK_QUEUE;
	uint64_t pairs;
	int capped, rc;

	if (!lab_cores_known) {
		lab_cores_get(&lab_cores);
		lab_cores_known = 1;
	}
	if (tasks == 0 || tasks > LAB_MAX_TASKS || tasks > rte_lcore_count() ||
	    (sc == LAB_PINNED && tasks > ncores()) || reps == 0)
		return -EINVAL;
	run.kind = k;
	run.sc = sc;
	run.ntasks = tasks;
	run.ops = c->ops;
	run.sample = 1;
	memset(out, 0, sizeof(*out));
	memset(hist, 0, sizeof(hist));
	/* the counters are the cell's own (only PV locks count) */
	vmp_pvlock_stats_reset();
	for (r = 0; r < reps; r++) {
		rc = one_run(c, &ms[r], &sp[r], w, &capped, &pairs,
			     &out->off_core, out->end_cpu);
		if (rc != 0)
			return rc;
		if (w[0] >= 0) {
			for (i = 0; i < 3; i++)
				win[i][nw] = w[i];
			nw++;
		} else {
			out->no_window++;
		}
		out->capped += capped;
		out->pairs += pairs;
	}
	out->p99_us = hist_quantile_us(tasks, 990);
	out->p999_us = hist_quantile_us(tasks, 999);
	out->max_us = hist_quantile_us(tasks, 1000);
	if (k == LAB_TICKET_ON || k == LAB_QUEUE_ON)
		vmp_pvlock_stats_get(type, &out->ev);
	qsort(ms, reps, sizeof(ms[0]), cmp_double);
	qsort(sp, reps, sizeof(sp[0]), cmp_double);
	out->ms = ms[reps / 2];
	out->spread = sp[reps / 2];
	for (i = 0; i < 3; i++)
		qsort(win[i], nw, sizeof(win[i][0]), cmp_double);
	out->share = nw ? win[0][nw / 2] : -1;
	out->cpu = nw ? win[1][nw / 2] : -1;
	out->rate = nw ? win[2][nw / 2] : -1;
	return 0;
}

int
lab_uncontended(enum lab_lock k, unsigned int batches, uint64_t ops,
		double *min_ns, double *med_ns)
{
	double ns[256];
	unsigned int b;
	uint64_t t0, hz = rte_get_tsc_hz();
	struct lab_conf c = {.spin = 0};

	if (batches == 0 || batches > RTE_DIM(ns) || ops == 0)
		return -EINVAL;
	run.kind = k;
	run.ops = ops;
	run.ntasks = 1;
	run.sample = 0;
	one_run_init(&c);
	run.deadline = UINT64_MAX;
	for (b = 0; b < batches; b++) {
		t0 = rte_rdtsc_precise();
		run_loop(NULL);
		ns[b] = (double)(rte_rdtsc_precise() - t0) * 1e9 / hz / ops;
	}
	pthread_mutex_destroy(&L.mtx);
	qsort(ns, batches, sizeof(ns[0]), cmp_double);
	*min_ns = ns[0];
	*med_ns = ns[batches / 2];
	return 0;
}
