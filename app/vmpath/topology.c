/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <sched.h>
#include <stdio.h>

#include <rte_lcore.h>

#include "vmpath.h"

/* Physical core of a CPU from sysfs; the CPU itself if sysfs says nothing. */
static unsigned int
cpu_core_id(unsigned int cpu)
{
	char path[128];
	unsigned int core;
	FILE *f;

	snprintf(path, sizeof(path),
		 "/sys/devices/system/cpu/cpu%u/topology/core_id", cpu);
	f = fopen(path, "r");
	if (f == NULL)
		return cpu;
	if (fscanf(f, "%u", &core) != 1)
		core = cpu;
	fclose(f);
	return core;
}

int
vmp_topo_from_eal(struct vmp_topo *topo)
{
	unsigned int lcore, cpu;

	topo->main_lcore = rte_get_main_lcore();
	topo->nb_lcores = 0;
	RTE_LCORE_FOREACH(lcore) {
		struct vmp_topo_lcore *l;
		rte_cpuset_t set = rte_lcore_cpuset(lcore);

		if (topo->nb_lcores == VMP_PLAN_MAX_LCORES)
			return -E2BIG;
		l = &topo->lcores[topo->nb_lcores++];
		l->lcore_id = lcore;
		l->socket_id = (int)rte_lcore_to_socket_id(lcore);
		/* An lcore group (--lcores '(0-7)@(0-1)') floats over
		 * several CPUs; its first CPU names its core.
		 */
		l->core_id = lcore;
		for (cpu = 0; cpu < CPU_SETSIZE; cpu++)
			if (CPU_ISSET(cpu, &set)) {
				l->core_id = cpu_core_id(cpu);
				break;
			}
	}
	return 0;
}
