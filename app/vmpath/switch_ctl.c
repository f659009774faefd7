/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control-owner side of the switch: queue placement, the published view
 * (switch.h) and its grace periods, adding and removing ports while the
 * datapath lcores run. Every function here runs on the control owner (the
 * main lcore, ctl.c) only: mutations never run concurrently.
 *
 * A change is: build a new view, store-release it, then wait until every
 * online datapath lcore has passed a quiescent point (Q1, once per loop)
 * after the store; only then is the old view (and a removed port) freed.
 * A datapath lcore that halts (--idle halt) would hold the wait: the owner
 * first sets the idle hold (idle.c: no lcore enters a new sleep) and kicks
 * every waker, so each lcore finishes its loop within a bound; the wait is
 * itself bounded (VIEW_WAIT_MS) and a timeout refuses the change's
 * free step instead of carrying on.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_bus_vdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>

#include "idle.h"
#include "switch.h"
#include "vmpath.h"

#define VIEW_WAIT_MS 2000
#define VIEW_SPIN_US 20
#define DEL_ATTEMPTS 3
#define DEL_DRAIN_MS 20
#define MAX_RETIRED 16

/* Views a timed-out wait could not free: freed after the next good wait. */
static struct vmp_sw_view *retired[MAX_RETIRED];
static unsigned int nb_retired;

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;

void
vmp_switch_lock(void)
{
	pthread_mutex_lock(&table_lock);
}

void
vmp_switch_unlock(void)
{
	pthread_mutex_unlock(&table_lock);
}

struct vmp_sw_port *
vmp_switch_port(unsigned int p)
{
	struct vmp_sw_port *sp;

	if (vmp_sw.port == NULL || p >= vmp_sw.max_ports)
		return NULL;
	sp = vmp_sw.port[p];
	return sp != NULL && sp->state == VMP_SW_PORT_ACTIVE ? sp : NULL;
}

unsigned int
vmp_switch_dp_lcore(unsigned int k)
{
	return vmp_sw.dp_lcore[k];
}

/*
 * Freed control objects are poisoned first: a datapath lcore that still
 * used one after its grace period (a missing unpublish or wait) would
 * follow garbage pointers and crash at once, instead of reading stale but
 * plausible memory unnoticed (tests/ctl/ctl_churn relies on it).
 */
static void
poison_free(void *p, size_t len)
{
	if (p == NULL)
		return;
	memset(p, 0x6b, len);
	rte_free(p);
}

void
__vmp_switch_view_free(struct vmp_sw_view *v)
{
	if (v != NULL)
		poison_free(v, v->size);
}

/* One allocation: header, dst[max_ports], dst_id[], nb_poll[], poll[][]. */
static struct vmp_sw_view *
view_build(int drain)
{
	unsigned int p, q, k, nb_dst = 0, nb_items = 0, *fill;
	struct vmp_sw_view *v;
	struct vmp_sw_poll *items;
	size_t sz;
	char *m;

	for (p = 0; p < vmp_sw.max_ports; p++) {
		const struct vmp_sw_port *sp = vmp_sw.port[p];

		if (sp == NULL ||
		    (sp->state != VMP_SW_PORT_ACTIVE && (int)p != drain))
			continue;
		nb_dst += sp->state == VMP_SW_PORT_ACTIVE;
		nb_items += sp->nb_qp;
	}
	sz = sizeof(*v) + vmp_sw.max_ports * sizeof(*v->dst) +
	     vmp_sw.nb_dp * (sizeof(*v->poll) + sizeof(*v->nb_poll)) +
	     nb_items * sizeof(*items) + (nb_dst + 1) * sizeof(*v->dst_id);
	m = rte_zmalloc_socket("vmp_view", sz, RTE_CACHE_LINE_SIZE,
			       vmp_sw.socket);
	if (m == NULL)
		return NULL;
	v = (struct vmp_sw_view *)m;
	v->size = sz;
	m += sizeof(*v);
	v->dst = (struct vmp_sw_port **)m;
	m += vmp_sw.max_ports * sizeof(*v->dst);
	v->poll = (struct vmp_sw_poll **)m;
	m += vmp_sw.nb_dp * sizeof(*v->poll);
	items = (struct vmp_sw_poll *)m;
	m += nb_items * sizeof(*items);
	v->nb_poll = (unsigned int *)m;
	m += vmp_sw.nb_dp * sizeof(*v->nb_poll);
	v->dst_id = (uint16_t *)m;

	/* count per lcore, then carve items into per-lcore runs */
	for (p = 0; p < vmp_sw.max_ports; p++) {
		const struct vmp_sw_port *sp = vmp_sw.port[p];

		if (sp == NULL ||
		    (sp->state != VMP_SW_PORT_ACTIVE && (int)p != drain))
			continue;
		for (q = 0; q < sp->nb_qp; q++)
			v->nb_poll[sp->owner[q]]++;
	}
	for (k = 0; k < vmp_sw.nb_dp; k++) {
		v->poll[k] = items;
		items += v->nb_poll[k];
		v->nb_poll[k] = 0;
	}
	for (p = 0; p < vmp_sw.max_ports; p++) {
		struct vmp_sw_port *sp = vmp_sw.port[p];

		if (sp == NULL ||
		    (sp->state != VMP_SW_PORT_ACTIVE && (int)p != drain))
			continue;
		if (sp->state == VMP_SW_PORT_ACTIVE) {
			v->dst[p] = sp;
			v->dst_id[v->nb_dst++] = (uint16_t)p;
		}
		for (q = 0; q < sp->nb_qp; q++) {
			k = sp->owner[q];
			fill = &v->nb_poll[k];
			v->poll[k][*fill] =
				(struct vmp_sw_poll){.sp = sp,
						     .port = (uint16_t)p,
						     .qp = (uint16_t)q};
			(*fill)++;
		}
	}
	return v;
}

/*
 * Wait until every online datapath lcore passed Q1 after the caller's
 * store. Kicks the wakers on each round: with the idle hold set, a lcore
 * asleep before the store wakes, finishes its loop and does not sleep again.
 * @return 0, or -ETIMEDOUT after VIEW_WAIT_MS (a lcore is stuck).
 */
static int
wait_quiescent(void)
{
	uint64_t end = rte_get_timer_cycles() +
		       rte_get_timer_hz() * VIEW_WAIT_MS / 1000;
	uint64_t t = rte_rcu_qsbr_start(vmp_sw.qsbr);
	uint64_t spin = rte_get_timer_cycles() +
			rte_get_timer_hz() * VIEW_SPIN_US / 1000000;
	unsigned int i;

	while (rte_rcu_qsbr_check(vmp_sw.qsbr, t, false) == 0) {
		uint64_t now = rte_get_timer_cycles();

		if (now > end) {
			VMP_LOG(ERR,
				"vmpath: a datapath lcore passed no quiescent "
				"point in %u ms: change not completed",
				VIEW_WAIT_MS);
			return -ETIMEDOUT;
		}
		/* A running lcore reports within one loop: a sleep (two
		 * context switches) only once that is overdue. */
		if (now < spin) {
			rte_pause();
			continue;
		}
		/* only a halting lcore can be asleep: vmp_idle_set() kicked
		 * every one when the policy became poll */
		if (__atomic_load_n(&vmp_app.cfg.idle_halt, __ATOMIC_RELAXED))
			vmp_idle_wake_all();
		rte_delay_us_sleep(20);
	}
	for (i = 0; i < nb_retired; i++)
		__vmp_switch_view_free(retired[i]);
	nb_retired = 0;
	return 0;
}

int
__vmp_switch_view_publish(int drain)
{
	struct vmp_sw_view *v = view_build(drain), *old = vmp_sw.view;
	int rc;

	if (v == NULL)
		return -ENOMEM;
	/* Release: pairs with vmp_switch_poll()'s load-acquire; the view and
	 * the ports it names are complete before a lcore can see them. */
	__atomic_store_n(&vmp_sw.view, v, __ATOMIC_RELEASE);
	if (old == NULL)
		return 0;
	rc = wait_quiescent();
	if (rc == 0) {
		__vmp_switch_view_free(old);
	} else if (nb_retired < MAX_RETIRED) {
		retired[nb_retired++] = old;
	} else {
		VMP_LOG(ERR,
			"vmpath: %u views wait for a stuck lcore: leaking one",
			nb_retired);
	}
	return rc;
}

/*
 * mbufs grow with the port count. Port ids come in blocks of
 * VMP_SW_POOL_PORTS: block 0 allocates from the switch pool (vmp_sw.mp,
 * --mbufs, made with the first port); each further block gets a pool of
 * --mbufs of its own when its first port is added, and gives it back once
 * its last port is destroyed and every mbuf of it has come back (a removed
 * port's mbufs may still sit in another port's DMA copies, an ethdev's Tx
 * queue or a datapath lcore's cache). Pools are control-owner state.
 *
 * A block pool's life: NONE --first port--> USED (users > 0) --last port
 * gone--> RETIRING (users 0, mbufs out) --all back, grace period--> NONE;
 * a port added to a RETIRING block takes the pool again.
 */
struct vmp_sw_pool {
	struct rte_mempool *mp;
	unsigned int users; /* ports of the block in any state */
};

static struct vmp_sw_pool *pools; /* [max_ports / VMP_SW_POOL_PORTS + 1] */

static struct rte_mempool *
pool_take(unsigned int id, char *err, size_t errlen)
{
	unsigned int b = id / VMP_SW_POOL_PORTS;
	char name[RTE_MEMPOOL_NAMESIZE];
	struct vmp_sw_pool *pl;

	if (__vmp_switch_pool_get() < 0)
		goto nomem;
	/* with the first pool, kept: the heap after ports come and go is
	 * the heap before */
	if (pools == NULL)
		pools = rte_zmalloc_socket(
			"vmp_pools",
			(vmp_sw.max_ports / VMP_SW_POOL_PORTS + 1) *
				sizeof(*pools),
			RTE_CACHE_LINE_SIZE, vmp_sw.socket);
	if (pools == NULL)
		goto nomem;
	if (b == 0)
		return vmp_sw.mp;
	pl = &pools[b];
	if (pl->mp == NULL) {
		snprintf(name, sizeof(name), "vmp_switch%u", b);
		pl->mp = rte_pktmbuf_pool_create(
			name, vmp_app.cfg.nb_mbufs, 256, 0,
			RTE_MBUF_DEFAULT_BUF_SIZE, vmp_sw.socket);
		if (pl->mp == NULL) {
			snprintf(err, errlen,
				 "port %u: cannot create the mbuf pool of "
				 "ports %u..%u (--mbufs %u): %s",
				 id, b * VMP_SW_POOL_PORTS,
				 (b + 1) * VMP_SW_POOL_PORTS - 1,
				 vmp_app.cfg.nb_mbufs, rte_strerror(rte_errno));
			return NULL;
		}
	}
	pl->users++;
	return pl->mp;
nomem:
	snprintf(err, errlen, "port %u: out of memory", id);
	return NULL;
}

void
__vmp_switch_pools_reap(void)
{
	unsigned int b, nb = vmp_sw.max_ports / VMP_SW_POOL_PORTS + 1;
	bool any = false;
	int rc;

	for (b = 1; pools != NULL && b < nb; b++)
		any |= pools[b].mp != NULL && pools[b].users == 0 &&
		       rte_mempool_full(pools[b].mp);
	/* A count of "full" can include an object whose pointer a datapath
	 * lcore is still writing into its cache (rte_mempool_do_generic_put()
	 * raises len first): after a grace period no such put is running, and
	 * no port takes from the pool any more, so it stays full. */
	if (!any)
		return;
	/* as a change: a halting lcore wakes, reports and stays awake (the
	 * callers that hold it already release it right after) */
	vmp_idle_hold(true);
	rc = wait_quiescent();
	vmp_idle_hold(false);
	for (b = 1; rc == 0 && b < nb; b++)
		if (pools[b].mp != NULL && pools[b].users == 0 &&
		    rte_mempool_full(pools[b].mp)) {
			rte_mempool_free(pools[b].mp);
			pools[b].mp = NULL;
		}
}

static void
pool_put(unsigned int id)
{
	if (id >= VMP_SW_POOL_PORTS && pools != NULL)
		pools[id / VMP_SW_POOL_PORTS].users--;
	__vmp_switch_pools_reap();
}

void
vmp_switch_mbufs(uint64_t *avail, uint64_t *in_use, unsigned int *nb_pools)
{
	unsigned int b, nb = vmp_sw.max_ports / VMP_SW_POOL_PORTS + 1;

	*avail = *in_use = 0;
	*nb_pools = 0;
	for (b = 0; b < nb; b++) {
		struct rte_mempool *mp =
			b == 0 ? vmp_sw.mp
			       : (pools != NULL ? pools[b].mp : NULL);

		if (mp == NULL)
			continue;
		*avail += rte_mempool_avail_count(mp);
		*in_use += rte_mempool_in_use_count(mp);
		(*nb_pools)++;
	}
}

/*
 * Least-loaded first on the datapath lcores of the port's socket: the
 * first min(nb_qp, K) queue pairs go to distinct lcores in order of load
 * (queue pairs they poll), the rest each to the least loaded. A lcore that
 * got a pair enqueues into it; the others share pair k % nb_qp.
 */
static void
place(struct vmp_sw_port *sp)
{
	unsigned int load[RTE_MAX_LCORE] = {0}, cand[RTE_MAX_LCORE];
	unsigned int p, q, k, i, n = 0;
	bool taken[RTE_MAX_LCORE] = {false};

	for (k = 0; k < vmp_sw.nb_dp; k++)
		if ((int)rte_lcore_to_socket_id(vmp_sw.dp_lcore[k]) ==
		    vmp_sw.socket)
			cand[n++] = k;
	if (n == 0) /* none on the memory socket: use them all */
		for (k = 0; k < vmp_sw.nb_dp; k++)
			cand[n++] = k;
	for (p = 0; p < vmp_sw.max_ports; p++) {
		const struct vmp_sw_port *o = vmp_sw.port[p];

		for (q = 0; o != NULL && q < o->nb_qp; q++)
			load[o->owner[q]]++;
	}
	for (q = 0; q < sp->nb_qp; q++) {
		int best = -1;

		for (i = 0; i < n; i++) {
			k = cand[i];
			if (q < n && taken[k])
				continue;
			if (best < 0 || load[k] < load[best])
				best = (int)k;
		}
		sp->owner[q] = (uint16_t)best;
		taken[best] = true;
		load[best]++;
	}
	sp->shared_rx = false;
	for (k = 0; k < vmp_sw.nb_dp; k++) {
		sp->txq[k] = (uint16_t)(k % sp->nb_qp);
		for (q = 0; q < sp->nb_qp; q++)
			if (sp->owner[q] == k) {
				sp->txq[k] = (uint16_t)q;
				break;
			}
		if (q == sp->nb_qp)
			sp->shared_rx = true;
	}
	for (q = 0; q < VMP_VNET_MAX_QP; q++)
		rte_spinlock_init(&sp->rx_lock[q]);
}

static int
vhost_create(struct vmp_sw_port *sp, unsigned int id, char *err, size_t errlen)
{
	struct vmp_vnet_port_conf pc = {
		.path = sp->spec.path,
		.client = sp->spec.client,
		.nb_qp = sp->nb_qp,
		.socket_id = vmp_sw.socket,
		.mp = sp->mp,
		.offloads = (sp->spec.csum ? VMP_VNET_OL_CSUM : 0) |
			    (sp->spec.tso ? VMP_VNET_OL_TSO : 0),
		.mtu = (uint16_t)sp->spec.mtu,
	};
	unsigned int q;
	int rc;

	sp->vp = vmp_vnet_port_create(&pc);
	if (sp->vp == NULL) {
		rc = -rte_errno;
		snprintf(err, errlen, "port %u: path '%s': %s", id, pc.path,
			 rc == -EEXIST ? "already in use" : rte_strerror(-rc));
		return rc;
	}
	for (q = 0; q < sp->nb_qp && sp->dma != VMP_DMA_NONE; q++) {
		struct vmp_vnet_dma *d = __vmp_switch_dma_get(
			sp->owner[q], sp->dma, vmp_sw.socket);

		if (d == NULL) {
			snprintf(err, errlen,
				 "port %u: dma '%s' unavailable on datapath "
				 "lcore #%u",
				 id, vmp_dma_kind_name(sp->dma), sp->owner[q]);
			vmp_vnet_port_destroy(sp->vp);
			return -ENODEV;
		}
		vmp_vnet_port_set_dma(sp->vp, (uint16_t)q, d);
	}
	return 0;
}

static void
counters_reset(unsigned int id)
{
	unsigned int k;

	/* no lcore writes them: @id is in no view */
	for (k = 0; k < vmp_sw.nb_dp; k++) {
		vmp_sw.ls[vmp_sw.dp_lcore[k]].fwd[id] = 0;
		vmp_sw.ls[vmp_sw.dp_lcore[k]].drop_full[id] = 0;
	}
}

static int
port_build(struct vmp_sw_port *sp, unsigned int id,
	   const struct vmp_vhost_spec *spec, const char *ethdev, char *err,
	   size_t errlen)
{
	int rc;

	if (ethdev != NULL) {
		rc = __vmp_switch_eth_create(sp, ethdev, vmp_sw.socket);
		if (rc < 0)
			snprintf(err, errlen, "port %u: ethdev '%s': %s", id,
				 ethdev,
				 rc == -ENODEV
					 ? "no such driver, or it refused "
					   "the devargs"
					 : "could not be started");
		if (rc == 0)
			place(sp);
		return rc;
	}
	sp->spec = *spec;
	sp->dma = spec->dma == VMP_DMA_DEFAULT ? vmp_app.cfg.dma : spec->dma;
	sp->nb_qp = (uint16_t)spec->queues;
	place(sp);
	if (sp->dma != VMP_DMA_NONE && sp->shared_rx) {
		snprintf(err, errlen,
			 "port %u: dma '%s' needs queues >= datapath lcores "
			 "(%u), got %u",
			 id, vmp_dma_kind_name(sp->dma), vmp_sw.nb_dp,
			 sp->nb_qp);
		return -EINVAL;
	}
	return vhost_create(sp, id, err, errlen);
}

static void
eth_free(struct vmp_sw_port *sp)
{
	rte_eth_dev_stop(sp->eth_port);
	rte_eth_dev_close(sp->eth_port);
	rte_vdev_uninit(sp->eth_name);
}

int
__vmp_switch_port_add(unsigned int id, const struct vmp_vhost_spec *spec,
		      const char *ethdev, char *err, size_t errlen)
{
	struct vmp_sw_port *sp;
	int rc;

	if (vmp_sw.nb_dp == 0) {
		snprintf(err, errlen, "no datapath lcore: ports refused");
		return -ENODEV;
	}
	sp = rte_zmalloc_socket("vmp_port", sizeof(*sp), RTE_CACHE_LINE_SIZE,
				vmp_sw.socket);
	if (sp == NULL) {
		snprintf(err, errlen, "port %u: out of memory", id);
		return -ENOMEM;
	}
	sp->mp = pool_take(id, err, errlen);
	if (sp->mp == NULL) {
		rte_free(sp);
		return -ENOMEM;
	}
	rc = port_build(sp, id, spec, ethdev, err, errlen);
	if (rc < 0)
		goto out_free;
	/* no lcore sleeps from here: its waker gets the new vrings */
	vmp_idle_hold(true);
	rc = wait_quiescent();
	if (rc == 0)
		rc = vmp_idle_port_attach(sp);
	if (rc < 0) {
		snprintf(err, errlen,
			 "port %u: cannot attach its queues to "
			 "the datapath lcores' wakers: %s",
			 id, strerror(-rc));
		goto out_unhold;
	}
	counters_reset(id);
	sp->state = VMP_SW_PORT_ACTIVE;
	vmp_switch_lock();
	vmp_sw.port[id] = sp;
	vmp_sw.nb_ports++;
	vmp_switch_unlock();
	/* published even if the old view's grace period times out */
	rc = __vmp_switch_view_publish(-1);
	if (rc == -ENOMEM) { /* not published: nobody saw it */
		snprintf(err, errlen, "port %u: out of memory", id);
		vmp_switch_lock();
		vmp_sw.port[id] = NULL;
		vmp_sw.nb_ports--;
		vmp_switch_unlock();
		goto out_unhold;
	}
	vmp_idle_hold(false);
	return 0;

out_unhold:
	vmp_idle_port_detach(sp);
	vmp_idle_hold(false);
	if (sp->is_eth)
		eth_free(sp);
	else
		vmp_vnet_port_destroy(sp->vp);
out_free:
	rte_free(sp);
	pool_put(id);
	return rc;
}

/* Destroy an unpublished vhost port; copies in flight are drained by
 * their owning lcores, which poll the port again (not as a destination)
 * between attempts. */
static int
vhost_destroy(struct vmp_sw_port *sp, unsigned int id)
{
	unsigned int i;
	int rc = -EBUSY;

	for (i = 0; i < DEL_ATTEMPTS; i++) {
		rc = vmp_vnet_port_destroy(sp->vp);
		if (rc != -EBUSY)
			break;
		if (__vmp_switch_view_publish((int)id) < 0)
			break;
		rte_delay_us_sleep(DEL_DRAIN_MS * 1000);
		if (__vmp_switch_view_publish(-1) < 0)
			break;
	}
	return rc;
}

int
__vmp_switch_port_del(unsigned int id, char *err, size_t errlen)
{
	struct vmp_sw_port *sp = vmp_sw.port != NULL && id < vmp_sw.max_ports
					 ? vmp_sw.port[id]
					 : NULL;
	int rc;

	if (sp == NULL) {
		snprintf(err, errlen, "port %u does not exist", id);
		return -ENOENT;
	}
	vmp_idle_hold(true);
	vmp_switch_lock();
	sp->state = VMP_SW_PORT_DELETING; /* ACTIVE->DELETING: no reader */
	vmp_switch_unlock();
	/* out of the view; a retry after a refusal waits again */
	rc = __vmp_switch_view_publish(-1);
	if (rc < 0) {
		snprintf(err, errlen,
			 "port %u: a datapath lcore is stuck: "
			 "kept unpublished, retry",
			 id);
		goto out;
	}
	vmp_idle_port_detach(sp);
	/* no lcore polls or sends to it any more: the vdev may go */
	if (sp->is_eth)
		eth_free(sp);
	rc = sp->is_eth ? 0 : vhost_destroy(sp, id);
	if (rc < 0) {
		snprintf(err, errlen,
			 "port %u: %s: kept unpublished, retry "
			 "port_del",
			 id,
			 rc == -EBUSY ? "DMA copies or rte_vhost still busy"
				      : strerror(-rc));
		goto out;
	}
	__vmp_switch_mac_flush(id);
	vmp_switch_lock();
	vmp_sw.port[id] = NULL; /* DELETING->FREE */
	vmp_sw.nb_ports--;
	vmp_switch_unlock();
	poison_free(sp, sizeof(*sp));
	pool_put(id);
out:
	vmp_idle_hold(false);
	return rc;
}
