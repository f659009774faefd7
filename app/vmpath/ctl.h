/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VMPATH_CTL_H
#define VMPATH_CTL_H

/**
 * @file
 * The one owner of every port mutation (ctl.c): startup configuration, the
 * vmpath> prompt and the control socket all add and remove ports through
 * these functions, on the main lcore only, so no two changes ever run at
 * once. Application code, not a library API.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "params.h"

/** What a port is made of (configuration; its state lives in switch.h). */
struct vmp_port_spec {
	bool is_eth;		     /**< ethdev (vdev) port, else vhost-user */
	struct vmp_vhost_spec vhost; /**< vhost-user: path, mode, queues... */
	char ethdev[256];	     /**< ethdev: vdev "name,args" */
	bool has_mac;		     /**< mac: a static MAC table entry */
	uint8_t mac[6];
};

/**
 * Add a port: create it, place its queue pairs, publish it to the datapath.
 *
 * @return the new port id (>= 0), or a negative errno with @p err naming
 *   the bad value: -EPERM (not the main lcore), -ENOSPC (--max-ports
 *   reached), -EEXIST (path or ethdev name already used), -EINVAL (bad
 *   spec, an ethdev name that is not a net_ vdev), -ENODEV (no datapath
 *   lcore or DMA engine, no such ethdev driver or devargs it refused),
 *   -ENOMEM, -EIO.
 */
int vmp_ctl_port_add(const struct vmp_port_spec *spec, char *err,
		     size_t errlen);

/**
 * Remove port @p id (of either kind) once no datapath lcore uses it; its
 * MAC entries go; an ethdev port's vdev is closed and uninitialised.
 *
 * @return 0, or a negative errno with @p err set: -EPERM (not the main
 *   lcore), -ENOENT (no such port), -EBUSY (DMA copies still in flight
 *   after the bounded retries: the port stays unpublished, call again),
 *   -ETIMEDOUT (a datapath lcore is stuck).
 */
int vmp_ctl_port_del(unsigned int id, char *err, size_t errlen);

/**
 * vmp_ctl_port_del() of an ethdev port only.
 *
 * @return as vmp_ctl_port_del(), and -EINVAL (port @p id is a vhost-user
 *   port).
 */
int vmp_ctl_ethdev_del(unsigned int id, char *err, size_t errlen);

/** The ports of the command line (--vhost, --ethdev), through
 * vmp_ctl_port_add(). @return 0 or the first failure's -errno. */
int vmp_ctl_startup(char *err, size_t errlen);

/** Parse "aa:bb:cc:dd:ee:ff". @return 0 or -EINVAL. */
int vmp_ctl_parse_mac(const char *s, uint8_t mac[6]);

/* ctl_sock.c: the control socket (docs/control.md) */
/** Listen on cfg.ctl_path. @return 0, 1 (skipped: default path served by
 * another process), or -errno. */
int vmp_ctl_sock_open(void);
/** Serve ready clients (and the prompt on stdin with -i); waits at most
 * @p timeout_ms. */
void vmp_ctl_sock_poll(int timeout_ms);
void vmp_ctl_sock_close(void);

/* ctl_rpc.c: JSON-RPC 2.0 error codes (the spec's, then ours) */
#define VMP_RPC_PARSE_ERROR (-32700)
#define VMP_RPC_INVALID_REQUEST (-32600)
#define VMP_RPC_METHOD_NOT_FOUND (-32601)
#define VMP_RPC_INVALID_PARAMS (-32602)
#define VMP_RPC_FAILED (-32000) /**< the method failed: data.errno says why */

/**
 * Answer one JSON-RPC 2.0 request line of @p len bytes.
 * @return a malloc'd response line without its newline but with a byte of
 *   room for one, or NULL (a notification, or out of memory).
 */
char *vmp_ctl_rpc_handle(const char *line, size_t len);
/** An error response with a null id (the request could not be read). */
char *vmp_ctl_rpc_error(int code, const char *msg);

#endif /* VMPATH_CTL_H */
