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

struct vmp_sw_port {
	struct vmp_vnet_port *vp; /* vhost-user port, or NULL for an ethdev */
	bool is_eth;
	uint16_t eth_port;
	char eth_name[64];
	struct vmp_vhost_spec spec;
	enum vmp_dma_kind dma; /* resolved: port's dma= or --dma */
	uint16_t nb_qp;
	bool shared_rx; /* fewer queue pairs than datapath lcores */
	rte_spinlock_t rx_lock[VMP_VNET_MAX_QP];
};

/* Per-lcore switch counters (one writer each). */
struct vmp_sw_lstats {
	uint64_t fwd[VMP_MAX_VHOST];	   /* accepted by the port */
	uint64_t drop_full[VMP_MAX_VHOST]; /* refused: guest had no buffers */
	uint64_t flood;
	uint64_t drop_hairpin;
	uint64_t drop_runt;
} __rte_cache_aligned;

struct vmp_switch {
	unsigned int nb_ports;
	struct vmp_sw_port port[VMP_MAX_VHOST];
	struct rte_mempool *mp;
	int socket;
	unsigned int nb_dp;
	int dp_index[RTE_MAX_LCORE]; /* lcore -> datapath number, or -1 */
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

int vmp_switch_init(void);
void vmp_switch_fini(void);
unsigned int vmp_switch_poll(unsigned int lcore);
void vmp_switch_port_counters(unsigned int p, struct vmp_sw_port_counters *c);
const char *vmp_dma_kind_name(enum vmp_dma_kind k);

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
