/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Copy benchmark: dma_swdma vs dma_skeleton vs plain rte_memcpy on one
 * lcore, same process, same buffers, interleaved repetitions, medians.
 * The memcpy anchor runs on lcore 1, the core the engines get (memcpy@0,
 * on the submitting core, is printed too: on a shared machine the two
 * cores are not equally loaded).
 *
 *   vmpath-test -l 0-1 --no-huge -m 512 --no-pci swdma_perf_autotest
 *   (SWDMA_BENCH_MS=ms per cell, default 60; SWDMA_BENCH_REPS, default 7;
 *    SWDMA_BENCH_ARGS=devargs of dma_swdma, default "lcores=1";
 *    SWDMA_BENCH_RING=descriptors per vchan, 64..4096, default 4096)
 *
 * The submitting lcore is the main lcore (0); every engine runs on lcore 1:
 * two dma_swdma devices (polling, and idle_us=20) whose engines are services
 * on lcore 1, and dma_skeleton's copy thread pinned to lcore 1 (devarg
 * lcore=1). All devices live for the whole run; each cell (size, batch) is
 * measured for every engine back to back, in a rotating order, with only
 * the measured engine runnable on lcore 1 (the other swdma service
 * disabled, the service lcore stopped for the skeleton and the memcpy@1
 * anchor, the skeleton device stopped otherwise). "batch" is the number of
 * copies per doorbell (rte_dma_submit); the ring (4096: a deep queue
 * bridges the moments a time-shared machine deschedules the submitter or
 * the engine) is kept as full as it gets and completions are reaped 64 at
 * a time. Prints, asserts nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_memcpy.h>
#include <rte_service.h>

#include <rte_pmd_swdma.h>

#include "swdma_test.h"
#include "vmp_test.h"

#define WS (4u << 20)		/* bytes per side cycled through */
static uint16_t nb_desc = 4096; /* SWDMA_BENCH_RING */

/* memcpy anchors: on lcore 1 (where the engines run) and on lcore 0 */
enum eng { E_SWDMA, E_SWDMA_IDLE, E_SKEL, E_MEMCPY, E_MEMCPY0, E_N };
static const char *const eng_name[E_N] = {"swdma", "swdma-idle", "skeleton",
					  "memcpy@1", "memcpy@0"};
static const uint32_t sizes[] = {64, 256, 1024, 4096, 16384, 65536};
static const uint16_t batches[] = {1, 8, 32};
#define NS RTE_DIM(sizes)
#define NB RTE_DIM(batches)
#define MAX_REPS 15

static uint8_t *src, *dst;
static double res[E_N][NS][NB][MAX_REPS]; /* copies per second */
/* copies per second of CPU time of the thread doing the copies (the
 * engine thread, or the memcpy lcore): what the engine costs, whatever
 * share of the core a loaded machine gives it */
static double res_cpu[E_N][NS][NB][MAX_REPS];
static pid_t tid_lcore1;
static unsigned int reps_run;

/* CPU time of any thread of this process (the kernel's per-thread CPU
 * clock id for a tid: ~tid << 3 | CPUCLOCK_PERTHREAD | CPUCLOCK_SCHED) */
static uint64_t
thread_cpu_ns(pid_t tid)
{
	clockid_t cid = (clockid_t)((~(unsigned int)tid << 3) | 6);
	struct timespec ts;

	if (tid <= 0 || clock_gettime(cid, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* tid of the first thread of this process whose name starts with @p p */
static pid_t
find_thread(const char *p)
{
	pid_t tid = vmp_test_thread_find(p, true, 0);

	return tid > 0 ? tid : 0;
}

static int
record_tid(void *arg)
{
	*(pid_t *)arg = gettid();
	return 0;
}

static uint32_t
slots_for(uint32_t size)
{
	uint32_t n = WS / size;

	return n > 4096 ? 4096 : n; /* a power of two */
}

static double
run_dma(int16_t id, uint32_t size, uint16_t batch, unsigned int ms,
	pid_t engine, double *per_cpu_s)
{
	uint64_t hz = rte_get_timer_hz(), t0, end, enq = 0, done = 0;
	uint64_t c0 = thread_cpu_ns(engine);
	uint32_t mask = slots_for(size) - 1, slot = 0;
	bool err = false;
	uint16_t k;

	t0 = rte_get_timer_cycles();
	end = t0 + hz * ms / 1000;
	while (rte_get_timer_cycles() < end) {
		for (k = 0; k < batch; k++) {
			size_t off = (size_t)slot * size;

			if (rte_dma_copy(id, 0, BUF_IOVA(src + off),
					 BUF_IOVA(dst + off), size, 0) < 0)
				break;
			slot = (slot + 1) & mask;
		}
		if (k > 0)
			rte_dma_submit(id, 0);
		enq += k;
		done += rte_dma_completed(id, 0, 64, NULL, &err);
		if (err)
			return -1;
	}
	end = rte_get_timer_cycles() + hz * 5;
	while (done < enq && rte_get_timer_cycles() < end) {
		done += rte_dma_completed(id, 0, 64, NULL, &err);
		if (err)
			return -1;
	}
	if (done < enq)
		return -1;
	*per_cpu_s = (double)done * 1e9 /
		     (double)RTE_MAX(thread_cpu_ns(engine) - c0, (uint64_t)1);
	return (double)done * hz / (double)(rte_get_timer_cycles() - t0);
}

static double
run_memcpy(uint32_t size, unsigned int ms, double *per_cpu_s)
{
	uint64_t hz = rte_get_timer_hz(), t0, end, done = 0;
	uint64_t c0 = thread_cpu_ns(gettid());
	uint32_t mask = slots_for(size) - 1, slot = 0, k;

	t0 = rte_get_timer_cycles();
	end = t0 + hz * ms / 1000;
	while (rte_get_timer_cycles() < end) {
		for (k = 0; k < 32; k++) {
			size_t off = (size_t)slot * size;

			rte_memcpy(dst + off, src + off, size);
			slot = (slot + 1) & mask;
		}
		done += 32;
	}
	*per_cpu_s = (double)done * 1e9 /
		     (double)RTE_MAX(thread_cpu_ns(gettid()) - c0, (uint64_t)1);
	return (double)done * hz / (double)(rte_get_timer_cycles() - t0);
}

static const char *const vdev[E_SKEL + 1] = {
	"dma_swdma_bench", "dma_swdma_bidle", "dma_skeleton_b"};
static int16_t dev[E_SKEL + 1] = {-1, -1, -1};
static uint32_t sid[E_SKEL]; /* the swdma devices' engine services */
static bool svc_lcore_on;

struct memcpy_job {
	uint32_t size;
	unsigned int ms;
	double r, c;
};

static int
memcpy_cell(void *arg)
{
	struct memcpy_job *j = arg;

	j->r = run_memcpy(j->size, j->ms, &j->c);
	return 0;
}

/* Make lcore 1 run exactly one swdma engine (e), or nothing (e < 0). */
static int
svc_only(int e)
{
	unsigned int i;

	for (i = 0; i < E_SKEL; i++)
		rte_service_runstate_set(sid[i], (int)i == e);
	if (e < 0 && svc_lcore_on) {
		if (rte_service_lcore_stop(1) != 0)
			return -1;
		rte_eal_wait_lcore(1);
		svc_lcore_on = false;
	} else if (e >= 0 && !svc_lcore_on) {
		if (rte_service_lcore_start(1) != 0)
			return -1;
		svc_lcore_on = true;
	}
	return 0;
}

static int
run_cell(enum eng e, unsigned int s, unsigned int b, unsigned int rep,
	 unsigned int ms)
{
	struct memcpy_job job = {sizes[s], ms, 0, 0};
	pid_t engine = tid_lcore1;
	double r, c = 0;

	switch (e) {
	case E_MEMCPY0:
		r = run_memcpy(sizes[s], ms, &c);
		break;
	case E_MEMCPY:
		if (svc_only(-1) != 0 ||
		    rte_eal_remote_launch(memcpy_cell, &job, 1) != 0)
			return -1;
		rte_eal_wait_lcore(1);
		r = job.r;
		c = job.c;
		break;
	case E_SKEL:
		if (svc_only(-1) != 0 || rte_dma_start(dev[e]) != 0)
			return -1;
		engine = find_thread("dma_skel");
		r = run_dma(dev[e], sizes[s], batches[b], ms, engine, &c);
		rte_dma_stop(dev[e]);
		break;
	default:
		if (svc_only((int)e) != 0)
			return -1;
		r = run_dma(dev[e], sizes[s], batches[b], ms, engine, &c);
		break;
	}
	if (r < 0) {
		printf("  %s: error or timeout at %u B batch %u\n", eng_name[e],
		       sizes[s], batches[b]);
		return -1;
	}
	res[e][s][b][rep] = r;
	res_cpu[e][s][b][rep] = c;
	return 0;
}

static int
devs_create(void)
{
	const char *args[E_SKEL + 1] = {getenv("SWDMA_BENCH_ARGS"),
					"lcores=1,idle_us=20", "lcore=1"};
	unsigned int e;

	if (args[0] == NULL)
		args[0] = "lcores=1";
	for (e = 0; e <= E_SKEL; e++) {
		dev[e] = swdma_test_create(vdev[e], args[e]);
		if (dev[e] < 0 || swdma_test_setup(dev[e], 1, nb_desc) != 0) {
			printf("  cannot set up %s (%s,%s)\n", eng_name[e],
			       vdev[e], args[e]);
			return -1;
		}
		if (e < E_SKEL &&
		    rte_pmd_swdma_service_id_get(dev[e], 0, &sid[e]) != 0)
			return -1;
	}
	svc_lcore_on = true;
	return rte_dma_stop(dev[E_SKEL]);
}

static void
devs_destroy(void)
{
	unsigned int e;

	for (e = 0; e < E_SKEL; e++)
		if (dev[e] >= 0)
			swdma_test_destroy(vdev[e], dev[e]);
	if (dev[E_SKEL] >= 0)
		rte_vdev_uninit(vdev[E_SKEL]); /* already stopped */
	for (e = 0; e <= E_SKEL; e++)
		dev[e] = -1;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
median(const double *v, unsigned int n)
{
	double t[MAX_REPS];

	memcpy(t, v, n * sizeof(*t));
	qsort(t, n, sizeof(*t), cmp_double);
	return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

static void
print_table(double (*r)[NS][NB][MAX_REPS], const char *title)
{
	static const enum eng col[] = {E_SWDMA, E_SWDMA_IDLE, E_SKEL, E_MEMCPY};
	static const enum eng ratio[][2] = {{E_SWDMA, E_SKEL},
					    {E_SWDMA_IDLE, E_SKEL},
					    {E_SWDMA, E_MEMCPY},
					    {E_SWDMA_IDLE, E_MEMCPY}};
	unsigned int s, b, c, k;

	printf("\n%s\n%-6s %5s", title, "size", "batch");
	for (c = 0; c < RTE_DIM(col); c++)
		printf(" | %10s %6s", eng_name[col[c]], "GB/s");
	printf(" | %6s %6s | %6s %6s | %8s\n", "sw/sk", "swi/sk", "sw/mc",
	       "swi/mc", "memcpy@0");
	for (s = 0; s < NS; s++)
		for (b = 0; b < NB; b++) {
			double m[E_N], q[RTE_DIM(ratio)], t[MAX_REPS];

			for (c = 0; c < E_N; c++)
				m[c] = median(r[c][s][b], reps_run);
			/* ratios: median of the per-repetition ratios, each
			 * of two measurements taken back to back */
			for (c = 0; c < RTE_DIM(ratio); c++) {
				for (k = 0; k < reps_run; k++)
					t[k] = r[ratio[c][0]][s][b][k] /
					       r[ratio[c][1]][s][b][k];
				q[c] = median(t, reps_run);
			}
			printf("%-6u %5u", sizes[s], batches[b]);
			for (c = 0; c < RTE_DIM(col); c++)
				printf(" | %10.2f %6.2f", m[col[c]] / 1e6,
				       m[col[c]] * sizes[s] / 1e9);
			printf(" | %5.2fx %5.2fx | %5.0f%% %5.0f%% | %8.2f\n",
			       q[0], q[1], 100 * q[2], 100 * q[3],
			       m[E_MEMCPY0] * sizes[s] / 1e9);
		}
}

static void
print_context(const char *when)
{
	char line[256];
	FILE *f = fopen("/proc/loadavg", "r");

	if (f != NULL && fgets(line, sizeof(line), f) != NULL)
		printf("loadavg %s: %s", when, line);
	if (f != NULL)
		fclose(f);
}

static int
bench_swdma(void)
{
	const char *ev_ms = getenv("SWDMA_BENCH_MS");
	const char *ev_reps = getenv("SWDMA_BENCH_REPS");
	unsigned int ms = ev_ms ? (unsigned int)atoi(ev_ms) : 60;
	unsigned int reps = ev_reps ? (unsigned int)atoi(ev_reps) : 7;
	unsigned int rep, e, s, b;
	int rc = TEST_SUCCESS;

	if (ms == 0)
		ms = 60;
	if (reps == 0 || reps > MAX_REPS)
		reps = 7;
	if (!rte_lcore_is_enabled(1) || rte_get_main_lcore() != 0 ||
	    rte_eal_iova_mode() != RTE_IOVA_VA) {
		printf("needs -l 0-1 (main 0) and IOVA as VA\n");
		return TEST_SKIPPED;
	}
	src = rte_malloc(NULL, WS, 4096);
	dst = rte_malloc(NULL, WS, 4096);
	if (src == NULL || dst == NULL) {
		rc = TEST_FAILED;
		goto out;
	}
	memset(src, 0x11, WS);
	memset(dst, 0x22, WS);
	if (rte_eal_remote_launch(record_tid, &tid_lcore1, 1) != 0 ||
	    rte_eal_wait_lcore(1) != 0) {
		rc = TEST_FAILED;
		goto out;
	}
	reps_run = reps;
	if (getenv("SWDMA_BENCH_RING") != NULL) {
		int n = atoi(getenv("SWDMA_BENCH_RING"));

		nb_desc = (uint16_t)(n < 64 ? 64 : n > 4096 ? 4096 : n);
	}
	if (devs_create() != 0) {
		rc = TEST_FAILED;
		goto out;
	}
	print_context("before");
	printf("%u reps x %u ms per cell and engine, engines back to back per "
	       "cell; submitter lcore 0, engines on lcore 1, ring %u\n",
	       reps, ms, nb_desc);
	for (rep = 0; rep < reps; rep++)
		for (s = 0; s < NS; s++)
			for (b = 0; b < NB; b++)
				for (e = 0; e < E_N; e++) {
					/* rotate: no engine always goes first
					 */
					enum eng x = (e + rep + s + b) % E_N;

					if (run_cell(x, s, b, rep, ms) != 0) {
						rc = TEST_FAILED;
						goto out;
					}
				}
	print_context("after");
	devs_destroy(); /* before printing: their logs go to stderr */
	fflush(stderr);

	print_table(res, "wall clock: copies/s (M) and GB/s");
	print_table(res_cpu,
		    "per CPU-second of the copying thread (the engine "
		    "thread incl. its idle polling, or the memcpy lcore)");
	printf("\nsw = dma_swdma polling (devargs %s), swi = idle_us=20, sk = "
	       "dma_skeleton, mc = memcpy on lcore 1 (the engines' core);\n"
	       "ratios are medians of per-repetition ratios\n"
	       "goals: 64 B batch 32 sw/sk copies >= 2x; 64 KiB sw >= 90%% "
	       "of mc GB/s\n",
	       getenv("SWDMA_BENCH_ARGS") ? getenv("SWDMA_BENCH_ARGS")
					  : "lcores=1");
out:
	devs_destroy();
	rte_free(src);
	rte_free(dst);
	return rc;
}

REGISTER_TEST_COMMAND(swdma_perf_autotest, bench_swdma);
