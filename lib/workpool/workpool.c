/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/workpool: create/destroy and the submitter side (prepare, commit,
 * harvest). States and the halt handshake are described in workpool_pvt.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_pause.h>

#include "workpool_pvt.h"

/* named explicitly: outside a DPDK build RTE_LOG_DEFAULT_LOGTYPE is unset */
RTE_LOG_REGISTER(vmp_workpool_logtype, vmpath.workpool, INFO);

static_assert(sizeof(struct __vmp_pool_req) == VMP_POOL_REQ_HDR_SIZE,
	      "request header must be VMP_POOL_REQ_HDR_SIZE bytes");

#define WP_HARVEST_BURST 32u

static unsigned int pool_seq;

static int
wp_check_params(const struct vmp_pool_params *p, unsigned int *ring_size)
{
	unsigned int rs;

	if (p == NULL) {
		WP_LOG(ERR, "create: params is NULL");
		return -EINVAL;
	}
	if (p->nb_workers == 0 || p->nb_workers > VMP_POOL_MAX_WORKERS) {
		WP_LOG(ERR, "create: nb_workers %u not in 1..%u", p->nb_workers,
		       VMP_POOL_MAX_WORKERS);
		return -EINVAL;
	}
	rs = p->ring_size == 0 ? VMP_POOL_RING_SIZE_DEFAULT : p->ring_size;
	if (!rte_is_power_of_2(rs) || rs > VMP_POOL_RING_SIZE_MAX) {
		WP_LOG(ERR, "create: ring_size %u not a power of two <= %u",
		       p->ring_size, VMP_POOL_RING_SIZE_MAX);
		return -EINVAL;
	}
	if (p->handler == NULL || p->done == NULL) {
		WP_LOG(ERR, "create: %s callback is NULL",
		       p->handler == NULL ? "handler" : "done");
		return -EINVAL;
	}
	if (p->dispatch != VMP_POOL_DISPATCH_ROUND_ROBIN &&
	    p->dispatch != VMP_POOL_DISPATCH_LEAST_LOADED) {
		WP_LOG(ERR, "create: dispatch %d unknown", (int)p->dispatch);
		return -EINVAL;
	}
	if (p->name != NULL &&
	    (p->name[0] == '\0' || strlen(p->name) >= VMP_POOL_NAMESIZE)) {
		WP_LOG(ERR, "create: name \"%s\" empty or longer than %u",
		       p->name, VMP_POOL_NAMESIZE - 1);
		return -EINVAL;
	}
	*ring_size = rs;
	return 0;
}

/* Fill lcores[] with the pool's worker lcores, checked idle and distinct. */
static int
wp_pick_lcores(const struct vmp_pool_params *p, unsigned int *lcores)
{
	unsigned int i, j, l, n = 0;

	if (p->lcores == NULL) {
		RTE_LCORE_FOREACH_WORKER (l) {
			if (n == p->nb_workers)
				break;
			if (rte_eal_get_lcore_state(l) == WAIT)
				lcores[n++] = l;
		}
		if (n < p->nb_workers) {
			WP_LOG(ERR, "create: %u workers asked, %u idle lcores",
			       p->nb_workers, n);
			return -EBUSY;
		}
		return 0;
	}
	for (i = 0; i < p->nb_workers; i++) {
		l = p->lcores[i];
		if (l >= RTE_MAX_LCORE || !rte_lcore_is_enabled(l) ||
		    l == rte_get_main_lcore()) {
			WP_LOG(ERR, "create: lcore %u is not an enabled worker",
			       l);
			return -EINVAL;
		}
		for (j = 0; j < i; j++) {
			if (lcores[j] == l) {
				WP_LOG(ERR, "create: lcore %u listed twice", l);
				return -EINVAL;
			}
		}
		if (rte_eal_get_lcore_state(l) != WAIT) {
			WP_LOG(ERR, "create: lcore %u is not idle", l);
			return -EBUSY;
		}
		lcores[i] = l;
	}
	return 0;
}

/* Checks and lcore choice of a create, shared with the locked baseline
 * (workpool_locked.c): 0 or -errno (logged). socket: params->socket_id, or
 * the first worker lcore's socket if that is SOCKET_ID_ANY. */
int
__vmp_pool_create_check(const struct vmp_pool_params *p, unsigned int *lcores,
			unsigned int *ring_size, int *socket)
{
	int rc;

	rc = wp_check_params(p, ring_size);
	if (rc == 0)
		rc = wp_pick_lcores(p, lcores);
	if (rc != 0)
		return rc;
	*socket = p->socket_id;
	if (*socket < 0)
		*socket = (int)rte_lcore_to_socket_id(lcores[0]);
	return 0;
}

static struct rte_ring *
wp_ring_alloc(const char *name, unsigned int count, unsigned int flags,
	      int socket)
{
	/* Not rte_ring_create(): no memzone, no global name to collide on.
	 * RING_F_EXACT_SZ: capacity is exactly count. */
	ssize_t sz = rte_ring_get_memsize(rte_align32pow2(count + 1));
	struct rte_ring *r;

	if (sz < 0)
		return NULL;
	r = rte_zmalloc_socket(name, sz, RTE_CACHE_LINE_SIZE, socket);
	if (r == NULL)
		return NULL;
	if (rte_ring_init(r, name, count, flags | RING_F_EXACT_SZ) != 0) {
		rte_free(r);
		return NULL;
	}
	return r;
}

static struct __vmp_pool_req *
wp_req_at(struct vmp_pool *pool, unsigned int i)
{
	return (struct __vmp_pool_req *)(pool->reqs + (size_t)i * pool->stride);
}

static void
wp_free_all(struct vmp_pool *pool, unsigned int nb_inited)
{
	unsigned int i;

	if (pool->p.uninit != NULL)
		for (i = 0; i < nb_inited; i++)
			pool->p.uninit(
				vmp_pool_req_data((void *)wp_req_at(pool, i)),
				pool->p.cb_arg);
	for (i = 0; i < pool->nb_workers; i++) {
		if (pool->workers[i] != NULL)
			rte_free(pool->workers[i]->ring);
		rte_free(pool->workers[i]);
	}
	rte_free(pool->free_stack);
	rte_free(pool->reqs);
	rte_free(pool->done_ring);
	rte_free(pool);
}

/* Tell started workers to quit, kick them, wait for their lcores. */
static void
wp_stop_workers(struct vmp_pool *pool, unsigned int nb_launched)
{
	unsigned int i;

	for (i = 0; i < nb_launched; i++) {
		struct __vmp_pool_worker *w = pool->workers[i];

		/* S1 (quit): release pairs with the worker's acquire load. */
		__atomic_store_n(&w->quit, 1, __ATOMIC_RELEASE);
		__vmp_pool_worker_kick(pool, w);
	}
	for (i = 0; i < nb_launched; i++)
		rte_eal_wait_lcore(pool->workers[i]->lcore_id);
}

static int
wp_launch(struct vmp_pool *pool, const unsigned int *lcores)
{
	unsigned int i, n;
	int rc = 0;

	for (n = 0; n < pool->nb_workers; n++) {
		rc = rte_eal_remote_launch(__vmp_pool_worker_main,
					   pool->workers[n], lcores[n]);
		if (rc != 0) {
			WP_LOG(ERR, "create: launch on lcore %u: %d", lcores[n],
			       rc);
			rc = -EBUSY;
			break;
		}
	}
	/* Acquire pairs with the worker's store-release of start. Yield: an
	 * oversubscribed worker may share this core. */
	for (i = 0; i < n; i++) {
		uint32_t s;

		while ((s = __atomic_load_n(&pool->workers[i]->start,
					    __ATOMIC_ACQUIRE)) ==
		       WP_START_PENDING)
			sched_yield();
		if (s == WP_START_FAILED && rc == 0) {
			rc = pool->workers[i]->start_rc;
			WP_LOG(ERR, "create: worker_init on lcore %u: %d",
			       lcores[i], rc);
			if (rc > 0 || rc == 0)
				rc = -EIO;
		}
	}
	if (rc != 0)
		wp_stop_workers(pool, n);
	return rc;
}

struct vmp_pool *
vmp_pool_create(const struct vmp_pool_params *params)
{
	unsigned int lcores[VMP_POOL_MAX_WORKERS];
	unsigned int i, ring_size, nb_inited = 0;
	struct vmp_pool *pool;
	char rname[RTE_RING_NAMESIZE];
	int socket, rc;

	rc = __vmp_pool_create_check(params, lcores, &ring_size, &socket);
	if (rc != 0) {
		rte_errno = -rc;
		return NULL;
	}

	pool = rte_zmalloc_socket("vmp_pool", sizeof(*pool),
				  RTE_CACHE_LINE_SIZE, socket);
	if (pool == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	pool->p = *params;
	pool->p.lcores = NULL;
	pool->p.name = NULL;
	if (pool->p.spin_polls == 0)
		pool->p.spin_polls = VMP_POOL_SPIN_POLLS_DEFAULT;
	pool->p.ring_size = ring_size;
	if (params->name != NULL)
		snprintf(pool->name, sizeof(pool->name), "%s", params->name);
	else
		snprintf(pool->name, sizeof(pool->name), "pool%u",
			 __atomic_fetch_add(&pool_seq, 1, __ATOMIC_RELAXED));
	pool->nb_workers = params->nb_workers;
	pool->ring_size = ring_size;
	pool->nb_reqs = params->nb_workers * ring_size;
	pool->socket_id = socket;
	pool->stride = VMP_POOL_REQ_HDR_SIZE +
		       RTE_ALIGN_CEIL(params->req_size, RTE_CACHE_LINE_SIZE);

	rc = -ENOMEM;
	pool->reqs = rte_zmalloc_socket("vmp_pool_reqs",
					pool->stride * pool->nb_reqs,
					RTE_CACHE_LINE_SIZE, socket);
	pool->free_stack = rte_zmalloc_socket(
		"vmp_pool_free", sizeof(void *) * pool->nb_reqs, 0, socket);
	snprintf(rname, sizeof(rname), "wpd_%.23s", pool->name);
	pool->done_ring =
		wp_ring_alloc(rname, pool->nb_reqs, RING_F_SC_DEQ, socket);
	if (pool->reqs == NULL || pool->free_stack == NULL ||
	    pool->done_ring == NULL)
		goto out_free;

	for (i = 0; i < pool->nb_workers; i++) {
		/* The worker lcore touches its ring and counters most. */
		int wsock = (int)rte_lcore_to_socket_id(lcores[i]);
		struct __vmp_pool_worker *w;

		w = rte_zmalloc_socket("vmp_pool_worker", sizeof(*w),
				       RTE_CACHE_LINE_SIZE, wsock);
		pool->workers[i] = w;
		if (w == NULL)
			goto out_free;
		w->pool = pool;
		w->idx = i;
		w->lcore_id = lcores[i];
		snprintf(rname, sizeof(rname), "wp%u_%.20s", i, pool->name);
		w->ring = wp_ring_alloc(rname, ring_size,
					RING_F_SP_ENQ | RING_F_SC_DEQ, wsock);
		if (w->ring == NULL)
			goto out_free;
	}

	/* Free stack pops index 0 first. */
	for (i = 0; i < pool->nb_reqs; i++) {
		struct __vmp_pool_req *r = wp_req_at(pool, i);

		r->pool = pool;
		r->idx = i;
		r->state = WP_REQ_FREE;
		pool->free_stack[pool->nb_reqs - 1 - i] = r;
	}
	pool->nb_free = pool->nb_reqs;
	for (; nb_inited < pool->nb_reqs && pool->p.init != NULL; nb_inited++) {
		rc = pool->p.init(
			vmp_pool_req_data((void *)wp_req_at(pool, nb_inited)),
			nb_inited, pool->p.cb_arg);
		if (rc != 0) {
			WP_LOG(ERR, "create %s: init of request %u: %d",
			       pool->name, nb_inited, rc);
			if (rc > 0)
				rc = -EIO;
			goto out_free;
		}
	}
	if (pool->p.init != NULL)
		nb_inited = pool->nb_reqs;

	rc = __vmp_pool_register(pool);
	if (rc != 0)
		goto out_free;
	rc = wp_launch(pool, lcores);
	if (rc != 0)
		goto out_unregister;
	WP_LOG(DEBUG, "created %s: %u workers, ring %u, %zu B/request",
	       pool->name, pool->nb_workers, ring_size, params->req_size);
	return pool;

out_unregister:
	__vmp_pool_unregister(pool);
out_free:
	wp_free_all(pool, nb_inited);
	rte_errno = -rc;
	return NULL;
}

int
vmp_pool_destroy(struct vmp_pool *pool)
{
	if (pool == NULL)
		return 0;
	if (pool->in_flight != 0) {
		WP_LOG(ERR, "destroy %s: %" PRIu64 " requests in flight",
		       pool->name, pool->in_flight);
		return -EBUSY;
	}
	wp_stop_workers(pool, pool->nb_workers);
	__vmp_pool_unregister(pool);
	wp_free_all(pool, pool->p.uninit != NULL ? pool->nb_reqs : 0);
	return 0;
}

/* Pick a worker with room, or -1. */
static inline int
wp_pick_worker(struct vmp_pool *pool)
{
	unsigned int n = pool->nb_workers, i, w, best, best_load;

	if (pool->p.dispatch == VMP_POOL_DISPATCH_ROUND_ROBIN) {
		w = pool->rr_next;
		if (pool->workers[w]->outstanding >= pool->ring_size)
			return -1;
		pool->rr_next = w + 1 == n ? 0 : w + 1;
		return (int)w;
	}
	/* Least loaded: scan from rr_next so ties rotate; an idle worker
	 * ends the scan. */
	best = pool->rr_next;
	best_load = pool->workers[best]->outstanding;
	for (i = 1, w = best; i < n && best_load != 0; i++) {
		w = w + 1 == n ? 0 : w + 1;
		if (pool->workers[w]->outstanding < best_load) {
			best = w;
			best_load = pool->workers[w]->outstanding;
		}
	}
	if (best_load >= pool->ring_size)
		return -1;
	pool->rr_next = best + 1 == n ? 0 : best + 1;
	return (int)best;
}

static void
wp_release(struct vmp_pool *pool, struct __vmp_pool_req *r)
{
	pool->workers[r->worker]->outstanding--;
	r->state = WP_REQ_FREE;
	pool->free_stack[pool->nb_free++] = r;
	WP_INC(pool->in_flight, -1);
}

static unsigned int
wp_harvest(struct vmp_pool *pool, unsigned int max)
{
	struct vmp_pool_req *done[WP_HARVEST_BURST];
	unsigned int n, i, total = 0;

	while (total < max) {
		/* SC dequeue: load-acquire of prod.tail pairs with the
		 * workers' MP enqueue store-release in wp_handle(). */
		n = rte_ring_sc_dequeue_burst(
			pool->done_ring, (void **)done,
			RTE_MIN(max - total, WP_HARVEST_BURST), NULL);
		if (n == 0)
			break;
		for (i = 0; i < n; i++) {
			pool->p.done(vmp_pool_req_data(done[i]),
				     pool->p.cb_arg);
			wp_release(pool, wp_req(done[i]));
		}
		total += n;
	}
	WP_INC(pool->completed, total);
	return total;
}

struct vmp_pool_req *
vmp_pool_submit_prepare(struct vmp_pool *pool)
{
	struct __vmp_pool_req *r;
	int w;

	if (unlikely(pool == NULL))
		return NULL;
	if (!rte_ring_empty(pool->done_ring))
		wp_harvest(pool, WP_HARVEST_BURST);
	w = wp_pick_worker(pool);
	if (w < 0) {
		WP_INC(pool->submit_full, 1);
		return NULL;
	}
	/* outstanding <= ring_size per worker and nb_reqs = n * ring_size:
	 * a worker with room implies a free request. */
	RTE_ASSERT(pool->nb_free > 0);
	r = pool->free_stack[--pool->nb_free];
	r->worker = (uint16_t)w;
	r->state = WP_REQ_PREPARED;
	pool->workers[w]->outstanding++;
	pool->nb_prepared++;
	WP_INC(pool->in_flight, 1);
	return (struct vmp_pool_req *)r;
}

static inline int
wp_check_prepared(struct vmp_pool *pool, struct vmp_pool_req *req,
		  const char *what)
{
	const uint8_t *b = (const uint8_t *)req;
	struct __vmp_pool_req *r = wp_req(req);

	/* range and stride first: never dereference a foreign pointer */
	if (unlikely(pool == NULL || b < pool->reqs ||
		     b >= pool->reqs + pool->stride * pool->nb_reqs ||
		     (size_t)(b - pool->reqs) % pool->stride != 0 ||
		     r->state != WP_REQ_PREPARED)) {
		WP_LOG(ERR, "%s: request %p is not prepared by pool %p", what,
		       (void *)req, (void *)pool);
		return -EINVAL;
	}
	return 0;
}

int
vmp_pool_submit_commit(struct vmp_pool *pool, struct vmp_pool_req *req)
{
	struct __vmp_pool_req *r = wp_req(req);
	struct __vmp_pool_worker *w;

	if (wp_check_prepared(pool, req, "commit") != 0)
		return -EINVAL;
	w = pool->workers[r->worker];
	r->state = WP_REQ_QUEUED;
	pool->nb_prepared--;
	/* S1: SP enqueue, store-release of prod.tail (pairs with the worker's
	 * SC dequeue). Room is guaranteed by outstanding <= ring_size. */
	if (unlikely(rte_ring_sp_enqueue(w->ring, req) != 0))
		RTE_VERIFY(0);
	WP_INC(pool->submitted, 1);
	/* F_S + S2: syscall only if the worker published HALTED. */
	__vmp_pool_worker_kick(pool, w);
	return 0;
}

int
vmp_pool_submit_abort(struct vmp_pool *pool, struct vmp_pool_req *req)
{
	if (wp_check_prepared(pool, req, "abort") != 0)
		return -EINVAL;
	pool->nb_prepared--;
	wp_release(pool, wp_req(req));
	return 0;
}

int
vmp_pool_poll_done(struct vmp_pool *pool, unsigned int max)
{
	if (pool == NULL)
		return -EINVAL;
	return (int)wp_harvest(pool, max == 0 ? pool->nb_reqs : max);
}

int
vmp_pool_wait_done(struct vmp_pool *pool)
{
	unsigned int got, total = 0;
	uint32_t spins = 0;

	if (pool == NULL)
		return -EINVAL;
	while (pool->in_flight > pool->nb_prepared) {
		got = wp_harvest(pool, pool->nb_reqs);
		total += got;
		if (got != 0) {
			spins = 0;
		} else if (pool->p.spin_polls == VMP_POOL_SPIN_FOREVER ||
			   ++spins < pool->p.spin_polls) {
			rte_pause();
		} else {
			/* not the submit path: let an oversubscribed worker
			 * sharing this core run */
			sched_yield();
		}
	}
	return (int)total;
}

int
vmp_pool_stats_get(const struct vmp_pool *pool, struct vmp_pool_stats *s)
{
	unsigned int i;

	if (pool == NULL || s == NULL)
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	s->nb_workers = pool->nb_workers;
	s->ring_size = pool->ring_size;
	s->tsc_hz = rte_get_tsc_hz();
	s->submitted = __atomic_load_n(&pool->submitted, __ATOMIC_RELAXED);
	s->completed = __atomic_load_n(&pool->completed, __ATOMIC_RELAXED);
	s->submit_full = __atomic_load_n(&pool->submit_full, __ATOMIC_RELAXED);
	s->kicks = __atomic_load_n(&pool->kicks, __ATOMIC_RELAXED);
	s->in_flight = __atomic_load_n(&pool->in_flight, __ATOMIC_RELAXED);
	for (i = 0; i < pool->nb_workers; i++) {
		const struct __vmp_pool_worker *w = pool->workers[i];
		struct vmp_pool_worker_stats *o = &s->worker[i];

		o->lcore_id = w->lcore_id;
		o->handled = __atomic_load_n(&w->handled, __ATOMIC_RELAXED);
		o->busy_cycles =
			__atomic_load_n(&w->busy_cycles, __ATOMIC_RELAXED);
		o->halts = __atomic_load_n(&w->halts, __ATOMIC_RELAXED);
		o->wakes = __atomic_load_n(&w->wakes, __ATOMIC_RELAXED);
	}
	return 0;
}

unsigned int
vmp_pool_nb_workers(const struct vmp_pool *pool)
{
	return pool == NULL ? 0 : pool->nb_workers;
}

unsigned int
vmp_pool_in_flight(const struct vmp_pool *pool)
{
	return pool == NULL ? 0 : (unsigned int)pool->in_flight;
}

unsigned int
vmp_pool_req_worker(const struct vmp_pool_req *req)
{
	return ((const struct __vmp_pool_req *)req)->worker;
}

int
vmp_pool_dump(FILE *f, const struct vmp_pool *pool)
{
	unsigned int i;

	if (f == NULL || pool == NULL)
		return -EINVAL;
	fprintf(f,
		"pool %s: in_flight %" PRIu64 " prepared %u free %u rr_next %u"
		" done_ring %u\n",
		pool->name, pool->in_flight, pool->nb_prepared, pool->nb_free,
		pool->rr_next, rte_ring_count(pool->done_ring));
	for (i = 0; i < pool->nb_workers; i++) {
		const struct __vmp_pool_worker *w = pool->workers[i];

		fprintf(f,
			"  w%u lcore %u halt_word %u quit %u ring %u"
			" outstanding %u handled %" PRIu64 " halts %" PRIu64
			" wakes %" PRIu64 "\n",
			i, w->lcore_id,
			__atomic_load_n(&w->halt_word, __ATOMIC_RELAXED),
			__atomic_load_n(&w->quit, __ATOMIC_RELAXED),
			rte_ring_count(w->ring), w->outstanding,
			__atomic_load_n(&w->handled, __ATOMIC_RELAXED),
			__atomic_load_n(&w->halts, __ATOMIC_RELAXED),
			__atomic_load_n(&w->wakes, __ATOMIC_RELAXED));
	}
	return 0;
}
