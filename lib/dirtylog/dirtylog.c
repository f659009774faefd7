/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tracker control: create / free, start / stop, bitmap_get (read-and-clear),
 * count, pin / unpin, and the validation rules (modelled on VFIO type1's
 * VFIO_IOMMU_DIRTY_PAGES and IOMMUFD's GET_DIRTY_BITMAP).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_memory.h>

#include "dirtylog_pvt.h"

RTE_LOG_REGISTER_DEFAULT(vmp_dirty_logtype, INFO);

#define PIN_MAX UINT16_MAX

static int
region_cmp(const void *a, const void *b)
{
	const struct dirty_region *x = a, *y = b;

	return x->iova < y->iova ? -1 : x->iova > y->iova;
}

static void
region_free(struct dirty_region *r)
{
	if (r->own_log)
		rte_free(r->log);
	rte_free(r->pinmap);
	rte_free(r->pin);
}

static int
region_init(struct vmp_dirty_tracker *t, struct dirty_region *r,
	    const struct vmp_dirty_region *in, const struct vmp_dirty_params *p)
{
	uint64_t words;

	if (in->len == 0 || in->iova + in->len < in->iova ||
	    (in->iova | in->len) & (t->pgsize - 1)) {
		DIRTY_LOG(ERR,
			  "%s: bad region iova 0x%" PRIx64 " len 0x%" PRIx64
			  " (page size %" PRIu64 ")",
			  t->name, in->iova, in->len, t->pgsize);
		return -EINVAL;
	}
	if ((uintptr_t)in->host + in->len < (uintptr_t)in->host) {
		DIRTY_LOG(ERR, "%s: region host %p + 0x%" PRIx64 " overflows",
			  t->name, in->host, in->len);
		return -EINVAL;
	}
	r->iova = in->iova;
	r->end = in->iova + in->len;
	r->host = (uintptr_t)in->host;
	r->host_end = r->host ? r->host + in->len : 0;
	r->npages = in->len >> t->pgshift;
	r->gran = t->pgsize;
	r->kpgsize = 0;
	if (t->mode == VMP_DIRTY_MODE_KERNEL_WP) {
		struct vmp_dirty_mapping_info mi;
		int rc;

		if (in->host == NULL) {
			DIRTY_LOG(ERR,
				  "%s: kernel mode needs a host address "
				  "(region iova 0x%" PRIx64 ")",
				  t->name, in->iova);
			return -EINVAL;
		}
		rc = vmp_dirty_mapping_info(in->host, &mi);
		if (rc < 0 || mi.end < r->host_end) {
			DIRTY_LOG(ERR,
				  "%s: host range %p+0x%" PRIx64
				  " is not one mapping (rc %d)",
				  t->name, in->host, in->len, rc);
			return -EINVAL;
		}
		r->kpgsize = mi.kernel_page_size;
		r->shmem_or_huge = mi.hugetlb || mi.shared;
		if ((r->host | in->len) & (r->kpgsize - 1)) {
			DIRTY_LOG(ERR,
				  "%s: host %p len 0x%" PRIx64
				  " not aligned to mapping page size %" PRIu64,
				  t->name, in->host, in->len, r->kpgsize);
			return -EINVAL;
		}
		r->gran = RTE_MAX(t->pgsize, r->kpgsize);
	}
	words = (r->npages + 63) / 64;
	if (p->log != NULL) {
		r->log = p->log;
		r->bit0 = r->iova / VMP_DIRTY_PAGE_SIZE;
		/* the 64-bit words holding the region's bits must fit */
		if ((r->bit0 + r->npages + 63) / 64 * 8 > p->log_size) {
			DIRTY_LOG(ERR,
				  "%s: region iova 0x%" PRIx64 "+0x%" PRIx64
				  " beyond log of %" PRIu64 " bytes",
				  t->name, in->iova, in->len, p->log_size);
			return -EINVAL;
		}
	} else {
		r->log = rte_zmalloc_socket("vmp_dirty_log", words * 8,
					    RTE_CACHE_LINE_SIZE, t->socket_id);
		r->bit0 = 0;
		r->own_log = 1;
	}
	r->pinmap = rte_zmalloc_socket("vmp_dirty_pinmap", words * 8,
				       RTE_CACHE_LINE_SIZE, t->socket_id);
	r->pin = rte_zmalloc_socket("vmp_dirty_pin",
				    r->npages * sizeof(r->pin[0]),
				    RTE_CACHE_LINE_SIZE, t->socket_id);
	if (r->log == NULL || r->pinmap == NULL || r->pin == NULL) {
		region_free(r);
		return -ENOMEM;
	}
	return 0;
}

struct vmp_dirty_tracker *
vmp_dirty_tracker_create(const struct vmp_dirty_params *p)
{
	struct vmp_dirty_tracker *t;
	uint64_t pgsize;
	unsigned int i;
	int socket, rc = -EINVAL;

	if (p == NULL || p->regions == NULL || p->nb_regions == 0 ||
	    p->nb_regions > VMP_DIRTY_MAX_REGIONS) {
		DIRTY_LOG(ERR, "create: bad params (nb_regions %u)",
			  p ? p->nb_regions : 0);
		rte_errno = EINVAL;
		return NULL;
	}
	pgsize = p->page_size ? p->page_size : VMP_DIRTY_PAGE_SIZE;
	if (!rte_is_power_of_2(pgsize) || pgsize < VMP_DIRTY_PAGE_SIZE ||
	    (p->mode != VMP_DIRTY_MODE_SOFT &&
	     p->mode != VMP_DIRTY_MODE_KERNEL_WP)) {
		DIRTY_LOG(ERR, "create: bad page size %" PRIu64 " or mode %d",
			  pgsize, (int)p->mode);
		rte_errno = EINVAL;
		return NULL;
	}
	if (p->log != NULL &&
	    (pgsize != VMP_DIRTY_PAGE_SIZE || ((uintptr_t)p->log & 7))) {
		DIRTY_LOG(ERR,
			  "create: caller log %p needs 8-byte alignment "
			  "and page size 4096 (got %" PRIu64 ")",
			  p->log, pgsize);
		rte_errno = EINVAL;
		return NULL;
	}
	socket = p->socket_id == SOCKET_ID_ANY ? (int)rte_socket_id()
					       : p->socket_id;
	t = rte_zmalloc_socket("vmp_dirty",
			       sizeof(*t) + p->nb_regions * sizeof(t->r[0]),
			       RTE_CACHE_LINE_SIZE, socket);
	if (t == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	snprintf(t->name, sizeof(t->name), "%s", p->name ? p->name : "dirty");
	t->pgsize = pgsize;
	t->pgshift = __builtin_ctzll(pgsize);
	t->mode = p->mode;
	t->socket_id = socket;
	t->uffd = -1;
	t->pagemap_fd = -1;
	rte_spinlock_init(&t->ctl_lock);
	rte_spinlock_init(&t->pin_lock);
	for (i = 0; i < p->nb_regions; i++) {
		rc = region_init(t, &t->r[i], &p->regions[i], p);
		if (rc < 0)
			goto out_free_regions;
		t->nb_regions++;
	}
	qsort(t->r, t->nb_regions, sizeof(t->r[0]), region_cmp);
	for (i = 1; i < t->nb_regions; i++) {
		const struct dirty_region *a = &t->r[i - 1], *b = &t->r[i];
		unsigned int j;

		if (a->end > b->iova) {
			DIRTY_LOG(ERR,
				  "%s: regions at iova 0x%" PRIx64
				  " and 0x%" PRIx64 " overlap",
				  t->name, a->iova, b->iova);
			rc = -EINVAL;
			goto out_free_regions;
		}
		for (j = 0; j < i; j++) {
			const struct dirty_region *c = &t->r[j];

			if (b->host && c->host && b->host < c->host_end &&
			    c->host < b->host_end) {
				DIRTY_LOG(ERR,
					  "%s: host ranges 0x%" PRIxPTR
					  " and 0x%" PRIxPTR " overlap",
					  t->name, b->host, c->host);
				rc = -EINVAL;
				goto out_free_regions;
			}
		}
	}
	return t;

out_free_regions:
	for (i = 0; i < t->nb_regions; i++)
		region_free(&t->r[i]);
	rte_free(t);
	rte_errno = -rc;
	return NULL;
}

void
vmp_dirty_tracker_free(struct vmp_dirty_tracker *t)
{
	unsigned int i;

	if (t == NULL)
		return;
	vmp_dirty_stop(t);
	for (i = 0; i < t->nb_regions; i++)
		region_free(&t->r[i]);
	rte_free(t);
}

/* Clear log bits [b0, b0 + n) atomically (the log may be shared). */
static void
clear_bits(uint64_t *log, uint64_t b0, uint64_t n)
{
	uint64_t b1 = b0 + n - 1, w0 = b0 >> 6, w1 = b1 >> 6, w;

	for (w = w0; w <= w1; w++) {
		uint64_t m = __vmp_dirty_word_mask(w, b0, b1);
		__atomic_fetch_and(&log[w], ~m, __ATOMIC_RELAXED);
	}
}

int
vmp_dirty_start(struct vmp_dirty_tracker *t)
{
	unsigned int i;
	int rc = 0;

	if (t == NULL)
		return -EINVAL;
	rte_spinlock_lock(&t->ctl_lock);
	if (t->started)
		goto out_unlock;
	for (i = 0; i < t->nb_regions; i++)
		clear_bits(t->r[i].log, t->r[i].bit0, t->r[i].npages);
	if (t->mode == VMP_DIRTY_MODE_KERNEL_WP) {
		rc = __vmp_dirty_kernel_start(t);
		if (rc < 0)
			goto out_unlock;
	}
	/* release: a lcore that sees started=1 sees the cleared log */
	__atomic_store_n(&t->started, 1, __ATOMIC_RELEASE);
	DIRTY_LOG(DEBUG, "%s: started", t->name);
out_unlock:
	rte_spinlock_unlock(&t->ctl_lock);
	return rc;
}

int
vmp_dirty_stop(struct vmp_dirty_tracker *t)
{
	if (t == NULL)
		return -EINVAL;
	rte_spinlock_lock(&t->ctl_lock);
	if (t->started) {
		__atomic_store_n(&t->started, 0, __ATOMIC_RELEASE);
		if (t->mode == VMP_DIRTY_MODE_KERNEL_WP)
			__vmp_dirty_kernel_stop(t);
		DIRTY_LOG(DEBUG, "%s: stopped", t->name);
	}
	rte_spinlock_unlock(&t->ctl_lock);
	return 0;
}

bool
vmp_dirty_is_started(const struct vmp_dirty_tracker *t)
{
	return t != NULL && __atomic_load_n(&t->started, __ATOMIC_ACQUIRE);
}

uint64_t
vmp_dirty_page_size(const struct vmp_dirty_tracker *t)
{
	return t ? t->pgsize : 0;
}

static const struct dirty_region *
find_region(const struct vmp_dirty_tracker *t, uint64_t iova)
{
	unsigned int i;

	for (i = 0; i < t->nb_regions; i++)
		if (iova >= t->r[i].iova && iova < t->r[i].end)
			return &t->r[i];
	return NULL;
}

uint64_t
vmp_dirty_granularity(const struct vmp_dirty_tracker *t, uint64_t iova)
{
	const struct dirty_region *r = t ? find_region(t, iova) : NULL;

	return r ? r->gran : 0;
}

/* [iova, iova + size) is covered by regions without holes. */
static int
range_covered(const struct vmp_dirty_tracker *t, uint64_t iova, uint64_t end)
{
	while (iova < end) {
		const struct dirty_region *r = find_region(t, iova);

		if (r == NULL)
			return 0;
		iova = r->end;
	}
	return 1;
}

/* Common range validation of get / pin / unpin; 0 or -errno, logged. */
static int
check_range(const struct vmp_dirty_tracker *t, const char *op, uint64_t iova,
	    uint64_t size)
{
	if (size == 0) {
		DIRTY_LOG(ERR, "%s %s: size 0", t->name, op);
		return -EINVAL;
	}
	if (iova + size < iova) {
		DIRTY_LOG(ERR,
			  "%s %s: iova 0x%" PRIx64 " + size 0x%" PRIx64
			  " overflows",
			  t->name, op, iova, size);
		return -EOVERFLOW;
	}
	if ((iova | size) & (t->pgsize - 1)) {
		DIRTY_LOG(ERR,
			  "%s %s: iova 0x%" PRIx64 " / size 0x%" PRIx64
			  " not aligned to page size %" PRIu64,
			  t->name, op, iova, size, t->pgsize);
		return -EINVAL;
	}
	if (!range_covered(t, iova, iova + size)) {
		DIRTY_LOG(ERR,
			  "%s %s: range 0x%" PRIx64 "+0x%" PRIx64
			  " not inside the regions",
			  t->name, op, iova, size);
		return -ENOENT;
	}
	return 0;
}

/* OR bits [sb, sb + n) of src into out at bit ob; read-and-clear them in src
 * when clear. out must be zeroed over the destination. Works word by word of
 * src so that a cleared word's value is exactly what fetch_and returned: a
 * bit set after that is left for the next get. */
static void
get_bits(uint64_t *src, uint64_t sb, uint64_t n, int clear, uint64_t *out,
	 uint64_t ob)
{
	uint64_t se = sb + n - 1, w0 = sb >> 6, w1 = se >> 6, w;

	for (w = w0; w <= w1; w++) {
		uint64_t m = __vmp_dirty_word_mask(w, sb, se), v, pos;
		int64_t rel = (int64_t)(w * 64) - (int64_t)sb;

		v = __atomic_load_n(&src[w], __ATOMIC_RELAXED) & m;
		if (v == 0)
			continue;
		if (clear)
			/* acquire: pairs with the writers' release OR */
			v = __atomic_fetch_and(&src[w], ~m, __ATOMIC_ACQUIRE) &
			    m;
		if (rel < 0) {
			v >>= -rel;
			pos = ob;
		} else {
			pos = ob + (uint64_t)rel;
		}
		out[pos >> 6] |= v << (pos & 63);
		if ((pos & 63) && (v >> (64 - (pos & 63))))
			out[(pos >> 6) + 1] |= v >> (64 - (pos & 63));
	}
}

/* Report region r's pages [p0, p1) at output bit ob. pinmap is read before
 * the log: an unpin racing with us ORs the log then clears pinmap (release),
 * so if we miss the pinmap bit we see the log bit. */
static void
get_region(struct dirty_region *r, uint64_t p0, uint64_t p1, int clear,
	   uint64_t *out, uint64_t ob)
{
	get_bits(r->pinmap, p0, p1 - p0, 0, out, ob);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	get_bits(r->log, r->bit0 + p0, p1 - p0, clear, out, ob);
}

static int64_t
popcount_words(const uint64_t *w, uint64_t n)
{
	int64_t c = 0;
	uint64_t i;

	for (i = 0; i < n; i++)
		c += __builtin_popcountll(w[i]);
	return c;
}

int64_t
vmp_dirty_bitmap_get(struct vmp_dirty_tracker *t, uint64_t iova, uint64_t size,
		     uint64_t pgsize, uint64_t *bitmap, uint64_t bitmap_size,
		     uint32_t flags)
{
	uint64_t end, words, i;
	int clear = !(flags & VMP_DIRTY_F_NO_CLEAR);
	int64_t rc = 0;

	if (t == NULL || bitmap == NULL) {
		DIRTY_LOG(ERR, "bitmap_get: NULL tracker %p or bitmap %p",
			  (void *)t, (void *)bitmap);
		return -EINVAL;
	}
	if (flags & ~VMP_DIRTY_F_NO_CLEAR) {
		DIRTY_LOG(ERR, "%s bitmap_get: unknown flags 0x%x", t->name,
			  flags);
		return -EOPNOTSUPP;
	}
	if (pgsize != t->pgsize) {
		DIRTY_LOG(ERR,
			  "%s bitmap_get: pgsize %" PRIu64
			  " is not the tracker page size %" PRIu64,
			  t->name, pgsize, t->pgsize);
		return -EINVAL;
	}
	rc = check_range(t, "bitmap_get", iova, size);
	if (rc < 0)
		return rc;
	end = iova + size;
	words = ((size >> t->pgshift) + 63) / 64;
	if (bitmap_size < words * 8) {
		DIRTY_LOG(ERR,
			  "%s bitmap_get: bitmap_size %" PRIu64 " < %" PRIu64
			  " bytes needed",
			  t->name, bitmap_size, words * 8);
		return -EINVAL;
	}
	rte_spinlock_lock(&t->ctl_lock);
	if (!t->started) {
		DIRTY_LOG(ERR, "%s bitmap_get: tracking not started", t->name);
		rc = -EINVAL;
		goto out_unlock;
	}
	/* kernel mode: collect every region first, so a failing scan leaves
	 * all dirty state in the log (nothing harvested, bitmap untouched) */
	for (i = 0; t->mode == VMP_DIRTY_MODE_KERNEL_WP && i < t->nb_regions;
	     i++) {
		struct dirty_region *r = &t->r[i];
		uint64_t lo = RTE_MAX(iova, r->iova), hi = RTE_MIN(end, r->end);

		if (lo >= hi)
			continue;
		rc = __vmp_dirty_kernel_collect(t, r, lo - r->iova,
						hi - r->iova, !clear);
		if (rc < 0)
			goto out_unlock;
	}
	memset(bitmap, 0, words * 8);
	for (i = 0; i < t->nb_regions; i++) {
		struct dirty_region *r = &t->r[i];
		uint64_t lo = RTE_MAX(iova, r->iova), hi = RTE_MIN(end, r->end);

		if (lo >= hi)
			continue;
		get_region(r, (lo - r->iova) >> t->pgshift,
			   (hi - r->iova) >> t->pgshift, clear, bitmap,
			   (lo - iova) >> t->pgshift);
	}
	rc = popcount_words(bitmap, words);
out_unlock:
	rte_spinlock_unlock(&t->ctl_lock);
	return rc;
}

int64_t
vmp_dirty_count(struct vmp_dirty_tracker *t)
{
	uint64_t chunk[64];
	unsigned int i;
	int64_t n = 0;
	int rc;

	if (t == NULL)
		return -EINVAL;
	rte_spinlock_lock(&t->ctl_lock);
	if (!t->started) {
		DIRTY_LOG(ERR, "%s count: tracking not started", t->name);
		n = -EINVAL;
		goto out_unlock;
	}
	for (i = 0; i < t->nb_regions && n >= 0; i++) {
		struct dirty_region *r = &t->r[i];
		uint64_t p;

		if (t->mode == VMP_DIRTY_MODE_KERNEL_WP) {
			rc = __vmp_dirty_kernel_collect(t, r, 0,
							r->end - r->iova, 1);
			if (rc < 0) {
				n = rc;
				break;
			}
		}
		/* 4096 pages per step through a small stack bitmap */
		for (p = 0; p < r->npages; p += 64 * 64) {
			uint64_t np = RTE_MIN((uint64_t)64 * 64, r->npages - p);

			memset(chunk, 0, sizeof(chunk));
			get_region(r, p, p + np, 0, chunk, 0);
			n += popcount_words(chunk, (np + 63) / 64);
		}
	}
out_unlock:
	rte_spinlock_unlock(&t->ctl_lock);
	return n;
}

/* Apply a pin (+1) or unpin (-1) to [iova, iova + len); all-or-nothing. */
static int
pin_update(struct vmp_dirty_tracker *t, uint64_t iova, uint64_t len, int delta)
{
	const char *op = delta > 0 ? "pin" : "unpin";
	uint64_t end = iova + len;
	unsigned int i, pass;
	int rc;

	if (t == NULL)
		return -EINVAL;
	rc = check_range(t, op, iova, len);
	if (rc < 0)
		return rc;
	rte_spinlock_lock(&t->pin_lock);
	/* pass 0 checks every count, pass 1 applies: nothing changes on error
	 */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < t->nb_regions; i++) {
			struct dirty_region *r = &t->r[i];
			uint64_t lo = RTE_MAX(iova, r->iova);
			uint64_t hi = RTE_MIN(end, r->end), p, p1;

			if (lo >= hi)
				continue;
			p1 = (hi - r->iova) >> t->pgshift;
			for (p = (lo - r->iova) >> t->pgshift; p < p1; p++) {
				uint64_t bit = 1ULL << (p & 63);

				if (pass == 0) {
					if (delta > 0 && r->pin[p] == PIN_MAX) {
						DIRTY_LOG(
							ERR,
							"%s pin: page "
							"0x%" PRIx64
							" pinned 65535 times",
							t->name,
							r->iova +
								(p
								 << t->pgshift));
						rc = -EOVERFLOW;
						goto out_unlock;
					}
					if (delta < 0 && r->pin[p] == 0) {
						DIRTY_LOG(
							ERR,
							"%s unpin: page "
							"0x%" PRIx64
							" is not pinned",
							t->name,
							r->iova +
								(p
								 << t->pgshift));
						rc = -EINVAL;
						goto out_unlock;
					}
					continue;
				}
				if (delta > 0) {
					/* unpinned -> pinned: set pinmap */
					if (r->pin[p]++ == 0)
						__atomic_fetch_or(
							&r->pinmap[p >> 6], bit,
							__ATOMIC_RELEASE);
					continue;
				}
				if (--r->pin[p] != 0)
					continue;
				/* pinned -> unpinned: log bit first (reported
				 * once more), then clear pinmap; release pairs
				 * with the acquire fence in get_region() */
				if (__atomic_load_n(&t->started,
						    __ATOMIC_RELAXED))
					__vmp_dirty_mark_pages(r, p, p);
				__atomic_fetch_and(&r->pinmap[p >> 6], ~bit,
						   __ATOMIC_RELEASE);
			}
		}
	}
out_unlock:
	rte_spinlock_unlock(&t->pin_lock);
	return rc;
}

int
vmp_dirty_pin(struct vmp_dirty_tracker *t, uint64_t iova, uint64_t len)
{
	return pin_update(t, iova, len, +1);
}

int
vmp_dirty_unpin(struct vmp_dirty_tracker *t, uint64_t iova, uint64_t len)
{
	return pin_update(t, iova, len, -1);
}
