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
 * whose segments it takes; the others are segmented here.
 *
 * A PMD with a tx_pkt_prepare callback (most NIC PMDs) wants the TCP
 * checksum field rewritten (rte_eth_tx_prepare()) before it takes a
 * request; that writes into bytes a flooded frame shares with other
 * destinations, so such a PMD gets every request finished in software.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <rte_ethdev.h>

#include "vnet_pvt.h"

#define ETH_OL_USED                                                            \
	(RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM |        \
	 RTE_ETH_TX_OFFLOAD_UDP_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_TSO)

int
vmp_vnet_eth_offloads_setup(uint16_t port_id, struct rte_eth_conf *conf,
			    struct vmp_vnet_eth_ol *ol)
{
	struct rte_eth_dev_info di;
	uint64_t capa;
	uint16_t mtu;
	int rc;

	memset(ol, 0, sizeof(*ol));
	ol->port_id = port_id;
	rc = rte_eth_dev_info_get(port_id, &di);
	if (rc < 0)
		return rc;
	capa = di.tx_offload_capa & ETH_OL_USED;
	/* one flag for both L4 kinds, as the guest header has; TSO needs
	 * the segments' checksums done by the same PMD */
	if (!(capa & RTE_ETH_TX_OFFLOAD_TCP_CKSUM) ||
	    !(capa & RTE_ETH_TX_OFFLOAD_UDP_CKSUM))
		capa &= ~(RTE_ETH_TX_OFFLOAD_TCP_CKSUM |
			  RTE_ETH_TX_OFFLOAD_UDP_CKSUM |
			  RTE_ETH_TX_OFFLOAD_TCP_TSO);
	if (!(capa & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM))
		capa &= ~RTE_ETH_TX_OFFLOAD_TCP_TSO;
	conf->txmode.offloads |= capa;
	if (capa & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM)
		ol->caps |= VMP_VNET_CAP_IP_CSUM;
	if (capa & RTE_ETH_TX_OFFLOAD_TCP_CKSUM)
		ol->caps |= VMP_VNET_CAP_L4_CSUM;
	if (capa & RTE_ETH_TX_OFFLOAD_TCP_TSO) {
		ol->caps |= VMP_VNET_CAP_TSO4;
		if (strcmp(di.driver_name, "net_tap") != 0)
			ol->caps |= VMP_VNET_CAP_TSO6;
		else if (rte_eth_dev_get_mtu(port_id, &mtu) == 0)
			ol->tso_frame_max = mtu;
		else
			ol->caps &= ~VMP_VNET_CAP_TSO4;
	}
	VNET_LOG(INFO,
		 "ethdev %u (%s): tx offloads 0x%" PRIx64 " used of 0x%" PRIx64,
		 port_id, di.driver_name, capa, di.tx_offload_capa);
	return 0;
}

int
vmp_vnet_eth_offload_finish(struct vmp_vnet_eth_ol *ol, struct rte_mbuf *m,
			    struct rte_mempool *mp, struct rte_mbuf **out,
			    uint16_t max_out)
{
	uint64_t fl = m->ol_flags;
	uint32_t caps = ol->caps;
	int n;

	/* set at the port's start, fixed until it stops */
	if (rte_eth_fp_ops[ol->port_id].tx_pkt_prepare != NULL)
		caps = 0;
	if ((fl & RTE_MBUF_F_TX_TCP_SEG) && ol->tso_frame_max != 0 &&
	    (uint32_t)m->l2_len + m->l3_len + m->l4_len + m->tso_segsz >
		    ol->tso_frame_max)
		caps &= ~(VMP_VNET_CAP_TSO4 | VMP_VNET_CAP_TSO6);
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
