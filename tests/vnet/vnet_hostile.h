/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VNET_HOSTILE_H
#define VNET_HOSTILE_H

/* Shared by the cases of vnet_hostile_dp_autotest (test_vnet_hostile_dp.c,
 * test_vnet_hostile_rate.c): two ports, an attacker's and a good one, each
 * with a crafted frontend, polled by the test's lcore. */
#include <stdint.h>

#include <rte_mbuf.h>

#include <vmp_vnet.h>

#include "vhu_front.h"

#define RXQ 0
#define TXQ 1
#define HDR 12
#define PKT 1000 /* payload of the RX packets sent */
/* 4 KiB buffers below BIGT; BIGT: a 1 MiB indirect table */
#define BUF(k) (VHU_GPA_BASE + 0x10000 + (uint64_t)(k)*0x1000)
#define BIGT (VHU_GPA_BASE + 0x200000)
#define W VRING_DESC_F_WRITE
#define N VRING_DESC_F_NEXT
#define I VRING_DESC_F_INDIRECT

struct peer {
	struct vhu_front fr;
	struct vmp_vnet_port *port;
	char path[64];
};

extern struct rte_mempool *hs_mp;
extern struct peer hs_atk, hs_good;

/* Descriptor @i of vring @r / entry @i of the indirect table at @table. */
void hs_desc(struct vhu_front *f, unsigned int r, uint16_t i, uint64_t addr,
	     uint32_t len, uint16_t flags, uint16_t next);
void hs_idesc(struct vhu_front *f, uint64_t table, uint32_t i, uint64_t addr,
	      uint32_t len, uint16_t flags, uint16_t next);
struct vmp_vnet_vq_stats hs_st(const struct peer *p, uint16_t vring);
/* (Re)connect @p's frontend: fresh guest memory and rings; a TEST_ code. */
int hs_connect(struct peer *p);
/* A @len-byte packet, its own payload pattern. */
struct rte_mbuf *hs_pkt(uint32_t len);
/* TX head @h: a valid 64-descriptor chain through a table at @t. */
void hs_tx_long_chain(uint16_t h, uint64_t t);
/* RX head @h: 64 descriptors holding 1 byte, through a table at @t. */
void hs_rx_tiny_chain(uint16_t h, uint64_t t);

/* test_vnet_hostile_rate.c */
int test_rate_beside_attacker(void);

#endif /* VNET_HOSTILE_H */
