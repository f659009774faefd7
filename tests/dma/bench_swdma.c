/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Copy benchmark: dma_swdma vs dma_skeleton vs plain rte_memcpy on one
 * lcore, same process, same buffers, interleaved repetitions, medians.
 *
 *   vmpath-test -l 0-1 --no-huge -m 512 --no-pci swdma_perf_autotest
 *   (SWDMA_BENCH_MS=ms per cell, default 100; SWDMA_BENCH_REPS, default 5)
 *
 * The submitting lcore is the main lcore (0); both engines run on lcore 1:
 * dma_swdma as a service lcore (devarg lcores=1), dma_skeleton's copy thread
 * pinned there (devarg lcore=1). Only one of them exists at a time, and the
 * memcpy anchor runs with lcore 1 idle. "batch" is the number of copies per
 * doorbell (rte_dma_submit); the ring (1024) is kept as full as it gets and
 * completions are reaped 64 at a time. Prints numbers, asserts none.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_memcpy.h>

#include "swdma_test.h"
#include "vmp_test.h"

#define WS (4u << 20) /* bytes per side cycled through */
#define NB_DESC 1024

enum eng { E_SWDMA, E_SKEL, E_MEMCPY, E_N };
static const char *const eng_name[E_N] = { "swdma", "skeleton", "memcpy" };
static const uint32_t sizes[] = { 64, 256, 1024, 4096, 16384, 65536 };
static const uint16_t batches[] = { 1, 8, 32 };
#define NS RTE_DIM(sizes)
#define NB RTE_DIM(batches)
#define MAX_REPS 15

static uint8_t *src, *dst;
static double res[E_N][NS][NB][MAX_REPS]; /* copies per second */

static uint32_t
slots_for(uint32_t size)
{
	uint32_t n = WS / size;

	return n > 4096 ? 4096 : n; /* a power of two */
}

static double
run_dma(int16_t id, uint32_t size, uint16_t batch, unsigned int ms)
{
	uint64_t hz = rte_get_timer_hz(), t0, end, enq = 0, done = 0;
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
	return (double)done * hz / (double)(rte_get_timer_cycles() - t0);
}

static double
run_memcpy(uint32_t size, unsigned int ms)
{
	uint64_t hz = rte_get_timer_hz(), t0, end, done = 0;
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
	return (double)done * hz / (double)(rte_get_timer_cycles() - t0);
}

/* One repetition of every cell of one engine. */
static int
run_engine(enum eng e, unsigned int rep, unsigned int ms)
{
	static const char *const vdev[] = { "dma_swdma_bench", "dma_skeleton_b" };
	static const char *const args[] = { "lcores=1", "lcore=1" };
	unsigned int s, b;
	int16_t id = -1;

	if (e == E_MEMCPY) {
		for (s = 0; s < NS; s++) {
			double r = run_memcpy(sizes[s], ms);

			for (b = 0; b < NB; b++)
				res[e][s][b][rep] = r;
		}
		return 0;
	}
	id = swdma_test_create(vdev[e], args[e]);
	if (id < 0 || swdma_test_setup(id, 1, NB_DESC) != 0) {
		printf("  cannot set up %s (%s,%s)\n", eng_name[e], vdev[e],
		       args[e]);
		swdma_test_destroy(vdev[e], id);
		return -1;
	}
	for (s = 0; s < NS; s++)
		for (b = 0; b < NB; b++) {
			res[e][s][b][rep] = run_dma(id, sizes[s], batches[b], ms);
			if (res[e][s][b][rep] < 0) {
				printf("  %s: error or timeout at %u B batch "
				       "%u\n", eng_name[e], sizes[s],
				       batches[b]);
				swdma_test_destroy(vdev[e], id);
				return -1;
			}
		}
	swdma_test_destroy(vdev[e], id);
	return 0;
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
	unsigned int ms = ev_ms ? (unsigned int)atoi(ev_ms) : 100;
	unsigned int reps = ev_reps ? (unsigned int)atoi(ev_reps) : 5;
	unsigned int rep, s, b, e;
	int rc = TEST_SUCCESS;

	if (ms == 0)
		ms = 100;
	if (reps == 0 || reps > MAX_REPS)
		reps = 5;
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
	print_context("before");
	printf("%u reps x %u ms per cell, engines interleaved per rep; "
	       "submitter lcore 0, engine lcore 1, ring %u\n", reps, ms,
	       NB_DESC);
	for (rep = 0; rep < reps; rep++)
		for (e = 0; e < E_N; e++)
			if (run_engine(e, rep, ms) != 0) {
				rc = TEST_FAILED;
				goto out;
			}
	print_context("after");

	printf("\n%-6s %5s | %8s %7s | %8s %7s | %8s %7s | %9s %9s\n", "size",
	       "batch", "swdma", "GB/s", "skel", "GB/s", "memcpy", "GB/s",
	       "sw/skel", "sw/memcpy");
	printf("%-6s %5s | %8s %7s | %8s %7s | %8s %7s | %9s %9s\n", "", "",
	       "Mcp/s", "", "Mcp/s", "", "Mcp/s", "", "copies", "GB/s");
	for (s = 0; s < NS; s++)
		for (b = 0; b < NB; b++) {
			double m[E_N];

			for (e = 0; e < E_N; e++)
				m[e] = median(res[e][s][b], reps);
			printf("%-6u %5u | %8.2f %7.2f | %8.2f %7.2f | %8.2f "
			       "%7.2f | %8.2fx %8.0f%%\n", sizes[s],
			       batches[b], m[E_SWDMA] / 1e6,
			       m[E_SWDMA] * sizes[s] / 1e9, m[E_SKEL] / 1e6,
			       m[E_SKEL] * sizes[s] / 1e9, m[E_MEMCPY] / 1e6,
			       m[E_MEMCPY] * sizes[s] / 1e9,
			       m[E_SWDMA] / m[E_SKEL],
			       100 * m[E_SWDMA] / m[E_MEMCPY]);
		}
	printf("\ngoals: 64 B batch 32 swdma/skeleton copies >= 2x; "
	       "64 KiB swdma >= 90%% of memcpy GB/s\n");
out:
	rte_free(src);
	rte_free(dst);
	return rc;
}

REGISTER_TEST_COMMAND(swdma_perf_autotest, bench_swdma);
