/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/vnet/vnet_eth.c's decisions for ethdev ports: which TX offloads are
 * enabled for a given tx_offload_capa (net_tap never IPv6 TSO, nor TSO
 * without a known MTU), what a frame still gets of them (a TSO frame whose
 * segments net_tap's MTU refuses, a chain net_tap would sum wrongly), the
 * form vmp_vnet_eth_offload_finish() sends each one in, devargs mtu=N,
 * and frames over the MTU dropped and counted. On the decision functions
 * directly and on a net_null vdev (no TX offloads, any MTU) and a net_ring
 * one (no MTU change).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_bus_vdev.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include <vmp_vnet.h>

#include "vmp_test.h"
#include "vnet_test_util.h"
#include "../../lib/vnet/vnet_pvt.h" /* the decision functions */

#define CKSUMS                                                                 \
	(RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM |        \
	 RTE_ETH_TX_OFFLOAD_UDP_CKSUM)
#define ALL (CKSUMS | RTE_ETH_TX_OFFLOAD_TCP_TSO)
#define CAPS_CSUM (VMP_VNET_CAP_IP_CSUM | VMP_VNET_CAP_L4_CSUM)
#define HL (14 + 20 + 32)
#define NULL_DEV "net_null_vnet_eth"
#define RING_DEV "net_ring_vnet_eth"

static struct rte_mempool *mp;

/* capa in, offloads out, caps, tso_frame_max, even_chains */
static int
decide_one(uint64_t capa, const char *drv, uint16_t mtu, uint64_t want_ol,
	   uint32_t want_caps, uint32_t want_tmax, bool want_even)
{
	struct vmp_vnet_eth_ol ol;
	uint64_t got;

	memset(&ol, 0xa5, sizeof(ol));
	got = __vmp_vnet_eth_caps_decide(capa, drv, mtu, &ol);
	TEST_ASSERT_EQUAL_U64(got, want_ol, "%s capa 0x%" PRIx64 ": txmode",
			      drv, capa);
	TEST_ASSERT_EQUAL(ol.caps, want_caps, "%s capa 0x%" PRIx64 ": caps",
			  drv, capa);
	TEST_ASSERT_EQUAL(ol.tso_frame_max, want_tmax, "%s: tso_frame_max",
			  drv);
	TEST_ASSERT_EQUAL(ol.even_chains, want_even, "%s: even_chains", drv);
	return TEST_SUCCESS;
}

static int
test_decide(void)
{
	const uint32_t all = CAPS_CSUM | VMP_VNET_CAP_TSO4 | VMP_VNET_CAP_TSO6;

	/* a PMD with everything; unrelated capa bits are not enabled */
	TEST_ASSERT_SUCCESS(decide_one(ALL | RTE_ETH_TX_OFFLOAD_MULTI_SEGS,
				       "net_ice", 1500, ALL, all, 0, false),
			    "");
	/* net_tap: IPv4 TSO only, limited by its MTU; even chains only */
	TEST_ASSERT_SUCCESS(decide_one(ALL, "net_tap", 1500, ALL,
				       CAPS_CSUM | VMP_VNET_CAP_TSO4, 1500,
				       true),
			    "");
	TEST_ASSERT_SUCCESS(
		decide_one(ALL, "net_tap", 0, CKSUMS, CAPS_CSUM, 0, true),
		"tap of unknown MTU");
	/* one L4 kind only: neither, and no TSO */
	TEST_ASSERT_SUCCESS(decide_one(ALL & ~RTE_ETH_TX_OFFLOAD_UDP_CKSUM,
				       "net_x", 1500,
				       RTE_ETH_TX_OFFLOAD_IPV4_CKSUM,
				       VMP_VNET_CAP_IP_CSUM, 0, false),
			    "");
	/* no IPv4 header checksum: no TSO */
	TEST_ASSERT_SUCCESS(decide_one(ALL & ~RTE_ETH_TX_OFFLOAD_IPV4_CKSUM,
				       "net_x", 1500,
				       RTE_ETH_TX_OFFLOAD_TCP_CKSUM |
					       RTE_ETH_TX_OFFLOAD_UDP_CKSUM,
				       VMP_VNET_CAP_L4_CSUM, 0, false),
			    "");
	TEST_ASSERT_SUCCESS(decide_one(0, "net_null", 1500, 0, 0, 0, false),
			    "");
	return TEST_SUCCESS;
}

/* A TCP/IPv4 TSO frame (vnet_test_tcp_frame(): 32-byte TCP header, so HL):
 * @plen payload bytes in mbufs of @cut bytes (the first holds the headers
 * too), segment size @mss. */
static struct rte_mbuf *
tso_frame(uint32_t plen, uint16_t cut, uint16_t mss)
{
	static uint8_t buf[HL + 20000];
	struct rte_mbuf *m;

	m = vnet_test_chain(mp, buf, vnet_test_tcp_frame(buf, false, plen, 0),
			    NULL, 0, cut);
	if (m == NULL)
		return NULL;
	m->ol_flags = RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_TCP_CKSUM |
		      RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
	m->l2_len = 14;
	m->l3_len = 20;
	m->l4_len = 32;
	m->tso_segsz = mss;
	return m;
}

/* What a frame gets of a net_tap port's caps. */
static int
test_frame_caps(void)
{
	struct vmp_vnet_eth_ol ol;
	struct rte_mbuf *m;

	memset(&ol, 0, sizeof(ol));
	__vmp_vnet_eth_caps_decide(ALL, "net_tap", 1500, &ol);
	m = tso_frame(8000, 2048, 1434); /* 66 + 1434 = 1500 */
	TEST_ASSERT_NOT_NULL(m, "frame");
	TEST_ASSERT_EQUAL(__vmp_vnet_eth_frame_caps(&ol, m),
			  CAPS_CSUM | VMP_VNET_CAP_TSO4, "segments fit");
	m->tso_segsz = 1448; /* 1514 > MTU 1500: tap would refuse */
	TEST_ASSERT_EQUAL(__vmp_vnet_eth_frame_caps(&ol, m), CAPS_CSUM,
			  "over tso_frame_max: segmented here, partial");
	m->tso_segsz = 1433; /* odd: pieces at odd offsets */
	TEST_ASSERT_EQUAL(__vmp_vnet_eth_frame_caps(&ol, m),
			  VMP_VNET_CAP_IP_CSUM, "odd segment size");
	rte_pktmbuf_free(m);
	m = tso_frame(8000, 1001, 1000); /* odd mbufs in the middle */
	TEST_ASSERT_NOT_NULL(m, "frame");
	TEST_ASSERT_EQUAL(__vmp_vnet_eth_frame_caps(&ol, m),
			  VMP_VNET_CAP_IP_CSUM, "odd chain");
	m->ol_flags &= ~RTE_MBUF_F_TX_TCP_SEG;
	TEST_ASSERT_EQUAL(__vmp_vnet_eth_frame_caps(&ol, m),
			  VMP_VNET_CAP_IP_CSUM, "odd chain, checksum only");
	ol.even_chains = false; /* another PMD sums chains right */
	TEST_ASSERT_EQUAL(__vmp_vnet_eth_frame_caps(&ol, m),
			  CAPS_CSUM | VMP_VNET_CAP_TSO4, "other PMD");
	rte_pktmbuf_free(m);
	return TEST_SUCCESS;
}

static int
mtu_arg(const char *in, int want_rc, uint16_t want_mtu, const char *want)
{
	char a[64];
	uint16_t mtu = 1;
	int rc;

	snprintf(a, sizeof(a), "%s", in);
	rc = vmp_vnet_eth_devargs_mtu(a, &mtu);
	TEST_ASSERT_EQUAL(rc, want_rc, "'%s': rc %d", in, rc);
	if (rc == 0) {
		TEST_ASSERT_EQUAL(mtu, want_mtu, "'%s': mtu %u", in, mtu);
		TEST_ASSERT(strcmp(a, want) == 0, "'%s' left '%s'", in, a);
	}
	return TEST_SUCCESS;
}

static int
test_devargs_mtu(void)
{
	TEST_ASSERT_SUCCESS(mtu_arg("iface=t0,mtu=9000", 0, 9000, "iface=t0"),
			    "");
	TEST_ASSERT_SUCCESS(mtu_arg("mtu=9000,iface=t0", 0, 9000, "iface=t0"),
			    "");
	TEST_ASSERT_SUCCESS(mtu_arg("a=1,mtu=68,b=2", 0, 68, "a=1,b=2"), "");
	TEST_ASSERT_SUCCESS(mtu_arg("mtu=1500", 0, 1500, ""), "");
	TEST_ASSERT_SUCCESS(mtu_arg("iface=t0", 0, 0, "iface=t0"), "");
	TEST_ASSERT_SUCCESS(mtu_arg("xmtu=9,iface=t0", 0, 0, "xmtu=9,iface=t0"),
			    "");
	TEST_ASSERT_SUCCESS(mtu_arg("mtu=67", -EINVAL, 0, NULL), "");
	TEST_ASSERT_SUCCESS(mtu_arg("mtu=9001", -EINVAL, 0, NULL), "");
	TEST_ASSERT_SUCCESS(mtu_arg("mtu=", -EINVAL, 0, NULL), "");
	TEST_ASSERT_SUCCESS(mtu_arg("mtu=15x0", -EINVAL, 0, NULL), "");
	TEST_ASSERT_SUCCESS(mtu_arg("mtu=1500,mtu=1500", -EINVAL, 0, NULL), "");
	return TEST_SUCCESS;
}

/* On real ports (net_null, net_ring): setup, MTU set and refused, the
 * forms frames leave vmp_vnet_eth_offload_finish() in, drops over the
 * MTU. */
static int
test_port(void)
{
	struct rte_eth_conf conf;
	struct vmp_vnet_eth_ol ol;
	struct rte_mbuf *m, *out[16];
	uint16_t port;
	int n, i;

	TEST_ASSERT_SUCCESS(rte_eth_dev_get_port_by_name(NULL_DEV, &port),
			    "port");
	memset(&conf, 0, sizeof(conf));
	TEST_ASSERT_SUCCESS(vmp_vnet_eth_offloads_setup(port, &conf, &ol),
			    "setup");
	TEST_ASSERT_EQUAL(ol.caps, 0, "net_null takes no TX offload");
	TEST_ASSERT_EQUAL_U64(conf.txmode.offloads, 0, "none enabled");
	TEST_ASSERT_EQUAL(ol.frame_max, UINT32_MAX, "no MTU set: no limit");
	TEST_ASSERT_EQUAL(vmp_vnet_eth_mtu_conf(port, &conf, 67), -EINVAL,
			  "MTU 67");
	TEST_ASSERT_SUCCESS(vmp_vnet_eth_mtu_conf(port, &conf, 9000), "conf");
	TEST_ASSERT_SUCCESS(rte_eth_dev_configure(port, 1, 1, &conf),
			    "configure");
	TEST_ASSERT_SUCCESS(vmp_vnet_eth_mtu_set(&ol, 9000), "MTU set");
	TEST_ASSERT_EQUAL(ol.frame_max, 9000 + 18, "frame_max");
	TEST_ASSERT_EQUAL(vmp_vnet_eth_mtu_set(&ol, 9001), -EINVAL, "9001");
	/* net_ring has no mtu_set: refused, nothing changed */
	TEST_ASSERT_SUCCESS(rte_eth_dev_get_port_by_name(RING_DEV, &port),
			    "ring port");
	memset(&conf, 0, sizeof(conf));
	TEST_ASSERT_SUCCESS(vmp_vnet_eth_offloads_setup(port, &conf, &ol),
			    "setup");
	TEST_ASSERT_SUCCESS(rte_eth_dev_configure(port, 1, 1, &conf),
			    "configure");
	TEST_ASSERT(vmp_vnet_eth_mtu_set(&ol, 9000) < 0, "MTU refused");
	TEST_ASSERT_EQUAL(ol.frame_max, UINT32_MAX, "unchanged");

	/* as a net_tap port that takes checksums, TSO too long for it */
	__vmp_vnet_eth_caps_decide(ALL, "net_tap", 1500, &ol);
	m = tso_frame(5000, 2048, 1448);
	TEST_ASSERT_NOT_NULL(m, "frame");
	n = vmp_vnet_eth_offload_finish(&ol, m, mp, out, RTE_DIM(out));
	TEST_ASSERT_EQUAL(n, 4, "segments");
	for (i = 0; i < n; i++) {
		const struct rte_ipv4_hdr *ip =
			rte_pktmbuf_mtod_offset(out[i], void *, 14);
		const struct rte_tcp_hdr *th =
			rte_pktmbuf_mtod_offset(out[i], void *, 34);

		TEST_ASSERT_EQUAL_U64(out[i]->ol_flags,
				      RTE_MBUF_F_TX_TCP_CKSUM |
					      RTE_MBUF_F_TX_IPV4 |
					      RTE_MBUF_F_TX_IP_CKSUM,
				      "partial segment %d", i);
		TEST_ASSERT_EQUAL(th->cksum, rte_ipv4_phdr_cksum(ip, 0),
				  "pseudo-header sum %d", i);
	}
	rte_pktmbuf_free_bulk(out, (unsigned int)n);
	TEST_ASSERT_EQUAL_U64(ol.sw_segs, 4, "counted");
	/* an odd chain: every checksum here, nothing left to the PMD */
	m = tso_frame(5000, 1001, 1448);
	TEST_ASSERT_NOT_NULL(m, "frame");
	n = vmp_vnet_eth_offload_finish(&ol, m, mp, out, RTE_DIM(out));
	TEST_ASSERT_EQUAL(n, 4, "segments");
	for (i = 0; i < n; i++)
		TEST_ASSERT_EQUAL_U64(out[i]->ol_flags, 0, "complete %d", i);
	rte_pktmbuf_free_bulk(out, (unsigned int)n);

	/* over the MTU (as vmp_vnet_eth_mtu_set() leaves frame_max) */
	ol.frame_max = 1500 + RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN;
	m = tso_frame(1500 + 18 - HL + 1, 2048, 1448);
	TEST_ASSERT_NOT_NULL(m, "frame");
	m->ol_flags = 0;
	TEST_ASSERT_EQUAL(vmp_vnet_eth_offload_finish(&ol, m, mp, out, 16),
			  -EMSGSIZE, "1519 bytes over MTU 1500");
	m->ol_flags = RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_TCP_CKSUM |
		      RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
	m->tso_segsz = 1500 + 18 - HL + 1;
	TEST_ASSERT_EQUAL(vmp_vnet_eth_offload_finish(&ol, m, mp, out, 16),
			  -EMSGSIZE, "TSO segments over MTU 1500");
	TEST_ASSERT_EQUAL_U64(ol.mtu_drops, 2, "counted");
	m->tso_segsz = 1000;
	n = vmp_vnet_eth_offload_finish(&ol, m, mp, out, RTE_DIM(out));
	TEST_ASSERT(n == 1 && out[0] == m &&
			    (m->ol_flags & RTE_MBUF_F_TX_TCP_SEG),
		    "segments that fit: TSO left to the PMD");
	TEST_ASSERT_EQUAL_U64(ol.mtu_drops, 2, "not counted");
	rte_pktmbuf_free(m);
	return TEST_SUCCESS;
}

static int
setup(void)
{
	mp = rte_pktmbuf_pool_create("vnet_eth_t", 511, 0, 0,
				     RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (mp == NULL)
		return -1;
	return rte_vdev_init(NULL_DEV, NULL) < 0 ||
			       rte_vdev_init(RING_DEV, NULL) < 0
		       ? -1
		       : 0;
}

static void
teardown(void)
{
	uint16_t port;

	if (rte_eth_dev_get_port_by_name(NULL_DEV, &port) == 0)
		rte_eth_dev_close(port);
	if (rte_eth_dev_get_port_by_name(RING_DEV, &port) == 0)
		rte_eth_dev_close(port);
	rte_vdev_uninit(NULL_DEV);
	rte_vdev_uninit(RING_DEV);
	rte_mempool_free(mp);
	mp = NULL;
}

static struct vmp_test_suite eth_suite = {
	.name = "vnet: ethdev port offload decisions and MTU",
	.setup = setup,
	.teardown = teardown,
	.cases =
		{
			TEST_CASE(test_decide),
			TEST_CASE(test_frame_caps),
			TEST_CASE(test_devargs_mtu),
			TEST_CASE(test_port),
			TEST_CASES_END(),
		},
};

static int
test_vnet_eth(void)
{
	return vmp_test_suite_run(&eth_suite);
}

REGISTER_TEST_COMMAND(vnet_eth_autotest, test_vnet_eth);
