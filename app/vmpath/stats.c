/* SPDX-License-Identifier: BSD-3-Clause */
#include <inttypes.h>
#include <stdio.h>

#include <rte_cycles.h>

#include "idle.h"
#include "switch.h"
#include "vmpath.h"

/* Snapshot of the previous print, so rates cover one period. */
static struct {
	uint64_t tsc;
	uint64_t loops[RTE_MAX_LCORE];
	uint64_t busy[RTE_MAX_LCORE];
	uint64_t port_rx[VMP_MAX_PORTS], port_tx[VMP_MAX_PORTS];
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
	for (i = 0; i < vmp_sw.max_ports; i++) {
		struct vmp_sw_port_counters c;
		uint64_t rx, tx;

		if (vmp_switch_port(i) == NULL)
			continue;
		vmp_switch_port_counters(i, &c);
		rx = c.rx_pkts - prev.port_rx[i];
		tx = c.tx_pkts - prev.port_tx[i];
		fprintf(f,
			"  port %u: from-vm %" PRIu64 " (%.3f Mpps) to-vm %" PRIu64
			" (%.3f Mpps) no_buf %" PRIu64 " bad %" PRIu64
			" no_mbuf %" PRIu64 " inflight %" PRIu64 "\n"
			"          copies: dma %" PRIu64 " cpu %" PRIu64
			" dma_errors %" PRIu64 " logged %" PRIu64 "\n",
			i, c.rx_pkts, (double)rx / dt / 1e6, c.tx_pkts,
			(double)tx / dt / 1e6, c.no_buf, c.bad, c.no_mbuf,
			c.inflight, c.dma_copies, c.cpu_copies, c.dma_errors,
			c.logged);
		prev.port_rx[i] = c.rx_pkts;
		prev.port_tx[i] = c.tx_pkts;
	}
	if (vmp_sw.nb_ports) {
		uint64_t fl = 0, hp = 0, rn = 0, df = 0;
		unsigned int l, o;

		for (l = 0; l < RTE_MAX_LCORE; l++) {
			fl += vmp_sw.ls[l].flood;
			hp += vmp_sw.ls[l].drop_hairpin;
			rn += vmp_sw.ls[l].drop_runt;
			for (o = 0; o < vmp_sw.max_ports && vmp_sw.ls[l].fwd;
			     o++)
				df += vmp_sw.ls[l].drop_full[o];
		}
		fprintf(f,
			"  switch: flooded %" PRIu64 " dropped: full %" PRIu64
			" hairpin %" PRIu64 " runt %" PRIu64 "\n",
			fl, df, hp, rn);
	}
	if (vmp_app.cfg.idle_halt)
		vmp_idle_print(f);
	fprintf(f, "  ######################################################"
		   "#############################\n");
	fflush(f);
	prev.tsc = now;
}
