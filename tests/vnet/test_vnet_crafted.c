/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/vnet against crafted rings: a hand-driven vhost-user frontend
 * (vhu_front.c) writes descriptor chains no driver would, and the test, as
 * the datapath lcore, checks that each bad chain is dropped, counted and
 * returned to the guest, that a queue whose ring is inconsistent is stopped
 * and reported while the other vring keeps working, and that the dirty log
 * covers payload pages and the used ring, including a copy submitted to a
 * DMA engine before logging was switched on.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/virtio_net.h>
#include <linux/vhost.h>

#include <rte_bus_vdev.h>
#include <rte_dmadev.h>
#include <rte_mbuf.h>

#include <vmp_dirtylog.h>
#include <vmp_vnet.h>

#include "vhu_front.h"
#include "vnet_test_util.h"
#include "vmp_test.h"
#include "vmp_test_wait.h"

#define RXQ 0
#define TXQ 1
#define HDR 12
#define BUF(k) (VHU_GPA_BASE + 0x10000 + (uint64_t)(k)*0x1000)

static struct rte_mempool *mp;
static struct vmp_vnet_port *port;
static struct vhu_front fr;
static char path[64];

static void
desc(unsigned int r, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
     uint16_t next)
{
	struct vring_desc *d = &fr.ring[r].desc[i];

	d->addr = addr;
	d->len = len;
	d->flags = flags;
	d->next = next;
}

static struct vmp_vnet_vq_stats
stats(uint16_t vring)
{
	struct vmp_vnet_vq_stats st;

	vmp_vnet_vq_stats_get(port, vring, &st);
	return st;
}

static int
setup(void)
{
	struct vmp_vnet_port_conf pc = {.nb_qp = 1, .socket_id = 0};
	struct vmp_vnet_port_info in;
	struct vmp_test_wait w;
	uint64_t f = (1ULL << VIRTIO_F_VERSION_1) |
		     (1ULL << VIRTIO_NET_F_MRG_RXBUF) |
		     (1ULL << VIRTIO_RING_F_INDIRECT_DESC) | (1ULL << 30);

	snprintf(path, sizeof(path), "/tmp/vmpt-crafted-%d.sock", getpid());
	unlink(path);
	mp = rte_pktmbuf_pool_create("vnet_crafted", 1023, 0, 0,
				     RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	TEST_ASSERT_NOT_NULL(mp, "mempool");
	pc.path = path;
	pc.mp = mp;
	port = vmp_vnet_port_create(&pc);
	TEST_ASSERT_NOT_NULL(port, "port create");
	TEST_ASSERT_SUCCESS(vhu_front_open(&fr, path, f), "frontend");
	for (vnet_test_wait_init(&w, "port state");
	     vmp_test_wait_check(&w, 0) == 0;) {
		vmp_vnet_port_info_get(port, &in);
		if (in.connected && in.running == 3)
			break;
		usleep(10000);
	}
	TEST_ASSERT_EQUAL(in.running, 3, "both vrings run");
	return TEST_SUCCESS;
}

static void
teardown(void)
{
	vhu_front_close(&fr);
	vmp_vnet_port_destroy(port);
	rte_mempool_free(mp);
	unlink(path);
}

/* Detach, free and close a test DMA channel on dma_skeleton vdev @name. */
static int
dma_release(struct vmp_vnet_dma *dma, int id, const char *name)
{
	TEST_ASSERT_SUCCESS(vmp_vnet_port_set_dma(port, 0, NULL), "unset");
	TEST_ASSERT_SUCCESS(vmp_vnet_dma_free(dma), "dma free");
	rte_dma_stop(id);
	rte_dma_close(id);
	rte_vdev_uninit(name);
	return TEST_SUCCESS;
}

/* Post TX chain @head; dequeue; expect @pkts packets and @bad new drops. */
static int
tx_expect(uint16_t head, unsigned int pkts, uint64_t bad, const char *what)
{
	uint64_t bad0 = stats(TXQ).bad_chain + stats(TXQ).too_long;
	struct rte_mbuf *m[4];
	struct vring_used_elem e;
	uint16_t n;

	vhu_front_post(&fr, TXQ, head);
	n = vmp_vnet_dequeue_burst(port, 0, m, 4);
	rte_pktmbuf_free_bulk(m, n);
	TEST_ASSERT_EQUAL(n, pkts, "%s: packets", what);
	TEST_ASSERT_EQUAL_U64(stats(TXQ).bad_chain + stats(TXQ).too_long - bad0,
			      bad, "%s: drops counted", what);
	TEST_ASSERT_SUCCESS(vhu_front_used(&fr, TXQ, &e),
			    "%s: chain returned to the guest", what);
	TEST_ASSERT_EQUAL(e.id, head, "%s: used id", what);
	TEST_ASSERT_EQUAL(e.len, 0, "%s: used len", what);
	return TEST_SUCCESS;
}

static int
test_tx_good_direct_and_indirect(void)
{
	struct vring_desc *ind = vhu_gpa(&fr, BUF(40));
	struct rte_mbuf *m[4];
	uint8_t *p = vhu_gpa(&fr, BUF(0));
	uint16_t n;
	int i;

	for (i = 0; i < HDR + 100; i++)
		p[i] = (uint8_t)i;
	desc(TXQ, 0, BUF(0), HDR + 40, VRING_DESC_F_NEXT, 1);
	desc(TXQ, 1, BUF(0) + HDR + 40, 60, 0, 0);
	vhu_front_post(&fr, TXQ, 0);
	n = vmp_vnet_dequeue_burst(port, 0, m, 4);
	TEST_ASSERT_EQUAL(n, 1, "direct chain delivered");
	TEST_ASSERT_EQUAL(m[0]->pkt_len, 100, "length without header");
	TEST_ASSERT(memcmp(rte_pktmbuf_mtod(m[0], uint8_t *), p + HDR, 100) ==
			    0,
		    "payload");
	rte_pktmbuf_free(m[0]);
	/* an indirect table of two descriptors */
	ind[0] = (struct vring_desc){BUF(0), HDR, VRING_DESC_F_NEXT, 1};
	ind[1] = (struct vring_desc){BUF(0) + HDR, 100, 0, 0};
	desc(TXQ, 2, BUF(40), 2 * sizeof(*ind), VRING_DESC_F_INDIRECT, 0);
	vhu_front_post(&fr, TXQ, 2);
	n = vmp_vnet_dequeue_burst(port, 0, m, 4);
	TEST_ASSERT_EQUAL(n, 1, "indirect chain delivered");
	TEST_ASSERT(memcmp(rte_pktmbuf_mtod(m[0], uint8_t *), p + HDR, 100) ==
			    0,
		    "indirect payload");
	rte_pktmbuf_free(m[0]);
	return TEST_SUCCESS;
}

static int
test_tx_bad_chains(void)
{
	struct vring_desc *ind = vhu_gpa(&fr, BUF(41));
	struct vring_used_elem e;

	while (vhu_front_used(&fr, TXQ, &e) == 0)
		;
	desc(TXQ, 3, 0x1000, 100, 0, 0); /* below guest memory */
	TEST_ASSERT_SUCCESS(tx_expect(3, 0, 1, "address outside"), "");
	desc(TXQ, 4, VHU_GPA_BASE + VHU_MEM_SIZE - 50, 100, 0, 0);
	TEST_ASSERT_SUCCESS(tx_expect(4, 0, 1, "length past region"), "");
	desc(TXQ, 5, BUF(1), 100, VRING_DESC_F_NEXT, 6);
	desc(TXQ, 6, BUF(2), 100, VRING_DESC_F_NEXT, 5);
	TEST_ASSERT_SUCCESS(tx_expect(5, 0, 1, "chain loop"), "");
	desc(TXQ, 7, BUF(1), 100, VRING_DESC_F_NEXT, VHU_QSIZE + 8);
	TEST_ASSERT_SUCCESS(tx_expect(7, 0, 1, "next index past table"), "");
	desc(TXQ, 8, BUF(1), 100, VRING_DESC_F_WRITE, 0);
	TEST_ASSERT_SUCCESS(tx_expect(8, 0, 1, "writable in TX"), "");
	desc(TXQ, 9, BUF(1), 4, 0, 0);
	TEST_ASSERT_SUCCESS(tx_expect(9, 0, 1, "shorter than header"), "");
	desc(TXQ, 10, BUF(41), 32, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT,
	     11);
	TEST_ASSERT_SUCCESS(tx_expect(10, 0, 1, "indirect with next"), "");
	desc(TXQ, 12, BUF(41), 15, VRING_DESC_F_INDIRECT, 0);
	TEST_ASSERT_SUCCESS(tx_expect(12, 0, 1, "indirect len % 16"), "");
	ind[0] = (struct vring_desc){BUF(41), 16, VRING_DESC_F_INDIRECT, 0};
	desc(TXQ, 13, BUF(41), 16, VRING_DESC_F_INDIRECT, 0);
	TEST_ASSERT_SUCCESS(tx_expect(13, 0, 1, "nested indirect"), "");
	ind[0] = (struct vring_desc){BUF(1), 100, VRING_DESC_F_NEXT, 0};
	desc(TXQ, 14, BUF(41), 16, VRING_DESC_F_INDIRECT, 0);
	TEST_ASSERT_SUCCESS(tx_expect(14, 0, 1, "loop inside indirect"), "");
	desc(TXQ, 15, VHU_GPA_BASE + VHU_MEM_SIZE - 8, 16,
	     VRING_DESC_F_INDIRECT, 0);
	TEST_ASSERT_SUCCESS(tx_expect(15, 0, 1, "indirect table past end"), "");
	/* and a good chain right after: the queue still serves */
	desc(TXQ, 16, BUF(1), HDR + 60, 0, 0);
	TEST_ASSERT_SUCCESS(tx_expect(16, 1, 0, "good after bad"), "");
	return TEST_SUCCESS;
}

static int
test_rx_mergeable(void)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	struct virtio_net_hdr_mrg_rxbuf *h = vhu_gpa(&fr, BUF(10));
	struct vring_used_elem e;
	uint8_t *d;
	int i;

	TEST_ASSERT_NOT_NULL(m, "mbuf");
	d = (uint8_t *)rte_pktmbuf_append(m, 150);
	for (i = 0; i < 150; i++)
		d[i] = (uint8_t)(0xa0 + i);
	for (i = 0; i < 3; i++) {
		desc(RXQ, (uint16_t)i, BUF(10 + i), 64, VRING_DESC_F_WRITE, 0);
		vhu_front_post(&fr, RXQ, (uint16_t)i);
	}
	TEST_ASSERT_EQUAL(vmp_vnet_enqueue_burst(port, 0, &m, 1), 1,
			  "accepted");
	TEST_ASSERT_EQUAL(h->num_buffers, 3, "num_buffers");
	TEST_ASSERT_SUCCESS(vhu_front_used(&fr, RXQ, &e), "used 1");
	TEST_ASSERT(e.id == 0 && e.len == 64, "used 1: %u/%u", e.id, e.len);
	TEST_ASSERT_SUCCESS(vhu_front_used(&fr, RXQ, &e), "used 2");
	TEST_ASSERT(e.id == 1 && e.len == 64, "used 2: %u/%u", e.id, e.len);
	TEST_ASSERT_SUCCESS(vhu_front_used(&fr, RXQ, &e), "used 3");
	TEST_ASSERT(e.id == 2 && e.len == HDR + 150 - 128, "used 3: %u/%u",
		    e.id, e.len);
	d = vhu_gpa(&fr, BUF(10));
	TEST_ASSERT(d[HDR] == 0xa0 && ((uint8_t *)vhu_gpa(&fr, BUF(11)))[0] ==
					      (uint8_t)(0xa0 + 64 - HDR),
		    "payload spans buffers");
	return TEST_SUCCESS;
}

static int
test_rx_bad_chain_then_good(void)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	struct vring_used_elem e;
	uint64_t bad0 = stats(RXQ).bad_chain;

	rte_pktmbuf_append(m, 100);
	desc(RXQ, 3, BUF(12), 2048, 0, 0); /* read-only in RX */
	vhu_front_post(&fr, RXQ, 3);
	desc(RXQ, 4, BUF(12), 2048, VRING_DESC_F_WRITE, 0);
	vhu_front_post(&fr, RXQ, 4);
	TEST_ASSERT_EQUAL(vmp_vnet_enqueue_burst(port, 0, &m, 1), 1,
			  "accepted into the good buffer");
	TEST_ASSERT_EQUAL_U64(stats(RXQ).bad_chain - bad0, 1, "counted");
	TEST_ASSERT_SUCCESS(vhu_front_used(&fr, RXQ, &e), "bad returned");
	TEST_ASSERT(e.id == 3 && e.len == 0, "bad: %u/%u", e.id, e.len);
	TEST_ASSERT_SUCCESS(vhu_front_used(&fr, RXQ, &e), "good used");
	TEST_ASSERT(e.id == 4 && e.len == HDR + 100, "good: %u/%u", e.id,
		    e.len);
	return TEST_SUCCESS;
}

/* Dirty log: payload pages and the used ring; a DMA copy submitted before
 * LOG_ALL and published after is logged at publication. */
static int
test_dirty_log(void)
{
	struct rte_dma_vchan_conf vc = {.direction = RTE_DMA_DIR_MEM_TO_MEM,
					.nb_desc = 128};
	struct rte_dma_conf dc = {.nb_vchans = 1};
	struct vmp_vnet_dma *dma = NULL;
	struct vmp_vnet_port_info in;
	struct vmp_test_wait w;
	struct rte_mbuf *m;
	struct vring_used_elem e;
	int id, i;

	TEST_ASSERT_SUCCESS(vhu_front_log_base(&fr), "SET_LOG_BASE");
	TEST_ASSERT_SUCCESS(
		vhu_front_set_features(&fr,
				       fr.features | (1ULL << VHOST_F_LOG_ALL)),
		"LOG_ALL on");
	for (vnet_test_wait_init(&w, "port state");
	     vmp_test_wait_check(&w, 0) == 0;) {
		vmp_vnet_port_info_get(port, &in);
		if (in.log_on && in.running == 3)
			break;
		usleep(10000);
	}
	TEST_ASSERT(in.log_on, "logging seen on");
	m = rte_pktmbuf_alloc(mp);
	rte_pktmbuf_append(m, 100);
	desc(RXQ, 5, BUF(20), 2048, VRING_DESC_F_WRITE, 0);
	vhu_front_post(&fr, RXQ, 5);
	TEST_ASSERT_EQUAL(vmp_vnet_enqueue_burst(port, 0, &m, 1), 1, "sync");
	TEST_ASSERT(vhu_front_logged(&fr, BUF(20)), "payload page logged");
	TEST_ASSERT(vhu_front_logged(&fr, fr.ring[RXQ].used_gpa),
		    "used ring logged");
	TEST_ASSERT(!vhu_front_logged(&fr, BUF(21)), "only what was written");
	TEST_ASSERT_SUCCESS(vhu_front_used(&fr, RXQ, &e), "used");

	/* async: logging off, copy submitted, logging on, then published */
	TEST_ASSERT_SUCCESS(
		vhu_front_set_features(&fr, fr.features &
						    ~(1ULL << VHOST_F_LOG_ALL)),
		"LOG_ALL off");
	for (vnet_test_wait_init(&w, "port state");
	     vmp_test_wait_check(&w, 0) == 0;) {
		vmp_vnet_port_info_get(port, &in);
		if (!in.log_on && in.running == 3)
			break;
		usleep(10000);
	}
	TEST_ASSERT(!in.log_on, "logging seen off");
	vhu_front_log_clear(&fr);
	if (rte_vdev_init("dma_skeleton_crafted", NULL) < 0)
		return TEST_SKIPPED;
	id = rte_dma_get_dev_id_by_name("dma_skeleton_crafted");
	TEST_ASSERT(id >= 0, "skeleton id");
	TEST_ASSERT_SUCCESS(rte_dma_configure(id, &dc), "dma configure");
	TEST_ASSERT_SUCCESS(rte_dma_vchan_setup(id, 0, &vc), "vchan");
	TEST_ASSERT_SUCCESS(rte_dma_start(id), "dma start");
	dma = vmp_vnet_dma_create((int16_t)id, 0, 256, 0);
	TEST_ASSERT_NOT_NULL(dma, "vnet dma (needs --iova-mode=va)");
	TEST_ASSERT_SUCCESS(vmp_vnet_port_set_dma(port, 0, dma), "set dma");
	/* The engine may land the copy before our next poll; retry until
	 * one is still in flight when logging goes on. */
	for (i = 0; i < 50; i++) {
		m = rte_pktmbuf_alloc(mp);
		memset(rte_pktmbuf_append(m, 1000), 0x5a, 1000);
		desc(RXQ, 6, BUF(30), 2048, VRING_DESC_F_WRITE, 0);
		vhu_front_post(&fr, RXQ, 6);
		TEST_ASSERT_EQUAL(vmp_vnet_enqueue_burst(port, 0, &m, 1), 1,
				  "async");
		if (stats(RXQ).inflight == 1)
			break;
		TEST_ASSERT_SUCCESS(vhu_front_used(&fr, RXQ, &e), "landed");
		TEST_ASSERT(!vhu_front_logged(&fr, BUF(30)),
			    "published with logging off: not logged");
	}
	if (i == 50) {
		printf("copies always landed at once: case not reached\n");
		return TEST_SKIPPED;
	}
	TEST_ASSERT(stats(RXQ).dma_copies >= 1, "copy on the engine");
	TEST_ASSERT(vhu_front_used(&fr, RXQ, &e) < 0,
		    "not published before its copy landed");
	TEST_ASSERT_SUCCESS(
		vhu_front_set_features(&fr,
				       fr.features | (1ULL << VHOST_F_LOG_ALL)),
		"LOG_ALL on again");
	for (vnet_test_wait_init(&w, "port state");
	     vmp_test_wait_check(&w, 0) == 0;) {
		vmp_vnet_port_info_get(port, &in);
		if (in.log_on && in.running == 3)
			break;
		usleep(10000);
	}
	for (i = 0; i < 1000 && vhu_front_used(&fr, RXQ, &e) < 0; i++) {
		vmp_vnet_enqueue_burst(port, 0, NULL, 0);
		usleep(1000);
	}
	TEST_ASSERT(e.id == 6 && e.len == HDR + 1000, "published %u/%u", e.id,
		    e.len);
	TEST_ASSERT(((uint8_t *)vhu_gpa(&fr, BUF(30)))[HDR + 999] == 0x5a,
		    "data landed");
	TEST_ASSERT(vhu_front_logged(&fr, BUF(30)),
		    "copy submitted before LOG_ALL, landed after: logged");
	TEST_ASSERT(vhu_front_logged(&fr, fr.ring[RXQ].used_gpa),
		    "used ring logged");
	return dma_release(dma, id, "dma_skeleton_crafted");
}

/* Leave one async copy in flight on the RX vring; @return 1 if reached. */
static int
copy_in_flight(uint16_t head)
{
	struct vring_used_elem e;
	struct rte_mbuf *m;
	int i;

	for (i = 0; i < 50; i++) {
		m = rte_pktmbuf_alloc(mp);
		if (m == NULL)
			return 0;
		memset(rte_pktmbuf_append(m, 1000), 0x3c, 1000);
		desc(RXQ, head, BUF(32), 2048, VRING_DESC_F_WRITE, 0);
		vhu_front_post(&fr, RXQ, head);
		if (vmp_vnet_enqueue_burst(port, 0, &m, 1) != 1)
			return 0;
		if (stats(RXQ).inflight == 1)
			return 1;
		if (vhu_front_used(&fr, RXQ, &e) < 0)
			return 0;
	}
	return 0;
}

static int
wait_running(void)
{
	struct vmp_vnet_port_info in;
	struct vmp_test_wait w;

	for (vnet_test_wait_init(&w, "port state");
	     vmp_test_wait_check(&w, 0) == 0;) {
		vmp_vnet_port_info_get(port, &in);
		if (in.running == 3)
			return 1;
		usleep(10000);
	}
	return 0;
}

/* A memory-table change waits for copies in flight, drained by the polling
 * lcore (with nobody polling, or an engine that hangs, the wait is bounded
 * and the vring given up: vnet_life_autotest). */
static int
test_memtable_waits_for_copies(void)
{
	struct vring_used_elem e;
	struct vmp_vnet_dma *dma;
	int id, i;

	id = test_dma_open("dma_skeleton_mt", NULL, 0);
	if (id < 0)
		return TEST_SKIPPED;
	dma = vmp_vnet_dma_create((int16_t)id, 0, 256, 0);
	TEST_ASSERT_NOT_NULL(dma, "vnet dma");
	TEST_ASSERT_SUCCESS(vmp_vnet_port_set_dma(port, 0, dma), "set dma");

	/* the datapath keeps polling: it drains */
	if (!copy_in_flight(8))
		return TEST_SKIPPED;
	TEST_ASSERT_SUCCESS(vhu_front_set_mem_table(&fr), "SET_MEM_TABLE");
	for (i = 0; i < 2000 && vhu_front_used(&fr, RXQ, &e) < 0; i++) {
		vmp_vnet_enqueue_burst(port, 0, NULL, 0);
		usleep(500);
	}
	TEST_ASSERT(i < 2000 && e.id == 8 && e.len == HDR + 1000,
		    "published by the polling lcore before the change");
	TEST_ASSERT(wait_running(), "vrings restarted after the change");
	TEST_ASSERT_EQUAL_U64(stats(RXQ).inflight, 0, "nothing in flight");
	return dma_release(dma, id, "dma_skeleton_mt");
}

#define ERR_PKTS 6
#define ERR_LEN 1000
#define ERR_GEN 3 /* general-path packets */

static uint8_t
err_byte(unsigned int k, unsigned int j)
{
	return (uint8_t)(k * 13 + j * 7 + 1);
}

/* Wait until @n used elements came back on vring @r (polling the
 * datapath); 0 if they did. */
static int
err_wait_used(unsigned int r, unsigned int n)
{
	struct vring_used_elem e;
	struct rte_mbuf *m[ERR_PKTS];
	unsigned int got = 0, i;
	uint16_t k;

	for (i = 0; i < 2000 && got < n; i++) {
		if (r == RXQ) {
			vmp_vnet_enqueue_burst(port, 0, NULL, 0);
		} else {
			k = vmp_vnet_dequeue_burst(port, 0, m, ERR_PKTS);
			rte_pktmbuf_free_bulk(m, k);
		}
		while (got < n && vhu_front_used(&fr, r, &e) == 0)
			got++;
		if (got < n)
			usleep(500);
	}
	return got == n ? 0 : -1;
}

/* Dequeue @n packets into @m, polling up to ~1 s; returns how many came. */
static unsigned int
err_dequeue(struct rte_mbuf **m, unsigned int n)
{
	unsigned int got = 0, i;

	for (i = 0; i < 2000 && got < n; i++) {
		got += vmp_vnet_dequeue_burst(port, 0, m + got,
					      (uint16_t)(n - got));
		if (got < n)
			usleep(500);
	}
	return got;
}

/*
 * The engine fails every 3rd copy (dma_swdma devarg fail_every=3) and
 * writes nothing for it: the datapath redoes it on the CPU before the
 * packet is published, so every byte arrives, in both directions, and the
 * failures are counted.
 */
static int
test_dma_errors_redone(void)
{
	struct vmp_vnet_vq_stats t0 = stats(TXQ), r0 = stats(RXQ);
	struct rte_mbuf *m[ERR_PKTS];
	struct vmp_vnet_dma *dma;
	unsigned int k, j;
	int id;

	id = test_dma_open("dma_swdma_err", "fail_every=3", 1);
	if (id < 0)
		return TEST_SKIPPED; /* not built */
	dma = vmp_vnet_dma_create((int16_t)id, 0, 256, 0);
	TEST_ASSERT_NOT_NULL(dma, "vnet dma");
	TEST_ASSERT_SUCCESS(vmp_vnet_port_set_dma(port, 0, dma), "set dma");

	/* guest TX: 6 packets into mbufs */
	for (k = 0; k < ERR_PKTS; k++) {
		uint8_t *b = vhu_gpa(&fr, BUF(40 + k));

		memset(b, 0, HDR);
		for (j = 0; j < ERR_LEN; j++)
			b[HDR + j] = err_byte(k, j);
		desc(TXQ, (uint16_t)(20 + k), BUF(40 + k), HDR + ERR_LEN, 0, 0);
		vhu_front_post(&fr, TXQ, (uint16_t)(20 + k));
	}
	TEST_ASSERT_EQUAL(err_dequeue(m, ERR_PKTS), ERR_PKTS,
			  "TX packets returned");
	for (k = 0; k < ERR_PKTS; k++) {
		const uint8_t *d = rte_pktmbuf_mtod(m[k], const uint8_t *);

		TEST_ASSERT_EQUAL(m[k]->pkt_len, ERR_LEN, "TX %u length", k);
		for (j = 0; j < ERR_LEN; j++)
			TEST_ASSERT_EQUAL(d[j], err_byte(k, j),
					  "TX packet %u byte %u", k, j);
	}
	rte_pktmbuf_free_bulk(m, ERR_PKTS);
	TEST_ASSERT_SUCCESS(err_wait_used(TXQ, ERR_PKTS), "TX used");
	TEST_ASSERT_EQUAL_U64(stats(TXQ).dma_copies - t0.dma_copies, ERR_PKTS,
			      "TX copies on the engine");
	TEST_ASSERT_EQUAL_U64(stats(TXQ).dma_errors - t0.dma_errors, 2,
			      "TX copies the engine failed");

	/* guest RX: 6 mbufs into guest buffers (copies 7..12: 9, 12 fail) */
	for (k = 0; k < ERR_PKTS; k++) {
		uint8_t *b = vhu_gpa(&fr, BUF(50 + k));

		memset(b, 0xee, HDR + ERR_LEN);
		desc(RXQ, (uint16_t)(30 + k), BUF(50 + k), 2048,
		     VRING_DESC_F_WRITE, 0);
		vhu_front_post(&fr, RXQ, (uint16_t)(30 + k));
		m[k] = rte_pktmbuf_alloc(mp);
		TEST_ASSERT_NOT_NULL(m[k], "mbuf");
		b = (uint8_t *)rte_pktmbuf_append(m[k], ERR_LEN);
		for (j = 0; j < ERR_LEN; j++)
			b[j] = err_byte(k + 100, j);
	}
	TEST_ASSERT_EQUAL(vmp_vnet_enqueue_burst(port, 0, m, ERR_PKTS),
			  ERR_PKTS, "RX packets taken");
	TEST_ASSERT_SUCCESS(err_wait_used(RXQ, ERR_PKTS), "RX used");
	for (k = 0; k < ERR_PKTS; k++) {
		const uint8_t *b = vhu_gpa(&fr, BUF(50 + k));

		for (j = 0; j < ERR_LEN; j++)
			TEST_ASSERT_EQUAL(b[HDR + j], err_byte(k + 100, j),
					  "RX packet %u byte %u", k, j);
	}
	TEST_ASSERT_EQUAL_U64(stats(RXQ).dma_copies - r0.dma_copies, ERR_PKTS,
			      "RX copies on the engine");
	TEST_ASSERT_EQUAL_U64(stats(RXQ).dma_errors - r0.dma_errors, 2,
			      "RX copies the engine failed");

	/* guest TX through the general path (tagged copies): 3 packets of
	 * two descriptors, HDR + 400 B and 600 B, two copies each (13..18:
	 * 15 and 18 fail, the first copy of packet 1 and the last of 2) */
	t0 = stats(TXQ);
	for (k = 0; k < ERR_GEN; k++) {
		uint8_t *a = vhu_gpa(&fr, BUF(60 + k));
		uint8_t *b = vhu_gpa(&fr, BUF(70 + k));
		uint16_t i0 = (uint16_t)(40 + 2 * k);

		memset(a, 0, HDR);
		for (j = 0; j < ERR_LEN; j++)
			(j < 400 ? a + HDR : b - 400)[j] = err_byte(k + 200, j);
		desc(TXQ, i0, BUF(60 + k), HDR + 400, VRING_DESC_F_NEXT,
		     (uint16_t)(i0 + 1));
		desc(TXQ, (uint16_t)(i0 + 1), BUF(70 + k), 600, 0, 0);
		vhu_front_post(&fr, TXQ, i0);
	}
	TEST_ASSERT_EQUAL(err_dequeue(m, ERR_GEN), ERR_GEN,
			  "TX chained packets returned");
	for (k = 0; k < ERR_GEN; k++) {
		TEST_ASSERT_EQUAL(m[k]->pkt_len, ERR_LEN, "TX chained %u len",
				  k);
		for (j = 0; j < ERR_LEN; j++)
			TEST_ASSERT_EQUAL(
				*rte_pktmbuf_mtod_offset(m[k], uint8_t *, j),
				err_byte(k + 200, j),
				"TX chained packet %u byte %u", k, j);
	}
	rte_pktmbuf_free_bulk(m, ERR_GEN);
	TEST_ASSERT_SUCCESS(err_wait_used(TXQ, ERR_GEN), "TX chained used");
	TEST_ASSERT_EQUAL_U64(stats(TXQ).dma_copies - t0.dma_copies,
			      2 * ERR_GEN, "TX chained copies on the engine");
	TEST_ASSERT_EQUAL_U64(stats(TXQ).dma_errors - t0.dma_errors, 2,
			      "TX chained copies the engine failed");
	TEST_ASSERT_SUCCESS(vmp_vnet_port_set_dma(port, 0, NULL), "unset");
	TEST_ASSERT_SUCCESS(vmp_vnet_dma_free(dma), "dma free");
	test_dma_close(id, "dma_swdma_err");
	return TEST_SUCCESS;
}

/* Rings that lie: the vring stops and is reported, the other one serves. */
/* Pages of one page at @gpa the tracker reports now (read-and-clear). */
static int64_t
tracked(struct vmp_dirty_tracker *t, uint64_t gpa)
{
	uint64_t bm[1];

	return vmp_dirty_bitmap_get(t, gpa, 4096, 4096, bm, sizeof(bm), 0);
}

/* lib/dirtylog sees a DMA destination pinned while its copy is in flight
 * and dirty once more after it landed, then clean. */
static int
test_dirty_tracker_pins(void)
{
	struct vmp_dirty_region reg = {
		.iova = VHU_GPA_BASE, .host = fr.mem, .len = VHU_MEM_SIZE};
	struct vmp_dirty_params dp = {.name = "vnet_pins",
				      .regions = &reg,
				      .nb_regions = 1,
				      .mode = VMP_DIRTY_MODE_SOFT,
				      .socket_id = SOCKET_ID_ANY};
	struct vmp_dirty_tracker *t;
	struct vring_used_elem e;
	struct vmp_vnet_dma *dma;
	int id, i, rc;

	t = vmp_dirty_tracker_create(&dp);
	TEST_ASSERT_NOT_NULL(t, "tracker");
	TEST_ASSERT_SUCCESS(vmp_dirty_start(t), "start");
	TEST_ASSERT_EQUAL(tracked(t, BUF(32)), 0, "clean at start");
	id = test_dma_open("dma_skeleton_pin", NULL, 0);
	if (id < 0)
		return TEST_SKIPPED;
	dma = vmp_vnet_dma_create((int16_t)id, 0, 256, 0);
	TEST_ASSERT_NOT_NULL(dma, "vnet dma");
	TEST_ASSERT_SUCCESS(vmp_vnet_port_set_dirty_tracker(port, t),
			    "set tracker");
	TEST_ASSERT_SUCCESS(vmp_vnet_port_set_dma(port, 0, dma), "set dma");
	if (!copy_in_flight(10)) {
		rc = TEST_SKIPPED;
		goto out;
	}
	TEST_ASSERT_EQUAL(tracked(t, BUF(32)), 1, "pinned while in flight");
	TEST_ASSERT_EQUAL(tracked(t, BUF(32)), 1, "still pinned");
	TEST_ASSERT_EQUAL(tracked(t, BUF(40)), 0, "only the destination");
	for (i = 0; i < 1000 && vhu_front_used(&fr, RXQ, &e) < 0; i++) {
		vmp_vnet_enqueue_burst(port, 0, NULL, 0);
		usleep(1000);
	}
	TEST_ASSERT(i < 1000 && e.id == 10, "published");
	TEST_ASSERT_EQUAL(tracked(t, BUF(32)), 1, "dirty once after landing");
	TEST_ASSERT_EQUAL(tracked(t, BUF(32)), 0, "then clean: unpinned");
	rc = TEST_SUCCESS;
out:
	vmp_vnet_port_set_dma(port, 0, NULL);
	vmp_vnet_port_set_dirty_tracker(port, NULL);
	vmp_dirty_tracker_free(t);
	if (dma_release(dma, id, "dma_skeleton_pin") != TEST_SUCCESS)
		return TEST_FAILED;
	return rc;
}

static int
test_broken_queue(void)
{
	struct vmp_vnet_port_info in;
	struct rte_mbuf *m[2];
	struct vring_used_elem e;

	vhu_front_post(&fr, TXQ, VHU_QSIZE + 3); /* head past the table */
	TEST_ASSERT_EQUAL(vmp_vnet_dequeue_burst(port, 0, m, 2), 0, "none");
	vmp_vnet_port_info_get(port, &in);
	TEST_ASSERT(in.broken & (1u << TXQ), "TX vring reported broken");
	TEST_ASSERT(!(in.running & (1u << TXQ)), "TX vring stopped");
	TEST_ASSERT_EQUAL_U64(stats(TXQ).broken, 1, "counted");
	/* RX still works */
	m[0] = rte_pktmbuf_alloc(mp);
	rte_pktmbuf_append(m[0], 60);
	desc(RXQ, 7, BUF(31), 2048, VRING_DESC_F_WRITE, 0);
	vhu_front_post(&fr, RXQ, 7);
	TEST_ASSERT_EQUAL(vmp_vnet_enqueue_burst(port, 0, m, 1), 1,
			  "RX vring still serves");
	TEST_ASSERT_SUCCESS(vhu_front_used(&fr, RXQ, &e), "RX used");
	/* RX avail index jumping by more than the ring size */
	vhu_front_set_avail_idx(&fr, RXQ,
				(uint16_t)(fr.ring[RXQ].avail_idx + 1000));
	m[0] = rte_pktmbuf_alloc(mp);
	rte_pktmbuf_append(m[0], 60);
	TEST_ASSERT_EQUAL(vmp_vnet_enqueue_burst(port, 0, m, 1), 0, "refused");
	rte_pktmbuf_free(m[0]);
	vmp_vnet_port_info_get(port, &in);
	TEST_ASSERT(in.broken & (1u << RXQ), "RX vring reported broken");
	return TEST_SUCCESS;
}

static struct vmp_test_suite crafted_suite = {
	.name = "vnet: crafted rings",
	.setup = setup,
	.teardown = teardown,
	.cases =
		{
			TEST_CASE(test_tx_good_direct_and_indirect),
			TEST_CASE(test_tx_bad_chains),
			TEST_CASE(test_rx_mergeable),
			TEST_CASE(test_rx_bad_chain_then_good),
			TEST_CASE(test_dirty_log),
			TEST_CASE(test_memtable_waits_for_copies),
			TEST_CASE(test_dirty_tracker_pins),
			TEST_CASE(test_dma_errors_redone),
			TEST_CASE(test_broken_queue),
			TEST_CASES_END(),
		},
};

static int
test_vnet_crafted(void)
{
	return vmp_test_suite_run(&crafted_suite);
}

REGISTER_TEST_COMMAND(vnet_crafted_autotest, test_vnet_crafted);
