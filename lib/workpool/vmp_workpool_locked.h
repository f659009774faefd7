/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VMP_WORKPOOL_LOCKED_H
#define VMP_WORKPOOL_LOCKED_H

/**
 * @file
 * vmp_workpool_locked: the LOCKED BASELINE. A measurement reference only,
 * NOT for production use (use vmp_workpool.h).
 *
 * The model lib/workpool replaces: QEMU's compression threads before the
 * lockless rework (the "before" of QEMU's "migration: introduce lockless
 * multithreads model" patch). One global "done" lock + condition variable
 * for completions, and per worker a mutex + condition variable guarding
 * exactly ONE pending request (one job buffer per worker). The submitter
 * scans the workers from index 0 for one that is idle, runs the done
 * callback of that worker's previous job (under the global lock, as QEMU's
 * compression threads did), hands it the next job and signals it; with no
 * idle worker it sleeps on the global condition variable. Workers sleep on
 * their own condition variable after every job. Every hand-off takes two locks
 * and, when the peer sleeps, a futex wake: the cost the lockless pool removes.
 *
 * The two users measure the lockless pool against it: the workpool benchmark
 * (tests/workpool/perf_workpool.c) and lib/migrate's `locked` compression
 * model (miglab). One implementation so both measure the same baseline.
 *
 * Threads: ONE submitter thread for get/put/poll/drain/destroy; workers on
 * idle EAL worker lcores launched by create with rte_eal_remote_launch()
 * (dedicated to the pool until destroy returns); stats_get from any thread.
 */

#include <stdint.h>

#include "vmp_workpool.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque locked-baseline pool. */
struct vmp_workpool_locked;

/**
 * Create the pool and launch its workers; returns once every worker has run
 * worker_init.
 *
 * Takes the lockless pool's parameters so a benchmark can pass the same set
 * to both. Used: name (logs only; not registered, no telemetry), nb_workers,
 * lcores, req_size, socket_id, init/uninit (run once per job buffer: there is
 * one per worker, idx = worker index), handler, done, worker_init,
 * worker_uninit, cb_arg. Ignored (one pending request per worker, no
 * spinning, first-idle scan from worker 0): ring_size, dispatch, spin_polls;
 * they are still validated as vmp_pool_create() does.
 *
 * @param params  see struct vmp_pool_params.
 * @return
 *   The pool, or NULL with rte_errno set:
 *   - EINVAL: params NULL; nb_workers 0 or > VMP_POOL_MAX_WORKERS; ring_size
 *     not a power of two or too large; handler or done NULL; unknown
 *     dispatch; an lcore is the main lcore, not enabled, or listed twice;
 *     name too long.
 *   - EBUSY: a requested lcore is not idle, fewer idle worker lcores than
 *     nb_workers (lcores NULL), or a launch failed.
 *   - ENOMEM: allocation failed.
 *   - the errno returned (negated) by init or worker_init (EIO if that
 *     value was not negative).
 */
struct vmp_workpool_locked *
vmp_workpool_locked_create(const struct vmp_pool_params *params);

/**
 * Take the job buffer of the first idle worker (scan from worker 0). If that
 * worker's previous job has not been harvested, its done callback runs first,
 * under the global lock (as in QEMU's compression threads). The job is then
 * "held" by the caller until vmp_workpool_locked_put().
 *
 * @param pool  the pool.
 * @param wait  0: return NULL at once if no worker is idle; non-zero: sleep
 *   on the global condition variable until one is.
 * @return
 *   The job's caller data (req_size bytes, 64-byte aligned, whatever the
 *   last user left in it), or NULL: pool NULL, no idle worker and wait 0, or
 *   (wait non-zero) every worker's job is held, so none can become idle.
 *   Each call that finds no idle worker at first counts in
 *   stats.submit_full, waiting or not.
 */
void *vmp_workpool_locked_get(struct vmp_workpool_locked *pool, int wait);

/**
 * Hand a held job to its worker: set its pending flag and signal its
 * condition variable, under the worker's mutex.
 *
 * @param pool  the pool.
 * @param data  a pointer returned by vmp_workpool_locked_get() and not put
 *   since.
 * @return
 *   - 0: the worker has it.
 *   - -EINVAL: pool or data NULL, or data is not a job held from this pool.
 */
int vmp_workpool_locked_put(struct vmp_workpool_locked *pool, void *data);

/**
 * Run the done callback of every finished job not yet harvested (under the
 * global lock). Never sleeps on a condition variable.
 *
 * @param pool  the pool.
 * @return number of done callbacks run (>= 0), or -EINVAL if pool is NULL.
 */
int vmp_workpool_locked_poll(struct vmp_workpool_locked *pool);

/**
 * Wait until every job that was put has finished, and run the done callbacks
 * of all finished jobs. Held jobs (got, not put) are not waited for.
 *
 * @param pool  the pool.
 * @return number of done callbacks run (>= 0), or -EINVAL if pool is NULL.
 */
int vmp_workpool_locked_drain(struct vmp_workpool_locked *pool);

/**
 * Stop the workers (each returns from its handler first; worker_uninit runs
 * on its lcore), run uninit on every job buffer and free the pool. Refuses
 * while a job is held, running, or finished but not harvested (as
 * vmp_pool_destroy()): drain first, so no done callback runs by surprise.
 *
 * @param pool  the pool (NULL: nothing to do).
 * @return
 *   - 0: destroyed, or pool NULL.
 *   - -EBUSY: jobs in flight; the pool is unchanged and still usable.
 */
int vmp_workpool_locked_destroy(struct vmp_workpool_locked *pool);

/**
 * Snapshot the counters into the lockless pool's stats struct. Meaning here:
 * ring_size 1; submitted = jobs put; completed = done callbacks run;
 * submit_full = gets that found no idle worker at first; kicks 0 (every put
 * signals the worker, not counted); in_flight = jobs held, running, or
 * finished and not harvested; per worker: lcore_id, handled, busy_cycles
 * (TSC cycles inside the handler), halts = waits on its condition variable,
 * wakes = returns from those waits. Any thread; each field is read
 * atomically, the set is not one consistent cut.
 *
 * @param pool   the pool.
 * @param stats  filled in.
 * @return 0, or -EINVAL if pool or stats is NULL.
 */
int vmp_workpool_locked_stats_get(const struct vmp_workpool_locked *pool,
				  struct vmp_pool_stats *stats);

#ifdef __cplusplus
}
#endif

#endif /* VMP_WORKPOOL_LOCKED_H */
