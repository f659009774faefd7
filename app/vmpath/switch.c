/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The vmpath switch: vhost-user ports (lib/vnet) forwarded by an L2 MAC
 * learning table on the datapath lcores.
 *
 * Placement (switch_ctl.c): each queue pair of a port is polled (dequeue) by
 * one datapath lcore, chosen least-loaded first when the port is added.
 * Lcore k enqueues into a queue pair it polls itself, else into pair
 * k % nb_qp; when a port has fewer queue pairs than K datapath lcores, lcores
 * share those RX vrings under a spinlock (CPU copies only: a DMA channel
 * belongs to one lcore, so async ports need nb_qp >= K). Each datapath lcore
 * has its own DMA device per kind.
 *
 * The datapath reads ports only through the published view (switch.h):
 * ports come and go at run time without stopping the lcores.
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
#include <rte_rcu_qsbr.h>
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
/* Slot word: bit 63 valid, bits 48..62 port id, bits 0..47 MAC. */
#define MAC_PORT_SHIFT 48
#define MAC_PORT_MASK 0x7fffULL
#define MAC_KEY_MASK 0xffffffffffffULL
/* Port field of a flushed entry: probing goes on past it, learning reuses it */
#define MAC_TOMB MAC_PORT_MASK

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
struct vmp_vnet_dma *
__vmp_switch_dma_get(unsigned int k, enum vmp_dma_kind kind, int socket)
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
int
__vmp_switch_eth_create(struct vmp_sw_port *sp, const char *spec, int socket)
{
	struct rte_eth_conf conf;
	char buf[256], *args;
	uint16_t mtu = 0;
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
	/* mtu=N is vmpath's, not the PMD's */
	if (args != NULL && vmp_vnet_eth_devargs_mtu(args, &mtu) < 0) {
		printf("vmpath: ethdev port '%s': mtu must be %u..%u\n", spec,
		       VMP_VNET_MTU_MIN, VMP_VNET_MTU_MAX);
		return -EINVAL;
	}
	memcpy(sp->eth_name, buf, strlen(buf) + 1);
	strncpy(sp->spec.path, spec, sizeof(sp->spec.path) - 1);
	if (rte_vdev_init(buf, args) < 0) {
		printf("vmpath: cannot create ethdev port '%s'\n", spec);
		return -ENODEV;
	}
	if (rte_eth_dev_get_port_by_name(buf, &sp->eth_port) < 0) {
		rte_vdev_uninit(buf); /* a vdev, but not an ethdev */
		return -ENODEV;
	}
	rc = vmp_vnet_eth_offloads_setup(sp->eth_port, &conf, &sp->eth_ol);
	if (rc == 0 && mtu != 0)
		rc = vmp_vnet_eth_mtu_conf(sp->eth_port, &conf, mtu);
	if (rc == 0)
		rc = rte_eth_dev_configure(sp->eth_port, 1, 1, &conf);
	if (rc < 0 && conf.intr_conf.rxq) {
		conf.intr_conf.rxq = 0; /* none: its lcore sleeps bounded */
		rc = rte_eth_dev_configure(sp->eth_port, 1, 1, &conf);
	}
	if (rc == 0 && mtu != 0 &&
	    vmp_vnet_eth_mtu_set(&sp->eth_ol, mtu) < 0) {
		printf("vmpath: ethdev port '%s': MTU %u refused by its PMD\n",
		       spec, mtu);
		rte_vdev_uninit(buf);
		return -EINVAL;
	}
	if (rc < 0 ||
	    rte_eth_rx_queue_setup(sp->eth_port, 0, 512, socket, NULL,
				   sp->mp) < 0 ||
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
	return 0;
}

/* The mbuf pool, made with the first port: a vmpath without ports (yet)
 * starts without populating --mbufs buffers. */
int
__vmp_switch_pool_get(void)
{
	if (vmp_sw.mp != NULL)
		return 0;
	vmp_sw.mp = rte_pktmbuf_pool_create("vmp_switch", vmp_app.cfg.nb_mbufs,
					    256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					    vmp_sw.socket);
	if (vmp_sw.mp == NULL) {
		printf("vmpath: cannot create the mbuf pool: %s\n",
		       rte_strerror(rte_errno));
		return -ENOMEM;
	}
	return 0;
}

static int
lstats_init(void)
{
	unsigned int k;

	for (k = 0; k < vmp_sw.nb_dp; k++) {
		struct vmp_sw_lstats *ls = &vmp_sw.ls[vmp_sw.dp_lcore[k]];

		ls->fwd = rte_zmalloc_socket(
			"vmp_fwd", 2 * vmp_sw.max_ports * sizeof(uint64_t),
			RTE_CACHE_LINE_SIZE, vmp_sw.socket);
		if (ls->fwd == NULL)
			return -ENOMEM;
		ls->drop_full = ls->fwd + vmp_sw.max_ports;
	}
	return 0;
}

static int
qsbr_init(void)
{
	size_t sz = rte_rcu_qsbr_get_memsize(RTE_MAX(vmp_sw.nb_dp, 1u));
	unsigned int k;

	vmp_sw.qsbr = rte_zmalloc_socket("vmp_qsbr", sz, RTE_CACHE_LINE_SIZE,
					 vmp_sw.socket);
	if (vmp_sw.qsbr == NULL ||
	    rte_rcu_qsbr_init(vmp_sw.qsbr, RTE_MAX(vmp_sw.nb_dp, 1u)) < 0)
		return -ENOMEM;
	/* registered offline: an lcore goes online when its loop starts */
	for (k = 0; k < vmp_sw.nb_dp; k++)
		if (rte_rcu_qsbr_thread_register(vmp_sw.qsbr, k) < 0)
			return -EINVAL;
	return 0;
}

int
vmp_switch_init(void)
{
	const struct vmp_app_config *c = &vmp_app.cfg;
	unsigned int i;
	int socket =
		c->socket >= 0
			? c->socket
			: (int)rte_lcore_to_socket_id(rte_get_main_lcore());

	memset(&vmp_sw, 0, sizeof(vmp_sw));
	for (i = 0; i < RTE_MAX_LCORE; i++)
		vmp_sw.dp_index[i] = -1;
	for (i = 0; i < vmp_app.plan.nb_entries; i++) {
		const struct vmp_plan_entry *e = &vmp_app.plan.entries[i];

		if (e->role != VMP_ROLE_DATAPATH)
			continue;
		vmp_sw.dp_lcore[vmp_sw.nb_dp] = e->lcore_id;
		vmp_sw.dp_index[e->lcore_id] = (int)vmp_sw.nb_dp++;
	}
	vmp_sw.socket = socket;
	vmp_sw.max_ports = c->max_ports;
	if (c->nb_vhost + c->nb_ethdev > c->max_ports) {
		printf("vmpath: %u ports on the command line, --max-ports is "
		       "%u\n",
		       c->nb_vhost + c->nb_ethdev, c->max_ports);
		return -EINVAL;
	}
	if (c->nb_vhost + c->nb_ethdev > 0 && vmp_sw.nb_dp == 0) {
		printf("vmpath: ports need a datapath lcore\n");
		return -EINVAL;
	}
	if (vmp_sw.nb_dp == 0)
		return 0; /* no switch: port_add is refused */
	vmp_sw.mac = rte_zmalloc_socket("vmp_mac", MAC_SLOTS * sizeof(uint64_t),
					RTE_CACHE_LINE_SIZE, socket);
	vmp_sw.port = rte_zmalloc_socket("vmp_ports",
					 c->max_ports * sizeof(*vmp_sw.port),
					 RTE_CACHE_LINE_SIZE, socket);
	if (vmp_sw.mac == NULL || vmp_sw.port == NULL || lstats_init() < 0 ||
	    qsbr_init() < 0)
		return -ENOMEM;
	return __vmp_switch_view_publish(-1);
}

void
vmp_switch_fini(void)
{
	unsigned int i, k, d;

	for (i = 0; i < vmp_sw.max_ports && vmp_sw.port != NULL; i++) {
		struct vmp_sw_port *sp = vmp_sw.port[i];

		if (sp == NULL)
			continue;
		if (sp->is_eth) {
			rte_eth_dev_stop(sp->eth_port);
			rte_eth_dev_close(sp->eth_port);
			rte_vdev_uninit(sp->eth_name);
		} else if (vmp_vnet_port_destroy(sp->vp) < 0) {
			/* copies in flight: keep what they may write */
			printf("vmpath: port %u (%s) not freed: DMA copies "
			       "still in flight\n",
			       i, sp->spec.path);
			continue;
		}
		rte_free(sp);
		vmp_sw.port[i] = NULL;
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
	for (k = 0; k < RTE_MAX_LCORE; k++)
		rte_free(vmp_sw.ls[k].fwd);
	__vmp_switch_view_free(vmp_sw.view);
	rte_free(vmp_sw.port);
	rte_free(vmp_sw.qsbr);
	rte_free(vmp_sw.mac);
	vmp_sw.port = NULL;
	vmp_sw.view = NULL;
	vmp_sw.qsbr = NULL;
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
 * One 64-bit relaxed store per update: readers see an old or a new entry,
 * never a torn one; two lcores learning the same MAC at once just both write
 * it. The port id an entry names is checked against the reader's view
 * (vmp_sw_view.dst): an entry of a removed port is flushed once no lcore can
 * learn it any more (__vmp_switch_mac_flush), and until then it only floods.
 */
static void
mac_learn(uint64_t key, unsigned int port)
{
	uint64_t word = (1ULL << 63) | ((uint64_t)port << MAC_PORT_SHIFT) | key;
	uint32_t h = mac_hash(key), i;

	for (i = 0; i < MAC_PROBE; i++) {
		uint64_t *slot = &vmp_sw.mac[(h + i) & (MAC_SLOTS - 1)];
		uint64_t cur = __atomic_load_n(slot, __ATOMIC_RELAXED);

		if (cur == word)
			return;
		if (!(cur >> 63) || (cur & MAC_KEY_MASK) == key ||
		    ((cur >> MAC_PORT_SHIFT) & MAC_PORT_MASK) == MAC_TOMB) {
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
		unsigned int port =
			(unsigned int)((cur >> MAC_PORT_SHIFT) & MAC_PORT_MASK);

		if (!(cur >> 63))
			return -1;
		if (port != MAC_TOMB && (cur & MAC_KEY_MASK) == key)
			return (int)port;
	}
	return -1;
}

void
__vmp_switch_mac_add(const uint8_t mac[RTE_ETHER_ADDR_LEN], unsigned int id)
{
	uint64_t key = 0;

	memcpy(&key, mac, RTE_ETHER_ADDR_LEN);
	mac_learn(key, id);
}

/*
 * Control owner, after no datapath lcore can learn @id any more (it left
 * the view and every lcore passed a quiescent point): entries naming it
 * become tombstones. A CAS, since a lcore may rewrite the slot meanwhile
 * for another port; that entry is then current and stays.
 */
unsigned int
__vmp_switch_mac_flush(unsigned int id)
{
	const uint64_t tomb = (1ULL << 63) | (MAC_TOMB << MAC_PORT_SHIFT);
	unsigned int i, n = 0;

	for (i = 0; i < MAC_SLOTS; i++) {
		uint64_t cur =
			__atomic_load_n(&vmp_sw.mac[i], __ATOMIC_RELAXED);

		if (!(cur >> 63) ||
		    ((cur >> MAC_PORT_SHIFT) & MAC_PORT_MASK) != id)
			continue;
		if (__atomic_compare_exchange_n(&vmp_sw.mac[i], &cur, tomb,
						false, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED))
			n++;
	}
	return n;
}

/*
 * What a guest asked for (checksums, TSO) and the ethdev port does not take
 * (vmp_vnet_eth_offloads_setup()) is finished in software first; frames
 * over its MTU are dropped there (mtu_drops). Sends what it can, frees the
 * rest; returns the packets sent.
 */
static uint16_t
eth_send(struct vmp_sw_port *sp, uint16_t q, struct rte_mbuf **pkts,
	 uint16_t n)
{
	const uint64_t ol = RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_L4_MASK |
			    RTE_MBUF_F_TX_IP_CKSUM;
	struct rte_mbuf *seg[VMP_VNET_GSO_MAX_SEGS];
	uint16_t i, k, s, sent = 0;
	int r;

	/* Bound: @n packets, each sent in one run or on its own */
	for (i = 0; i < n; i = k + 1) {
		for (k = i; k < n && !(pkts[k]->ol_flags & ol) &&
			    pkts[k]->pkt_len <= sp->eth_ol.frame_max;
		     k++)
			;
		if (k > i) {
			s = rte_eth_tx_burst(sp->eth_port, q, pkts + i, k - i);
			sent += s;
			rte_pktmbuf_free_bulk(pkts + i + s, k - i - s);
		}
		if (k == n)
			break;
		r = vmp_vnet_eth_offload_finish(&sp->eth_ol, pkts[k], vmp_sw.mp,
						seg, RTE_DIM(seg));
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
send_to(unsigned int k, unsigned int o, struct vmp_sw_port *sp,
	struct rte_mbuf **pkts, uint16_t n)
{
	struct vmp_sw_lstats *ls = &vmp_sw.ls[vmp_sw.dp_lcore[k]];
	uint16_t q = sp->txq[k], sent;

	if (sp->shared_rx)
		rte_spinlock_lock(&sp->rx_lock[q]);
	/* eth_send() frees what it did not send */
	if (sp->is_eth) {
		sent = eth_send(sp, q, pkts, n);
	} else {
		/* a host's segments into TSO frames for a guest taking them:
		 * counted from here on as the frames they became */
		n = vmp_vnet_gro_burst(sp->vp, pkts, n);
		sent = vmp_vnet_enqueue_burst(sp->vp, q, pkts, n);
	}
	if (sp->shared_rx)
		rte_spinlock_unlock(&sp->rx_lock[q]);
	ls->fwd[o] += sent;
	if (sent < n) {
		ls->drop_full[o] += n - sent;
		if (!sp->is_eth)
			rte_pktmbuf_free_bulk(pkts + sent, n - sent);
	}
}

/* Flooded packets: to every destination of @v but @in. */
static void
flood(unsigned int k, const struct vmp_sw_view *v, unsigned int in,
      struct rte_mbuf **pkts, uint16_t n)
{
	unsigned int i, j, nb_out = v->nb_dst - (v->dst[in] != NULL);
	struct rte_mbuf *copy[BURST];

	if (nb_out == 0) {
		rte_pktmbuf_free_bulk(pkts, n);
		return;
	}
	/* every segment: each destination frees the whole chain */
	for (i = 0; i < n; i++)
		rte_pktmbuf_refcnt_update(pkts[i], (int16_t)(nb_out - 1));
	for (j = 0; j < v->nb_dst; j++) {
		unsigned int o = v->dst_id[j];

		if (o == in)
			continue;
		/* a destination may keep or reorder what it was given */
		memcpy(copy, pkts, n * sizeof(*pkts));
		send_to(k, o, v->dst[o], copy, n);
	}
}

static void
forward(unsigned int k, const struct vmp_sw_view *v, unsigned int in,
	struct rte_mbuf **pkts, uint16_t n)
{
	struct rte_mbuf *out[BURST][BURST], *fl[BURST];
	uint16_t cnt[BURST], oid[BURST], nb_o = 0, nb_fl = 0;
	struct vmp_sw_lstats *ls = &vmp_sw.ls[vmp_sw.dp_lcore[k]];
	unsigned int i, j;

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
		/* per-slot check: a port this view does not have floods */
		if (dst >= 0 && (unsigned int)dst < vmp_sw.max_ports &&
		    v->dst[dst] != NULL) {
			if ((unsigned int)dst == in) {
				ls->drop_hairpin++;
				rte_pktmbuf_free(m);
				continue;
			}
			for (j = 0; j < nb_o && oid[j] != dst; j++)
				;
			if (j == nb_o) {
				oid[nb_o++] = (uint16_t)dst;
				cnt[j] = 0;
			}
			out[j][cnt[j]++] = m;
			continue;
		}
		/* Unknown or multicast: flood to every other port. */
		ls->flood++;
		fl[nb_fl++] = m;
	}
	for (j = 0; j < nb_o; j++)
		send_to(k, oid[j], v->dst[oid[j]], out[j], cnt[j]);
	if (nb_fl)
		flood(k, v, in, fl, nb_fl);
}

void
vmp_switch_online(unsigned int lcore)
{
	int k = vmp_sw.dp_index[lcore];

	if (k >= 0 && vmp_sw.qsbr != NULL)
		rte_rcu_qsbr_thread_online(vmp_sw.qsbr, (unsigned int)k);
}

void
vmp_switch_offline(unsigned int lcore)
{
	int k = vmp_sw.dp_index[lcore];

	if (k >= 0 && vmp_sw.qsbr != NULL)
		rte_rcu_qsbr_thread_offline(vmp_sw.qsbr, (unsigned int)k);
}

void
vmp_switch_quiescent(unsigned int lcore)
{
	int k = vmp_sw.dp_index[lcore];

	/* Q1: this lcore holds no pointer of a view read before here */
	if (k >= 0 && vmp_sw.qsbr != NULL)
		rte_rcu_qsbr_quiescent(vmp_sw.qsbr, (unsigned int)k);
}

unsigned int
vmp_switch_poll(unsigned int lcore)
{
	struct rte_mbuf *pkts[BURST];
	const struct vmp_sw_view *v;
	unsigned int i, work = 0;
	int k = vmp_sw.dp_index[lcore];

	if (k < 0)
		return 0;
	/* Acquire: pairs with the control owner's store-release in
	 * __vmp_switch_view_publish(): the view's contents and the ports it
	 * names are initialised. Held until this lcore's next Q1. */
	v = __atomic_load_n(&vmp_sw.view, __ATOMIC_ACQUIRE);
	for (i = 0; i < v->nb_poll[k]; i++) {
		const struct vmp_sw_poll *pl = &v->poll[k][i];
		struct vmp_sw_port *sp = pl->sp;
		uint16_t n, q = pl->qp;

		if (sp->is_eth)
			n = rte_eth_rx_burst(sp->eth_port, q, pkts, BURST);
		else
			n = vmp_vnet_dequeue_burst(sp->vp, q, pkts, BURST);
		if (n) {
			forward((unsigned int)k, v, pl->port, pkts, n);
			work += n;
		}
		if (sp->is_eth)
			continue;
		/* Publish RX copies that landed since, retry a guest
		 * notification that could not be sent. */
		if (sp->shared_rx)
			rte_spinlock_lock(&sp->rx_lock[q]);
		vmp_vnet_enqueue_burst(sp->vp, q, NULL, 0);
		if (sp->shared_rx)
			rte_spinlock_unlock(&sp->rx_lock[q]);
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
	struct vmp_sw_port *sp = vmp_switch_port(p);
	struct vmp_vnet_vq_stats st;
	unsigned int q, l;

	memset(c, 0, sizeof(*c));
	if (sp == NULL)
		return;
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
	for (l = 0; l < vmp_sw.nb_dp; l++) {
		c->fwd += vmp_sw.ls[vmp_sw.dp_lcore[l]].fwd[p];
		c->drop_full += vmp_sw.ls[vmp_sw.dp_lcore[l]].drop_full[p];
	}
}
