/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket's migration and guest methods: the prompt's `migrate
 * URI`, `migrate cancel`, `info migrate` and `guest info|pause|resume|dump|
 * pin|unpin` as JSON-RPC (docs/control.md). They call the same functions as
 * the prompt and telemetry (cmd_migrate.c, guest.c), which serialise the
 * migration state on their own lock.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <rte_common.h>

#include <vmp_migrate.h>

#include "ctl.h"
#include "ctl_rpc_pvt.h"
#include "guest.h"
#include "vmpath.h"

/* params.@key: an integer 0..INT64_MAX (guest offsets and lengths). */
static bool
param_u64(json_t *params, const char *key, uint64_t *out, struct rpc_err *e)
{
	json_t *v = json_object_get(params, key);

	if (v == NULL) {
		fail(e, VMP_RPC_INVALID_PARAMS, "missing parameter '%s'", key);
		return false;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		fail(e, VMP_RPC_INVALID_PARAMS, "'%s' must be an integer >= 0",
		     key);
		return false;
	}
	*out = (uint64_t)json_integer_value(v);
	return true;
}

/*
 * migrate: uri, and the --migrate-* values a run may change (QEMU's
 * migrate-set-parameters, for one migration): bandwidth MB/s, downtime ms,
 * max_rounds, timeout s, auto_converge; absent ones keep the command line's.
 */
json_t *
__vmp_rpc_migrate(json_t *params, struct rpc_err *e)
{
	static const char *const known[] = {
		"uri",	   "bandwidth",	    "downtime", "max_rounds",
		"timeout", "auto_converge", NULL};
	struct vmp_guest_config g = vmp_app.cfg.guest;
	unsigned int bw;
	const char *uri;
	char err[256];
	int rc;

	if (!params_known(params, known, e) ||
	    !param_str(params, "uri", true, &uri, e) ||
	    !param_uint(params, "bandwidth", 0, 1000000,
			(long long)(g.bandwidth / 1000000), &bw, e) ||
	    !param_uint(params, "downtime", 0, 600000, g.downtime_ms,
			&g.downtime_ms, e) ||
	    !param_uint(params, "max_rounds", 0, 100000, g.max_rounds,
			&g.max_rounds, e) ||
	    !param_uint(params, "timeout", 0, 86400, g.timeout_s, &g.timeout_s,
			e) ||
	    !param_bool(params, "auto_converge", &g.auto_converge, e))
		return NULL;
	g.bandwidth = (uint64_t)bw * 1000000;
	rc = vmp_migapp_start_cfg(uri, &g, err, sizeof(err));
	if (rc < 0)
		return method_failed(e, rc, err);
	return json_pack("{s:s,s:s}", "status", "started", "uri", uri);
}

json_t *
__vmp_rpc_migrate_cancel(json_t *params, struct rpc_err *e)
{
	static const char *const known[] = {NULL};
	int rc;

	if (!params_known(params, known, e))
		return NULL;
	rc = vmp_migapp_cancel();
	if (rc == -ENOENT)
		return method_failed(e, rc, "no migration to cancel");
	if (rc < 0)
		return method_failed(e, rc, "the migration has already ended");
	return json_pack("{s:s}", "status", "cancelling");
}

/* The counters of `info migrate` (vmp_mig_stats_print()), as numbers. */
static json_t *
stats_json(const struct vmp_mig_stats *st)
{
	const struct {
		const char *k;
		uint64_t v;
	} u[] = {
		{"total_time_ms", st->total_time_ms},
		{"setup_time_ms", st->setup_time_ms},
		{"downtime_ms", st->downtime_ms},
		{"transferred", st->transferred},
		{"remaining", st->remaining},
		{"total", st->total},
		{"duplicate", st->duplicate},
		{"normal", st->normal},
		{"normal_bytes", st->normal_bytes},
		{"dirty_sync_count", st->dirty_sync_count},
		{"page_size", VMP_MIG_PAGE_SIZE},
		{"dirty_pages_rate", st->dirty_pages_rate},
		{"pinned_pages", st->pinned_pages},
		{"throttle_pct", st->throttle_pct},
		{"rounds", st->rounds},
		{"compression_pages", st->compression_pages},
		{"compression_busy", st->compression_busy},
		{"compressed_size", st->compressed_size},
		{"raw_pages", st->raw_pages},
		{"switchover_raw_pages", st->switchover_raw_pages},
	};
	json_t *o, *w;
	unsigned int i;

	o = json_pack("{s:s,s:s,s:s,s:f,s:f,s:f,s:f}", "status",
		      vmp_mig_status_name(st->status), "role",
		      st->source ? "source" : "destination", "error", st->error,
		      "throughput_mbps", st->throughput_mbps,
		      "compression_busy_rate", st->compression_busy_rate,
		      "compression_rate", st->compression_rate,
		      "thread_cpu_pct", st->thread_cpu_pct);
	if (o == NULL)
		return NULL;
	for (i = 0; i < RTE_DIM(u); i++)
		json_object_set_new(o, u[i].k,
				    json_integer((json_int_t)u[i].v));
	/* null: no estimate yet (the prompt prints "unknown") */
	json_object_set_new(
		o, "expected_downtime_ms",
		st->expected_downtime_ms == UINT64_MAX
			? json_null()
			: json_integer((json_int_t)st->expected_downtime_ms));
	w = json_array();
	for (i = 0; w != NULL && i < st->nb_workers && i < VMP_MIG_MAX_WORKERS;
	     i++)
		json_array_append_new(
			w, json_pack("{s:i,s:f,s:f}", "lcore",
				     (int)st->worker_lcore[i], "busy_pct",
				     st->worker_busy_pct[i], "cpu_pct",
				     st->worker_cpu_pct[i]));
	json_object_set_new(o, "workers", w != NULL ? w : json_null());
	return o;
}

json_t *
__vmp_rpc_migrate_info(json_t *params, struct rpc_err *e)
{
	static const char *const known[] = {NULL};
	struct vmp_mig_stats st;

	if (!params_known(params, known, e))
		return NULL;
	if (vmp_migapp_stats(&st) < 0)
		return json_pack("{s:s}", "status", "none");
	return stats_json(&st);
}

static json_t *
guest_json(void)
{
	struct vmp_guest_state s;

	if (vmp_guest_state_get(&s) < 0)
		return NULL;
	return json_pack("{s:I,s:b,s:i,s:I,s:b,s:i,s:I}", "mem",
			 (json_int_t)s.mem, "hugepages", s.hugepages, "writers",
			 (int)s.writers, "writes", (json_int_t)s.writes,
			 "paused", s.paused, "throttle_pct", (int)s.throttle,
			 "pinned_pages", (json_int_t)s.pinned_pages);
}

static json_t *
no_guest(struct rpc_err *e)
{
	return method_failed(e, -ENODEV, "no guest (--guest-mem)");
}

json_t *
__vmp_rpc_guest_info(json_t *params, struct rpc_err *e)
{
	static const char *const known[] = {NULL};
	json_t *g;

	if (!params_known(params, known, e))
		return NULL;
	g = guest_json();
	return g != NULL ? g : no_guest(e);
}

static json_t *
guest_pause(json_t *params, struct rpc_err *e, bool pause)
{
	static const char *const known[] = {NULL};

	if (!params_known(params, known, e))
		return NULL;
	if (!vmp_guest_exists())
		return no_guest(e);
	if (vmp_migapp_guest_pause(pause) < 0)
		return method_failed(e, -EBUSY,
				     "a migration is running: it pauses and "
				     "resumes the guest itself");
	return guest_json();
}

json_t *
__vmp_rpc_guest_pause(json_t *params, struct rpc_err *e)
{
	return guest_pause(params, e, true);
}

json_t *
__vmp_rpc_guest_resume(json_t *params, struct rpc_err *e)
{
	return guest_pause(params, e, false);
}

/* A new file only: the daemon's user writes it, so nothing is overwritten. */
json_t *
__vmp_rpc_guest_dump(json_t *params, struct rpc_err *e)
{
	static const char *const known[] = {"path", NULL};
	const char *path;
	char err[320];
	int rc;

	if (!params_known(params, known, e) ||
	    !param_str(params, "path", true, &path, e))
		return NULL;
	if (path[0] != '/')
		return fail(e, VMP_RPC_INVALID_PARAMS,
			    "path '%.128s' is not absolute", path);
	rc = vmp_guest_dump_new(path);
	if (rc == -ENODEV)
		return no_guest(e);
	if (rc < 0) {
		snprintf(err, sizeof(err), "guest dump to '%.128s': %s", path,
			 strerror(-rc));
		return method_failed(e, rc, err);
	}
	return json_pack("{s:s}", "path", path);
}

static json_t *
guest_pin(json_t *params, struct rpc_err *e, bool pin)
{
	static const char *const known[] = {"off", "len", NULL};
	uint64_t off, len;
	char err[160];
	int rc;

	if (!params_known(params, known, e) ||
	    !param_u64(params, "off", &off, e) ||
	    !param_u64(params, "len", &len, e))
		return NULL;
	rc = pin ? vmp_guest_pin(off, len) : vmp_guest_unpin(off, len);
	if (rc == -ENODEV)
		return no_guest(e);
	if (rc < 0) {
		snprintf(err, sizeof(err),
			 "guest %s off %" PRIu64 " len %" PRIu64 ": %s",
			 pin ? "pin" : "unpin", off, len, strerror(-rc));
		return method_failed(e, rc, err);
	}
	return guest_json();
}

json_t *
__vmp_rpc_guest_pin(json_t *params, struct rpc_err *e)
{
	return guest_pin(params, e, true);
}

json_t *
__vmp_rpc_guest_unpin(json_t *params, struct rpc_err *e)
{
	return guest_pin(params, e, false);
}
