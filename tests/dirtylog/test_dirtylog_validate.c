/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/dirtylog validation (VFIO / IOMMUFD rules): every bad bitmap_get, pin
 * and unpin is rejected with its documented errno and changes nothing -- not
 * the tracker's dirty state, not the caller's bitmap.
 */
#include <errno.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_memory.h>

#include <vmp_dirtylog.h>

#include "vmp_test.h"

#define PG 4096ULL
#define BASE 0x80000000ULL
#define NPG                                                                    \
	200 /* region 0: 200 pages at BASE; region 1: 64 pages after a         \
	     * 16-page hole */

static struct vmp_dirty_tracker *t;
static uint64_t ref[8]; /* dirty state before the bad call */
static uint64_t canary[8];

static int
setup(void)
{
	struct vmp_dirty_region r[2] = {
		{.iova = BASE, .len = NPG * PG},
		{.iova = BASE + (NPG + 16) * PG, .len = 64 * PG},
	};
	struct vmp_dirty_params p = {
		.name = "v",
		.regions = r,
		.nb_regions = 2,
		.socket_id = SOCKET_ID_ANY,
	};

	t = vmp_dirty_tracker_create(&p);
	if (t == NULL || vmp_dirty_start(t) != 0)
		return TEST_FAILED;
	/* some dirty pages and a pinned one */
	vmp_dirty_log_write(t, BASE, PG);
	vmp_dirty_log_write(t, BASE + 63 * PG, 3 * PG);
	vmp_dirty_log_write(t, BASE + 199 * PG, PG);
	vmp_dirty_pin(t, BASE + 100 * PG, PG);
	memset(ref, 0, sizeof(ref));
	if (vmp_dirty_bitmap_get(t, BASE, NPG * PG, PG, ref, sizeof(ref),
				 VMP_DIRTY_F_NO_CLEAR) != 6)
		return TEST_FAILED;
	memset(canary, 0xa5, sizeof(canary));
	return TEST_SUCCESS;
}

static void
teardown(void)
{
	vmp_dirty_tracker_free(t);
	t = NULL;
}

/* the state and the bitmap are what they were */
static int
unchanged(const uint64_t *bm, size_t bm_words)
{
	uint64_t now[8] = {0};
	size_t i;

	for (i = 0; i < bm_words; i++)
		TEST_ASSERT_EQUAL_U64(bm[i], canary[0],
				      "bitmap word %zu written", i);
	TEST_ASSERT_EQUAL(vmp_dirty_bitmap_get(t, BASE, NPG * PG, PG, now,
					       sizeof(now),
					       VMP_DIRTY_F_NO_CLEAR),
			  6, "dirty count changed");
	TEST_ASSERT(memcmp(now, ref, sizeof(now)) == 0, "dirty pages changed");
	return TEST_SUCCESS;
}

#define REJECT(expect, iova, size, pgsize, bsz, flags)                         \
	do {                                                                   \
		uint64_t bm_[8];                                               \
		memcpy(bm_, canary, sizeof(bm_));                              \
		TEST_ASSERT_EQUAL(                                             \
			vmp_dirty_bitmap_get(t, iova, size, pgsize, bm_, bsz,  \
					     flags),                           \
			expect, "get(0x%llx, 0x%llx, %llu, %llu, %u)",         \
			(unsigned long long)(iova),                            \
			(unsigned long long)(size),                            \
			(unsigned long long)(pgsize),                          \
			(unsigned long long)(bsz), (unsigned)(flags));         \
		if (unchanged(bm_, RTE_DIM(bm_)) != TEST_SUCCESS)              \
			return TEST_FAILED;                                    \
	} while (0)

static int
test_size_zero(void)
{
	REJECT(-EINVAL, BASE, 0, PG, 64, 0);
	return TEST_SUCCESS;
}

static int
test_overflow(void)
{
	REJECT(-EOVERFLOW, UINT64_MAX - PG + 1, 2 * PG, PG, 64, 0);
	REJECT(-EOVERFLOW, BASE, UINT64_MAX - BASE + PG, PG, 64, 0);
	return TEST_SUCCESS;
}

static int
test_misaligned(void)
{
	REJECT(-EINVAL, BASE + 1, PG, PG, 64, 0);
	REJECT(-EINVAL, BASE + 2048, PG, PG, 64, 0);
	REJECT(-EINVAL, BASE, PG + 512, PG, 64, 0);
	REJECT(-EINVAL, BASE, 1, PG, 64, 0);
	return TEST_SUCCESS;
}

static int
test_wrong_pgsize(void)
{
	REJECT(-EINVAL, BASE, 2 * 8192, 8192, 64, 0);
	REJECT(-EINVAL, BASE, PG, 2048, 64, 0);
	REJECT(-EINVAL, BASE, PG, 0, 64, 0);
	REJECT(-EINVAL, BASE, 2 << 20, 2 << 20, 64, 0);
	return TEST_SUCCESS;
}

static int
test_bitmap_too_small(void)
{
	uint64_t bm[2];

	/* 65 pages need 2 words = 16 bytes (rounded to 64-bit words) */
	REJECT(-EINVAL, BASE, 65 * PG, PG, 15, 0);
	REJECT(-EINVAL, BASE, 65 * PG, PG, 9, 0);
	REJECT(-EINVAL, BASE, 65 * PG, PG, 8, 0);
	/* 1 page needs 8 bytes, not 1 */
	REJECT(-EINVAL, BASE, PG, PG, 1, 0);
	REJECT(-EINVAL, BASE, PG, PG, 7, 0);
	REJECT(-EINVAL, BASE, PG, PG, 0, 0);
	/* the exact size works (and this one is a peek: nothing cleared) */
	TEST_ASSERT_EQUAL(vmp_dirty_bitmap_get(t, BASE, 65 * PG, PG, bm, 16,
					       VMP_DIRTY_F_NO_CLEAR),
			  3, "16 bytes suffice (pages 0, 63, 64)");
	return unchanged(canary, 0);
}

static int
test_outside_regions(void)
{
	REJECT(-ENOENT, 0, PG, PG, 64, 0);	       /* below */
	REJECT(-ENOENT, BASE - PG, 2 * PG, PG, 64, 0); /* straddles start */
	REJECT(-ENOENT, BASE + (NPG - 1) * PG, 2 * PG, PG, 64,
	       0);						/* into hole */
	REJECT(-ENOENT, BASE + (NPG + 1) * PG, PG, PG, 64, 0);	/* in hole */
	REJECT(-ENOENT, BASE, (NPG + 16 + 65) * PG, PG, 64, 0); /* past end */
	REJECT(-ENOENT, 1ULL << 60, PG, PG, 64, 0);		/* far above */
	return TEST_SUCCESS;
}

static int
test_not_started(void)
{
	uint64_t bm[8];

	TEST_ASSERT_SUCCESS(vmp_dirty_stop(t), "stop");
	memcpy(bm, canary, sizeof(bm));
	TEST_ASSERT_EQUAL(
		vmp_dirty_bitmap_get(t, BASE, NPG * PG, PG, bm, sizeof(bm), 0),
		-EINVAL, "get while stopped");
	TEST_ASSERT(memcmp(bm, canary, sizeof(bm)) == 0, "bitmap written");
	TEST_ASSERT_EQUAL(vmp_dirty_count(t), -EINVAL, "count while stopped");
	return TEST_SUCCESS;
}

static int
test_unknown_flags(void)
{
	REJECT(-EOPNOTSUPP, BASE, PG, PG, 64, 1u << 1);
	REJECT(-EOPNOTSUPP, BASE, PG, PG, 64, 1u << 31);
	REJECT(-EOPNOTSUPP, BASE, PG, PG, 64, VMP_DIRTY_F_NO_CLEAR | 4);
	return TEST_SUCCESS;
}

static int
test_null_args(void)
{
	uint64_t bm[8];

	TEST_ASSERT_EQUAL(vmp_dirty_bitmap_get(NULL, BASE, PG, PG, bm, 64, 0),
			  -EINVAL, "NULL tracker");
	TEST_ASSERT_EQUAL(vmp_dirty_bitmap_get(t, BASE, PG, PG, NULL, 64, 0),
			  -EINVAL, "NULL bitmap");
	RTE_SET_USED(bm);
	return unchanged(canary, 0);
}

static int
test_pin_unpin_rejects(void)
{
	TEST_ASSERT_EQUAL(vmp_dirty_pin(t, BASE, 0), -EINVAL, "pin size 0");
	TEST_ASSERT_EQUAL(vmp_dirty_pin(t, BASE + 1, PG), -EINVAL,
			  "pin misaligned iova");
	TEST_ASSERT_EQUAL(vmp_dirty_pin(t, BASE, PG - 1), -EINVAL,
			  "pin misaligned size");
	TEST_ASSERT_EQUAL(vmp_dirty_pin(t, UINT64_MAX - PG + 1, 2 * PG),
			  -EOVERFLOW, "pin overflow");
	TEST_ASSERT_EQUAL(vmp_dirty_pin(t, BASE + (NPG - 1) * PG, 2 * PG),
			  -ENOENT, "pin into the hole");
	TEST_ASSERT_EQUAL(vmp_dirty_unpin(t, BASE + 100 * PG, 0), -EINVAL,
			  "unpin size 0");
	TEST_ASSERT_EQUAL(vmp_dirty_unpin(t, BASE + 99 * PG, 2 * PG), -EINVAL,
			  "unpin with page 99 not pinned");
	TEST_ASSERT_EQUAL(vmp_dirty_unpin(t, BASE + 100 * PG, PG + 8), -EINVAL,
			  "unpin misaligned");
	TEST_ASSERT_EQUAL(vmp_dirty_pin(NULL, BASE, PG), -EINVAL, "NULL");
	return unchanged(canary, 0);
}

static int
test_create_rejects(void)
{
	struct vmp_dirty_region r[2] = {
		{.iova = BASE, .len = 16 * PG},
		{.iova = BASE + 8 * PG, .len = 16 * PG},
	};
	struct vmp_dirty_params p = {
		.regions = r, .nb_regions = 1, .socket_id = SOCKET_ID_ANY};
#define BAD(stmt, what)                                                        \
	do {                                                                   \
		struct vmp_dirty_region rr[2] = {r[0], r[1]};                  \
		struct vmp_dirty_params pp = p;                                \
		pp.regions = rr;                                               \
		stmt;                                                          \
		rte_errno = 0;                                                 \
		TEST_ASSERT_NULL(vmp_dirty_tracker_create(&pp), what);         \
		TEST_ASSERT_EQUAL(rte_errno, EINVAL, what);                    \
	} while (0)
	BAD(pp.nb_regions = 0, "no regions");
	BAD(pp.nb_regions = VMP_DIRTY_MAX_REGIONS + 1, "too many regions");
	BAD(pp.regions = NULL, "NULL regions");
	BAD(rr[0].len = 0, "length 0");
	BAD(rr[0].iova += 1, "misaligned iova");
	BAD(rr[0].len += 100, "misaligned length");
	BAD(rr[0].iova = UINT64_MAX - PG + 1, "overflowing region");
	BAD(pp.nb_regions = 2, "overlapping regions");
	BAD(pp.page_size = 3000, "page size not a power of 2");
	BAD(pp.page_size = 2048, "page size below 4096");
	BAD(pp.mode = 7, "unknown mode");
	BAD(pp.mode = VMP_DIRTY_MODE_KERNEL_WP, "kernel mode without host");
	BAD((pp.log = (char *)ref + 1, pp.log_size = 4096), "misaligned log");
	BAD((pp.log = ref, pp.log_size = sizeof(ref)), "log too small");
	BAD((pp.log = ref, pp.log_size = 1 << 20, pp.page_size = 8192),
	    "caller log with page size 8192");
#undef BAD
	TEST_ASSERT_NULL(vmp_dirty_tracker_create(NULL), "NULL params");
	return TEST_SUCCESS;
}

static struct vmp_test_suite validate_suite = {
	.name = "dirtylog_validate",
	.cases =
		{
			TEST_CASE_ST(setup, teardown, test_size_zero),
			TEST_CASE_ST(setup, teardown, test_overflow),
			TEST_CASE_ST(setup, teardown, test_misaligned),
			TEST_CASE_ST(setup, teardown, test_wrong_pgsize),
			TEST_CASE_ST(setup, teardown, test_bitmap_too_small),
			TEST_CASE_ST(setup, teardown, test_outside_regions),
			TEST_CASE_ST(setup, teardown, test_not_started),
			TEST_CASE_ST(setup, teardown, test_unknown_flags),
			TEST_CASE_ST(setup, teardown, test_null_args),
			TEST_CASE_ST(setup, teardown, test_pin_unpin_rejects),
			TEST_CASE(test_create_rejects),
			TEST_CASES_END(),
		},
};

static int
test_dirtylog_validate(void)
{
	return vmp_test_suite_run(&validate_suite);
}

REGISTER_TEST_COMMAND(dirtylog_validate_autotest, test_dirtylog_validate);
