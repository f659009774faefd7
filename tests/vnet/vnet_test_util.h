/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VNET_TEST_UTIL_H
#define VNET_TEST_UTIL_H

#include <stdint.h>

/*
 * A started one-vchan mem-to-mem DMA device from vdev @name (with @args, may
 * be NULL), for the vnet perf tests. A dma_swdma device gets its engine on
 * service lcore @lcore. Returns the dmadev id, or -1.
 */
int test_dma_open(const char *name, const char *args, unsigned int lcore);
void test_dma_close(int id, const char *name);

struct vhu_front;
struct vmp_vnet_port;
struct rte_mempool;

/*
 * For the cost tests: a mempool and a one-queue-pair port on a socket named
 * after @tag, the crafted frontend connected to it (VERSION_1, MRG_RXBUF,
 * PROTOCOL_FEATURES) with both vrings running and interrupts off (a polling
 * driver). Returns 0, or -1 (what failed is printed).
 */
int vnet_test_port_open(const char *tag, struct vhu_front *fr,
			struct vmp_vnet_port **port, struct rte_mempool **mp);
/* @n fresh mbufs of @size bytes (content left as is); 0 or -1. */
struct rte_mbuf;
int vnet_test_mbufs(struct rte_mempool *mp, struct rte_mbuf **m, unsigned int n,
		    uint16_t size);
/* Close what vnet_test_port_open() opened. */
void vnet_test_port_close(const char *tag, struct vhu_front *fr,
			  struct vmp_vnet_port *port, struct rte_mempool *mp);

#endif /* VNET_TEST_UTIL_H */
