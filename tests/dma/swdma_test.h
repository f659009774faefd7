/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SWDMA_TEST_H
#define SWDMA_TEST_H

/* Helpers shared by the dma_swdma tests and its benchmark. */

#include <sched.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_bus_vdev.h>
#include <rte_cycles.h>
#include <rte_dmadev.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_pause.h>

#include "vmp_test_wait.h"

/* Address of a buffer for rte_dma: the PMDs used here are SVA (VA). */
#define BUF_IOVA(p) ((rte_iova_t)(uintptr_t)(p))

/* Create vdev @p name with @p args; return its dmadev id, or -1. */
static inline int16_t
swdma_test_create(const char *name, const char *args)
{
	if (rte_vdev_init(name, args) != 0)
		return -1;
	return (int16_t)rte_dma_get_dev_id_by_name(name);
}

/*
 * One device per test case: swdma_test_dev_new() creates vdev <prefix><n>,
 * swdma_test_dev_end() (the case teardown) stops and removes it.
 */
struct swdma_test_dev {
	char name[64];
	int16_t id;
	unsigned int seq;
};

static inline int16_t
swdma_test_dev_new(struct swdma_test_dev *d, const char *prefix,
		   const char *args)
{
	snprintf(d->name, sizeof(d->name), "%s%u", prefix, d->seq++);
	d->id = swdma_test_create(d->name, args);
	return d->id;
}

static inline void swdma_test_destroy(const char *name, int16_t id);

static inline void
swdma_test_dev_end(struct swdma_test_dev *d)
{
	if (d->name[0] != '\0')
		swdma_test_destroy(d->name, d->id);
	d->name[0] = '\0';
	d->id = -1;
}

/* Suite setup: lcore 1 for the engines' service lcore, IOVA as VA. */
static inline int
swdma_test_suite_setup(void)
{
	if (rte_lcore_count() < 2 || !rte_lcore_is_enabled(1)) {
		printf("  needs lcore 1 for the service lcore (-l 0-1)\n");
		return 77; /* TEST_SKIPPED */
	}
	if (rte_eal_iova_mode() != RTE_IOVA_VA) {
		printf("  dma_swdma needs IOVA as VA (--no-huge or "
		       "--iova-mode=va)\n");
		return 77;
	}
	return 0;
}

/* Configure @p nb_vchans vchans of @p nb_desc, and start. */
static inline int
swdma_test_setup(int16_t id, uint16_t nb_vchans, uint16_t nb_desc)
{
	const struct rte_dma_conf conf = {.nb_vchans = nb_vchans};
	const struct rte_dma_vchan_conf qc = {
		.direction = RTE_DMA_DIR_MEM_TO_MEM,
		.nb_desc = nb_desc,
	};
	uint16_t v;
	int rc;

	rc = rte_dma_configure(id, &conf);
	for (v = 0; rc == 0 && v < nb_vchans; v++)
		rc = rte_dma_vchan_setup(id, v, &qc);
	if (rc == 0)
		rc = rte_dma_start(id);
	if (rc != 0)
		printf("  setup of dmadev %d (%u vchans x %u): %d\n", id,
		       nb_vchans, nb_desc, rc);
	return rc;
}

/* Stop and remove a vdev created by swdma_test_create. */
static inline void
swdma_test_destroy(const char *name, int16_t id)
{
	if (id >= 0)
		rte_dma_stop(id);
	rte_vdev_uninit(name);
}

/*
 * Reap exactly @p n jobs with completed_status (statuses into @p st, which
 * holds @p n). Gives up when the engine lcores ran @p ms of CPU time without
 * completing a job, or slept with jobs pending (vmp_test_wait, which prints
 * why); waits on while they are runnable but not scheduled. Returns how many
 * were reaped.
 */
static inline uint32_t
swdma_test_reap(int16_t id, uint16_t vchan, uint32_t n,
		enum rte_dma_status_code *st, unsigned int ms)
{
	struct vmp_test_wait w;
	uint32_t got = 0, empty = 0;

	vmp_test_wait_init(&w, "swdma reap", ms);
	while (got < n && vmp_test_wait_check(&w, got) == 0) {
		uint16_t want =
			(uint16_t)RTE_MIN(n - got, (uint32_t)UINT16_MAX);
		uint16_t k = rte_dma_completed_status(id, vchan, want, NULL,
						      st + got);

		/* the engine lcore may share this CPU: let it run */
		if (k == 0 && (++empty & 255) == 0)
			sched_yield();
		else if (k == 0)
			rte_pause();
		got += k;
	}
	return got;
}

/*
 * Reap what completes within @p ms of wall-clock time, at most @p n jobs.
 * For checks that something does *not* complete (a stalled engine, copies
 * delayed on purpose): there the bound is the point, not a guess at how long
 * a starved engine needs, so it is not a progress wait.
 */
static inline uint32_t
swdma_test_reap_for(int16_t id, uint16_t vchan, uint32_t n,
		    enum rte_dma_status_code *st, unsigned int ms)
{
	uint64_t end = rte_get_timer_cycles() + rte_get_timer_hz() * ms / 1000;
	uint32_t got = 0;

	while (got < n && rte_get_timer_cycles() < end) {
		uint16_t want =
			(uint16_t)RTE_MIN(n - got, (uint32_t)UINT16_MAX);

		got += rte_dma_completed_status(id, vchan, want, NULL,
						st + got);
		sched_yield(); /* the engine lcore may share this CPU */
	}
	return got;
}

#endif /* SWDMA_TEST_H */
