/* SPDX-License-Identifier: BSD-3-Clause */
/* lib/common halt/kick: the futex primitive under lib/pvlock and lib/workpool. */
#include <errno.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include <vmp_common.h>

#include "vmp_test.h"

static uint32_t word;
static volatile int woke;

static int
test_halt_value_changed(void)
{
	uint32_t w = 5;

	/* The kernel compares: a stale expected value must not sleep. */
	TEST_ASSERT_EQUAL(vmp_halt_wait(&w, 4, 0), 0, "stale value slept");
	return TEST_SUCCESS;
}

static int
test_halt_timeout(void)
{
	uint32_t w = 0;
	uint64_t t0 = rte_get_timer_cycles(), ms;

	TEST_ASSERT_EQUAL(vmp_halt_wait(&w, 0, 20 * 1000 * 1000), -ETIMEDOUT,
			  "no kick, expected a timeout");
	ms = (rte_get_timer_cycles() - t0) * 1000 / rte_get_timer_hz();
	TEST_ASSERT(ms >= 15, "timed out after %" PRIu64 " ms, asked 20", ms);
	return TEST_SUCCESS;
}

static int
test_kick_nobody(void)
{
	uint32_t w = 0;

	TEST_ASSERT_EQUAL(vmp_halt_kick(&w, 1), 0, "woke a phantom");
	return TEST_SUCCESS;
}

static int
halter(void *arg __rte_unused)
{
	/* waiter side of the handshake in vmp_halt.h */
	while (__atomic_load_n(&word, __ATOMIC_ACQUIRE) == 0)
		vmp_halt_wait(&word, 0, 0);
	woke = 1;
	return 0;
}

static int
test_kick_wakes_halted_lcore(void)
{
	unsigned int lcore = rte_get_next_lcore(-1, 1, 0);
	int kicked = 0, i;

	if (lcore >= RTE_MAX_LCORE)
		return TEST_SKIPPED;
	word = 0;
	woke = 0;
	TEST_ASSERT_SUCCESS(rte_eal_remote_launch(halter, NULL, lcore),
			    "launch on lcore %u", lcore);
	usleep(20 * 1000); /* let it reach the kernel */
	/* waker side: change the word (release pairs with the acquire load
	 * in halter()), then kick.
	 */
	__atomic_store_n(&word, 1, __ATOMIC_RELEASE);
	kicked = vmp_halt_kick(&word, 1);
	TEST_ASSERT(kicked >= 0, "kick failed: %d", kicked);
	for (i = 0; i < 1000 && !woke; i++)
		usleep(1000);
	TEST_ASSERT_EQUAL(woke, 1, "halted lcore %u never woke", lcore);
	rte_eal_wait_lcore(lcore);
	return TEST_SUCCESS;
}

static struct vmp_test_suite halt_suite = {
	.name = "halt/kick primitive",
	.cases = {
		TEST_CASE(test_halt_value_changed),
		TEST_CASE(test_halt_timeout),
		TEST_CASE(test_kick_nobody),
		TEST_CASE(test_kick_wakes_halted_lcore),
		TEST_CASES_END(),
	},
};

static int
test_halt(void)
{
	return vmp_test_suite_run(&halt_suite);
}

REGISTER_TEST_COMMAND(halt_autotest, test_halt);
