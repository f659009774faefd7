/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dma_swdma's test devargs for hung and slow engines: `stall` (and its
 * run-time switch rte_pmd_swdma_stall_set()) holds jobs inside the engine
 * until released, so stop and close are refused while the engine may still
 * write; `delay_us` keeps each copy in flight for a while. Used by lib/vnet's
 * lifecycle tests and by live-migration tests.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_pmd_swdma.h>

#include "swdma_test.h"
#include "vmp_test.h"

#define WAIT_MS 10000
#define STALL_LEN 4096

static struct swdma_test_dev dev = {.id = -1};

static int
dev_new(const char *args)
{
	return swdma_test_dev_new(&dev, "dma_swdma_f", args);
}

static void
case_teardown(void)
{
	if (dev.id >= 0)
		rte_pmd_swdma_stall_set(dev.id, 0);
	swdma_test_dev_end(&dev);
}

static int
test_fault_devargs_refused(void)
{
	static const char *const bad[] = {"delay_us=1000001", "stall=2",
					  "stall=x"};
	unsigned int i;

	for (i = 0; i < RTE_DIM(bad); i++) {
		TEST_ASSERT(dev_new(bad[i]) < 0, "devargs '%s' accepted",
			    bad[i]);
		TEST_ASSERT(rte_dma_get_dev_id_by_name(dev.name) < 0,
			    "device left behind");
	}
	dev.name[0] = '\0';
	TEST_ASSERT_EQUAL(rte_pmd_swdma_stall_set(999, 1), -ENODEV,
			  "not a swdma device");
	return TEST_SUCCESS;
}

/*
 * A stalled engine holds a submitted copy: nothing lands, stop times out
 * and leaves the device started, close is refused (the engine may still
 * write the vchan and the destination). Released, the held copy lands in
 * the destination (still owned: nothing was freed), then stop and close
 * complete.
 */
static int
test_stall_refuses_stop_and_close(void)
{
	enum rte_dma_status_code st[2];
	uint8_t *src, *dst;
	uint64_t t0, ms;
	int rc;

	TEST_ASSERT(dev_new("lcores=1,stall=1") >= 0, "create");
	TEST_ASSERT_SUCCESS(swdma_test_setup(dev.id, 1, 64), "setup");
	src = rte_malloc(NULL, STALL_LEN, 64);
	dst = rte_malloc(NULL, STALL_LEN, 64);
	TEST_ASSERT(src != NULL && dst != NULL, "buffers");
	memset(src, 0x5a, STALL_LEN);
	memset(dst, 0xee, STALL_LEN);
	TEST_ASSERT_EQUAL(rte_dma_copy(dev.id, 0, BUF_IOVA(src), BUF_IOVA(dst),
				       STALL_LEN, RTE_DMA_OP_FLAG_SUBMIT),
			  0, "copy");
	TEST_ASSERT_EQUAL(swdma_test_reap_for(dev.id, 0, 1, st, 100), 0,
			  "a stalled engine completes nothing");
	TEST_ASSERT(dst[0] == 0xee && dst[STALL_LEN - 1] == 0xee,
		    "nothing written while stalled");
	t0 = rte_get_timer_cycles();
	rc = rte_dma_stop(dev.id);
	ms = (rte_get_timer_cycles() - t0) * 1000 / rte_get_timer_hz();
	TEST_ASSERT_EQUAL(rc, -ETIMEDOUT, "stop with a hung engine: %d", rc);
	printf("  stop refused after %" PRIu64 " ms\n", ms);
	TEST_ASSERT_EQUAL(rte_dma_close(dev.id), -EBUSY,
			  "close refused while the engine may write");
	TEST_ASSERT_SUCCESS(rte_pmd_swdma_stall_set(dev.id, 0), "release");
	TEST_ASSERT_EQUAL(swdma_test_reap(dev.id, 0, 1, st, WAIT_MS), 1,
			  "the held copy completes");
	TEST_ASSERT_EQUAL(st[0], RTE_DMA_STATUS_SUCCESSFUL, "status");
	TEST_ASSERT(memcmp(dst, src, STALL_LEN) == 0,
		    "the late write landed in the owned destination");

	/* run-time switch on a running device: the next copy is held */
	memset(dst, 0xee, STALL_LEN);
	TEST_ASSERT_SUCCESS(rte_pmd_swdma_stall_set(dev.id, 1), "stall");
	TEST_ASSERT_EQUAL(rte_dma_copy(dev.id, 0, BUF_IOVA(src), BUF_IOVA(dst),
				       STALL_LEN, RTE_DMA_OP_FLAG_SUBMIT),
			  1, "copy 2");
	TEST_ASSERT_EQUAL(swdma_test_reap_for(dev.id, 0, 1, st, 100), 0,
			  "held after a run-time stall");
	TEST_ASSERT(dst[0] == 0xee, "nothing written");
	TEST_ASSERT_SUCCESS(rte_pmd_swdma_stall_set(dev.id, 0), "release 2");
	TEST_ASSERT_EQUAL(swdma_test_reap(dev.id, 0, 1, st, WAIT_MS), 1,
			  "copy 2 completes");
	TEST_ASSERT(memcmp(dst, src, STALL_LEN) == 0, "copy 2 landed");

	TEST_ASSERT_SUCCESS(rte_dma_stop(dev.id), "stop once released");
	TEST_ASSERT_SUCCESS(rte_vdev_uninit(dev.name), "close once released");
	dev.name[0] = '\0';
	dev.id = -1;
	rte_free(src);
	rte_free(dst);
	return TEST_SUCCESS;
}

#define DELAY_US 2000
#define DELAY_JOBS 10

/* Each copy waits delay_us in the engine, then lands: the batch takes at
 * least DELAY_JOBS x delay_us, and stays in flight meanwhile. */
static int
test_delay_keeps_copies_in_flight(void)
{
	enum rte_dma_status_code st[DELAY_JOBS];
	uint8_t src[64], dst[DELAY_JOBS][64];
	uint64_t t0, us;
	unsigned int i;
	uint32_t got;
	char args[64];

	snprintf(args, sizeof(args), "lcores=1,delay_us=%u", DELAY_US);
	TEST_ASSERT(dev_new(args) >= 0, "create");
	TEST_ASSERT_SUCCESS(swdma_test_setup(dev.id, 1, 64), "setup");
	memset(src, 0x33, sizeof(src));
	memset(dst, 0, sizeof(dst));
	t0 = rte_get_timer_cycles();
	for (i = 0; i < DELAY_JOBS; i++)
		TEST_ASSERT(rte_dma_copy(dev.id, 0, BUF_IOVA(src),
					 BUF_IOVA(dst[i]), sizeof(src), 0) >= 0,
			    "copy %u", i);
	rte_dma_submit(dev.id, 0);
	got = swdma_test_reap_for(dev.id, 0, DELAY_JOBS, st, 2);
	TEST_ASSERT(got < DELAY_JOBS, "still in flight after 2 ms");
	got += swdma_test_reap(dev.id, 0, DELAY_JOBS - got, st + got, WAIT_MS);
	TEST_ASSERT_EQUAL(got, DELAY_JOBS, "all completed");
	us = (rte_get_timer_cycles() - t0) * 1000000 / rte_get_timer_hz();
	TEST_ASSERT(us >= (uint64_t)DELAY_JOBS * DELAY_US,
		    "%u copies took %" PRIu64 " us, want >= %u", DELAY_JOBS, us,
		    DELAY_JOBS * DELAY_US);
	for (i = 0; i < DELAY_JOBS; i++)
		TEST_ASSERT(st[i] == RTE_DMA_STATUS_SUCCESSFUL &&
				    memcmp(dst[i], src, sizeof(src)) == 0,
			    "copy %u landed", i);
	return TEST_SUCCESS;
}

static struct vmp_test_suite swdma_faults_suite = {
	.name = "dma_swdma: stall and delay devargs",
	.setup = swdma_test_suite_setup,
	.cases =
		{
			TEST_CASE_ST(NULL, case_teardown,
				     test_fault_devargs_refused),
			TEST_CASE_ST(NULL, case_teardown,
				     test_stall_refuses_stop_and_close),
			TEST_CASE_ST(NULL, case_teardown,
				     test_delay_keeps_copies_in_flight),
			TEST_CASES_END(),
		},
};

static int
test_swdma_faults(void)
{
	return vmp_test_suite_run(&swdma_faults_suite);
}

REGISTER_TEST_COMMAND(swdma_faults_autotest, test_swdma_faults);
