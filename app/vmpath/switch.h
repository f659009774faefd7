/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VMPATH_SWITCH_H
#define VMPATH_SWITCH_H

/**
 * @file
 * The vmpath L2 switch over lib/vnet ports (switch.c) and the embedded
 * virtio-user guests (embedded_guests.c). Application code, not a library API.
 */

#include <stdint.h>
#include <stdio.h>

#include <rte_lcore.h>
#include <rte_mempool.h>
#include <rte_spinlock.h>

#include <vmp_vnet.h>

#include "params.h"

#define VMP_DMA_KINDS 3

struct rte_rcu_qsbr;

/*
 * A port's slot in the table (vmp_switch.port[id]). Written only by the
 * control owner (the main lcore, ctl.c); the telemetry thread reads it under
 * vmp_switch_lock():
 *
 *   FREE --add--> ACTIVE --del: unpublished--> DELETING --destroyed--> FREE
 *
 * DELETING is kept while a destroy is refused (DMA copies in flight); a
 * later port_del retries it. Only ACTIVE ports are in a published view.
 */
enum vmp_sw_port_state {
	VMP_SW_PORT_FREE = 0,
	VMP_SW_PORT_ACTIVE,
	VMP_SW_PORT_DELETING,
};

struct vmp_sw_port {
	struct vmp_vnet_port *vp; /* vhost-user port, or NULL for an ethdev */
	bool is_eth;
	enum vmp_sw_port_state state;
	uint16_t eth_port;
	struct vmp_vnet_eth_ol eth_ol; /* its offloads, counters */
	char eth_name[64];
	struct vmp_vhost_spec spec;
	enum vmp_dma_kind dma; /* resolved: port's dma= or --dma */
	uint16_t nb_qp;
	bool shared_rx; /* some datapath lcore owns none of its queue pairs */
	/* datapath number polling each queue pair (placement, fixed) */
	uint16_t owner[VMP_VNET_MAX_QP];
	/* queue pair datapath number k enqueues into */
	uint16_t txq[RTE_MAX_LCORE];
	rte_spinlock_t rx_lock[VMP_VNET_MAX_QP];
	struct rte_mempool *mp; /* its receive side's mbufs (its id's block) */
};

/* One queue pair a datapath lcore polls. */
struct vmp_sw_poll {
	struct vmp_sw_port *sp;
	uint16_t port; /* its id */
	uint16_t qp;
};

/*
 * What the datapath reads: published by the control owner (store-release
 * of vmp_switch.view), read once per loop (load-acquire), never changed
 * after publication. A replaced view and a removed port are freed only
 * after every datapath lcore reported a quiescent state (rte_rcu_qsbr)
 * past the publication.
 */
struct vmp_sw_view {
	size_t size; /* of the one allocation, for the poison at free */
	unsigned int nb_dst;
	uint16_t *dst_id;	   /* [nb_dst] destination port ids */
	struct vmp_sw_port **dst;  /* [max_ports]: NULL if not a destination */
	unsigned int *nb_poll;	   /* [nb_dp] */
	struct vmp_sw_poll **poll; /* [nb_dp][nb_poll[k]] */
};

/* Per-lcore switch counters (one writer each). */
struct vmp_sw_lstats {
	uint64_t *fwd;	     /* [max_ports] accepted by the port */
	uint64_t *drop_full; /* [max_ports] refused: guest had no buffers */
	uint64_t flood;
	uint64_t drop_hairpin;
	uint64_t drop_runt;
} __rte_cache_aligned;

struct vmp_switch {
	unsigned int max_ports;
	unsigned int nb_ports;	   /* slots not FREE */
	struct vmp_sw_port **port; /* [max_ports] */
	struct vmp_sw_view *view;  /* published; see struct vmp_sw_view */
	struct rte_rcu_qsbr *qsbr; /* one thread per datapath lcore */
	struct rte_mempool *mp;
	int socket;
	unsigned int nb_dp;
	int dp_index[RTE_MAX_LCORE];		/* lcore -> datapath number, or -1 */
	unsigned int dp_lcore[RTE_MAX_LCORE]; /* datapath number -> lcore */
	struct vmp_vnet_dma *dma[RTE_MAX_LCORE][VMP_DMA_KINDS];
	int16_t dma_id[RTE_MAX_LCORE][VMP_DMA_KINDS];
	uint64_t *mac;
	struct vmp_sw_lstats ls[RTE_MAX_LCORE];
};

extern struct vmp_switch vmp_sw;

/** Port counters summed over queues and lcores. */
struct vmp_sw_port_counters {
	uint64_t rx_pkts, rx_bytes; /* from the guest */
	uint64_t tx_pkts, tx_bytes; /* to the guest */
	uint64_t fwd, drop_full, no_buf, no_mbuf, bad, dma_errors, inflight;
	uint64_t dma_copies, cpu_copies, logged;
};

/** Pool, MAC table, RCU state, empty view: no ports yet. @return 0/-errno */
int vmp_switch_init(void);
/** Destroy every port (after the roles stopped) and free the rest. */
void vmp_switch_fini(void);
unsigned int vmp_switch_poll(unsigned int lcore);
/** Datapath role loop: start, end, and each round's quiescent point. */
void vmp_switch_online(unsigned int lcore);
void vmp_switch_offline(unsigned int lcore);
void vmp_switch_quiescent(unsigned int lcore);
/** Port @p p if its slot is ACTIVE, else NULL. */
struct vmp_sw_port *vmp_switch_port(unsigned int p);
/** Readers outside the main lcore (telemetry) hold this over a walk. */
void vmp_switch_lock(void);
void vmp_switch_unlock(void);
void vmp_switch_port_counters(unsigned int p, struct vmp_sw_port_counters *c);
const char *vmp_dma_kind_name(enum vmp_dma_kind k);

/* switch_ctl.c: control-owner side of the switch (ctl.c calls these). */
/** Place, create and publish a port in free slot @p id. @return 0/-errno */
int __vmp_switch_port_add(unsigned int id, const struct vmp_vhost_spec *spec,
			  const char *ethdev, char *err, size_t errlen);
/** Unpublish and destroy port @p id. @return 0/-errno (-EBUSY: retry) */
int __vmp_switch_port_del(unsigned int id, char *err, size_t errlen);
/** Add a static MAC entry for port @p id. */
void __vmp_switch_mac_add(const uint8_t mac[6], unsigned int id);
/** Publish a view of the ACTIVE ports (and port @p drain polled, not a
 * destination, if >= 0); wait for the grace period and free the old view.
 * @return 0, -ENOMEM, -ETIMEDOUT (published; the old view kept). */
int __vmp_switch_view_publish(int drain);
void __vmp_switch_view_free(struct vmp_sw_view *v);
/** Entries of port @p id become tombstones. @return how many. */
unsigned int __vmp_switch_mac_flush(unsigned int id);
struct vmp_vnet_dma *__vmp_switch_dma_get(unsigned int k,
					  enum vmp_dma_kind kind, int socket);
int __vmp_switch_eth_create(struct vmp_sw_port *sp, const char *spec,
			    int socket);
/** Create the mbuf pool if not yet there. @return 0 or -ENOMEM. */
int __vmp_switch_pool_get(void);
/** Port ids per mbuf pool: block 0 is the switch pool, each further block
 * of ids gets its own pool of --mbufs while it has ports (switch_ctl.c). */
#define VMP_SW_POOL_PORTS 8
/** Free the pools of empty blocks whose mbufs all came back (the control
 * owner calls it after a port goes, and once a second). */
void __vmp_switch_pools_reap(void);
/** mbufs available and in use over every pool, and how many pools. */
void vmp_switch_mbufs(uint64_t *avail, uint64_t *in_use,
		      unsigned int *nb_pools);
/** Datapath number -> lcore id. */
unsigned int vmp_switch_dp_lcore(unsigned int k);

/* cmd_ports.c */
void vmp_show_ports(FILE *f);
int vmp_show_port_stats(FILE *f, unsigned int p);

/* embedded_guests.c */
int vmp_guests_init(void);
/** One round of the embedded guests' traffic (main lcore). */
void vmp_guests_poll(void);
void vmp_guests_print(FILE *f);
void vmp_guests_fini(void);

#endif /* VMPATH_SWITCH_H */
