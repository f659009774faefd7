/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_telemetry.h>
#include <rte_version.h>

#include <vmp_common.h>

#include "idle.h"
#include "switch.h"
#include "vmpath.h"

static int
tel_version(const char *cmd __rte_unused, const char *params __rte_unused,
	    struct rte_tel_data *d)
{
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "version", vmp_version());
	rte_tel_data_add_dict_string(d, "dpdk", rte_version());
	return 0;
}

static int
tel_lcores(const char *cmd __rte_unused, const char *params __rte_unused,
	   struct rte_tel_data *d)
{
	unsigned int i;

	rte_tel_data_start_dict(d);
	for (i = 0; i < vmp_app.plan.nb_entries; i++) {
		const struct vmp_plan_entry *e = &vmp_app.plan.entries[i];
		struct rte_tel_data *l = rte_tel_data_alloc();
		char key[16];

		if (l == NULL)
			return -ENOMEM;
		rte_tel_data_start_dict(l);
		rte_tel_data_add_dict_int(l, "core", (int)e->core_id);
		rte_tel_data_add_dict_int(l, "socket", e->socket_id);
		rte_tel_data_add_dict_string(l, "role", vmp_role_name(e->role));
		rte_tel_data_add_dict_int(l, "remote", e->remote);
		rte_tel_data_add_dict_u64(l, "loops",
					  vmp_app.lstats[e->lcore_id].loops);
		snprintf(key, sizeof(key), "%u", e->lcore_id);
		rte_tel_data_add_dict_container(d, key, l, 0);
	}
	return 0;
}

static int
tel_config(const char *cmd __rte_unused, const char *params __rte_unused,
	   struct rte_tel_data *d)
{
	const struct vmp_app_config *c = &vmp_app.cfg;

	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_int(d, "interactive", c->interactive);
	rte_tel_data_add_dict_int(d, "stats_period", (int)c->stats_period);
	rte_tel_data_add_dict_int(d, "run_time", (int)c->run_time);
	rte_tel_data_add_dict_int(d, "datapath_lcores", (int)c->nb_datapath);
	rte_tel_data_add_dict_int(d, "dma_lcores", (int)c->nb_dma);
	rte_tel_data_add_dict_int(d, "pool_workers", (int)c->nb_pool);
	rte_tel_data_add_dict_int(d, "socket", c->socket);
	rte_tel_data_add_dict_int(d, "strict_socket", c->strict_socket);
	return 0;
}

/* An ethdev port's offloads: what it takes, what became of requests. */
static void
tel_eth_offloads(struct rte_tel_data *t, const struct vmp_vnet_eth_ol *ol)
{
	rte_tel_data_add_dict_u64(t, "ol_caps", ol->caps);
	rte_tel_data_add_dict_u64(
		t, "hw_tso", __atomic_load_n(&ol->hw_tso, __ATOMIC_RELAXED));
	rte_tel_data_add_dict_u64(
		t, "hw_csum", __atomic_load_n(&ol->hw_csum, __ATOMIC_RELAXED));
	rte_tel_data_add_dict_u64(
		t, "sw_segs", __atomic_load_n(&ol->sw_segs, __ATOMIC_RELAXED));
	rte_tel_data_add_dict_u64(
		t, "sw_csum", __atomic_load_n(&ol->sw_csum, __ATOMIC_RELAXED));
	rte_tel_data_add_dict_u64(
		t, "sw_fail", __atomic_load_n(&ol->sw_fail, __ATOMIC_RELAXED));
	rte_tel_data_add_dict_u64(t, "mtu_drops",
				  __atomic_load_n(&ol->mtu_drops,
						  __ATOMIC_RELAXED));
}

static int
tel_ports(const char *cmd __rte_unused, const char *params __rte_unused,
	  struct rte_tel_data *d)
{
	unsigned int p;

	rte_tel_data_start_dict(d);
	/* telemetry's thread: the main lcore may add or remove ports */
	vmp_switch_lock();
	for (p = 0; p < vmp_sw.max_ports; p++) {
		const struct vmp_sw_port *sp = vmp_switch_port(p);
		struct rte_tel_data *t;
		struct vmp_vnet_port_info in;
		char key[16];

		if (sp == NULL)
			continue;
		t = rte_tel_data_alloc();
		if (t == NULL) {
			vmp_switch_unlock();
			return -ENOMEM;
		}
		rte_tel_data_start_dict(t);
		if (sp->is_eth) {
			rte_tel_data_add_dict_string(t, "path", sp->spec.path);
			rte_tel_data_add_dict_string(t, "mode", "ethdev");
			tel_eth_offloads(t, &sp->eth_ol);
			snprintf(key, sizeof(key), "%u", p);
			rte_tel_data_add_dict_container(d, key, t, 0);
			continue;
		}
		vmp_vnet_port_info_get(sp->vp, &in);
		rte_tel_data_add_dict_string(t, "path", in.path);
		rte_tel_data_add_dict_string(t, "mode",
					     in.client ? "client" : "server");
		rte_tel_data_add_dict_int(t, "connected", in.connected);
		rte_tel_data_add_dict_u64(t, "connects", in.connects);
		rte_tel_data_add_dict_u64(t, "accepted", in.accepted);
		rte_tel_data_add_dict_int(t, "connections", in.nb_conns);
		rte_tel_data_add_dict_u64(t, "features", in.features);
		rte_tel_data_add_dict_int(t, "queue_pairs", in.nb_qp);
		rte_tel_data_add_dict_int(t, "log", in.log_on);
		rte_tel_data_add_dict_u64(t, "log_pages", in.log_pages);
		rte_tel_data_add_dict_u64(t, "drained", in.drained);
		rte_tel_data_add_dict_u64(t, "rarp_sent", in.rarp_sent);
		rte_tel_data_add_dict_int(t, "mtu", in.mtu);
		rte_tel_data_add_dict_int(t, "guest_mtu", in.guest_mtu);
		rte_tel_data_add_dict_u64(t, "running_vrings", in.running);
		rte_tel_data_add_dict_u64(t, "broken_vrings", in.broken);
		rte_tel_data_add_dict_string(t, "dma",
					     vmp_dma_kind_name(sp->dma));
		snprintf(key, sizeof(key), "%u", p);
		rte_tel_data_add_dict_container(d, key, t, 0);
	}
	vmp_switch_unlock();
	return 0;
}

/* Offload counters of one vring (vmp_vnet_vq_stats). */
static void
tel_offload_stats(struct rte_tel_data *t, const struct vmp_vnet_vq_stats *st)
{
	static const char *const bad[VMP_VNET_BAD_HDR_MAX] = {
		[VMP_VNET_BAD_HDR_FLAGS] = "bad_hdr_flags",
		[VMP_VNET_BAD_HDR_CSUM] = "bad_hdr_csum",
		[VMP_VNET_BAD_HDR_GSO_TYPE] = "bad_hdr_gso_type",
		[VMP_VNET_BAD_HDR_GSO_SIZE] = "bad_hdr_gso_size",
		[VMP_VNET_BAD_HDR_PARSE] = "bad_hdr_parse",
	};
	unsigned int i;

	rte_tel_data_add_dict_u64(t, "ol_csum", st->ol_csum);
	rte_tel_data_add_dict_u64(t, "ol_tso", st->ol_tso);
	rte_tel_data_add_dict_u64(t, "sw_csum", st->sw_csum);
	rte_tel_data_add_dict_u64(t, "sw_segs", st->sw_segs);
	rte_tel_data_add_dict_u64(t, "sw_fail", st->sw_fail);
	rte_tel_data_add_dict_u64(t, "mtu_drops", st->mtu_drops);
	rte_tel_data_add_dict_u64(t, "ol_valid", st->ol_valid);
	rte_tel_data_add_dict_u64(t, "gro_frames", st->gro_frames);
	rte_tel_data_add_dict_u64(t, "gro_segs", st->gro_segs);
	for (i = 0; i < VMP_VNET_BAD_HDR_MAX; i++)
		rte_tel_data_add_dict_u64(t, bad[i], st->bad_hdr[i]);
}

static int
tel_port_stats(const char *cmd __rte_unused, const char *params,
	       struct rte_tel_data *d)
{
	const struct vmp_sw_port *sp;
	unsigned int p, v;
	char *end;

	if (params == NULL || *params == '\0')
		return -EINVAL;
	p = (unsigned int)strtoul(params, &end, 10);
	if (*end != '\0')
		return -EINVAL;
	vmp_switch_lock();
	sp = vmp_switch_port(p);
	if (sp == NULL || sp->is_eth) {
		vmp_switch_unlock();
		return -EINVAL;
	}
	rte_tel_data_start_dict(d);
	for (v = 0; v < 2u * sp->nb_qp; v++) {
		struct rte_tel_data *t = rte_tel_data_alloc();
		struct vmp_vnet_vq_stats st;
		char key[16];

		if (t == NULL) {
			vmp_switch_unlock();
			return -ENOMEM;
		}
		vmp_vnet_vq_stats_get(sp->vp, (uint16_t)v, &st);
		rte_tel_data_start_dict(t);
		rte_tel_data_add_dict_u64(t, "packets", st.packets);
		rte_tel_data_add_dict_u64(t, "bytes", st.bytes);
		rte_tel_data_add_dict_u64(t, "no_buf", st.no_buf);
		rte_tel_data_add_dict_u64(t, "no_mbuf", st.no_mbuf);
		rte_tel_data_add_dict_u64(t, "bad_chain", st.bad_chain);
		rte_tel_data_add_dict_u64(t, "too_long", st.too_long);
		rte_tel_data_add_dict_u64(t, "broken", st.broken);
		rte_tel_data_add_dict_u64(t, "dma_copies", st.dma_copies);
		rte_tel_data_add_dict_u64(t, "cpu_copies", st.cpu_copies);
		rte_tel_data_add_dict_u64(t, "dma_errors", st.dma_errors);
		rte_tel_data_add_dict_u64(t, "inflight", st.inflight);
		rte_tel_data_add_dict_u64(t, "notify", st.notify);
		rte_tel_data_add_dict_u64(t, "notify_suppressed",
					  st.notify_suppressed);
		rte_tel_data_add_dict_u64(t, "logged", st.logged);
		tel_offload_stats(t, &st);
		snprintf(key, sizeof(key), "vring%u", v);
		rte_tel_data_add_dict_container(d, key, t, 0);
	}
	vmp_switch_unlock();
	return 0;
}

static int
tel_idle(const char *cmd __rte_unused, const char *params __rte_unused,
	 struct rte_tel_data *d)
{
	struct vmp_vnet_waker_stats st;
	unsigned int l, b;

	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "policy",
				     vmp_app.cfg.idle_halt ? "halt" : "poll");
	rte_tel_data_add_dict_u64(d, "idle_polls", vmp_app.cfg.idle_polls);
	for (l = 0; l < RTE_MAX_LCORE; l++) {
		struct rte_tel_data *t, *h;
		char key[16];

		if (vmp_idle_stats_get(l, &st) < 0)
			continue;
		t = rte_tel_data_alloc();
		h = rte_tel_data_alloc();
		if (t == NULL || h == NULL) {
			rte_tel_data_free(t);
			rte_tel_data_free(h);
			return -ENOMEM;
		}
		rte_tel_data_start_dict(t);
		rte_tel_data_add_dict_u64(t, "sleeps", st.sleeps);
		rte_tel_data_add_dict_u64(t, "aborts", st.aborts);
		rte_tel_data_add_dict_u64(t, "wake_kick", st.wake_kick);
		rte_tel_data_add_dict_u64(t, "wake_ctl", st.wake_ctl);
		rte_tel_data_add_dict_u64(t, "wake_fd", st.wake_fd);
		rte_tel_data_add_dict_u64(t, "wake_timeout", st.wake_timeout);
		rte_tel_data_add_dict_u64(t, "ns_asleep", st.ns_asleep);
		rte_tel_data_add_dict_u64(t, "ctl_kicks", st.ctl_kicks);
		rte_tel_data_start_array(h, RTE_TEL_U64_VAL);
		for (b = 0; b < VMP_VNET_WAKE_LAT_BUCKETS; b++)
			rte_tel_data_add_array_u64(h, st.lat[b]);
		rte_tel_data_add_dict_container(t, "wake_lat_us_log2", h, 0);
		snprintf(key, sizeof(key), "%u", l);
		rte_tel_data_add_dict_container(d, key, t, 0);
	}
	return 0;
}

int
vmp_telemetry_init(void)
{
	int rc = 0;

	rc |= rte_telemetry_register_cmd("/vmpath/version", tel_version,
					 "vmpath and DPDK versions");
	rc |= rte_telemetry_register_cmd("/vmpath/lcores", tel_lcores,
					 "Lcores: core, socket, role, loops");
	rc |= rte_telemetry_register_cmd("/vmpath/config", tel_config,
					 "Application configuration");
	rc |= rte_telemetry_register_cmd("/vmpath/ports", tel_ports,
					 "vhost-user ports: state, features");
	rc |= rte_telemetry_register_cmd("/vmpath/port_stats", tel_port_stats,
					 "Per-vring counters. Parameters: port");
	rc |= rte_telemetry_register_cmd("/vmpath/idle", tel_idle,
					 "Idle policy, per-lcore sleeps and wakes");
	return rc ? -EINVAL : 0;
}
