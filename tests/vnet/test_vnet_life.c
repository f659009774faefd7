/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/vnet teardown against a DMA engine that never completes (dma_swdma
 * with its engine stalled: rte_pmd_swdma_stall_set()). With copies in
 * flight, in both directions:
 *  - vmp_vnet_port_destroy() refuses (-EBUSY) within its time bound, with
 *    nobody polling and with a datapath that keeps polling; once the
 *    engine is released and the datapath drained, a retry completes;
 *  - a frontend that disconnects (rte_vhost then unmaps its view of guest
 *    memory) leaves the vring stopped as broken, and the late DMA write
 *    lands in guest memory the port still maps (seen through the
 *    frontend's own mapping of the same memfd), not in a freed mapping.
 * Nothing is published to the guest for records whose drain timed out;
 * every mbuf comes back to the mempool.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/virtio_net.h>

#include <rte_cycles.h>
#include <rte_dmadev.h>
#include <rte_mbuf.h>

#include <vmp_config.h>
#include <vmp_vnet.h>
#if VMP_HAS_DMA_DRIVER
#include <rte_pmd_swdma.h>
#endif

#include "vhu_front.h"
#include "vnet_test_util.h"
#include "vmp_test.h"

#if VMP_HAS_DMA_DRIVER

#define RXQ 0
#define TXQ 1
#define HDR 12
#define LEN 1000
#define BUF(k) (VHU_GPA_BASE + 0x10000 + (uint64_t)(k)*0x1000)
/* destroy_device's drain bound (VNET_DRAIN_MS) plus slack for a loaded
 * machine: what "refused within the time bound" is checked against */
#define REFUSE_MS 3000

struct life {
	char tag[32];
	char dma_name[32];
	struct vhu_front fr;
	struct vhu_front fr2; /* a second connection after a disconnect */
	struct vmp_vnet_port *port;
	struct rte_mempool *mp;
	struct vmp_vnet_dma *dma;
	int dma_id;
	unsigned int mbufs; /* available in mp at the start */
};

static struct life L;
static unsigned int seq;

static uint64_t
ms_since(uint64_t t0)
{
	return (rte_get_timer_cycles() - t0) * 1000 / rte_get_timer_hz();
}

static struct vmp_vnet_vq_stats
stats(uint16_t vring)
{
	struct vmp_vnet_vq_stats st = {0};

	vmp_vnet_vq_stats_get(L.port, vring, &st);
	return st;
}

/* Port + crafted frontend + dma_swdma channel (engine on lcore 1). */
static int
life_setup(void)
{
	memset(&L, 0, sizeof(L));
	L.dma_id = -1;
	L.fr2.sock = L.fr2.memfd = L.fr2.logfd = -1;
	snprintf(L.tag, sizeof(L.tag), "life%u", seq);
	snprintf(L.dma_name, sizeof(L.dma_name), "dma_swdma_life%u", seq++);
	TEST_ASSERT_SUCCESS(vnet_test_port_open(L.tag, &L.fr, &L.port, &L.mp),
			    "port");
	L.mbufs = rte_mempool_avail_count(L.mp);
	L.dma_id = test_dma_open(L.dma_name, NULL, 1);
	TEST_ASSERT(L.dma_id >= 0, "dma_swdma on lcore 1");
	L.dma = vmp_vnet_dma_create((int16_t)L.dma_id, 0, 256, 0);
	TEST_ASSERT_NOT_NULL(L.dma, "vnet dma (needs --iova-mode=va)");
	TEST_ASSERT_SUCCESS(vmp_vnet_port_set_dma(L.port, 0, L.dma), "set dma");
	return TEST_SUCCESS;
}

static void
life_teardown(void)
{
	if (L.dma_id >= 0)
		rte_pmd_swdma_stall_set((int16_t)L.dma_id, 0);
	vhu_front_close(&L.fr2);
	if (L.port != NULL) {
		vmp_vnet_port_set_dma(L.port, 0, NULL);
		vhu_front_close(&L.fr);
		vmp_vnet_port_destroy(L.port);
	} else {
		vhu_front_close(&L.fr);
	}
	if (L.dma != NULL)
		vmp_vnet_dma_free(L.dma);
	if (L.dma_id >= 0)
		test_dma_close(L.dma_id, L.dma_name);
	rte_mempool_free(L.mp);
}

static void
desc(unsigned int r, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags)
{
	struct vring_desc *d = &L.fr.ring[r].desc[i];

	d->addr = addr;
	d->len = len;
	d->flags = flags;
	d->next = 0;
}

/* One RX copy (host -> guest buffer BUF(0)) and one TX copy (guest buffer
 * BUF(1) -> mbuf) held by the stalled engine. */
static int
copies_in_flight(void)
{
	struct rte_mbuf *m, *out[4];
	uint8_t *tx = vhu_gpa(&L.fr, BUF(1));

	TEST_ASSERT_SUCCESS(rte_pmd_swdma_stall_set((int16_t)L.dma_id, 1),
			    "stall the engine");
	memset(vhu_gpa(&L.fr, BUF(0)), 0xee, HDR + LEN);
	desc(RXQ, 0, BUF(0), 2048, VRING_DESC_F_WRITE);
	vhu_front_post(&L.fr, RXQ, 0);
	m = rte_pktmbuf_alloc(L.mp);
	TEST_ASSERT_NOT_NULL(m, "mbuf");
	memset(rte_pktmbuf_append(m, LEN), 0x3c, LEN);
	TEST_ASSERT_EQUAL(vmp_vnet_enqueue_burst(L.port, 0, &m, 1), 1,
			  "RX packet taken");
	memset(tx, 0, HDR);
	memset(tx + HDR, 0x7e, LEN);
	desc(TXQ, 0, BUF(1), HDR + LEN, 0);
	vhu_front_post(&L.fr, TXQ, 0);
	TEST_ASSERT_EQUAL(vmp_vnet_dequeue_burst(L.port, 0, out, 4), 0,
			  "TX packet waits for its copy");
	TEST_ASSERT(stats(RXQ).inflight == 1 && stats(TXQ).inflight == 1,
		    "one copy in flight per vring (%" PRIu64 ", %" PRIu64 ")",
		    stats(RXQ).inflight, stats(TXQ).inflight);
	return TEST_SUCCESS;
}

/* One datapath pass over both vrings of queue pair 0. */
static void
poll_once(void)
{
	struct rte_mbuf *out[4];
	uint16_t n;

	vmp_vnet_enqueue_burst(L.port, 0, NULL, 0);
	n = vmp_vnet_dequeue_burst(L.port, 0, out, 4);
	rte_pktmbuf_free_bulk(out, n);
}

/* The RX payload of copies_in_flight() is in guest memory. */
static bool
rx_landed(void)
{
	const uint8_t *b = vhu_gpa(&L.fr, BUF(0));

	return b[HDR] == 0x3c && b[HDR + LEN - 1] == 0x3c;
}

/* Release the engine; poll as the datapath and retry destroy until it
 * completes (bounded); then check the late write and the mbufs. */
static int
release_and_destroy(void)
{
	uint64_t t0;
	int rc = -EBUSY;

	TEST_ASSERT_SUCCESS(rte_pmd_swdma_stall_set((int16_t)L.dma_id, 0),
			    "release the engine");
	for (t0 = rte_get_timer_cycles(); ms_since(t0) < 5000;) {
		poll_once();
		rc = vmp_vnet_port_destroy(L.port);
		if (rc != -EBUSY)
			break;
		usleep(1000);
	}
	printf("  destroy completed %" PRIu64 " ms after the release\n",
	       ms_since(t0));
	TEST_ASSERT_SUCCESS(rc, "destroy completes once the copies landed");
	L.port = NULL;
	TEST_ASSERT(rx_landed(), "the late DMA write landed in guest memory");
	TEST_ASSERT_SUCCESS(vmp_vnet_dma_free(L.dma), "channel free");
	L.dma = NULL;
	TEST_ASSERT_EQUAL(rte_mempool_avail_count(L.mp), L.mbufs,
			  "every mbuf back in the mempool");
	return TEST_SUCCESS;
}

/* Nobody polls: destroy waits its bound, refuses, keeps everything. */
static int
test_destroy_refused_engine_hung(void)
{
	struct vring_used_elem e;
	uint64_t t0, ms;
	int rc;

	TEST_ASSERT_SUCCESS(copies_in_flight(), "setup");
	t0 = rte_get_timer_cycles();
	rc = vmp_vnet_port_destroy(L.port);
	ms = ms_since(t0);
	printf("  destroy with copies in flight: %d after %" PRIu64 " ms\n", rc,
	       ms);
	if (rc == 0)
		L.port = NULL; /* freed: the teardown must not touch it */
	TEST_ASSERT_EQUAL(rc, -EBUSY,
			  "destroy with copies in flight returned %d after "
			  "%" PRIu64 " ms",
			  rc, ms);
	TEST_ASSERT(ms < REFUSE_MS, "refused after %" PRIu64 " ms", ms);
	TEST_ASSERT(!rx_landed(), "the engine still holds the RX copy");
	TEST_ASSERT_SUCCESS(release_and_destroy(), "retry");
	TEST_ASSERT(vhu_front_used(&L.fr, RXQ, &e) < 0 &&
			    vhu_front_used(&L.fr, TXQ, &e) < 0,
		    "nothing published after the drain was given up");
	return TEST_SUCCESS;
}

struct destroyer {
	int rc;
	uint64_t ms;
	volatile bool done;
};

static void *
destroy_thread(void *arg)
{
	struct destroyer *d = arg;
	uint64_t t0 = rte_get_timer_cycles();

	d->rc = vmp_vnet_port_destroy(L.port);
	d->ms = ms_since(t0);
	__atomic_store_n(&d->done, true, __ATOMIC_RELEASE);
	return NULL;
}

/* The datapath keeps polling (each entry drains): the wait is still bound
 * by time, not reset by the datapath's passes. */
static int
test_destroy_refused_while_polled(void)
{
	struct destroyer d = {.rc = 0};
	pthread_t th;
	uint64_t t0;

	TEST_ASSERT_SUCCESS(copies_in_flight(), "setup");
	TEST_ASSERT_SUCCESS(pthread_create(&th, NULL, destroy_thread, &d),
			    "thread");
	for (t0 = rte_get_timer_cycles();
	     !__atomic_load_n(&d.done, __ATOMIC_ACQUIRE) &&
	     ms_since(t0) < 10000;)
		poll_once();
	if (!__atomic_load_n(&d.done, __ATOMIC_ACQUIRE)) {
		/* stop polling: the destroyer may free the port now */
		pthread_join(th, NULL);
		if (d.rc == 0)
			L.port = NULL;
		TEST_ASSERT(false,
			    "destroy did not return within 10 s while the "
			    "datapath polled (it returned %d after %" PRIu64
			    " ms once polling stopped)",
			    d.rc, d.ms);
	}
	pthread_join(th, NULL);
	printf("  destroy while polled: %d after %" PRIu64 " ms\n", d.rc, d.ms);
	TEST_ASSERT_EQUAL(d.rc, -EBUSY, "destroy while polled returned %d",
			  d.rc);
	TEST_ASSERT(d.ms < REFUSE_MS, "refused after %" PRIu64 " ms", d.ms);
	return release_and_destroy();
}

/* Wait up to 5 s until the running-vring mask of the port is @want. */
static uint32_t
wait_running(uint32_t want)
{
	struct vmp_vnet_port_info in = {0};
	uint64_t t0;

	for (t0 = rte_get_timer_cycles(); ms_since(t0) < 5000;) {
		vmp_vnet_port_info_get(L.port, &in);
		if ((in.running & 3) == want)
			break;
		usleep(1000);
	}
	return in.running & 3;
}

/*
 * The frontend goes away with a copy in flight: rte_vhost unmaps its view
 * of guest memory; the vrings are stopped as broken, and the engine's late
 * write lands in memory the port still maps. A frontend that connects
 * meanwhile gets no running device until the stopped vrings drained (their
 * ring fields are still the datapath's); then it runs.
 */
static int
test_disconnect_engine_hung(void)
{
	struct vmp_vnet_port_info in = {0};
	char path[64];
	uint64_t t0;

	TEST_ASSERT_SUCCESS(copies_in_flight(), "setup");
	/* close the socket only: the test keeps its own view of the memfd */
	close(L.fr.sock);
	L.fr.sock = -1;
	for (t0 = rte_get_timer_cycles(); ms_since(t0) < 10000;) {
		vmp_vnet_port_info_get(L.port, &in);
		if (!in.connected)
			break;
		usleep(1000);
	}
	printf("  device stopped after %" PRIu64 " ms\n", ms_since(t0));
	TEST_ASSERT(!in.connected, "device stopped");
	TEST_ASSERT((in.broken & 3) == 3 && (in.running & 3) == 0,
		    "both vrings given up as broken (broken %#x running %#x)",
		    in.broken, in.running);
	TEST_ASSERT(!rx_landed(), "the engine still holds the RX copy");

	snprintf(path, sizeof(path), "/tmp/vmpt-%s-%d.sock", L.tag, getpid());
	TEST_ASSERT_SUCCESS(
		vhu_front_open(&L.fr2, path,
			       (1ULL << VIRTIO_F_VERSION_1) |
				       (1ULL << VIRTIO_NET_F_MRG_RXBUF) |
				       (1ULL << 30)),
		"a new frontend connects");
	usleep(200 * 1000);
	vmp_vnet_port_info_get(L.port, &in);
	TEST_ASSERT((in.running & 3) == 0,
		    "no vring of the new device starts while the old ones "
		    "still have copies in flight (running %#x)",
		    in.running);

	TEST_ASSERT_SUCCESS(rte_pmd_swdma_stall_set((int16_t)L.dma_id, 0),
			    "release the engine");
	for (t0 = rte_get_timer_cycles();
	     ms_since(t0) < 5000 &&
	     (stats(RXQ).inflight != 0 || stats(TXQ).inflight != 0);)
		poll_once();
	TEST_ASSERT(stats(RXQ).inflight == 0 && stats(TXQ).inflight == 0,
		    "drained once the engine completed");
	TEST_ASSERT(rx_landed(), "the late DMA write landed in guest memory");
	/* any message: rte_vhost asks for the device again */
	TEST_ASSERT_SUCCESS(vhu_front_set_mem_table(&L.fr2), "SET_MEM_TABLE");
	TEST_ASSERT_EQUAL(wait_running(3), 3, "the new device runs");
	return release_and_destroy();
}

/* Mappings of the test frontends' guest memory in this process (the
 * frontend's own, rte_vhost's and the port's: all named after the memfd). */
static unsigned int
guest_mappings(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	unsigned int n = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, "vhu_guest") != NULL)
			n++;
	fclose(f);
	return n;
}

#define RECONNECTS 20

/* The port's own mappings of guest memory go with the device: after many
 * reconnects, one per live table (frontend + rte_vhost + port = 3). */
static int
test_mappings_released(void)
{
	char path[64];
	unsigned int k, n0 = guest_mappings();

	snprintf(path, sizeof(path), "/tmp/vmpt-%s-%d.sock", L.tag, getpid());
	TEST_ASSERT_EQUAL(n0, 3,
			  "frontend, rte_vhost and port map guest memory");
	for (k = 0; k < RECONNECTS; k++) {
		vhu_front_close(&L.fr);
		TEST_ASSERT_EQUAL(wait_running(0), 0, "device %u stopped", k);
		TEST_ASSERT_SUCCESS(
			vhu_front_open(
				&L.fr, path,
				(1ULL << VIRTIO_F_VERSION_1) |
					(1ULL << VIRTIO_NET_F_MRG_RXBUF) |
					(1ULL << 30)),
			"reconnect %u", k);
		TEST_ASSERT_EQUAL(wait_running(3), 3, "device %u runs", k);
	}
	TEST_ASSERT_EQUAL(guest_mappings(), n0,
			  "no guest memory mapping left behind by %u devices",
			  RECONNECTS);
	return TEST_SUCCESS;
}

static struct vmp_test_suite life_suite = {
	.name = "vnet: teardown with a hung DMA engine",
	.cases =
		{
			TEST_CASE_ST(life_setup, life_teardown,
				     test_destroy_refused_engine_hung),
			TEST_CASE_ST(life_setup, life_teardown,
				     test_destroy_refused_while_polled),
			TEST_CASE_ST(life_setup, life_teardown,
				     test_disconnect_engine_hung),
			TEST_CASE_ST(life_setup, life_teardown,
				     test_mappings_released),
			TEST_CASES_END(),
		},
};

static int
test_vnet_life(void)
{
	if (rte_lcore_count() < 2 || rte_eal_iova_mode() != RTE_IOVA_VA) {
		printf("needs -l 0-1 (engine on lcore 1) and IOVA as VA\n");
		return TEST_SKIPPED;
	}
	return vmp_test_suite_run(&life_suite);
}

#else /* !VMP_HAS_DMA_DRIVER */

static int
test_vnet_life(void)
{
	printf("dma_swdma not built: no engine to stall\n");
	return TEST_SKIPPED;
}

#endif

REGISTER_TEST_COMMAND(vnet_life_autotest, test_vnet_life);
