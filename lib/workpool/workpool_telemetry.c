/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Registry of live pools (unique names) and their telemetry commands:
 *   /vmpath/workpool/list             array of pool names
 *   /vmpath/workpool/stats,<name>     counters of one pool, per worker
 * The registry lock is held while a telemetry callback reads a pool, and
 * vmp_pool_destroy() unregisters (under the lock) before freeing, so the
 * telemetry thread never reads a freed pool.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <rte_telemetry.h>

#include "workpool_pvt.h"

#define WP_REGISTRY_MAX 64

static pthread_mutex_t wp_registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vmp_pool *wp_registry[WP_REGISTRY_MAX];

static struct vmp_pool *
wp_lookup_locked(const char *name)
{
	unsigned int i;

	for (i = 0; i < WP_REGISTRY_MAX; i++)
		if (wp_registry[i] != NULL &&
		    strcmp(wp_registry[i]->name, name) == 0)
			return wp_registry[i];
	return NULL;
}

int
__vmp_pool_register(struct vmp_pool *pool)
{
	unsigned int i;
	int rc = -ENOSPC;

	pthread_mutex_lock(&wp_registry_lock);
	if (wp_lookup_locked(pool->name) != NULL) {
		WP_LOG(ERR, "create: a pool named \"%s\" exists", pool->name);
		rc = -EEXIST;
		goto out;
	}
	for (i = 0; i < WP_REGISTRY_MAX; i++) {
		if (wp_registry[i] == NULL) {
			wp_registry[i] = pool;
			rc = 0;
			break;
		}
	}
	if (rc != 0)
		WP_LOG(ERR, "create: more than %u live pools", WP_REGISTRY_MAX);
out:
	pthread_mutex_unlock(&wp_registry_lock);
	return rc;
}

void
__vmp_pool_unregister(struct vmp_pool *pool)
{
	unsigned int i;

	pthread_mutex_lock(&wp_registry_lock);
	for (i = 0; i < WP_REGISTRY_MAX; i++)
		if (wp_registry[i] == pool)
			wp_registry[i] = NULL;
	pthread_mutex_unlock(&wp_registry_lock);
}

static int
tel_list(const char *cmd __rte_unused, const char *params __rte_unused,
	 struct rte_tel_data *d)
{
	unsigned int i;

	rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
	pthread_mutex_lock(&wp_registry_lock);
	for (i = 0; i < WP_REGISTRY_MAX; i++)
		if (wp_registry[i] != NULL)
			rte_tel_data_add_array_string(d, wp_registry[i]->name);
	pthread_mutex_unlock(&wp_registry_lock);
	return 0;
}

static int
tel_stats(const char *cmd __rte_unused, const char *params,
	  struct rte_tel_data *d)
{
	static struct vmp_pool_stats s; /* big: not on the stack; under lock */
	struct vmp_pool *pool;
	unsigned int i;
	int rc = 0;

	if (params == NULL || params[0] == '\0')
		return -EINVAL;
	pthread_mutex_lock(&wp_registry_lock);
	pool = wp_lookup_locked(params);
	if (pool == NULL) {
		rc = -ENOENT;
		goto out;
	}
	vmp_pool_stats_get(pool, &s);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "name", pool->name);
	rte_tel_data_add_dict_string(
		d, "dispatch",
		pool->p.dispatch == VMP_POOL_DISPATCH_ROUND_ROBIN
			? "round-robin"
			: "least-loaded");
	rte_tel_data_add_dict_u64(d, "nb_workers", s.nb_workers);
	rte_tel_data_add_dict_u64(d, "ring_size", s.ring_size);
	rte_tel_data_add_dict_u64(d, "spin_polls", pool->p.spin_polls);
	rte_tel_data_add_dict_u64(d, "tsc_hz", s.tsc_hz);
	rte_tel_data_add_dict_u64(d, "submitted", s.submitted);
	rte_tel_data_add_dict_u64(d, "completed", s.completed);
	rte_tel_data_add_dict_u64(d, "submit_full", s.submit_full);
	rte_tel_data_add_dict_u64(d, "kicks", s.kicks);
	rte_tel_data_add_dict_u64(d, "in_flight", s.in_flight);
	for (i = 0; i < s.nb_workers; i++) {
		struct rte_tel_data *w = rte_tel_data_alloc();
		char key[16];

		if (w == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		rte_tel_data_start_dict(w);
		rte_tel_data_add_dict_u64(w, "lcore", s.worker[i].lcore_id);
		rte_tel_data_add_dict_u64(w, "handled", s.worker[i].handled);
		rte_tel_data_add_dict_u64(w, "busy_cycles",
					  s.worker[i].busy_cycles);
		rte_tel_data_add_dict_u64(w, "halts", s.worker[i].halts);
		rte_tel_data_add_dict_u64(w, "wakes", s.worker[i].wakes);
		snprintf(key, sizeof(key), "worker%u", i);
		rte_tel_data_add_dict_container(d, key, w, 0);
	}
out:
	pthread_mutex_unlock(&wp_registry_lock);
	return rc;
}

RTE_INIT(vmp_workpool_telemetry_init)
{
	rte_telemetry_register_cmd("/vmpath/workpool/list", tel_list,
				   "Live work pools. No parameters");
	rte_telemetry_register_cmd(
		"/vmpath/workpool/stats", tel_stats,
		"Counters of a work pool. Parameters: pool name");
}
