/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Offload requests finished in software for a destination that did not
 * agree to them: TCP segmentation over IPv4 and IPv6 (DPDK 22.11's rte_gso
 * segments IPv4 only and leaves the checksums to the NIC), and the IPv4,
 * TCP and UDP checksums. Each segment is a new mbuf holding a copy of the
 * headers, chained to indirect mbufs that point into the frame's own
 * payload (no payload copy: the destination copies it once, into guest
 * memory or a NIC). A destination that takes L4 checksum requests but not
 * TSO gets partial segments, as rte_gso_segment() makes them: each TCP
 * checksum field holds its pseudo-header sum and the segment asks for
 * RTE_MBUF_F_TX_TCP_CKSUM (NEEDS_CSUM in a guest's header), so the payload
 * is never read here; the IPv4 header checksum is left to a destination
 * that takes it (ethdev) and filled in otherwise (virtio has no such
 * offload). Any other destination gets every checksum complete and needs
 * no offload at all. The frame's data stays referenced, read-only, until
 * its last segment is freed; other destinations of the same frame read the
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

/*
 * Where the next payload byte of a frame is (segment and offset in it), and
 * the references the segments made so far hold on it. Each indirect mbuf
 * takes a reference to the mbuf whose data it points at; instead of one
 * atomic update per attach, the attaches to one source mbuf are counted in
 * @refs and added in one update when the cursor leaves it. In @handover
 * frames (every mbuf direct, with payload bytes) the frame's own reference
 * to each mbuf goes to its first attach, so the frame is not freed at the
 * end either: an unshared frame is segmented without an atomic operation.
 */
struct gso_cursor {
	struct rte_mbuf *seg;
	uint32_t off;
	uint16_t refs;
	bool handover;
};

/* As rte_pktmbuf_attach(@n, @src) for a @src without external buffer, but
 * the reference @n holds is counted by the caller (gso_cursor.refs), and
 * for an @n that is a payload piece of a segment, never its first mbuf:
 * per-packet fields (port, vlan, tx_offload, hash, packet_type, dynamic
 * fields) are only read in a packet's first mbuf, so they are neither
 * copied nor reset. Copying them as rte_pktmbuf_attach() does (the dynamic
 * fields from the second cache line of @src) cost a partial segment more
 * than rte_gso_segment() whole (2026-12-03: 65 against 57 cycles; 55-57
 * without). */
static inline void
attach_counted(struct rte_mbuf *n, const struct rte_mbuf *src)
{
	n->priv_size = src->priv_size;
	n->ol_flags = RTE_MBUF_F_INDIRECT;
	n->data_off = src->data_off;
	rte_mbuf_iova_set(n, rte_mbuf_iova_get(src));
	n->buf_addr = src->buf_addr;
	n->buf_len = src->buf_len;
	n->next = NULL;
	n->nb_segs = 1;
}

/* The references counted for the cursor's mbuf, added to the mbuf that
 * holds its data (itself when direct). */
static void
cursor_flush(struct gso_cursor *c)
{
	int16_t v = (int16_t)(c->refs - (c->handover ? 1 : 0));

	if (c->refs != 0 && v != 0)
		rte_mbuf_refcnt_update(rte_mbuf_from_indirect(c->seg), v);
	c->refs = 0;
}

/* A failed segmentation of @m: the references its segments hold counted
 * in full, and the frame's own given back, so freeing the segments leaves
 * @m as it was. */
static void
cursor_unwind(struct gso_cursor *c, struct rte_mbuf *m)
{
	bool h = c->handover;

	c->handover = false;
	cursor_flush(c);
	/* Bound: the frame's chain up to the cursor */
	for (; h && m != NULL && m != c->seg; m = m->next)
		rte_mbuf_refcnt_update(m, 1);
}

/* A frame whose mbufs can all hand their reference over (gso_cursor): each
 * direct, none empty past the headers, data lengths adding up to pkt_len
 * (so every one gets an attach). */
static bool
handover_ok(const struct rte_mbuf *m, uint32_t hl)
{
	uint32_t sum = 0;
	const struct rte_mbuf *s;

	/* Bound: the chain's nb_segs mbufs */
	for (s = m; s != NULL; s = s->next) {
		if (!RTE_MBUF_DIRECT(s) || s->data_len <= (s == m ? hl : 0))
			return false;
		sum += s->data_len;
	}
	return sum == m->pkt_len;
}

/* Raw sum of @len bytes at @p that lie at offset @done of what is summed:
 * at an odd offset the bytes sit in the other half of each 16-bit word,
 * so the folded sum is swapped (RFC 1071). DPDK 22.11's
 * rte_raw_cksum_mbuf() swaps before folding the carries, which is wrong
 * for such pieces: every multi-mbuf sum here goes through this. */
static inline uint32_t
piece_sum(const void *p, uint32_t len, uint32_t done)
{
	uint16_t ps = __rte_raw_cksum_reduce(__rte_raw_cksum(p, len, 0));

	return (done & 1) ? (uint16_t)((ps >> 8) | (ps << 8)) : ps;
}

/* Chain to @dst indirect mbufs from @mp covering the next @len bytes at
 * @c, advancing @c; their bytes' raw checksum added to @sum unless it is
 * NULL (partial segments: the payload is not read). Bound: one
 * indirect mbuf per source segment the range touches; the cursor only
 * moves forward, so segmenting a whole frame walks its chain once. */
static int
attach_range(struct rte_mbuf *dst, struct rte_mempool *mp, struct gso_cursor *c,
	     uint32_t len, uint32_t *sum)
{
	struct rte_mbuf *last = rte_pktmbuf_lastseg(dst);
	uint32_t done = 0;

	while (len > 0 && c->seg != NULL) {
		struct rte_mbuf *src = c->seg, *n;
		uint32_t l = RTE_MIN(len, (uint32_t)src->data_len - c->off);

		if (l == 0) { /* an empty segment, or this one is used up */
			cursor_flush(c);
			c->seg = src->next;
			c->off = 0;
			continue;
		}
		/* not reset: attach_counted() or rte_pktmbuf_attach() sets
		 * what a payload piece needs (a pool's free mbufs are direct,
		 * refcnt 1, next NULL, nb_segs 1) */
		n = rte_mbuf_raw_alloc(mp);
		if (n == NULL)
			return -ENOMEM;
		if (RTE_MBUF_HAS_EXTBUF(src)) {
			rte_pktmbuf_attach(n, src);
		} else {
			attach_counted(n, src);
			c->refs++;
		}
		n->data_off = (uint16_t)(src->data_off + c->off);
		n->data_len = (uint16_t)l;
		n->pkt_len = l;
		/* summed while the bytes are at hand */
		if (sum != NULL)
			*sum += piece_sum(rte_pktmbuf_mtod(n, void *), l, done);
		last->next = n;
		last = n;
		dst->nb_segs++;
		dst->pkt_len += l;
		c->off += l;
		done += l;
		len -= l;
	}
	return len == 0 ? 0 : -EINVAL;
}

/* Segment @s: @m's @hl header bytes (in its first mbuf, ol_fields_ok())
 * copied, then the next @plen payload bytes at @c attached, their raw sum
 * in @sum (not summed if NULL). */
static int
attach_payload(struct rte_mbuf *s, struct rte_mempool *mp,
	       const struct rte_mbuf *m, uint32_t hl, struct gso_cursor *c,
	       uint32_t plen, uint32_t *sum)
{
	rte_memcpy(rte_pktmbuf_mtod(s, uint8_t *),
		   rte_pktmbuf_mtod(m, const uint8_t *), hl);
	s->data_len = (uint16_t)hl;
	s->pkt_len = hl;
	if (sum != NULL)
		*sum = 0;
	return attach_range(s, mp, c, plen, sum);
}

/* Bound: the chain's mbufs. */
uint32_t
__vmp_vnet_chain_sum(const struct rte_mbuf *m, uint32_t off, uint32_t len)
{
	uint32_t sum = 0, done = 0, l;

	for (; m != NULL && done < len; m = m->next) {
		if (off >= m->data_len) {
			off -= m->data_len;
			continue;
		}
		l = RTE_MIN((uint32_t)m->data_len - off, len - done);
		sum += piece_sum(rte_pktmbuf_mtod_offset(m, const void *, off),
				 l, done);
		done += l;
		off = 0;
	}
	return sum;
}

/* The complete L4 checksum of the packet @m whose L4 header starts at
 * @l4_off (field zeroed by the caller), over the L4 length its IP header
 * gives, as rte_ipv{4,6}_udptcp_cksum_mbuf() but right for chains of odd
 * lengths. 0 is sent as 0xffff (the same in ones' complement; UDP needs
 * it). */
static uint16_t
l4_cksum(const struct rte_mbuf *m, bool v6, uint16_t l3_off, uint16_t l4_off)
{
	const void *ip = rte_pktmbuf_mtod_offset(m, const void *, l3_off);
	uint32_t sum, len;
	uint16_t c;

	if (v6) {
		len = rte_be_to_cpu_16(
			((const struct rte_ipv6_hdr *)ip)->payload_len);
		sum = rte_ipv6_phdr_cksum(ip, 0);
	} else {
		len = (uint32_t)rte_be_to_cpu_16(
			      ((const struct rte_ipv4_hdr *)ip)->total_length) -
		      rte_ipv4_hdr_len(ip);
		sum = rte_ipv4_phdr_cksum(ip, 0);
	}
	sum += __vmp_vnet_chain_sum(m, l4_off, len);
	c = (uint16_t)~__rte_raw_cksum_reduce(sum);
	return c == 0 ? 0xffff : c;
}

/*
 * What every segment of one TSO frame shares: its header layout, the
 * requests left to the destination (@pol: RTE_MBUF_F_TX_*; with TCP_CKSUM
 * the TCP checksum field gets the pseudo-header sum, with IP_CKSUM the
 * IPv4 header checksum is 0), and the raw sums of the header fields no
 * segment changes, so that a segment's sums need only its own fields
 * (rte_ipv4_phdr_cksum() builds its pseudo header on the stack, and the
 * loads of it stall on the stores: about a tenth of a partial segment).
 */
struct seg_plan {
	uint64_t pol;
	/* l2/l3/l4_len in one store: bitfield stores one by one are
	 * read-modify-writes that stall on each other (a seventh of a
	 * partial segment, seen with perf) */
	uint64_t tx_offload;
	uint32_t ph_sum; /* pseudo header but its length */
	uint32_t ip_sum; /* IPv4 header but total_length, packet_id, checksum */
	uint16_t ip_id;	 /* the frame's IPv4 packet_id */
	uint16_t n;
	uint16_t l3o, l4o, hl; /* offsets of L3, L4, payload */
	bool v6;
};

static void
seg_plan_init(struct seg_plan *sp, const struct rte_mbuf *m, uint16_t n,
	      uint64_t pol)
{
	const uint8_t *ip =
		rte_pktmbuf_mtod_offset(m, const uint8_t *, m->l2_len);

	sp->pol = pol;
	sp->tx_offload = rte_mbuf_tx_offload(m->l2_len, m->l3_len, m->l4_len, 0,
					     0, 0, 0);
	sp->n = n;
	sp->l3o = m->l2_len;
	sp->l4o = m->l2_len + m->l3_len;
	sp->hl = sp->l4o + m->l4_len;
	sp->v6 = !!(m->ol_flags & RTE_MBUF_F_TX_IPV6);
	if (sp->v6) {
		const struct rte_ipv6_hdr *h = (const void *)ip;

		/* as rte_ipv6_phdr_cksum(): addresses, 32-bit proto */
		sp->ph_sum = __rte_raw_cksum(h->src_addr, 32,
					     rte_cpu_to_be_16(h->proto));
		sp->ip_sum = 0;
		sp->ip_id = 0;
		return;
	}
	/* as rte_ipv4_phdr_cksum(): addresses, zero byte and proto */
	sp->ph_sum = __rte_raw_cksum(
		ip + offsetof(struct rte_ipv4_hdr, src_addr), 8,
		rte_cpu_to_be_16(
			((const struct rte_ipv4_hdr *)ip)->next_proto_id));
	/* version..tos, fragment_offset..next_proto_id, addresses and
	 * options: every 16-bit word but the three set per segment */
	sp->ip_sum = __rte_raw_cksum(ip, 2, 0);
	sp->ip_sum = __rte_raw_cksum(ip + 6, 4, sp->ip_sum);
	sp->ip_sum = __rte_raw_cksum(ip + 12, m->l3_len - 12u, sp->ip_sum);
	sp->ip_id =
		rte_be_to_cpu_16(((const struct rte_ipv4_hdr *)ip)->packet_id);
}

/* Headers of the segment @s, number @i of its frame's (@sp), @plen payload
 * bytes at payload offset @poff whose raw checksum is @psum (unused when
 * the TCP checksum is left partial). */
static void
seg_headers(struct rte_mbuf *s, const struct seg_plan *sp, uint16_t i,
	    uint32_t plen, uint32_t poff, uint32_t psum)
{
	struct rte_tcp_hdr *th = rte_pktmbuf_mtod_offset(s, void *, sp->l4o);
	uint16_t l4len = (uint16_t)(sp->hl - sp->l4o + plen), len;
	uint32_t sum;

	if (sp->v6) {
		struct rte_ipv6_hdr *ip =
			rte_pktmbuf_mtod_offset(s, void *, sp->l3o);

		len = rte_cpu_to_be_16(
			(uint16_t)(sp->l4o - sp->l3o - sizeof(*ip) + l4len));
		ip->payload_len = len;
	} else {
		struct rte_ipv4_hdr *ip =
			rte_pktmbuf_mtod_offset(s, void *, sp->l3o);
		uint16_t tl =
			rte_cpu_to_be_16((uint16_t)(sp->l4o - sp->l3o + l4len));
		uint16_t id = rte_cpu_to_be_16((uint16_t)(sp->ip_id + i));

		ip->total_length = tl;
		ip->packet_id = id;
		ip->hdr_checksum = 0;
		if (!(sp->pol & RTE_MBUF_F_TX_IP_CKSUM))
			ip->hdr_checksum = (uint16_t)~__rte_raw_cksum_reduce(
				sp->ip_sum + tl + id);
		len = rte_cpu_to_be_16(l4len);
	}
	sum = sp->ph_sum + len;
	th->sent_seq = rte_cpu_to_be_32(rte_be_to_cpu_32(th->sent_seq) + poff);
	/* FIN and PSH end the frame, CWR starts it (RFC 3168 6.1.2) */
	if (i + 1 != sp->n)
		th->tcp_flags &=
			(uint8_t) ~(RTE_TCP_FIN_FLAG | RTE_TCP_PSH_FLAG);
	if (i != 0)
		th->tcp_flags &= (uint8_t)~RTE_TCP_CWR_FLAG;
	if (sp->pol & RTE_MBUF_F_TX_TCP_CKSUM) {
		/* what the receiver of a NEEDS_CSUM header, or a NIC asked for
		 * TCP_CKSUM, starts from: the folded pseudo-header sum */
		th->cksum = __rte_raw_cksum_reduce(sum);
		return;
	}
	th->cksum = 0;
	/* the payload was summed as it was attached: only the header here */
	sum = __rte_raw_cksum(th, (size_t)(sp->hl - sp->l4o), sum + psum);
	th->cksum = (uint16_t)~__rte_raw_cksum_reduce(sum);
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

/* The requests (RTE_MBUF_F_TX_*) a segment of the TSO frame @m leaves to a
 * destination that takes @caps: none, or the partial form. */
static uint64_t
seg_requests(const struct rte_mbuf *m, uint32_t caps)
{
	if (!(caps & VMP_VNET_CAP_L4_CSUM))
		return 0;
	if (m->ol_flags & RTE_MBUF_F_TX_IPV6)
		return RTE_MBUF_F_TX_TCP_CKSUM | RTE_MBUF_F_TX_IPV6;
	return RTE_MBUF_F_TX_TCP_CKSUM | RTE_MBUF_F_TX_IPV4 |
	       ((caps & VMP_VNET_CAP_IP_CSUM) ? RTE_MBUF_F_TX_IP_CKSUM : 0);
}

/* TCP segmentation of @m into @out, each segment asking for @pol
 * (seg_requests()); @m is then owned by the segments' indirect mbufs (or
 * freed). On failure @m is as it was. */
static int
sw_segment(struct rte_mbuf *m, struct rte_mempool *mp, struct rte_mbuf **out,
	   uint16_t max_out, uint64_t pol)
{
	uint32_t hl = (uint32_t)m->l2_len + m->l3_len + m->l4_len;
	uint32_t payload = m->pkt_len - hl, mss = m->tso_segsz, poff = 0;
	uint32_t n = payload == 0 ? 1 : (payload + mss - 1) / mss, i, psum = 0;
	struct gso_cursor c = {.seg = m, .off = hl};
	struct seg_plan sp;

	if (n > max_out)
		return -ENOSPC;
	seg_plan_init(&sp, m, (uint16_t)n, pol);
	c.handover = payload != 0 && handover_ok(m, hl);
	/* Bound: n <= max_out segments */
	for (i = 0; i < n; i++) {
		uint32_t plen = RTE_MIN(mss, payload - poff);
		struct rte_mbuf *s = rte_pktmbuf_alloc(mp);
		int rc = s == NULL ? -ENOMEM
			 : hl > rte_pktmbuf_tailroom(s)
				 ? -EINVAL
				 : attach_payload(s, mp, m, hl, &c, plen,
						  pol != 0 ? NULL : &psum);

		if (rc < 0) {
			cursor_unwind(&c, m);
			rte_pktmbuf_free(s);
			rte_pktmbuf_free_bulk(out, i);
			return rc;
		}
		seg_headers(s, &sp, (uint16_t)i, plen, poff, psum);
		s->port = m->port;
		if (pol != 0) {
			s->ol_flags = pol;
			s->tx_offload = sp.tx_offload;
		}
		out[i] = s;
		poff += plen;
	}
	if (c.seg != NULL)
		cursor_flush(&c);
	/* the frame's references went to the first attach of each mbuf */
	if (!c.handover)
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
		return sw_segment(m, mp, out, max_out, seg_requests(m, caps));
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
