/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LOCKED_POOL_H
#define LOCKED_POOL_H

/*
 * The model lib/workpool replaces, kept only as the benchmark's baseline:
 * QEMU's compression threads before the lockless rework (the seed's
 * "before"). One global lock + condition variable for completions, and per
 * worker a mutex + condition variable guarding a single pending request.
 * The submitter scans for a worker whose previous request is done (running
 * that request's done callback), hands it the new one and signals it; if
 * none is done it sleeps on the global condition variable. Workers sleep on
 * their own condition variable after every request.
 *
 * Same callbacks as struct vmp_pool_params (ring_size, dispatch and
 * spin_polls are ignored: one pending request per worker, no spinning).
 */

#include <stdint.h>

#include <vmp_workpool.h>

struct lk_pool;

/** Create and launch on idle worker lcores; NULL + rte_errno on failure. */
struct lk_pool *lk_pool_create(const struct vmp_pool_params *p);

/** Hand one request to the first worker that is done (blocks until one is):
 *  fill(data, ctx) writes the request; the worker's previous request, if
 *  any, gets its done callback first. */
void lk_pool_submit(struct lk_pool *pool, void (*fill)(void *data, void *ctx),
		    void *ctx);

/** Wait for every worker to finish and run the remaining done callbacks. */
void lk_pool_flush(struct lk_pool *pool);

/** Stop the workers (flush first) and free. */
void lk_pool_destroy(struct lk_pool *pool);

/** Cycles worker @p w spent in the handler / requests it handled. */
uint64_t lk_pool_busy_cycles(const struct lk_pool *pool, unsigned int w);
uint64_t lk_pool_handled(const struct lk_pool *pool, unsigned int w);

#endif /* LOCKED_POOL_H */
