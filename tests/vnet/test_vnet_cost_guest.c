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
 * guest yields while it waits. TSC cycles per packet on lcore 0, mean of the
 * middle 80 % of the bursts, two ways:
 *
 * - serialized: the guest posts a burst only after the previous one came
 *   back. Cost of a burst = the call that took it plus the later calls that
 *   published something (calls that found nothing landed are the engine's
 *   latency: a real datapath serves other queues then). An async burst pays
 *   a call's fixed costs twice: once to submit, once to publish.
 * - pipelined: the steady state of a forwarding lcore. The guest posts a
 *   burst per go without waiting; each call takes burst i and publishes what
 *   landed before (burst i-1 if the engine keeps up). Cost of a burst = that
 *   call, plus any call needed to publish the oldest burst before the guest
 *   reuses its slots (counted as extra polls; none while the engine keeps
 *   up, as the ring holds VHU_QSIZE / B bursts).
 *
 * Sync and async of a row alternate in blocks of BLOCK bursts (the queue
 * empty between blocks), so that both see the same mix of the VM's vCPU
 * placements, which change within seconds and move both costs by up to 3x.
 *
 * A perf test: prints, asserts nothing about speed.
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
#define MAX_ROUNDS 50
#define ITERS 1000
#define HDR 12
#define SLOT(r, k)                                                             \
	(VHU_GPA_BASE + 0x10000 + ((uint64_t)(r)*VHU_QSIZE + (k)) * 0x800)

static struct vhu_front fr;
static struct vmp_vnet_port *port;
static struct rte_mempool *mp;

/* main -> guest: go (sequence), size, direction; guest -> main: posted,
 * consumed (sequence). Each store-release pairs with the other side's
 * load-acquire of the same word. */
static struct {
	uint32_t go, posted, done, consumed;
	uint32_t size;
	bool enq, pipe, quit;
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

/* The application reads what it received (RX) or returns the buffer. */
static void
guest_reclaim(unsigned int r)
{
	struct vring_used_elem e;

	while (vhu_front_used(&fr, r, &e) == 0) {
		if (r == 0) {
			const uint64_t *p = vhu_gpa(&fr, SLOT(r, e.id));
			uint64_t sum = 0;
			unsigned int i;

			for (i = 0; i < (e.len + 7) / 8; i++)
				sum += p[i];
			sink += sum;
		}
	}
}

/* Post one burst: RX buffers, or TX packets the application wrote. */
static void
guest_post(unsigned int r, uint32_t size, uint32_t seq)
{
	unsigned int k;

	for (k = 0; k < B; k++) {
		uint16_t d = (uint16_t)(fr.ring[r].avail_idx % VHU_QSIZE);
		uint8_t *buf = vhu_gpa(&fr, SLOT(r, d));

		if (r == 0) {
			fr.ring[r].desc[d] = (struct vring_desc){
				SLOT(r, d), 2048, VRING_DESC_F_WRITE, 0};
		} else {
			memset(buf, 0, HDR);
			memset(buf + HDR, (int)(seq + k), size);
			fr.ring[r].desc[d] = (struct vring_desc){
				SLOT(r, d), size + HDR, 0, 0};
		}
		vhu_front_post(&fr, r, d);
	}
}

/* The guest: one burst per go. Serialized: post, wait until the datapath
 * is done, reclaim. Pipelined: reclaim what came back, post (the main
 * lcore keeps at most VHU_QSIZE slots in the ring). */
static int
guest(void *arg)
{
	uint32_t seq = 0;

	RTE_SET_USED(arg);
	for (;;) {
		unsigned int r;

		while (__atomic_load_n(&sh.go, __ATOMIC_ACQUIRE) == seq) {
			if (__atomic_load_n(&sh.quit, __ATOMIC_RELAXED))
				return 0;
			sched_yield();
		}
		seq++;
		r = sh.enq ? 0 : 1;
		if (sh.pipe) {
			guest_reclaim(r);
			guest_post(r, sh.size, seq);
			__atomic_store_n(&sh.posted, seq, __ATOMIC_RELEASE);
			continue;
		}
		guest_post(r, sh.size, seq);
		__atomic_store_n(&sh.posted, seq, __ATOMIC_RELEASE);
		wait_eq(&sh.done, seq, true);
		guest_reclaim(r);
		__atomic_store_n(&sh.consumed, seq, __ATOMIC_RELEASE);
	}
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* VNET_COSTG_ROUNDS (1..50, default 5): rounds of ITERS bursts per cell,
 * e.g. longer runs to profile one cell. */
static unsigned int rounds = 5;
/* Cycles/packet of each burst: [serialized/pipelined][sync/async] */
static double samples[2][2][MAX_ROUNDS * ITERS];

/* Sync and async alternate in blocks of this many bursts, so that both see
 * the same mix of the VM's placements (its vCPUs move within seconds). */
#define BLOCK 250

/* Mean of the middle 80 % of the bursts: drops the ones the kernel
 * preempted, keeps a mix (e.g. every other burst also publishing). */
static double
trimmed_mean(double *v, unsigned int ns)
{
	unsigned int i, lo = ns / 10, hi = ns - ns / 10;
	double sum = 0;

	qsort(v, ns, sizeof(v[0]), cmp_d);
	for (i = lo; i < hi; i++)
		sum += v[i];
	return sum / (hi - lo);
}

/* Steady state: burst i taken and burst i-1 published by (mostly) one call.
 * Every burst's cost includes the polls that finished its predecessor. */
static int
measure_pipe(bool enq, uint32_t size, double *out, unsigned int nb,
	     unsigned int *polls)
{
	/* packets taken, mod 2^16 */
	uint16_t taken = fr.ring[enq ? 0 : 1].used->idx;
	uint32_t i, ns = 0;

	sh.enq = enq;
	sh.size = size;
	sh.pipe = true;
	for (i = 0; i < nb + 2; i++) {
		struct rte_mbuf *m[B];
		unsigned int np;
		uint64_t cyc;
		uint16_t took;
		bool did;

		__atomic_store_n(&sh.go, sh.go + 1, __ATOMIC_RELEASE);
		wait_eq(&sh.posted, sh.go, false);
		if (enq && vnet_test_mbufs(mp, m, B, (uint16_t)size) < 0)
			return -1;
		/* the call that takes the burst counts, whatever it returns */
		cyc = vnet_test_call(port, &fr, enq, m, B, &took, &did);
		if (enq && took != B)
			return -1;
		/* posted by the guest: taken by this call or the polls below */
		taken = (uint16_t)(taken + B);
		/* the oldest burst back before the guest reuses its slots; a
		 * poll counts when it published something */
		cyc += vnet_test_publish_until(
			port, &fr, enq, (uint16_t)(taken - (VHU_QSIZE - B)),
			&np);
		if (i >= 2) { /* from the first burst that had a predecessor */
			out[ns++] = (double)cyc / B;
			*polls += np;
		}
	}
	/* everything back: the queue is empty for the next block */
	vnet_test_publish_until(port, &fr, enq, taken, NULL);
	sh.pipe = false;
	return 0;
}

static int
measure(bool enq, uint32_t size, double *out, unsigned int nb)
{
	unsigned int i, ns = 0;

	sh.enq = enq;
	sh.size = size;
	for (i = 0; i < nb; i++) {
		struct rte_mbuf *m[B];
		uint64_t cyc = 0, t;
		unsigned int got = 0;

		__atomic_store_n(&sh.go, sh.go + 1, __ATOMIC_RELEASE);
		wait_eq(&sh.posted, sh.go, false);
		if (enq) {
			uint16_t n;
			bool did;

			if (vnet_test_mbufs(mp, m, B, (uint16_t)size) < 0)
				return -1;
			cyc = vnet_test_call(port, &fr, true, m, B, &n, &did);
			if (n != B)
				return -1;
			cyc += vnet_test_publish_until(
				port, &fr, true, fr.ring[0].avail_idx, NULL);
		} else {
			bool first = true;

			while (got < B) {
				uint16_t n;
				bool did;

				t = vnet_test_call(port, &fr, false, NULL, 0,
						   &n, &did);
				/* the call that took the burst, and the ones
				 * that published something */
				if (first || did)
					cyc += t;
				first = false;
				got += n;
			}
		}
		__atomic_store_n(&sh.done, sh.go, __ATOMIC_RELEASE);
		wait_eq(&sh.consumed, sh.go, false);
		out[ns++] = (double)cyc / B;
	}
	return 0;
}

/* Sync and async (if @dma), both methods, alternating in blocks of BLOCK
 * bursts: r[method][sync, async] (mean of the middle 80 % of all their
 * bursts), x = extra publishing polls per pipelined async burst. */
static int
cell(bool enq, uint32_t size, struct vmp_vnet_dma *dma, double r[2][2],
     double *x)
{
	unsigned int n = rounds * ITERS, b, a, polls[2] = {0, 0};
	int rc = 0;

	for (b = 0; b < n / BLOCK && rc == 0; b++)
		for (a = 0; a < (dma != NULL ? 2u : 1u) && rc == 0; a++) {
			/* the queue is empty between blocks: no copy in
			 * flight when the channel changes */
			if (vmp_vnet_port_set_dma(port, 0, a ? dma : NULL) < 0)
				return -1;
			rc = measure(enq, size, samples[0][a] + b * BLOCK,
				     BLOCK);
			if (rc == 0)
				rc = measure_pipe(enq, size,
						  samples[1][a] + b * BLOCK,
						  BLOCK, &polls[a]);
		}
	vmp_vnet_port_set_dma(port, 0, NULL);
	if (rc != 0)
		return -1;
	for (a = 0; a < 2; a++) {
		r[0][a] = dma != NULL || a == 0 ? trimmed_mean(samples[0][a], n)
						: -1;
		r[1][a] = dma != NULL || a == 0 ? trimmed_mean(samples[1][a], n)
						: -1;
	}
	*x = dma != NULL ? (double)polls[1] / n : -1;
	return 0;
}

/* VNET_COSTG_PATH (enqueue or dequeue) and VNET_COSTG_SIZE (64 or 1518)
 * restrict the table to the rows they name, e.g. to profile one of them. */
static bool
row_wanted(bool enq, unsigned int size)
{
	const char *p = getenv("VNET_COSTG_PATH");
	const char *z = getenv("VNET_COSTG_SIZE");

	if (p != NULL && strcmp(p, enq ? "enqueue" : "dequeue") != 0)
		return false;
	return z == NULL || (unsigned int)atoi(z) == size;
}

static int
test_vnet_cost_guest(void)
{
	static const unsigned int sizes[] = {64, 1518};
	double res[2][2][2][2]; /* [enq/deq][size][serialized/pipelined]
				   [sync/async swdma] */
	double extra[2][2];
	struct vmp_vnet_dma *dma = NULL;
	unsigned int glc, elc, s, d;
	int id, rc = 0;

	if (getenv("VNET_COSTG_ROUNDS") != NULL) {
		rounds = (unsigned int)atoi(getenv("VNET_COSTG_ROUNDS"));
		if (rounds < 1 || rounds > MAX_ROUNDS) {
			printf("VNET_COSTG_ROUNDS: 1 to %d\n", MAX_ROUNDS);
			return TEST_FAILED;
		}
	}
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
	id = test_dma_open("dma_swdma_costg", "idle_us=20", elc);
	if (id >= 0) {
		dma = vmp_vnet_dma_create((int16_t)id, 0, 256, 0);
		TEST_ASSERT_NOT_NULL(dma, "vnet dma (--iova-mode=va)");
	} else {
		printf("dma_swdma: not available\n");
	}
	for (d = 0; d < 2 && rc == 0; d++)
		for (s = 0; s < 2 && rc == 0; s++) {
			res[d][s][0][0] = -1;
			if (!row_wanted(d == 0, sizes[s]))
				continue;
			rc = cell(d == 0, sizes[s], dma, res[d][s],
				  &extra[d][s]);
		}
	if (dma != NULL) {
		vmp_vnet_dma_free(dma);
		test_dma_close(id, "dma_swdma_costg");
	}
	__atomic_store_n(&sh.quit, true, __ATOMIC_RELEASE);
	rte_eal_wait_lcore(glc);
	vnet_test_port_close("vnet_costg", &fr, port, mp);
	TEST_ASSERT_SUCCESS(rc, "a datapath call did not take its burst");
	printf("\nlib/vnet datapath TSC cycles/packet with a guest lcore on "
	       "the other CPU touching its buffers; bursts of %d, mean of the "
	       "middle 80%% of %d bursts; async = dma_swdma, threshold 256 B; "
	       "sync and async of a row alternate in blocks of %d bursts\n",
	       B, rounds * ITERS, BLOCK);
	printf("%-8s %5s | %-27s | %-27s | %s\n", "", "", "serialized",
	       "pipelined (steady state)", "extra polls");
	printf("%-8s %5s | %7s %7s %11s | %7s %7s %11s | %s\n", "path", "size",
	       "sync", "async", "sync/async", "sync", "async", "sync/async",
	       "per burst");
	for (d = 0; d < 2; d++)
		for (s = 0; s < 2; s++) {
			double(*r)[2] = res[d][s];

			if (r[0][0] < 0)
				continue;

			printf("%-8s %5u | %7.1f %7.1f %10.2fx | %7.1f %7.1f "
			       "%10.2fx | %.2f\n",
			       d ? "dequeue" : "enqueue", sizes[s], r[0][0],
			       r[0][1], r[0][0] / r[0][1], r[1][0], r[1][1],
			       r[1][0] / r[1][1], extra[d][s]);
		}
	return TEST_SUCCESS;
}

REGISTER_TEST_COMMAND(vnet_cost_guest_perf_autotest, test_vnet_cost_guest);
