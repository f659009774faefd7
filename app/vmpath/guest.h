/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VMPATH_GUEST_H
#define VMPATH_GUEST_H

/**
 * @file
 * The synthetic guest (memory + "vCPU" writer lcores logging through
 * lib/dirtylog) and the migration commands of vmpath. Not a library API.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <vmp_migrate.h>

/** --guest-* and --migrate-* options (see vmp_guest_usage()). */
struct vmp_guest_config {
	uint64_t mem;	       /**< --guest-mem bytes, 0: no guest */
	unsigned int writers;  /**< --guest-writers N */
	uint64_t rate;	       /**< --guest-rate pages/s per writer, 0: max */
	bool hugepages;	       /**< --guest-hugepages */
	char dump[256];	       /**< --guest-dump PATH at exit */
	char listen[256];      /**< --migrate-listen URI */
	char to[256];	       /**< --migrate-to URI */
	unsigned int delay_ms; /**< --migrate-delay MS before --migrate-to */
	unsigned int workers;  /**< --migrate-workers N (compression) */
	int comp;	       /**< --migrate-comp none|zlib */
	int level;	       /**< --migrate-level 1..9 */
	int model;	       /**< --migrate-model lockless|locked */
	unsigned int downtime_ms; /**< --migrate-downtime MS */
	uint64_t bandwidth;	 /**< --migrate-bandwidth MB/s (bytes/s here) */
	unsigned int max_rounds; /**< --migrate-max-rounds N */
	unsigned int timeout_s;	 /**< --migrate-timeout S */
	bool auto_converge;	 /**< --migrate-auto-converge */
	bool switchover_compressed; /**< --migrate-switchover compressed */
	bool exit_when_done;	    /**< --migrate-exit */
};

/** First and last option codes params.c hands to vmp_guest_parse_opt(). */
enum {
	VMP_GOPT_MEM = 0,
	VMP_GOPT_WRITERS,
	VMP_GOPT_RATE,
	VMP_GOPT_HUGEPAGES,
	VMP_GOPT_DUMP,
	VMP_GOPT_LISTEN,
	VMP_GOPT_TO,
	VMP_GOPT_DELAY,
	VMP_GOPT_WORKERS,
	VMP_GOPT_COMP,
	VMP_GOPT_LEVEL,
	VMP_GOPT_MODEL,
	VMP_GOPT_DOWNTIME,
	VMP_GOPT_BANDWIDTH,
	VMP_GOPT_MAX_ROUNDS,
	VMP_GOPT_TIMEOUT,
	VMP_GOPT_AUTO_CONVERGE,
	VMP_GOPT_SWITCHOVER,
	VMP_GOPT_EXIT,
	VMP_GOPT_COUNT,
};

void vmp_guest_defaults(struct vmp_guest_config *g);
/** Parse one option (@p which: VMP_GOPT_*); -EINVAL with @p err set. */
int vmp_guest_parse_opt(struct vmp_guest_config *g, int which, const char *arg,
			char *err, size_t errlen);
/** Check option combinations; -EINVAL with @p err set. */
int vmp_guest_check(const struct vmp_guest_config *g, char *err, size_t errlen);
void vmp_guest_usage(void);

/* guest.c */
int vmp_guest_start(void); /**< after the roles are launched */
void vmp_guest_stop(void); /**< stop writers (before roles stop) */
void vmp_guest_fini(void); /**< dump (--guest-dump) and free */
bool vmp_guest_exists(void);
void vmp_guest_pause(void);
void vmp_guest_resume(void);
bool vmp_guest_paused(void);
void vmp_guest_throttle(unsigned int pct);
int vmp_guest_dump(const char *path);
/** As vmp_guest_dump(), refusing a file that exists (-EEXIST): the control
 *  socket's guest_dump never overwrites one. */
int vmp_guest_dump_new(const char *path);
int vmp_guest_pin(uint64_t off, uint64_t len);
int vmp_guest_unpin(uint64_t off, uint64_t len);
void vmp_guest_info(FILE *f);

/** What `guest info` prints. */
struct vmp_guest_state {
	uint64_t mem;	       /**< bytes */
	bool hugepages;	       /**< hugetlb backing, else anonymous */
	unsigned int writers;  /**< vCPU writer lcores */
	uint64_t writes;       /**< pages written by them so far */
	bool paused;	       /**< vCPUs paused */
	unsigned int throttle; /**< auto-converge throttle, % */
	uint64_t pinned_pages; /**< pinned with vmp_guest_pin() */
};

/** Snapshot the guest. @return 0, or -ENODEV (no --guest-mem). */
int vmp_guest_state_get(struct vmp_guest_state *s);
/** The guest's memory regions for the engine; returns how many (0/1). */
int vmp_guest_mig_regions(struct vmp_mig_region *r);
/** lib/dirtylog behind the engine's dirty callbacks. */
struct vmp_mig_dirty_ops vmp_guest_dirty_ops(void);
/** Next idle EAL worker lcore not in @p skip (n entries), or -1. */
int vmp_guest_idle_lcore(const unsigned int *skip, unsigned int n);

/* cmd_migrate.c */
/*
 * Every thread (prompt, control socket, telemetry) may call these: they
 * serialise on one lock (cmd_migrate.c). Errors, with @p err set where there
 * is one: -EINVAL (a destination, a bad uri), -EBUSY (a migration is running,
 * too few idle lcores), -ENODEV (no guest), -ENOENT (no migration),
 * -EALREADY (cancel after it ended), -ENOMEM.
 */
int vmp_migapp_start(const char *uri, char *err, size_t errlen);
/** vmp_migapp_start() with @p g's --migrate-* values instead of the
 *  command line's. */
int vmp_migapp_start_cfg(const char *uri, const struct vmp_guest_config *g,
			 char *err, size_t errlen);
int vmp_migapp_cancel(void);
int vmp_migapp_stats(struct vmp_mig_stats *st);
/** Pause (or resume) the guest's vCPUs; -EBUSY while a migration runs. */
int vmp_migapp_guest_pause(bool pause);
int vmp_migapp_init(void); /**< --migrate-listen / --migrate-to, telemetry */
void vmp_migapp_fini(void);

#endif /* VMPATH_GUEST_H */
