/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/dirtylog software semantics: read-and-clear, NO_CLEAR, start/stop,
 * the vhost-user log layout with a caller log, multi-region ranges checked
 * against a reference model, the log cache, host-address writes, pins.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_random.h>

#include <vmp_dirtylog.h>

#include "vmp_test.h"

#define PG 4096ULL

static struct vmp_dirty_tracker *
mk(const struct vmp_dirty_region *r, unsigned int n, void *log,
   uint64_t log_size)
{
	struct vmp_dirty_params p = {
		.name = "t",
		.regions = r,
		.nb_regions = n,
		.mode = VMP_DIRTY_MODE_SOFT,
		.log = log,
		.log_size = log_size,
		.socket_id = SOCKET_ID_ANY,
	};

	return vmp_dirty_tracker_create(&p);
}

static int
bit(const uint64_t *bm, uint64_t i)
{
	return (bm[i / 64] >> (i % 64)) & 1;
}

static int
test_read_and_clear(void)
{
	struct vmp_dirty_region r = {.iova = 1ULL << 30, .len = 256 * PG};
	struct vmp_dirty_tracker *t = mk(&r, 1, NULL, 0);
	uint64_t bm[4];
	int64_t n;

	TEST_ASSERT_NOT_NULL(t, "create");
	/* stopped: writes are ignored, get is refused */
	TEST_ASSERT_SUCCESS(vmp_dirty_log_write(t, r.iova, PG), "write");
	TEST_ASSERT_EQUAL(
		vmp_dirty_bitmap_get(t, r.iova, r.len, PG, bm, sizeof(bm), 0),
		-EINVAL, "get while stopped");
	TEST_ASSERT_SUCCESS(vmp_dirty_start(t), "start");
	TEST_ASSERT_SUCCESS(vmp_dirty_start(t), "start is idempotent");
	TEST_ASSERT(vmp_dirty_is_started(t), "started");
	n = vmp_dirty_bitmap_get(t, r.iova, r.len, PG, bm, sizeof(bm), 0);
	TEST_ASSERT_EQUAL(n, 0, "nothing dirty after start");

	/* page 3, pages 63..65 (byte-unaligned write spanning a word) */
	TEST_ASSERT_SUCCESS(vmp_dirty_log_write(t, r.iova + 3 * PG + 100, 8),
			    "w1");
	TEST_ASSERT_SUCCESS(
		vmp_dirty_log_write(t, r.iova + 63 * PG + 1, 2 * PG), "w2");
	TEST_ASSERT_EQUAL(vmp_dirty_count(t), 4, "count");
	n = vmp_dirty_bitmap_get(t, r.iova, r.len, PG, bm, sizeof(bm),
				 VMP_DIRTY_F_NO_CLEAR);
	TEST_ASSERT_EQUAL(n, 4, "peek");
	n = vmp_dirty_bitmap_get(t, r.iova, r.len, PG, bm, sizeof(bm), 0);
	TEST_ASSERT_EQUAL(n, 4, "peek left the bits");
	TEST_ASSERT(bit(bm, 3) && bit(bm, 63) && bit(bm, 64) && bit(bm, 65),
		    "the pages written");
	TEST_ASSERT(!bit(bm, 2) && !bit(bm, 4) && !bit(bm, 62) && !bit(bm, 66),
		    "only them");
	n = vmp_dirty_bitmap_get(t, r.iova, r.len, PG, bm, sizeof(bm), 0);
	TEST_ASSERT_EQUAL(n, 0, "read-and-clear cleared");

	/* a sub-range get clears only its own bits */
	vmp_dirty_log_write(t, r.iova, r.len);
	n = vmp_dirty_bitmap_get(t, r.iova + 10 * PG, 20 * PG, PG, bm,
				 sizeof(bm), 0);
	TEST_ASSERT_EQUAL(n, 20, "sub-range");
	TEST_ASSERT_EQUAL_U64(bm[0], (1ULL << 20) - 1, "bits 0..19");
	TEST_ASSERT_EQUAL(vmp_dirty_count(t), 236, "the rest still dirty");

	/* stop is idempotent and ends reporting; start clears */
	TEST_ASSERT_SUCCESS(vmp_dirty_stop(t), "stop");
	TEST_ASSERT_SUCCESS(vmp_dirty_stop(t), "stop twice");
	TEST_ASSERT_EQUAL(vmp_dirty_count(t), -EINVAL, "count while stopped");
	TEST_ASSERT_SUCCESS(vmp_dirty_start(t), "restart");
	TEST_ASSERT_EQUAL(vmp_dirty_count(t), 0, "start cleared");
	vmp_dirty_tracker_free(t);
	return TEST_SUCCESS;
}

/* The caller-supplied log is the vhost-user log: bit gpa/4096 % 8 of byte
 * gpa/4096/8, indexed from GPA 0. */
static int
test_vhost_log_layout(void)
{
	struct vmp_dirty_region r[2] = {
		{.iova = 0, .len = 640 * 1024},
		{.iova = 1ULL << 20, .len = 1ULL << 20},
	};
	uint64_t log_size = (2ULL << 20) / PG / 8;
	uint8_t *log = rte_zmalloc("log", log_size, 64);
	struct vmp_dirty_tracker *t;
	uint64_t gpa[] = {0, 5 * PG, 159 * PG, (1ULL << 20) + 3 * PG,
			  (2ULL << 20) - PG};
	uint64_t bm[8];
	unsigned int i;

	TEST_ASSERT_NOT_NULL(log, "alloc");
	t = mk(r, 2, log, log_size);
	TEST_ASSERT_NOT_NULL(t, "create with caller log");
	TEST_ASSERT_SUCCESS(vmp_dirty_start(t), "start");
	for (i = 0; i < RTE_DIM(gpa); i++)
		TEST_ASSERT_SUCCESS(vmp_dirty_log_write(t, gpa[i], 1), "w");
	for (i = 0; i < RTE_DIM(gpa); i++) {
		uint64_t pfn = gpa[i] / 4096;

		TEST_ASSERT(log[pfn / 8] & (1u << (pfn % 8)),
			    "gpa 0x%" PRIx64 ": bit %" PRIu64
			    " of byte %" PRIu64,
			    gpa[i], pfn % 8, pfn / 8);
	}
	/* a bit set by the peer (QEMU / the frontend side) is reported */
	log[100 / 8] |= 1u << (100 % 8);
	TEST_ASSERT_EQUAL(vmp_dirty_count(t), RTE_DIM(gpa) + 1, "count");
	/* a log too small for a region is refused */
	TEST_ASSERT_NULL(mk(r, 2, log, log_size - 1), "short log");
	TEST_ASSERT_EQUAL(rte_errno, EINVAL, "errno");
	/* the read-and-clear clears the caller's log, only in its range */
	TEST_ASSERT_EQUAL(vmp_dirty_bitmap_get(t, 256 * PG, 32 * PG, PG, bm,
					       sizeof(bm), 0),
			  1, "region 1, pages 256..287: gpa 1M+3 pages");
	TEST_ASSERT_EQUAL_U64(bm[0], 1ULL << 3, "bit 3");
	TEST_ASSERT_EQUAL(log[259 / 8] & (1u << (259 % 8)), 0, "cleared");
	TEST_ASSERT(log[511 / 8] & (1u << (511 % 8)), "outside kept");
	/* a range over the hole between the regions is refused */
	TEST_ASSERT_EQUAL(vmp_dirty_bitmap_get(t, 150 * PG, 110 * PG, PG, bm,
					       sizeof(bm), 0),
			  -ENOENT, "hole 160..255");
	TEST_ASSERT_EQUAL(vmp_dirty_count(t), RTE_DIM(gpa), "count after");
	vmp_dirty_tracker_free(t);
	rte_free(log);
	return TEST_SUCCESS;
}

/* Random writes and random sub-range gets over three regions, one of them
 * adjacent to another, checked page by page against a plain model. */
static int
test_model(void)
{
	struct vmp_dirty_region r[3] = {
		{.iova = 0x100000, .len = 300 * PG},
		{.iova = 0x100000 + 300 * PG, .len = 77 * PG}, /* adjacent */
		{.iova = 0x10000000, .len = 1000 * PG},
	};
	uint64_t base[3], npg[3] = {377, 0, 1000};
	struct vmp_dirty_tracker *t = mk(r, 3, NULL, 0);
	uint8_t *model = calloc(1377, 1);
	struct vmp_dirty_log_cache c;
	uint64_t bm[32];
	int it;

	base[0] = r[0].iova;
	base[2] = r[2].iova;
	TEST_ASSERT(t != NULL && model != NULL, "create");
	TEST_ASSERT_SUCCESS(vmp_dirty_start(t), "start");
	vmp_dirty_log_cache_init(&c);
	for (it = 0; it < 4000; it++) {
		int s = rte_rand_max(2) ? 0 : 2; /* span 0 = regions 0+1 */
		uint64_t np = npg[s], mo = s ? 377 : 0;
		uint64_t a = rte_rand_max(np), b = a + 1 + rte_rand_max(np - a);

		if (rte_rand_max(3)) { /* write [a, b) pages with odd bytes */
			uint64_t p;

			/* direct, or through the cache (flushed before gets):
			 * the cache's region memo follows the span changes */
			if (rte_rand_max(2))
				TEST_ASSERT_SUCCESS(
					vmp_dirty_log_write(
						t, base[s] + a * PG + 7,
						(b - a - 1) * PG + 1),
					"write");
			else
				TEST_ASSERT_SUCCESS(
					vmp_dirty_log_cache_write(
						t, &c, base[s] + a * PG + 7,
						(b - a - 1) * PG + 1),
					"cached write");
			for (p = a; p < b; p++)
				model[mo + p] = 1;
		} else { /* get [a, b) */
			int clear = rte_rand_max(2);

			vmp_dirty_log_cache_flush(&c);
			int64_t n = vmp_dirty_bitmap_get(
				t, base[s] + a * PG, (b - a) * PG, PG, bm,
				sizeof(bm), clear ? 0 : VMP_DIRTY_F_NO_CLEAR);
			int64_t want = 0;
			uint64_t p;

			for (p = a; p < b; p++) {
				TEST_ASSERT_EQUAL(
					bit(bm, p - a), model[mo + p],
					"iter %d span %d page %" PRIu64, it, s,
					p);
				want += model[mo + p];
				if (clear)
					model[mo + p] = 0;
			}
			TEST_ASSERT_EQUAL(n, want, "count returned");
			/* no bit beyond the range in the last word */
			if ((b - a) % 64)
				TEST_ASSERT_EQUAL_U64(bm[(b - a) / 64] >>
							      ((b - a) % 64),
						      0, "tail bits");
		}
	}
	vmp_dirty_tracker_free(t);
	free(model);
	return TEST_SUCCESS;
}

static int
test_cache_and_hva(void)
{
	static char mem[64 * 4096] __rte_aligned(4096);
	struct vmp_dirty_region r = {
		.iova = 0x40000000, .host = mem, .len = sizeof(mem)};
	struct vmp_dirty_tracker *t = mk(&r, 1, NULL, 0);
	struct vmp_dirty_log_cache c;
	uint64_t bm[1];
	int i;

	TEST_ASSERT_NOT_NULL(t, "create");
	TEST_ASSERT_SUCCESS(vmp_dirty_start(t), "start");
	vmp_dirty_log_cache_init(&c);
	for (i = 0; i < 64; i += 2)
		TEST_ASSERT_SUCCESS(
			vmp_dirty_log_cache_write(t, &c, r.iova + i * PG, 1),
			"cached");
	TEST_ASSERT_EQUAL(vmp_dirty_count(t), 0, "not published before flush");
	vmp_dirty_log_cache_flush(&c);
	TEST_ASSERT_EQUAL(vmp_dirty_count(t), 32, "published by flush");
	TEST_ASSERT_SUCCESS(vmp_dirty_log_write_hva(t, mem + 5 * PG + 9, 1),
			    "hva");
	TEST_ASSERT_SUCCESS(
		vmp_dirty_log_cache_write_hva(t, &c, mem + 7 * PG, PG),
		"cached hva");
	vmp_dirty_log_cache_flush(&c);
	TEST_ASSERT_EQUAL(
		vmp_dirty_bitmap_get(t, r.iova, r.len, PG, bm, sizeof(bm), 0),
		34, "get");
	TEST_ASSERT_EQUAL_U64(bm[0],
			      0x5555555555555555ULL | (1ULL << 5) | (1ULL << 7),
			      "bitmap");
	TEST_ASSERT_EQUAL(vmp_dirty_log_write(t, 0x1000, PG), -ENOENT,
			  "outside");
	TEST_ASSERT_EQUAL(
		vmp_dirty_log_write_hva(t, (void *)((uintptr_t)mem - PG), PG),
		-ENOENT, "outside hva");
	/* a cache overflowing its 32 entries flushes by itself */
	vmp_dirty_tracker_free(t);
	{
		struct vmp_dirty_region big = {.iova = 0, .len = 4096 * PG};

		t = mk(&big, 1, NULL, 0);
		TEST_ASSERT_NOT_NULL(t, "create big");
		vmp_dirty_start(t);
		for (i = 0; i < 40; i++)
			vmp_dirty_log_cache_write(t, &c, (uint64_t)i * 64 * PG,
						  1);
		TEST_ASSERT_EQUAL(vmp_dirty_count(t), 32, "self-flushed 32");
		vmp_dirty_log_cache_flush(&c);
		TEST_ASSERT_EQUAL(vmp_dirty_count(t), 40, "all 40");
		vmp_dirty_tracker_free(t);
	}
	return TEST_SUCCESS;
}

/* VFIO's final rule: dirty on every get while pinned, once more after. */
static int
test_pinned(void)
{
	struct vmp_dirty_region r = {.iova = 0x200000, .len = 128 * PG};
	struct vmp_dirty_tracker *t = mk(&r, 1, NULL, 0);
	uint64_t bm[2];
	int i;

	TEST_ASSERT_NOT_NULL(t, "create");
	/* pinned before start counts too */
	TEST_ASSERT_SUCCESS(vmp_dirty_pin(t, r.iova + 10 * PG, 2 * PG), "pin");
	TEST_ASSERT_SUCCESS(vmp_dirty_start(t), "start");
	TEST_ASSERT_SUCCESS(vmp_dirty_pin(t, r.iova + 11 * PG, 60 * PG),
			    "overlapping pin (page 11 nested)");
	for (i = 0; i < 3; i++) {
		TEST_ASSERT_EQUAL(vmp_dirty_bitmap_get(t, r.iova, r.len, PG, bm,
						       sizeof(bm), 0),
				  61, "get %d while pinned", i);
		TEST_ASSERT(bit(bm, 10) && bit(bm, 70) && !bit(bm, 71) &&
				    !bit(bm, 9),
			    "pages 10..70");
	}
	TEST_ASSERT_SUCCESS(vmp_dirty_unpin(t, r.iova + 11 * PG, 60 * PG),
			    "unpin the second pin");
	/* 10, 11 still pinned; 12..70 unpinned: reported once more */
	TEST_ASSERT_EQUAL(
		vmp_dirty_bitmap_get(t, r.iova, r.len, PG, bm, sizeof(bm), 0),
		61, "once after unpin");
	TEST_ASSERT_EQUAL(
		vmp_dirty_bitmap_get(t, r.iova, r.len, PG, bm, sizeof(bm), 0),
		2, "then only the still-pinned pages");
	TEST_ASSERT_EQUAL_U64(bm[0], 3ULL << 10, "pages 10, 11");
	/* a peek does not consume the once-more report */
	TEST_ASSERT_SUCCESS(vmp_dirty_unpin(t, r.iova + 10 * PG, 2 * PG),
			    "unpin");
	TEST_ASSERT_EQUAL(vmp_dirty_bitmap_get(t, r.iova, r.len, PG, bm,
					       sizeof(bm),
					       VMP_DIRTY_F_NO_CLEAR),
			  2, "peek");
	TEST_ASSERT_EQUAL(
		vmp_dirty_bitmap_get(t, r.iova, r.len, PG, bm, sizeof(bm), 0),
		2, "once after the last unpin");
	TEST_ASSERT_EQUAL(
		vmp_dirty_bitmap_get(t, r.iova, r.len, PG, bm, sizeof(bm), 0),
		0, "then clean");
	/* unpin of an unpinned page: refused, nothing changed */
	TEST_ASSERT_SUCCESS(vmp_dirty_pin(t, r.iova, PG), "pin page 0");
	TEST_ASSERT_EQUAL(vmp_dirty_unpin(t, r.iova, 2 * PG), -EINVAL,
			  "page 1 not pinned");
	TEST_ASSERT_EQUAL(vmp_dirty_count(t), 1, "page 0 still pinned");
	TEST_ASSERT_SUCCESS(vmp_dirty_unpin(t, r.iova, PG), "unpin page 0");
	/* pin count overflow: refused, nothing changed */
	for (i = 0; i < 65535; i++)
		if (vmp_dirty_pin(t, r.iova + 5 * PG, PG) != 0)
			break;
	TEST_ASSERT_EQUAL(i, 65535, "65535 nested pins");
	TEST_ASSERT_EQUAL(vmp_dirty_pin(t, r.iova + 4 * PG, 2 * PG), -EOVERFLOW,
			  "65536th");
	TEST_ASSERT_EQUAL(vmp_dirty_unpin(t, r.iova + 4 * PG, PG), -EINVAL,
			  "page 4 was not pinned by the failed call");
	vmp_dirty_tracker_free(t);
	return TEST_SUCCESS;
}

static struct vmp_test_suite dirtylog_suite = {
	.name = "dirtylog",
	.cases =
		{
			TEST_CASE(test_read_and_clear),
			TEST_CASE(test_vhost_log_layout),
			TEST_CASE(test_model),
			TEST_CASE(test_cache_and_hva),
			TEST_CASE(test_pinned),
			TEST_CASES_END(),
		},
};

static int
test_dirtylog(void)
{
	return vmp_test_suite_run(&dirtylog_suite);
}

REGISTER_TEST_COMMAND(dirtylog_autotest, test_dirtylog);
