/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The vmpath switch: vhost-user ports (lib/vnet) forwarded by an L2 MAC
 * learning table on the datapath lcores.
 *
 * Placement: queue pair q of every port is polled (dequeue) by datapath lcore
 * number q % K (K datapath lcores, from the planner, on the ports' socket).
 * Lcore k enqueues into queue pair k % nb_qp of the destination port; when a
 * port has fewer queue pairs than K, lcores share those RX vrings under a
 * spinlock (CPU copies only: a DMA channel belongs to one lcore, so async
 * ports need nb_qp >= K). Each datapath lcore has its own DMA device per kind.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_bus_vdev.h>
#include <rte_dmadev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_spinlock.h>

#include <vmp_config.h>
#if VMP_HAS_DMA_DRIVER
#include <rte_pmd_swdma.h>
#endif

#include "switch.h"
#include "vmpath.h"

#define BURST 32
#define MAC_SLOTS 1024
#define MAC_PROBE 8

struct vmp_switch vmp_sw;

static const char *const dma_drv[] = {
	[VMP_DMA_SW] = "dma_swdma",
	[VMP_DMA_SKELETON] = "dma_skeleton",
};

const char *
vmp_dma_kind_name(enum vmp_dma_kind k)
{
	switch (k) {
	case VMP_DMA_SW:
		return "sw";
	case VMP_DMA_SKELETON:
		return "skeleton";
	case VMP_DMA_NONE:
		return "none";
	default:
		return "default";
	}
}

/*
 * dma_swdma runs its copies on a service lcore: give the engines of datapath
 * lcore #k's device the planner's DMA lcore #(k % nb_dma). Done before the
 * roles are launched, while that lcore is still idle.
 */
static int
swdma_place(int16_t id, unsigned int k, const char *name)
{
#if VMP_HAS_DMA_DRIVER
	unsigned int i, n = 0, lcores[VMP_PLAN_MAX_LCORES];
	int rc;

	for (i = 0; i < vmp_app.plan.nb_entries; i++)
		if (vmp_app.plan.entries[i].role == VMP_ROLE_DMA)
			lcores[n++] = vmp_app.plan.entries[i].lcore_id;
	if (n == 0) {
		printf("vmpath: %s: --dma sw copies on a DMA lcore: add "
		       "--dma-lcores 1 and an EAL lcore for it (e.g. --lcores "
		       "0@0,1@1,2@0)\n",
		       name);
		return -ENODEV;
	}
	rc = rte_pmd_swdma_service_lcore_set(id, lcores[k % n]);
	if (rc < 0)
		printf("vmpath: %s: cannot run its engines on lcore %u: %s\n",
		       name, lcores[k % n], strerror(-rc));
	else
		printf("vmpath: %s: engines on DMA lcore %u\n", name,
		       lcores[k % n]);
	return rc;
#else
	RTE_SET_USED(id);
	RTE_SET_USED(k);
	printf("vmpath: %s: built without drivers (dpdk_sdk_headers)\n", name);
	return -ENOTSUP;
#endif
}

/* A DMA device of @kind for datapath lcore @k: vdev, 1 vchan, started. */
static struct vmp_vnet_dma *
dma_get(unsigned int k, enum vmp_dma_kind kind, int socket)
{
	struct rte_dma_vchan_conf vc = {.direction = RTE_DMA_DIR_MEM_TO_MEM};
	struct rte_dma_conf dc = {.nb_vchans = 1};
	struct rte_dma_info info;
	char name[64];
	int id;

	if (vmp_sw.dma[k][kind] != NULL)
		return vmp_sw.dma[k][kind];
	snprintf(name, sizeof(name), "%s%u", dma_drv[kind], k);
	id = rte_dma_get_dev_id_by_name(name);
	if (id < 0) {
		if (rte_vdev_init(name, NULL) < 0) {
			printf("vmpath: cannot create DMA device %s (is its "
			       "driver loaded?)\n",
			       name);
			return NULL;
		}
		id = rte_dma_get_dev_id_by_name(name);
		/* ours to place; a --vdev the user gave keeps its devargs */
		if (id >= 0 && kind == VMP_DMA_SW &&
		    swdma_place((int16_t)id, k, name) < 0)
			return NULL;
	}
	if (id < 0 || rte_dma_info_get(id, &info) < 0)
		return NULL;
	vc.nb_desc = RTE_MAX(1024u, (unsigned int)info.min_desc);
	if (vc.nb_desc > info.max_desc)
		vc.nb_desc = info.max_desc;
	if (rte_dma_configure(id, &dc) < 0 ||
	    rte_dma_vchan_setup(id, 0, &vc) < 0 || rte_dma_start(id) < 0) {
		printf("vmpath: cannot set up DMA device %s\n", name);
		return NULL;
	}
	vmp_sw.dma_id[k][kind] = (int16_t)id;
	vmp_sw.dma[k][kind] = vmp_vnet_dma_create(
		(int16_t)id, 0, vmp_app.cfg.dma_threshold, socket);
	if (vmp_sw.dma[k][kind] == NULL)
		printf("vmpath: DMA device %s unusable: %s\n", name,
		       rte_strerror(rte_errno));
	else
		printf("vmpath: %s (dma %d, %u descriptors) for datapath "
		       "lcore #%u\n",
		       name, id, vc.nb_desc, k);
	return vmp_sw.dma[k][kind];
}

/* An ethdev port from a vdev spec "net_xxx0,args": 1 queue pair. */
static int
eth_port_add(struct vmp_sw_port *sp, const char *spec, int socket)
{
	struct rte_eth_conf conf;
	char buf[256], *args;
	int rc;

	memset(&conf, 0, sizeof(conf));
	/* halting lcores wake on Rx interrupts where the PMD has them */
	conf.intr_conf.rxq = vmp_app.cfg.idle_halt;
	snprintf(buf, sizeof(buf), "%s", spec);
	args = strchr(buf, ',');
	if (args != NULL)
		*args++ = '\0';
	if (strlen(buf) >= sizeof(sp->eth_name))
		return -EINVAL;
	memcpy(sp->eth_name, buf, strlen(buf) + 1);
	strncpy(sp->spec.path, spec, sizeof(sp->spec.path) - 1);
	if (rte_vdev_init(buf, args) < 0 ||
	    rte_eth_dev_get_port_by_name(buf, &sp->eth_port) < 0) {
		printf("vmpath: cannot create ethdev port '%s'\n", spec);
		return -ENODEV;
	}
	rc = rte_eth_dev_configure(sp->eth_port, 1, 1, &conf);
	if (rc < 0 && conf.intr_conf.rxq) {
		conf.intr_conf.rxq = 0; /* none: its lcore sleeps bounded */
		rc = rte_eth_dev_configure(sp->eth_port, 1, 1, &conf);
	}
	if (rc < 0 ||
	    rte_eth_rx_queue_setup(sp->eth_port, 0, 512, socket, NULL,
				   vmp_sw.mp) < 0 ||
	    rte_eth_tx_queue_setup(sp->eth_port, 0, 512, socket, NULL) < 0 ||
	    rte_eth_dev_start(sp->eth_port) < 0) {
		printf("vmpath: cannot start ethdev port '%s'\n", spec);
		rte_vdev_uninit(buf);
		return -EIO;
	}
	rte_eth_promiscuous_enable(sp->eth_port);
	sp->is_eth = true;
	sp->nb_qp = 1;
	sp->dma = VMP_DMA_NONE;
	sp->shared_rx = vmp_sw.nb_dp > 1;
	rte_spinlock_init(&sp->rx_lock[0]);
	return 0;
}

int
vmp_switch_init(void)
{
	const struct vmp_app_config *c = &vmp_app.cfg;
	unsigned int i, k, q;
	int socket =
		c->socket >= 0
			? c->socket
			: (int)rte_lcore_to_socket_id(rte_get_main_lcore());

	memset(&vmp_sw, 0, sizeof(vmp_sw));
	for (i = 0; i < RTE_MAX_LCORE; i++)
		vmp_sw.dp_index[i] = -1;
	for (i = 0; i < vmp_app.plan.nb_entries; i++) {
		const struct vmp_plan_entry *e = &vmp_app.plan.entries[i];

		if (e->role == VMP_ROLE_DATAPATH)
			vmp_sw.dp_index[e->lcore_id] = (int)vmp_sw.nb_dp++;
	}
	if (c->nb_vhost + c->nb_ethdev == 0)
		return 0;
	if (c->nb_vhost + c->nb_ethdev > VMP_MAX_VHOST) {
		printf("vmpath: at most %d ports\n", VMP_MAX_VHOST);
		return -EINVAL;
	}
	if (vmp_sw.nb_dp == 0) {
		printf("vmpath: ports need a datapath lcore\n");
		return -EINVAL;
	}
	vmp_sw.socket = socket;
	vmp_sw.mp = rte_pktmbuf_pool_create("vmp_switch", c->nb_mbufs, 256, 0,
					    RTE_MBUF_DEFAULT_BUF_SIZE, socket);
	if (vmp_sw.mp == NULL) {
		printf("vmpath: cannot create the mbuf pool: %s\n",
		       rte_strerror(rte_errno));
		return -ENOMEM;
	}
	vmp_sw.mac = rte_zmalloc_socket("vmp_mac", MAC_SLOTS * sizeof(uint64_t),
					RTE_CACHE_LINE_SIZE, socket);
	if (vmp_sw.mac == NULL)
		return -ENOMEM;

	for (i = 0; i < c->nb_vhost; i++) {
		struct vmp_sw_port *sp = &vmp_sw.port[i];
		struct vmp_vnet_port_conf pc = {
			.path = c->vhost[i].path,
			.client = c->vhost[i].client,
			.nb_qp = (uint16_t)c->vhost[i].queues,
			.socket_id = socket,
			.mp = vmp_sw.mp,
			.offloads = (c->vhost[i].csum ? VMP_VNET_OL_CSUM : 0) |
				    (c->vhost[i].tso ? VMP_VNET_OL_TSO : 0),
			.mtu = (uint16_t)c->vhost[i].mtu,
		};

		sp->spec = c->vhost[i];
		sp->dma =
			sp->spec.dma == VMP_DMA_DEFAULT ? c->dma : sp->spec.dma;
		sp->nb_qp = pc.nb_qp;
		sp->shared_rx = sp->nb_qp < vmp_sw.nb_dp;
		if (sp->dma != VMP_DMA_NONE && sp->shared_rx) {
			printf("vmpath: port %u: dma needs queues >= datapath "
			       "lcores (%u)\n",
			       i, vmp_sw.nb_dp);
			return -EINVAL;
		}
		for (q = 0; q < VMP_VNET_MAX_QP; q++)
			rte_spinlock_init(&sp->rx_lock[q]);
		sp->vp = vmp_vnet_port_create(&pc);
		if (sp->vp == NULL) {
			printf("vmpath: port %u (%s): %s\n", i, pc.path,
			       rte_strerror(rte_errno));
			return -EINVAL;
		}
		vmp_sw.nb_ports++;
		if (sp->dma == VMP_DMA_NONE)
			continue;
		for (q = 0; q < sp->nb_qp; q++) {
			struct vmp_vnet_dma *d;

			k = q % vmp_sw.nb_dp;
			d = dma_get(k, sp->dma, socket);
			if (d == NULL)
				return -ENODEV;
			vmp_vnet_port_set_dma(sp->vp, (uint16_t)q, d);
		}
	}
	for (i = 0; i < c->nb_ethdev; i++) {
		int rc = eth_port_add(&vmp_sw.port[vmp_sw.nb_ports],
				      c->ethdev[i], socket);

		if (rc < 0)
			return rc;
		vmp_sw.nb_ports++;
	}
	return 0;
}

void
vmp_switch_fini(void)
{
	unsigned int i, k, d;

	for (i = 0; i < vmp_sw.nb_ports; i++) {
		struct vmp_sw_port *sp = &vmp_sw.port[i];

		if (sp->is_eth) {
			rte_eth_dev_stop(sp->eth_port);
			rte_eth_dev_close(sp->eth_port);
			rte_vdev_uninit(sp->eth_name);
		} else {
			vmp_vnet_port_destroy(sp->vp);
		}
	}
	vmp_sw.nb_ports = 0;
	for (k = 0; k < RTE_MAX_LCORE; k++)
		for (d = 0; d < VMP_DMA_KINDS; d++) {
			if (vmp_sw.dma[k][d] == NULL)
				continue;
			vmp_vnet_dma_free(vmp_sw.dma[k][d]);
			rte_dma_stop(vmp_sw.dma_id[k][d]);
			rte_dma_close(vmp_sw.dma_id[k][d]);
		}
	rte_free(vmp_sw.mac);
	vmp_sw.mac = NULL;
}

static inline uint64_t
mac_key(const struct rte_ether_addr *a)
{
	uint64_t v = 0;

	memcpy(&v, a->addr_bytes, RTE_ETHER_ADDR_LEN);
	return v;
}

static inline uint32_t
mac_hash(uint64_t key)
{
	return (uint32_t)((key * 0x9E3779B97F4A7C15ULL) >> 54) &
	       (MAC_SLOTS - 1);
}

/*
 * Slot word: bit 63 valid, bits 48..55 port, bits 0..47 MAC. One 64-bit
 * relaxed store per update: readers see an old or a new entry, never a torn
 * one; two lcores learning the same MAC at once just both write it.
 */
static void
mac_learn(uint64_t key, unsigned int port)
{
	uint64_t word = (1ULL << 63) | ((uint64_t)port << 48) | key;
	uint32_t h = mac_hash(key), i;

	for (i = 0; i < MAC_PROBE; i++) {
		uint64_t *slot = &vmp_sw.mac[(h + i) & (MAC_SLOTS - 1)];
		uint64_t cur = __atomic_load_n(slot, __ATOMIC_RELAXED);

		if (cur == word)
			return;
		if (!(cur >> 63) || (cur & 0xffffffffffffULL) == key) {
			__atomic_store_n(slot, word, __ATOMIC_RELAXED);
			return;
		}
	}
	/* Table full around this hash: overwrite the home slot. */
	__atomic_store_n(&vmp_sw.mac[h], word, __ATOMIC_RELAXED);
}

static int
mac_lookup(uint64_t key)
{
	uint32_t h = mac_hash(key), i;

	for (i = 0; i < MAC_PROBE; i++) {
		uint64_t cur =
			__atomic_load_n(&vmp_sw.mac[(h + i) & (MAC_SLOTS - 1)],
					__ATOMIC_RELAXED);

		if (!(cur >> 63))
			return -1;
		if ((cur & 0xffffffffffffULL) == key)
			return (int)((cur >> 48) & 0xff);
	}
	return -1;
}

/*
 * An ethdev port is configured without TX offloads: what a guest asked for
 * (checksums, TSO) is finished in software first. Sends what it can, frees
 * the rest; returns the packets sent.
 */
static uint16_t
eth_send(const struct vmp_sw_port *sp, uint16_t q, struct rte_mbuf **pkts,
	 uint16_t n)
{
	const uint64_t ol = RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_L4_MASK |
			    RTE_MBUF_F_TX_IP_CKSUM;
	struct rte_mbuf *seg[VMP_VNET_GSO_MAX_SEGS];
	uint16_t i, k, s, sent = 0;
	int r;

	/* Bound: @n packets, each sent in one run or on its own */
	for (i = 0; i < n; i = k + 1) {
		for (k = i; k < n && !(pkts[k]->ol_flags & ol); k++)
			;
		if (k > i) {
			s = rte_eth_tx_burst(sp->eth_port, q, pkts + i, k - i);
			sent += s;
			rte_pktmbuf_free_bulk(pkts + i + s, k - i - s);
		}
		if (k == n)
			break;
		r = vmp_vnet_offload_finish(pkts[k], 0, vmp_sw.mp, seg,
					    RTE_DIM(seg));
		if (r < 0) {
			rte_pktmbuf_free(pkts[k]);
			continue;
		}
		s = rte_eth_tx_burst(sp->eth_port, q, seg, (uint16_t)r);
		sent += s == r;
		rte_pktmbuf_free_bulk(seg + s, (unsigned int)(r - s));
	}
	return sent;
}

static void
send_to(unsigned int k, unsigned int o, struct rte_mbuf **pkts, uint16_t n)
{
	struct vmp_sw_port *sp = &vmp_sw.port[o];
	struct vmp_sw_lstats *ls = &vmp_sw.ls[k];
	uint16_t q = (uint16_t)(k % sp->nb_qp), sent;

	if (sp->shared_rx)
		rte_spinlock_lock(&sp->rx_lock[q]);
	/* eth_send() frees what it did not send */
	if (sp->is_eth)
		sent = eth_send(sp, q, pkts, n);
	else
		sent = vmp_vnet_enqueue_burst(sp->vp, q, pkts, n);
	if (sp->shared_rx)
		rte_spinlock_unlock(&sp->rx_lock[q]);
	ls->fwd[o] += sent;
	if (sent < n) {
		ls->drop_full[o] += n - sent;
		if (!sp->is_eth)
			rte_pktmbuf_free_bulk(pkts + sent, n - sent);
	}
}

static void
forward(unsigned int k, unsigned int in, struct rte_mbuf **pkts, uint16_t n)
{
	struct rte_mbuf *out[VMP_MAX_VHOST][BURST];
	uint16_t cnt[VMP_MAX_VHOST] = {0};
	struct vmp_sw_lstats *ls = &vmp_sw.ls[k];
	unsigned int i, o;

	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct rte_ether_hdr *eh;
		int dst;

		if (m->data_len < sizeof(*eh)) {
			ls->drop_runt++;
			rte_pktmbuf_free(m);
			continue;
		}
		eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
		if (!rte_is_multicast_ether_addr(&eh->src_addr))
			mac_learn(mac_key(&eh->src_addr), in);
		dst = rte_is_unicast_ether_addr(&eh->dst_addr)
			      ? mac_lookup(mac_key(&eh->dst_addr))
			      : -1;
		if (dst >= 0 && (unsigned int)dst < vmp_sw.nb_ports) {
			if ((unsigned int)dst == in) {
				ls->drop_hairpin++;
				rte_pktmbuf_free(m);
				continue;
			}
			out[dst][cnt[dst]++] = m;
			continue;
		}
		/* Unknown or multicast: flood to every other port. */
		ls->flood++;
		if (vmp_sw.nb_ports < 2) {
			rte_pktmbuf_free(m);
			continue;
		}
		/* every segment: each destination frees the whole chain */
		rte_pktmbuf_refcnt_update(m, (int16_t)(vmp_sw.nb_ports - 2));
		for (o = 0; o < vmp_sw.nb_ports; o++)
			if (o != in)
				out[o][cnt[o]++] = m;
	}
	for (o = 0; o < vmp_sw.nb_ports; o++)
		if (cnt[o])
			send_to(k, o, out[o], cnt[o]);
}

unsigned int
vmp_switch_poll(unsigned int lcore)
{
	struct rte_mbuf *pkts[BURST];
	unsigned int p, q, work = 0;
	int k = vmp_sw.dp_index[lcore];

	if (k < 0)
		return 0;
	for (p = 0; p < vmp_sw.nb_ports; p++) {
		struct vmp_sw_port *sp = &vmp_sw.port[p];

		for (q = (unsigned int)k; q < sp->nb_qp; q += vmp_sw.nb_dp) {
			uint16_t n;

			if (sp->is_eth)
				n = rte_eth_rx_burst(sp->eth_port, (uint16_t)q,
						     pkts, BURST);
			else
				n = vmp_vnet_dequeue_burst(sp->vp, (uint16_t)q,
							   pkts, BURST);
			if (n) {
				forward((unsigned int)k, p, pkts, n);
				work += n;
			}
			if (sp->is_eth)
				continue;
			/* Publish RX copies that landed since, retry a
			 * guest notification that could not be sent. */
			if (sp->shared_rx)
				rte_spinlock_lock(&sp->rx_lock[q]);
			vmp_vnet_enqueue_burst(sp->vp, (uint16_t)q, NULL, 0);
			if (sp->shared_rx)
				rte_spinlock_unlock(&sp->rx_lock[q]);
		}
	}
	return work;
}

static void
add_common(struct vmp_sw_port_counters *c, const struct vmp_vnet_vq_stats *st)
{
	c->bad += st->bad_chain + st->too_long;
	c->dma_errors += st->dma_errors;
	c->inflight += st->inflight;
	c->dma_copies += st->dma_copies;
	c->cpu_copies += st->cpu_copies;
}

void
vmp_switch_port_counters(unsigned int p, struct vmp_sw_port_counters *c)
{
	struct vmp_sw_port *sp = &vmp_sw.port[p];
	struct vmp_vnet_vq_stats st;
	unsigned int q, l;

	memset(c, 0, sizeof(*c));
	if (sp->is_eth) {
		struct rte_eth_stats es;

		if (rte_eth_stats_get(sp->eth_port, &es) == 0) {
			c->rx_pkts = es.ipackets;
			c->rx_bytes = es.ibytes;
			c->tx_pkts = es.opackets;
			c->tx_bytes = es.obytes;
			c->no_mbuf = es.rx_nombuf;
		}
	}
	for (q = 0; q < sp->nb_qp && !sp->is_eth; q++) {
		/* vring 2q: to the guest; 2q+1: from the guest */
		if (vmp_vnet_vq_stats_get(sp->vp, (uint16_t)(2 * q), &st) ==
		    0) {
			c->tx_pkts += st.packets;
			c->tx_bytes += st.bytes;
			c->no_buf += st.no_buf;
			c->logged += st.logged;
			add_common(c, &st);
		}
		if (vmp_vnet_vq_stats_get(sp->vp, (uint16_t)(2 * q + 1), &st) ==
		    0) {
			c->rx_pkts += st.packets;
			c->rx_bytes += st.bytes;
			c->no_mbuf += st.no_mbuf;
			add_common(c, &st);
		}
	}
	for (l = 0; l < RTE_MAX_LCORE; l++) {
		c->fwd += vmp_sw.ls[l].fwd[p];
		c->drop_full += vmp_sw.ls[l].drop_full[p];
	}
}
