/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VMP_WORKPOOL_PVT_H
#define VMP_WORKPOOL_PVT_H

/*
 * Internals of lib/workpool. Not for inclusion outside lib/workpool.
 *
 * Request life cycle (every transition is made by the submitter, except
 * "handled", which the worker does without touching the header):
 *
 *   FREE --prepare--> PREPARED --commit--> QUEUED --(worker: handler,
 *    ^                   |                            enqueue on done ring)
 *    |                   abort                              |
 *    +-------------------+------ harvest: done() <----------+
 *
 * A request bound to worker w counts in w->outstanding from prepare until it
 * is harvested (or aborted). outstanding <= ring_size always, so the worker's
 * ring never overflows and, with nb_workers * ring_size requests in all, a
 * worker with room always finds a free request.
 *
 * Worker halt word (futex, lib/common vmp_halt.h), values:
 *   AWAKE (0)  the worker polls its ring; nobody needs to kick it
 *   HALTED (1) the worker published it is about to sleep / sleeps
 * Transitions (labels used in the code and in docs/workpool.md and
 * tests/workpool/workpool_halt.pml):
 *   W1  worker    AWAKE  -> HALTED  store, then fence F_W
 *   W2  worker    re-check ring and quit after F_W; work found:
 *                 HALTED -> AWAKE   CAS (may lose to S2: still AWAKE)
 *   W3  worker    futex wait while word == HALTED
 *   S1  submitter enqueue on the worker ring (store-release of prod.tail),
 *                 or quit = 1 (destroy), then fence F_S
 *   S2  submitter load word after F_S; if HALTED: CAS HALTED -> AWAKE and,
 *                 if the CAS won, futex wake (the only syscall of submit)
 * F_W and F_S are seq_cst fences and pair with each other: of "W1 then
 * W2's load" and "S1 then S2's load", at least one side sees the other's
 * store, so either the worker finds the request or the submitter finds
 * HALTED and kicks. A kick that lands before the worker enters the kernel
 * is not lost: S2 changed the word first, so W3's futex compare fails.
 */

#include <stdint.h>

#include <rte_common.h>
#include <rte_log.h>
#include <rte_ring.h>

#include "vmp_workpool.h"

extern int vmp_workpool_logtype;
#define WP_LOG(level, fmt, ...)                                                \
	rte_log(RTE_LOG_##level, vmp_workpool_logtype, "workpool: " fmt "\n",  \
		##__VA_ARGS__)

enum __vmp_req_state {
	WP_REQ_FREE = 0,
	WP_REQ_PREPARED,
	WP_REQ_QUEUED,
};

/* The header in front of the caller data; VMP_POOL_REQ_HDR_SIZE bytes. Only
 * the submitter reads or writes it. */
struct __vmp_pool_req {
	struct vmp_pool *pool;
	uint32_t idx;
	uint16_t worker;
	uint8_t state;
} __rte_aligned(VMP_POOL_REQ_HDR_SIZE);

#define WP_HALT_AWAKE 0u
#define WP_HALT_HALTED 1u

enum __vmp_worker_start {
	WP_START_PENDING = 0,
	WP_START_READY,
	WP_START_FAILED,
};

struct __vmp_pool_worker {
	/* read-mostly, set at create */
	struct vmp_pool *pool;
	struct rte_ring *ring; /* SP (submitter) / SC (this worker) */
	unsigned int idx;
	unsigned int lcore_id;

	/* shared: halt word (W1..W3 / S2) and quit flag (destroy, S1) */
	uint32_t halt_word __rte_cache_aligned;
	uint32_t quit;
	uint32_t start; /* enum __vmp_worker_start, store-release by worker */
	int start_rc;

	/* written by the worker only, read relaxed by stats_get */
	uint64_t handled __rte_cache_aligned;
	uint64_t busy_cycles;
	uint64_t halts;
	uint64_t wakes;

	/* submitter-private */
	unsigned int outstanding __rte_cache_aligned;
};

struct vmp_pool {
	char name[VMP_POOL_NAMESIZE];
	struct vmp_pool_params p; /* copy; p.lcores and p.name not kept */
	unsigned int nb_workers;
	unsigned int ring_size;
	unsigned int nb_reqs;
	size_t stride; /* header + caller data, cache-line multiple */
	int socket_id;
	struct rte_ring *done_ring; /* MP (workers) / SC (submitter) */
	uint8_t *reqs;		    /* nb_reqs * stride bytes */

	/* submitter-private state: own cache line, away from the read-mostly
	 * fields above that every worker reads per request (false sharing) */
	struct __vmp_pool_req **free_stack __rte_cache_aligned;
	unsigned int nb_free;
	unsigned int nb_prepared;
	unsigned int rr_next;

	/* written by the submitter only (relaxed stores), read by stats_get */
	uint64_t submitted;
	uint64_t completed;
	uint64_t submit_full;
	uint64_t kicks;
	uint64_t in_flight;

	struct __vmp_pool_worker *workers[VMP_POOL_MAX_WORKERS];
};

static inline struct __vmp_pool_req *
wp_req(struct vmp_pool_req *r)
{
	return (struct __vmp_pool_req *)r;
}

/* Single-writer counter bump, atomic for readers on other threads. */
#define WP_INC(field, n)                                                       \
	__atomic_store_n(&(field), (field) + (n), __ATOMIC_RELAXED)

/* workpool.c, also used by workpool_locked.c: parameter checks and lcore
 * choice of a create; 0 or -errno (logged). */
int __vmp_pool_create_check(const struct vmp_pool_params *p,
			    unsigned int *lcores, unsigned int *ring_size,
			    int *socket);

/* workpool_worker.c */
int __vmp_pool_worker_main(void *arg);
void __vmp_pool_worker_kick(struct vmp_pool *pool, struct __vmp_pool_worker *w);

/* workpool_telemetry.c: registry of live pools by name */
int __vmp_pool_register(struct vmp_pool *pool);
void __vmp_pool_unregister(struct vmp_pool *pool);

#endif /* VMP_WORKPOOL_PVT_H */
