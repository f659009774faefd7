/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Embedded default guests (--embedded-guests N): N net_virtio_user ethdevs
 * in this process, each the virtio frontend of one of the first N vhost-user
 * ports (a real virtio-user frontend: vhost-user messages, shared memory,
 * split rings). From the main lcore, guest i sends packets to guest 1-i and
 * checks every packet it receives: source, length and payload pattern.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_bus_vdev.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "switch.h"
#include "vmpath.h"

#define GBURST 32
#define GUEST_ETHERTYPE 0x88b5 /* IEEE local experimental */

struct guest {
	uint16_t port_id;
	struct rte_ether_addr mac;
	uint64_t seq;
	uint64_t tx, rx, bad;
	uint64_t prev_tx, prev_rx;
};

static struct guest guests[2];
static unsigned int nb_guests;
static struct rte_mempool *gmp;
static uint64_t prev_tsc;

static int
guest_start(unsigned int i)
{
	struct rte_eth_conf conf;
	char name[32], args[256];
	struct guest *g = &guests[i];

	snprintf(name, sizeof(name), "net_virtio_user%u", i);
	snprintf(args, sizeof(args),
		 "path=%s,queues=1,queue_size=1024,mac=02:00:00:00:00:%02x",
		 vmp_sw.port[i]->spec.path, i + 1);
	if (rte_vdev_init(name, args) < 0 ||
	    rte_eth_dev_get_port_by_name(name, &g->port_id) < 0) {
		printf("vmpath: cannot create embedded guest %s (%s)\n", name,
		       args);
		return -ENODEV;
	}
	memset(&conf, 0, sizeof(conf));
	if (rte_eth_dev_configure(g->port_id, 1, 1, &conf) < 0 ||
	    rte_eth_rx_queue_setup(g->port_id, 0, 1024, vmp_sw.socket, NULL,
				   gmp) < 0 ||
	    rte_eth_tx_queue_setup(g->port_id, 0, 1024, vmp_sw.socket, NULL) <
		    0 ||
	    rte_eth_dev_start(g->port_id) < 0) {
		printf("vmpath: cannot start embedded guest %s\n", name);
		return -EIO;
	}
	rte_eth_macaddr_get(g->port_id, &g->mac);
	printf("vmpath: embedded guest %u: %s on %s\n", i, name,
	       vmp_sw.port[i]->spec.path);
	return 0;
}

int
vmp_guests_init(void)
{
	unsigned int i, n = vmp_app.cfg.guests;
	int rc;

	if (n == 0)
		return 0;
	if (n > vmp_app.cfg.nb_vhost) {
		printf("vmpath: --embedded-guests %u needs %u --vhost ports\n",
		       n, n);
		return -EINVAL;
	}
	for (i = 0; i < n; i++)
		if (vmp_sw.port[i]->spec.client) {
			printf("vmpath: embedded guests need server ports "
			       "(port %u is client)\n",
			       i);
			return -EINVAL;
		}
	gmp = rte_pktmbuf_pool_create("vmp_guests", 8191, 256, 0,
				      RTE_MBUF_DEFAULT_BUF_SIZE, vmp_sw.socket);
	if (gmp == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		rc = guest_start(i);
		if (rc < 0)
			return rc;
		nb_guests++;
	}
	prev_tsc = rte_get_tsc_cycles();
	return 0;
}

static inline uint8_t
pat(uint64_t seq, unsigned int i)
{
	return (uint8_t)(seq * 7 + i);
}

static void
guest_send(struct guest *g, const struct guest *peer)
{
	unsigned int len = vmp_app.cfg.guest_pkt_len, i, k;
	struct rte_mbuf *pkts[GBURST];
	uint16_t sent;

	if (rte_pktmbuf_alloc_bulk(gmp, pkts, GBURST) < 0)
		return;
	for (k = 0; k < GBURST; k++) {
		struct rte_ether_hdr *eh;
		uint8_t *pl;
		uint64_t seq = g->seq++;

		eh = (struct rte_ether_hdr *)rte_pktmbuf_append(pkts[k], len);
		rte_ether_addr_copy(&peer->mac, &eh->dst_addr);
		rte_ether_addr_copy(&g->mac, &eh->src_addr);
		eh->ether_type = rte_cpu_to_be_16(GUEST_ETHERTYPE);
		pl = (uint8_t *)(eh + 1);
		memcpy(pl, &seq, sizeof(seq));
		for (i = sizeof(seq); i < len - sizeof(*eh); i++)
			pl[i] = pat(seq, i);
	}
	sent = rte_eth_tx_burst(g->port_id, 0, pkts, GBURST);
	g->tx += sent;
	g->seq -= GBURST - sent;
	if (sent < GBURST)
		rte_pktmbuf_free_bulk(pkts + sent, GBURST - sent);
}

static bool
guest_check(const struct guest *g, const struct guest *peer, struct rte_mbuf *m)
{
	unsigned int len = vmp_app.cfg.guest_pkt_len, i;
	const struct rte_ether_hdr *eh;
	const uint8_t *pl;
	uint64_t seq;

	if (m->pkt_len != len || m->nb_segs != 1)
		return false;
	eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	if (!rte_is_same_ether_addr(&eh->src_addr, &peer->mac) ||
	    !rte_is_same_ether_addr(&eh->dst_addr, &g->mac))
		return false;
	pl = (const uint8_t *)(eh + 1);
	memcpy(&seq, pl, sizeof(seq));
	for (i = sizeof(seq); i < len - sizeof(*eh); i++)
		if (pl[i] != pat(seq, i))
			return false;
	return true;
}

void
vmp_guests_poll(void)
{
	struct rte_mbuf *pkts[GBURST];
	unsigned int i, k;

	if (nb_guests < 2)
		return;
	for (i = 0; i < nb_guests; i++) {
		struct guest *g = &guests[i], *peer = &guests[1 - i];
		uint16_t n;

		guest_send(g, peer);
		n = rte_eth_rx_burst(g->port_id, 0, pkts, GBURST);
		for (k = 0; k < n; k++) {
			if (guest_check(g, peer, pkts[k]))
				g->rx++;
			else
				g->bad++;
		}
		rte_pktmbuf_free_bulk(pkts, n);
	}
}

void
vmp_guests_print(FILE *f)
{
	uint64_t now = rte_get_tsc_cycles();
	double dt = (double)(now - prev_tsc) / rte_get_tsc_hz();
	unsigned int i;

	if (nb_guests == 0)
		return;
	if (dt <= 0)
		dt = 1e-9;
	for (i = 0; i < nb_guests; i++) {
		struct guest *g = &guests[i];

		fprintf(f,
			"  guest %u: sent %" PRIu64 " received %" PRIu64
			" bad %" PRIu64 "  tx %.3f Mpps rx %.3f Mpps (%u B)\n",
			i, g->tx, g->rx, g->bad,
			(double)(g->tx - g->prev_tx) / dt / 1e6,
			(double)(g->rx - g->prev_rx) / dt / 1e6,
			vmp_app.cfg.guest_pkt_len);
		g->prev_tx = g->tx;
		g->prev_rx = g->rx;
	}
	prev_tsc = now;
	fflush(f);
}

void
vmp_guests_fini(void)
{
	unsigned int i;
	char name[32];

	for (i = 0; i < nb_guests; i++) {
		rte_eth_dev_stop(guests[i].port_id);
		rte_eth_dev_close(guests[i].port_id);
		snprintf(name, sizeof(name), "net_virtio_user%u", i);
		rte_vdev_uninit(name);
	}
	nb_guests = 0;
}
