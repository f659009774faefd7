/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vnetbench: lib/vnet's datapath alone on one lcore, against a real
 * virtio-user frontend in another process (dpdk-testpmd), for Mpps and
 * cycles per packet.
 *
 *   vnetbench [EAL] -- --vhost PATH --mode enq|deq [--size B] [--seconds S]
 *                     [--dma none|skeleton] [--threshold B]
 *
 * enq: the worker lcore builds packets like testpmd's txonly (mbuf alloc,
 *      header template) and enqueues them to the guest (testpmd rxonly).
 * deq: it dequeues what the guest sends (testpmd txonly) and frees it.
 * Printed: Mpps moved by the worker, and TSC cycles per packet spent by the
 * worker in iterations that moved packets (busy) and overall.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_bus_vdev.h>
#include <rte_cycles.h>
#include <rte_dmadev.h>
#include <rte_eal.h>
#include <rte_ether.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <vmp_vnet.h>

#define BURST 32

static struct {
	const char *path;
	bool enq;
	unsigned int size, seconds, threshold;
	bool dma;
} o = {.enq = true, .size = 64, .seconds = 5, .threshold = 256};

static struct vmp_vnet_port *port;
static struct vmp_vnet_dma *dma;
static int dma_id = -1;
static struct rte_mempool *mp;
static volatile bool stop, done;
static uint64_t pkts, busy_cyc, all_cyc, start_tsc, moves;

/* Cycles/packet of every full burst (32 moved): their median drops the
 * iterations the kernel preempted, which on a shared machine dominate the
 * busy average. */
#define NB_SAMPLES (1u << 20)
static uint32_t samples[NB_SAMPLES];
static uint32_t nb_samples;

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int
worker(void *arg)
{
	struct rte_mbuf *m[BURST];
	uint8_t tmpl[64];
	uint64_t t0 = rte_rdtsc(), t, end;
	unsigned int i;
	bool warm = false;

	RTE_SET_USED(arg);
	memset(tmpl, 0, sizeof(tmpl));
	memset(tmpl, 0xff, 6); /* broadcast dst, like nothing in particular */
	tmpl[12] = 0x08;
	end = t0 + (uint64_t)(o.seconds + 1) * rte_get_tsc_hz();
	while (!stop) {
		uint16_t n, k;

		t = rte_rdtsc();
		if (!warm && t - t0 > rte_get_tsc_hz()) {
			/* one second of warm-up, then count */
			warm = true;
			pkts = busy_cyc = moves = 0;
			nb_samples = 0;
			start_tsc = t;
		}
		if (t >= end)
			break;
		if (o.enq) {
			if (rte_pktmbuf_alloc_bulk(mp, m, BURST) < 0) {
				n = 0;
				vmp_vnet_enqueue_burst(port, 0, NULL, 0);
			} else {
				for (i = 0; i < BURST; i++) {
					rte_memcpy(
						rte_pktmbuf_mtod(m[i], void *),
						tmpl, sizeof(tmpl));
					m[i]->data_len = (uint16_t)o.size;
					m[i]->pkt_len = o.size;
				}
				n = vmp_vnet_enqueue_burst(port, 0, m, BURST);
				if (n < BURST)
					rte_pktmbuf_free_bulk(m + n, BURST - n);
			}
		} else {
			n = vmp_vnet_dequeue_burst(port, 0, m, BURST);
			for (k = 0; k < n; k++)
				rte_pktmbuf_free(m[k]);
		}
		if (n) {
			uint64_t c = rte_rdtsc() - t;

			pkts += n;
			moves++;
			busy_cyc += c;
			if (n == BURST && nb_samples < NB_SAMPLES)
				samples[nb_samples++] = (uint32_t)RTE_MIN(
					c / BURST, (uint64_t)UINT32_MAX);
		}
	}
	all_cyc = rte_rdtsc() - start_tsc;
	done = true;
	return 0;
}

static struct vmp_vnet_dma *
make_dma(void)
{
	struct rte_dma_vchan_conf vc = {.direction = RTE_DMA_DIR_MEM_TO_MEM,
					.nb_desc = 1024};
	struct rte_dma_conf dc = {.nb_vchans = 1};
	int id;

	if (rte_vdev_init("dma_skeleton_bench", NULL) < 0)
		return NULL;
	id = rte_dma_get_dev_id_by_name("dma_skeleton_bench");
	dma_id = id;
	if (id < 0 || rte_dma_configure(id, &dc) < 0 ||
	    rte_dma_vchan_setup(id, 0, &vc) < 0 || rte_dma_start(id) < 0)
		return NULL;
	return vmp_vnet_dma_create((int16_t)id, 0, o.threshold, 0);
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"vhost", 1, NULL, 'v'},       {"mode", 1, NULL, 'm'},
		{"size", 1, NULL, 's'},	       {"seconds", 1, NULL, 't'},
		{"dma", 1, NULL, 'd'},	       {"threshold", 1, NULL, 'T'},
		{"no-in-order", 0, NULL, 'N'}, {NULL, 0, NULL, 0},
	};
	struct vmp_vnet_port_conf pc = {.nb_qp = 1};
	struct vmp_vnet_port_info in;
	unsigned int lcore;
	int c, rc, i;

	rc = rte_eal_init(argc, argv);
	if (rc < 0)
		rte_exit(EXIT_FAILURE, "EAL init failed\n");
	argc -= rc;
	argv += rc;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'v':
			o.path = optarg;
			break;
		case 'm':
			o.enq = strcmp(optarg, "enq") == 0;
			break;
		case 's':
			o.size = (unsigned int)atoi(optarg);
			break;
		case 't':
			o.seconds = (unsigned int)atoi(optarg);
			break;
		case 'd':
			o.dma = strcmp(optarg, "none") != 0;
			break;
		case 'T':
			o.threshold = (unsigned int)atoi(optarg);
			break;
		case 'N':
			pc.disable_features |= 1ULL
					       << 35; /* VIRTIO_F_IN_ORDER */
			break;
		default:
			rte_exit(EXIT_FAILURE, "bad option\n");
		}
	}
	if (o.path == NULL || o.size < 60 || o.size > 2000)
		rte_exit(EXIT_FAILURE, "usage: see the file header\n");
	mp = rte_pktmbuf_pool_create("bench", 16383, 256, 0,
				     RTE_MBUF_DEFAULT_BUF_SIZE,
				     rte_socket_id());
	pc.path = o.path;
	pc.mp = mp;
	pc.socket_id = (int)rte_socket_id();
	port = vmp_vnet_port_create(&pc);
	if (mp == NULL || port == NULL)
		rte_exit(EXIT_FAILURE, "cannot create the port\n");
	if (o.dma) {
		dma = make_dma();
		if (dma == NULL || vmp_vnet_port_set_dma(port, 0, dma) < 0)
			rte_exit(EXIT_FAILURE, "no DMA (--iova-mode=va?)\n");
	}
	for (i = 0; i < 3000; i++) {
		vmp_vnet_port_info_get(port, &in);
		if (in.connected && (in.running & 3) == 3)
			break;
		usleep(10000);
	}
	if (i == 3000)
		rte_exit(EXIT_FAILURE, "no frontend came\n");
	lcore = rte_get_next_lcore(-1, 1, 0);
	rte_eal_remote_launch(worker, NULL, lcore);
	/* sleep, do not spin: the main lcore shares a core with the guest */
	while (!done)
		usleep(50 * 1000);
	rte_eal_wait_lcore(lcore);
	qsort(samples, nb_samples, sizeof(samples[0]), cmp_u32);
	printf("vnetbench: mode %s size %u dma %s: %.3f Mpps, %.1f busy "
	       "cycles/pkt, %.1f cycles/pkt overall (%" PRIu64 " pkts), "
	       "%u cycles/pkt median of %u full bursts, %.1f pkts per "
	       "burst that moved any\n",
	       o.enq ? "enq" : "deq", o.size, o.dma ? "skeleton" : "none",
	       (double)pkts / ((double)all_cyc / rte_get_tsc_hz()) / 1e6,
	       pkts ? (double)busy_cyc / pkts : 0.0,
	       pkts ? (double)all_cyc / pkts : 0.0, pkts,
	       nb_samples ? samples[nb_samples / 2] : 0, nb_samples,
	       moves ? (double)pkts / moves : 0.0);
	fflush(stdout);
	stop = true;
	{
		struct vmp_vnet_vq_stats st;

		if (vmp_vnet_vq_stats_get(port, o.enq ? 0 : 1, &st) == 0)
			printf("vnetbench: vring %d: %" PRIu64
			       " packets, %" PRIu64
			       " no_buf (offered but no guest buffer), %" PRIu64
			       " notifications\n",
			       o.enq ? 0 : 1, st.packets, st.no_buf, st.notify);
	}
	vmp_vnet_port_destroy(port);
	if (dma != NULL)
		vmp_vnet_dma_free(dma);
	if (dma_id >= 0) {
		rte_dma_stop(dma_id);
		rte_dma_close(dma_id);
	}
	rte_eal_cleanup();
	return 0;
}
