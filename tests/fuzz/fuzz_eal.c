/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_log.h>

#include "fuzz_common.h"

void
fz_eal_init(const char *lcores)
{
	bool log = getenv("VMP_FUZZ_LOG") != NULL;
	char prefix[64];
	char *argv[16];
	int argc = 0;

	snprintf(prefix, sizeof(prefix), "--file-prefix=vmpfz-%d", getpid());
	argv[argc++] = (char *)(uintptr_t) "vmpath-fuzz";
	argv[argc++] = (char *)(uintptr_t) "-l";
	argv[argc++] = (char *)(uintptr_t)lcores;
	argv[argc++] = (char *)(uintptr_t) "--no-huge";
	argv[argc++] = (char *)(uintptr_t) "-m";
	argv[argc++] = (char *)(uintptr_t) "256";
	argv[argc++] = (char *)(uintptr_t) "--no-pci";
	argv[argc++] = (char *)(uintptr_t) "--iova-mode=va";
	argv[argc++] = (char *)(uintptr_t) "--no-telemetry";
	argv[argc++] = (char *)(uintptr_t)(log ? "--log-level=*:debug"
					       : "--log-level=*:error");
	argv[argc++] = prefix;
	argv[argc] = NULL;
	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "fuzz: rte_eal_init failed\n");
		exit(1);
	}
	if (!log)
		rte_log_set_global_level(RTE_LOG_CRIT);
}
