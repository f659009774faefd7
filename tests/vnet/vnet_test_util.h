/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VNET_TEST_UTIL_H
#define VNET_TEST_UTIL_H

#include <stdbool.h>
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
struct vmp_test_wait;

/*
 * Start a wait (vmp_test_wait) on what serves a port: rte_vhost's message
 * thread ("vhost-events") and the busy lcores (a DMA engine's).
 */
void vnet_test_wait_init(struct vmp_test_wait *w, const char *what);

/*
 * For the cost tests: a mempool and a one-queue-pair port on a socket named
 * after @tag, the crafted frontend connected to it (VERSION_1, MRG_RXBUF,
 * PROTOCOL_FEATURES) with both vrings running and interrupts off (a polling
 * driver). Returns 0, or -1 (what failed is printed).
 */
int vnet_test_port_open(const char *tag, struct vhu_front *fr,
			struct vmp_vnet_port **port, struct rte_mempool **mp);
/* The same with the port's MTU (0: default), virtio features the frontend
 * asks for besides those (offload features: the port offers checksum and,
 * for a TSO feature, TSO offloads too), and its options (NULL: none). */
struct vhu_front_opts;
int vnet_test_port_open_opts(const char *tag, struct vhu_front *fr,
			     struct vmp_vnet_port **port,
			     struct rte_mempool **mp, uint16_t mtu,
			     uint64_t features, const struct vhu_front_opts *o);
/* @n fresh mbufs of @size bytes (content left as is); 0 or -1. */
struct rte_mbuf;
int vnet_test_mbufs(struct rte_mempool *mp, struct rte_mbuf **m, unsigned int n,
		    uint16_t size);
/*
 * @len bytes at @buf as an mbuf chain from @mp whose mbufs hold @cut[0],
 * @cut[1], ... bytes, then @rest each (the last one what is left); no
 * offload fields set. NULL if @mp ran out.
 */
struct rte_mbuf *vnet_test_chain(struct rte_mempool *mp, const uint8_t *buf,
				 uint32_t len, const uint16_t *cut,
				 unsigned int ncut, uint16_t rest);
/*
 * One datapath call on queue pair 0 of @port, timed: enqueue the @n mbufs @m
 * (@enq, the guest's RX vring) or dequeue up to 2 x 32 packets (TX; the mbufs
 * it returns are freed after the timer). Returns its TSC cycles; *@took (if
 * not NULL): what the call returned; *@did: it took or published something
 * (returned packets, or the guest's used index moved).
 */
uint64_t vnet_test_call(struct vmp_vnet_port *port, struct vhu_front *fr,
			bool enq, struct rte_mbuf **m, uint16_t n,
			uint16_t *took, bool *did);
/*
 * Empty datapath calls (vnet_test_call) until the guest's used index on the
 * RX (@enq) or TX vring has reached @until (mod 2^16, at most 2^15 behind).
 * Returns the TSC cycles of the calls that published something, and their
 * number in *@polls (if not NULL): a call that found nothing landed waits for
 * the engine, which a real lcore spends on other queues.
 */
uint64_t vnet_test_publish_until(struct vmp_vnet_port *port,
				 struct vhu_front *fr, bool enq, uint16_t until,
				 unsigned int *polls);
/* Close what vnet_test_port_open() opened. */
void vnet_test_port_close(const char *tag, struct vhu_front *fr,
			  struct vmp_vnet_port *port, struct rte_mempool *mp);

struct virtio_net_hdr;

/*
 * A TCP frame at @p (Ethernet, IPv4 or IPv6, TCP with 12 option bytes) and
 * @plen payload bytes of a pattern that starts at @seq; the TCP checksum
 * field holds the pseudo-header sum, as a driver leaves it for NEEDS_CSUM.
 * Returns the frame length (vnet_test_tcp.c).
 */
uint32_t vnet_test_tcp_frame(uint8_t *p, bool v6, uint32_t plen, uint32_t seq);

/* Whether the TCP checksum of the frame @p is valid, and IPv4's. */
int vnet_test_tcp_csum_ok(const uint8_t *p, bool v6);

/*
 * What a guest does with a NEEDS_CSUM header @vh on the segment @f of @len
 * bytes: checks the TCP field holds the pseudo-header sum, then completes it
 * over csum_start..end. TEST_SUCCESS or TEST_FAILED.
 */
int vnet_test_tcp_partial_complete(const struct virtio_net_hdr *vh, uint8_t *f,
				   int len, bool v6);

#endif /* VNET_TEST_UTIL_H */
