/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vnet-peer: a test guest for the vmpath switch. It is a real virtio
 * frontend: DPDK's net_virtio_user ethdev (given on the EAL command line),
 * driven through the ethdev API. It sends --count packets of --size bytes
 * (as --segs chained mbufs) round-robin over --queues queues to --dst, keeps
 * at most --window in flight, and checks every packet that comes back (from
 * an echoing peer such as dpdk-testpmd --forward-mode=macswap): addresses,
 * length, payload pattern, no duplicates. Exit 0 only if every packet came
 * back intact.
 *
 * --gap-us G: single-packet bursts, each sent a random 0..G us after the
 * previous one (an idle guest that wakes now and then); with --window 1 the
 * round-trip time of each packet is measured and its percentiles printed.
 *
 *   vnet-peer [EAL] -- --dst MAC [--count N] [--size B] [--segs K]
 *             [--queues Q] [--window W] [--timeout S] [--rx-buf B]
 *             [--gap-us G] [--stall S]
 *
 * --stall S: give up once nothing came back for S seconds (a lost packet or
 * wake-up), whatever --timeout allows: on a loaded machine a slow run then
 * still finishes, a stuck one still fails.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#define BURST 32
#define ETHERTYPE 0x88b5

static struct {
	struct rte_ether_addr dst;
	uint64_t count;
	unsigned int size, segs, queues, window, timeout, rx_buf, gap_us;
	unsigned int stall; /* give up after this many s without progress */
} o = {.count = 10000,
       .size = 64,
       .segs = 1,
       .queues = 1,
       .window = 256,
       .timeout = 30,
       .rx_buf = 2048};

static struct rte_ether_addr me;
static uint8_t *seen;
/* --gap-us with --window 1: ns of each round trip. CLOCK_MONOTONIC, not
 * the TSC: the thread may move between vCPUs whose TSCs differ. */
static uint64_t *rtt;
static uint64_t sent_ns;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

static inline uint8_t
pat(uint64_t seq, unsigned int i)
{
	return (uint8_t)(seq * 13 + i * 7 + 1);
}

static struct rte_mbuf *
build(struct rte_mempool *mp, uint64_t seq)
{
	struct rte_mbuf *head = NULL, *last = NULL;
	unsigned int left = o.size, per = (o.size + o.segs - 1) / o.segs, i;
	unsigned int off = 0;
	uint8_t buf[9216];
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)buf;

	rte_ether_addr_copy(&o.dst, &eh->dst_addr);
	rte_ether_addr_copy(&me, &eh->src_addr);
	eh->ether_type = rte_cpu_to_be_16(ETHERTYPE);
	memcpy(buf + sizeof(*eh), &seq, sizeof(seq));
	for (i = sizeof(*eh) + sizeof(seq); i < o.size; i++)
		buf[i] = pat(seq, i);
	if (per < sizeof(*eh))
		per = sizeof(*eh);
	if (per > o.rx_buf)
		per = o.rx_buf;
	while (left > 0) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
		unsigned int l = RTE_MIN(left, per);

		if (m == NULL) {
			rte_pktmbuf_free(head);
			return NULL;
		}
		memcpy(rte_pktmbuf_append(m, (uint16_t)l), buf + off, l);
		off += l;
		left -= l;
		if (head == NULL) {
			head = m;
		} else {
			last->next = m;
			head->nb_segs++;
			head->pkt_len += l;
		}
		last = m;
	}
	return head;
}

/* 0 ok, else a reason. */
static const char *
check(struct rte_mbuf *m, uint64_t *seqp)
{
	uint8_t buf[9216];
	const uint8_t *p;
	const struct rte_ether_hdr *eh;
	uint64_t seq;
	unsigned int i;

	if (m->pkt_len != o.size)
		return "length";
	p = rte_pktmbuf_read(m, 0, m->pkt_len, buf);
	eh = (const struct rte_ether_hdr *)p;
	if (eh->ether_type != rte_cpu_to_be_16(ETHERTYPE))
		return "ethertype";
	if (!rte_is_same_ether_addr(&eh->dst_addr, &me) ||
	    !rte_is_same_ether_addr(&eh->src_addr, &o.dst))
		return "addresses";
	memcpy(&seq, p + sizeof(*eh), sizeof(seq));
	if (seq >= o.count)
		return "sequence";
	for (i = sizeof(*eh) + sizeof(seq); i < o.size; i++)
		if (p[i] != pat(seq, i))
			return "payload";
	if (seen[seq])
		return "duplicate";
	seen[seq] = 1;
	*seqp = seq;
	return NULL;
}

/* Wall-clock stamp, to line the peer's phases up with the script's log. */
static void
wall(const char *what)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	printf("vnet-peer: %s at %ld.%03ld\n", what, (long)ts.tv_sec,
	       ts.tv_nsec / 1000000);
	fflush(stdout);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Round-trip percentiles of the --gap-us --window 1 runs. */
static void
print_rtt(uint64_t n)
{
	double us = 1e-3;

	if (n == 0)
		return;
	qsort(rtt, n, sizeof(rtt[0]), cmp_u64);
	printf("vnet-peer: rtt us: p50 %.1f p90 %.1f p99 %.1f max %.1f "
	       "(%" PRIu64 " packets)\n",
	       rtt[n / 2] * us, rtt[n * 9 / 10] * us, rtt[n * 99 / 100] * us,
	       rtt[n - 1] * us, n);
}

static void
usage(void)
{
	printf("vnet-peer [EAL] -- --dst MAC [--count N] [--size B] "
	       "[--segs K] [--queues Q] [--window W] [--timeout S] "
	       "[--rx-buf B] [--gap-us G] [--stall S]\n");
}

static int
parse(int argc, char **argv)
{
	static const struct option lo[] = {
		{"dst", 1, NULL, 'd'},	   {"count", 1, NULL, 'c'},
		{"size", 1, NULL, 's'},	   {"segs", 1, NULL, 'g'},
		{"queues", 1, NULL, 'q'},  {"window", 1, NULL, 'w'},
		{"timeout", 1, NULL, 't'}, {"rx-buf", 1, NULL, 'r'},
		{"gap-us", 1, NULL, 'G'},  {"stall", 1, NULL, 'S'},
		{NULL, 0, NULL, 0},
	};
	bool have_dst = false;
	int c;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (rte_ether_unformat_addr(optarg, &o.dst) < 0)
				return -1;
			have_dst = true;
			break;
		case 'c':
			o.count = strtoull(optarg, NULL, 0);
			break;
		case 's':
			o.size = (unsigned int)atoi(optarg);
			break;
		case 'g':
			o.segs = (unsigned int)atoi(optarg);
			break;
		case 'q':
			o.queues = (unsigned int)atoi(optarg);
			break;
		case 'w':
			o.window = (unsigned int)atoi(optarg);
			break;
		case 't':
			o.timeout = (unsigned int)atoi(optarg);
			break;
		case 'r':
			o.rx_buf = (unsigned int)atoi(optarg);
			break;
		case 'G':
			o.gap_us = (unsigned int)atoi(optarg);
			break;
		case 'S':
			o.stall = (unsigned int)atoi(optarg);
			break;
		default:
			return -1;
		}
	}
	if (!have_dst || o.size < 60 || o.size > 9000 || o.segs < 1 ||
	    o.segs > 8 || o.queues < 1 || o.queues > 8 || o.window < 1)
		return -1;
	return 0;
}

int
main(int argc, char **argv)
{
	struct rte_eth_conf conf;
	struct rte_mempool *mp;
	uint64_t sent = 0, rcvd = 0, bad = 0, end, hz, t0, t_loop, t_stop,
		 t_clean;
	uint64_t last_rcvd = 0, last_prog, stalled = 0, next_tx;
	uint16_t port = 0, q;
	int rc;

	wall("main");
	t0 = rte_get_tsc_cycles();
	rc = rte_eal_init(argc, argv);
	if (rc < 0)
		rte_exit(EXIT_FAILURE, "EAL init failed\n");
	if (parse(argc - rc, argv + rc) < 0) {
		usage();
		rte_exit(EXIT_FAILURE, "bad arguments\n");
	}
	if (rte_eth_dev_count_avail() != 1)
		rte_exit(EXIT_FAILURE, "need exactly one virtio-user port\n");
	seen = calloc(o.count, 1);
	if (o.gap_us && o.window == 1)
		rtt = calloc(o.count, sizeof(*rtt));
	srand(1);
	mp = rte_pktmbuf_pool_create(
		"peer", 32767, 256, 0,
		(uint16_t)(o.rx_buf + RTE_PKTMBUF_HEADROOM), rte_socket_id());
	if (mp == NULL || seen == NULL)
		rte_exit(EXIT_FAILURE, "no memory\n");
	memset(&conf, 0, sizeof(conf));
	if (o.rx_buf < o.size)
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
	if (o.segs > 1)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	if (rte_eth_dev_configure(port, o.queues, o.queues, &conf) < 0)
		rte_exit(EXIT_FAILURE, "configure failed\n");
	for (q = 0; q < o.queues; q++)
		if (rte_eth_rx_queue_setup(port, q, 1024, rte_socket_id(), NULL,
					   mp) < 0 ||
		    rte_eth_tx_queue_setup(port, q, 1024, rte_socket_id(),
					   NULL) < 0)
			rte_exit(EXIT_FAILURE, "queue setup failed\n");
	if (rte_eth_dev_start(port) < 0)
		rte_exit(EXIT_FAILURE, "start failed\n");
	rte_eth_macaddr_get(port, &me);

	hz = rte_get_tsc_hz();
	t_loop = rte_get_tsc_cycles();
	next_tx = t_loop;
	end = t_loop + o.timeout * hz;
	last_prog = t_loop;
	q = 0;
	while (rcvd + bad < o.count && rte_get_tsc_cycles() < end) {
		struct rte_mbuf *pk[BURST];
		uint16_t n, i, k;

		for (k = 0; k < o.queues; k++) {
			n = rte_eth_rx_burst(port, k, pk, BURST);
			for (i = 0; i < n; i++) {
				uint64_t seq;
				const char *why = check(pk[i], &seq);

				if (why == NULL) {
					if (rtt != NULL)
						rtt[rcvd] = now_ns() - sent_ns;
					rcvd++;
				} else {
					if (bad < 5)
						printf("bad packet: %s\n", why);
					bad++;
				}
			}
			rte_pktmbuf_free_bulk(pk, n);
		}
		/* window: at most o.window in flight */
		n = 0;
		/* --gap-us: one packet, once its gap has passed */
		while (n < (o.gap_us ? 1 : BURST) && sent + n < o.count &&
		       (!o.gap_us || rte_get_tsc_cycles() >= next_tx) &&
		       sent - rcvd - bad + n < o.window) {
			pk[n] = build(mp, sent + n);
			if (pk[n] == NULL)
				break;
			n++;
		}
		if (n) {
			/* before the burst: its kick may wake a sleeping
			 * switch that preempts us until the echo is back */
			sent_ns = now_ns();
			k = rte_eth_tx_burst(port, q, pk, n);
			sent += k;
			if (o.gap_us && k)
				next_tx = rte_get_tsc_cycles() +
					  (uint64_t)(rand() % (o.gap_us + 1)) *
						  hz / 1000000;
			if (k < n)
				rte_pktmbuf_free_bulk(pk + k, n - k);
			q = (uint16_t)((q + 1) % o.queues);
		}
		if (sent >= o.count && rcvd + bad < o.count)
			usleep(0);
		/* A stall (nothing back for a second) is reported with its
		 * length: a slow run's log shows where it waited. */
		if (rcvd + bad != last_rcvd) {
			uint64_t now = rte_get_tsc_cycles();

			if (stalled)
				printf("vnet-peer: resumed after %.1f s\n",
				       (double)(now - last_prog) / hz);
			stalled = 0;
			last_rcvd = rcvd + bad;
			last_prog = now;
		} else if (o.stall &&
			   rte_get_tsc_cycles() - last_prog > o.stall * hz) {
			printf("vnet-peer: nothing back for %u s: giving up\n",
			       o.stall);
			break;
		} else if (!stalled && rte_get_tsc_cycles() - last_prog > hz) {
			stalled = 1;
			printf("vnet-peer: stalled at %.1f s: sent %" PRIu64
			       " received %" PRIu64 " in flight %" PRIu64 "\n",
			       (double)(rte_get_tsc_cycles() - t_loop) / hz,
			       sent, rcvd + bad, sent - rcvd - bad);
			fflush(stdout);
		}
	}
	t_stop = rte_get_tsc_cycles();
	if (rtt != NULL)
		print_rtt(rcvd);
	printf("vnet-peer: size %u segs %u queues %u: sent %" PRIu64
	       " received %" PRIu64 " bad %" PRIu64 " missing %" PRIu64 "\n",
	       o.size, o.segs, o.queues, sent, rcvd, bad, o.count - rcvd);
	if (rcvd != o.count) {
		struct rte_eth_stats es;

		rte_eth_stats_get(port, &es);
		printf("vnet-peer: ethdev ipackets %" PRIu64
		       " opackets %" PRIu64 " ierrors %" PRIu64
		       " rx_nombuf %" PRIu64 "\n",
		       es.ipackets, es.opackets, es.ierrors, es.rx_nombuf);
	}
	rte_eth_dev_stop(port);
	rte_eth_dev_close(port);
	t_clean = rte_get_tsc_cycles();
	rte_eal_cleanup();
	printf("vnet-peer: init+start %.1f s, traffic %.1f s, stop %.1f s, "
	       "EAL cleanup %.1f s\n",
	       (double)(t_loop - t0) / hz, (double)(t_stop - t_loop) / hz,
	       (double)(t_clean - t_stop) / hz,
	       (double)(rte_get_tsc_cycles() - t_clean) / hz);
	wall("exit");
	return (rcvd == o.count && bad == 0) ? 0 : 1;
}
