/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The virtio-net header's offload fields, both ways.
 *
 * Guest TX: the header is copied out of guest memory once, at dequeue, into
 * the headroom of the packet's mbuf (vnet_tx_hdr_stash()); nothing reads it
 * in guest memory again. Once the packet's bytes landed in the mbuf (host
 * memory the guest cannot change any more), the header is checked against
 * the packet's own headers, parsed there, and becomes mbuf offload requests,
 * or the packet is dropped and counted by reason.
 *
 * Guest RX: what a packet still asks for after vmp_vnet_offload_finish()
 * with the guest's capabilities goes into its header.
 */
#include <linux/virtio_net.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "vnet_pvt.h"

/* The largest frame a segment may be: a 9000-byte MTU, Ethernet and VLAN. */
#define GSO_MAX_SEG_FRAME (9000 + RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN)
/* An L4 checksum field further than this from csum_start is outside any
 * TCP (60 bytes) or UDP header. */
#define CSUM_OFFSET_MAX (60 - 2)

static_assert(sizeof(struct virtio_net_hdr) == VNET_HDR_LEGACY, "header");

static int
parse_l3(const uint8_t *p, uint32_t len, uint32_t pkt_len, struct vnet_l34 *h)
{
	if (!h->v6) {
		const struct rte_ipv4_hdr *ip = (const void *)(p + h->l2);
		uint32_t ihl, tot;

		if (len < h->l2 + sizeof(*ip) || (ip->version_ihl >> 4) != 4)
			return -1;
		ihl = (ip->version_ihl & 0xf) * 4u;
		tot = rte_be_to_cpu_16(ip->total_length);
		/* fragments: the L4 header is not in this one */
		if (ihl < sizeof(*ip) || tot < ihl || h->l2 + tot > pkt_len ||
		    (ip->fragment_offset &
		     rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG |
				      RTE_IPV4_HDR_OFFSET_MASK)))
			return -1;
		h->l3 = (uint16_t)ihl;
		h->proto = ip->next_proto_id;
		h->end = h->l2 + tot;
	} else {
		const struct rte_ipv6_hdr *ip = (const void *)(p + h->l2);

		/* extension headers are not walked: the L4 header must be
		 * the first next header */
		if (len < h->l2 + sizeof(*ip) ||
		    (rte_be_to_cpu_32(ip->vtc_flow) >> 28) != 6)
			return -1;
		h->l3 = sizeof(*ip);
		h->proto = ip->proto;
		h->end =
			h->l2 + sizeof(*ip) + rte_be_to_cpu_16(ip->payload_len);
		if (h->end > pkt_len)
			return -1;
	}
	return 0;
}

int
__vmp_vnet_parse_headers(const struct rte_mbuf *m, struct vnet_l34 *h)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = m->data_len, l4o;
	uint16_t et;

	if (len < RTE_ETHER_HDR_LEN)
		return -1;
	h->l2 = RTE_ETHER_HDR_LEN;
	et = rte_be_to_cpu_16(*(const rte_be16_t *)(p + 12));
	if (et == RTE_ETHER_TYPE_VLAN) {
		if (len < RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN)
			return -1;
		et = rte_be_to_cpu_16(*(const rte_be16_t *)(p + 16));
		h->l2 += RTE_VLAN_HLEN;
	}
	if (et != RTE_ETHER_TYPE_IPV4 && et != RTE_ETHER_TYPE_IPV6)
		return -1;
	h->v6 = et == RTE_ETHER_TYPE_IPV6;
	if (parse_l3(p, len, m->pkt_len, h) < 0)
		return -1;
	l4o = (uint32_t)h->l2 + h->l3;
	if (h->proto == IPPROTO_TCP) {
		const struct rte_tcp_hdr *th = (const void *)(p + l4o);

		if (len < l4o + sizeof(*th))
			return -1;
		h->l4 = (uint16_t)((th->data_off >> 4) * 4u);
		if (h->l4 < sizeof(*th))
			return -1;
	} else if (h->proto == IPPROTO_UDP) {
		h->l4 = sizeof(struct rte_udp_hdr);
	} else {
		return -1;
	}
	return (l4o + h->l4 <= len && l4o + h->l4 <= h->end) ? 0 : -1;
}

/* Write the 16-bit @v at byte @off of @m (it may straddle two segments). */
static void
mbuf_put16(struct rte_mbuf *m, uint32_t off, uint16_t v)
{
	const uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
	unsigned int i;

	for (i = 0; i < 2; i++, off++) {
		/* Bound: the chain's segments */
		while (m != NULL && off >= m->data_len) {
			off -= m->data_len;
			m = m->next;
		}
		if (m == NULL)
			return;
		*rte_pktmbuf_mtod_offset(m, uint8_t *, off) = b[i];
	}
}

/* NEEDS_CSUM without GSO: an mbuf request when it is the TCP or UDP
 * checksum, else done here (csum_start..end, as the virtio spec says). */
static int
tx_csum(struct vnet_vq *vq, struct rte_mbuf *m, const struct virtio_net_hdr *vh)
{
	uint32_t cs = rte_le_to_cpu_16(vh->csum_start);
	uint32_t co = rte_le_to_cpu_16(vh->csum_offset);
	uint16_t sum;
	struct vnet_l34 h;

	if (cs >= m->pkt_len || co > CSUM_OFFSET_MAX ||
	    cs + co + 2 > m->pkt_len)
		return VMP_VNET_BAD_HDR_CSUM;
	if (__vmp_vnet_parse_headers(m, &h) == 0 &&
	    cs == (uint32_t)h.l2 + h.l3 &&
	    co == (h.proto == IPPROTO_TCP
			   ? offsetof(struct rte_tcp_hdr, cksum)
			   : offsetof(struct rte_udp_hdr, dgram_cksum))) {
		m->l2_len = h.l2;
		m->l3_len = h.l3;
		m->l4_len = h.l4;
		m->ol_flags |=
			(h.v6 ? RTE_MBUF_F_TX_IPV6 : RTE_MBUF_F_TX_IPV4) |
			(h.proto == IPPROTO_TCP ? RTE_MBUF_F_TX_TCP_CKSUM
						: RTE_MBUF_F_TX_UDP_CKSUM);
		vq->st.ol_csum++;
		return -1;
	}
	/* the field holds the guest's partial sum: fold it in */
	sum = __rte_raw_cksum_reduce(
		__vmp_vnet_chain_sum(m, cs, m->pkt_len - cs));
	mbuf_put16(m, cs + co, (uint16_t)~sum);
	vq->st.sw_csum++;
	return -1;
}

/* A GSO frame: a TSO request if the headers are what gso_type says. */
static int
tx_gso(struct vnet_vq *vq, struct rte_mbuf *m, const struct virtio_net_hdr *vh)
{
	uint64_t f = vq->port->features;
	uint32_t gs = rte_le_to_cpu_16(vh->gso_size), hl, payload;
	bool v6 = vh->gso_type == VIRTIO_NET_HDR_GSO_TCPV6;
	struct vnet_l34 h;

	if (!(vh->gso_type == VIRTIO_NET_HDR_GSO_TCPV4 &&
	      (f & (1ULL << VIRTIO_NET_F_HOST_TSO4))) &&
	    !(v6 && (f & (1ULL << VIRTIO_NET_F_HOST_TSO6))))
		return VMP_VNET_BAD_HDR_GSO_TYPE; /* UDP, ECN, unknown */
	/* a GSO frame is never padded: segments are cut from pkt_len */
	if (__vmp_vnet_parse_headers(m, &h) < 0 || h.v6 != v6 ||
	    h.proto != IPPROTO_TCP || h.end != m->pkt_len)
		return VMP_VNET_BAD_HDR_PARSE;
	if ((vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	    (rte_le_to_cpu_16(vh->csum_start) != h.l2 + h.l3 ||
	     rte_le_to_cpu_16(vh->csum_offset) !=
		     offsetof(struct rte_tcp_hdr, cksum)))
		return VMP_VNET_BAD_HDR_CSUM;
	hl = (uint32_t)h.l2 + h.l3 + h.l4;
	payload = h.end - hl;
	if (gs == 0 || gs > payload || hl + gs > GSO_MAX_SEG_FRAME ||
	    (payload + gs - 1) / gs > VMP_VNET_GSO_MAX_SEGS)
		return VMP_VNET_BAD_HDR_GSO_SIZE;
	m->l2_len = h.l2;
	m->l3_len = h.l3;
	m->l4_len = h.l4;
	m->tso_segsz = (uint16_t)gs;
	m->ol_flags |= RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_TCP_CKSUM |
		       (v6 ? RTE_MBUF_F_TX_IPV6
			   : RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM);
	vq->st.ol_tso++;
	return -1;
}

/* The stashed header of @m applied; -1 if fine, else the bad_hdr reason. */
static int
tx_hdr_apply(struct vnet_vq *vq, struct rte_mbuf *m)
{
	struct virtio_net_hdr vh;

	memcpy(&vh, vnet_tx_hdr_stash(m), sizeof(vh));
	if (likely(vh.flags == 0 && vh.gso_type == VIRTIO_NET_HDR_GSO_NONE))
		return -1;
	if (vh.flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM)
		return VMP_VNET_BAD_HDR_FLAGS;
	if (vh.gso_type != VIRTIO_NET_HDR_GSO_NONE)
		return tx_gso(vq, m, &vh);
	return tx_csum(vq, m, &vh);
}

uint16_t
__vmp_vnet_tx_offload(struct vnet_vq *vq, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t i, k = 0;
	int r;

	/* Bound: @n packets */
	for (i = 0; i < n; i++) {
		r = tx_hdr_apply(vq, pkts[i]);
		if (likely(r < 0)) {
			pkts[k++] = pkts[i];
			continue;
		}
		vq->st.bad_hdr[r]++;
		rte_pktmbuf_free(pkts[i]);
	}
	return k;
}

uint32_t
__vmp_vnet_rx_caps(const struct vmp_vnet_port *port)
{
	uint64_t f = port->features;
	uint32_t caps = 0;

	if (!(f & (1ULL << VIRTIO_NET_F_GUEST_CSUM)))
		return 0;
	caps |= VMP_VNET_CAP_L4_CSUM;
	if (f & (1ULL << VIRTIO_NET_F_GUEST_TSO4))
		caps |= VMP_VNET_CAP_TSO4;
	if (f & (1ULL << VIRTIO_NET_F_GUEST_TSO6))
		caps |= VMP_VNET_CAP_TSO6;
	return caps;
}

void
__vmp_vnet_rx_hdr_fill(struct vnet_vq *vq, const struct rte_mbuf *m,
		       uint8_t *hdr)
{
	struct virtio_net_hdr vh;
	uint64_t fl = m->ol_flags;

	memset(&vh, 0, sizeof(vh));
	if (fl & RTE_MBUF_F_TX_TCP_SEG) {
		vh.gso_type = (fl & RTE_MBUF_F_TX_IPV6)
				      ? VIRTIO_NET_HDR_GSO_TCPV6
				      : VIRTIO_NET_HDR_GSO_TCPV4;
		vh.gso_size = rte_cpu_to_le_16(m->tso_segsz);
		vh.hdr_len = rte_cpu_to_le_16(
			(uint16_t)(m->l2_len + m->l3_len + m->l4_len));
		vq->st.ol_tso++;
	}
	if (fl & (RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_L4_MASK)) {
		vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		vh.csum_start =
			rte_cpu_to_le_16((uint16_t)(m->l2_len + m->l3_len));
		vh.csum_offset = rte_cpu_to_le_16(
			(fl & RTE_MBUF_F_TX_L4_MASK) == RTE_MBUF_F_TX_UDP_CKSUM
				? offsetof(struct rte_udp_hdr, dgram_cksum)
				: offsetof(struct rte_tcp_hdr, cksum));
		if (!(fl & RTE_MBUF_F_TX_TCP_SEG))
			vq->st.ol_csum++;
	}
	memcpy(hdr, &vh, sizeof(vh));
}

/* vmp_vnet.h says what each VMP_VNET_OL_* means and why ECN and UFO are
 * not among them. */
uint64_t
__vmp_vnet_offload_features(uint32_t ol)
{
	uint64_t f = 0;

	if ((ol & ~(VMP_VNET_OL_CSUM | VMP_VNET_OL_TSO)) ||
	    ((ol & VMP_VNET_OL_TSO) && !(ol & VMP_VNET_OL_CSUM)))
		return UINT64_MAX;
	if (ol & VMP_VNET_OL_CSUM)
		f |= (1ULL << VIRTIO_NET_F_CSUM) |
		     (1ULL << VIRTIO_NET_F_GUEST_CSUM);
	if (ol & VMP_VNET_OL_TSO)
		f |= (1ULL << VIRTIO_NET_F_HOST_TSO4) |
		     (1ULL << VIRTIO_NET_F_HOST_TSO6) |
		     (1ULL << VIRTIO_NET_F_GUEST_TSO4) |
		     (1ULL << VIRTIO_NET_F_GUEST_TSO6);
	return f;
}
