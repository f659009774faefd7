/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Concurrent vmp_dirty_log_write() from every worker lcore (run with more
 * lcores than cores: see tests/dirtylog/meson.build) loses no bit, with and
 * without the main lcore harvesting (read-and-clear) at the same time.
 * Workers write interleaved pages (page % nb_workers == rank), so every log
 * word is ORed by all of them at once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_memory.h>

#include <vmp_dirtylog.h>

#include "vmp_test.h"

#define PG 4096ULL
#define NPAGES (64 * 1024ULL) /* 256 MiB of tracked IOVA */
#define IOVA0 0x100000000ULL
#define ROUNDS 4

static struct vmp_dirty_tracker *trk;
static unsigned int nb_workers;
static uint32_t go;
static uint32_t done;

struct worker_arg {
	unsigned int rank;
	int cached;
};
static struct worker_arg args[RTE_MAX_LCORE];

static int
writer(void *p)
{
	const struct worker_arg *a = p;
	struct vmp_dirty_log_cache c;
	uint64_t pg;
	int round;

	vmp_dirty_log_cache_init(&c);
	while (!__atomic_load_n(&go, __ATOMIC_ACQUIRE))
		rte_pause();
	for (round = 0; round < ROUNDS; round++) {
		for (pg = a->rank; pg < NPAGES; pg += nb_workers) {
			uint64_t iova = IOVA0 + pg * PG;

			/* the cached variant on odd ranks, direct on even */
			if (a->cached)
				vmp_dirty_log_cache_write(trk, &c, iova, 8);
			else
				vmp_dirty_log_write(trk, iova, 8);
		}
		vmp_dirty_log_cache_flush(&c);
	}
	__atomic_fetch_add(&done, 1, __ATOMIC_RELEASE);
	return 0;
}

static int
run(int harvest)
{
	uint64_t words = NPAGES / 64, i;
	uint64_t *bm = rte_zmalloc(NULL, words * 8, 64);
	uint64_t *acc = rte_zmalloc(NULL, words * 8, 64);
	unsigned int lc, n = 0;
	int64_t got;
	int gets = 0;

	TEST_ASSERT(bm != NULL && acc != NULL, "alloc");
	TEST_ASSERT_SUCCESS(vmp_dirty_stop(trk), "stop");
	TEST_ASSERT_SUCCESS(vmp_dirty_start(trk), "start (clears)");
	go = 0;
	done = 0;
	RTE_LCORE_FOREACH_WORKER (lc) {
		args[lc].rank = n;
		args[lc].cached = n & 1;
		n++;
		TEST_ASSERT_SUCCESS(
			rte_eal_remote_launch(writer, &args[lc], lc),
			"launch %u", lc);
	}
	__atomic_store_n(&go, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&done, __ATOMIC_ACQUIRE) < nb_workers) {
		if (!harvest) {
			rte_pause();
			continue;
		}
		got = vmp_dirty_bitmap_get(trk, IOVA0, NPAGES * PG, PG, bm,
					   words * 8, 0);
		TEST_ASSERT(got >= 0, "get: %" PRId64, got);
		for (i = 0; i < words; i++)
			acc[i] |= bm[i];
		gets++;
	}
	rte_eal_mp_wait_lcore();
	got = vmp_dirty_bitmap_get(trk, IOVA0, NPAGES * PG, PG, bm, words * 8,
				   0);
	TEST_ASSERT(got >= 0, "final get: %" PRId64, got);
	for (i = 0; i < words; i++)
		TEST_ASSERT_EQUAL_U64(acc[i] | bm[i], ~0ULL,
				      "word %" PRIu64 " lost bits (harvest %d)",
				      i, harvest);
	if (!harvest)
		TEST_ASSERT_EQUAL(got, NPAGES, "every page once");
	printf("  %u writer lcores, %d concurrent gets: no bit lost\n",
	       nb_workers, gets);
	rte_free(bm);
	rte_free(acc);
	return TEST_SUCCESS;
}

static int
test_concurrent_writes(void)
{
	return run(0);
}

static int
test_concurrent_writes_and_gets(void)
{
	return run(1);
}

/*
 * Pin/unpin from every worker while the main lcore harvests: each page goes
 * through one pin -> unpin cycle (no log writes). Its worker publishes state
 * 1 just before the unpin and 2 just after (release). With s1 / s2 the first
 * get whose snapshot (taken before the get starts) saw state >= 1 / == 2, the
 * once-more report is consumed by a get that overlaps or follows the unpin:
 * the page's last report must come from a get in [s1 - 1, s2], and no get
 * after s2 may report it (no stuck pin, no stale bit).
 */
#define PIN_PAGES (8 * 1024u)

static uint8_t pin_state[PIN_PAGES];

static int
pinner(void *p)
{
	const struct worker_arg *a = p;
	uint64_t pg;

	while (!__atomic_load_n(&go, __ATOMIC_ACQUIRE))
		rte_pause();
	for (pg = a->rank; pg < PIN_PAGES; pg += nb_workers) {
		uint64_t iova = IOVA0 + pg * PG;

		if (vmp_dirty_pin(trk, iova, PG) != 0)
			return -1;
		/* release: pairs with the main lcore's acquire snapshot */
		__atomic_store_n(&pin_state[pg], 1, __ATOMIC_RELEASE);
		/* state 1 visible before any store of the unpin */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (vmp_dirty_unpin(trk, iova, PG) != 0)
			return -1;
		__atomic_store_n(&pin_state[pg], 2, __ATOMIC_RELEASE);
	}
	__atomic_fetch_add(&done, 1, __ATOMIC_RELEASE);
	return 0;
}

static int
test_concurrent_pins_and_gets(void)
{
	uint64_t words = PIN_PAGES / 64, p;
	uint64_t *bm = rte_zmalloc(NULL, words * 8, 64);
	int32_t *s1 = rte_malloc(NULL, PIN_PAGES * 4, 64);
	int32_t *s2 = rte_malloc(NULL, PIN_PAGES * 4, 64);
	int32_t *last_rep = rte_malloc(NULL, PIN_PAGES * 4, 64);
	unsigned int lc, n = 0;
	int k, last = 0, rc = TEST_SUCCESS;

	TEST_ASSERT(bm && s1 && s2 && last_rep, "alloc");
	for (p = 0; p < PIN_PAGES; p++) {
		s1[p] = s2[p] = last_rep[p] = -1;
		pin_state[p] = 0;
	}
	TEST_ASSERT_SUCCESS(vmp_dirty_stop(trk), "stop");
	TEST_ASSERT_SUCCESS(vmp_dirty_start(trk), "start");
	go = 0;
	done = 0;
	RTE_LCORE_FOREACH_WORKER (lc) {
		args[lc].rank = n++;
		TEST_ASSERT_SUCCESS(
			rte_eal_remote_launch(pinner, &args[lc], lc),
			"launch %u", lc);
	}
	__atomic_store_n(&go, 1, __ATOMIC_RELEASE);
	/* two extra gets after the workers finish: the once-more get and one
	 * that must find nothing */
	for (k = 0; last < 2; k++) {
		int64_t got;

		if (__atomic_load_n(&done, __ATOMIC_ACQUIRE) == nb_workers)
			last++;
		for (p = 0; p < PIN_PAGES; p++) {
			uint8_t st = __atomic_load_n(&pin_state[p],
						     __ATOMIC_ACQUIRE);

			if (st >= 1 && s1[p] < 0)
				s1[p] = k;
			if (st == 2 && s2[p] < 0)
				s2[p] = k;
		}
		got = vmp_dirty_bitmap_get(trk, IOVA0, PIN_PAGES * PG, PG, bm,
					   words * 8, 0);
		TEST_ASSERT(got >= 0, "get %d: %" PRId64, k, got);
		for (p = 0; p < PIN_PAGES; p++) {
			if (!((bm[p / 64] >> (p % 64)) & 1))
				continue;
			last_rep[p] = k;
			if (s2[p] >= 0 && k > s2[p] && rc == TEST_SUCCESS) {
				printf("  FAIL page %" PRIu64
				       " reported by get %d"
				       " after get %d (unpin done)\n",
				       p, k, s2[p]);
				rc = TEST_FAILED;
			}
		}
	}
	rte_eal_mp_wait_lcore();
	RTE_LCORE_FOREACH_WORKER (lc)
		TEST_ASSERT_EQUAL(rte_eal_get_lcore_state(lc), WAIT, "lcore %u",
				  lc);
	for (p = 0; p < PIN_PAGES && rc == TEST_SUCCESS; p++)
		TEST_ASSERT(s2[p] >= 0 && last_rep[p] >= s1[p] - 1 &&
				    last_rep[p] <= s2[p],
			    "page %" PRIu64 ": unpin between gets %d and %d, "
			    "last reported by get %d",
			    p, s1[p], s2[p], last_rep[p]);
	TEST_ASSERT_EQUAL(vmp_dirty_count(trk), 0, "nothing left pinned");
	printf("  %u pinning lcores, %d concurrent gets: every unpin reported "
	       "once more, nothing after\n",
	       nb_workers, k);
	rte_free(bm);
	rte_free(s1);
	rte_free(s2);
	rte_free(last_rep);
	return rc;
}

static int
suite_setup(void)
{
	struct vmp_dirty_region r = {.iova = IOVA0, .len = NPAGES * PG};
	struct vmp_dirty_params p = {
		.name = "mt",
		.regions = &r,
		.nb_regions = 1,
		.socket_id = SOCKET_ID_ANY,
	};

	nb_workers = rte_lcore_count() - 1;
	if (nb_workers < 2) {
		printf("  needs >= 3 lcores (got %u)\n", rte_lcore_count());
		return TEST_SKIPPED;
	}
	trk = vmp_dirty_tracker_create(&p);
	return trk ? TEST_SUCCESS : TEST_FAILED;
}

static void
suite_teardown(void)
{
	vmp_dirty_tracker_free(trk);
	trk = NULL;
}

static struct vmp_test_suite mt_suite = {
	.name = "dirtylog_mt",
	.setup = suite_setup,
	.teardown = suite_teardown,
	.cases =
		{
			TEST_CASE(test_concurrent_writes),
			TEST_CASE(test_concurrent_writes_and_gets),
			TEST_CASE(test_concurrent_pins_and_gets),
			TEST_CASES_END(),
		},
};

static int
test_dirtylog_mt(void)
{
	return vmp_test_suite_run(&mt_suite);
}

REGISTER_TEST_COMMAND(dirtylog_mt_autotest, test_dirtylog_mt);
