/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dma_swdma engines: one rte_service per engine, their placement on service
 * lcores, start/quiesce, and the rte_pmd_swdma_* helpers.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_launch.h>
#include <rte_malloc.h>
#include <rte_pause.h>
#include <rte_service.h>
#include <rte_service_component.h>

#include "rte_pmd_swdma.h"
#include "swdma_pvt.h"

#define SWDMA_QUIESCE_MS 5000

/* Devices of this driver, for the rte_pmd_swdma_* lookups (control path). */
static struct swdma_dev *swdma_registry;
/* What this driver did to lcores (made them service lcores, started them)
 * and how many of its devices map an engine there; undone by the last. */
static uint64_t drv_added[RTE_MAX_LCORE / 64];
static uint64_t drv_started[RTE_MAX_LCORE / 64];
static uint16_t lcore_users[RTE_MAX_LCORE];

void
swdma_registry_add(struct swdma_dev *sd)
{
	sd->next = swdma_registry;
	swdma_registry = sd;
}

void
swdma_registry_del(struct swdma_dev *sd)
{
	struct swdma_dev **pp;

	for (pp = &swdma_registry; *pp != NULL; pp = &(*pp)->next)
		if (*pp == sd) {
			*pp = sd->next;
			return;
		}
}

static struct swdma_dev *
registry_find(int16_t dev_id)
{
	struct swdma_dev *sd;

	for (sd = swdma_registry; sd != NULL; sd = sd->next)
		if (sd->dev_id == dev_id)
			return sd;
	return NULL;
}

static inline void
bit_set(uint64_t *m, unsigned int i)
{
	m[i / 64] |= UINT64_C(1) << (i % 64);
}

static inline bool
bit_test(const uint64_t *m, unsigned int i)
{
	return (m[i / 64] >> (i % 64)) & 1;
}

static inline void
bit_clear(uint64_t *m, unsigned int i)
{
	m[i / 64] &= ~(UINT64_C(1) << (i % 64));
}

int
swdma_engines_create(struct swdma_dev *sd)
{
	struct rte_service_spec spec;
	unsigned int i;
	int rc;

	for (i = 0; i < sd->p.nb_engines; i++) {
		struct swdma_engine *e;

		e = rte_zmalloc_socket("swdma_engine", sizeof(*e),
				       RTE_CACHE_LINE_SIZE, sd->socket);
		if (e == NULL) {
			SWDMA_LOG(ERR, "%s: no memory for engine %u", sd->name,
				  i);
			return -ENOMEM;
		}
		e->batch = sd->p.batch;
		e->idle_us = sd->p.idle_us;
		e->index = (uint16_t)i;
		sd->engines[i] = e;

		memset(&spec, 0, sizeof(spec));
		snprintf(spec.name, sizeof(spec.name), "swdma%d_e%u",
			 sd->dev_id, i);
		spec.callback = swdma_engine_run;
		spec.callback_userdata = e;
		spec.socket_id = sd->socket;
		rc = rte_service_component_register(&spec, &e->service_id);
		if (rc != 0) {
			SWDMA_LOG(ERR, "%s: cannot register service %s: %s",
				  sd->name, spec.name, rte_strerror(-rc));
			return rc;
		}
		e->registered = true;
		rte_service_component_runstate_set(e->service_id, 1);
	}
	return 0;
}

/* Make @p lcore a service lcore we may use; remember what we changed. */
static int
lcore_claim(struct swdma_dev *sd, unsigned int lcore)
{
	int rc;

	if (lcore < RTE_MAX_LCORE && rte_eal_lcore_role(lcore) == ROLE_SERVICE)
		return 0;
	if (lcore >= RTE_MAX_LCORE || !rte_lcore_is_enabled(lcore)) {
		SWDMA_LOG(ERR, "%s: lcore %u is not an enabled EAL lcore",
			  sd->name, lcore);
		return -EINVAL;
	}
	if (lcore == rte_get_main_lcore()) {
		SWDMA_LOG(ERR, "%s: lcore %u is the main lcore", sd->name,
			  lcore);
		return -EINVAL;
	}
	switch (rte_eal_lcore_role(lcore)) {
	case ROLE_RTE:
		if (rte_eal_get_lcore_state(lcore) != WAIT) {
			SWDMA_LOG(ERR, "%s: lcore %u is busy", sd->name, lcore);
			return -EBUSY;
		}
		rc = rte_service_lcore_add(lcore);
		if (rc != 0 && rc != -EALREADY) {
			SWDMA_LOG(ERR, "%s: lcore %u: service_lcore_add: %d",
				  sd->name, lcore, rc);
			return rc;
		}
		bit_set(drv_added, lcore);
		return 0;
	default:
		SWDMA_LOG(ERR, "%s: lcore %u is not an EAL lcore", sd->name,
			  lcore);
		return -EINVAL;
	}
}

int
swdma_engine_map_lcore(struct swdma_dev *sd, unsigned int i, unsigned int lcore)
{
	struct swdma_engine *e = sd->engines[i];
	int rc;

	rc = lcore_claim(sd, lcore);
	if (rc != 0)
		return rc;
	rc = rte_service_map_lcore_set(e->service_id, lcore, 1);
	if (rc == 0)
		rc = rte_service_runstate_set(e->service_id, 1);
	if (rc != 0) {
		SWDMA_LOG(ERR, "%s: cannot map engine %u to lcore %u: %d",
			  sd->name, i, lcore, rc);
		return rc;
	}
	if (!bit_test(sd->lcores_used, lcore)) {
		bit_set(sd->lcores_used, lcore);
		lcore_users[lcore]++;
	}
	rc = rte_service_lcore_start(lcore);
	if (rc == 0)
		bit_set(drv_started, lcore);
	else if (rc != -EALREADY) {
		SWDMA_LOG(ERR, "%s: cannot start service lcore %u: %d",
			  sd->name, lcore, rc);
		return rc;
	}
	SWDMA_LOG(DEBUG, "%s: engine %u (service %u) on lcore %u", sd->name, i,
		  e->service_id, lcore);
	return 0;
}

bool
swdma_engines_serviced(const struct swdma_dev *sd)
{
	unsigned int i;

	for (i = 0; i < sd->p.nb_engines; i++)
		if (rte_service_runstate_get(sd->engines[i]->service_id) != 1)
			return false;
	return true;
}

/* Device stopped: hand each engine its vchans, then let it run. */
void
swdma_engines_go(struct swdma_dev *sd)
{
	unsigned int i, v;

	for (i = 0; i < sd->p.nb_engines; i++)
		sd->engines[i]->nb_vchans = 0;
	for (v = 0; v < sd->nb_vchans; v++) {
		struct swdma_engine *e = sd->engines[sd->vchans[v]->engine];

		e->vchans[e->nb_vchans++] = sd->vchans[v];
	}
	for (i = 0; i < sd->p.nb_engines; i++)
		/* Q1: seq_cst store, like the one quiesce does */
		__atomic_store_n(&sd->engines[i]->running, 1, __ATOMIC_SEQ_CST);
}

/* After this, no engine callback touches a vchan until swdma_engines_go. */
int
swdma_engines_quiesce(struct swdma_dev *sd)
{
	uint64_t hz = rte_get_timer_hz();
	unsigned int i;
	int rc = 0;

	for (i = 0; i < sd->p.nb_engines; i++) {
		struct swdma_engine *e = sd->engines[i];
		uint64_t end =
			rte_get_timer_cycles() + hz * SWDMA_QUIESCE_MS / 1000;
		uint32_t seq;

		if (e == NULL)
			continue;
		/* Q1: store running = 0, then load seq, both seq_cst: pairs
		 * with the callback's seq++ then load of running */
		__atomic_store_n(&e->running, 0, __ATOMIC_SEQ_CST);
		seq = __atomic_load_n(&e->seq, __ATOMIC_SEQ_CST);
		if ((seq & 1) == 0)
			continue;
		/* inside a pass: acquire pairs with the callback's release
		 * increment on the way out */
		while (__atomic_load_n(&e->seq, __ATOMIC_ACQUIRE) == seq) {
			if (rte_get_timer_cycles() > end) {
				SWDMA_LOG(ERR,
					  "%s: engine %u still busy "
					  "after %u ms",
					  sd->name, i, SWDMA_QUIESCE_MS);
				rc = -ETIMEDOUT;
				break;
			}
			rte_pause();
		}
	}
	return rc;
}

/*
 * Close: stop the services, give back the lcores, unregister. DPDK 22.11's
 * rte_service_component_unregister() does not wait for service lcores that
 * already decided to run the service, so first: runstates off, then wait
 * until no lcore may still be in (or about to enter) the callback, stopping
 * outright the service lcores this driver started.
 */
void
swdma_engines_destroy(struct swdma_dev *sd)
{
	uint64_t end = rte_get_timer_cycles() + rte_get_timer_hz();
	unsigned int i, l;

	for (i = 0; i < sd->p.nb_engines; i++) {
		struct swdma_engine *e = sd->engines[i];

		if (e == NULL || !e->registered)
			continue;
		__atomic_store_n(&e->running, 0, __ATOMIC_SEQ_CST);
		rte_service_component_runstate_set(e->service_id, 0);
		rte_service_runstate_set(e->service_id, 0);
		/* each mapped lcore clears its flag when it sees runstate 0 */
		while (rte_service_may_be_active(e->service_id) == 1 &&
		       rte_get_timer_cycles() < end)
			rte_pause();
		for (l = 0; l < RTE_MAX_LCORE; l++)
			if (rte_eal_lcore_role(l) == ROLE_SERVICE)
				rte_service_map_lcore_set(e->service_id, l, 0);
	}
	for (l = 0; l < RTE_MAX_LCORE; l++) {
		if (!bit_test(sd->lcores_used, l))
			continue;
		bit_clear(sd->lcores_used, l);
		if (--lcore_users[l] > 0)
			continue; /* another device of ours still runs there */
		if (!bit_test(drv_started, l) && !bit_test(drv_added, l))
			continue; /* the application's lcore: leave it be */
		if (rte_service_lcore_count_services(l) > 0)
			continue; /* someone else's service runs there */
		/* the runner returns: nothing of ours can run there */
		if (rte_service_lcore_stop(l) == 0)
			rte_eal_wait_lcore(l);
		bit_clear(drv_started, l);
		if (bit_test(drv_added, l) && rte_service_lcore_del(l) == 0)
			bit_clear(drv_added, l);
	}
	for (i = 0; i < sd->p.nb_engines; i++) {
		struct swdma_engine *e = sd->engines[i];

		if (e == NULL || !e->registered)
			continue;
		rte_service_component_unregister(e->service_id);
		e->registered = false;
		/* e itself stays allocated: see struct swdma_engine */
	}
}

int
rte_pmd_swdma_service_lcore_set(int16_t dev_id, unsigned int lcore_id)
{
	struct swdma_dev *sd = registry_find(dev_id);
	unsigned int i;
	int rc;

	if (sd == NULL)
		return -ENODEV;
	for (i = 0; i < sd->p.nb_engines; i++) {
		rc = swdma_engine_map_lcore(sd, i, lcore_id);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int
rte_pmd_swdma_service_id_get(int16_t dev_id, unsigned int engine,
			     uint32_t *service_id)
{
	struct swdma_dev *sd = registry_find(dev_id);

	if (sd == NULL)
		return -ENODEV;
	if (service_id == NULL)
		return -EINVAL;
	if (engine >= sd->p.nb_engines)
		return -ENOENT;
	*service_id = sd->engines[engine]->service_id;
	return 0;
}

int
rte_pmd_swdma_stall_set(int16_t dev_id, int on)
{
	struct swdma_dev *sd = registry_find(dev_id);
	uint16_t v;

	if (sd == NULL)
		return -ENODEV;
	sd->p.stall = on ? 1 : 0;
	for (v = 0; v < SWDMA_MAX_VCHANS; v++) {
		struct swdma_vchan *vc = sd->vchans[v];

		if (vc == NULL)
			continue;
		/* relaxed: a flag, see swdma_vchan.faults */
		if (on)
			__atomic_fetch_or(&vc->faults, SWDMA_FAULT_STALL,
					  __ATOMIC_RELAXED);
		else
			__atomic_fetch_and(&vc->faults, ~SWDMA_FAULT_STALL,
					   __ATOMIC_RELAXED);
	}
	return 0;
}
