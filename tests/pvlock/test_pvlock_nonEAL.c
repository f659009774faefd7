/* SPDX-License-Identifier: BSD-3-Clause */
/* lib/pvlock: waiters that are not EAL lcores. Threads registered with
 * rte_thread_register() have an lcore id and may halt on a PV lock like an
 * EAL lcore; the unlocker must find and kick them. Here registered threads
 * contend (more tasks than cores, spin 16 so that they halt often) with an
 * exact non-atomic count. The main lcore holds the lock until one of them
 * halted, so an unlock always kicks one, then only watches. A lost wake-up
 * shows as no progress at all for NE_HANG_MS: the test reports the hang (who is
 * stuck, the halt/kick counters) and fails instead of hanging. No EAL worker
 * takes part: one stuck in a lost wake-up would keep the process from
 * exiting, while stuck registered threads end with it.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_pause.h>

#include <vmp_pvlock.h>

#include "vmp_test.h"

#define NE_THREADS 4	/* registered non-EAL threads */
#define NE_SECONDS 2	/* per lock: stop starting new pairs */
#define NE_ITERS 200000 /* per task, at most */
#define NE_HANG_MS 5000 /* no progress at all this long: a lost wake-up */

static struct vmp_pvlock_ticket ne_tlock;
static struct vmp_pvlock_q ne_qlock;
static int ne_queue;
static uint64_t ne_deadline;
static uint64_t ne_count; /* non-atomic on purpose */
static uint32_t ne_arrived, ne_ntasks;

struct ne_task {
	uint64_t done;	/* pairs done, read by the watcher */
	uint32_t over;	/* finished */
	int registered; /* non-EAL thread: rte_thread_register() result */
	unsigned int lcore;
} __rte_cache_aligned;

static struct ne_task ne_task[NE_THREADS];
static int ne_hung; /* a run hung: its threads are stuck for good */

static void
ne_lock(void)
{
	if (ne_queue)
		vmp_pvlock_q_lock(&ne_qlock);
	else
		vmp_pvlock_ticket_lock(&ne_tlock);
}

static void
ne_unlock(void)
{
	if (ne_queue)
		vmp_pvlock_q_unlock(&ne_qlock);
	else
		vmp_pvlock_ticket_unlock(&ne_tlock);
}

static void
ne_loop(struct ne_task *t)
{
	uint64_t i;

	t->lcore = rte_lcore_id();
	__atomic_fetch_add(&ne_arrived, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(&ne_arrived, __ATOMIC_ACQUIRE) < ne_ntasks)
		rte_pause();
	for (i = 0; i < NE_ITERS; i++) {
		uint64_t v;

		if ((i & 63) == 0 && rte_get_timer_cycles() > ne_deadline)
			break;
		ne_lock();
		v = *(volatile uint64_t *)&ne_count;
		rte_pause();
		*(volatile uint64_t *)&ne_count = v + 1;
		ne_unlock();
		__atomic_store_n(&t->done, i + 1, __ATOMIC_RELAXED);
	}
	__atomic_store_n(&t->over, 1, __ATOMIC_RELEASE);
}

static void *
ne_thread(void *arg)
{
	struct ne_task *t = arg;

	/* an lcore id of its own, role non-EAL */
	t->registered = rte_thread_register();
	if (t->registered != 0 || rte_lcore_id() == LCORE_ID_ANY) {
		t->registered = -1;
		__atomic_fetch_add(&ne_arrived, 1, __ATOMIC_ACQ_REL);
		__atomic_store_n(&t->over, 1, __ATOMIC_RELEASE);
		return NULL;
	}
	ne_loop(t);
	rte_thread_unregister();
	return NULL;
}

static uint64_t
ne_progress(unsigned int n, unsigned int *over)
{
	uint64_t sum = 0;
	unsigned int i;

	*over = 0;
	for (i = 0; i < n; i++) {
		sum += __atomic_load_n(&ne_task[i].done, __ATOMIC_RELAXED);
		*over += __atomic_load_n(&ne_task[i].over, __ATOMIC_ACQUIRE);
	}
	return sum;
}

/* Wait for every task, or for HANG_MS without progress: 0 or -ETIMEDOUT. */
static int
ne_watch(unsigned int n)
{
	uint64_t hz = rte_get_timer_hz(), last = UINT64_MAX, since = 0, now;
	unsigned int over;
	uint64_t p;

	for (;;) {
		p = ne_progress(n, &over);
		now = rte_get_timer_cycles();
		if (over == n)
			return 0;
		if (p != last) {
			last = p;
			since = now;
		} else if (now - since > NE_HANG_MS * hz / 1000) {
			return -ETIMEDOUT;
		}
		usleep(10000);
	}
}

static int
ne_report_hang(const char *what, unsigned int n)
{
	enum vmp_pvlock_type type =
		ne_queue ? VMP_PVLOCK_QUEUE : VMP_PVLOCK_TICKET;
	struct vmp_pvlock_stats st;
	unsigned int i;

	vmp_pvlock_stats_get(type, &st);
	printf("    %s: HANG, no lock/unlock pair for %d ms: a lost "
	       "wake-up; halts %" PRIu64 "/%" PRIu64 " kicks %" PRIu64
	       "/%" PRIu64 "\n",
	       what, NE_HANG_MS, st.halt_waiter, st.halt_head, st.kick,
	       st.kick_nohalt);
	for (i = 0; i < n; i++)
		if (!__atomic_load_n(&ne_task[i].over, __ATOMIC_ACQUIRE))
			printf("      stuck: registered thread, lcore %u, "
			       "%" PRIu64 " pairs done\n",
			       ne_task[i].lcore, ne_task[i].done);
	fflush(stdout);
	ne_hung = 1;
	return TEST_FAILED;
}

/*
 * The main lcore holds the lock while the threads start, until one of them
 * halted on it (or NE_HANG_MS): then its unlock must kick a registered
 * thread, whatever the scheduler does afterwards (left alone, 4 threads on
 * 2 cores sometimes ran one after another and never halted).
 * @return 0 once a thread halted, -ETIMEDOUT if none did.
 */
static int
ne_hold_until_halt(enum vmp_pvlock_type type)
{
	uint64_t hz = rte_get_timer_hz();
	uint64_t t_end = rte_get_timer_cycles() + NE_HANG_MS * hz / 1000;
	struct vmp_pvlock_stats st;

	do {
		usleep(1000);
		vmp_pvlock_stats_get(type, &st);
		if (st.halt_waiter + st.halt_head > 0)
			return 0;
	} while (rte_get_timer_cycles() < t_end);
	return -ETIMEDOUT;
}

static int
ne_run(int queue, const char *what)
{
	pthread_t th[NE_THREADS];
	uint64_t total = 0;
	unsigned int i, n = NE_THREADS;
	struct vmp_pvlock_stats st;
	enum vmp_pvlock_type type =
		queue ? VMP_PVLOCK_QUEUE : VMP_PVLOCK_TICKET;
	int held;

	if (ne_hung) {
		printf("    %s: not run, the threads of a hung run hold the "
		       "lcore ids\n",
		       what);
		return TEST_FAILED;
	}
	ne_queue = queue;
	ne_count = 0;
	ne_arrived = 0;
	ne_ntasks = n;
	memset(ne_task, 0, sizeof(ne_task));
	vmp_pvlock_stats_reset();
	if (queue)
		TEST_ASSERT_SUCCESS(vmp_pvlock_q_init(&ne_qlock, 1, 16), "");
	else
		TEST_ASSERT_SUCCESS(vmp_pvlock_ticket_init(&ne_tlock, 1, 16),
				    "");
	ne_deadline = rte_get_timer_cycles() + NE_SECONDS * rte_get_timer_hz();
	ne_lock();
	for (i = 0; i < NE_THREADS; i++)
		TEST_ASSERT_SUCCESS(
			pthread_create(&th[i], NULL, ne_thread, &ne_task[i]),
			"pthread_create");
	held = ne_hold_until_halt(type);
	ne_unlock();
	if (ne_watch(n) != 0)
		return ne_report_hang(what, n); /* stuck threads stay stuck */
	for (i = 0; i < NE_THREADS; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < n; i++) {
		TEST_ASSERT(ne_task[i].registered == 0,
			    "rte_thread_register failed");
		TEST_ASSERT(ne_task[i].lcore != LCORE_ID_ANY, "no lcore id");
		total += ne_task[i].done;
	}
	vmp_pvlock_stats_get(type, &st);
	printf("    %-14s %u registered threads, %" PRIu64
	       " pairs, halts %" PRIu64 "/%" PRIu64 " kicks %" PRIu64
	       "/%" PRIu64 "\n",
	       what, n, total, st.halt_waiter, st.halt_head, st.kick,
	       st.kick_nohalt);
	fflush(stdout);
	TEST_ASSERT_EQUAL_U64(ne_count, total, "%s: lost updates", what);
	TEST_ASSERT_SUCCESS(held,
			    "%s: no thread halted while the main lcore held "
			    "the lock for %d ms",
			    what, NE_HANG_MS);
	TEST_ASSERT(st.halt_waiter + st.halt_head > 0,
		    "%s: no waiter halted, the wake-up path was not exercised",
		    what);
	return TEST_SUCCESS;
}

static int
test_ticket_nonEAL(void)
{
	return ne_run(0, "ticket PV on");
}

static int
test_queue_nonEAL(void)
{
	return ne_run(1, "queue PV on");
}

static struct vmp_test_suite nonEAL_suite = {
	.name = "pvlock non-EAL waiters",
	.cases =
		{
			TEST_CASE(test_ticket_nonEAL),
			TEST_CASE(test_queue_nonEAL),
			TEST_CASES_END(),
		},
};

static int
test_pvlock_nonEAL(void)
{
	if (rte_lcore_count() < 2)
		return TEST_SKIPPED;
	return vmp_test_suite_run(&nonEAL_suite);
}

REGISTER_TEST_COMMAND(pvlock_nonEAL_autotest, test_pvlock_nonEAL);
