/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Waiting on another thread: tells a lost wake-up (asleep with work pending)
 * and a livelock (CPU time without progress) from a thread that is runnable
 * but not scheduled on a loaded host. See vmp_test_wait.h.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_lcore.h>
#include <rte_thread.h>

#include "vmp_test_wait.h"

#define NS_PER_MS UINT64_C(1000000)
#define NS_PER_S UINT64_C(1000000000)
#define SAMPLE_NS (10 * NS_PER_MS)
/* without meson's timeout in the environment (a run by hand) */
#define DEFAULT_TIMEOUT_S 120
/* a stall at least this long that ended in progress gets a note */
#define NOTE_STALL_NS NS_PER_S
#define MAX_NOTES 3

static uint64_t start_ns;

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* The time limit counts from process start, as meson's does. */
RTE_INIT(vmp_test_wait_start)
{
	start_ns = mono_ns();
}

uint64_t
vmp_test_time_left_ns(void)
{
	const char *e = getenv("VMPATH_TEST_TIMEOUT");
	uint64_t limit = DEFAULT_TIMEOUT_S, margin, end, now = mono_ns();

	if (e != NULL && strtoull(e, NULL, 10) > 0)
		limit = strtoull(e, NULL, 10);
	/* leave time to print the verdict and unwind before meson kills us */
	margin = RTE_MAX(UINT64_C(5), limit / 10);
	end = start_ns + (limit - RTE_MIN(margin, limit / 2)) * NS_PER_S;
	return now < end ? end - now : 0;
}

int
vmp_test_thread_sample(pid_t tid, struct vmp_test_thread_sample *s)
{
	char path[64], buf[512], *p;
	unsigned long long run, wait;
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	f = fopen(path, "r");
	if (f == NULL)
		return -errno;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	/* "tid (comm) S ...": comm may hold spaces and parentheses */
	p = p != NULL ? strrchr(buf, ')') : NULL;
	if (p == NULL || p[1] != ' ')
		return -EIO;
	s->state = p[2];
	snprintf(path, sizeof(path), "/proc/self/task/%d/schedstat", (int)tid);
	f = fopen(path, "r");
	if (f == NULL)
		return -errno;
	ok = fscanf(f, "%llu %llu", &run, &wait) == 2;
	fclose(f);
	if (!ok)
		return -EIO;
	s->run_ns = run;
	s->wait_ns = wait;
	return 0;
}

pid_t
vmp_test_thread_find(const char *name, bool prefix, pid_t after)
{
	char path[300], comm[32];
	struct dirent *de;
	pid_t tid = -ENOENT;
	DIR *d;

	d = opendir("/proc/self/task");
	if (d == NULL)
		return -ENOENT;
	while (tid < 0 && (de = readdir(d)) != NULL) {
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm",
			 de->d_name);
		f = fopen(path, "r");
		if (f == NULL)
			continue;
		if (fgets(comm, sizeof(comm), f) != NULL) {
			comm[strcspn(comm, "\n")] = '\0';
			if ((prefix ? strncmp(comm, name, strlen(name))
				    : strcmp(comm, name)) == 0 &&
			    atoi(de->d_name) > after)
				tid = (pid_t)atoi(de->d_name);
		}
		fclose(f);
	}
	closedir(d);
	return tid;
}

pid_t
vmp_test_lcore_tid(unsigned int lcore_id)
{
	char want[2][24];
	pid_t tid;

	if (lcore_id == rte_get_main_lcore())
		return getpid(); /* rte_eal_init() ran on the main thread */
	/* EAL names lcore threads rte-worker-N (lcore-worker-N before) */
	snprintf(want[0], sizeof(want[0]), "rte-worker-%u", lcore_id);
	snprintf(want[1], sizeof(want[1]), "lcore-worker-%u", lcore_id);
	tid = vmp_test_thread_find(want[0], false, 0);
	return tid > 0 ? tid : vmp_test_thread_find(want[1], false, 0);
}

int
vmp_test_wait_add_thread(struct vmp_test_wait *w, const char *name)
{
	pid_t tid = 0;
	int n = 0;

	while ((tid = vmp_test_thread_find(name, false, tid)) > 0) {
		if (w->nb == VMP_TEST_WAIT_MAX_THREADS)
			return -ENOSPC;
		w->lcore[w->nb] = VMP_TEST_WAIT_NOT_LCORE;
		w->tid[w->nb] = tid;
		vmp_test_thread_sample(tid, &w->at_progress[w->nb]);
		w->last[w->nb] = w->at_progress[w->nb];
		w->nb++;
		n++;
	}
	return n;
}

static void
sample_all(const struct vmp_test_wait *w, struct vmp_test_thread_sample *s)
{
	unsigned int i;

	for (i = 0; i < w->nb; i++)
		if (w->tid[i] < 0 ||
		    vmp_test_thread_sample(w->tid[i], &s[i]) != 0)
			s[i] = (struct vmp_test_thread_sample){.state = '?'};
}

int
vmp_test_wait_lcores(struct vmp_test_wait *w, const char *what,
		     const unsigned int *lcores, unsigned int nb,
		     unsigned int cpu_ms)
{
	unsigned int i;
	uint64_t now = mono_ns();

	if (nb > VMP_TEST_WAIT_MAX_THREADS)
		return -EINVAL;
	memset(w, 0, sizeof(*w));
	w->what = what;
	w->nb = nb;
	for (i = 0; i < nb; i++) {
		w->lcore[i] = lcores[i];
		w->tid[i] = vmp_test_lcore_tid(lcores[i]);
	}
	w->asleep_ns = VMP_TEST_WAIT_ASLEEP_MS * NS_PER_MS;
	w->cpu_ns = (uint64_t)cpu_ms * NS_PER_MS;
	w->end_ns = now + vmp_test_time_left_ns();
	w->since_ns = now;
	w->next_ns = now + SAMPLE_NS;
	sample_all(w, w->at_progress);
	memcpy(w->last, w->at_progress, sizeof(w->last));
	return 0;
}

void
vmp_test_wait_init(struct vmp_test_wait *w, const char *what,
		   unsigned int cpu_ms)
{
	unsigned int l, lc[VMP_TEST_WAIT_MAX_THREADS], n = 0;

	/* an idle lcore (WAIT) runs nothing the caller could wait for; a
	 * service lcore may not have picked up its launch yet */
	RTE_LCORE_FOREACH_WORKER (l) {
		if (n < RTE_DIM(lc) && (rte_eal_get_lcore_state(l) != WAIT ||
					rte_eal_lcore_role(l) == ROLE_SERVICE))
			lc[n++] = l;
	}
	vmp_test_wait_lcores(w, what, lc, n, cpu_ms);
}

/* "lcore 1 (tid 77) S: +0 ms on CPU, +1900 ms runnable" per thread */
static int
describe(const struct vmp_test_wait *w, char *buf, size_t len)
{
	unsigned int i;
	char who[24];
	int n = 0;

	buf[0] = '\0';

	for (i = 0; i < w->nb && (size_t)n < len; i++) {
		if (w->lcore[i] == VMP_TEST_WAIT_NOT_LCORE)
			snprintf(who, sizeof(who), "thread");
		else
			snprintf(who, sizeof(who), "lcore %u", w->lcore[i]);
		n += snprintf(buf + n, len - n,
			      "%s%s (tid %d) %c: +%" PRIu64
			      " ms on CPU, +%" PRIu64 " ms runnable",
			      i ? "; " : "", who, (int)w->tid[i],
			      w->last[i].state,
			      (w->last[i].run_ns - w->at_progress[i].run_ns) /
				      NS_PER_MS,
			      (w->last[i].wait_ns - w->at_progress[i].wait_ns) /
				      NS_PER_MS);
	}
	return n;
}

static int
give_up(struct vmp_test_wait *w, const char *kind, uint64_t now)
{
	char threads[512];
	int n;

	describe(w, threads, sizeof(threads));
	n = snprintf(
		w->verdict, sizeof(w->verdict),
		"%s: %s: no progress past %" PRIu64 " for %" PRIu64 " ms; ",
		kind, w->what, w->progress, (now - w->since_ns) / NS_PER_MS);
	snprintf(w->verdict + n, sizeof(w->verdict) - n, "%s", threads);
	printf("    %s\n", w->verdict);
	fflush(stdout);
	return -ETIMEDOUT;
}

/* A long stall that ended in progress: say what the threads were doing. */
static void
note_stall(struct vmp_test_wait *w, uint64_t now)
{
	char threads[512];

	if (now - w->since_ns > w->starved_max_ns)
		w->starved_max_ns = now - w->since_ns;
	if (now - w->since_ns < NOTE_STALL_NS || w->nb_notes >= MAX_NOTES)
		return;
	w->nb_notes++;
	sample_all(w, w->last);
	describe(w, threads, sizeof(threads));
	printf("    note: %s: progress after a %" PRIu64 " ms stall; %s\n",
	       w->what, (now - w->since_ns) / NS_PER_MS, threads);
}

int
vmp_test_wait_check(struct vmp_test_wait *w, uint64_t progress)
{
	uint64_t now = mono_ns(), min_cpu = UINT64_MAX;
	struct vmp_test_thread_sample s[VMP_TEST_WAIT_MAX_THREADS];
	bool all_asleep = w->nb > 0;
	unsigned int i;

	if (progress != w->progress) {
		/* deadlines count from the last unit of work done */
		note_stall(w, now);
		w->progress = progress;
		w->since_ns = now;
		w->asleep_since_ns = 0;
		w->rebase = 1;
		return 0;
	}
	if (now < w->next_ns)
		return 0;
	w->next_ns = now + SAMPLE_NS;
	sample_all(w, s);
	if (w->rebase) {
		w->rebase = 0;
		memcpy(w->at_progress, s, sizeof(s[0]) * w->nb);
		memcpy(w->last, s, sizeof(s[0]) * w->nb);
		return 0;
	}
	for (i = 0; i < w->nb; i++) {
		/* asleep: blocked, and not even briefly on a CPU since the
		 * last sample (a thread that naps and polls is awake) */
		if (!((s[i].state == 'S' || s[i].state == 'D') &&
		      s[i].run_ns == w->last[i].run_ns))
			all_asleep = false;
		min_cpu = RTE_MIN(min_cpu,
				  s[i].run_ns - w->at_progress[i].run_ns);
	}
	memcpy(w->last, s, sizeof(s[0]) * w->nb);
	if (!all_asleep)
		w->asleep_since_ns = 0;
	else if (w->asleep_since_ns == 0)
		w->asleep_since_ns = now;
	else if (now - w->asleep_since_ns >= w->asleep_ns)
		return give_up(w, "lost wake-up (asleep with work pending)",
			       now);
	if (w->cpu_ns > 0 && w->nb > 0 && min_cpu >= w->cpu_ns)
		return give_up(w, "no progress (ran on a CPU without progress)",
			       now);
	if (now >= w->end_ns) {
		char kind[128];

		/* progress may have come just before the limit: say how long
		 * the longest stall of this wait was */
		snprintf(kind, sizeof(kind),
			 "starved (runnable but not scheduled until the test's "
			 "time limit; longest stall %" PRIu64 " ms)",
			 RTE_MAX(w->starved_max_ns, now - w->since_ns) /
				 NS_PER_MS);
		return give_up(w, kind, now);
	}
	return 0;
}

static void *
watchdog_main(void *arg)
{
	struct vmp_test_watchdog *wd = arg;

	while (!wd->stop) {
		if (vmp_test_wait_check(&wd->w, *wd->progress) != 0) {
			printf("  FAIL watchdog: %s\n", wd->w.verdict);
			fflush(stdout);
			_exit(1);
		}
		usleep(10000);
	}
	return NULL;
}

int
vmp_test_watchdog_start(struct vmp_test_watchdog *wd,
			const volatile uint64_t *progress)
{
	wd->progress = progress;
	wd->stop = 0;
	return rte_ctrl_thread_create(&wd->thread, "vmpt-watchdog", NULL,
				      watchdog_main, wd);
}

void
vmp_test_watchdog_stop(struct vmp_test_watchdog *wd)
{
	wd->stop = 1;
	pthread_join(wd->thread, NULL);
}
