/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VNET_PVT_H
#define VNET_PVT_H

/* Internals of lib/vnet: not for use outside lib/vnet. */

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include <rte_common.h>
#include <rte_dmadev.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>
#include <rte_per_lcore.h>
#include <rte_prefetch.h>
#include <rte_vhost.h>

#include "vmp_vnet.h"

extern int vmp_vnet_logtype;
#define VNET_LOG(level, fmt, ...)                                              \
	rte_log(RTE_LOG_##level, vmp_vnet_logtype, "vnet: " fmt "\n",          \
		##__VA_ARGS__)

#define VNET_NB_VRINGS (2 * VMP_VNET_MAX_QP)
#define VNET_MAX_SEGS 32 /* guest segments of one chain (after splits) */
#define VNET_MAX_BUFS 64 /* mergeable buffers per RX packet */
#define VNET_MAX_TX_PKT (64 * 1024 + 64) /* biggest guest TX packet */
#define VNET_INFL 512	   /* in-flight packet records per vring */
#define VNET_USHADOW 2048  /* used elements of in-flight records */
#define VNET_LOGR 4096	   /* payload log ranges of in-flight records */
#define VNET_HDR_MRG 12	   /* struct virtio_net_hdr_mrg_rxbuf */
#define VNET_HDR_LEGACY 10 /* struct virtio_net_hdr */

/*
 * Vring state word, the datapath / control handshake:
 *
 *   OFF --ctl start--> ON --datapath enter--> BUSY --datapath exit--> ON
 *   ON --ctl park, nothing in flight (or light park)--> OFF
 *   ON or OFF --ctl draining park, copies in flight--> STOP
 *   STOP --datapath enter--> DRAIN --one pass: poll the channel, publish
 *        what landed--> OFF if nothing is left in flight, else STOP
 *   STOP --ctl: not OFF after VNET_DRAIN_MS--> HUNG (vq->broken set)
 *   HUNG --datapath enter--> DRAIN --one pass: poll the channel, drop what
 *        landed, ring untouched--> OFF if nothing is left, else HUNG
 *   BUSY --datapath finds the ring inconsistent--> OFF (vq->broken set)
 *
 * Only the lcore that polls the vring (and owns its DMA channel) polls the
 * channel: a draining park is a request (->STOP) that lcore carries out on
 * its next entry; the ctl only waits, bounded by time, and never spins on
 * the datapath's behalf. A wait that times out leaves the vring HUNG: its
 * records, their mbufs and the guest memory their copies use stay owned
 * (never freed, never reused: vnet_mem.c), the vring never restarts
 * (broken) and the caller refuses (-EBUSY). Its ring may be unmapped or
 * moved by then, so HUNG records are dropped, never published. With no
 * lcore polling at all, a draining park with copies in flight times out.
 *
 * The datapath enters with CAS ON->BUSY or STOP/HUNG->DRAIN (acquire: pairs
 * with the ctl's store-release of ON after it filled the ring fields, and
 * with its CAS to STOP/HUNG) and leaves with a store-release (pairs with
 * the ctl's acquire load in park, so the ctl sees every index the datapath
 * wrote). The ctl only touches the ring fields in OFF.
 */
enum {
	VQ_OFF = 0,
	VQ_ON,
	VQ_BUSY,
	VQ_STOP,
	VQ_DRAIN,
	VQ_HUNG,
};

static_assert(VNET_MAX_SEGS == VMP_VNET_CHAIN_SEGS, "the documented limit");
/* How long the ctl waits for a draining park to reach OFF. */
#define VNET_DRAIN_MS 1000

/* Same layout as struct vring_used_elem (publication copies runs of them
 * into the used ring). */
struct vnet_used_elem {
	uint32_t id;
	uint32_t len;
};
static_assert(sizeof(struct vnet_used_elem) == sizeof(struct vring_used_elem),
	      "used element layout");

struct vnet_log_range {
	uint64_t gpa;
	uint64_t len;
};

/*
 * One packet in flight, in guest order. Life cycle:
 *   submitted (ndma = its copies on the DMA channel, the last of them the
 *   channel's copy number seq - 1) -> landed (no copies, or the channel's
 *   head reached seq: the channel completes in order) -> published (used
 *   elems written, payload logged, mbuf freed or returned).
 * Written only by the lcore that polls the vring (and its DMA channel).
 * Its used elements and log ranges are the next nb_used of vq->ushadow and
 * nb_log of vq->logr: records are opened, filled and published in order,
 * so at publication they start at us_head and lr_head.
 */
struct vnet_pkt {
	struct rte_mbuf *m; /* RX: freed at publish; TX: returned; NULL: drop */
	/* Not NULL: the record's one copy was submitted without a tag (the
	 * common packet): it moves m's one segment, data_len bytes, from (TX)
	 * or to (RX) this guest address, which is all a redo needs. */
	uint8_t *gbuf;
	uint16_t nb_used;
	uint16_t nb_log;
	uint16_t ndma; /* copies submitted to vq->dma */
	uint32_t seq;  /* vq->dma->tail after the last of them */
};

struct vnet_seg {
	uint8_t *hva;
	uint64_t gpa;
	uint32_t len;
};

/* A guest descriptor chain, validated and translated. */
struct vnet_chain {
	uint16_t head;
	uint16_t nb_seg;
	uint32_t total;
	struct vnet_seg seg[VNET_MAX_SEGS];
};

struct vmp_vnet_port;

struct vnet_vq {
	uint32_t state; /* VQ_*: see above */
	bool rx;	/* guest RX vring (host enqueues) */
	bool broken;
	bool call_pending;
	uint16_t index; /* vring index */
	struct vmp_vnet_port *port;

	/* Ring: valid in every state but OFF. */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t size;
	uint16_t last_avail; /* heads consumed */
	uint16_t last_used;  /* used elems published */

	/* Descriptors read by full chain walks in the current call, charged
	 * against VMP_VNET_BURST_DESC; added to st.desc_walked at its end. */
	uint32_t burst_desc;
	/* RX: bad chains returned in the current call, charged against
	 * VMP_VNET_BURST_DROPS. */
	uint32_t burst_drops;
	/*
	 * RX: the buffers from last_avail on, up to avail->idx, were walked
	 * and hold only nofit_cap bytes (nofit_full: as many buffers as one
	 * packet may take, else all the guest offered). A bigger packet is not
	 * offered to them again while last_avail and avail->idx stay
	 * nofit_start and nofit_avail. Cleared when the vring (re)starts.
	 */
	bool nofit;
	bool nofit_full;
	uint16_t nofit_start, nofit_avail;
	uint64_t nofit_cap;

	struct vmp_vnet_dma *dma;
	uint16_t dma_user; /* its slot in dma->user[] */
	uint64_t polls;	   /* datapath entries: the ctl sees if anyone polls */

	/* In-flight packets (FIFO), their used elems and log ranges. */
	uint32_t pk_head, pk_tail;
	uint32_t us_head, us_tail;
	uint32_t lr_head, lr_tail;
	struct vnet_pkt *pkts;
	struct vnet_used_elem *ushadow;
	struct vnet_log_range *logr;
	/* TX packets that landed while parking, returned by the next dequeue */
	struct rte_mbuf **stash;
	uint32_t stash_n;

	struct vmp_vnet_vq_stats st;

	/* Halting lcore (vnet_idle.c). waker: set while no lcore polls the
	 * vring. kick_new: the ctl's hand-over of the guest's kick eventfd
	 * (a dup, VNET_KICK_NONE, or VNET_KICK_SAME: nothing new), taken
	 * with xchg by the waker's lcore, which alone owns kick_fd. */
	struct vmp_vnet_waker *waker;
	int kick_new;
	int kick_fd;
	bool armed; /* kicks asked for by the waker's lcore (N1) */

	/* VIRTIO_RING_F_EVENT_IDX (vnet_evidx.c), written by the polling
	 * lcore: used->idx at the last call decision (ev_valid: one was taken
	 * since the vring started). call_fd: our dup of the guest's call
	 * eventfd, replaced at a vring start and closed when the connection
	 * goes, both after a park (no lcore calls then). */
	uint16_t ev_old;
	bool ev_valid;
	int call_fd;
} __rte_cache_aligned;

/*
 * One frontend connection on a port's socket (rte_vhost gives each its own
 * vid). Two at once is normal: a live migration's source and destination.
 * Written by the vhost-user thread only. A connection's rings are polled
 * only while it is the port's active one (port->active); the others wait
 * and keep their own state, which no other connection's messages touch.
 *
 *   free --new_connection--> open --new_device--> running
 *   running --becomes active (no other active)--> polled
 *   polled --destroy_device--> open, and the next running one is polled
 *   any --destroy_connection--> free
 */
struct vnet_conn {
	int vid;      /* -1: slot free */
	bool mem_ok;  /* rte_vhost holds a memory table for this vid */
	bool running; /* new_device seen, destroy_device not yet */
	bool enabled[VNET_NB_VRINGS];
};

struct vmp_vnet_port {
	TAILQ_ENTRY(vmp_vnet_port) next;
	char path[108];
	bool client;
	uint16_t nb_qp;
	int socket_id;
	struct rte_mempool *mp;
	uint64_t offered;

	struct vnet_conn conn[VMP_VNET_MAX_CONN];
	int active; /* conn[] whose rings are polled, -1: none */

	/* Guest memory mappings of our own (vnet_mem.c): the current table
	 * (mem is its translated copy) and older ones copies may still use. */
	struct vnet_memhold *hold;
	TAILQ_HEAD(, vnet_memhold) retired;
	/* vmp_vnet_port_destroy began: no vring restarts (release by the
	 * app thread, acquire by resume on the vhost thread) */
	bool closing;
	bool unregistered;    /* rte_vhost let go of the socket */
	bool destroy_refused; /* logged once */

	/* Set by the control thread while every vring is OFF: the active
	 * connection's vid (-1: none) and what the datapath reads of it. */
	int vid;
	bool running; /* the active connection is running */
	uint16_t nb_vrings;
	uint64_t features;
	uint16_t hdr_len;
	bool mrg;
	/* longest frame into the guest: mtu + Ethernet header + VLAN tag */
	uint32_t max_frame;
	uint16_t mtu;
	uint16_t guest_mtu; /* NET_SET_MTU of the frontend, 0: none */
	struct rte_vhost_memory *mem;
	uint64_t connects;
	uint64_t accepted; /* written by the vhost-user thread, atomic */

	/* Read by the datapath at publication time: logging decided then. */
	volatile bool log_on;

	vmp_vnet_pin_cb_t pin_cb;
	void *pin_arg;

	/* Migration (vnet_rarp.c has the RARP handshake): the MAC to
	 * announce and frames asked (vhost thread) / built (lcore polling
	 * queue pair 0); copies in flight when a draining park began
	 * (control thread). */
	uint8_t rarp_mac[6];
	uint32_t rarp_req, rarp_done;
	uint64_t rarp_sent;
	bool stopping; /* a draining park for a device stop runs */
	uint64_t drained;

	struct vnet_vq vq[VNET_NB_VRINGS];
};

/*
 * A DMA vchan and, per copy in submission order, what to do if the engine
 * fails it (redo on the CPU) and whom to tell when it lands (the pin
 * callback). rte_dma completes a vchan's copies in order, so `head` (copies
 * retired) is all a record needs to know it landed: see struct vnet_pkt.
 * One polling lcore per channel.
 *
 * The common packet's one copy gets no tag (four stores less per packet):
 * its record says what to redo (vnet_pkt.gbuf). A failed copy is matched
 * to its record through the channel's users (a record's copies are
 * consecutive on the channel: [seq - ndma, seq)); only a copy of another
 * record (or a pinned one) has a tag to read.
 */
struct vnet_dma_tag {
	struct vnet_vq *vq; /* for its stats and its port's pin callback */
	uintptr_t src, dst; /* virtual addresses: redo on the CPU on error */
	uint64_t len;
};
static_assert(sizeof(struct vnet_dma_tag) == 32, "two tags per cache line");
#define VNET_DMA_MAX_USERS 256 /* vrings on one channel */

struct vmp_vnet_dma {
	int16_t dma_id;
	uint16_t vchan;
	uint32_t threshold;
	uint32_t users;
	uint32_t mask;
	uint32_t head, tail; /* copies: tail = submitted, head = retired */
	uint32_t kicked;     /* tail at the last rte_dma_submit() */
	uint32_t pinned;     /* tags in flight with a pin_gpa */
	struct vnet_dma_tag *tags;
	/* per tag: the guest address reported pinned, 0 if none; written
	 * only when pinning, cleared when the copy retires */
	uint64_t *pin_gpa;
	/* the vrings using the channel (a slot changes only while its vring
	 * has no copy in flight), searched when a copy failed */
	struct vnet_vq *user[VNET_DMA_MAX_USERS];
};

/*
 * Host address of guest physical @gpa, and *@len cut to what is contiguous
 * there (the rest of its region); NULL if no region holds @gpa.
 */
static inline void *
__vmp_vnet_gpa_to_hva(const struct rte_vhost_memory *mem, uint64_t gpa,
		      uint64_t *len)
{
	uint32_t i;

	for (i = 0; i < mem->nregions; i++) {
		const struct rte_vhost_mem_region *r = &mem->regions[i];
		uint64_t off = gpa - r->guest_phys_addr;

		/* unsigned: gpa below the region wraps to a huge offset */
		if (off < r->size) {
			if (*len > r->size - off)
				*len = r->size - off;
			return (void *)(uintptr_t)(r->host_user_addr + off);
		}
	}
	return NULL;
}

/*
 * vnet_offload.c. A guest TX packet's virtio-net header (its first
 * VNET_HDR_LEGACY bytes: num_buffers means nothing on TX) is copied once, at
 * dequeue, into the headroom just before the mbuf's data, and read from
 * there once the packet landed (__vmp_vnet_tx_offload()).
 */
static inline void *
vnet_tx_hdr_stash(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod_offset(m, uint8_t *, -VNET_HDR_LEGACY);
}
static_assert(RTE_PKTMBUF_HEADROOM >= VNET_HDR_LEGACY, "stash room");
/* Is the guest allowed to send offload requests (VIRTIO_NET_F_CSUM)? */
static inline bool
vnet_tx_ol(const struct vmp_vnet_port *port)
{
	return !!(port->features & (1ULL << VIRTIO_NET_F_CSUM));
}
/* Turn the stashed headers of @pkts into mbuf requests; drops (frees and
 * counts) the bad ones. Returns how many are left, in order. */
uint16_t __vmp_vnet_tx_offload(struct vnet_vq *vq, struct rte_mbuf **pkts,
			       uint16_t n);
/* The offloads (RTE_ETH_TX_OFFLOAD_*, for txmode) vmpath enables on an
 * ethdev whose PMD @driver has @tx_capa and MTU @mtu (0: unknown), and
 * what @ol then takes (caps, tso_frame_max, even_chains; nothing else
 * touched). */
uint64_t __vmp_vnet_eth_caps_decide(uint64_t tx_capa, const char *driver,
				    uint16_t mtu, struct vmp_vnet_eth_ol *ol);
/* VMP_VNET_CAP_* the ethdev of @ol takes of the frame @m: a TSO frame
 * whose segments its PMD would refuse, or a chain it would sum wrongly,
 * gets less. */
uint32_t __vmp_vnet_eth_frame_caps(const struct vmp_vnet_eth_ol *ol,
				   const struct rte_mbuf *m);
/* vnet_gro.c: runs of segments in @pkts merged into TSO frames for a
 * destination that takes @caps, of frames up to @max_frame bytes (its
 * MTU); returns the packets left in @pkts. */
uint16_t __vmp_vnet_gro_merge(struct rte_mbuf **pkts, uint16_t n,
			      uint32_t caps, uint32_t max_frame);
/* Where a packet's headers are; all in the mbuf's first segment. */
struct vnet_l34 {
	uint16_t l2, l3, l4;
	uint8_t proto;
	bool v6;
	uint32_t end; /* end of the IP packet (padding excluded) */
};
/* Ethernet, one optional VLAN tag, IPv4 (no fragment) or IPv6 (L4 the first
 * next header), TCP or UDP, all in the first segment and inside the IP
 * packet: 0 and @h filled, or -1 (vnet_offload.c; guest headers and GRO). */
int __vmp_vnet_parse_headers(const struct rte_mbuf *m, struct vnet_l34 *h);
/* VMP_VNET_CAP_* the port's guest negotiated for its RX. */
uint32_t __vmp_vnet_rx_caps(const struct vmp_vnet_port *port);
/* The offload fields of the guest RX header for what @m still asks for. */
void __vmp_vnet_rx_hdr_fill(struct vnet_vq *vq, const struct rte_mbuf *m,
			    uint8_t *hdr);
/* Virtio features offered for VMP_VNET_OL_* @ol; UINT64_MAX: not a valid
 * set. */
uint64_t __vmp_vnet_offload_features(uint32_t ol);
/* Raw (unfolded, uncomplemented) ones' complement sum of @len bytes of the
 * chain @m from offset @off, fewer if the chain ends first; right for mbufs
 * of odd lengths, unlike DPDK 22.11's rte_raw_cksum_mbuf() (vnet_gso.c). */
uint32_t __vmp_vnet_chain_sum(const struct rte_mbuf *m, uint32_t off,
			      uint32_t len);
#define VNET_OL_FLAGS                                                          \
	(RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_IP_CKSUM)

/*
 * Guest RX: may @m go to this guest with VIRTIO_NET_HDR_F_DATA_VALID? Only
 * if its PMD checked the L4 checksum and found it GOOD, and the guest
 * negotiated GUEST_CSUM (virtio 1.2, 5.1.6.4: without it the device must
 * leave flags 0); the guest then skips summing the payload. BAD, UNKNOWN
 * and NONE (the field in the data is not the sum) go as before: the guest
 * checks them. Frames a guest sent never carry RX flags (their mbufs were
 * reset at allocation), so only an ethdev's verdict reaches a guest.
 */
static inline bool
vnet_rx_data_valid(const struct vmp_vnet_port *port, const struct rte_mbuf *m)
{
	return (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) ==
		       RTE_MBUF_F_RX_L4_CKSUM_GOOD &&
	       (port->features & (1ULL << VIRTIO_NET_F_GUEST_CSUM));
}


/* vnet_ring.c */
enum {
	VNET_WALK_BAD = -1,   /* breaks the virtio rules: bad_chain */
	VNET_WALK_LIMIT = -2, /* valid but over a device limit: over_limit */
	VNET_WALK_MAX = -3,   /* reached the caller's @max_desc first */
};
int __vmp_vnet_chain_walk(struct vnet_vq *vq, uint16_t head, bool writable,
			  uint32_t max_desc, struct vnet_chain *c);

/*
 * The common chain: @head is one direct descriptor (no NEXT, no INDIRECT),
 * non-empty, of the right direction, inside one memory region. Its fields
 * are read once into locals and checked here. Returns its host address with
 * *@gpa and *@len set, or NULL for anything else: the caller then takes the
 * full walk, which reads and checks everything again by itself.
 * @head must be < vq->size.
 */
static inline uint8_t *
vnet_desc_one(const struct vnet_vq *vq, uint16_t head, bool writable,
	      uint64_t *gpa, uint32_t *len)
{
	const volatile struct vring_desc *d = &vq->desc[head];
	uint64_t addr = d->addr, l;
	uint32_t n = d->len;
	uint16_t flags = d->flags;
	uint8_t *hva;

	if (unlikely((flags & (VRING_DESC_F_NEXT | VRING_DESC_F_INDIRECT)) ||
		     !!(flags & VRING_DESC_F_WRITE) != writable || n == 0))
		return NULL;
	l = n;
	hva = __vmp_vnet_gpa_to_hva(vq->port->mem, addr, &l);
	if (unlikely(hva == NULL || l != n))
		return NULL;
	*gpa = addr;
	*len = n;
	return hva;
}

/* __vmp_vnet_chain_walk() with the common chain (vnet_desc_one()) inline.
 * @max_desc >= 1. */
static inline int
vnet_chain_walk(struct vnet_vq *vq, uint16_t head, bool writable,
		uint32_t max_desc, struct vnet_chain *c)
{
	uint64_t gpa;
	uint32_t len;
	uint8_t *hva = vnet_desc_one(vq, head, writable, &gpa, &len);

	if (unlikely(hva == NULL))
		return __vmp_vnet_chain_walk(vq, head, writable, max_desc, c);
	vq->burst_desc++;
	c->head = head;
	c->nb_seg = 1;
	c->total = len;
	c->seg[0].hva = hva;
	c->seg[0].gpa = gpa;
	c->seg[0].len = len;
	return 0;
}

bool __vmp_vnet_vq_enter(struct vnet_vq *vq);
void __vmp_vnet_vq_exit(struct vnet_vq *vq);
void __vmp_vnet_vq_mark_broken(struct vnet_vq *vq, const char *why,
			       unsigned int v);
uint16_t __vmp_vnet_publish(struct vnet_vq *vq, struct rte_mbuf **out,
			    uint16_t n);
void __vmp_vnet_notify(struct vnet_vq *vq);
void __vmp_vnet_drain(struct vnet_vq *vq, bool publish);
void __vmp_vnet_pkt_drop(struct vnet_vq *vq, uint16_t head);

/* Return the chain at @head unused after its walk failed with @rc. */
static inline void
vnet_chain_drop(struct vnet_vq *vq, uint16_t head, int rc)
{
	__vmp_vnet_pkt_drop(vq, head);
	if (rc == VNET_WALK_LIMIT)
		vq->st.over_limit++;
}

static inline uint32_t
vnet_infl_count(const struct vnet_vq *vq)
{
	return vq->pk_tail - vq->pk_head;
}

/*
 * Load-acquire of avail->idx (pairs with the guest's write barrier before it
 * stores avail->idx, so the ring entries below it are visible). An index that
 * moved by more than the ring size (backwards or garbage) breaks the vring:
 * returns false.
 */
static inline bool
vnet_avail_load(struct vnet_vq *vq, uint16_t *avail_idx)
{
	uint16_t a = __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE);

	if ((uint16_t)(a - vq->last_avail) > vq->size) {
		__vmp_vnet_vq_mark_broken(vq, "avail index moved by",
					  (uint16_t)(a - vq->last_avail));
		return false;
	}
	*avail_idx = a;
	return true;
}

/*
 * Prefetch hint only: the avail entry @idx and its descriptor are read here
 * unchecked except for bounds, so that the cache misses on the lines the
 * guest last wrote overlap instead of being taken one after the other while
 * each packet is placed. Nothing read here is used: the chain walk reads and
 * validates everything again.
 */
static inline void
vnet_prefetch_desc(const struct vnet_vq *vq, uint16_t idx)
{
	uint16_t head = vq->avail->ring[idx & (vq->size - 1)];

	if (head < vq->size)
		rte_prefetch0((const void *)&vq->desc[head]);
}

/* Append a used element to the shadow (of the newest record). */
static inline void
vnet_used_push(struct vnet_vq *vq, uint16_t id, uint32_t len)
{
	struct vnet_used_elem *u =
		&vq->ushadow[vq->us_tail & (VNET_USHADOW - 1)];

	u->id = id;
	u->len = len;
	vq->us_tail++;
}

/* Start the record of the next packet (owning @m); returns its index. */
static inline uint32_t
vnet_pkt_open(struct vnet_vq *vq, struct rte_mbuf *m)
{
	uint32_t rec = vq->pk_tail;
	struct vnet_pkt *p = &vq->pkts[rec & (VNET_INFL - 1)];

	p->m = m;
	p->gbuf = NULL;
	p->ndma = 0;
	p->nb_log = 0;
	return rec;
}

/*
 * Small CPU copies of a burst are deferred and run back to back once every
 * packet of the burst is placed, before anything is published: the placing
 * loop is bound by loads of lines the guest wrote (avail entries,
 * descriptors), the copies by the guest's buffer lines, and kept apart the
 * two kinds of misses overlap instead of stalling each other (DPDK's builtin
 * datapath batches small copies as well). Bigger copies are done at once.
 * One queue per lcore: vnet_cpu_flush() before the lcore publishes anything.
 */
#define VNET_CPU_BATCH 256
#define VNET_CPU_BATCH_MAX_LEN 256

struct vnet_cpu_batch {
	unsigned int n;
	struct {
		void *dst;
		const void *src;
		uint32_t len;
	} e[VNET_CPU_BATCH];
};

RTE_DECLARE_PER_LCORE(struct vnet_cpu_batch, vnet_cpu_batch);

void __vmp_vnet_cpu_flush(struct vnet_cpu_batch *b);

static inline void
vnet_cpu_flush(void)
{
	struct vnet_cpu_batch *b = &RTE_PER_LCORE(vnet_cpu_batch);

	if (b->n)
		__vmp_vnet_cpu_flush(b);
}

/* Copy @len bytes now, or (small) by the next vnet_cpu_flush(). @src must
 * stay valid until then. */
static inline void
vnet_cpu_copy(void *dst, const void *src, uint32_t len)
{
	struct vnet_cpu_batch *b = &RTE_PER_LCORE(vnet_cpu_batch);

	if (len > VNET_CPU_BATCH_MAX_LEN) {
		rte_memcpy(dst, src, len);
		return;
	}
	if (b->n == VNET_CPU_BATCH)
		__vmp_vnet_cpu_flush(b);
	b->e[b->n].dst = dst;
	b->e[b->n].src = src;
	b->e[b->n].len = len;
	b->n++;
}

/* Submit one copy to the engine; 1 if it took it (record @pkt now waits for
 * it; its tag, or with @gbuf the record, says what to redo on the CPU if
 * the engine fails it), 0 if it was full (the caller copies on the CPU).
 * @gbuf: not NULL for the one copy of a common packet (see vnet_pkt.gbuf).
 * Inline: one per packet. */
static inline int
__vmp_vnet_copy_dma(struct vnet_vq *vq, uint32_t pkt, void *dst,
		    rte_iova_t dst_iova, const void *src, rte_iova_t src_iova,
		    uint32_t len, uint64_t pin_gpa, uint8_t *gbuf)
{
	struct vmp_vnet_dma *d = vq->dma;
	struct vmp_vnet_port *port = vq->port;
	struct vnet_pkt *p = &vq->pkts[pkt & (VNET_INFL - 1)];
	uint32_t i = d->tail & d->mask;
	struct vnet_dma_tag *t = &d->tags[i];

	if (d->tail - d->head > d->mask ||
	    rte_dma_copy(d->dma_id, d->vchan, src_iova, dst_iova, len, 0) < 0) {
		vq->st.dma_full++;
		return 0;
	}
	if (unlikely(pin_gpa != 0 && port->pin_cb != NULL)) {
		/* a pinned copy is tagged: its release reads the tag */
		d->pin_gpa[i] = pin_gpa;
		d->pinned++;
		port->pin_cb(port->pin_arg, port->vid, pin_gpa, len, true);
		gbuf = NULL;
	}
	if (gbuf != NULL) {
		p->gbuf = gbuf;
	} else {
		t->vq = vq;
		t->src = (uintptr_t)src;
		t->dst = (uintptr_t)dst;
		t->len = len;
	}
	d->tail++;
	p->ndma++;
	p->seq = d->tail;
	vq->st.dma_copies++;
	return 1;
}

/* Record @p landed: all its copies (if any) retired. */
static inline bool
vnet_pkt_landed(const struct vnet_vq *vq, const struct vnet_pkt *p)
{
	return p->ndma == 0 || (int32_t)(vq->dma->head - p->seq) >= 0;
}

/*
 * Copy @len bytes: on the engine if the queue has one, the copy is big enough
 * and the engine accepts it, else on this CPU (small ones deferred to the
 * next vnet_cpu_flush()). @src_iova RTE_BAD_IOVA: @src is a transient buffer
 * (e.g. a header on the stack), copied on the CPU at once. @gbuf: see
 * __vmp_vnet_copy_dma(). Inline: most copies of small packets never leave
 * this function. Returns 1 if submitted to the engine.
 */
static inline int
vnet_copy(struct vnet_vq *vq, uint32_t pkt, void *dst, rte_iova_t dst_iova,
	  const void *src, rte_iova_t src_iova, uint32_t len, uint64_t pin_gpa,
	  uint8_t *gbuf)
{
	const struct vmp_vnet_dma *d = vq->dma;

	if (d != NULL && len >= d->threshold && src_iova != RTE_BAD_IOVA &&
	    __vmp_vnet_copy_dma(vq, pkt, dst, dst_iova, src, src_iova, len,
				pin_gpa, gbuf))
		return 1;
	if (src_iova == RTE_BAD_IOVA)
		rte_memcpy(dst, src, len);
	else
		vnet_cpu_copy(dst, src, len);
	vq->st.cpu_copies++;
	return 0;
}
void __vmp_vnet_dma_kick(struct vmp_vnet_dma *dma);
unsigned int __vmp_vnet_dma_poll(struct vmp_vnet_dma *dma);
int __vmp_vnet_dma_attach(struct vnet_vq *vq, struct vmp_vnet_dma *dma);
void __vmp_vnet_dma_detach(struct vnet_vq *vq);

/* vnet_rarp.c: VHOST_USER_SEND_RARP */
void __vmp_vnet_rarp_request(struct vmp_vnet_port *port, const void *msg);
uint16_t __vmp_vnet_rarp_put(struct vmp_vnet_port *port, struct rte_mbuf **pkts,
			     uint16_t n);

/* A RARP frame is owed (read by the lcore polling queue pair 0). */
static inline bool
vnet_rarp_pending(const struct vmp_vnet_port *port)
{
	return __atomic_load_n(&port->rarp_req, __ATOMIC_RELAXED) !=
	       port->rarp_done;
}

/* vnet_idle.c: halting lcores (see there) */
#define VNET_KICK_SAME (-1) /* kick_new: no new kick fd */
#define VNET_KICK_NONE (-2) /* kick_new: the vring has no kick fd now */
void __vmp_vnet_idle_kickfd_set(struct vnet_vq *vq, int fd);
void __vmp_vnet_idle_ctl_wake(struct vnet_vq *vq);
void __vmp_vnet_idle_vq_init(struct vnet_vq *vq);
void __vmp_vnet_idle_vq_fini(struct vnet_vq *vq);

/* vnet_evidx.c: VIRTIO_RING_F_EVENT_IDX (virtio 1.x 2.7.7.2, 2.7.10) */
static inline bool
vnet_evidx(const struct vmp_vnet_port *port)
{
	return !!(port->features & (1ULL << VIRTIO_RING_F_EVENT_IDX));
}

/* Bytes each ring has after its elements: used_event after avail->ring[],
 * avail_event after used->ring[]. */
static inline uint64_t
vnet_ring_ev_bytes(const struct vmp_vnet_port *port)
{
	return vnet_evidx(port) ? sizeof(uint16_t) : 0;
}

/*
 * The other side asked to be notified when the index passes @event: moving
 * an index from @old to @new (16-bit, wrapping) crosses it iff @event is in
 * [@old, @new) modulo 2^16. Moves of 2^16 or more cannot be told apart from
 * shorter ones: the caller decides at least once per ring's worth.
 */
static inline bool
vnet_need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

/* used_event: avail->ring[size], written by the guest. */
static inline uint16_t *
vnet_used_event(const struct vnet_vq *vq)
{
	return &vq->avail->ring[vq->size];
}

/* avail_event: after used->ring[size], written by us. */
static inline uint16_t *
vnet_avail_event(const struct vnet_vq *vq)
{
	return (uint16_t *)(void *)&vq->used->ring[vq->size];
}

int __vmp_vnet_evidx_start(struct vnet_vq *vq, int callfd);
void __vmp_vnet_evidx_fini(struct vnet_vq *vq);
void __vmp_vnet_evidx_notify(struct vnet_vq *vq);
void __vmp_vnet_evidx_arm(struct vnet_vq *vq);

/* vnet_port.c: the queue state machine on the control side */
int __vmp_vnet_port_park(struct vmp_vnet_port *port, bool drain);
void __vmp_vnet_port_resume(struct vmp_vnet_port *port);

/* vnet_vhu_check.c: what a frontend hands over, checked before use */
int __vmp_vnet_check_mem_table(const struct vmp_vnet_port *port, void *msg);
/* A request a virtio-net backend with vnet's features serves. */
bool __vmp_vnet_msg_allowed(uint32_t req);
int __vmp_vnet_check_log_base(const struct vmp_vnet_port *port, void *msg);
bool __vmp_vnet_check_ring(const struct vmp_vnet_port *port,
			   const struct vnet_vq *vq,
			   const struct rte_vhost_vring *vr);
bool __vmp_vnet_check_callfd(const struct vmp_vnet_port *port,
			     const struct vnet_vq *vq, int fd);
void __vmp_vnet_conn_set_timeout(const struct vmp_vnet_port *port);
/* vnet_mem.c: guest memory mappings of our own */
struct vnet_memhold;
int __vmp_vnet_mem_take(struct vmp_vnet_port *port,
			struct rte_vhost_memory *vh);
void *__vmp_vnet_mem_relocate(const struct vmp_vnet_port *port, const void *p,
			      uint64_t len);
void __vmp_vnet_mem_retire(struct vmp_vnet_port *port);
void __vmp_vnet_mem_reap(struct vmp_vnet_port *port, bool all);

#endif /* VNET_PVT_H */
