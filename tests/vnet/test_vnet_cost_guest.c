/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Datapath cost of lib/vnet with a guest on the other core: like
 * vnet_cost_perf_autotest, but the frontend (vhu_front.c) runs on its own
 * lcore on the other CPU and behaves like a guest driver with an application
 * on top: it writes the descriptors and avail entries, reads every byte of
 * each received packet (RX) and writes every byte of each packet it sends
 * (TX) before posting it. So the lines the datapath reads and writes were
 * last touched on the guest's core, as with a real guest, instead of being
 * hot in the datapath's own cache.
 *
 * Lcores: 0 = datapath (timed, CPU 0); 1 = dma_swdma's engine (service
 * lcore, idle_us so it sleeps when it has nothing to do); 2 = the guest.
 * Run with --lcores '0@0,1@1,2@1': the guest and the engine share CPU 1, the
 * guest yields while it waits. TSC cycles per packet on lcore 0: the burst
 * call plus the later calls that published something (calls that found
 * nothing landed are the engine's latency: a real datapath serves other
 * queues then). Median over the bursts. A perf test: prints, asserts nothing
 * about speed.
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/virtio_net.h>

#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_pause.h>

#include <vmp_vnet.h>

#include "vhu_front.h"
#include "vnet_test_util.h"
#include "vmp_test.h"

#define B 32
#define ROUNDS 5
#define ITERS 1000
#define HDR 12
#define SLOT(r, k) (VHU_GPA_BASE + 0x10000 + ((uint64_t)(r)*64 + (k)) * 0x800)

static struct vhu_front fr;
static struct vmp_vnet_port *port;
static struct rte_mempool *mp;

/* main -> guest: go (sequence), size, direction; guest -> main: posted,
 * consumed (sequence). Each store-release pairs with the other side's
 * load-acquire of the same word. */
static struct {
	uint32_t go, posted, done, consumed;
	uint32_t size;
	bool enq, quit;
} sh;
static volatile uint64_t sink;

static void
wait_eq(const uint32_t *w, uint32_t v, bool yield)
{
	while (__atomic_load_n(w, __ATOMIC_ACQUIRE) != v) {
		if (yield)
			sched_yield();
		else
			rte_pause();
	}
}

/* The guest: one burst per go. */
static int
guest(void *arg)
{
	uint32_t seq = 0;

	RTE_SET_USED(arg);
	for (;;) {
		unsigned int k, r;
		uint32_t size;
		struct vring_used_elem e;

		while (__atomic_load_n(&sh.go, __ATOMIC_ACQUIRE) == seq) {
			if (__atomic_load_n(&sh.quit, __ATOMIC_RELAXED))
				return 0;
			sched_yield();
		}
		seq++;
		size = sh.size;
		r = sh.enq ? 0 : 1;
		for (k = 0; k < B; k++) {
			uint16_t d =
				(uint16_t)(fr.ring[r].avail_idx % VHU_QSIZE);
			uint8_t *buf = vhu_gpa(&fr, SLOT(r, d));

			if (sh.enq) {
				fr.ring[r].desc[d] = (struct vring_desc){
					SLOT(r, d), 2048, VRING_DESC_F_WRITE,
					0};
			} else {
				/* the application writes its packet */
				memset(buf, 0, HDR);
				memset(buf + HDR, (int)(seq + k), size);
				fr.ring[r].desc[d] = (struct vring_desc){
					SLOT(r, d), size + HDR, 0, 0};
			}
			vhu_front_post(&fr, r, d);
		}
		__atomic_store_n(&sh.posted, seq, __ATOMIC_RELEASE);
		wait_eq(&sh.done, seq, true);
		while (vhu_front_used(&fr, r, &e) == 0) {
			if (sh.enq) {
				/* the application reads what it received */
				const uint64_t *p = vhu_gpa(&fr, SLOT(r, e.id));
				uint64_t sum = 0;
				unsigned int i;

				for (i = 0; i < (e.len + 7) / 8; i++)
					sum += p[i];
				sink += sum;
			}
		}
		__atomic_store_n(&sh.consumed, seq, __ATOMIC_RELEASE);
	}
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double samples[ROUNDS * ITERS];

static double
measure(bool enq, uint32_t size)
{
	unsigned int i, ns = 0;

	sh.enq = enq;
	sh.size = size;
	for (i = 0; i < ROUNDS * ITERS; i++) {
		struct rte_mbuf *m[B];
		uint64_t cyc = 0, t;
		unsigned int got = 0;

		__atomic_store_n(&sh.go, sh.go + 1, __ATOMIC_RELEASE);
		wait_eq(&sh.posted, sh.go, false);
		if (enq) {
			uint16_t n;

			if (vnet_test_mbufs(mp, m, B, (uint16_t)size) < 0)
				return -1;
			t = rte_rdtsc();
			n = vmp_vnet_enqueue_burst(port, 0, m, B);
			cyc = rte_rdtsc() - t;
			if (n != B)
				return -1;
			while (fr.ring[0].used->idx != fr.ring[0].avail_idx) {
				uint16_t u = fr.ring[0].used->idx;

				t = rte_rdtsc();
				vmp_vnet_enqueue_burst(port, 0, NULL, 0);
				t = rte_rdtsc() - t;
				if (fr.ring[0].used->idx != u)
					cyc += t;
			}
		} else {
			bool first = true;

			while (got < B) {
				uint16_t a = fr.ring[1].used->idx, n;

				t = rte_rdtsc();
				n = vmp_vnet_dequeue_burst(port, 0, m + got,
							   B - got);
				t = rte_rdtsc() - t;
				/* the call that took the burst, and the ones
				 * that published something */
				if (first || n || fr.ring[1].used->idx != a)
					cyc += t;
				first = false;
				got += n;
			}
			rte_pktmbuf_free_bulk(m, B);
		}
		__atomic_store_n(&sh.done, sh.go, __ATOMIC_RELEASE);
		wait_eq(&sh.consumed, sh.go, false);
		samples[ns++] = (double)cyc / B;
	}
	qsort(samples, ns, sizeof(samples[0]), cmp_d);
	return samples[ns / 2];
}

static int
test_vnet_cost_guest(void)
{
	static const unsigned int sizes[] = {64, 1518};
	double res[2][2][2]; /* [enq/deq][size][sync, async swdma] */
	unsigned int glc, elc, s, d;
	struct vmp_vnet_dma *dma;
	int id;

	elc = rte_get_next_lcore(-1, 1, 0);
	glc = rte_get_next_lcore(elc, 1, 0);
	if (rte_lcore_count() < 3 || glc >= RTE_MAX_LCORE) {
		printf("needs 3 lcores: --lcores '0@0,1@1,2@1'\n");
		return TEST_SKIPPED;
	}
	TEST_ASSERT_SUCCESS(vnet_test_port_open("vnet_costg", &fr, &port, &mp),
			    "port and frontend");
	memset(&sh, 0, sizeof(sh));
	rte_eal_remote_launch(guest, NULL, glc);
	for (d = 0; d < 2; d++)
		for (s = 0; s < 2; s++)
			res[d][s][0] = measure(d == 0, sizes[s]);
	id = test_dma_open("dma_swdma_costg", "idle_us=20", elc);
	if (id >= 0) {
		dma = vmp_vnet_dma_create((int16_t)id, 0, 256, 0);
		TEST_ASSERT_NOT_NULL(dma, "vnet dma (--iova-mode=va)");
		vmp_vnet_port_set_dma(port, 0, dma);
		for (d = 0; d < 2; d++)
			for (s = 0; s < 2; s++)
				res[d][s][1] = measure(d == 0, sizes[s]);
		vmp_vnet_port_set_dma(port, 0, NULL);
		vmp_vnet_dma_free(dma);
		test_dma_close(id, "dma_swdma_costg");
	} else {
		printf("dma_swdma: not available\n");
		for (d = 0; d < 2; d++)
			for (s = 0; s < 2; s++)
				res[d][s][1] = -1;
	}
	__atomic_store_n(&sh.quit, true, __ATOMIC_RELEASE);
	rte_eal_wait_lcore(glc);
	printf("\nlib/vnet datapath TSC cycles/packet with a guest lcore on "
	       "the "
	       "other CPU touching its buffers; bursts of %d, median of %d "
	       "bursts; async = dma_swdma, threshold 256 B\n",
	       B, ROUNDS * ITERS);
	printf("%-8s %6s %10s %12s %9s\n", "path", "size", "sync",
	       "async swdma", "sync/async");
	for (d = 0; d < 2; d++)
		for (s = 0; s < 2; s++)
			printf("%-8s %6u %10.1f %12.1f %8.2fx\n",
			       d ? "dequeue" : "enqueue", sizes[s],
			       res[d][s][0], res[d][s][1],
			       res[d][s][0] / res[d][s][1]);
	vnet_test_port_close("vnet_costg", &fr, port, mp);
	return TEST_SUCCESS;
}

REGISTER_TEST_COMMAND(vnet_cost_guest_perf_autotest, test_vnet_cost_guest);
