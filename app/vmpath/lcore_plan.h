/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VMPATH_LCORE_PLAN_H
#define VMPATH_LCORE_PLAN_H

/**
 * @file
 * The lcore planner: assigns EAL worker lcores to roles. A pure function of
 * (topology, request) so tests can feed it any topology, e.g. two sockets.
 *
 * Rules, in order:
 *  1. The main lcore never gets a role (it runs the prompt / stats).
 *  2. Roles are placed in priority order: datapath, DMA service, pool workers.
 *  3. A role prefers lcores on the socket of the memory it serves; it takes a
 *     lcore on another socket only when its own socket has none left (the
 *     entry is marked remote), or refuses when the request is strict.
 *  4. Among candidates on the right socket, a lcore whose physical core has no
 *     busy lcore yet comes first, so two pollers do not share a core while a
 *     free core exists.
 *  5. A plan that needs more lcores than EAL gave is refused with a message
 *     that says how many each role needs and how many there are.
 */

#include <stdbool.h>
#include <stddef.h>

#define VMP_PLAN_MAX_LCORES 256

enum vmp_role {
	VMP_ROLE_IDLE = 0, /**< worker lcore with nothing to do */
	VMP_ROLE_MAIN,     /**< the EAL main lcore */
	VMP_ROLE_DATAPATH, /**< polls ports / queues */
	VMP_ROLE_DMA,      /**< runs DMA copy services */
	VMP_ROLE_POOL,     /**< lib/workpool worker */
	VMP_ROLE_MAX,
};

/** Name of a role ("datapath", ...). */
const char *vmp_role_name(enum vmp_role role);

struct vmp_topo_lcore {
	unsigned int lcore_id;
	unsigned int core_id; /**< physical core (siblings share it) */
	int socket_id;
};

/** The lcores EAL gave us. */
struct vmp_topo {
	unsigned int main_lcore;
	unsigned int nb_lcores;
	struct vmp_topo_lcore lcores[VMP_PLAN_MAX_LCORES];
};

struct vmp_plan_req {
	struct {
		unsigned int count; /**< lcores wanted for this role */
		int socket;         /**< memory socket it serves, -1 = any */
	} role[VMP_ROLE_MAX];
	bool strict_socket; /**< refuse rather than go remote */
};

struct vmp_plan_entry {
	unsigned int lcore_id;
	unsigned int core_id;
	int socket_id;
	enum vmp_role role;
	bool remote;       /**< on another socket than its role's memory */
	bool shares_core;  /**< another busy lcore is on the same core */
};

struct vmp_plan {
	unsigned int nb_entries; /**< = topo->nb_lcores, in topo order */
	struct vmp_plan_entry entries[VMP_PLAN_MAX_LCORES];
	unsigned int nb_remote;
	unsigned int nb_shared;
};

/**
 * Compute a plan.
 *
 * @param topo  lcores, including the main one.
 * @param req   lcores wanted per role (VMP_ROLE_IDLE and _MAIN are ignored).
 * @param plan  output; valid only when 0 is returned.
 * @param err   message on failure (and a warning on success if any entry is
 *              remote or shares a core; empty otherwise).
 * @return
 *   0 on success; -ENOSPC if there are too few worker lcores; -ENODEV if
 *   strict_socket and a socket has too few; -EINVAL for a malformed topology
 *   (no lcores, main lcore absent, duplicate lcore ids).
 */
int vmp_lcore_plan(const struct vmp_topo *topo, const struct vmp_plan_req *req,
		   struct vmp_plan *plan, char *err, size_t errlen);

/** Find lcore @p lcore_id's entry, or NULL. */
const struct vmp_plan_entry *vmp_plan_lookup(const struct vmp_plan *plan,
					     unsigned int lcore_id);

#endif /* VMPATH_LCORE_PLAN_H */
