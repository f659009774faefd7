/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Receive coalescing (GRO) for guests that take TSO: a run of consecutive,
 * in-order TCP segments of one flow, as an ethdev received them (net_tap:
 * the host kernel's MTU-sized segments), becomes one TSO frame that the
 * guest gets whole, with gso_type/gso_size and NEEDS_CSUM in its header. The
 * guest then handles one packet where it handled up to 45: one skb, one GRO
 * and TCP pass, fewer and fuller receive buffers.
 *
 * Only what is safe to merge is merged, by the rules Linux's own TCP GRO
 * flushes on: a frame whose TCP checksum the ethdev checked GOOD (and its
 * IPv4 header checksum, which is rewritten here) - the merged frame asks
 * the guest to trust a checksum nobody computes again; one direct, unshared
 * mbuf (its headers are rewritten or cut off); Ethernet without VLAN, IPv4
 * without fragments or IPv6 with TCP as next header, no padding; TCP with
 * ACK and at most PSH set, a payload, and every header byte equal to the
 * run's first but the IP length, id and checksum and the TCP sequence
 * number, checksum and PSH; each sequence number where the previous payload
 * ended; every segment but the last exactly as long as the first (the
 * gso_size), the last not longer; PSH ends a run. A frame stays under
 * 64 KiB of IP packet and VMP_VNET_GSO_MAX_SEGS segments. A segment over
 * the guest's MTU is never merged: it stays the enqueue's drop (mtu_drops)
 * rather than reach the guest inside a TSO frame.
 */
#include <string.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "vnet_pvt.h"

/* A candidate segment's header lengths, payload and sequence number. */
struct gro_seg {
	uint16_t l3, l4;
	uint32_t plen, seq;
	bool v6;
};

#define GRO_L2 RTE_ETHER_HDR_LEN
#define TCP_ACK_PSH (RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG)
#define IP_LEN_MAX 65535u

/* Is @m a frame GRO may take, at most @max_frame bytes (the
 * destination's MTU: a longer one is its drop, never a TSO segment)? Fills
 * @g. Bound: none (no loop). */
static bool
gro_parse(const struct rte_mbuf *m, uint32_t max_frame, struct gro_seg *g)
{
	const struct rte_tcp_hdr *th;
	uint32_t len = m->data_len;
	struct vnet_l34 h;

	if (m->next != NULL || !RTE_MBUF_DIRECT(m) ||
	    rte_mbuf_refcnt_read(m) != 1 ||
	    (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) !=
		    RTE_MBUF_F_RX_L4_CKSUM_GOOD ||
	    (m->ol_flags & VNET_OL_FLAGS) || len > max_frame)
		return false;
	/* no VLAN tag (gro_same() compares the headers at fixed offsets),
	 * TCP, no padding after the IP packet */
	if (__vmp_vnet_parse_headers(m, &h) < 0 || h.l2 != GRO_L2 ||
	    h.proto != IPPROTO_TCP || h.end != len ||
	    (!h.v6 && (m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) !=
			      RTE_MBUF_F_RX_IP_CKSUM_GOOD))
		return false;
	th = rte_pktmbuf_mtod_offset(m, const struct rte_tcp_hdr *,
				     GRO_L2 + h.l3);
	if ((th->tcp_flags & ~TCP_ACK_PSH) ||
	    !(th->tcp_flags & RTE_TCP_ACK_FLAG) ||
	    (uint32_t)GRO_L2 + h.l3 + h.l4 >= len)
		return false;
	g->v6 = h.v6;
	g->l3 = h.l3;
	g->l4 = h.l4;
	g->plen = len - GRO_L2 - h.l3 - h.l4;
	g->seq = rte_be_to_cpu_32(th->sent_seq);
	return true;
}

/* Equal bytes of @a and @b in [@from, @to). */
static inline bool
same(const uint8_t *a, const uint8_t *b, uint32_t from, uint32_t to)
{
	return memcmp(a + from, b + from, to - from) == 0;
}

/* Same flow and same headers but what changes from segment to segment?
 * @a is the run's first segment, @ga its parse. */
static bool
gro_same(const uint8_t *a, const struct gro_seg *ga, const uint8_t *b,
	 const struct gro_seg *gb)
{
	uint32_t l4o = GRO_L2 + ga->l3;

	if (ga->v6 != gb->v6 || ga->l3 != gb->l3 || ga->l4 != gb->l4 ||
	    !same(a, b, 0, GRO_L2))
		return false;
	if (ga->v6) {
		/* all but payload_len (4-5) */
		if (!same(a, b, GRO_L2, GRO_L2 + 4) ||
		    !same(a, b, GRO_L2 + 6, l4o))
			return false;
	} else if (!same(a, b, GRO_L2, GRO_L2 + 2) ||
		   !same(a, b, GRO_L2 + 6, GRO_L2 + 10) ||
		   !same(a, b, GRO_L2 + 12, l4o)) {
		/* all but total_length (2-3), packet_id (4-5) and
		 * hdr_checksum (10-11) */
		return false;
	}
	/* TCP: ports, ack, data offset, window, urgent pointer, options;
	 * not seq (4-7), flags (13: ACK on both, PSH may differ), cksum */
	return same(a, b, l4o, l4o + 4) && same(a, b, l4o + 8, l4o + 13) &&
	       same(a, b, l4o + 14, l4o + 16) &&
	       same(a, b, l4o + 18, l4o + ga->l4);
}

/* @m, holding @nseg segments of @mss bytes (the last up to @mss) and
 * @payload bytes after its headers, as a TSO frame: IP length and IPv4
 * checksum, PSH if @psh, the TCP checksum field holding the pseudo-header
 * sum (NEEDS_CSUM), the mbuf's requests. */
static void
gro_close(struct rte_mbuf *m, const struct gro_seg *g, uint32_t payload,
	  uint16_t mss, bool psh)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	struct rte_tcp_hdr *th = (void *)(p + GRO_L2 + g->l3);

	if (psh)
		th->tcp_flags |= RTE_TCP_PSH_FLAG;
	if (g->v6) {
		struct rte_ipv6_hdr *ip = (void *)(p + GRO_L2);

		ip->payload_len = rte_cpu_to_be_16((uint16_t)(g->l4 + payload));
		th->cksum = rte_ipv6_phdr_cksum(ip, 0);
	} else {
		struct rte_ipv4_hdr *ip = (void *)(p + GRO_L2);

		ip->total_length =
			rte_cpu_to_be_16((uint16_t)(g->l3 + g->l4 + payload));
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		th->cksum = rte_ipv4_phdr_cksum(ip, 0);
	}
	m->l2_len = GRO_L2;
	m->l3_len = g->l3;
	m->l4_len = g->l4;
	m->tso_segsz = mss;
	/* RX_LRO: coalesced, tso_segsz the MSS (rte_mbuf_core.h); the
	 * guest's RX vring counts such frames (gro_frames, gro_segs) */
	m->ol_flags = RTE_MBUF_F_RX_LRO | RTE_MBUF_F_TX_TCP_SEG |
		      RTE_MBUF_F_TX_TCP_CKSUM |
		      (g->v6 ? RTE_MBUF_F_TX_IPV6
			     : RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM);
}

/*
 * One run from pkts[0] on: the segments that follow it into it. Returns
 * how many packets it took (1: pkts[0] unchanged). Bound: @n packets.
 */
static uint16_t
gro_run(struct rte_mbuf **pkts, uint16_t n, uint32_t max_frame,
	const struct gro_seg *g0)
{
	struct rte_mbuf *m0 = pkts[0], *tail = m0;
	const uint8_t *h0 = rte_pktmbuf_mtod(m0, const uint8_t *);
	uint32_t hl = GRO_L2 + g0->l3 + g0->l4, payload = g0->plen;
	uint32_t next_seq = g0->seq + g0->plen, last = g0->plen;
	uint16_t mss = (uint16_t)g0->plen, k;
	const struct rte_tcp_hdr *th = (const void *)(h0 + GRO_L2 + g0->l3);
	bool psh = false;
	struct gro_seg g;

	if (th->tcp_flags & RTE_TCP_PSH_FLAG)
		return 1;
	for (k = 1; k < n && k < VMP_VNET_GSO_MAX_SEGS; k++) {
		struct rte_mbuf *m = pkts[k];
		const uint8_t *h = rte_pktmbuf_mtod(m, const uint8_t *);

		if (last != mss || !gro_parse(m, max_frame, &g) ||
		    g.seq != next_seq || g.plen > mss ||
		    hl - GRO_L2 + payload + g.plen > IP_LEN_MAX ||
		    !gro_same(h0, g0, h, &g))
			break;
		psh = !!(((const struct rte_tcp_hdr *)(h + GRO_L2 + g.l3))
				 ->tcp_flags &
			 RTE_TCP_PSH_FLAG);
		rte_pktmbuf_adj(m, (uint16_t)hl);
		tail->next = m;
		tail = m;
		m0->nb_segs++;
		m0->pkt_len += m->data_len;
		payload += g.plen;
		next_seq += g.plen;
		last = g.plen;
		if (psh) {
			k++;
			break;
		}
	}
	if (k > 1)
		gro_close(m0, g0, payload, mss, psh);
	return k;
}

uint16_t
__vmp_vnet_gro_merge(struct rte_mbuf **pkts, uint16_t n, uint32_t caps,
		     uint32_t max_frame)
{
	uint16_t i = 0, out = 0;
	struct gro_seg g;

	if (!(caps & (VMP_VNET_CAP_TSO4 | VMP_VNET_CAP_TSO6)))
		return n;
	/* Bound: @n packets, each taken by one run */
	while (i < n) {
		uint16_t k = 1;

		if (gro_parse(pkts[i], max_frame, &g) &&
		    (caps & (g.v6 ? VMP_VNET_CAP_TSO6 : VMP_VNET_CAP_TSO4)))
			k = gro_run(pkts + i, (uint16_t)(n - i), max_frame, &g);
		pkts[out++] = pkts[i];
		i = (uint16_t)(i + k);
	}
	return out;
}

uint16_t
vmp_vnet_gro_burst(const struct vmp_vnet_port *port, struct rte_mbuf **pkts,
		   uint16_t n)
{
	if (unlikely(port == NULL || n < 2))
		return n;
	/* features and MTU read outside the vring: a guest renegotiating
	 * meanwhile still gets each frame only in a form it agreed to, as
	 * vmp_vnet_enqueue_burst() finishes by the features it sees */
	return __vmp_vnet_gro_merge(pkts, n, __vmp_vnet_rx_caps(port),
				    port->max_frame);
}
