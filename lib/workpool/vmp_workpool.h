/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VMP_WORKPOOL_H
#define VMP_WORKPOOL_H

/**
 * @file
 * vmp_workpool: a lockless multithread request pool on rte_ring.
 *
 * One submitter thread hands fixed-size requests to N worker lcores and gets
 * them back when they are finished. It replaces the old "one lock per worker,
 * one pending request" model (QEMU's compress threads before 2018) with:
 *
 *   submitter --prepare/commit--> per-worker SP/SC ring (default 4 slots)
 *                                        |
 *                                   worker lcore: handler(req)
 *                                        |
 *   submitter <--poll_done/wait_done-- one MP/SC "done" ring (all workers)
 *
 * Requests are pre-allocated at create time (nb_workers x ring_size of them)
 * on the pool's NUMA socket; the caller's data (req_size bytes) is embedded
 * after the pool's request header and reached with vmp_pool_req_data().
 *
 * Threads:
 * - The submitter is ONE thread (any EAL or non-EAL thread, but the same one
 *   for every call below except vmp_pool_stats_get()). prepare, commit,
 *   abort, poll_done, wait_done and destroy are not thread-safe against each
 *   other; the `done` callback always runs on the submitter, inside
 *   vmp_pool_submit_prepare(), vmp_pool_poll_done(), vmp_pool_wait_done().
 * - Workers run on EAL worker lcores, launched by vmp_pool_create() with
 *   rte_eal_remote_launch(). Those lcores must be idle (WAIT state) and stay
 *   dedicated to the pool until vmp_pool_destroy() returns.
 * - vmp_pool_stats_get() and telemetry may be called from any thread.
 *
 * Idle workers spin `spin_polls` empty polls, then halt on a futex
 * (lib/common vmp_halt.h). The submit path makes a system call only when the
 * target worker has published that it is halting (Dekker-style handshake,
 * see docs/workpool.md): while workers are awake, submitting costs no syscall.
 *
 * Telemetry (registered by the library): /vmpath/workpool/list,
 * /vmpath/workpool/stats,<pool name>.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque pool handle. */
struct vmp_pool;

/** Opaque request; its caller data starts VMP_POOL_REQ_HDR_SIZE bytes in. */
struct vmp_pool_req;

/** Size of the pool's header in front of each request's caller data. The
 *  layout is fixed (and checked at build time) so the data accessor below is
 *  inline on the fast path; the header's fields stay private. */
#define VMP_POOL_REQ_HDR_SIZE 64

/** Default per-worker ring size (requests in flight per worker). */
#define VMP_POOL_RING_SIZE_DEFAULT 4
/** Largest per-worker ring size accepted. */
#define VMP_POOL_RING_SIZE_MAX 4096
/** Default number of empty polls before an idle worker halts. */
#define VMP_POOL_SPIN_POLLS_DEFAULT 2048
/** spin_polls value meaning "never halt, always spin". */
#define VMP_POOL_SPIN_FOREVER UINT32_MAX
/** Largest number of workers in one pool. */
#define VMP_POOL_MAX_WORKERS 64
/** Longest pool name, including the terminating NUL. */
#define VMP_POOL_NAMESIZE 32

/** How vmp_pool_submit_prepare() picks the worker for a request. */
enum vmp_pool_dispatch {
	/** Strict round-robin (as in QEMU's lockless-multithreads patch): the
	 *  next worker in turn; if its ring is full, prepare returns NULL even
	 *  when others have room. */
	VMP_POOL_DISPATCH_ROUND_ROBIN = 0,
	/** First idle / least loaded (what that patch's reviewers asked for):
	 *  the worker with the fewest requests in flight, ties broken
	 *  round-robin. A stuck worker never stalls submission while another
	 *  worker has room. */
	VMP_POOL_DISPATCH_LEAST_LOADED = 1,
};

/**
 * Per-request constructor, run once per pre-allocated request in
 * vmp_pool_create() on the calling thread. Optional (NULL: data is zeroed).
 * @param data  the request's caller data (req_size bytes, zeroed).
 * @param idx   request index, 0 .. nb_workers * ring_size - 1.
 * @param arg   params.cb_arg.
 * @return 0, or a negative errno that makes create fail (rte_errno = -ret).
 */
typedef int (*vmp_pool_req_init_t)(void *data, unsigned int idx, void *arg);
/** Per-request destructor, run in vmp_pool_destroy() (and on a failed
 *  create, for every request whose init succeeded). Optional. */
typedef void (*vmp_pool_req_uninit_t)(void *data, void *arg);
/**
 * The work, run on the worker lcore. Required.
 * @param data    the request's caller data.
 * @param worker  worker index 0 .. nb_workers - 1 (for per-worker state).
 * @param arg     params.cb_arg.
 */
typedef void (*vmp_pool_handler_t)(void *data, unsigned int worker, void *arg);
/** Completion, run on the submitter thread, exactly once per committed
 *  request, before the request becomes free again. Required. It must not
 *  call this pool's prepare/commit/abort/poll_done/wait_done/destroy. */
typedef void (*vmp_pool_done_t)(void *data, void *arg);
/** Optional per-worker constructor/destructor, run ON the worker lcore
 *  before its first request / after its last (e.g. a zlib stream). A
 *  non-zero return from worker_init makes create fail. */
typedef int (*vmp_pool_worker_init_t)(unsigned int worker, void *arg);
typedef void (*vmp_pool_worker_uninit_t)(unsigned int worker, void *arg);

/** Creation parameters. Zero-initialize, then set what you need. */
struct vmp_pool_params {
	/** Name for logs and telemetry; NULL: "pool<N>". Must be unique among
	 *  live pools (EEXIST otherwise). */
	const char *name;
	/** Number of workers, 1 .. VMP_POOL_MAX_WORKERS. */
	unsigned int nb_workers;
	/** nb_workers distinct, enabled, idle EAL worker lcore ids (not the
	 *  main lcore); NULL: the first nb_workers idle worker lcores. */
	const unsigned int *lcores;
	/** Bytes of caller data per request (may be 0). */
	size_t req_size;
	/** Per-worker ring size: a power of two <= VMP_POOL_RING_SIZE_MAX;
	 *  0: VMP_POOL_RING_SIZE_DEFAULT. */
	unsigned int ring_size;
	/** Worker choice. */
	enum vmp_pool_dispatch dispatch;
	/** Empty polls before an idle worker halts; 0: default;
	 *  VMP_POOL_SPIN_FOREVER: never halt. With more lcores than cores use
	 *  a small value (e.g. 16): a spinning worker takes the CPU its
	 *  submitter (or another worker) needs. */
	uint32_t spin_polls;
	/** NUMA socket for rings and requests; SOCKET_ID_ANY (-1): the socket
	 *  of the first worker lcore. */
	int socket_id;

	vmp_pool_req_init_t init;		/**< optional */
	vmp_pool_req_uninit_t uninit;		/**< optional */
	vmp_pool_handler_t handler;		/**< required */
	vmp_pool_done_t done;			/**< required */
	vmp_pool_worker_init_t worker_init;	/**< optional, on the worker */
	vmp_pool_worker_uninit_t worker_uninit; /**< optional, on the worker */
	/** Passed as `arg` to every callback. */
	void *cb_arg;
};

/** Counters of one worker (written by the worker, read relaxed). */
struct vmp_pool_worker_stats {
	unsigned int lcore_id;
	uint64_t handled;     /**< requests handled */
	uint64_t busy_cycles; /**< TSC cycles spent inside the handler */
	uint64_t halts;	      /**< futex waits entered (W3) */
	uint64_t wakes;	      /**< times it returned from a halt */
};

/** Pool counters (a snapshot; each field is read atomically, the set is not
 *  one consistent cut). */
struct vmp_pool_stats {
	unsigned int nb_workers;
	unsigned int ring_size;
	uint64_t tsc_hz;      /**< rte_get_tsc_hz(), to turn cycles to time */
	uint64_t submitted;   /**< requests committed */
	uint64_t completed;   /**< done callbacks run */
	uint64_t submit_full; /**< prepare returned NULL: no room */
	uint64_t kicks;	      /**< syscalls made to wake a halted worker */
	uint64_t in_flight;   /**< prepared or committed, not yet done */
	struct vmp_pool_worker_stats worker[VMP_POOL_MAX_WORKERS];
};

/**
 * Create a pool, allocate its requests and rings, and launch its workers.
 *
 * @param params  see struct vmp_pool_params.
 * @return
 *   The pool, or NULL with rte_errno set:
 *   - EINVAL: params NULL; nb_workers 0 or > VMP_POOL_MAX_WORKERS; ring_size
 *     not a power of two or too large; handler or done NULL; an lcore is the
 *     main lcore, not enabled, or listed twice; name too long.
 *   - EBUSY: a requested lcore is not idle, or fewer idle worker lcores than
 *     nb_workers (lcores NULL).
 *   - EEXIST: a live pool has this name.
 *   - ENOSPC: 64 pools are already live (telemetry registry full).
 *   - ENOMEM: allocation failed.
 *   - any errno returned (negated) by init or worker_init.
 */
struct vmp_pool *vmp_pool_create(const struct vmp_pool_params *params);

/**
 * Take a free request and bind it to a worker chosen by the dispatch policy.
 * First harvests finished requests (running their done callbacks), so a
 * submitter that only calls prepare/commit still recycles requests.
 * Never makes a system call.
 *
 * @return
 *   A request (its data holds whatever the last user left, or init's
 *   state), or NULL when no worker has room (round-robin: the worker in turn
 *   has none); pool NULL also returns NULL. Each NULL counts in
 *   stats.submit_full.
 */
struct vmp_pool_req *vmp_pool_submit_prepare(struct vmp_pool *pool);

/**
 * Hand a prepared request to its worker. Makes a system call (one futex
 * wake) only if that worker has published that it is halted.
 *
 * @return
 *   - 0: queued.
 *   - -EINVAL: pool or req NULL, or req is not a prepared request of pool.
 */
int vmp_pool_submit_commit(struct vmp_pool *pool, struct vmp_pool_req *req);

/**
 * Give back a prepared request without submitting it (no done callback).
 * @return 0, or -EINVAL (pool or req NULL, req not prepared by pool).
 */
int vmp_pool_submit_abort(struct vmp_pool *pool, struct vmp_pool_req *req);

/**
 * Run the done callback of up to @p max finished requests and free them.
 * Never blocks, never makes a system call.
 * @param max  upper bound (0: no bound other than the pool size).
 * @return number of requests completed (>= 0), or -EINVAL if pool is NULL.
 */
int vmp_pool_poll_done(struct vmp_pool *pool, unsigned int max);

/**
 * Wait until every committed request has finished and its done callback
 * has run. Prepared-but-uncommitted requests are not waited for. Spins
 * spin_polls empty polls, then yields the CPU (sched_yield) between polls, so
 * an oversubscribed worker can run on the submitter's core.
 * @return number of requests completed while waiting (>= 0), or -EINVAL if
 *   pool is NULL.
 */
int vmp_pool_wait_done(struct vmp_pool *pool);

/**
 * Stop the workers (each finishes what is in its ring), run uninit on every
 * request and free the pool. Refuses while requests are in flight: the caller
 * must vmp_pool_wait_done() (and commit or abort prepared requests) first,
 * so no done callback is ever lost or run by surprise.
 * @return
 *   - 0: destroyed (pool NULL: nothing to do).
 *   - -EBUSY: requests in flight; the pool is unchanged and still usable.
 */
int vmp_pool_destroy(struct vmp_pool *pool);

/**
 * Snapshot the counters. Any thread.
 * @return 0, or -EINVAL if pool or stats is NULL.
 */
int vmp_pool_stats_get(const struct vmp_pool *pool,
		       struct vmp_pool_stats *stats);

/** Number of workers (0 if pool is NULL). */
unsigned int vmp_pool_nb_workers(const struct vmp_pool *pool);

/** Requests prepared or committed and not yet completed. */
unsigned int vmp_pool_in_flight(const struct vmp_pool *pool);

/**
 * Print the pool's internal state (per worker: halt word, ring fill,
 * requests outstanding, counters) for debugging. Any thread; the values are
 * racy snapshots.
 * @return 0, or -EINVAL if f or pool is NULL.
 */
int vmp_pool_dump(FILE *f, const struct vmp_pool *pool);

/** Worker index a prepared request is bound to. */
unsigned int vmp_pool_req_worker(const struct vmp_pool_req *req);

/** The caller data embedded in a request (req_size bytes, 64-byte aligned). */
static inline void *
vmp_pool_req_data(struct vmp_pool_req *req)
{
	return (char *)req + VMP_POOL_REQ_HDR_SIZE;
}

/** The request a caller-data pointer belongs to (inverse of the above). */
static inline struct vmp_pool_req *
vmp_pool_req_from_data(void *data)
{
	return (struct vmp_pool_req *)((char *)data - VMP_POOL_REQ_HDR_SIZE);
}

#ifdef __cplusplus
}
#endif

#endif /* VMP_WORKPOOL_H */
