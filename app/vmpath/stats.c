/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>

#include <rte_cycles.h>

#include "vmpath.h"

/* Snapshot of the previous print, so rates cover one period. */
static struct {
	uint64_t tsc;
	uint64_t loops[RTE_MAX_LCORE];
	uint64_t busy[RTE_MAX_LCORE];
} prev;

void
vmp_stats_print(FILE *f)
{
	uint64_t now = rte_get_tsc_cycles(), hz = rte_get_tsc_hz();
	double dt, up = (double)(now - vmp_app.start_tsc) / hz;
	unsigned int i;

	if (prev.tsc == 0)
		prev.tsc = vmp_app.start_tsc;
	dt = (double)(now - prev.tsc) / hz;
	if (dt <= 0)
		dt = 1e-9;

	fprintf(f, "\n  ######################## vmpath statistics "
		   "(uptime %.1f s) ########################\n", up);
	fprintf(f, "  %5s %5s %6s %-9s %14s %7s\n", "lcore", "core", "socket",
		"role", "loops/s", "busy%");
	for (i = 0; i < vmp_app.plan.nb_entries; i++) {
		const struct vmp_plan_entry *e = &vmp_app.plan.entries[i];
		unsigned int l = e->lcore_id;
		uint64_t loops, busy;
		double dl;

		if (e->role == VMP_ROLE_MAIN || e->role == VMP_ROLE_IDLE)
			continue;
		loops = vmp_app.lstats[l].loops;
		busy = vmp_app.lstats[l].busy_loops;
		dl = (double)(loops - prev.loops[l]);
		fprintf(f, "  %5u %5u %6d %-9s %14.0f %6.1f%%\n", l, e->core_id,
			e->socket_id, vmp_role_name(e->role), dl / dt,
			dl > 0 ? 100.0 * (double)(busy - prev.busy[l]) / dl :
				 0.0);
		prev.loops[l] = loops;
		prev.busy[l] = busy;
	}
	fprintf(f, "  ######################################################"
		   "#############################\n");
	fflush(f);
	prev.tsc = now;
}
