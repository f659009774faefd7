/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/virtio_net.h>

#include <rte_bus_vdev.h>
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
#include "vmp_test_wait.h"

int
test_dma_open(const char *name, const char *args, unsigned int lcore)
{
	struct rte_dma_vchan_conf vc = {.direction = RTE_DMA_DIR_MEM_TO_MEM,
					.nb_desc = 1024};
	struct rte_dma_conf dc = {.nb_vchans = 1};
	int id;

	if (rte_vdev_init(name, args) < 0)
		return -1;
	id = rte_dma_get_dev_id_by_name(name);
	if (id < 0 || rte_dma_configure(id, &dc) < 0 ||
	    rte_dma_vchan_setup(id, 0, &vc) < 0)
		return -1;
#if VMP_HAS_DMA_DRIVER
	if (strncmp(name, "dma_swdma", 9) == 0 &&
	    rte_pmd_swdma_service_lcore_set((int16_t)id, lcore) < 0)
		return -1;
#else
	(void)lcore;
#endif
	return rte_dma_start(id) == 0 ? id : -1;
}

void
test_dma_close(int id, const char *name)
{
	rte_dma_stop(id);
	rte_dma_close(id);
	rte_vdev_uninit(name);
}

static void
sock_path(char *buf, size_t n, const char *tag)
{
	snprintf(buf, n, "/tmp/vmpt-%s-%d.sock", tag, getpid());
}

void
vnet_test_wait_init(struct vmp_test_wait *w, const char *what)
{
	vmp_test_wait_init(w, what, 5000);
	vmp_test_wait_add_thread(w, "vhost-events");
}

int
vnet_test_port_open(const char *tag, struct vhu_front *fr,
		    struct vmp_vnet_port **port, struct rte_mempool **mp)
{
	return vnet_test_port_open_opts(tag, fr, port, mp, 0, 0, NULL);
}

int
vnet_test_port_open_opts(const char *tag, struct vhu_front *fr,
			 struct vmp_vnet_port **port, struct rte_mempool **mp,
			 uint16_t mtu, uint64_t features,
			 const struct vhu_front_opts *o)
{
	const uint64_t f_csum = (1ULL << VIRTIO_NET_F_CSUM) |
				(1ULL << VIRTIO_NET_F_GUEST_CSUM),
		       f_tso = (1ULL << VIRTIO_NET_F_HOST_TSO4) |
			       (1ULL << VIRTIO_NET_F_HOST_TSO6) |
			       (1ULL << VIRTIO_NET_F_GUEST_TSO4) |
			       (1ULL << VIRTIO_NET_F_GUEST_TSO6);
	struct vmp_vnet_port_conf pc = {.nb_qp = 1, .mtu = mtu};
	struct vmp_vnet_port_info in = {0};
	struct vmp_test_wait w;
	char path[64];

	/* the port offers the offloads the frontend asks for */
	if (features & (f_csum | f_tso))
		pc.offloads |= VMP_VNET_OL_CSUM;
	if (features & f_tso)
		pc.offloads |= VMP_VNET_OL_TSO;
	sock_path(path, sizeof(path), tag);
	unlink(path);
	*mp = rte_pktmbuf_pool_create(tag, 4095, 256, 0,
				      RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	if (*mp == NULL) {
		printf("%s: no mempool\n", tag);
		return -1;
	}
	pc.path = path;
	pc.mp = *mp;
	*port = vmp_vnet_port_create(&pc);
	if (*port == NULL) {
		printf("%s: no port\n", tag);
		return -1;
	}
	if (vhu_front_open_opts(fr, path,
				(1ULL << VIRTIO_F_VERSION_1) |
					(1ULL << VIRTIO_NET_F_MRG_RXBUF) |
					(1ULL << 30) | features,
				o) != 0) {
		printf("%s: frontend did not connect\n", tag);
		return -1;
	}
	for (vnet_test_wait_init(&w, tag); vmp_test_wait_check(&w, 0) == 0;) {
		vmp_vnet_port_info_get(*port, &in);
		if (in.connected && in.running == 3)
			break;
		usleep(10000);
	}
	if (in.running != 3) {
		printf("%s: vrings not running\n", tag);
		return -1;
	}
	/* a polling driver, like virtio-user: no interrupts wanted */
	fr->ring[0].avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
	fr->ring[1].avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
	return 0;
}

void
vnet_test_port_close(const char *tag, struct vhu_front *fr,
		     struct vmp_vnet_port *port, struct rte_mempool *mp)
{
	char path[64];

	sock_path(path, sizeof(path), tag);
	vhu_front_close(fr);
	vmp_vnet_port_destroy(port);
	rte_mempool_free(mp);
	unlink(path);
}

int
vnet_test_mbufs(struct rte_mempool *mp, struct rte_mbuf **m, unsigned int n,
		uint16_t size)
{
	unsigned int k;

	if (rte_pktmbuf_alloc_bulk(mp, m, n) < 0)
		return -1;
	for (k = 0; k < n; k++) {
		m[k]->data_len = size;
		m[k]->pkt_len = size;
	}
	return 0;
}

/* The used index of the guest's RX (@enq) or TX vring. */
static uint16_t
used_idx(struct vhu_front *fr, bool enq)
{
	return __atomic_load_n(&fr->ring[enq ? 0 : 1].used->idx,
			       __ATOMIC_ACQUIRE);
}

uint64_t
vnet_test_call(struct vmp_vnet_port *port, struct vhu_front *fr, bool enq,
	       struct rte_mbuf **m, uint16_t n, uint16_t *took, bool *did)
{
	uint16_t u = used_idx(fr, enq), k;
	struct rte_mbuf *out[64];
	uint64_t t;

	t = rte_rdtsc();
	if (enq)
		k = vmp_vnet_enqueue_burst(port, 0, m, n);
	else
		k = vmp_vnet_dequeue_burst(port, 0, out, RTE_DIM(out));
	t = rte_rdtsc() - t;
	if (!enq && k)
		rte_pktmbuf_free_bulk(out, k);
	if (took)
		*took = k;
	*did = k || used_idx(fr, enq) != u;
	return t;
}

uint64_t
vnet_test_publish_until(struct vmp_vnet_port *port, struct vhu_front *fr,
			bool enq, uint16_t until, unsigned int *polls)
{
	unsigned int np = 0;
	uint64_t cyc = 0;

	while ((int16_t)(until - used_idx(fr, enq)) > 0) {
		bool did;
		uint64_t t = vnet_test_call(port, fr, enq, NULL, 0, NULL, &did);

		if (did) {
			cyc += t;
			np++;
		}
	}
	if (polls)
		*polls = np;
	return cyc;
}

/* Bound: @len bytes, at least one per mbuf (a 0 cut is taken as 1). */
struct rte_mbuf *
vnet_test_chain(struct rte_mempool *mp, const uint8_t *buf, uint32_t len,
		const uint16_t *cut, unsigned int ncut, uint16_t rest)
{
	struct rte_mbuf *m = NULL, *s;
	uint32_t off = 0, i;

	for (i = 0; off < len; i++) {
		uint32_t want = i < ncut ? cut[i] : rest;
		uint32_t l = RTE_MIN(want == 0 ? 1u : want, len - off);
		char *d;

		s = rte_pktmbuf_alloc(mp);
		if (s == NULL ||
		    (d = rte_pktmbuf_append(s, (uint16_t)l)) == NULL ||
		    (m != NULL && rte_pktmbuf_chain(m, s) != 0)) {
			rte_pktmbuf_free(s);
			rte_pktmbuf_free(m);
			return NULL;
		}
		memcpy(d, buf + off, l);
		off += l;
		if (m == NULL)
			m = s;
	}
	return m;
}
