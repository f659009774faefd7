/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VMPATH_IDLE_H
#define VMPATH_IDLE_H

/**
 * @file
 * Idle policy of the datapath lcores (idle.c): poll, or halt after
 * --idle-polls empty loops on a lib/vnet waker (guest kicks, ethdev Rx
 * interrupts, control wakes). Application code, not a library API.
 */

#include <stdbool.h>
#include <stdio.h>

#include <vmp_vnet.h>

struct vmp_sw_port;

/** One waker per datapath lcore (after vmp_switch_init, before any port
 * is added). @return 0 or -errno. */
int vmp_idle_init(void);
/** Attach @p sp's queue pairs to their lcores' wakers (control owner,
 * while the hold is set and no lcore polls @p sp). @return 0 or -errno. */
int vmp_idle_port_attach(const struct vmp_sw_port *sp);
/** Detach them (same rule, once no lcore polls @p sp). */
void vmp_idle_port_detach(const struct vmp_sw_port *sp);
/** While set, no datapath lcore enters a new sleep; setting it wakes all. */
void vmp_idle_hold(bool on);
/** Detach and free (after the roles stopped, before vmp_switch_fini). */
void vmp_idle_fini(void);
/** Datapath role loop: after each round that did @p work. */
void vmp_idle_after_loop(unsigned int lcore, unsigned int work);
/** Change the policy at run time (any thread); wakes sleeping lcores. */
void vmp_idle_set(bool halt, unsigned int polls);
/** Wake every sleeping datapath lcore (quit, policy change). */
void vmp_idle_wake_all(void);
/** Counters of datapath lcore @p lcore. @return 0, -ENOENT (none). */
int vmp_idle_stats_get(unsigned int lcore, struct vmp_vnet_waker_stats *st);
/** Per-lcore idle counters, for the prompt and --stats-period. */
void vmp_idle_print(FILE *f);

#endif /* VMPATH_IDLE_H */
