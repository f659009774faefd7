/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VMPATH_PARAMS_H
#define VMPATH_PARAMS_H

#include <stdbool.h>
#include <stddef.h>

#include "guest.h"

/** Application arguments (after `--`). Defaults: vmp_params_defaults(). */
struct vmp_app_config {
	bool interactive;          /**< -i: vmpath> prompt */
	unsigned int stats_period; /**< --stats-period N seconds, 0 = off */
	unsigned int run_time;     /**< --run-time N seconds, 0 = until quit */
	unsigned int nb_datapath;  /**< --datapath-lcores N */
	unsigned int nb_dma;       /**< --dma-lcores N */
	unsigned int nb_pool;      /**< --pool-workers N */
	int socket;                /**< --socket N: memory socket, -1 = auto */
	bool strict_socket;        /**< --strict-socket: no remote lcores */
	struct vmp_guest_config guest; /**< --guest-*, --migrate-* (guest.h) */
};

/** Fill @p cfg with the defaults documented in docs/cli.md. */
void vmp_params_defaults(struct vmp_app_config *cfg);

/**
 * Parse application arguments (argv[0] is the program name).
 *
 * Pure: touches no EAL state, so tests call it directly.
 *
 * @return
 *   0 on success; 1 if --help was given (usage printed to stdout);
 *   -EINVAL if an option is unknown, lacks its value or has a malformed or
 *   out-of-range value: @p err names the option and the value.
 */
int vmp_params_parse(int argc, char **argv, struct vmp_app_config *cfg,
		     char *err, size_t errlen);

/** Print the usage text (every option) to stdout. */
void vmp_params_usage(const char *prgname);

#endif /* VMPATH_PARAMS_H */
