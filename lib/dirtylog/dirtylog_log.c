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

#include <rte_branch_prediction.h>
#include <rte_common.h>

#include "dirtylog_pvt.h"

static inline int
dirty_started(const struct vmp_dirty_tracker *t)
{
	return __atomic_load_n(&t->started, __ATOMIC_RELAXED);
}

/* Visit the parts of [a, a + len) inside each region; key selects iova or
 * host addressing. Returns the number of regions touched. */
typedef void (*mark_fn)(struct dirty_region *r, uint64_t p0, uint64_t p1,
			void *arg);

static __rte_always_inline unsigned int
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
		if (!by_host && base >= e) /* sorted by iova: none further */
			break;
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

static __rte_always_inline void
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
	/* the memo may name a tracker about to be freed: drop it too */
	c->m_owner = NULL;
}

/* Not the newest entry: search, else insert (flushing a full cache). Out of
 * line so the hit path stays small (no spills around it). */
static __rte_noinline void
cache_add_slow(struct vmp_dirty_log_cache *c, uint64_t *word, uint64_t bits)
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

static __rte_always_inline void
cache_add(struct vmp_dirty_log_cache *c, uint64_t *word, uint64_t bits)
{
	uint32_t n = c->n;

	/* consecutive pages hit the newest entry */
	if (likely(n != 0 && c->e[n - 1].word == word))
		c->e[n - 1].bits |= bits;
	else
		cache_add_slow(c, word, bits);
}

/* OR log bits [b0, b1] into the cache, word by word. */
static __rte_always_inline void
cache_bits(struct vmp_dirty_log_cache *c, uint64_t *log, uint64_t b0,
	   uint64_t b1)
{
	uint64_t w0 = b0 >> 6, w1 = b1 >> 6, w;

	for (w = w0; w <= w1; w++) {
		uint64_t m = __vmp_dirty_word_mask(w, b0, b1);
		cache_add(c, &log[w], m);
	}
}

struct memo_arg {
	struct vmp_dirty_tracker *t;
	struct vmp_dirty_log_cache *c;
	int by_host;
};

static __rte_always_inline void
mark_cached(struct dirty_region *r, uint64_t p0, uint64_t p1, void *arg)
{
	struct memo_arg *a = arg;
	struct vmp_dirty_log_cache *c = a->c;

	cache_bits(c, r->log, r->bit0 + p0, r->bit0 + p1);
	/* remember the region: the next write in it skips visit() */
	c->m_owner = a->t;
	c->m_host = a->by_host;
	c->m_base = a->by_host ? r->host : r->iova;
	c->m_span = r->end - r->iova;
	c->m_log = r->log;
	c->m_bit0 = r->bit0;
	c->m_shift = a->t->pgshift;
}

static __rte_always_inline int
cache_write(struct vmp_dirty_tracker *t, struct vmp_dirty_log_cache *c,
	    uint64_t a, uint64_t len, int by_host)
{
	uint64_t off = a - c->m_base;
	struct memo_arg m = {.t = t, .c = c, .by_host = by_host};

	if (len == 0 || !dirty_started(t))
		return 0;
	/* fast path: inside the region of the previous write */
	if (likely(c->m_owner == t && c->m_host == (uint32_t)by_host &&
		   off < c->m_span && len <= c->m_span - off)) {
		cache_bits(c, c->m_log, c->m_bit0 + (off >> c->m_shift),
			   c->m_bit0 + ((off + len - 1) >> c->m_shift));
		return 0;
	}
	return visit(t, a, len, by_host, mark_cached, &m) ? 0 : -ENOENT;
}

int
vmp_dirty_log_cache_write(struct vmp_dirty_tracker *t,
			  struct vmp_dirty_log_cache *c, uint64_t iova,
			  uint64_t len)
{
	return cache_write(t, c, iova, len, 0);
}

int
vmp_dirty_log_cache_write_hva(struct vmp_dirty_tracker *t,
			      struct vmp_dirty_log_cache *c, const void *addr,
			      uint64_t len)
{
	return cache_write(t, c, (uintptr_t)addr, len, 1);
}
