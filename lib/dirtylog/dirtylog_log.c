/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Software log datapath: vmp_dirty_log_write*() and the per-lcore log cache.
 *
 * Ordering: a writer stores the guest data, then ORs the page's log bit with
 * release order; bitmap_get clears the bit with acquire order (fetch_and in
 * dirtylog.c get_bits()) before the migration copies the page. That pair
 * guarantees a harvested bit's data is visible to the copier, and a write
 * that lands after the harvest sets the bit again for the next round.
 * No "test before OR" shortcut: skipping the OR when the bit looks set would
 * need a full fence (store->load) to stay correct, which costs as much.
 */
#include <errno.h>

#include <rte_common.h>

#include "dirtylog_pvt.h"

void
__vmp_dirty_mark_pages(struct dirty_region *r, uint64_t p0, uint64_t p1)
{
	uint64_t b0 = r->bit0 + p0, b1 = r->bit0 + p1;
	uint64_t w0 = b0 >> 6, w1 = b1 >> 6, w;

	for (w = w0; w <= w1; w++) {
		uint64_t m = ~0ULL;

		if (w == w0)
			m &= ~0ULL << (b0 & 63);
		if (w == w1)
			m &= ~0ULL >> (63 - (b1 & 63));
		/* release: pairs with the acquire fetch_and in get_bits() */
		__atomic_fetch_or(&r->log[w], m, __ATOMIC_RELEASE);
	}
}

static inline int
dirty_started(const struct vmp_dirty_tracker *t)
{
	return __atomic_load_n(&t->started, __ATOMIC_RELAXED);
}

/* Visit the parts of [a, a + len) inside each region; key selects iova or
 * host addressing. Returns the number of regions touched. */
typedef void (*mark_fn)(struct dirty_region *r, uint64_t p0, uint64_t p1,
			void *arg);

static inline unsigned int
visit(struct vmp_dirty_tracker *t, uint64_t a, uint64_t len, int by_host,
      mark_fn fn, void *arg)
{
	uint64_t e = a + len;
	unsigned int i, hit = 0;

	if (e < a) /* overflow: clamp to the top of the address space */
		e = UINT64_MAX;
	for (i = 0; i < t->nb_regions; i++) {
		struct dirty_region *r = &t->r[i];
		uint64_t base = by_host ? r->host : r->iova;
		uint64_t rend = by_host ? r->host_end : r->end;
		uint64_t lo, hi;

		if (by_host && base == 0)
			continue;
		lo = RTE_MAX(a, base);
		hi = RTE_MIN(e, rend);
		if (lo >= hi)
			continue;
		fn(r, (lo - base) >> t->pgshift, (hi - 1 - base) >> t->pgshift,
		   arg);
		hit++;
	}
	return hit;
}

static void
mark_now(struct dirty_region *r, uint64_t p0, uint64_t p1, void *arg)
{
	RTE_SET_USED(arg);
	__vmp_dirty_mark_pages(r, p0, p1);
}

int
vmp_dirty_log_write(struct vmp_dirty_tracker *t, uint64_t iova, uint64_t len)
{
	if (len == 0 || !dirty_started(t))
		return 0;
	return visit(t, iova, len, 0, mark_now, NULL) ? 0 : -ENOENT;
}

int
vmp_dirty_log_write_hva(struct vmp_dirty_tracker *t, const void *addr,
			uint64_t len)
{
	if (len == 0 || !dirty_started(t))
		return 0;
	return visit(t, (uintptr_t)addr, len, 1, mark_now, NULL) ? 0 : -ENOENT;
}

void
vmp_dirty_log_cache_flush(struct vmp_dirty_log_cache *c)
{
	uint32_t i;

	for (i = 0; i < c->n; i++)
		/* release: pairs with the acquire fetch_and in get_bits() */
		__atomic_fetch_or(c->e[i].word, c->e[i].bits, __ATOMIC_RELEASE);
	c->n = 0;
}

static inline void
cache_add(struct vmp_dirty_log_cache *c, uint64_t *word, uint64_t bits)
{
	uint32_t i;

	for (i = 0; i < c->n; i++) {
		if (c->e[i].word == word) {
			c->e[i].bits |= bits;
			return;
		}
	}
	if (c->n == VMP_DIRTY_LOG_CACHE_SZ)
		vmp_dirty_log_cache_flush(c);
	c->e[c->n].word = word;
	c->e[c->n].bits = bits;
	c->n++;
}

static void
mark_cached(struct dirty_region *r, uint64_t p0, uint64_t p1, void *arg)
{
	struct vmp_dirty_log_cache *c = arg;
	uint64_t b0 = r->bit0 + p0, b1 = r->bit0 + p1;
	uint64_t w0 = b0 >> 6, w1 = b1 >> 6, w;

	for (w = w0; w <= w1; w++) {
		uint64_t m = ~0ULL;

		if (w == w0)
			m &= ~0ULL << (b0 & 63);
		if (w == w1)
			m &= ~0ULL >> (63 - (b1 & 63));
		cache_add(c, &r->log[w], m);
	}
}

int
vmp_dirty_log_cache_write(struct vmp_dirty_tracker *t,
			  struct vmp_dirty_log_cache *c, uint64_t iova,
			  uint64_t len)
{
	if (len == 0 || !dirty_started(t))
		return 0;
	return visit(t, iova, len, 0, mark_cached, c) ? 0 : -ENOENT;
}

int
vmp_dirty_log_cache_write_hva(struct vmp_dirty_tracker *t,
			      struct vmp_dirty_log_cache *c, const void *addr,
			      uint64_t len)
{
	if (len == 0 || !dirty_started(t))
		return 0;
	return visit(t, (uintptr_t)addr, len, 1, mark_cached, c) ? 0 : -ENOENT;
}
