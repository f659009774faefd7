/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VMP_VNET_H
#define VMP_VNET_H

/**
 * @file
 * lib/vnet: a virtio-net device over vhost-user, implemented by vmpath on top
 * of rte_vhost's protocol handling (external-backend mode: rte_vhost parses
 * the messages and maps guest memory; this library owns the split
 * virtqueues, the copies and the dirty log).
 *
 * A port is one vhost-user socket (server, or client that reconnects). Each
 * queue pair q has two vrings: 2q (guest RX: vmp_vnet_enqueue_burst() puts
 * host mbufs into guest buffers) and 2q+1 (guest TX:
 * vmp_vnet_dequeue_burst() takes guest buffers into host mbufs).
 *
 * Threading: a queue pair is polled by one lcore at a time (enqueue and
 * dequeue on the same queue pair may be on different lcores). A DMA channel
 * (vmp_vnet_dma) is polled by exactly one lcore: every queue that uses it must
 * be polled from that lcore. The vhost-user control thread stops and restarts
 * queues around every message through a per-queue state word, so memory-table
 * and ring changes never race the datapath; in-flight copies are completed
 * (or failed and counted) by the polling lcore before a queue parks, and a
 * queue whose copies do not complete within a time bound is stopped as
 * broken with everything they may write kept.
 *
 * Every guest-controlled value is checked: descriptor indexes, chain length
 * and loops, indirect tables, lengths and addresses against the memory table,
 * avail index moves. A bad chain is returned to the guest with length 0 and
 * counted; a queue whose ring itself is inconsistent is stopped and reported
 * (vmp_vnet_port_info_get() "broken"), other queues and ports keep running.
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

/** Most queue pairs per port. */
#define VMP_VNET_MAX_QP 8
/** Default size in bytes from which a copy goes to the DMA engine. */
#define VMP_VNET_ASYNC_THRESHOLD 256

/*
 * Work bounds against a hostile guest: how many guest descriptors one call
 * may read, so that one queue cannot starve the others its lcore polls.
 * A chain over a device limit is returned unused (length 0) and counted
 * (vmp_vnet_vq_stats.over_limit); a burst that used its budget stops and
 * leaves the rest in the ring (desc_budget).
 */
/** Most descriptors of one chain, direct and indirect parts together. */
#define VMP_VNET_CHAIN_DESC 64
/** Most non-empty guest segments of one chain (after splits at memory
 * region ends): covers Linux's MAX_SKB_FRAGS + 2 descriptors of a TX skb. */
#define VMP_VNET_CHAIN_SEGS 32
/** Most descriptors walked for one RX packet over all its mergeable
 * buffers; a set of buffers that reaches it without room for the packet is
 * as final as VIRTIO_NET_F_MRG_RXBUF's 64 buffers: the packet is too_long. */
#define VMP_VNET_PKT_DESC 256
/**
 * Descriptor budget of one enqueue or dequeue call for full chain walks,
 * checked before each walk: a call reads at most VMP_VNET_BURST_DESC +
 * VMP_VNET_CHAIN_DESC - 1 descriptors that way, plus one per packet of the
 * one-descriptor fast path (at most the burst size).
 */
#define VMP_VNET_BURST_DESC 512
/**
 * Bad chains one enqueue call may return before it stops (a dequeue call
 * consumes at most its burst size of chains, good or bad): a guest that
 * offers nothing but bad chains costs a call at most this many drops.
 */
#define VMP_VNET_BURST_DROPS 32

struct vmp_vnet_port;
struct vmp_vnet_dma;

/** Port configuration. */
struct vmp_vnet_port_conf {
	const char *path; /**< vhost-user socket path */
	bool client;	  /**< connect (and reconnect) instead of listen */
	uint16_t nb_qp;	  /**< queue pairs offered, 1..VMP_VNET_MAX_QP */
	int socket_id;	  /**< NUMA socket of the lcores polling it */
	struct rte_mempool *mp; /**< mbufs for guest TX (dequeue), NUMA-local */
	uint64_t disable_features; /**< virtio feature bits not to offer */
	/** VMP_VNET_OL_* offered to the guest (0: none, the default) */
	uint32_t offloads;
	/** MTU, VMP_VNET_MTU_MIN..VMP_VNET_MTU_MAX; 0: VMP_VNET_MTU_DEFAULT */
	uint16_t mtu;
};

/**
 * MTU of a port (vmp_vnet_port_conf.mtu).
 *
 * The port offers VIRTIO_NET_F_MTU and the NET_MTU protocol feature: a
 * frontend configured with an MTU (QEMU's host_mtu) tells it with
 * NET_SET_MTU, which is refused (REPLY_ACK error, or the connection
 * closed) above the port's MTU, so a guest never gets a larger one than
 * the switch carries. Frames into the guest longer than the MTU allows
 * (MTU + Ethernet header + one VLAN tag) are dropped and counted
 * (vmp_vnet_vq_stats.mtu_drops), as a switch port drops them on egress;
 * TSO frames the guest accepts whole are not, their segments are. Jumbo
 * frames need mergeable RX buffers (or buffers that large) in the guest
 * and arrive from it as mbuf chains.
 */
#define VMP_VNET_MTU_DEFAULT 1500
#define VMP_VNET_MTU_MIN 68
#define VMP_VNET_MTU_MAX 9000

/**
 * Offloads a port offers (vmp_vnet_port_conf.offloads).
 *
 * VMP_VNET_OL_CSUM offers VIRTIO_NET_F_CSUM (the guest may send partial
 * checksums) and VIRTIO_NET_F_GUEST_CSUM (it accepts them). VMP_VNET_OL_TSO
 * offers HOST_TSO4/6 (the guest may send TCP frames up to 64 KiB) and
 * GUEST_TSO4/6 (it accepts them); the virtio spec makes TSO depend on the
 * checksum features, so it needs VMP_VNET_OL_CSUM. ECN and UFO are never
 * offered: UFO needs IP fragmentation and Linux guests no longer send it,
 * and without HOST_ECN a guest segments its rare CWR-marked frames itself.
 *
 * What a guest sends is checked before it becomes mbuf offload requests
 * (RTE_MBUF_F_TX_*, l2/l3/l4_len, tso_segsz); a bad header drops the packet,
 * counted per reason (vmp_vnet_vq_stats.bad_hdr). A packet enqueued to a
 * guest keeps an offload request only if that guest negotiated it; the rest
 * is finished in software first (vmp_vnet_offload_finish()).
 */
#define VMP_VNET_OL_CSUM (1u << 0)
#define VMP_VNET_OL_TSO (1u << 1)

/** Offload requests a destination accepts (vmp_vnet_offload_finish()). */
#define VMP_VNET_CAP_IP_CSUM (1u << 0) /**< RTE_MBUF_F_TX_IP_CKSUM */
#define VMP_VNET_CAP_L4_CSUM (1u << 1) /**< RTE_MBUF_F_TX_{TCP,UDP}_CKSUM */
#define VMP_VNET_CAP_TSO4 (1u << 2)    /**< RTE_MBUF_F_TX_TCP_SEG, IPv4 */
#define VMP_VNET_CAP_TSO6 (1u << 3)    /**< RTE_MBUF_F_TX_TCP_SEG, IPv6 */

/** Most segments vmp_vnet_offload_finish() makes of one TSO frame; a guest
 * frame that would need more is dropped at dequeue (bad gso_size). */
#define VMP_VNET_GSO_MAX_SEGS 128

/**
 * Finish in software the offload requests of @p m (RTE_MBUF_F_TX_IP_CKSUM,
 * _TCP_CKSUM, _UDP_CKSUM, _TCP_SEG with l2/l3/l4_len and tso_segsz set) that
 * a destination does not accept (@p caps: VMP_VNET_CAP_*): TCP segmentation
 * over IPv4 and IPv6 into new mbufs from @p mp with every checksum filled
 * in, or the checksums of @p m (of a copy if its data is shared). Requests
 * the destination accepts are left as they are.
 *
 * @return the number of mbufs written to @p out (>= 1; @p m is then owned
 *   by them or freed), or a negative errno with @p m untouched:
 *   - -EINVAL: offload fields inconsistent (headers outside the first
 *     segment, tso_segsz 0, not TCP/UDP);
 *   - -ENOSPC: more than @p max_out segments;
 *   - -ENOMEM: @p mp ran out of mbufs.
 */
int vmp_vnet_offload_finish(struct rte_mbuf *m, uint32_t caps,
			    struct rte_mempool *mp, struct rte_mbuf **out,
			    uint16_t max_out);

struct rte_eth_conf;

/**
 * What an ethdev port takes of the offload requests, and what became of
 * the requests sent to it (vmp_vnet_eth_offload_finish()). Counters are
 * updated with relaxed atomics (several lcores may send to one port).
 */
struct vmp_vnet_eth_ol {
	uint16_t port_id;
	uint32_t caps;		/**< VMP_VNET_CAP_* the PMD takes */
	uint32_t tso_frame_max; /**< longest tso_segsz + l2/l3/l4 headers it
				 * segments (net_tap: its MTU); 0: any */
	bool even_chains;	/**< L4 checksums only of chains whose
				 * pieces all start at even offsets
				 * (net_tap) */
	uint32_t frame_max;	/**< longest frame it sends: MTU +
				 * Ethernet header + VLAN tag
				 * (vmp_vnet_eth_mtu_set()); UINT32_MAX
				 * until an MTU is set */
	uint64_t hw_tso;	/**< TSO frames left to the PMD */
	uint64_t hw_csum;	/**< checksum requests left to the PMD */
	uint64_t sw_segs;	/**< segments made in software */
	uint64_t sw_csum;	/**< packets checksummed in software */
	uint64_t sw_fail;	/**< packets that could not be finished */
	uint64_t mtu_drops;	/**< frames (TSO: segments) over frame_max */
};

/**
 * Before rte_eth_dev_configure() of @p port_id: enable in @p conf's
 * txmode.offloads the checksum and TSO offloads its PMD has that vmpath
 * uses, and fill @p ol (zeroed counters). IPv6 TSO is never given to
 * net_tap (DPDK 22.11 segments IPv4 only there). Also enables in
 * rxmode.offloads the TCP and UDP checksum checks the PMD has: frames it
 * found good go to guests that negotiated GUEST_CSUM with
 * VIRTIO_NET_HDR_F_DATA_VALID (vq stats ol_valid).
 *
 * @return 0, or a negative errno of rte_eth_dev_info_get() (-ENODEV: no
 *   such port).
 */
int vmp_vnet_eth_offloads_setup(uint16_t port_id, struct rte_eth_conf *conf,
				struct vmp_vnet_eth_ol *ol);

/**
 * Take "mtu=N" out of the vdev devargs @p args ("k=v,k=v", changed in
 * place: the PMD does not know the key).
 *
 * @param mtu  N, or 0 when @p args has no mtu=.
 * @return 0, or -EINVAL: N not a number in VMP_VNET_MTU_MIN..
 *   VMP_VNET_MTU_MAX, or given twice.
 */
int vmp_vnet_eth_devargs_mtu(char *args, uint16_t *mtu);

/**
 * Before rte_eth_dev_configure() of @p port_id with @p conf, for MTU
 * @p mtu: RX scatter where the PMD has it and @p mtu is over 1500 (frames
 * longer than one mbuf arrive as chains). vmp_vnet_eth_mtu_set() then sets
 * the MTU, after the configure.
 *
 * @return 0, or -EINVAL (@p mtu outside VMP_VNET_MTU_MIN..
 *   VMP_VNET_MTU_MAX), or a negative errno of rte_eth_dev_info_get()
 *   (-ENODEV: no such port).
 */
int vmp_vnet_eth_mtu_conf(uint16_t port_id, struct rte_eth_conf *conf,
			  uint16_t mtu);

/**
 * Set the MTU of the configured ethdev port of @p ol
 * (rte_eth_dev_set_mtu()); from then on vmp_vnet_eth_offload_finish()
 * drops, as mtu_drops, frames longer than @p mtu plus Ethernet header and
 * VLAN tag (TSO frames: whose segments would be).
 *
 * @return 0, or -EINVAL (@p mtu outside VMP_VNET_MTU_MIN..VMP_VNET_MTU_MAX,
 *   or the PMD refused it), or another negative errno of
 *   rte_eth_dev_set_mtu() (-ENOTSUP: the PMD cannot change it, -ENODEV,
 *   -EIO, -EBUSY).
 */
int vmp_vnet_eth_mtu_set(struct vmp_vnet_eth_ol *ol, uint16_t mtu);

/**
 * vmp_vnet_offload_finish() for the ethdev port of @p ol: what its PMD
 * takes is left in @p m's request, the rest finished in software; counted
 * in @p ol. A frame over the port's MTU (vmp_vnet_eth_mtu_set()) is
 * refused and counted in mtu_drops.
 *
 * @return as vmp_vnet_offload_finish(), and -EMSGSIZE: over the MTU
 *   (@p m untouched).
 */
int vmp_vnet_eth_offload_finish(struct vmp_vnet_eth_ol *ol, struct rte_mbuf *m,
				struct rte_mempool *mp, struct rte_mbuf **out,
				uint16_t max_out);

/**
 * Create a port and start its vhost-user socket (listen, or connect).
 *
 * @param conf  configuration; path and mp are required.
 * @return
 *   the port, or NULL with rte_errno: EINVAL (bad conf: nb_qp out of range,
 *   no path or mempool), EEXIST (path already used), ENOMEM, EIO (rte_vhost
 *   refused the socket).
 */
struct vmp_vnet_port *
vmp_vnet_port_create(const struct vmp_vnet_port_conf *conf);

/**
 * Stop and free a port: close the socket (rte_vhost stops the device, every
 * vring parks with a drain), then free the port once none of its DMA copies
 * is in flight. Memory an engine may still write (the port's records and
 * mbufs, its mappings of guest memory) is never released before.
 *
 * Only the lcore polling a vring polls its DMA channel: stop polling the
 * port, then call this. If copies are still in flight after the drain bound
 * (1 s; the engine hangs, or they were left when polling stopped), nothing
 * is freed and the port stays valid with its vrings stopped as broken: poll
 * them again (enqueue/dequeue calls then only complete what landed and
 * publish nothing), stop, and retry.
 *
 * @return 0, or a negative errno:
 *   - -EINVAL: @p port is NULL;
 *   - -EBUSY: DMA copies still in flight, or rte_vhost still busy with the
 *     socket after 5 s; nothing freed, retry later.
 */
int vmp_vnet_port_destroy(struct vmp_vnet_port *port);

/**
 * Before vmp_vnet_enqueue_burst() of @p pkts to @p port: merge runs of
 * consecutive in-order TCP segments of one flow whose checksums the
 * receiving ethdev found good (RTE_MBUF_F_RX_L4_CKSUM_GOOD, and
 * RTE_MBUF_F_RX_IP_CKSUM_GOOD for IPv4) into TSO frames, when the port's
 * guest negotiated GUEST_TSO4/6 (GRO; the rules are in vnet_gro.c). In
 * place: a merged segment becomes part of its run's first mbuf (a chain
 * marked RTE_MBUF_F_RX_LRO with TSO requests); other packets stay as they
 * are, in order. Only direct, unshared one-mbuf frames no longer than the
 * port's MTU allows are merged.
 *
 * @return the number of packets now in @p pkts (@p n when nothing merged,
 *   @p port is NULL or its guest takes no TSO).
 */
uint16_t vmp_vnet_gro_burst(const struct vmp_vnet_port *port,
			    struct rte_mbuf **pkts, uint16_t n);

/**
 * Put guest RX vring 2*qp copies of @p pkts (host -> guest). Accepted mbufs
 * are owned by the library (freed once their copies landed); the rest are left
 * to the caller (counted as no_buf drops when the guest had too few buffers).
 *
 * With @p n = 0 it only publishes copies that landed and retries a guest
 * notification that could not be sent: call it from time to time on an idle
 * queue that uses DMA.
 *
 * @return number of mbufs accepted (0 if the queue is not running).
 */
uint16_t vmp_vnet_enqueue_burst(struct vmp_vnet_port *port, uint16_t qp,
				struct rte_mbuf **pkts, uint16_t n);

/**
 * Take up to @p n packets from guest TX vring 2*qp+1 (guest -> host) into
 * mbufs from the port's mempool. With a DMA channel, packets are returned
 * once their copies landed, in guest order.
 *
 * @return number of mbufs written to @p pkts.
 */
uint16_t vmp_vnet_dequeue_burst(struct vmp_vnet_port *port, uint16_t qp,
				struct rte_mbuf **pkts, uint16_t n);

/**
 * Create a DMA channel wrapper on a configured and started rte_dma vchan.
 * Works with any rte_dma device whose addresses are IOVAs (EAL must run in
 * IOVA-as-VA mode, since guest memory is not DPDK memory).
 *
 * @param dma_id     rte_dma device id.
 * @param vchan      its virtual channel.
 * @param threshold  copies of at least this many bytes go to the engine
 *                   (0: VMP_VNET_ASYNC_THRESHOLD); smaller ones on the CPU.
 * @param socket_id  NUMA socket of the polling lcore.
 * @return the channel, or NULL with rte_errno: EINVAL (bad id or vchan, or
 *   EAL not in IOVA-as-VA mode), ENOMEM.
 */
struct vmp_vnet_dma *vmp_vnet_dma_create(int16_t dma_id, uint16_t vchan,
					 uint32_t threshold, int socket_id);

/** Free a channel no queue uses any more. @return 0, -EINVAL, -EBUSY. */
int vmp_vnet_dma_free(struct vmp_vnet_dma *dma);

/**
 * Use @p dma (or NULL: CPU copies) for both vrings of queue pair @p qp.
 * Call it from the lcore that polls the queue pair, or while nobody polls it
 * (before the datapath starts); refused while copies are in flight.
 *
 * A channel serves up to 256 vrings (128 queue pairs).
 *
 * @return 0, -EINVAL (bad port/qp), -EBUSY (copies still in flight),
 *   -ENOSPC (the channel already serves 256 vrings; the pair then uses
 *   CPU copies).
 */
int vmp_vnet_port_set_dma(struct vmp_vnet_port *port, uint16_t qp,
			  struct vmp_vnet_dma *dma);

/** Why a guest TX virtio-net header was refused (vmp_vnet_vq_stats). */
enum vmp_vnet_bad_hdr {
	VMP_VNET_BAD_HDR_FLAGS,	   /**< flags other than NEEDS_CSUM */
	VMP_VNET_BAD_HDR_CSUM,	   /**< csum_start/offset outside the headers */
	VMP_VNET_BAD_HDR_GSO_TYPE, /**< unknown or not negotiated gso_type */
	VMP_VNET_BAD_HDR_GSO_SIZE, /**< gso_size 0, over the frame, or too
					many segments */
	VMP_VNET_BAD_HDR_PARSE,	   /**< Ethernet/VLAN/IP/TCP headers do not
					hold what the header asks for */
	VMP_VNET_BAD_HDR_MAX,
};

/** Per-vring counters (one writer: the polling lcore). */
struct vmp_vnet_vq_stats {
	uint64_t packets;    /**< packets moved */
	uint64_t bytes;	     /**< payload bytes (no virtio header) */
	uint64_t no_buf;     /**< RX: packets refused, guest had no buffers */
	uint64_t no_mbuf;    /**< TX: mempool empty (packet left in ring) */
	uint64_t bad_chain;  /**< chains dropped: bad index/loop/len/addr,
				  empty, or over a limit (over_limit) */
	uint64_t too_long;   /**< chains dropped: packet too big */
	uint64_t broken;     /**< times the queue was stopped as broken */
	uint64_t dma_copies; /**< copies submitted to the DMA engine */
	uint64_t cpu_copies; /**< copies done on the CPU */
	uint64_t dma_errors; /**< engine-failed copies, redone on the CPU */
	uint64_t dma_full;   /**< submissions refused by the engine */
	uint64_t inflight;   /**< packets with copies in flight (gauge) */
	uint64_t notify;     /**< guest notifications sent */
	/** guest notifications not sent: VIRTIO_RING_F_EVENT_IDX and the
	 * guest's used_event not crossed */
	uint64_t notify_suppressed;
	uint64_t logged;     /**< dirty-log writes (payload ranges) */
	uint64_t log_pages;  /**< 4 KiB guest pages those writes marked */
	/** guest descriptors read by full chain walks, i.e. not counting the
	 * one-descriptor fast path (one per packet): the work a guest can ask
	 * of the polling lcore beyond that (see VMP_VNET_BURST_DESC) */
	uint64_t desc_walked;
	/** bursts cut short by the descriptor budget, or (RX) the drop
	 * budget VMP_VNET_BURST_DROPS (rest left in ring) */
	uint64_t desc_budget;
	/** of bad_chain: chains over VMP_VNET_CHAIN_DESC descriptors or
	 * VMP_VNET_CHAIN_SEGS segments (valid ones, or loops that reached the
	 * limit before the table size) */
	uint64_t over_limit;
	/** RX: packets not offered to a set of guest buffers already found
	 * too small, while avail->idx had not moved */
	uint64_t nofit_skip;
	/** TX: partial checksums taken as mbuf requests; RX: passed to the
	 * guest in the virtio-net header */
	uint64_t ol_csum;
	/** TX: GSO frames taken as TSO requests; RX: passed to the guest */
	uint64_t ol_tso;
	/** checksums completed in software (TX: at a position no mbuf flag
	 * expresses; RX: the guest did not negotiate GUEST_CSUM) */
	uint64_t sw_csum;
	/** RX: TCP segments made in software (no GUEST_TSO4/6) */
	uint64_t sw_segs;
	/** RX: offload requests that could not be finished (no mbufs, more
	 * than VMP_VNET_GSO_MAX_SEGS segments): packet dropped */
	uint64_t sw_fail;
	/** TX: packets dropped for their virtio-net header, by reason */
	uint64_t bad_hdr[VMP_VNET_BAD_HDR_MAX];
	/** RX: packets over the port's MTU (not TSO frames taken whole),
	 * dropped */
	uint64_t mtu_drops;
	/** RX: frames whose L4 checksum the receiving ethdev found good,
	 * passed with VIRTIO_NET_HDR_F_DATA_VALID (GUEST_CSUM negotiated):
	 * the guest does not sum them again */
	uint64_t ol_valid;
	/** RX: TSO frames made of a host's segments (vmp_vnet_gro_burst()),
	 * and the segments in them */
	uint64_t gro_frames;
	uint64_t gro_segs;
};

/**
 * Counters of vring @p vring (2*qp: guest RX, 2*qp+1: guest TX).
 * @return 0, -EINVAL (bad port or vring).
 */
int vmp_vnet_vq_stats_get(const struct vmp_vnet_port *port, uint16_t vring,
			  struct vmp_vnet_vq_stats *st);

/** Most frontend connections open at once on one port's socket (more are
 * refused): a live migration's source and destination, and room for a
 * reconnect that overlaps a close. */
#define VMP_VNET_MAX_CONN 4

/** One frontend connection of a port. */
struct vmp_vnet_conn_info {
	int vid;	/**< rte_vhost id */
	bool running;	/**< its device started (all its vrings set up) */
	bool mem_valid; /**< it has a memory table */
	bool polled;	/**< its rings are the ones the datapath polls */
};

/** Port state for `show ports` and telemetry. */
struct vmp_vnet_port_info {
	char path[108];
	bool client;
	bool connected;	    /**< a frontend is attached (device running) */
	int vid;	    /**< rte_vhost id of the polled connection, or -1 */
	uint64_t features;  /**< negotiated virtio features */
	uint16_t nb_qp;	    /**< queue pairs offered */
	uint16_t nb_vrings; /**< vrings the frontend set up */
	uint32_t running;   /**< bitmask of running vrings */
	uint32_t broken;    /**< bitmask of vrings stopped as broken */
	bool log_on;	    /**< dirty logging (VHOST_F_LOG_ALL) on */
	uint64_t connects;  /**< times a frontend attached */
	uint64_t accepted;  /**< frontend connections accepted, refused
				 ones included */
	uint64_t log_pages; /**< payload pages logged, all vrings */
	/** copies in flight when a device stop (GET_VRING_BASE, a
	 * disconnect) began, each drained (landed, published, logged) before
	 * the stop was answered */
	uint64_t drained;
	uint64_t rarp_sent; /**< RARP frames sent for SEND_RARP */
	uint16_t mtu;	    /**< the port's MTU */
	/** MTU the frontend set with NET_SET_MTU (0: none) */
	uint16_t guest_mtu;
	uint16_t nb_conns; /**< frontend connections open, in conn[] */
	struct vmp_vnet_conn_info conn[VMP_VNET_MAX_CONN];
};

/** @return 0, or -EINVAL if an argument is NULL. */
int vmp_vnet_port_info_get(const struct vmp_vnet_port *port,
			   struct vmp_vnet_port_info *info);

/**
 * Hook for lib/dirtylog: called with the guest-physical range of every copy
 * submitted to a DMA engine (pin = true) and again when it completed (pin =
 * false), so a tracker can treat in-flight destinations as dirty. NULL
 * (default) disables it.
 */
typedef void (*vmp_vnet_pin_cb_t)(void *arg, int vid, uint64_t gpa,
				  uint64_t len, bool pin);
/**
 * Set the pin hook of @p port. Set it before the port's queues get a DMA
 * channel (or while none of its copies is in flight): a completion calls the
 * hook that is set then.
 *
 * @return 0, -EINVAL.
 */
int vmp_vnet_port_set_pin_cb(struct vmp_vnet_port *port, vmp_vnet_pin_cb_t cb,
			     void *arg);

struct vmp_dirty_tracker;

/**
 * Report the port's in-flight DMA destinations to a lib/dirtylog tracker whose
 * regions are in the guest-physical space of this port's guest: each copy
 * submitted to an engine pins the tracker pages it covers
 * (vmp_dirty_pin()), its completion unpins them, so the tracker reports them
 * dirty while the engine may still write and once more after. Ranges outside
 * the tracker's regions are ignored. NULL detaches. Same rule as
 * vmp_vnet_port_set_pin_cb() for when to call it.
 *
 * @return 0, -EINVAL (port NULL).
 */
int vmp_vnet_port_set_dirty_tracker(struct vmp_vnet_port *port,
				    struct vmp_dirty_tracker *t);

/*
 * Halting datapath lcores (vnet_idle.c, docs/vnet.md "Idle lcores").
 *
 * A waker belongs to one datapath lcore. Its queue pairs' guest TX vrings
 * are armed for guest kicks (VRING_USED_F_NO_NOTIFY cleared) only while the
 * lcore is about to sleep, every owned vring is re-checked after a full
 * barrier (pairing with the guest's barrier between its avail->idx store and
 * its used->flags load), and the lcore blocks in epoll_wait() on the guests'
 * kick eventfds, extra fds (ethdev Rx interrupts) and one eventfd of the
 * control side, which wakes a sleeping lcore whenever it changes a vring
 * state the lcore must act on (a restart, a draining park).
 */
struct vmp_vnet_waker;

/** Buckets of vmp_vnet_waker_stats.lat: bucket i counts latencies below
 * 2^i us (the last one: everything longer). */
#define VMP_VNET_WAKE_LAT_BUCKETS 12

/** What a waker counted (one writer: its lcore; ctl_kicks: the control
 * side). */
struct vmp_vnet_waker_stats {
	uint64_t sleeps;       /**< epoll_wait() entered */
	uint64_t aborts;       /**< re-check found work: did not sleep */
	uint64_t wake_kick;    /**< woken by a guest kick */
	uint64_t wake_ctl;     /**< woken by the control side */
	uint64_t wake_fd;      /**< woken by an extra fd (ethdev Rx) */
	uint64_t wake_timeout; /**< the bounded sleep ran out */
	uint64_t ns_asleep;    /**< time inside epoll_wait() */
	uint64_t ctl_kicks;    /**< control wakes sent to a sleeping lcore */
	/** wake latency: control wakes (from the control side's kick) and
	 * bounded sleeps (past their deadline); a guest kick carries no time
	 * stamp, so its wake latency shows in ping RTT (vnet_idle bench) */
	uint64_t lat[VMP_VNET_WAKE_LAT_BUCKETS];
};

/**
 * Create a waker (an epoll set and a control eventfd).
 *
 * @param socket_id  NUMA socket of its lcore.
 * @return the waker, or NULL with rte_errno: ENOMEM, or the errno of
 *   epoll_create1() / eventfd() (EMFILE, ENFILE...).
 */
struct vmp_vnet_waker *vmp_vnet_waker_create(int socket_id);

/**
 * Free a waker no vring is attached to and no lcore sleeps on.
 * @return 0, -EINVAL (NULL), -EBUSY (vrings still attached).
 */
int vmp_vnet_waker_free(struct vmp_vnet_waker *w);

/**
 * Attach both vrings of queue pair @p qp to @p w (NULL: detach them): the
 * lcore that sleeps on @p w must be the one polling the queue pair. Call
 * while no lcore polls the queue pair or sleeps on either waker (before the
 * datapath starts, after it stopped).
 *
 * @return 0, -EINVAL (bad port or qp), -EBUSY (attached to another waker:
 *   detach first), -ENOSPC (the waker holds VMP_VNET_WAKER_MAX_VQ vrings).
 */
int vmp_vnet_port_set_waker(struct vmp_vnet_port *port, uint16_t qp,
			    struct vmp_vnet_waker *w);

/** Most vrings on one waker. */
#define VMP_VNET_WAKER_MAX_VQ 256

/**
 * Also wake on @p fd (edge-triggered, never read: e.g. an ethdev Rx
 * interrupt fd, rte_eth_dev_rx_intr_ctl_q_get_fd()). Same calling rule as
 * vmp_vnet_port_set_waker(). The caller's re-check (vmp_vnet_waker_sleep())
 * must cover the source behind it.
 *
 * @return 0, -EINVAL (NULL or fd < 0), or the negative errno of
 *   epoll_ctl() (-EPERM: the fd does not support polling).
 */
int vmp_vnet_waker_fd_add(struct vmp_vnet_waker *w, int fd);

/** Re-check of the caller's own sources, after the waker's barrier:
 * nonzero if there is work (the lcore then does not sleep). */
typedef int (*vmp_vnet_recheck_t)(void *arg);

/**
 * Sleep until a guest kicks an attached vring, an extra fd or the control
 * side wakes @p w, or @p timeout_us passes (0: no bound). Called by the
 * lcore that polls @p w's vrings, between two polling rounds, never from
 * inside one. Does not sleep (returns 0 at once) if any attached vring has
 * work: avail entries, copies in flight, a guest notification to retry,
 * stashed packets, a drain to do, or an unarmed vring without a kick fd;
 * nor if @p recheck (may be NULL) reports work.
 *
 * @return 1 if it slept, 0 if it did not (work pending), -EINVAL (NULL),
 *   or the negative errno of epoll_wait() (-EINTR counts as a wake).
 */
int vmp_vnet_waker_sleep(struct vmp_vnet_waker *w, uint32_t timeout_us,
			 vmp_vnet_recheck_t recheck, void *arg);

/**
 * Wake the lcore sleeping on @p w (or make its next sleep return at once).
 * Any thread.
 * @return 0, -EINVAL.
 */
int vmp_vnet_waker_kick(struct vmp_vnet_waker *w);

/** Copy @p w's counters. @return 0, -EINVAL. */
int vmp_vnet_waker_stats_get(const struct vmp_vnet_waker *w,
			     struct vmp_vnet_waker_stats *st);

#endif /* VMP_VNET_H */
