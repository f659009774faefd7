/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Offload requests of guest frames sent to an ethdev port, by what that
 * port's PMD says it takes (rte_eth_dev_info.tx_offload_capa): checksums
 * and TSO it takes are left to it, the rest is finished in software
 * (vmp_vnet_offload_finish()).
 *
 * DPDK 22.11's net_tap claims RTE_ETH_TX_OFFLOAD_TCP_TSO but does it with
 * rte_gso_segment(), which segments TCP over IPv4 only: an IPv6 TSO frame
 * would reach the kernel whole (drivers/net/tap/rte_eth_tap.c,
 * pmd_tx_burst() and tap_gso_ctx_setup(); lib/gso/rte_gso.c, IS_IPV4_TCP).
 * It also refuses a TSO frame whose tso_segsz plus l2/l3/l4 headers exceeds
 * its MTU (the Ethernet header counted against the IP MTU) and then sends
 * nothing more of the burst. So net_tap gets IPv4 TSO only, for frames
 * whose segments it takes; the others are segmented here, into partial
 * segments (TCP checksum left to it) when it takes L4 checksums.
 *
 * A PMD with a tx_pkt_prepare callback (most NIC PMDs) wants the TCP
 * checksum field rewritten (rte_eth_tx_prepare()) before it takes a
 * request; that writes into bytes a flooded frame shares with other
 * destinations, so such a PMD gets every request finished in software.
 */
#include <errno.h>
#include <stdlib.h>
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ethdev.h>

#include "vnet_pvt.h"

#define ETH_OL_USED                                                            \
	(RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM |        \
	 RTE_ETH_TX_OFFLOAD_UDP_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_TSO)
#define CAP_TSO (VMP_VNET_CAP_TSO4 | VMP_VNET_CAP_TSO6)
#define ETH_RX_OL_USED                                                         \
	(RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM |        \
	 RTE_ETH_RX_OFFLOAD_UDP_CKSUM)

/* Bound: none (no loop). */
uint64_t
__vmp_vnet_eth_caps_decide(uint64_t tx_capa, const char *driver, uint16_t mtu,
			   struct vmp_vnet_eth_ol *ol)
{
	uint64_t capa = tx_capa & ETH_OL_USED;
	bool tap = strcmp(driver, "net_tap") == 0;

	ol->caps = 0;
	ol->tso_frame_max = 0;
	ol->even_chains = tap;
	/* one flag for both L4 kinds, as the guest header has; TSO needs
	 * the segments' checksums done by the same PMD */
	if (!(capa & RTE_ETH_TX_OFFLOAD_TCP_CKSUM) ||
	    !(capa & RTE_ETH_TX_OFFLOAD_UDP_CKSUM))
		capa &= ~(RTE_ETH_TX_OFFLOAD_TCP_CKSUM |
			  RTE_ETH_TX_OFFLOAD_UDP_CKSUM |
			  RTE_ETH_TX_OFFLOAD_TCP_TSO);
	if (!(capa & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM))
		capa &= ~RTE_ETH_TX_OFFLOAD_TCP_TSO;
	/* net_tap segments only what its MTU takes: without it, no TSO */
	if (tap && mtu == 0)
		capa &= ~RTE_ETH_TX_OFFLOAD_TCP_TSO;
	if (capa & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM)
		ol->caps |= VMP_VNET_CAP_IP_CSUM;
	if (capa & RTE_ETH_TX_OFFLOAD_TCP_CKSUM)
		ol->caps |= VMP_VNET_CAP_L4_CSUM;
	if (capa & RTE_ETH_TX_OFFLOAD_TCP_TSO) {
		ol->caps |= VMP_VNET_CAP_TSO4;
		if (tap)
			ol->tso_frame_max = mtu;
		else
			ol->caps |= VMP_VNET_CAP_TSO6;
	}
	return capa;
}

int
vmp_vnet_eth_offloads_setup(uint16_t port_id, struct rte_eth_conf *conf,
			    struct vmp_vnet_eth_ol *ol)
{
	struct rte_eth_dev_info di;
	uint16_t mtu;
	uint64_t capa;
	int rc;

	memset(ol, 0, sizeof(*ol));
	ol->port_id = port_id;
	ol->frame_max = UINT32_MAX; /* no MTU set: the PMD's affair */
	rc = rte_eth_dev_info_get(port_id, &di);
	if (rc < 0)
		return rc;
	if (rte_eth_dev_get_mtu(port_id, &mtu) != 0)
		mtu = 0;
	capa = __vmp_vnet_eth_caps_decide(di.tx_offload_capa, di.driver_name,
					  mtu, ol);
	conf->txmode.offloads |= capa;
	/* L4 checksums the PMD checks on receive (net_tap: in software, on
	 * the polling lcore, single-mbuf frames only) reach guests that take
	 * GUEST_CSUM as DATA_VALID: they then do not sum the payload; with
	 * the IPv4 header's too, such segments may be merged for guests that
	 * take TSO (vmp_vnet_gro_burst()) */
	conf->rxmode.offloads |= di.rx_offload_capa & ETH_RX_OL_USED;
	VNET_LOG(INFO,
		 "ethdev %u (%s): tx offloads 0x%" PRIx64 " used of 0x%" PRIx64
		 ", rx offloads 0x%" PRIx64,
		 port_id, di.driver_name, capa, di.tx_offload_capa,
		 di.rx_offload_capa & ETH_RX_OL_USED);
	return 0;
}

/* "mtu=N" in a devargs list "k=v,k=v,...". */
#define MTU_ARG "mtu="

int
vmp_vnet_eth_devargs_mtu(char *args, uint16_t *mtu)
{
	char *tok = args, *end, *next;
	unsigned long v;

	*mtu = 0;
	/* Bound: the string's ','-separated tokens */
	while (tok != NULL && *tok != '\0') {
		next = strchr(tok, ',');
		if (strncmp(tok, MTU_ARG, strlen(MTU_ARG)) != 0) {
			tok = next != NULL ? next + 1 : NULL;
			continue;
		}
		errno = 0;
		v = strtoul(tok + strlen(MTU_ARG), &end, 10);
		if (errno != 0 || end == tok + strlen(MTU_ARG) ||
		    (*end != '\0' && *end != ',') || v < VMP_VNET_MTU_MIN ||
		    v > VMP_VNET_MTU_MAX || *mtu != 0) {
			VNET_LOG(ERR,
				 "ethdev devargs '%s': mtu must be %u..%u, "
				 "once",
				 args, VMP_VNET_MTU_MIN, VMP_VNET_MTU_MAX);
			return -EINVAL;
		}
		*mtu = (uint16_t)v;
		/* the token removed: the PMD does not know it */
		if (next != NULL)
			memmove(tok, next + 1, strlen(next + 1) + 1);
		else if (tok != args)
			tok[-1] = '\0';
		else
			*tok = '\0';
		if (next == NULL)
			break;
	}
	return 0;
}

int
vmp_vnet_eth_mtu_conf(uint16_t port_id, struct rte_eth_conf *conf, uint16_t mtu)
{
	struct rte_eth_dev_info di;
	int rc;

	if (mtu < VMP_VNET_MTU_MIN || mtu > VMP_VNET_MTU_MAX)
		return -EINVAL;
	rc = rte_eth_dev_info_get(port_id, &di);
	if (rc < 0)
		return rc;
	/* frames longer than one mbuf arrive as chains where the PMD can;
	 * rxmode.mtu stays the default: vmp_vnet_eth_mtu_set() asks for @mtu
	 * and says so when the PMD refuses it */
	if (mtu > RTE_ETHER_MTU)
		conf->rxmode.offloads |=
			di.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER;
	return 0;
}

int
vmp_vnet_eth_mtu_set(struct vmp_vnet_eth_ol *ol, uint16_t mtu)
{
	int rc;

	if (mtu < VMP_VNET_MTU_MIN || mtu > VMP_VNET_MTU_MAX)
		return -EINVAL;
	rc = rte_eth_dev_set_mtu(ol->port_id, mtu);
	if (rc < 0) {
		VNET_LOG(ERR, "ethdev %u: MTU %u refused by its PMD: %s",
			 ol->port_id, mtu, rte_strerror(-rc));
		return rc;
	}
	ol->frame_max = (uint32_t)mtu + RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN;
	/* net_tap's TSO limit is its MTU (__vmp_vnet_eth_caps_decide()) */
	if (ol->tso_frame_max != 0)
		ol->tso_frame_max = mtu;
	return 0;
}

/* Would @m (a TSO frame: its segments) be longer than the port's frames? */
static bool
over_mtu(const struct vmp_vnet_eth_ol *ol, const struct rte_mbuf *m)
{
	if (m->ol_flags & RTE_MBUF_F_TX_TCP_SEG)
		return (uint32_t)m->l2_len + m->l3_len + m->l4_len +
			       m->tso_segsz >
		       ol->frame_max;
	return m->pkt_len > ol->frame_max;
}

/* Does every mbuf of @m but the last hold an even number of bytes, and are
 * the headers and (TSO) the segment size even? Then every piece a PMD sums
 * on its own starts at an even offset of the L4 data. Bound: the chain. */
static bool
chain_even(const struct rte_mbuf *m)
{
	if (((m->l2_len + m->l3_len) & 1) ||
	    ((m->ol_flags & RTE_MBUF_F_TX_TCP_SEG) &&
	     ((m->tso_segsz | m->l4_len) & 1)))
		return false;
	for (; m->next != NULL; m = m->next)
		if (m->data_len & 1)
			return false;
	return true;
}

/* Bound: chain_even(). */
uint32_t
__vmp_vnet_eth_frame_caps(const struct vmp_vnet_eth_ol *ol,
			  const struct rte_mbuf *m)
{
	uint32_t caps = ol->caps;

	if ((m->ol_flags & RTE_MBUF_F_TX_TCP_SEG) && ol->tso_frame_max != 0 &&
	    (uint32_t)m->l2_len + m->l3_len + m->l4_len + m->tso_segsz >
		    ol->tso_frame_max)
		caps &= ~CAP_TSO;
	/*
	 * net_tap (DPDK 22.11, tap_write_mbufs()) sums each mbuf of a chain
	 * as if it started a 16-bit word: a piece of odd length shifts the
	 * bytes after it and the L4 checksum comes out wrong. Its own TSO
	 * (rte_gso_segment()) cuts pieces at the same mbuf and segment
	 * boundaries. Such frames get their checksums here.
	 */
	if (ol->even_chains && (caps & VMP_VNET_CAP_L4_CSUM) && !chain_even(m))
		caps &= ~(VMP_VNET_CAP_L4_CSUM | CAP_TSO);
	return caps;
}

int
vmp_vnet_eth_offload_finish(struct vmp_vnet_eth_ol *ol, struct rte_mbuf *m,
			    struct rte_mempool *mp, struct rte_mbuf **out,
			    uint16_t max_out)
{
	uint64_t fl = m->ol_flags;
	uint32_t caps = __vmp_vnet_eth_frame_caps(ol, m);
	int n;

	if (over_mtu(ol, m)) {
		/* a switch port drops what its MTU does not take */
		__atomic_fetch_add(&ol->mtu_drops, 1, __ATOMIC_RELAXED);
		return -EMSGSIZE;
	}
	/* set at the port's start, fixed until it stops */
	if (rte_eth_fp_ops[ol->port_id].tx_pkt_prepare != NULL)
		caps = 0;
	n = vmp_vnet_offload_finish(m, caps, mp, out, max_out);
	/* counters of a port several lcores may send to: relaxed, they
	 * order nothing */
	if (n < 0)
		__atomic_fetch_add(&ol->sw_fail, 1, __ATOMIC_RELAXED);
	else if (n > 1 || ((fl & RTE_MBUF_F_TX_TCP_SEG) &&
			   !(out[0]->ol_flags & RTE_MBUF_F_TX_TCP_SEG)))
		__atomic_fetch_add(&ol->sw_segs, (uint64_t)n, __ATOMIC_RELAXED);
	else if (fl & RTE_MBUF_F_TX_TCP_SEG)
		__atomic_fetch_add(&ol->hw_tso, 1, __ATOMIC_RELAXED);
	else if (out[0] != m || out[0]->ol_flags != fl)
		__atomic_fetch_add(&ol->sw_csum, 1, __ATOMIC_RELAXED);
	else
		__atomic_fetch_add(&ol->hw_csum, 1, __ATOMIC_RELAXED);
	return n;
}
