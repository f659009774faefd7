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
 *   T1' set our bit in the halted set      U2 compiler barrier only
 *      S1 node.state = HALTED (xchg)       U3 if l->halted != 0 (load-acquire)
 *   T2 l->halted++          (seq_cst RMW)     K1 find node {l, t} among the
 *   T3 membarrier()                              nodes of the halted set
 *   T4 if owner == t: undo, go                K2 xchg state -> KICKED;
 *   S2 futex wait while state == HALTED          if it was HALTED: futex wake
 *   T5 halted--, node.lock = NULL, clear our bit in the halted set
 *
 * T3 pairs with U2: membarrier() makes every running thread execute a full
 * barrier, so U1/U3 act as if fenced; either T4 sees U1 or U3 sees T2 (then
 * K1 sees T1 and T1' because T2 is ordered after them and U3 is an acquire).
 *
 * The halted set (T1') is a bitmap over every lcore id, not the EAL lcore
 * list: a thread registered with rte_thread_register() or a service lcore
 * has an lcore id and waits here like an EAL lcore, and a K1 that only
 * looked at EAL lcores would never kick it (a lost wake-up). The set also
 * keeps K1 to the lcores that are halted rather than a walk of every node.
 * The model tests/pvlock/pvlock_halt.pml checks this, and that dropping T3,
 * T4, or T1' (or doing T1' after T2) loses a wake-up.
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

/* The halted set: bit lc set from T1' to T5 while lcore lc halts on (or is
 * about to halt on) some ticket lock. Any lcore id: EAL, registered non-EAL
 * threads and service lcores alike.
 */
#define HSET_WORDS ((RTE_MAX_LCORE + 63) / 64)
static uint64_t halted_set[HSET_WORDS];

static inline void
hset_set(unsigned int lc)
{
	/* T1': seq_cst RMW, ordered before S1 and T2 (U3 then K1 see it) */
	__atomic_fetch_or(&halted_set[lc / 64], 1ull << (lc % 64),
			  __ATOMIC_SEQ_CST);
}

static inline void
hset_clear(unsigned int lc)
{
	/* T5: after the node no longer names the lock; a K1 that still sees
	 * the bit finds node.lock != l, or kicks a running node (harmless:
	 * its next S1 overwrites the word)
	 */
	__atomic_fetch_and(&halted_set[lc / 64], ~(1ull << (lc % 64)),
			   __ATOMIC_RELEASE);
}

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
	hset_set(lc);						      /* T1' */
	__atomic_exchange_n(&n->state, PVN_HALTED, __ATOMIC_SEQ_CST); /* S1 */
	__atomic_fetch_add(&l->halted, 1, __ATOMIC_SEQ_CST);	      /* T2 */
	__vmp_pvlock_membarrier();				      /* T3 */
	if (served(l, t)) {					      /* T4 */
		__atomic_store_n(&n->state, PVN_RUNNING, __ATOMIC_RELAXED);
		__atomic_fetch_sub(&l->halted, 1, __ATOMIC_RELAXED);
		__atomic_store_n(&n->lock, NULL, __ATOMIC_RELAXED);
		hset_clear(lc); /* T5 */
		return 1;
	}
	/* "head": next in line, only the holder runs before it */
	head = __atomic_load_n(&l->owner, __ATOMIC_RELAXED) + 1 == t;
	__vmp_pvlock_count(VMP_PVLOCK_TICKET,
			   head ? CNT_HALT_HEAD : CNT_HALT_WAITER, 1);
	__vmp_pvlock_halt(VMP_PVLOCK_TICKET, &n->state, &n->kick_tsc); /* S2 */
	__atomic_fetch_sub(&l->halted, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&n->lock, NULL, __ATOMIC_RELAXED);
	hset_clear(lc); /* T5 */
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
	unsigned int w, lc;
	uint64_t bits;

	/* K1: the waiter holding ticket t, if halted, among the lcores of
	 * the halted set; others stay halted until their own turn comes.
	 * Acquire pairs with T1' (U3 already ordered us after T2).
	 */
	for (w = 0; w < HSET_WORDS; w++) {
		bits = __atomic_load_n(&halted_set[w], __ATOMIC_ACQUIRE);
		while (bits != 0) {
			struct ticket_node *n;

			lc = w * 64 + (unsigned int)__builtin_ctzll(bits);
			bits &= bits - 1;
			n = &tnodes[lc];
			if (__atomic_load_n(&n->lock, __ATOMIC_RELAXED) == l &&
			    __atomic_load_n(&n->ticket, __ATOMIC_RELAXED) ==
				    t) {
				__vmp_pvlock_kick(VMP_PVLOCK_TICKET, &n->state,
						  &n->kick_tsc); /* K2 */
				return;
			}
		}
	}
}
