/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VMPATH_CTL_RPC_PVT_H
#define VMPATH_CTL_RPC_PVT_H

/*
 * Shared by the JSON-RPC method files: ctl_rpc.c (dispatch, port methods)
 * and ctl_rpc_mig.c (migration and guest methods). ctl_rpc.c defines the
 * parameter helpers under their short names; the aliases give them
 * __vmp_rpc_ link names without touching their call sites.
 */

#include <stdbool.h>

#include <jansson.h>

#define fail __vmp_rpc_fail
#define params_known __vmp_rpc_params_known
#define param_uint __vmp_rpc_param_uint
#define param_bool __vmp_rpc_param_bool
#define param_str __vmp_rpc_param_str
#define method_failed __vmp_rpc_method_failed

struct rpc_err {
	int code;
	int err; /* errno of a failed method, 0 if none */
	char msg[256];
};

typedef json_t *(*rpc_fn_t)(json_t *params, struct rpc_err *e);

/** Set @p e (code, printf-style message). @return NULL. */
json_t *fail(struct rpc_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/** Refuse a parameter not in @p known (NULL-terminated). */
bool params_known(json_t *params, const char *const *known, struct rpc_err *e);
/** params.@p key: an integer in [@p min, @p max]; @p def if absent and
 *  @p def >= 0, else required. */
bool param_uint(json_t *params, const char *key, long long min, long long max,
		long long def, unsigned int *out, struct rpc_err *e);
/** params.@p key: a boolean; *@p out unchanged if absent. */
bool param_bool(json_t *params, const char *key, bool *out, struct rpc_err *e);
/** params.@p key: a string; NULL in *@p out if absent and !@p required. */
bool param_str(json_t *params, const char *key, bool required, const char **out,
	       struct rpc_err *e);
/** A method's failure: -32000 with errno -@p rc and @p msg. @return NULL. */
json_t *method_failed(struct rpc_err *e, int rc, const char *msg);

/* ctl_rpc_mig.c: migration and guest methods (docs/control.md) */
json_t *__vmp_rpc_migrate(json_t *params, struct rpc_err *e);
json_t *__vmp_rpc_migrate_cancel(json_t *params, struct rpc_err *e);
json_t *__vmp_rpc_migrate_info(json_t *params, struct rpc_err *e);
json_t *__vmp_rpc_guest_info(json_t *params, struct rpc_err *e);
json_t *__vmp_rpc_guest_pause(json_t *params, struct rpc_err *e);
json_t *__vmp_rpc_guest_resume(json_t *params, struct rpc_err *e);
json_t *__vmp_rpc_guest_dump(json_t *params, struct rpc_err *e);
json_t *__vmp_rpc_guest_pin(json_t *params, struct rpc_err *e);
json_t *__vmp_rpc_guest_unpin(json_t *params, struct rpc_err *e);

#endif /* VMPATH_CTL_RPC_PVT_H */
