/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Kernel write-protect tracking (userfaultfd WP_ASYNC + PAGEMAP_SCAN) finds
 * exactly the pages written by OTHER lcores -- not the pages they only read
 * -- on anonymous (first touch under tracking), THP (populated as huge pages
 * before start, split by the tracked writes), hugetlb (2 MiB granularity)
 * and shared memfd (vhost-user guest memory's kind) memory; re-protection makes
 * the next get see only the new writes. Skipped (77) only when the kernel lacks
 * the feature; then start must fail with -ENOTSUP.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <rte_common.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_memory.h>

#include <vmp_dirtylog.h>

#include "dirtylog_test_mem.h"
#include "vmp_test.h"

#define PG 4096ULL
#define HPG (2ULL << 20)
#define IOVA0 0x200000000ULL

static struct {
	volatile uint8_t *mem;
	uint64_t npages;
	const uint8_t *wmask; /* pages to write this round */
	uint32_t phase;	      /* bumped by main, acked by workers */
	uint32_t ack;
} sh;

/* Worker lcores: rank 0 writes the chosen pages, rank 1 reads every page.
 * Each round waits for main to bump phase (acquire) and acks (release). */
static int
worker(void *arg)
{
	unsigned int rank = (unsigned int)(uintptr_t)arg;
	uint32_t seen = 0, ph;
	uint64_t p, sum = 0;

	for (;;) {
		while ((ph = __atomic_load_n(&sh.phase, __ATOMIC_ACQUIRE)) ==
		       seen)
			rte_pause();
		seen = ph;
		if (ph == UINT32_MAX)
			break;
		for (p = 0; p < sh.npages; p++) {
			if (rank == 0 && sh.wmask[p])
				sh.mem[p * PG + (p % 4000)] = (uint8_t)ph;
			else if (rank == 1)
				sum += sh.mem[p * PG];
		}
		__atomic_fetch_add(&sh.ack, 1, __ATOMIC_RELEASE);
	}
	return (int)(sum & 0); /* keep the reads */
}

static void
round_run(uint32_t ph, unsigned int nw)
{
	uint32_t want = __atomic_load_n(&sh.ack, __ATOMIC_RELAXED) + nw;

	__atomic_store_n(&sh.phase, ph, __ATOMIC_RELEASE);
	while (__atomic_load_n(&sh.ack, __ATOMIC_ACQUIRE) < want)
		rte_pause();
}

static int
check_round(struct vmp_dirty_tracker *t, uint64_t npages, const uint8_t *wmask,
	    uint64_t gran_pages, uint64_t *bm, const char *what)
{
	uint64_t p, expect = 0;
	int64_t n;

	n = vmp_dirty_bitmap_get(t, IOVA0, npages * PG, PG, bm,
				 (npages + 63) / 64 * 8, 0);
	TEST_ASSERT(n >= 0, "%s: get %" PRId64, what, n);
	for (p = 0; p < npages; p++) {
		uint64_t u = p / gran_pages * gran_pages, q;
		int want = 0;

		for (q = u; q < u + gran_pages; q++)
			want |= wmask[q];
		expect += want;
		TEST_ASSERT_EQUAL((bm[p / 64] >> (p % 64)) & 1, want,
				  "%s: page %" PRIu64, what, p);
	}
	TEST_ASSERT_EQUAL(n, expect, "%s: count", what);
	return TEST_SUCCESS;
}

/* The tracked rounds; runs while the worker lcores are launched. */
static int
rounds(struct vmp_dirty_tracker *t, enum backing b, uint64_t len,
       uint8_t *wmask, uint64_t *bm, uint64_t gran_pages, unsigned int nw)
{
	uint64_t npages = len / PG, p;
	int round;

	for (round = 1; round <= 4; round++) {
		char what[64];

		/* round 1: every 7th page (+ a run); 2: a different set;
		 * 3: nothing written, only read; 4: the last page */
		for (p = 0; p < npages; p++)
			wmask[p] = round == 1	? (p % 7 == 3 ||
						   (p >= 600 && p < 700))
				   : round == 2 ? (p % 13 == 0)
				   : round == 4 ? (p == npages - 1)
						: 0;
		if (b == HUGETLB && round == 2)
			for (p = 0; p < npages; p++) /* huge page 2 only */
				wmask[p] = p == 2 * 512 + 17;
		round_run(round, nw);
		snprintf(what, sizeof(what), "%s round %d", backing_name[b],
			 round);
		if (round == 2) {
			/* a peek and the count change nothing */
			int64_t c = vmp_dirty_count(t);

			TEST_ASSERT(c > 0, "count %" PRId64, c);
			TEST_ASSERT_EQUAL(
				vmp_dirty_bitmap_get(t, IOVA0, len, PG, bm,
						     (npages + 63) / 64 * 8,
						     VMP_DIRTY_F_NO_CLEAR),
				c, "peek");
		}
		if (b == HUGETLB && round == 2) {
			/* a 1-page get inside a dirty huge page: that page
			 * now, the rest of the huge page by the next get */
			uint64_t one, q;
			int64_t n;

			TEST_ASSERT_EQUAL(
				vmp_dirty_bitmap_get(t, IOVA0 + 1030 * PG, PG,
						     PG, &one, 8, 0),
				1, "sub-page get");
			n = vmp_dirty_bitmap_get(t, IOVA0, len, PG, bm,
						 (npages + 63) / 64 * 8, 0);
			TEST_ASSERT_EQUAL(n, 511, "rest of huge page 2");
			for (q = 1024; q < 1536; q++)
				TEST_ASSERT_EQUAL((bm[q / 64] >> (q % 64)) & 1,
						  q != 1030, "page %" PRIu64,
						  q);
			TEST_ASSERT_EQUAL(vmp_dirty_count(t), 0, "clean");
			continue;
		}
		if (check_round(t, npages, wmask, gran_pages, bm, what) !=
		    TEST_SUCCESS)
			return TEST_FAILED;
	}
	/* stop removes protection: writes go unnoticed, start is clean */
	TEST_ASSERT_SUCCESS(vmp_dirty_stop(t), "stop");
	for (p = 0; p < npages; p++)
		wmask[p] = 1;
	round_run(5, nw);
	TEST_ASSERT_SUCCESS(vmp_dirty_start(t), "restart");
	TEST_ASSERT_EQUAL(vmp_dirty_count(t), 0, "clean after restart");
	return TEST_SUCCESS;
}

static int
run_backing(enum backing b)
{
	uint64_t len = b == HUGETLB ? 4 * HPG : 8 * HPG;
	uint64_t npages = len / PG, gran_pages;
	unsigned int lc, nw = 0, rank = 0;
	struct vmp_dirty_mapping_info mi;
	struct vmp_dirty_region r;
	struct vmp_dirty_params prm = {
		.name = backing_name[b],
		.regions = &r,
		.nb_regions = 1,
		.mode = VMP_DIRTY_MODE_KERNEL_WP,
		.socket_id = SOCKET_ID_ANY,
	};
	struct vmp_dirty_tracker *t;
	uint8_t *wmask = calloc(npages, 1);
	uint64_t *bm = calloc((npages + 63) / 64, 8);
	int caps = vmp_dirty_kernel_probe(), rc = TEST_FAILED;
	struct test_mem tm;
	int merr = test_mem_map(&tm, b, len);
	void *mem = tm.addr;

	if (merr < 0) {
		printf("  %s: cannot map %" PRIu64 " bytes (%s): skipped\n",
		       backing_name[b], len, strerror(-merr));
		free(wmask);
		free(bm);
		return TEST_SKIPPED;
	}
	TEST_ASSERT(wmask != NULL && bm != NULL, "alloc");
	if (b == THP) { /* populate as huge pages before tracking starts */
		uint64_t off;

		for (off = 0; off < len; off += PG)
			((volatile uint8_t *)mem)[off] = 1;
	}
	r = (struct vmp_dirty_region){.iova = IOVA0, .host = mem, .len = len};
	t = vmp_dirty_tracker_create(&prm);
	TEST_ASSERT_NOT_NULL(t, "create");
	if (caps < 0 || !(caps & VMP_DIRTY_KCAP_ANON) ||
	    ((b == HUGETLB || b == SHMEM) &&
	     !(caps & VMP_DIRTY_KCAP_HUGETLB))) {
		TEST_ASSERT_EQUAL(vmp_dirty_start(t),
				  caps == -EPERM ? -EPERM : -ENOTSUP,
				  "start without kernel support");
		printf("  %s: kernel lacks WP_ASYNC/PAGEMAP_SCAN: skipped\n",
		       backing_name[b]);
		vmp_dirty_tracker_free(t);
		rc = TEST_SKIPPED;
		goto out_unmap;
	}
	vmp_dirty_mapping_info(mem, &mi);
	printf("  %s: %" PRIu64 " KiB, KernelPageSize %" PRIu64
	       " KiB, AnonHugePages %" PRIu64 " KiB, granularity %" PRIu64 "\n",
	       backing_name[b], len >> 10, mi.kernel_page_size >> 10,
	       mi.anon_huge_bytes >> 10, vmp_dirty_granularity(t, IOVA0));
	if (b == THP && mi.anon_huge_bytes == 0)
		printf("  THP: no huge page obtained (THP disabled or "
		       "fragmented); tracking checked on 4 KiB pages\n");
	TEST_ASSERT_EQUAL_U64(vmp_dirty_granularity(t, IOVA0),
			      b == HUGETLB ? mi.kernel_page_size : PG,
			      "granularity");
	gran_pages = vmp_dirty_granularity(t, IOVA0) / PG;
	TEST_ASSERT_SUCCESS(vmp_dirty_start(t), "start");

	sh.mem = mem;
	sh.npages = npages;
	sh.wmask = wmask;
	sh.phase = 0;
	sh.ack = 0;
	RTE_LCORE_FOREACH_WORKER (lc) {
		if (rank >= 2)
			break;
		if (rte_eal_remote_launch(worker, (void *)(uintptr_t)rank,
					  lc) != 0)
			break;
		rank++;
		nw++;
	}
	if (nw >= 1)
		rc = rounds(t, b, len, wmask, bm, gran_pages, nw);
	else
		printf("  FAIL: no worker lcore could be launched\n");
	/* the workers stop whatever rounds() found */
	__atomic_store_n(&sh.phase, UINT32_MAX, __ATOMIC_RELEASE);
	rte_eal_mp_wait_lcore();
	vmp_dirty_tracker_free(t);
out_unmap:
	test_mem_unmap(&tm);
	free(wmask);
	free(bm);
	return rc;
}

static int
test_kernel_anon(void)
{
	return run_backing(ANON);
}

static int
test_kernel_thp(void)
{
	return run_backing(THP);
}

static int
test_kernel_hugetlb(void)
{
	return run_backing(HUGETLB);
}

static int
test_kernel_shmem(void)
{
	return run_backing(SHMEM);
}

static struct vmp_test_suite kernel_suite = {
	.name = "dirtylog_kernel",
	.cases =
		{
			TEST_CASE(test_kernel_anon),
			TEST_CASE(test_kernel_thp),
			TEST_CASE(test_kernel_hugetlb),
			TEST_CASE(test_kernel_shmem),
			TEST_CASES_END(),
		},
};

static int
test_dirtylog_kernel(void)
{
	return vmp_test_suite_run(&kernel_suite);
}

REGISTER_TEST_COMMAND(dirtylog_kernel_autotest, test_dirtylog_kernel);
