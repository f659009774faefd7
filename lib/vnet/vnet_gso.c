/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Offload requests finished in software for a destination that did not
 * agree to them: TCP segmentation over IPv4 and IPv6 (DPDK 22.11's rte_gso
 * segments IPv4 only and leaves the checksums to the NIC), and the IPv4,
 * TCP and UDP checksums. Each segment is a new mbuf holding a copy of the
 * headers, chained to indirect mbufs that point into the frame's own
 * payload (no payload copy: the destination copies it once, into guest
 * memory or a NIC), every checksum complete, so the destination needs no
 * offload at all. The frame's data stays referenced, read-only, until its
 * last segment is freed; other destinations of the same frame read the
 * same bytes.
 */
#include <errno.h>

#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "vnet_pvt.h"

#define OL_L4_CSUM (RTE_MBUF_F_TX_L4_MASK)
#define OL_ALL                                                                 \
	(RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_IP_CKSUM)

/* Where the next payload byte of a frame is: segment and offset in it. */
struct gso_cursor {
	struct rte_mbuf *seg;
	uint32_t off;
};

/* Chain to @dst indirect mbufs from @mp covering the next @len bytes at
 * @c, advancing @c. Bound: one indirect mbuf per source segment the range
 * touches; the cursor only moves forward, so segmenting a whole frame
 * walks its chain once. */
static int
attach_range(struct rte_mbuf *dst, struct rte_mempool *mp, struct gso_cursor *c,
	     uint32_t len)
{
	struct rte_mbuf *last = rte_pktmbuf_lastseg(dst);

	while (len > 0 && c->seg != NULL) {
		struct rte_mbuf *src = c->seg, *n;
		uint32_t l = RTE_MIN(len, (uint32_t)src->data_len - c->off);

		if (l == 0) { /* an empty segment, or this one is used up */
			c->seg = src->next;
			c->off = 0;
			continue;
		}
		n = rte_pktmbuf_alloc(mp);
		if (n == NULL)
			return -ENOMEM;
		rte_pktmbuf_attach(n, src);
		n->data_off = (uint16_t)(src->data_off + c->off);
		n->data_len = (uint16_t)l;
		n->pkt_len = l;
		last->next = n;
		last = n;
		dst->nb_segs++;
		dst->pkt_len += l;
		c->off += l;
		len -= l;
	}
	return len == 0 ? 0 : -EINVAL;
}

/* Segment @s: @m's @hl header bytes (in its first mbuf, ol_fields_ok())
 * copied, then the next @plen payload bytes at @c attached. */
static int
attach_payload(struct rte_mbuf *s, struct rte_mempool *mp,
	       const struct rte_mbuf *m, uint32_t hl, struct gso_cursor *c,
	       uint32_t plen)
{
	rte_memcpy(rte_pktmbuf_mtod(s, uint8_t *),
		   rte_pktmbuf_mtod(m, const uint8_t *), hl);
	s->data_len = (uint16_t)hl;
	s->pkt_len = hl;
	return attach_range(s, mp, c, plen);
}

/* The complete L4 checksum of the one-segment-headers packet @m whose L4
 * header starts at @l4 (field zeroed by the caller). */
static uint16_t
l4_cksum(const struct rte_mbuf *m, bool v6, uint16_t l3_off, uint16_t l4_off)
{
	const void *ip = rte_pktmbuf_mtod_offset(m, const void *, l3_off);

	return v6 ? rte_ipv6_udptcp_cksum_mbuf(m, ip, l4_off)
		  : rte_ipv4_udptcp_cksum_mbuf(m, ip, l4_off);
}

/* Headers of the TSO frame @m fixed for segment @i of @n, @plen payload
 * bytes at payload offset @poff. */
static void
seg_headers(struct rte_mbuf *s, const struct rte_mbuf *m, uint16_t i,
	    uint16_t n, uint32_t plen, uint32_t poff)
{
	bool v6 = !!(m->ol_flags & RTE_MBUF_F_TX_IPV6);
	uint16_t l3o = m->l2_len, l4o = m->l2_len + m->l3_len;
	struct rte_tcp_hdr *th = rte_pktmbuf_mtod_offset(s, void *, l4o);

	if (v6) {
		struct rte_ipv6_hdr *ip =
			rte_pktmbuf_mtod_offset(s, void *, l3o);

		ip->payload_len = rte_cpu_to_be_16(
			(uint16_t)(m->l3_len - sizeof(*ip) + m->l4_len + plen));
	} else {
		struct rte_ipv4_hdr *ip =
			rte_pktmbuf_mtod_offset(s, void *, l3o);

		ip->total_length = rte_cpu_to_be_16(
			(uint16_t)(m->l3_len + m->l4_len + plen));
		ip->packet_id = rte_cpu_to_be_16(
			(uint16_t)(rte_be_to_cpu_16(ip->packet_id) + i));
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	}
	th->sent_seq = rte_cpu_to_be_32(rte_be_to_cpu_32(th->sent_seq) + poff);
	/* FIN and PSH end the frame, CWR starts it (RFC 3168 6.1.2) */
	if (i + 1 != n)
		th->tcp_flags &=
			(uint8_t) ~(RTE_TCP_FIN_FLAG | RTE_TCP_PSH_FLAG);
	if (i != 0)
		th->tcp_flags &= (uint8_t)~RTE_TCP_CWR_FLAG;
	th->cksum = 0;
	th->cksum = l4_cksum(s, v6, l3o, l4o);
}

/* Headers (l2 + l3 + l4 bytes) in the first segment and sane for @m's
 * requests. */
static bool
ol_fields_ok(const struct rte_mbuf *m)
{
	uint32_t l4 = m->l4_len;

	if (m->ol_flags & RTE_MBUF_F_TX_TCP_SEG) {
		if (m->tso_segsz == 0 || l4 < sizeof(struct rte_tcp_hdr))
			return false;
	} else if ((m->ol_flags & RTE_MBUF_F_TX_L4_MASK) ==
		   RTE_MBUF_F_TX_TCP_CKSUM) {
		l4 = RTE_MAX(l4, (uint32_t)sizeof(struct rte_tcp_hdr));
	} else if ((m->ol_flags & RTE_MBUF_F_TX_L4_MASK) ==
		   RTE_MBUF_F_TX_UDP_CKSUM) {
		l4 = RTE_MAX(l4, (uint32_t)sizeof(struct rte_udp_hdr));
	} else if (m->ol_flags & RTE_MBUF_F_TX_L4_MASK) {
		return false; /* SCTP: not a ones' complement sum */
	}
	if (m->ol_flags & RTE_MBUF_F_TX_IPV6)
		return m->l3_len >= sizeof(struct rte_ipv6_hdr) &&
		       !(m->ol_flags & RTE_MBUF_F_TX_IP_CKSUM) &&
		       (uint32_t)m->l2_len + m->l3_len + l4 <= m->data_len;
	return (m->ol_flags & RTE_MBUF_F_TX_IPV4) &&
	       m->l3_len >= sizeof(struct rte_ipv4_hdr) &&
	       (uint32_t)m->l2_len + m->l3_len + l4 <= m->data_len;
}

/* TCP segmentation of @m into @out; frees @m on success (its data lives on
 * in the segments' indirect mbufs). */
static int
sw_segment(struct rte_mbuf *m, struct rte_mempool *mp, struct rte_mbuf **out,
	   uint16_t max_out)
{
	uint32_t hl = (uint32_t)m->l2_len + m->l3_len + m->l4_len;
	uint32_t payload = m->pkt_len - hl, mss = m->tso_segsz, poff = 0;
	uint32_t n = payload == 0 ? 1 : (payload + mss - 1) / mss, i;
	struct gso_cursor c = {.seg = m, .off = hl};

	if (n > max_out)
		return -ENOSPC;
	/* Bound: n <= max_out segments */
	for (i = 0; i < n; i++) {
		uint32_t plen = RTE_MIN(mss, payload - poff);
		struct rte_mbuf *s = rte_pktmbuf_alloc(mp);

		if (s == NULL || hl > rte_pktmbuf_tailroom(s) ||
		    attach_payload(s, mp, m, hl, &c, plen) < 0) {
			rte_pktmbuf_free(s);
			rte_pktmbuf_free_bulk(out, i);
			return s == NULL ? -ENOMEM : -EINVAL;
		}
		seg_headers(s, m, (uint16_t)i, (uint16_t)n, plen, poff);
		s->port = m->port;
		out[i] = s;
		poff += plen;
	}
	rte_pktmbuf_free(m);
	return (int)n;
}

/* Can @m's bytes be written in place (no other reference to them)? */
static bool
data_private(const struct rte_mbuf *m)
{
	/* Bound: the chain's nb_segs mbufs */
	for (; m != NULL; m = m->next)
		if (!RTE_MBUF_DIRECT(m) || rte_mbuf_refcnt_read(m) != 1)
			return false;
	return true;
}

/* The checksums of @m that @caps does not take, in place. */
static void
sw_cksum(struct rte_mbuf *m, uint32_t caps)
{
	bool v6 = !!(m->ol_flags & RTE_MBUF_F_TX_IPV6);
	uint64_t l4 = m->ol_flags & RTE_MBUF_F_TX_L4_MASK;
	uint16_t l3o = m->l2_len, l4o = m->l2_len + m->l3_len;

	if ((m->ol_flags & RTE_MBUF_F_TX_IP_CKSUM) &&
	    !(caps & VMP_VNET_CAP_IP_CSUM)) {
		struct rte_ipv4_hdr *ip =
			rte_pktmbuf_mtod_offset(m, void *, l3o);

		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		m->ol_flags &= ~RTE_MBUF_F_TX_IP_CKSUM;
	}
	if (l4 && !(caps & VMP_VNET_CAP_L4_CSUM)) {
		uint16_t *f = rte_pktmbuf_mtod_offset(
			m, uint16_t *,
			l4o + (l4 == RTE_MBUF_F_TX_TCP_CKSUM
				       ? offsetof(struct rte_tcp_hdr, cksum)
				       : offsetof(struct rte_udp_hdr,
						  dgram_cksum)));

		*f = 0;
		*f = l4_cksum(m, v6, l3o, l4o);
		m->ol_flags &= ~RTE_MBUF_F_TX_L4_MASK;
	}
}

int
vmp_vnet_offload_finish(struct rte_mbuf *m, uint32_t caps,
			struct rte_mempool *mp, struct rte_mbuf **out,
			uint16_t max_out)
{
	uint64_t fl = m->ol_flags;
	bool v6 = !!(fl & RTE_MBUF_F_TX_IPV6);
	struct rte_mbuf *c;

	if (max_out == 0)
		return -ENOSPC;
	if (!(fl & OL_ALL)) {
		out[0] = m;
		return 1;
	}
	if (!ol_fields_ok(m))
		return -EINVAL;
	if (fl & RTE_MBUF_F_TX_TCP_SEG) {
		if (caps & (v6 ? VMP_VNET_CAP_TSO6 : VMP_VNET_CAP_TSO4)) {
			out[0] = m;
			return 1;
		}
		return sw_segment(m, mp, out, max_out);
	}
	if (((fl & RTE_MBUF_F_TX_IP_CKSUM) && !(caps & VMP_VNET_CAP_IP_CSUM)) ||
	    ((fl & RTE_MBUF_F_TX_L4_MASK) && !(caps & VMP_VNET_CAP_L4_CSUM))) {
		if (!data_private(m)) {
			/* another destination may read these bytes */
			c = rte_pktmbuf_copy(m, mp, 0, UINT32_MAX);
			if (c == NULL)
				return -ENOMEM;
			c->ol_flags = fl;
			c->tx_offload = m->tx_offload;
			rte_pktmbuf_free(m);
			m = c;
		}
		sw_cksum(m, caps);
	}
	out[0] = m;
	return 1;
}
