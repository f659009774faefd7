/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VMP_DIRTYLOG_H
#define VMP_DIRTYLOG_H

/**
 * @file
 * lib/dirtylog: dirty-page tracking with VFIO-grade semantics.
 *
 * A tracker covers one or more memory regions. Each region has an IOVA
 * (guest-physical address, or any address space the caller likes), an
 * optional host virtual address, and a length. Pages are tracked at the
 * tracker's page size (4 KiB by default). Three sources make a page dirty:
 *
 * - the software log: vmp_dirty_log_write() (guest IOVA) or
 *   vmp_dirty_log_write_hva() (host address), callable from any lcore,
 *   lock-free (atomic OR). The log has the vhost-user layout: 1 bit per
 *   4 KiB page, bit (page % 8) of byte (page / 8), i.e. on little-endian
 *   bit (page % 64) of 64-bit word (page / 64) (with a page size other than
 *   4096, one bit per tracker page). The caller may supply the log
 *   memory (vmp_dirty_params.log), e.g. the log QEMU hands a vhost-user
 *   backend with VHOST_USER_SET_LOG_BASE; its bit 0 is then IOVA 0.
 * - pinned ranges: vmp_dirty_pin() / vmp_dirty_unpin(). A pinned page is
 *   reported dirty by every vmp_dirty_bitmap_get() while pinned, and once
 *   more by the first get after it is unpinned (a device may have written it
 *   until the unpin). This is VFIO type1's final rule; it keeps a migration's
 *   downtime estimate honest while DMA is in flight.
 * - kernel write-protect tracking (VMP_DIRTY_MODE_KERNEL_WP): for memory
 *   nobody instruments. userfaultfd with UFFD_FEATURE_WP_ASYNC (+
 *   WP_UNPOPULATED) write-protects the regions' host memory at start; the
 *   kernel resolves write faults itself and marks the page written; each get
 *   collects and re-protects the written pages in one PAGEMAP_SCAN ioctl
 *   (PM_SCAN_WP_MATCHING). The kernel's granularity is the mapping's page size
 *   (4 KiB for anonymous and THP memory -- the kernel splits a THP on the
 *   first tracked write, and it stays split after stop -- and the huge page
 *   size for hugetlb):
 *   vmp_dirty_granularity() reports it, and a dirty huge page sets every
 *   tracker page it covers.
 *
 * State machine (per tracker):
 *
 *     created(stopped) --start--> started --stop--> stopped --start--> ...
 *
 * start and stop are idempotent (start on a started tracker and stop on a
 * stopped one return 0 and change nothing). start clears the software log
 * bits of every region (a fresh tracking session) and, in kernel mode,
 * write-protects the regions. While stopped, log_write is a no-op and
 * bitmap_get is rejected. Pins are counted in both states.
 *
 * Bitmap format returned by vmp_dirty_bitmap_get(): an array of uint64_t;
 * bit (i % 64) of word (i / 64) is page iova + i * pgsize (VFIO's format).
 *
 * Threads: log_write*, pin/unpin, granularity, page_size may be called from
 * any lcore concurrently with everything except vmp_dirty_tracker_free().
 * bitmap_get, count, start and stop are serialised internally (one control
 * lock); call them from control lcores (they may sleep in a syscall in kernel
 * mode).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Default tracking page size (and the vhost-user log's page size). */
#define VMP_DIRTY_PAGE_SIZE 4096u

/** Maximum number of regions in one tracker. */
#define VMP_DIRTY_MAX_REGIONS 32

/** How a tracker finds dirty pages besides the software log and pins. */
enum vmp_dirty_mode {
	/** Software log only: writers call vmp_dirty_log_write*(). */
	VMP_DIRTY_MODE_SOFT = 0,
	/** Also kernel write-protect tracking of the regions' host memory. */
	VMP_DIRTY_MODE_KERNEL_WP = 1,
};

/** One tracked memory region. */
struct vmp_dirty_region {
	/** IOVA / guest-physical base; aligned to the tracker page size. */
	uint64_t iova;
	/**
	 * Host virtual address of the region, or NULL (soft mode only: then
	 * vmp_dirty_log_write_hva() cannot find this region). In kernel mode it
	 * must be aligned to the mapping's page size and the whole range must
	 * be one mapping: anonymous (4 KiB or THP), hugetlb, or shared memory
	 * (memfd / shmem).
	 */
	void *host;
	/** Length in bytes; a multiple of the tracker page size, > 0. */
	uint64_t len;
};

/** Tracker creation parameters. */
struct vmp_dirty_params {
	/** Tracker name (for logs); may be NULL. */
	const char *name;
	/** Regions; must not overlap in IOVA nor in host address. */
	const struct vmp_dirty_region *regions;
	/** Number of regions, 1..VMP_DIRTY_MAX_REGIONS. */
	unsigned int nb_regions;
	/** Tracking page size: power of two >= 4096; 0 means 4096. */
	uint64_t page_size;
	/** Tracking mode. */
	enum vmp_dirty_mode mode;
	/**
	 * Optional caller-supplied log in the vhost-user layout, indexed from
	 * IOVA 0 (bit for IOVA a = a / 4096). NULL: the library allocates one
	 * log per region. When set: page_size must be 4096, the pointer 8-byte
	 * aligned, and the 64-bit words holding each region's bits must lie
	 * within log_size bytes (it is accessed by 64-bit atomics; QEMU's log
	 * is a whole number of words). The library only ORs bits in and
	 * read-and-clears its regions' bits; it never frees this memory.
	 */
	void *log;
	/** Size of @p log in bytes. */
	uint64_t log_size;
	/** NUMA socket for the tracker's memory; SOCKET_ID_ANY: caller's. */
	int socket_id;
};

/** Opaque tracker. */
struct vmp_dirty_tracker;

/**
 * Create a tracker (stopped).
 *
 * @param p  parameters (copied; regions may be freed after the call)
 * @return the tracker, or NULL with rte_errno set:
 *   - EINVAL: NULL p/regions, nb_regions 0 or > VMP_DIRTY_MAX_REGIONS, bad
 *     page size, a region of length 0, misaligned, overflowing, overlapping
 *     another, host NULL in kernel mode, caller log misaligned / too small /
 *     with page_size != 4096, or (kernel mode) host memory not mapped or not
 *     aligned to its mapping page size
 *   - ENOMEM: out of memory
 */
struct vmp_dirty_tracker *
vmp_dirty_tracker_create(const struct vmp_dirty_params *p);

/**
 * Free a tracker; stops it first. NULL is a no-op. No other call on this
 * tracker may run concurrently or afterwards.
 */
void vmp_dirty_tracker_free(struct vmp_dirty_tracker *t);

/**
 * Start tracking (idempotent). Clears the software-log bits of all regions;
 * in kernel mode registers the regions with userfaultfd and write-protects
 * them.
 *
 * @return 0, or
 *   - -EINVAL: t is NULL
 *   - -ENOTSUP: kernel mode and this kernel lacks userfaultfd WP_ASYNC /
 *     PAGEMAP_SCAN (or WP on hugetlb for a hugetlb region); logged
 *   - -EPERM: userfaultfd not permitted for this process; logged
 *   - -errno of a failing userfaultfd/pagemap call; tracker stays stopped
 */
int vmp_dirty_start(struct vmp_dirty_tracker *t);

/**
 * Stop tracking (idempotent). In kernel mode unregisters the regions (removes
 * write protection). Pins stay counted.
 *
 * @return 0, or -EINVAL if t is NULL
 */
int vmp_dirty_stop(struct vmp_dirty_tracker *t);

/** @return true while the tracker is started (false for NULL). */
bool vmp_dirty_is_started(const struct vmp_dirty_tracker *t);

/** bitmap_get flag: report without clearing (peek). */
#define VMP_DIRTY_F_NO_CLEAR (1u << 0)

/**
 * Get the dirty bitmap of [iova, iova + size) and clear it (read-and-clear)
 * unless VMP_DIRTY_F_NO_CLEAR. The range may span several regions as long as
 * they are contiguous in IOVA. Pinned pages are always reported; a page
 * unpinned since the last clearing get is reported once more.
 *
 * Validation (modelled on VFIO/IOMMUFD) -- each is rejected with nothing
 * changed, and a log line naming the bad value:
 *
 * @param t        tracker
 * @param iova     start; aligned to pgsize
 * @param size     length in bytes; > 0, aligned to pgsize, no overflow
 * @param pgsize   must equal the tracker page size
 * @param bitmap   output, bitmap_size bytes, 8-byte aligned; the first
 *                 ceil(size / pgsize / 64) words are overwritten
 * @param bitmap_size  bytes available; >= ceil(size / pgsize / 64) * 8
 * @param flags    0 or VMP_DIRTY_F_NO_CLEAR
 * @return number of dirty pages reported (>= 0), or
 *   - -EINVAL: t or bitmap NULL, size 0, iova or size not aligned to pgsize,
 *     pgsize not the tracker page size, bitmap_size too small, or the
 *     tracker not started
 *   - -EOVERFLOW: iova + size overflows 64 bits
 *   - -ENOENT: part of the range is outside every region
 *   - -EOPNOTSUPP: unknown flag bits
 *   - -errno of PAGEMAP_SCAN (kernel mode): nothing harvested, the bitmap
 *     untouched; pages the scan already collected stay dirty for later
 */
int64_t vmp_dirty_bitmap_get(struct vmp_dirty_tracker *t, uint64_t iova,
			     uint64_t size, uint64_t pgsize, uint64_t *bitmap,
			     uint64_t bitmap_size, uint32_t flags);

/**
 * Number of pages a get over the whole tracker would report now (software
 * log, pins, unpinned-once, and in kernel mode the kernel's written pages,
 * which this collects into the log without re-protecting). Clears nothing
 * that a later get would miss.
 *
 * @return the count (>= 0), or -EINVAL (t NULL or not started), or -errno of
 *   PAGEMAP_SCAN
 */
int64_t vmp_dirty_count(struct vmp_dirty_tracker *t);

/**
 * Mark [iova, iova + len) dirty in the software log (guest IOVA / GPA).
 * Any lcore, lock-free: one atomic OR per 64 pages touched. A range partly
 * outside every region marks the part inside.
 *
 * @return 0, or -ENOENT if no byte of the range is in a region. len 0, and
 *   any call while the tracker is stopped, return 0 without looking at the
 *   range (a single relaxed load: datapaths may call it unconditionally).
 */
int vmp_dirty_log_write(struct vmp_dirty_tracker *t, uint64_t iova,
			uint64_t len);

/**
 * Same as vmp_dirty_log_write() for a host virtual address range (regions
 * created with host == NULL are not searched).
 *
 * @return 0, or -ENOENT if no byte of the range is in a region
 */
int vmp_dirty_log_write_hva(struct vmp_dirty_tracker *t, const void *addr,
			    uint64_t len);

/** Entries in a log cache. */
#define VMP_DIRTY_LOG_CACHE_SZ 32

/**
 * Per-lcore write cache for datapaths (like vhost's log cache): marks are
 * gathered with plain ORs per 64-page word, and published with one atomic OR
 * per word by vmp_dirty_log_cache_flush() (call it at the end of each burst,
 * before the writes become visible to the peer / before completion is
 * signalled). Public so it can live on the caller's stack or per-queue
 * structure with no allocation; treat the fields as private. A cache must be
 * used by one lcore at a time, with one tracker between two flushes, and be
 * flushed before that tracker is freed.
 */
struct vmp_dirty_log_cache {
	uint32_t n; /**< entries used */
	/* private memo of the last region written (skips the region lookup) */
	uint32_t m_host;	 /**< memo keyed by host address */
	const void *m_owner;	 /**< tracker of the memo, NULL: none */
	uint64_t m_base, m_span; /**< region start (iova or host), length */
	uint64_t *m_log;	 /**< region log words */
	uint64_t m_bit0;	 /**< log bit of the region's page 0 */
	uint32_t m_shift;	 /**< page shift */
	struct {
		uint64_t *word; /**< log word */
		uint64_t bits;	/**< bits to OR in */
	} e[VMP_DIRTY_LOG_CACHE_SZ];
};

/** Initialise (empty) a log cache. */
static inline void
vmp_dirty_log_cache_init(struct vmp_dirty_log_cache *c)
{
	c->n = 0;
	c->m_owner = NULL;
}

/**
 * Cached vmp_dirty_log_write(): flushes by itself when the cache is full.
 * @return 0, or -ENOENT as vmp_dirty_log_write()
 */
int vmp_dirty_log_cache_write(struct vmp_dirty_tracker *t,
			      struct vmp_dirty_log_cache *c, uint64_t iova,
			      uint64_t len);

/** Cached vmp_dirty_log_write_hva(). @return 0 or -ENOENT */
int vmp_dirty_log_cache_write_hva(struct vmp_dirty_tracker *t,
				  struct vmp_dirty_log_cache *c,
				  const void *addr, uint64_t len);

/**
 * Publish the cached marks (atomic ORs) and empty the cache. A flushed cache
 * holds no reference to any tracker.
 */
void vmp_dirty_log_cache_flush(struct vmp_dirty_log_cache *c);

/**
 * Pin [iova, iova + len): the pages are reported by every get while pinned
 * and by one more get after their last unpin. Pins nest (counted per page,
 * up to 65535). Works started or stopped.
 *
 * @return 0, or (nothing changed)
 *   - -EINVAL: t NULL, len 0, or iova/len not aligned to the page size
 *   - -EOVERFLOW: iova + len overflows, or a page's pin count would exceed
 *     65535
 *   - -ENOENT: part of the range is outside every region
 */
int vmp_dirty_pin(struct vmp_dirty_tracker *t, uint64_t iova, uint64_t len);

/**
 * Unpin a range pinned with vmp_dirty_pin(). While started, each page whose
 * pin count drops to 0 is marked dirty in the log (reported once more).
 *
 * @return 0, or (nothing changed)
 *   - -EINVAL: t NULL, len 0, misaligned, or a page of the range not pinned
 *   - -EOVERFLOW: iova + len overflows
 *   - -ENOENT: part of the range is outside every region
 */
int vmp_dirty_unpin(struct vmp_dirty_tracker *t, uint64_t iova, uint64_t len);

/** @return the tracker page size (bitmap pgsize), or 0 for NULL. */
uint64_t vmp_dirty_page_size(const struct vmp_dirty_tracker *t);

/**
 * Reported granularity at @p iova: the smallest unit a dirty report covers
 * (max of the tracker page size and, in kernel mode, the mapping page size of
 * the region: 2 MiB for 2 MiB hugetlb, 4 KiB for anonymous and THP).
 *
 * @return bytes, or 0 if t is NULL or iova is in no region
 */
uint64_t vmp_dirty_granularity(const struct vmp_dirty_tracker *t,
			       uint64_t iova);

/** Kernel capabilities, see vmp_dirty_kernel_probe(). */
#define VMP_DIRTY_KCAP_ANON (1u << 0)	 /**< WP_ASYNC + PAGEMAP_SCAN */
#define VMP_DIRTY_KCAP_HUGETLB (1u << 1) /**< also hugetlb and shmem */

/**
 * Probe at run time what kernel write-protect tracking this kernel offers.
 *
 * @return a mask of VMP_DIRTY_KCAP_* (0 if none), or -errno (-EPERM:
 *   userfaultfd not permitted)
 */
int vmp_dirty_kernel_probe(void);

/** What the kernel says about the mapping that holds an address. */
struct vmp_dirty_mapping_info {
	uintptr_t start, end;	   /**< the VMA */
	uint64_t kernel_page_size; /**< KernelPageSize (bytes) */
	uint64_t anon_huge_bytes;  /**< AnonHugePages (THP) in the VMA */
	bool hugetlb;		   /**< a hugetlb mapping */
	bool shared;		   /**< a shared mapping (memfd, shmem) */
};

/**
 * Read /proc/self/smaps for the VMA holding @p addr (for reporting THP /
 * hugetlb really obtained).
 *
 * @return 0, -EINVAL (NULL info), -ENOENT (addr not mapped), -errno (open)
 */
int vmp_dirty_mapping_info(const void *addr,
			   struct vmp_dirty_mapping_info *info);

#ifdef __cplusplus
}
#endif

#endif /* VMP_DIRTYLOG_H */
