/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * "No system call on the submit path while workers are awake", checked by
 * the kernel rather than by counters: Linux syscall user dispatch
 * (PR_SET_SYSCALL_USER_DISPATCH, 5.11+) turns every system call made by this
 * thread while the selector says BLOCK into a SIGSYS, which we count. The
 * window covers prepare, commit and poll_done of up to 20000 requests against
 * an awake (spinning) worker. A control call (a futex wake inside the window)
 * shows that a system call there is caught.
 */
#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include <linux/prctl.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_memory.h>
#include <rte_pause.h>

#include <vmp_common.h>
#include <vmp_workpool.h>

#include "test_workpool.h"
#include "vmp_test.h"
#include "vmp_test_wait.h"

/* at least this many requests, however long a loaded host takes */
#define NOSYS_MIN 32

static volatile char sud_selector = SYSCALL_DISPATCH_FILTER_ALLOW;
static volatile unsigned int sud_count;
static volatile int sud_nr = -1;

static void
sud_sigsys(int sig __rte_unused, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;

	sud_count++;
	sud_nr = si->si_syscall;
	/* the intercepted call did not run: make it fail */
	uc->uc_mcontext.gregs[REG_RAX] = -ENOSYS;
	/* let this handler's own rt_sigreturn through; one catch is enough */
	sud_selector = SYSCALL_DISPATCH_FILTER_ALLOW;
}

/* Start counting this thread's system calls; -errno if unsupported. */
static int
sud_begin(struct sigaction *old)
{
	struct sigaction sa = {.sa_sigaction = sud_sigsys,
			       .sa_flags = SA_SIGINFO};

	if (sigaction(SIGSYS, &sa, old) != 0)
		return -errno;
	if (prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, 0, 0,
		  &sud_selector) != 0) {
		int rc = -errno;

		sigaction(SIGSYS, old, NULL);
		return rc;
	}
	sud_count = 0;
	sud_nr = -1;
	__atomic_store_n(&sud_selector, SYSCALL_DISPATCH_FILTER_BLOCK,
			 __ATOMIC_SEQ_CST);
	return 0;
}

/* Stop; returns how many system calls were caught. */
static unsigned int
sud_end(const struct sigaction *old)
{
	__atomic_store_n(&sud_selector, SYSCALL_DISPATCH_FILTER_ALLOW,
			 __ATOMIC_SEQ_CST);
	prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_OFF, 0, 0, 0);
	sigaction(SIGSYS, old, NULL);
	return sud_count;
}

static void
ns_handler(void *data, unsigned int worker __rte_unused, void *arg __rte_unused)
{
	uint64_t *v = data;

	v[1] = v[0] + 1;
}

static void
ns_done(void *data, void *arg)
{
	uint64_t *v = data;

	if (v[1] == v[0] + 1)
		(*(uint64_t *)arg)++;
}

int
test_no_syscall_when_awake(void)
{
	const uint64_t max = 20000;
	struct vmp_pool_params p = {0};
	struct vmp_pool_stats s;
	struct vmp_pool *pool;
	struct vmp_pool_req *req;
	struct sigaction old;
	uint64_t good = 0, i, budget, limit;
	uint32_t dummy = 0;
	unsigned int caught;
	int rc;

	if (rte_lcore_count() < 2)
		return TEST_SKIPPED;
	/* control: a system call inside the window is caught */
	rc = sud_begin(&old);
	if (rc != 0) {
		printf("    syscall user dispatch unavailable (%d)\n", rc);
		return TEST_SKIPPED;
	}
	vmp_halt_kick(&dummy, 1);
	caught = sud_end(&old);
	TEST_ASSERT_EQUAL(caught, 1, "control futex wake not caught");
	TEST_ASSERT_EQUAL(sud_nr, SYS_futex, "control caught syscall %d",
			  sud_nr);

	p.name = "nosys";
	p.nb_workers = 1;
	p.req_size = 2 * sizeof(uint64_t);
	p.spin_polls = VMP_POOL_SPIN_FOREVER; /* the worker stays awake */
	p.dispatch = VMP_POOL_DISPATCH_LEAST_LOADED;
	p.handler = ns_handler;
	p.done = ns_done;
	p.cb_arg = &good;
	p.socket_id = SOCKET_ID_ANY;
	pool = vmp_pool_create(&p);
	TEST_ASSERT_NOT_NULL(pool, "create: %d", rte_errno);

	/* the test's own time limit, taken before system calls are caught:
	 * a worker starved by a loaded host is waited for up to there */
	limit = rte_rdtsc() +
		vmp_test_time_left_ns() / 1000 * rte_get_tsc_hz() / 1000000;
	TEST_ASSERT_SUCCESS(sud_begin(&old), "dispatch on");
	/*
	 * No printf, no yield, no clock_gettime (TSC only) in here. Bounded to
	 * 2 s: with lcores sharing cores the spinning submitter and worker
	 * may share one, and then progress is one scheduler tick at a time.
	 * At least NOSYS_MIN requests, up to the time limit.
	 */
	budget = rte_rdtsc() + 2 * rte_get_tsc_hz();
	for (i = 0; i < max && rte_rdtsc() < limit &&
		    (i < NOSYS_MIN || rte_rdtsc() < budget);) {
		req = vmp_pool_submit_prepare(pool);
		if (req == NULL) {
			if (vmp_pool_poll_done(pool, 0) == 0)
				rte_pause();
			continue;
		}
		((uint64_t *)vmp_pool_req_data(req))[0] = i++;
		vmp_pool_submit_commit(pool, req);
	}
	while (vmp_pool_in_flight(pool) != 0 && rte_rdtsc() < limit)
		vmp_pool_poll_done(pool, 0);
	caught = sud_end(&old);

	/* clean up before judging: never leak a pool with a spinning worker */
	vmp_pool_wait_done(pool);
	vmp_pool_stats_get(pool, &s);
	rc = vmp_pool_destroy(pool);

	TEST_ASSERT_EQUAL(caught, 0, "submit path made system call %d", sud_nr);
	TEST_ASSERT(i >= NOSYS_MIN,
		    "only %" PRIu64 " requests by the test's time limit", i);
	TEST_ASSERT_EQUAL_U64(good, i, "completed correctly");
	TEST_ASSERT_EQUAL_U64(s.kicks, 0, "kicks");
	TEST_ASSERT_EQUAL_U64(s.worker[0].halts, 0, "halts");
	TEST_ASSERT_SUCCESS(rc, "destroy");
	printf("    %" PRIu64 " requests, 0 system calls on the submit path "
	       "(control: futex caught)\n",
	       i);
	return TEST_SUCCESS;
}
