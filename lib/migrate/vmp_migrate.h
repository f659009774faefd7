/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VMP_MIGRATE_H
#define VMP_MIGRATE_H

/**
 * @file
 * vmp_migrate: compressed pre-copy live migration of memory regions between
 * two vmpath endpoints (docs/migrate.md has the wire format).
 *
 * Source                                    Destination
 * ------                                    -----------
 * HELLO (version, page size, regions,  -->  check; ACCEPT or REFUSE
 *        compression, features)        <--
 * round 0: every page                  -->  PAGES frames (CRC32C each),
 * round n: pages dirtied since n-1          decompressed on the dest pool,
 *   ROUND_END(n, pages, bytes)         -->  checked against what arrived
 * switchover: pause vCPUs, last set,
 *   END(digest of every region)        -->  digest own memory, compare
 *                                      <--  RESULT(ok | mismatch)
 *
 * Zero pages are detected with a vector scan and sent as a 16-byte marker;
 * other pages are compressed with zlib on lib/workpool workers (or on the old
 * locked "one request per thread" model, which app/miglab measures it
 * against); a page that does not shrink is sent raw.
 *
 * Threads: vmp_mig_run() (or an lcore started by vmp_mig_launch()) is the
 * migration thread. vmp_mig_cancel(), vmp_mig_stats_get() and
 * vmp_mig_status() may be called from any thread at any time.
 *
 * State machine (source and destination share it):
 *
 *   SETUP --> ACTIVE --> DEVICE --> COMPLETED
 *     |          |          |
 *     +----------+----------+--> FAILED      (I/O error, CRC, digest, refuse,
 *     |          |          |                 timeout, peer gone)
 *     +----------+----------+--> CANCELLING --> CANCELLED
 *
 * DEVICE is the stop-and-copy phase (vCPUs paused). On FAILED or CANCELLED the
 * source resumes its vCPUs and keeps running untouched; the destination's
 * memory is to be discarded.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Wire-format version this build speaks (docs/migrate.md). */
#define VMP_MIG_WIRE_VERSION 1
/** Migration page size (equal to lib/dirtylog's tracking page). */
#define VMP_MIG_PAGE_SIZE 4096u
/** Most regions in one migration. */
#define VMP_MIG_MAX_REGIONS 16
/** Most compression workers. */
#define VMP_MIG_MAX_WORKERS 32
/** Default downtime limit (ms). */
#define VMP_MIG_DOWNTIME_DEFAULT_MS 300
/** Default maximum number of pre-copy rounds before a forced switchover. */
#define VMP_MIG_MAX_ROUNDS_DEFAULT 30

/** Opaque migration (one source or one destination). */
struct vmp_mig;

/** One memory region: guest-physical base and host mapping. */
struct vmp_mig_region {
	uint64_t gpa; /**< guest-physical address of the first byte */
	void *addr;   /**< host address, VMP_MIG_PAGE_SIZE aligned */
	uint64_t len; /**< bytes, a multiple of VMP_MIG_PAGE_SIZE */
};

enum vmp_mig_comp {
	VMP_MIG_COMP_NONE = 0, /**< every non-zero page raw */
	VMP_MIG_COMP_ZLIB = 1, /**< zlib (raw deflate, RFC 1951) per page */
};

/** Which worker model runs compression / decompression. */
enum vmp_mig_model {
	/** lib/workpool: per-worker SP/SC rings, MP done ring. */
	VMP_MIG_MODEL_LOCKLESS = 0,
	/** QEMU's compression threads before the lockless-multithreads patch:
	 *  a global lock plus one mutex, one condition variable and one pending
	 *  request per worker. */
	VMP_MIG_MODEL_LOCKED = 1,
};

enum vmp_mig_status {
	VMP_MIG_ST_NONE = 0,
	VMP_MIG_ST_SETUP,
	VMP_MIG_ST_ACTIVE,
	VMP_MIG_ST_DEVICE, /**< stop-and-copy */
	VMP_MIG_ST_COMPLETED,
	VMP_MIG_ST_FAILED,
	VMP_MIG_ST_CANCELLING,
	VMP_MIG_ST_CANCELLED,
};

/**
 * Dirty-page source (the source side): lib/dirtylog behind callbacks so the
 * engine also runs over any other tracker.
 */
struct vmp_mig_dirty_ops {
	/** Start tracking (before round 0). Optional. @return 0 or -errno. */
	int (*start)(void *arg);
	/** Stop tracking (after the end, whatever the outcome). Optional. */
	void (*stop)(void *arg);
	/**
	 * Read and clear region @p region's dirty bitmap: bit i (word i / 64,
	 * bit i % 64) = page i. Pinned pages must be reported dirty.
	 * @return number of dirty pages, or -errno (fails the migration).
	 */
	int64_t (*sync)(void *arg, unsigned int region, uint64_t *bitmap,
			uint64_t nb_pages);
	/** Pages currently pinned (counted in the downtime estimate).
	 *  Optional. */
	uint64_t (*pinned)(void *arg);
};

/** The "vCPUs": whatever writes the memory (the source side). */
struct vmp_mig_vcpu_ops {
	/** Stop writing; return only when no writer can write any more. */
	void (*pause)(void *arg);
	/** Resume after pause (cancel or failure during switchover). */
	void (*resume)(void *arg);
	/** Auto-converge: slow writers down by @p pct percent (0 = none).
	 *  Optional. */
	void (*throttle)(void *arg, unsigned int pct);
};

/** Parameters. Zero-initialize, then set what you need. */
struct vmp_mig_params {
	const char *name; /**< for logs; NULL: "mig" */
	unsigned int nb_regions;
	const struct vmp_mig_region *regions;
	enum vmp_mig_comp comp;
	int level;		  /**< zlib level 1..9; 0: 1 */
	enum vmp_mig_model model; /**< compression worker model */
	/** Compression (source) / decompression (destination) workers: EAL
	 *  worker lcores that are idle; 0 workers: the migration thread
	 *  compresses inline. */
	unsigned int nb_workers;
	const unsigned int *worker_lcores; /**< NULL: any idle lcores */
	unsigned int ring_size;		   /**< lockless, per worker; 0: 32 */
	uint32_t spin_polls;	    /**< lockless idle spins; 0: default */
	uint64_t max_bandwidth;	    /**< bytes/s on the wire, 0: none */
	uint32_t downtime_limit_ms; /**< 0: 300 */
	uint32_t max_rounds;	    /**< 0: 30 */
	uint32_t bw_window_ms;	    /**< bandwidth window, 0: 1000 */
	uint32_t timeout_ms;	    /**< whole migration, 0: none */
	bool auto_converge;
	/** Source: false (default): probe the raw path (256 pages raw at the
	 *  start of each pre-copy round) and send the last set raw when that
	 *  is faster than compressing it; true: no probe, the last set is
	 *  compressed like the rounds (app/miglab measures the
	 *  worker models this way). Always compressed with max_bandwidth. */
	bool switchover_compressed;
	/** Source only. */
	struct vmp_mig_dirty_ops dirty;
	struct vmp_mig_vcpu_ops vcpu;
	void *cb_arg; /**< passed to every callback */
	/** Testing only: version put in HELLO (0: VMP_MIG_WIRE_VERSION). */
	uint16_t wire_version;
	/** Testing only, destination: at END also re-hash every region in
	 *  full (one thread, inside the downtime) and fail the migration if
	 *  the page CRCs kept while writing pages disagree with it. */
	bool dest_verify_digest;
};

/** Counters named like QEMU's `info migrate`. Bytes unless noted. */
struct vmp_mig_stats {
	enum vmp_mig_status status;
	bool source;
	char error[128];	/**< why FAILED, else "" */
	uint64_t total_time_ms; /**< start .. end (or now) */
	uint64_t setup_time_ms; /**< start .. first page sent */
	uint64_t expected_downtime_ms;
	uint64_t downtime_ms;	      /**< pause .. RESULT (source) */
	uint64_t transferred;	      /**< bytes on the wire */
	double throughput_mbps;	      /**< over the bandwidth window */
	uint64_t remaining;	      /**< dirty bytes left (incl. pinned) */
	uint64_t total;		      /**< sum of region sizes */
	uint64_t duplicate;	      /**< zero pages (pages) */
	uint64_t normal;	      /**< non-zero pages (pages) */
	uint64_t normal_bytes;	      /**< normal x page size */
	uint64_t dirty_sync_count;    /**< rounds synchronised */
	uint64_t dirty_pages_rate;    /**< pages/s dirtied in the last round */
	uint64_t pinned_pages;	      /**< pinned at the last sync */
	uint64_t compression_pages;   /**< pages given to a worker */
	uint64_t compression_busy;    /**< times no worker had room */
	double compression_busy_rate; /**< busy / compression pages */
	uint64_t compressed_size;     /**< compressed bytes produced */
	double compression_rate;      /**< page bytes / compressed bytes */
	uint64_t raw_pages;	      /**< pages sent raw (did not shrink) */
	/** Source: pages of the last set (vCPUs paused) the migration thread
	 *  sent raw itself because every worker was busy and the socket had
	 *  room; not counted in compression pages or raw pages. */
	uint64_t switchover_raw_pages;
	uint64_t rounds;       /**< pre-copy rounds sent */
	uint32_t throttle_pct; /**< auto-converge throttle now */
	unsigned int nb_workers;
	double worker_busy_pct[VMP_MIG_MAX_WORKERS]; /**< handler time / wall */
	double worker_cpu_pct[VMP_MIG_MAX_WORKERS];  /**< CPU time / wall */
	unsigned int worker_lcore[VMP_MIG_MAX_WORKERS];
	double thread_cpu_pct; /**< the migration thread's CPU time / wall */
};

/**
 * Create a source migration of @p p->regions.
 * @return the migration, or NULL with rte_errno set: EINVAL (params NULL, no
 *   or too many regions, a region unaligned or empty, comp or model unknown,
 *   level > 9, too many workers, dirty.sync or vcpu.pause/resume NULL);
 *   ENOMEM.
 */
struct vmp_mig *vmp_mig_source_create(const struct vmp_mig_params *p);

/**
 * Create a destination for @p p->regions (the dirty and vcpu ops are
 * ignored). The handshake must announce the same regions (gpa, len).
 * @return as vmp_mig_source_create().
 */
struct vmp_mig *vmp_mig_dest_create(const struct vmp_mig_params *p);

/**
 * Destination: bind and listen on @p uri ("tcp:HOST:PORT", "unix:PATH") so
 * a source can connect once this returns.
 * @return 0; -EINVAL (bad uri, not a destination, already listening);
 *   -errno of socket/bind/listen (e.g. -EADDRINUSE).
 */
int vmp_mig_listen(struct vmp_mig *m, const char *uri);

/**
 * Run the migration on the calling thread until it ends. A source connects
 * to @p uri; a destination accepts on its listening socket (uri ignored).
 * Workers are created here and destroyed before return.
 * @return 0 when COMPLETED; -ECANCELED when CANCELLED; -EINVAL (run twice,
 *   bad uri, destination not listening); -ETIMEDOUT (timeout_ms);
 *   -EPROTO (refused handshake, bad frame, CRC, digest mismatch); -EPIPE or
 *   another -errno of the transport; -EBUSY (no idle worker lcores).
 */
int vmp_mig_run(struct vmp_mig *m, const char *uri);

/**
 * Run vmp_mig_run(m, uri) on the idle EAL worker lcore @p lcore_id.
 * @return 0; -EINVAL (lcore is main or not enabled, uri NULL); -EBUSY (lcore
 *   not idle, or already launched).
 */
int vmp_mig_launch(struct vmp_mig *m, const char *uri, unsigned int lcore_id);

/**
 * Wait for a launched migration's lcore to finish.
 * @return vmp_mig_run()'s result; -EINVAL if not launched.
 */
int vmp_mig_wait(struct vmp_mig *m);

/** True once the migration is in a final state (COMPLETED, FAILED,
 *  CANCELLED). */
bool vmp_mig_done(const struct vmp_mig *m);

/**
 * Ask the migration to stop. Any thread, any time, idempotent. The source
 * tells the destination (CANCEL frame), resumes its vCPUs if paused and ends
 * CANCELLED; a destination ends CANCELLED and discards.
 * @return 0; -EALREADY if already in a final state; -EINVAL if m is NULL.
 */
int vmp_mig_cancel(struct vmp_mig *m);

/** Current status (VMP_MIG_ST_NONE if m is NULL). */
enum vmp_mig_status vmp_mig_status(const struct vmp_mig *m);

/** "none", "setup", "active", "device", "completed", "failed",
 *  "cancelling", "cancelled". */
const char *vmp_mig_status_name(enum vmp_mig_status st);

/**
 * Snapshot the counters. Any thread.
 * @return 0, or -EINVAL if m or st is NULL.
 */
int vmp_mig_stats_get(const struct vmp_mig *m, struct vmp_mig_stats *st);

/** Print @p st as QEMU's `info migrate` does ("Migration status: ..."). */
void vmp_mig_stats_print(FILE *f, const struct vmp_mig_stats *st);

/** One progress line ("round 3 remaining 12.0 MiB ..."). */
int vmp_mig_progress_line(const struct vmp_mig_stats *st, char *buf,
			  size_t len);

/**
 * Free a migration that is not running (never launched, or waited for).
 * @return 0; -EBUSY if it is running.
 */
int vmp_mig_free(struct vmp_mig *m);

/**
 * Is every byte of a page zero? Vectorised (AVX2/SSE2); @p page must be
 * 64-byte aligned and @p len a multiple of 64.
 */
bool vmp_mig_page_is_zero(const void *page, size_t len);

/** CRC32C (Castagnoli, init ~0, final ~0) as used on the wire. */
uint32_t vmp_mig_crc32c(const void *buf, size_t len);

/**
 * Digest of a region as sent in END (docs/migrate.md "digest").
 * @return the 64-bit digest.
 */
uint64_t vmp_mig_region_digest(const void *addr, uint64_t len);

#ifdef __cplusplus
}
#endif

#endif /* VMP_MIGRATE_H */
