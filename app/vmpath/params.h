/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VMPATH_PARAMS_H
#define VMPATH_PARAMS_H

#include <stdbool.h>
#include <stddef.h>

/* --vhost ports on the command line; more come at run time (port_add) */
#define VMP_MAX_VHOST 8
#define VMP_MAX_PORTS 4096 /* --max-ports bound: 15-bit MAC table field */
#define VMP_CTL_DEFAULT "/run/vmpath/vmpath.sock"
#define VMP_PATH_MAX 108

/** DMA engine for async copies: none (CPU), sw (dma_swdma), skeleton. */
enum vmp_dma_kind {
	VMP_DMA_DEFAULT = -1, /**< per port: take --dma */
	VMP_DMA_NONE = 0,
	VMP_DMA_SW,
	VMP_DMA_SKELETON,
};

/** One --vhost PATH[,client][,queues=N][,dma=none|sw|skeleton]. */
struct vmp_vhost_spec {
	char path[VMP_PATH_MAX];
	bool client;
	unsigned int queues;    /**< queue pairs, default 1 */
	enum vmp_dma_kind dma;  /**< VMP_DMA_DEFAULT: --dma */
	bool csum;              /**< offer checksum offloads (csum=off: not) */
	bool tso;               /**< offer TSO (tso=off, csum=off: not) */
	unsigned int mtu;       /**< mtu=N; 0: lib/vnet's default (1500) */
};
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
	unsigned int nb_ethdev;    /**< --ethdev, repeatable */
	char ethdev[4][256];       /**< vdev "name,args" (net_tap, net_ring...) */
	unsigned int nb_vhost;     /**< --vhost, repeatable */
	struct vmp_vhost_spec vhost[VMP_MAX_VHOST];
	enum vmp_dma_kind dma;     /**< --dma: default engine, none */
	unsigned int dma_threshold; /**< --dma-threshold BYTES (256) */
	unsigned int nb_mbufs;     /**< --mbufs N per socket (16383) */
	unsigned int guests;       /**< --embedded-guests N: virtio-user peers */
	unsigned int guest_pkt_len; /**< --guest-pkt-len B (64) */
	struct vmp_guest_config guest; /**< --guest-*, --migrate-* (guest.h) */
	bool idle_halt;            /**< --idle halt: datapath lcores sleep */
	unsigned int idle_polls;   /**< --idle-polls N empty loops (2000) */
	unsigned int max_ports;    /**< --max-ports N (64) */
	char ctl_path[VMP_PATH_MAX]; /**< --ctl PATH, "" = none */
	bool ctl_set;              /**< --ctl given: failing to serve is fatal */
};

/** Parse a --vhost value into @p spec. @return 0 or -EINVAL (@p err set). */
int vmp_params_parse_vhost(const char *val, struct vmp_vhost_spec *spec,
			   char *err, size_t errlen);

/** "none", "sw", "skeleton" -> kind; @return -EINVAL if unknown. */
int vmp_params_parse_dma(const char *val, enum vmp_dma_kind *kind);

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
