/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * JSON-RPC 2.0 methods of the control socket (docs/control.md), parsed with
 * jansson. A request is validated like guest input: every parameter is
 * checked for presence, type and range, unknown ones are refused, and an
 * error message names the bad value. Runs on the main lcore (ctl_sock.c).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mempool.h>
#include <rte_version.h>

#include <vmp_common.h>

#include "ctl.h"
#include "ctl_rpc_pvt.h"
#include "switch.h"
#include "vmpath.h"

json_t *
fail(struct rpc_err *e, int code, const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return NULL;
}

/* Refuse parameters a method does not know (a typo must not pass). */
bool
params_known(json_t *params, const char *const *known, struct rpc_err *e)
{
	const char *key;
	json_t *v;
	unsigned int i;

	json_object_foreach(params, key, v)
	{
		for (i = 0; known[i] != NULL && strcmp(known[i], key); i++)
			;
		if (known[i] == NULL) {
			fail(e, VMP_RPC_INVALID_PARAMS,
			     "unknown parameter '%s'", key);
			return false;
		}
	}
	return true;
}

/* params.@key: an integer in [min, max]; @def if absent and @def >= 0. */
bool
param_uint(json_t *params, const char *key, long long min, long long max,
	   long long def, unsigned int *out, struct rpc_err *e)
{
	json_t *v = json_object_get(params, key);
	long long x;

	if (v == NULL && def >= 0) {
		*out = (unsigned int)def;
		return true;
	}
	if (v == NULL) {
		fail(e, VMP_RPC_INVALID_PARAMS, "missing parameter '%s'", key);
		return false;
	}
	if (!json_is_integer(v)) {
		char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);

		fail(e, VMP_RPC_INVALID_PARAMS,
		     "'%s' must be an integer %lld..%lld, got %.64s", key, min,
		     max, s != NULL ? s : "?");
		free(s);
		return false;
	}
	x = json_integer_value(v);
	if (x < min || x > max) {
		fail(e, VMP_RPC_INVALID_PARAMS,
		     "'%s' %lld out of range %lld..%lld", key, x, min, max);
		return false;
	}
	*out = (unsigned int)x;
	return true;
}

bool
param_bool(json_t *params, const char *key, bool *out, struct rpc_err *e)
{
	json_t *v = json_object_get(params, key);

	if (v == NULL)
		return true; /* keeps the default */
	if (!json_is_boolean(v)) {
		fail(e, VMP_RPC_INVALID_PARAMS, "'%s' must be true or false",
		     key);
		return false;
	}
	*out = json_is_true(v);
	return true;
}

/* params.@key: a string; NULL in *@out if absent and !@required. */
bool
param_str(json_t *params, const char *key, bool required, const char **out,
	  struct rpc_err *e)
{
	json_t *v = json_object_get(params, key);

	*out = NULL;
	if (v == NULL && !required)
		return true;
	if (v == NULL) {
		fail(e, VMP_RPC_INVALID_PARAMS, "missing parameter '%s'", key);
		return false;
	}
	if (!json_is_string(v)) {
		fail(e, VMP_RPC_INVALID_PARAMS, "'%s' must be a string", key);
		return false;
	}
	*out = json_string_value(v);
	return true;
}

/* params.mac, if there: a static MAC table entry for the new port. */
static bool
param_mac(json_t *params, struct vmp_port_spec *spec, struct rpc_err *e)
{
	const char *mac;

	if (!param_str(params, "mac", false, &mac, e))
		return false;
	if (mac == NULL)
		return true;
	if (vmp_ctl_parse_mac(mac, spec->mac) < 0) {
		fail(e, VMP_RPC_INVALID_PARAMS,
		     "mac '%.32s' is not a unicast aa:bb:cc:dd:ee:ff address",
		     mac);
		return false;
	}
	spec->has_mac = true;
	return true;
}

json_t *
method_failed(struct rpc_err *e, int rc, const char *msg)
{
	e->err = -rc;
	return fail(e, VMP_RPC_FAILED, "%s", msg);
}

static json_t *
rpc_port_add(json_t *params, struct rpc_err *e)
{
	static const char *const known[] = {"path", "client", "queues",
					    "dma",  "mac",    "csum",
					    "tso",  "mtu",    NULL};
	struct vmp_port_spec spec;
	const char *path, *dma;
	char err[256];
	int id;

	memset(&spec, 0, sizeof(spec));
	spec.vhost.dma = VMP_DMA_DEFAULT;
	spec.vhost.csum = spec.vhost.tso = true; /* as --vhost */
	if (!params_known(params, known, e) ||
	    !param_str(params, "path", true, &path, e) ||
	    !param_bool(params, "client", &spec.vhost.client, e) ||
	    !param_uint(params, "queues", 1, VMP_VNET_MAX_QP, 1,
			&spec.vhost.queues, e) ||
	    !param_str(params, "dma", false, &dma, e) ||
	    !param_mac(params, &spec, e) ||
	    !param_bool(params, "csum", &spec.vhost.csum, e) ||
	    !param_bool(params, "tso", &spec.vhost.tso, e) ||
	    !param_uint(params, "mtu", VMP_VNET_MTU_MIN, VMP_VNET_MTU_MAX, 0,
			&spec.vhost.mtu, e))
		return NULL;
	if (path[0] != '/' || strlen(path) >= sizeof(spec.vhost.path))
		return fail(e, VMP_RPC_INVALID_PARAMS,
			    "path '%.128s' is not an absolute path shorter "
			    "than %zu bytes",
			    path, sizeof(spec.vhost.path));
	strcpy(spec.vhost.path, path);
	if (dma != NULL && vmp_params_parse_dma(dma, &spec.vhost.dma) < 0)
		return fail(e, VMP_RPC_INVALID_PARAMS,
			    "dma '%.32s' is not none, sw or skeleton", dma);
	spec.vhost.tso &= spec.vhost.csum; /* TSO needs checksums */
	id = vmp_ctl_port_add(&spec, err, sizeof(err));
	if (id < 0)
		return method_failed(e, id, err);
	return json_pack("{s:i}", "id", id);
}

static json_t *
rpc_port_id(json_t *params, unsigned int *id, struct rpc_err *e)
{
	static const char *const known[] = {"id", NULL};

	if (!params_known(params, known, e) ||
	    !param_uint(params, "id", 0, VMP_MAX_PORTS - 1, -1, id, e))
		return NULL;
	return json_true();
}

static json_t *
del_with(json_t *params, struct rpc_err *e,
	 int (*del)(unsigned int id, char *err, size_t errlen))
{
	unsigned int id;
	char err[256];
	int rc;

	if (rpc_port_id(params, &id, e) == NULL)
		return NULL;
	rc = del(id, err, sizeof(err));
	if (rc < 0)
		return method_failed(e, rc, err);
	return json_pack("{s:i}", "id", id);
}

static json_t *
rpc_port_del(json_t *params, struct rpc_err *e)
{
	return del_with(params, e, vmp_ctl_port_del);
}

/* ethdev_add: a vdev ethdev port, "name[,args]" as --ethdev takes it. */
static json_t *
rpc_ethdev_add(json_t *params, struct rpc_err *e)
{
	static const char *const known[] = {"name", "args", "mac", NULL};
	struct vmp_port_spec spec;
	const char *name, *args;
	char err[256];
	int id, n;

	memset(&spec, 0, sizeof(spec));
	spec.is_eth = true;
	if (!params_known(params, known, e) ||
	    !param_str(params, "name", true, &name, e) ||
	    !param_str(params, "args", false, &args, e) ||
	    !param_mac(params, &spec, e))
		return NULL;
	if (strchr(name, ',') != NULL)
		return fail(e, VMP_RPC_INVALID_PARAMS,
			    "name '%.64s' has a ',': devargs go in 'args'",
			    name);
	n = snprintf(spec.ethdev, sizeof(spec.ethdev), "%s%s%s", name,
		     args != NULL && args[0] ? "," : "", args ? args : "");
	if (n < 0 || (size_t)n >= sizeof(spec.ethdev))
		return fail(e, VMP_RPC_INVALID_PARAMS,
			    "name and args longer than %zu bytes",
			    sizeof(spec.ethdev) - 1);
	id = vmp_ctl_port_add(&spec, err, sizeof(err));
	if (id < 0)
		return method_failed(e, id, err);
	return json_pack("{s:i}", "id", id);
}

static json_t *
rpc_ethdev_del(json_t *params, struct rpc_err *e)
{
	return del_with(params, e, vmp_ctl_ethdev_del);
}

/* [{qp, lcore}] of a port: who polls each queue pair. */
static json_t *
placement(const struct vmp_sw_port *sp)
{
	json_t *a = json_array();
	unsigned int q;

	for (q = 0; a != NULL && q < sp->nb_qp; q++)
		json_array_append_new(
			a, json_pack("{s:i,s:i}", "qp", q, "lcore",
				     vmp_switch_dp_lcore(sp->owner[q])));
	return a;
}

static json_t *
port_json(unsigned int id, const struct vmp_sw_port *sp)
{
	struct vmp_vnet_port_info in;
	const char *state =
		sp->state == VMP_SW_PORT_DELETING ? "deleting" : "up";

	if (sp->is_eth)
		return json_pack("{s:i,s:s,s:s,s:s,s:i,s:s,s:o}", "id", id,
				 "kind", "ethdev", "path", sp->spec.path,
				 "state", state, "queues", sp->nb_qp, "dma",
				 "none", "placement", placement(sp));
	memset(&in, 0, sizeof(in));
	vmp_vnet_port_info_get(sp->vp, &in);
	if (sp->state == VMP_SW_PORT_ACTIVE && !in.connected)
		state = "down";
	return json_pack("{s:i,s:s,s:s,s:s,s:s,s:i,s:s,s:b,s:I,s:I,s:I,s:o}",
			 "id", id, "kind", "vhost", "path", sp->spec.path,
			 "mode", sp->spec.client ? "client" : "server", "state",
			 state, "queues", sp->nb_qp, "dma",
			 vmp_dma_kind_name(sp->dma), "shared_rx", sp->shared_rx,
			 "features", (json_int_t)in.features, "connects",
			 (json_int_t)in.connects, "broken_vrings",
			 (json_int_t)in.broken, "placement", placement(sp));
}

static json_t *
rpc_port_list(json_t *params, struct rpc_err *e)
{
	static const char *const known[] = {NULL};
	json_t *a;
	unsigned int p;

	if (!params_known(params, known, e))
		return NULL;
	a = json_array();
	for (p = 0; a != NULL && p < vmp_sw.max_ports; p++)
		if (vmp_sw.port[p] != NULL)
			json_array_append_new(a, port_json(p, vmp_sw.port[p]));
	return a;
}

static json_t *
vring_json(const struct vmp_sw_port *sp, unsigned int v)
{
	struct vmp_vnet_vq_stats st;

	if (vmp_vnet_vq_stats_get(sp->vp, (uint16_t)v, &st) < 0)
		return json_null();
	return json_pack(
		"{s:i,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "vring", v,
		"dir", (v & 1) ? "from-vm" : "to-vm", "packets",
		(json_int_t)st.packets, "bytes", (json_int_t)st.bytes, "no_buf",
		(json_int_t)st.no_buf, "no_mbuf", (json_int_t)st.no_mbuf,
		"bad_chain", (json_int_t)st.bad_chain, "too_long",
		(json_int_t)st.too_long, "dma_copies",
		(json_int_t)st.dma_copies, "cpu_copies",
		(json_int_t)st.cpu_copies, "dma_errors",
		(json_int_t)st.dma_errors, "inflight", (json_int_t)st.inflight);
}

static json_t *
rpc_port_stats(json_t *params, struct rpc_err *e)
{
	struct vmp_sw_port_counters c;
	const struct vmp_sw_port *sp;
	unsigned int id, v;
	json_t *r, *vr;

	if (rpc_port_id(params, &id, e) == NULL)
		return NULL;
	sp = vmp_switch_port(id);
	if (sp == NULL) {
		char err[64];

		snprintf(err, sizeof(err), "port %u does not exist", id);
		return method_failed(e, -ENOENT, err);
	}
	vmp_switch_port_counters(id, &c);
	vr = json_array();
	for (v = 0; vr != NULL && !sp->is_eth && v < 2u * sp->nb_qp; v++)
		json_array_append_new(vr, vring_json(sp, v));
	r = json_pack("{s:i,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o}", "id", id,
		      "rx_pkts", (json_int_t)c.rx_pkts, "rx_bytes",
		      (json_int_t)c.rx_bytes, "tx_pkts", (json_int_t)c.tx_pkts,
		      "tx_bytes", (json_int_t)c.tx_bytes, "fwd",
		      (json_int_t)c.fwd, "drop_full", (json_int_t)c.drop_full,
		      "no_buf", (json_int_t)c.no_buf, "no_mbuf",
		      (json_int_t)c.no_mbuf, "inflight", (json_int_t)c.inflight,
		      "vrings", vr);
	return r;
}

static json_t *
rpc_version(json_t *params, struct rpc_err *e)
{
	static const char *const known[] = {NULL};

	if (!params_known(params, known, e))
		return NULL;
	return json_pack("{s:s,s:s}", "version", vmp_version(), "dpdk",
			 rte_version());
}

static json_t *
rpc_config(json_t *params, struct rpc_err *e)
{
	static const char *const known[] = {NULL};
	const struct vmp_app_config *c = &vmp_app.cfg;

	if (!params_known(params, known, e))
		return NULL;
	return json_pack(
		"{s:i,s:i,s:i,s:i,s:i,s:s,s:i,s:s,s:i,s:s}", "datapath_lcores",
		c->nb_datapath, "dma_lcores", c->nb_dma, "socket", c->socket,
		"max_ports", c->max_ports, "mbufs", c->nb_mbufs, "dma",
		vmp_dma_kind_name(c->dma), "dma_threshold", c->dma_threshold,
		"idle", c->idle_halt ? "halt" : "poll", "idle_polls",
		c->idle_polls, "ctl", c->ctl_path);
}

static json_t *
rpc_lcores(json_t *params, struct rpc_err *e)
{
	static const char *const known[] = {NULL};
	const struct vmp_sw_view *v = vmp_sw.view;
	json_t *a;
	unsigned int i;

	if (!params_known(params, known, e))
		return NULL;
	a = json_array();
	for (i = 0; a != NULL && i < vmp_app.plan.nb_entries; i++) {
		const struct vmp_plan_entry *pe = &vmp_app.plan.entries[i];
		int k = vmp_sw.dp_index[pe->lcore_id];

		json_array_append_new(
			a,
			json_pack(
				"{s:i,s:i,s:i,s:s,s:I,s:I,s:i}", "lcore",
				pe->lcore_id, "core", pe->core_id, "socket",
				pe->socket_id, "role", vmp_role_name(pe->role),
				"loops",
				(json_int_t)vmp_app.lstats[pe->lcore_id].loops,
				"busy_loops",
				(json_int_t)vmp_app.lstats[pe->lcore_id]
					.busy_loops,
				"queues_polled",
				k >= 0 && v != NULL ? v->nb_poll[k] : 0));
	}
	return a;
}

/* What the churn of ports must give back: DPDK heap and mbuf pools. */
static json_t *
rpc_memory(json_t *params, struct rpc_err *e)
{
	static const char *const known[] = {NULL};
	struct rte_malloc_socket_stats ms;
	uint64_t avail, in_use;
	unsigned int nb_pools;

	if (!params_known(params, known, e))
		return NULL;
	memset(&ms, 0, sizeof(ms));
	rte_malloc_get_socket_stats(vmp_sw.socket, &ms);
	vmp_switch_mbufs(&avail, &in_use, &nb_pools);
	return json_pack("{s:i,s:I,s:I,s:I,s:I,s:i}", "socket", vmp_sw.socket,
			 "heap_alloc_bytes", (json_int_t)ms.heap_allocsz_bytes,
			 "heap_alloc_count", (json_int_t)ms.alloc_count,
			 "mbufs_avail", (json_int_t)avail, "mbufs_in_use",
			 (json_int_t)in_use, "mbuf_pools", (int)nb_pools);
}

static json_t *
rpc_log_level(json_t *params, struct rpc_err *e)
{
	static const char *const known[] = {"type", "level", NULL};
	static const char *const names[] = {"",	      "emerg", "alert",
					    "crit",   "err",   "warning",
					    "notice", "info",  "debug"};
	const char *type, *level;
	unsigned int l;

	if (!params_known(params, known, e) ||
	    !param_str(params, "type", true, &type, e) ||
	    !param_str(params, "level", true, &level, e))
		return NULL;
	for (l = 1; l < RTE_DIM(names) && strcmp(names[l], level); l++)
		;
	if (l == RTE_DIM(names))
		return fail(e, VMP_RPC_INVALID_PARAMS,
			    "level '%.32s' is not one of emerg alert crit err "
			    "warning notice info debug",
			    level);
	if (rte_log_set_level_pattern(type, l) < 0)
		return fail(e, VMP_RPC_INVALID_PARAMS,
			    "type pattern '%.64s' refused", type);
	return json_pack("{s:s,s:s}", "type", type, "level", level);
}

static const struct {
	const char *name;
	rpc_fn_t fn;
} methods[] = {
	/* clang-format off */
	{"port_add", rpc_port_add},	{"port_del", rpc_port_del},
	{"port_list", rpc_port_list},	{"port_stats", rpc_port_stats},
	{"version", rpc_version},	{"config", rpc_config},
	{"lcores", rpc_lcores},		{"memory", rpc_memory},
	{"log_level", rpc_log_level},	{"ethdev_add", rpc_ethdev_add},
	{"ethdev_del", rpc_ethdev_del},
	{"migrate", __vmp_rpc_migrate},
	{"migrate_cancel", __vmp_rpc_migrate_cancel},
	{"migrate_info", __vmp_rpc_migrate_info},
	{"guest_info", __vmp_rpc_guest_info},
	{"guest_pause", __vmp_rpc_guest_pause},
	{"guest_resume", __vmp_rpc_guest_resume},
	{"guest_dump", __vmp_rpc_guest_dump},
	{"guest_pin", __vmp_rpc_guest_pin},
	{"guest_unpin", __vmp_rpc_guest_unpin},
	/* clang-format on */
};

/* Dump @resp with a spare byte for the framing newline. */
static char *
dump_line(json_t *resp)
{
	char *s = json_dumps(resp, JSON_COMPACT), *r;

	json_decref(resp);
	if (s == NULL)
		return NULL;
	r = realloc(s, strlen(s) + 2);
	if (r == NULL)
		free(s);
	return r;
}

static char *
error_line(json_t *id, const struct rpc_err *e)
{
	json_t *err =
		json_pack("{s:i,s:s}", "code", e->code, "message", e->msg);

	if (err != NULL && e->err)
		json_object_set_new(err, "data",
				    json_pack("{s:i,s:s}", "errno", e->err,
					      "error", strerror(e->err)));
	return dump_line(json_pack("{s:s,s:o,s:O}", "jsonrpc", "2.0", "error",
				   err, "id", id != NULL ? id : json_null()));
}

char *
vmp_ctl_rpc_error(int code, const char *msg)
{
	struct rpc_err e = {.code = code};

	snprintf(e.msg, sizeof(e.msg), "%s", msg);
	return error_line(NULL, &e);
}

static json_t *
dispatch(json_t *req, json_t **id, struct rpc_err *e)
{
	json_t *ver, *m, *params;
	unsigned int i;

	if (!json_is_object(req))
		return fail(e, VMP_RPC_INVALID_REQUEST,
			    "a request is a JSON object");
	*id = json_object_get(req, "id");
	if (*id != NULL && !json_is_string(*id) && !json_is_integer(*id) &&
	    !json_is_null(*id)) {
		*id = NULL;
		return fail(e, VMP_RPC_INVALID_REQUEST,
			    "'id' must be a string, an integer or null");
	}
	ver = json_object_get(req, "jsonrpc");
	if (!json_is_string(ver) || strcmp(json_string_value(ver), "2.0"))
		return fail(e, VMP_RPC_INVALID_REQUEST,
			    "'jsonrpc' must be \"2.0\"");
	m = json_object_get(req, "method");
	if (!json_is_string(m))
		return fail(e, VMP_RPC_INVALID_REQUEST,
			    "'method' must be a string");
	params = json_object_get(req, "params");
	if (params != NULL && !json_is_object(params))
		return fail(e, VMP_RPC_INVALID_PARAMS,
			    "'params' must be an object (named parameters)");
	for (i = 0; i < RTE_DIM(methods); i++)
		if (strcmp(methods[i].name, json_string_value(m)) == 0)
			break;
	if (i == RTE_DIM(methods))
		return fail(e, VMP_RPC_METHOD_NOT_FOUND,
			    "unknown method '%.64s'", json_string_value(m));
	if (params == NULL) {
		json_t *empty = json_object(), *r;

		if (empty == NULL)
			return fail(e, VMP_RPC_FAILED, "out of memory");
		r = methods[i].fn(empty, e);
		json_decref(empty);
		return r;
	}
	return methods[i].fn(params, e);
}

char *
vmp_ctl_rpc_handle(const char *line, size_t len)
{
	struct rpc_err e = {.code = 0};
	json_error_t jerr;
	json_t *req, *id = NULL, *res;
	char *out;

	req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (req == NULL) {
		snprintf(e.msg, sizeof(e.msg),
			 "not JSON: %.96s (line 1, column %d)", jerr.text,
			 jerr.column);
		e.code = VMP_RPC_PARSE_ERROR;
		return error_line(NULL, &e);
	}
	res = dispatch(req, &id, &e);
	if (res == NULL && e.code == 0)
		fail(&e, VMP_RPC_FAILED, "out of memory");
	/* a notification (no id) gets no answer, even an error */
	if (json_object_get(req, "id") == NULL && json_is_object(req) &&
	    e.code != VMP_RPC_INVALID_REQUEST) {
		json_decref(res);
		json_decref(req);
		return NULL;
	}
	if (res == NULL)
		out = error_line(id, &e);
	else
		out = dump_line(json_pack("{s:s,s:o,s:O}", "jsonrpc", "2.0",
					  "result", res, "id",
					  id != NULL ? id : json_null()));
	json_decref(req);
	return out;
}
