/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Datapath cost of lib/vnet on one lcore, without a peer competing for the
 * CPU: the crafted frontend (vhu_front.c) posts 32 buffers, the timed part is
 * only vmp_vnet_enqueue_burst / vmp_vnet_dequeue_burst (plus, async, the
 * calls that publish what landed). TSC cycles per packet, sync vs async
 * on two engines: our dma_swdma (its engine on service lcore 1) and DPDK's
 * dma_skeleton (its copy thread). The engine's own copy work is not counted:
 * that is the point of offloading. The median over 7 x 2000 bursts of each
 * burst's cycles per packet. Then the same with dirty logging on (what a
 * live migration's source asks: SET_LOG_BASE, VHOST_F_LOG_ALL), beside the
 * logging-off numbers of the same run. A perf test: prints tables, asserts
 * nothing about speed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/vhost.h>
#include <linux/virtio_net.h>

#include <rte_cycles.h>
#include <rte_dmadev.h>
#include <rte_mbuf.h>

#include <vmp_vnet.h>

#include "vhu_front.h"
#include "vnet_test_util.h"
#include "vmp_test.h"

#define B 32
#define ROUNDS 7
#define ITERS 2000
#define SLOT(k) (VHU_GPA_BASE + 0x10000 + (uint64_t)(k)*0x800)

static struct vhu_front fr;
static struct vmp_vnet_port *port;
static struct rte_mempool *mp;

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void
post(unsigned int r, unsigned int len, uint16_t flags)
{
	unsigned int k;

	for (k = 0; k < B; k++) {
		uint16_t d = (uint16_t)((fr.ring[r].avail_idx) % VHU_QSIZE);

		fr.ring[r].desc[d] = (struct vring_desc){
			SLOT(r * VHU_QSIZE + d), len, flags, 0};
		vhu_front_post(&fr, r, d);
	}
}

static void
drain_used(unsigned int r)
{
	struct vring_used_elem e;

	while (vhu_front_used(&fr, r, &e) == 0)
		;
}

/* cycles per packet of one round */
static double samples[ROUNDS * ITERS];
static unsigned int nsamples;

/* One sample per burst (its cycles / its packets): a burst the kernel
 * preempted is an outlier the median drops, on a shared machine. */
static double
round_enq(unsigned int size)
{
	struct rte_mbuf *m[B];
	unsigned int i;
	uint64_t cyc;
	uint16_t n;
	bool did;

	for (i = 0; i < ITERS; i++) {
		cyc = 0;
		post(0, 2048, VRING_DESC_F_WRITE);
		if (vnet_test_mbufs(mp, m, B, (uint16_t)size) < 0)
			return -1;
		cyc += vnet_test_call(port, &fr, true, m, B, &n, &did);
		/* async: publish what landed; a poll that found nothing
		 * landed is the engine's latency, not datapath work (a real
		 * lcore serves other queues then): not counted */
		cyc += vnet_test_publish_until(port, &fr, true,
					       fr.ring[0].avail_idx, NULL);
		drain_used(0);
		if (n)
			samples[nsamples++] = (double)cyc / n;
	}
	return 0;
}

static double
round_deq(unsigned int size)
{
	uint64_t cyc, t;
	unsigned int i, got;

	for (i = 0; i < ITERS; i++) {
		cyc = 0;
		post(1, size + 12, 0);
		for (got = 0; got < B;) {
			uint16_t k;
			bool did;

			t = vnet_test_call(port, &fr, false, NULL, 0, &k, &did);
			/* same rule: empty polls waiting for the engine */
			if (did || got == 0)
				cyc += t;
			got += k;
		}
		drain_used(1);
		samples[nsamples++] = (double)cyc / got;
	}
	return 0;
}

/* The engine alone: 32 rte_dma_copy + submit, then completion polls (the
 * ones that retired something), per copy: the floor of any async path. */
static double
engine_alone(int id, unsigned int size)
{
	static uint8_t src[2048], dst[B][2048];
	enum rte_dma_status_code st[B];
	unsigned int i, k, done;
	uint64_t cyc, t;
	uint16_t last;

	nsamples = 0;
	for (i = 0; i < ROUNDS * ITERS / 4; i++) {
		t = rte_rdtsc();
		for (k = 0; k < B; k++)
			rte_dma_copy((int16_t)id, 0, (rte_iova_t)(uintptr_t)src,
				     (rte_iova_t)(uintptr_t)dst[k], size, 0);
		rte_dma_submit((int16_t)id, 0);
		cyc = rte_rdtsc() - t;
		for (done = 0; done < B;) {
			uint16_t n;

			t = rte_rdtsc();
			n = rte_dma_completed_status((int16_t)id, 0, B, &last,
						     st);
			t = rte_rdtsc() - t;
			if (n)
				cyc += t;
			done += n;
		}
		samples[nsamples++] = (double)cyc / B;
	}
	qsort(samples, nsamples, sizeof(samples[0]), cmp_d);
	return samples[nsamples / 2];
}

static double
measure(bool enq, unsigned int size)
{
	int i;

	nsamples = 0;
	for (i = 0; i < ROUNDS; i++) {
		if (enq)
			round_enq(size);
		else
			round_deq(size);
	}
	qsort(samples, nsamples, sizeof(samples[0]), cmp_d);
	return nsamples ? samples[nsamples / 2] : -1;
}

/* Dirty logging on (sync, then dma_skeleton), printed beside @off: the
 * logging-off numbers of this run, [enq/deq][size][sync, swdma, skeleton]. */
static int
log_cost(double off[2][2][3], const unsigned int *sizes)
{
	struct vmp_vnet_port_info in = {0};
	double on[2][2][2]; /* [enq/deq][size][sync, skeleton] */
	struct vmp_vnet_dma *dma = NULL;
	unsigned int s, d, k;
	int id;

	if (vhu_front_log_base(&fr) < 0 ||
	    vhu_front_set_features(&fr,
				   fr.features | (1ULL << VHOST_F_LOG_ALL)) < 0)
		return -1;
	for (k = 0; k < 500 && !(in.log_on && in.running == 3); k++) {
		usleep(10000);
		vmp_vnet_port_info_get(port, &in);
	}
	if (!in.log_on || in.running != 3)
		return -1;
	id = test_dma_open("dma_skeleton_logcost", NULL, 0);
	for (d = 0; d < 2; d++) {
		if (d == 1 && id >= 0) {
			dma = vmp_vnet_dma_create((int16_t)id, 0, 256, 0);
			if (dma == NULL)
				break;
			vmp_vnet_port_set_dma(port, 0, dma);
		}
		for (s = 0; s < 2; s++) {
			on[0][s][d] = d == 1 && dma == NULL
					      ? -1
					      : measure(true, sizes[s]);
			on[1][s][d] = d == 1 && dma == NULL
					      ? -1
					      : measure(false, sizes[s]);
		}
	}
	if (dma != NULL) {
		vmp_vnet_port_set_dma(port, 0, NULL);
		vmp_vnet_dma_free(dma);
	}
	if (id >= 0)
		test_dma_close(id, "dma_skeleton_logcost");
	printf("\nsame, dirty logging off vs on (VHOST_F_LOG_ALL), same run\n");
	printf("%-8s %6s %9s %9s %7s %13s %12s %7s\n", "path", "size",
	       "sync off", "sync on", "on/off", "skeleton off", "skeleton on",
	       "on/off");
	for (d = 0; d < 2; d++)
		for (s = 0; s < 2; s++)
			printf("%-8s %6u %9.1f %9.1f %6.2fx %13.1f %12.1f "
			       "%6.2fx\n",
			       d ? "dequeue" : "enqueue", sizes[s],
			       off[d][s][0], on[d][s][0],
			       on[d][s][0] / off[d][s][0], off[d][s][2],
			       on[d][s][1], on[d][s][1] / off[d][s][2]);
	return vhu_front_set_features(&fr,
				      fr.features & ~(1ULL << VHOST_F_LOG_ALL));
}

static int
test_vnet_cost(void)
{
	static const char *const engines[] = {"dma_swdma_cost",
					      "dma_skeleton_cost"};
	static const unsigned int sizes[] = {64, 1518};
	/* [enq/deq][size][sync, async swdma, async skeleton] */
	double res[2][2][3], alone[2] = {-1, -1};
	struct vmp_vnet_dma *dma;
	unsigned int s, e;
	int i, id;

	TEST_ASSERT_SUCCESS(vnet_test_port_open("vnet_cost", &fr, &port, &mp),
			    "port and frontend");
	for (s = 0; s < 2; s++) {
		res[0][s][0] = measure(true, sizes[s]);
		res[1][s][0] = measure(false, sizes[s]);
	}
	for (e = 0; e < RTE_DIM(engines); e++) {
		/* dma_swdma: its engine runs on service lcore 1 */
		id = test_dma_open(engines[e], NULL,
				   rte_get_next_lcore(-1, 1, 0));
		if (id < 0) {
			printf("%s: not available, skipped\n", engines[e]);
			for (s = 0; s < 2; s++)
				res[0][s][e + 1] = res[1][s][e + 1] = -1;
			continue;
		}
		dma = vmp_vnet_dma_create((int16_t)id, 0, 256, 0);
		TEST_ASSERT_NOT_NULL(dma, "vnet dma (--iova-mode=va)");
		vmp_vnet_port_set_dma(port, 0, dma);
		for (s = 0; s < 2; s++) {
			res[0][s][e + 1] = measure(true, sizes[s]);
			res[1][s][e + 1] = measure(false, sizes[s]);
		}
		vmp_vnet_port_set_dma(port, 0, NULL);
		vmp_vnet_dma_free(dma);
		alone[e] = engine_alone(id, 1518);
		test_dma_close(id, engines[e]);
	}
	printf("\nlib/vnet datapath TSC cycles/packet, one lcore, bursts of "
	       "%d, median over %d x %d bursts of each burst's cycles/packet\n",
	       B, ROUNDS, ITERS);
	printf("%-8s %6s %10s %12s %9s %14s %9s\n", "path", "size", "sync",
	       "async swdma", "ratio", "async skeleton", "ratio");
	for (i = 0; i < 2; i++)
		for (s = 0; s < 2; s++)
			printf("%-8s %6u %10.1f %12.1f %8.2fx %14.1f %8.2fx\n",
			       i ? "dequeue" : "enqueue", sizes[s],
			       res[i][s][0], res[i][s][1],
			       res[i][s][0] / res[i][s][1], res[i][s][2],
			       res[i][s][0] / res[i][s][2]);
	printf("engine alone, 1518 B, rte_dma_copy+submit+completed per copy: "
	       "swdma %.1f, skeleton %.1f cycles\n",
	       alone[0], alone[1]);
	if (log_cost(res, sizes) < 0)
		printf("dirty logging could not be switched on: no log "
		       "table\n");
	vnet_test_port_close("vnet_cost", &fr, port, mp);
	return TEST_SUCCESS;
}

REGISTER_TEST_COMMAND(vnet_cost_perf_autotest, test_vnet_cost);
