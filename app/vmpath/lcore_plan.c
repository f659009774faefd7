/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lcore_plan.h"

static const char *const role_names[VMP_ROLE_MAX] = {
	[VMP_ROLE_IDLE] = "idle",
	[VMP_ROLE_MAIN] = "main",
	[VMP_ROLE_DATAPATH] = "datapath",
	[VMP_ROLE_DMA] = "dma",
	[VMP_ROLE_POOL] = "pool",
};

/* Placement order: the datapath is the most latency-sensitive. */
static const enum vmp_role place_order[] = {
	VMP_ROLE_DATAPATH,
	VMP_ROLE_DMA,
	VMP_ROLE_POOL,
};

const char *
vmp_role_name(enum vmp_role role)
{
	if ((unsigned int)role >= VMP_ROLE_MAX)
		return "?";
	return role_names[role];
}

static int
check_topo(const struct vmp_topo *topo, char *err, size_t errlen)
{
	bool main_seen = false;
	unsigned int i, j;

	if (topo->nb_lcores == 0 || topo->nb_lcores > VMP_PLAN_MAX_LCORES) {
		snprintf(err, errlen, "topology has %u lcores", topo->nb_lcores);
		return -EINVAL;
	}
	for (i = 0; i < topo->nb_lcores; i++) {
		if (topo->lcores[i].lcore_id == topo->main_lcore)
			main_seen = true;
		for (j = 0; j < i; j++)
			if (topo->lcores[j].lcore_id ==
			    topo->lcores[i].lcore_id) {
				snprintf(err, errlen,
					 "lcore %u listed twice in topology",
					 topo->lcores[i].lcore_id);
				return -EINVAL;
			}
	}
	if (!main_seen) {
		snprintf(err, errlen, "main lcore %u not in topology",
			 topo->main_lcore);
		return -EINVAL;
	}
	return 0;
}

/* Is a busy (non-idle) lcore already placed on this physical core? */
static bool
core_busy(const struct vmp_plan *plan, unsigned int skip, unsigned int core,
	  int socket)
{
	unsigned int i;

	for (i = 0; i < plan->nb_entries; i++) {
		const struct vmp_plan_entry *e = &plan->entries[i];

		/* the main lcore mostly sleeps (prompt, stats): not busy */
		if (i != skip && e->role != VMP_ROLE_IDLE &&
		    e->role != VMP_ROLE_MAIN && e->core_id == core &&
		    e->socket_id == socket)
			return true;
	}
	return false;
}

/*
 * Pick the best idle lcore for a role on @socket (-1: any). Returns its
 * index or -1. A lcore on a free physical core beats one whose core is busy.
 */
static int
pick(const struct vmp_plan *plan, int socket)
{
	int best = -1;
	unsigned int i;

	for (i = 0; i < plan->nb_entries; i++) {
		const struct vmp_plan_entry *e = &plan->entries[i];

		if (e->role != VMP_ROLE_IDLE)
			continue;
		if (socket >= 0 && e->socket_id != socket)
			continue;
		if (!core_busy(plan, i, e->core_id, e->socket_id))
			return (int)i;
		if (best < 0)
			best = (int)i;
	}
	return best;
}

static unsigned int
count_on_socket(const struct vmp_topo *topo, int socket)
{
	unsigned int i, n = 0;

	for (i = 0; i < topo->nb_lcores; i++)
		if (topo->lcores[i].lcore_id != topo->main_lcore &&
		    (socket < 0 || topo->lcores[i].socket_id == socket))
			n++;
	return n;
}

int
vmp_lcore_plan(const struct vmp_topo *topo, const struct vmp_plan_req *req,
	       struct vmp_plan *plan, char *err, size_t errlen)
{
	unsigned int i, k, need = 0, workers;
	int rc;

	err[0] = '\0';
	rc = check_topo(topo, err, errlen);
	if (rc < 0)
		return rc;

	memset(plan, 0, sizeof(*plan));
	plan->nb_entries = topo->nb_lcores;
	for (i = 0; i < topo->nb_lcores; i++) {
		struct vmp_plan_entry *e = &plan->entries[i];

		e->lcore_id = topo->lcores[i].lcore_id;
		e->core_id = topo->lcores[i].core_id;
		e->socket_id = topo->lcores[i].socket_id;
		e->role = e->lcore_id == topo->main_lcore ? VMP_ROLE_MAIN :
							    VMP_ROLE_IDLE;
	}

	for (k = 0; k < (sizeof(place_order) / sizeof(place_order[0])); k++)
		need += req->role[place_order[k]].count;
	workers = topo->nb_lcores - 1;
	if (need > workers) {
		snprintf(err, errlen,
			 "need %u worker lcores (datapath %u, dma %u, pool %u) "
			 "but EAL gave %u besides the main lcore %u: "
			 "add lcores with -l/--lcores or ask for fewer",
			 need, req->role[VMP_ROLE_DATAPATH].count,
			 req->role[VMP_ROLE_DMA].count,
			 req->role[VMP_ROLE_POOL].count, workers,
			 topo->main_lcore);
		return -ENOSPC;
	}

	for (k = 0; k < (sizeof(place_order) / sizeof(place_order[0])); k++) {
		enum vmp_role role = place_order[k];
		int socket = req->role[role].socket;

		if (req->strict_socket && socket >= 0 &&
		    count_on_socket(topo, socket) < req->role[role].count) {
			snprintf(err, errlen,
				 "role %s needs %u lcores on socket %d but "
				 "EAL gave %u there (--strict-socket)",
				 vmp_role_name(role), req->role[role].count,
				 socket, count_on_socket(topo, socket));
			return -ENODEV;
		}
		for (i = 0; i < req->role[role].count; i++) {
			int idx = pick(plan, socket);
			bool remote = false;

			if (idx < 0) {
				if (req->strict_socket) {
					snprintf(err, errlen,
						 "no lcore left on socket %d "
						 "for role %s (--strict-socket)",
						 socket, vmp_role_name(role));
					return -ENODEV;
				}
				idx = pick(plan, -1);
				remote = true;
			}
			/* need <= workers, so an idle lcore exists */
			plan->entries[idx].role = role;
			plan->entries[idx].remote = remote;
		}
	}

	for (i = 0; i < plan->nb_entries; i++) {
		struct vmp_plan_entry *e = &plan->entries[i];

		if (e->role == VMP_ROLE_IDLE || e->role == VMP_ROLE_MAIN)
			continue;
		e->shares_core = core_busy(plan, i, e->core_id, e->socket_id);
		plan->nb_remote += e->remote;
		plan->nb_shared += e->shares_core;
	}
	if (plan->nb_remote || plan->nb_shared)
		snprintf(err, errlen,
			 "%u lcore(s) serve memory on another socket, %u "
			 "share a physical core with another busy lcore",
			 plan->nb_remote, plan->nb_shared);
	return 0;
}

const struct vmp_plan_entry *
vmp_plan_lookup(const struct vmp_plan *plan, unsigned int lcore_id)
{
	unsigned int i;

	for (i = 0; i < plan->nb_entries; i++)
		if (plan->entries[i].lcore_id == lcore_id)
			return &plan->entries[i];
	return NULL;
}
