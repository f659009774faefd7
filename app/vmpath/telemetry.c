/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_telemetry.h>
#include <rte_version.h>

#include <vmp_common.h>

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
	return rc ? -EINVAL : 0;
}
