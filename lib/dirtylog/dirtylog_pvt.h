/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DIRTYLOG_PVT_H
#define DIRTYLOG_PVT_H

/*
 * lib/dirtylog internals: the tracker layout shared by dirtylog.c (control:
 * create/start/stop/get/pin), dirtylog_log.c (software log datapath) and
 * dirtylog_kernel.c (userfaultfd WP_ASYNC + PAGEMAP_SCAN).
 */

#include <stdint.h>

#include <rte_common.h>
#include <rte_log.h>
#include <rte_spinlock.h>

#include "vmp_dirtylog.h"

extern int vmp_dirty_logtype;
#define DIRTY_LOG(level, fmt, ...)                                             \
	rte_log(RTE_LOG_##level, vmp_dirty_logtype, "dirtylog: " fmt "\n",     \
		##__VA_ARGS__)

/*
 * One region. Bit layout of `log`: page p of the region (p = (iova -
 * r->iova) / pgsize) is bit (bit0 + p) of the uint64_t array, i.e. bit
 * (bit0 + p) % 64 of word (bit0 + p) / 64. With the library's own log bit0
 * is 0; with a caller (vhost-user) log bit0 = r->iova / 4096, so the same
 * formula gives QEMU's "bit gpa/4096 of the log".
 *
 * Pin state of page p, under t->pin_lock:
 *   pin[p] == 0, pinmap bit p clear    (unpinned)
 *   pin[p] >= 1, pinmap bit p set      (pinned)
 * Transitions: 0 -> 1 sets the pinmap bit; 1 -> 0 first ORs the log bit
 * (started only), then clears the pinmap bit. bitmap_get reads pinmap before
 * the log (both lock-free), see get_region() for why that order loses no
 * report.
 */
struct dirty_region {
	uint64_t iova;	/* IOVA base */
	uint64_t end;	/* iova + len */
	uintptr_t host; /* host VA, 0 if none */
	uintptr_t host_end;
	uint64_t npages;   /* len / pgsize */
	uint64_t gran;	   /* reported granularity (bytes) */
	uint64_t kpgsize;  /* kernel mode: mapping page size */
	int shmem_or_huge; /* kernel mode: hugetlb or shared mapping */
	uint64_t *log;	   /* software log words */
	uint64_t bit0;	   /* log bit of page 0 */
	uint64_t *pinmap;  /* 1 bit per page: pinned */
	uint16_t *pin;	   /* pin count per page */
	int own_log;	   /* log allocated by us */
};

struct vmp_dirty_tracker {
	char name[32];
	uint64_t pgsize;
	unsigned int pgshift;
	enum vmp_dirty_mode mode;
	/*
	 * 0 = stopped, 1 = started. Written under ctl_lock; read lock-free by
	 * log_write (relaxed: a mark racing with start/stop may be kept or
	 * dropped, both are fine since start clears and stop ends reporting).
	 */
	uint32_t started;
	rte_spinlock_t ctl_lock; /* start / stop / get / count */
	rte_spinlock_t pin_lock; /* pin / unpin */
	/* kernel mode, valid while started */
	int uffd;
	int pagemap_fd;
	void *scan_vec; /* struct page_region[scan_vec_len] */
	uint64_t scan_vec_len;
	int socket_id;
	unsigned int nb_regions;
	struct dirty_region r[]; /* sorted by iova */
};

/* The bits of log bit range [b0, b1] (inclusive) that lie in 64-bit word w,
 * for b0 / 64 <= w <= b1 / 64. */
static __rte_always_inline uint64_t
__vmp_dirty_word_mask(uint64_t w, uint64_t b0, uint64_t b1)
{
	uint64_t m = ~0ULL;

	if (w == b0 >> 6)
		m &= ~0ULL << (b0 & 63);
	if (w == b1 >> 6)
		m &= ~0ULL >> (63 - (b1 & 63));
	return m;
}

/* Mark pages [p0, p1] (inclusive, region-relative) in the log: one atomic
 * OR per word, release: pairs with the acquire fetch_and of bitmap_get
 * (get_bits() in dirtylog.c). Inline: it is the datapath. */
static __rte_always_inline void
__vmp_dirty_mark_pages(struct dirty_region *r, uint64_t p0, uint64_t p1)
{
	uint64_t b0 = r->bit0 + p0, b1 = r->bit0 + p1;
	uint64_t w0 = b0 >> 6, w1 = b1 >> 6, w;

	for (w = w0; w <= w1; w++) {
		uint64_t m = __vmp_dirty_word_mask(w, b0, b1);
		__atomic_fetch_or(&r->log[w], m, __ATOMIC_RELEASE);
	}
}

/* dirtylog_kernel.c */
int __vmp_dirty_kernel_start(struct vmp_dirty_tracker *t);
void __vmp_dirty_kernel_stop(struct vmp_dirty_tracker *t);
/* Collect the kernel's written pages of region r over region-relative bytes
 * [off, off_end) (rounded out to the mapping page size) into r's log;
 * re-protect them unless peek. */
int __vmp_dirty_kernel_collect(struct vmp_dirty_tracker *t,
			       struct dirty_region *r, uint64_t off,
			       uint64_t off_end, int peek);

#endif /* DIRTYLOG_PVT_H */
