/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VMP_TEST_WAIT_H
#define VMP_TEST_WAIT_H

/**
 * @file
 * Waiting on another thread in a test, on a host that is doing other work.
 *
 * A test that waits for a worker, an engine lcore or a lock holder cannot
 * tell from wall-clock time alone whether that thread lost a wake-up or was
 * simply not scheduled: on a loaded host a runnable thread can stay off the
 * CPU for tens of seconds. This helper samples the awaited threads'
 * /proc/self/task/<tid>/stat (state) and schedstat (time on the CPU, time
 * runnable but waiting for one) and gives one of three verdicts:
 *
 * - "asleep with work pending": every awaited thread slept (S/D, no CPU time
 *   gained) for asleep_ms with no progress: a lost wake-up. Fails quickly.
 * - "no progress": each awaited thread ran cpu_ms of CPU time since the last
 *   progress: spinning without doing the work (livelock, lost update).
 * - "starved": neither, until the test's time limit (meson's timeout, passed
 *   in VMPATH_TEST_TIMEOUT, minus a margin): the threads were runnable but
 *   not scheduled. Reported as such, so a user can tell it from a bug.
 *
 * Each call with a larger progress value resets both bounds: deadlines are
 * per unit of work, not per run.
 *
 *   struct vmp_test_wait w;
 *
 *   vmp_test_wait_init(&w, "drain", 2000);       // every worker lcore
 *   while (in_flight(pool) != 0) {
 *           if (vmp_test_wait_check(&w, nb_done) != 0)
 *                   break;                        // w.verdict says why
 *           poll(pool);
 *   }
 */

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define VMP_TEST_WAIT_MAX_THREADS 16

/** One sample of a thread, from /proc/self/task/<tid>/{stat,schedstat}. */
struct vmp_test_thread_sample {
	char state;	  /**< R running or runnable, S sleeping, D ... */
	uint64_t run_ns;  /**< time on a CPU */
	uint64_t wait_ns; /**< time runnable, waiting for a CPU */
};

/** A wait on a set of threads; fields are private except verdict. */
struct vmp_test_wait {
	const char *what;
	unsigned int nb;
	unsigned int lcore[VMP_TEST_WAIT_MAX_THREADS];
	pid_t tid[VMP_TEST_WAIT_MAX_THREADS];
	uint64_t asleep_ns; /**< all asleep this long: lost wake-up */
	uint64_t cpu_ns;    /**< each ran this much: no progress */
	uint64_t end_ns;    /**< give up (starved) at this monotonic time */
	uint64_t progress;
	uint64_t next_ns;	  /* next sample */
	uint64_t since_ns;	  /* last progress */
	uint64_t asleep_since_ns; /* 0: some thread awake */
	uint64_t starved_max_ns;  /* longest stall that ended in progress */
	unsigned int nb_notes;
	int rebase; /* take the at_progress sample at the next check */
	struct vmp_test_thread_sample at_progress[VMP_TEST_WAIT_MAX_THREADS];
	struct vmp_test_thread_sample last[VMP_TEST_WAIT_MAX_THREADS];
	char verdict[640]; /**< why vmp_test_wait_check() gave up */
};

/** Default bound for "asleep with work pending", in ms. */
#define VMP_TEST_WAIT_ASLEEP_MS 2000

/**
 * Sample thread @p tid of this process.
 * @return 0, or -errno (-ENOENT: no such thread).
 */
int vmp_test_thread_sample(pid_t tid, struct vmp_test_thread_sample *s);

/**
 * Thread of this process named @p name (or whose name starts with it, if
 * @p prefix), the first one whose tid is above @p after (0: any).
 * @return the tid, or -ENOENT.
 */
pid_t vmp_test_thread_find(const char *name, bool prefix, pid_t after);

/**
 * Thread id of EAL lcore @p lcore_id (the main lcore is the main thread),
 * found by the name EAL gives its threads.
 * @return the tid, or -ENOENT.
 */
pid_t vmp_test_lcore_tid(unsigned int lcore_id);

/**
 * Nanoseconds left before the test's own time limit (VMPATH_TEST_TIMEOUT
 * seconds from process start, less a margin for reporting); 0 when past it.
 */
uint64_t vmp_test_time_left_ns(void);

/**
 * Start a wait on every busy worker lcore (not the main one, not one idle
 * in WAIT: running a pool's worker, a service, a launched function), with
 * asleep_ms = VMP_TEST_WAIT_ASLEEP_MS and the given CPU-time bound. Use
 * vmp_test_wait_lcores() to wait on chosen lcores instead.
 */
void vmp_test_wait_init(struct vmp_test_wait *w, const char *what,
			unsigned int cpu_ms);

/**
 * Start a wait on @p nb lcores (at most VMP_TEST_WAIT_MAX_THREADS).
 * @return 0, or -EINVAL.
 */
int vmp_test_wait_lcores(struct vmp_test_wait *w, const char *what,
			 const unsigned int *lcores, unsigned int nb,
			 unsigned int cpu_ms);

/** lcore[] of a thread added by name */
#define VMP_TEST_WAIT_NOT_LCORE UINT32_MAX

/**
 * Also wait on every thread of this process named @p name (its comm, e.g.
 * "vhost-events", rte_vhost's message thread), after a wait_init.
 * @return how many were added, or -ENOSPC.
 */
int vmp_test_wait_add_thread(struct vmp_test_wait *w, const char *name);

/**
 * Call in the wait loop with the count of work units done so far (any
 * monotonic counter). Samples the threads at most every 10 ms.
 * @return 0: keep waiting; -ETIMEDOUT: give up, the verdict ("lost wake-up:
 *   ... asleep with work pending", "no progress: ...", "starved: ...") is
 *   in w->verdict and was printed.
 */
int vmp_test_wait_check(struct vmp_test_wait *w, uint64_t progress);

/**
 * A wait checked by a control thread, for a test whose own threads may all
 * block (contenders of a lock): every 10 ms it checks @p w (set up by the
 * caller) against *@p progress; when @p w gives up, it prints the verdict
 * and ends the process with exit status 1, since the threads that lost
 * their wake-up cannot be stopped.
 */
struct vmp_test_watchdog {
	struct vmp_test_wait w;
	const volatile uint64_t *progress;
	volatile int stop;
	pthread_t thread;
};

/** @return 0, or -errno from rte_ctrl_thread_create(). */
int vmp_test_watchdog_start(struct vmp_test_watchdog *wd,
			    const volatile uint64_t *progress);
void vmp_test_watchdog_stop(struct vmp_test_watchdog *wd);

#endif /* VMP_TEST_WAIT_H */
