/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VMPATH_H
#define VMPATH_H

/**
 * @file
 * State shared by the files of the vmpath application (not a library API).
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_lcore.h>
#include <rte_log.h>

#include "lcore_plan.h"
#include "params.h"

/** Per-lcore counters, written only by that lcore. */
struct vmp_lcore_stats {
	uint64_t loops;      /**< iterations of the role loop */
	uint64_t busy_loops; /**< iterations that did work */
} __rte_cache_aligned;

struct vmp_app {
	struct vmp_app_config cfg;
	struct vmp_topo topo;
	struct vmp_plan plan;
	uint64_t start_tsc;
	/* Set by a signal, `quit` or --run-time; read by every role loop. */
	volatile bool quit;
	struct vmp_lcore_stats lstats[RTE_MAX_LCORE];
};

extern struct vmp_app vmp_app;

/* app_log.c: the vmpath.app logtype. Messages of the control and migration
 * paths go through it (rte_log: stderr and syslog, as EAL's own); reports a
 * user asked for (show, info, statistics, progress) stay on stdout. */
extern int vmp_app_logtype;
#define VMP_LOG(level, fmt, ...)                                               \
	rte_log(RTE_LOG_##level, vmp_app_logtype, fmt "\n", ##__VA_ARGS__)

/* topology.c */
int vmp_topo_from_eal(struct vmp_topo *topo);

/* roles.c */
/** A role's loop body: do one round of work, return how much was done. */
typedef unsigned int (*vmp_role_poll_t)(unsigned int lcore_id);
/** Add a poll function to every lcore of @p role (before launch). */
int vmp_role_add_poll(enum vmp_role role, vmp_role_poll_t fn);
int vmp_roles_launch(void);
void vmp_roles_stop(void);

/* stats.c */
void vmp_stats_print(FILE *f);

/* telemetry.c */
int vmp_telemetry_init(void);

/* cmdline.c */
/** Start the vmpath> prompt on stdin. @return 0 or -ENOMEM. */
int vmp_prompt_open(void);
/** Feed what stdin has to the prompt (it was readable); EOF or `quit`
 * set vmp_app.quit. */
void vmp_prompt_input(void);
void vmp_prompt_close(void);
/** Make a running prompt return (signal-safe). */
void vmp_prompt_stop(void);

/* cmd_*.c: printers shared by the prompt and telemetry-free callers. */
void vmp_show_lcores(FILE *f);
void vmp_show_config(FILE *f);

#endif /* VMPATH_H */
