/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>

#include <rte_launch.h>
#include <rte_pause.h>

#include "idle.h"
#include "switch.h"
#include "vmpath.h"

#define MAX_POLLS_PER_ROLE 8

struct vmp_app vmp_app;

static struct {
	unsigned int n;
	vmp_role_poll_t fn[MAX_POLLS_PER_ROLE];
} role_polls[VMP_ROLE_MAX];

int
vmp_role_add_poll(enum vmp_role role, vmp_role_poll_t fn)
{
	if ((unsigned int)role >= VMP_ROLE_MAX || fn == NULL)
		return -EINVAL;
	if (role_polls[role].n == MAX_POLLS_PER_ROLE)
		return -ENOSPC;
	role_polls[role].fn[role_polls[role].n++] = fn;
	return 0;
}

/*
 * Every worker lcore runs this: the poll functions of its role, round after
 * round, until vmp_app.quit. A lcore with nothing to poll pauses, so an idle
 * role still answers quit at once.
 */
static int
role_loop(void *arg)
{
	const struct vmp_plan_entry *e = arg;
	unsigned int lcore = rte_lcore_id();
	struct vmp_lcore_stats *st = &vmp_app.lstats[lcore];
	unsigned int i, work;
	bool dp = e->role == VMP_ROLE_DATAPATH;

	if (dp)
		vmp_switch_online(lcore);
	while (!vmp_app.quit) {
		work = 0;
		for (i = 0; i < role_polls[e->role].n; i++)
			work += role_polls[e->role].fn[i](lcore);
		st->loops++;
		if (work)
			st->busy_loops++;
		else
			rte_pause();
		if (dp) {
			vmp_idle_after_loop(lcore, work);
			vmp_switch_quiescent(lcore);
		}
	}
	/* a control-owner wait no longer counts this lcore */
	if (dp)
		vmp_switch_offline(lcore);
	return 0;
}

int
vmp_roles_launch(void)
{
	unsigned int i;
	int rc;

	for (i = 0; i < vmp_app.plan.nb_entries; i++) {
		struct vmp_plan_entry *e = &vmp_app.plan.entries[i];

		if (e->role == VMP_ROLE_MAIN || e->role == VMP_ROLE_IDLE)
			continue;
		/* a DMA lcore a dma_swdma device turned into a service
		 * lcore runs the device's engines, not a role loop
		 */
		if (rte_eal_lcore_role(e->lcore_id) == ROLE_SERVICE)
			continue;
		rc = rte_eal_remote_launch(role_loop, e, e->lcore_id);
		if (rc < 0)
			return rc;
	}
	return 0;
}

void
vmp_roles_stop(void)
{
	vmp_app.quit = true;
	vmp_idle_wake_all(); /* sleeping datapath lcores see quit */
	rte_eal_mp_wait_lcore();
}
