/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PV ticket lock: slow path and kick.
 *
 * Word transitions (next, owner), each 32-bit, wrapping:
 *   lock:    next t -> t+1 (fetch-add); ours when owner == t
 *   trylock: (o, o) -> (o+1, o) by CAS on next
 *   unlock:  owner o -> o+1 (store-release, pairs with the load-acquire of
 *            owner in lock / in the spin loops below)
 *
 * PV halt handshake (waiter holding ticket t, unlocker making owner t):
 *
 *   waiter                                 unlocker
 *   T1 node {lock, ticket} = {l, t}        U1 owner = t       (store-release)
 *      S1 node.state = HALTED (xchg)       U2 compiler barrier only
 *   T2 l->halted++          (seq_cst RMW)  U3 if l->halted != 0 (load-acquire)
 *   T3 membarrier()                           K1 find node {l, t} of an lcore
 *   T4 if owner == t: undo, go                K2 xchg state -> KICKED;
 *   S2 futex wait while state == HALTED          if it was HALTED: futex wake
 *
 * T3 pairs with U2: membarrier() makes every running thread execute a full
 * barrier, so U1/U3 act as if fenced; either T4 sees U1 or U3 sees T2 (then
 * K1 sees T1 because T2 is ordered after it and U3 is an acquire). The model
 * tests/pvlock/pvlock_halt.pml checks this, and that dropping T3 or T4 loses
 * a wake-up.
 */
#include <errno.h>
#include <string.h>

#include <rte_lcore.h>
#include <rte_pause.h>

#include "pvlock_pvt.h"

/* One waiting node per lcore: a thread waits on one ticket lock at a time. */
struct ticket_node {
	uint32_t state;			/* futex word, PVN_* */
	uint32_t ticket;		/* ticket awaited */
	struct vmp_pvlock_ticket *lock; /* lock awaited, NULL when not halted */
	uint64_t kick_tsc;
} __rte_cache_aligned;

static struct ticket_node tnodes[RTE_MAX_LCORE];

int
vmp_pvlock_ticket_init(struct vmp_pvlock_ticket *l, int pv, uint32_t spin)
{
	return PVLOCK_INIT(l, pv, spin, "ticket");
}

static inline int
served(struct vmp_pvlock_ticket *l, uint32_t t)
{
	/* pairs with the store-release of owner in unlock (U1) */
	return __atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) == t;
}

/* Returns 1 when owner reached t (lock ours), 0 after a halt to spin again. */
static int
ticket_halt(struct vmp_pvlock_ticket *l, uint32_t t, unsigned int lc)
{
	struct ticket_node *n = &tnodes[lc];
	int head;

	/* T1 */
	__atomic_store_n(&n->ticket, t, __ATOMIC_RELAXED);
	__atomic_store_n(&n->lock, l, __ATOMIC_RELAXED);
	__atomic_exchange_n(&n->state, PVN_HALTED, __ATOMIC_SEQ_CST); /* S1 */
	__atomic_fetch_add(&l->halted, 1, __ATOMIC_SEQ_CST);	      /* T2 */
	__vmp_pvlock_membarrier();				      /* T3 */
	if (served(l, t)) {					      /* T4 */
		__atomic_store_n(&n->state, PVN_RUNNING, __ATOMIC_RELAXED);
		__atomic_fetch_sub(&l->halted, 1, __ATOMIC_RELAXED);
		__atomic_store_n(&n->lock, NULL, __ATOMIC_RELAXED);
		return 1;
	}
	/* "head": next in line, only the holder runs before it */
	head = __atomic_load_n(&l->owner, __ATOMIC_RELAXED) + 1 == t;
	__vmp_pvlock_count(VMP_PVLOCK_TICKET,
			   head ? CNT_HALT_HEAD : CNT_HALT_WAITER, 1);
	__vmp_pvlock_halt(VMP_PVLOCK_TICKET, &n->state, &n->kick_tsc); /* S2 */
	__atomic_fetch_sub(&l->halted, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&n->lock, NULL, __ATOMIC_RELAXED);
	if (served(l, t))
		return 1;
	__vmp_pvlock_count(VMP_PVLOCK_TICKET, CNT_SPURIOUS, 1);
	return 0;
}

void
__vmp_pvlock_ticket_slow(struct vmp_pvlock_ticket *l, uint32_t t)
{
	unsigned int lc = rte_lcore_id();
	uint32_t i;

	__vmp_pvlock_count(VMP_PVLOCK_TICKET, CNT_SLOWPATH, 1);
	if (!l->pv || lc >= RTE_MAX_LCORE) {
		while (!served(l, t))
			rte_pause();
		return;
	}
	for (;;) {
		for (i = 0; i < l->spin; i++) {
			if (served(l, t))
				return;
			rte_pause();
		}
		if (ticket_halt(l, t, lc))
			return;
	}
}

void
__vmp_pvlock_ticket_kick(struct vmp_pvlock_ticket *l, uint32_t t)
{
	unsigned int lc;

	/* K1: the waiter holding ticket t, if halted; others stay halted
	 * until their own turn comes.
	 */
	RTE_LCORE_FOREACH (lc) {
		struct ticket_node *n = &tnodes[lc];

		if (__atomic_load_n(&n->lock, __ATOMIC_RELAXED) == l &&
		    __atomic_load_n(&n->ticket, __ATOMIC_RELAXED) == t) {
			__vmp_pvlock_kick(VMP_PVLOCK_TICKET, &n->state,
					  &n->kick_tsc); /* K2 */
			return;
		}
	}
}
