/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VMP_TEST_H
#define VMP_TEST_H

/**
 * @file
 * vmpath-test: a unit-test runner used like dpdk-test.
 *
 *   vmpath-test [EAL args] [test_name ...]     (or VMPATH_TEST=test_name)
 *
 * A test command is a function returning TEST_SUCCESS, TEST_FAILED or
 * TEST_SKIPPED, registered with REGISTER_TEST_COMMAND(name, fn). Most commands
 * run a suite of cases with vmp_test_suite_run(). Assertions print file:line
 * and the values compared, then make the case return TEST_FAILED.
 *
 * The process exits 0 when every command passed, 77 when none failed but one
 * was skipped (meson's "SKIP"), 1 otherwise.
 */

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>

#define TEST_SUCCESS 0
#define TEST_FAILED -1
#define TEST_SKIPPED 77

#define VMP_TEST_FAIL_(fmt, ...)                                               \
	do {                                                                   \
		printf("  FAIL %s:%d %s(): " fmt "\n", __FILE__, __LINE__,     \
		       __func__, ##__VA_ARGS__);                               \
		return TEST_FAILED;                                            \
	} while (0)

/** Fail unless @p cond; the message is printf-style. */
#define TEST_ASSERT(cond, msg, ...)                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			VMP_TEST_FAIL_("(%s) " msg, #cond, ##__VA_ARGS__);     \
	} while (0)

/** Integer equality; prints both values (as signed 64-bit). */
#define TEST_ASSERT_EQUAL(a, b, msg, ...)                                      \
	do {                                                                   \
		int64_t a_ = (int64_t)(a), b_ = (int64_t)(b);                  \
		if (a_ != b_)                                                  \
			VMP_TEST_FAIL_("%s == %s: %" PRId64 " != %" PRId64     \
				       ": " msg,                               \
				       #a, #b, a_, b_, ##__VA_ARGS__);         \
	} while (0)

#define TEST_ASSERT_NOT_EQUAL(a, b, msg, ...)                                  \
	do {                                                                   \
		int64_t a_ = (int64_t)(a), b_ = (int64_t)(b);                  \
		if (a_ == b_)                                                  \
			VMP_TEST_FAIL_("%s != %s: both %" PRId64 ": " msg, #a, \
				       #b, a_, ##__VA_ARGS__);                 \
	} while (0)

/** Unsigned 64-bit equality (counters, sizes). */
#define TEST_ASSERT_EQUAL_U64(a, b, msg, ...)                                  \
	do {                                                                   \
		uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);               \
		if (a_ != b_)                                                  \
			VMP_TEST_FAIL_("%s == %s: %" PRIu64 " != %" PRIu64     \
				       ": " msg,                               \
				       #a, #b, a_, b_, ##__VA_ARGS__);         \
	} while (0)

#define TEST_ASSERT_STR_EQUAL(a, b, msg, ...)                                  \
	do {                                                                   \
		const char *a_ = (a), *b_ = (b);                               \
		if (strcmp(a_, b_) != 0)                                       \
			VMP_TEST_FAIL_("%s == %s: \"%s\" != \"%s\": " msg, #a, \
				       #b, a_, b_, ##__VA_ARGS__);             \
	} while (0)

/** @p haystack contains @p needle. */
#define TEST_ASSERT_STR_CONTAINS(haystack, needle, msg, ...)                   \
	do {                                                                   \
		const char *h_ = (haystack), *n_ = (needle);                   \
		if (strstr(h_, n_) == NULL)                                    \
			VMP_TEST_FAIL_("\"%s\" not in \"%s\": " msg, n_, h_,   \
				       ##__VA_ARGS__);                         \
	} while (0)

#define TEST_ASSERT_SUCCESS(expr, msg, ...)                                    \
	do {                                                                   \
		int64_t r_ = (int64_t)(expr);                                  \
		if (r_ != 0)                                                   \
			VMP_TEST_FAIL_("%s returned %" PRId64 ": " msg, #expr, \
				       r_, ##__VA_ARGS__);                     \
	} while (0)

#define TEST_ASSERT_NULL(p, msg, ...)                                          \
	do {                                                                   \
		const void *p_ = (p);                                          \
		if (p_ != NULL)                                                \
			VMP_TEST_FAIL_("%s is %p, not NULL: " msg, #p, p_,     \
				       ##__VA_ARGS__);                         \
	} while (0)

#define TEST_ASSERT_NOT_NULL(p, msg, ...)                                      \
	do {                                                                   \
		if ((p) == NULL)                                               \
			VMP_TEST_FAIL_("%s is NULL: " msg, #p, ##__VA_ARGS__); \
	} while (0)

/** A test case of a suite. */
struct vmp_test_case {
	const char *name;
	int (*setup)(void);
	void (*teardown)(void);
	int (*fn)(void);
};

#define TEST_CASE(fn) { #fn, NULL, NULL, fn }
#define TEST_CASE_ST(setup, teardown, fn) { #fn, setup, teardown, fn }
#define TEST_CASES_END() { NULL, NULL, NULL, NULL }

struct vmp_test_suite {
	const char *name;
	int (*setup)(void);     /**< TEST_SKIPPED here skips the suite */
	void (*teardown)(void);
	struct vmp_test_case cases[];
};

/**
 * Run every case; print one line each and a summary.
 * @return TEST_SUCCESS, TEST_FAILED (any case failed), or TEST_SKIPPED
 *   (the suite setup skipped, or every case skipped).
 */
int vmp_test_suite_run(struct vmp_test_suite *suite);

struct vmp_test_cmd {
	const char *name;
	int (*fn)(void);
	struct vmp_test_cmd *next;
};

void vmp_test_register(struct vmp_test_cmd *cmd);

#define REGISTER_TEST_COMMAND(cmd, func)                                       \
	static struct vmp_test_cmd vmp_test_cmd_##cmd = {                      \
		.name = RTE_STR(cmd),                                          \
		.fn = func,                                                    \
	};                                                                     \
	RTE_INIT(vmp_test_register_##cmd)                                      \
	{                                                                      \
		vmp_test_register(&vmp_test_cmd_##cmd);                        \
	}

/**
 * A failed case left lcores running that it could not stop (a pool whose
 * destroy was refused): the process then exits without rte_eal_cleanup(),
 * which would wait for them forever.
 */
void vmp_test_threads_leaked(void);

/** Path of the vmpath-test binary (argv[0]), for tests that spawn it. */
extern const char *vmp_test_argv0;

#endif /* VMP_TEST_H */
