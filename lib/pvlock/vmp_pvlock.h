/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VMP_PVLOCK_H
#define VMP_PVLOCK_H

/**
 * @file
 * PV-style spinlocks for lcores that may be preempted (a vCPU descheduled by
 * the host, or more lcores than cores): a ticket lock and a queued spinlock
 * (Linux qspinlock style), each usable with PV off or on, chosen per lock at
 * init.
 *
 * PV off: plain spinning locks. PV on: a waiter spins up to a threshold
 * (default about VMP_PVLOCK_SPIN_NS_DEFAULT ns; the queue head spins twice as
 * long), then halts on a 32-bit futex word of its own (lib/common vmp_halt.h);
 * the unlocker kicks the waiter that must run next. A PV queued lock lets a
 * running lcore outside its queue steal the lock ahead of the queue head, up
 * to a steal budget per turn of the head (counted as "steal"); the ticket
 * lock stays strictly FIFO. docs/pvlock.md describes
 * the lock words, the halt/kick handshake and its Promela model.
 *
 * Fast paths are inline and identical for PV off and on:
 *   lock:   one atomic RMW (CAS for the queued lock, fetch-add for the ticket)
 *   unlock: one store-release, then one load of a hint word in the same cache
 *           line that is never set for a PV-off lock.
 * Everything else (counting, halting, kicking) is in the out-of-line slow
 * paths, entered only when the fast path fails.
 *
 * The lock structs are public only because the fast paths are inline: touch
 * their fields only through this API.
 *
 * Unlocking a lock the caller does not hold is undefined. A build with the
 * meson option debug_checks (VMP_DEBUG_CHECKS) records the holder and refuses
 * such an unlock: it logs, counts (vmp_pvlock_debug_bad_unlocks()) and aborts
 * unless vmp_pvlock_debug_abort_set(0) was called.
 *
 * Both locks use per-lcore waiting nodes: a waiter that halts must have an
 * lcore id (an EAL lcore, a service lcore, or a thread registered with
 * rte_thread_register()). Any other thread still gets mutual exclusion but
 * neither queues nor halts (it spins).
 */

#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_common.h>

#ifdef __cplusplus
extern "C" {
#endif

#if RTE_BYTE_ORDER != RTE_LITTLE_ENDIAN
#error "vmp_pvlock: the queued lock word layout assumes little endian"
#endif

/**
 * Default spin before a PV waiter halts, in ns: of the order of what a halt
 * and a kick cost (futex wait and wake, a membarrier), so that a waiter whose
 * holder was preempted does not spin away the core the holder needs. At the
 * first init it is converted to rte_pause() iterations by timing the pause
 * instruction, whose cost differs by ~40x between CPUs.
 */
#define VMP_PVLOCK_SPIN_NS_DEFAULT 4000

/** Upper bound of the calibrated default, iterations. */
#define VMP_PVLOCK_SPIN_MAX (1u << 14)

/**
 * PV queued lock, default steal budget: steals (lcores outside the queue
 * taking the lock ahead of the queue head, halted or running) allowed between
 * two acquisitions by the queue head. Stealing lets the lcore that just
 * released the lock take it again from its own cache, and keeps an
 * oversubscribed lock moving without a wake-up per acquisition; the budget
 * bounds how long the head waits: once it is spent, lockers queue behind
 * the head and the lock can only go to it. A running head leaves the lock
 * to stealers that keep it busy (at least one steal per few hundred ns)
 * until the budget is spent, so the lock's cache line changes cores once
 * per run of steals. 4096 steals of a short critical section last
 * ~0.1 ms, a few wake-ups' worth. Per lock: vmp_pvlock_q_steal_max_set().
 */
#define VMP_PVLOCK_STEAL_MAX (1u << 12)

/** Largest steal budget vmp_pvlock_q_steal_max_set() accepts. */
#define VMP_PVLOCK_STEAL_MAX_LIMIT (1u << 20)

/**
 * PV queued lock, default lead bound: an lcore stops stealing past a waiting
 * queue head once it has taken the lock this many times more than the head
 * has (slow-path acquisitions of this lock, each lcore's own count), and
 * queues behind it. The steal budget bounds one turn of the head; the lead
 * bound keeps one lcore from running ahead of another over many turns, which
 * under oversubscription is how a task that the scheduler gives less CPU time
 * falls behind. 0 turns it off. Per lock: vmp_pvlock_q_lead_max_set().
 */
#define VMP_PVLOCK_LEAD_MAX (1u << 14)

/** Largest lead bound vmp_pvlock_q_lead_max_set() accepts. */
#define VMP_PVLOCK_LEAD_MAX_LIMIT (1u << 30)

/** Lock types, for the event counters. */
enum vmp_pvlock_type {
	VMP_PVLOCK_TICKET = 0,
	VMP_PVLOCK_QUEUE = 1,
	VMP_PVLOCK_NB_TYPES,
};

/** Ticket lock. Fields are private (see file comment). */
struct vmp_pvlock_ticket {
	uint32_t next;	 /**< ticket dispenser */
	uint32_t owner;	 /**< ticket being served */
	uint32_t halted; /**< PV waiters halted (or about to): unlock kicks */
	uint32_t spin;	 /**< PV spin threshold */
	uint8_t pv;	 /**< PV on (1) or off (0), fixed at init */
#ifdef VMP_DEBUG_CHECKS
	int holder; /**< tid of the holder, 0 when free */
#endif
};

/**
 * Queued spinlock. The 32-bit word, written as (tail, pending, locked):
 *   bits  0-7   locked byte (0 free, 1 held)
 *   bits  8-15  pending byte (0 or 1; PV locks never use it)
 *   bits 16-17  tail: nesting index of the last queued node
 *   bits 18-31  tail: lcore id + 1 of the last queued node (0: no queue)
 * Fields are private (see file comment).
 */
struct vmp_pvlock_q {
	union {
		uint32_t val;
		struct {
			uint8_t locked;
			uint8_t pending;
			uint16_t tail;
		};
		struct {
			uint16_t locked_pending;
			uint16_t tail16;
		};
	};
	uint32_t hint;	 /**< tail code of a halted waiter unlock kicks, or 0 */
	uint32_t steals; /**< steals since the queue head last took the lock;
			  * written only by holders
			  */
	uint32_t steal_max; /**< steal budget (PV), VMP_PVLOCK_STEAL_MAX */
	uint32_t spin;	    /**< PV spin threshold (head: twice this) */
	uint32_t head_v;    /**< PV: the waiting head's acquisition count + 1,
			     * 0 if none; written only by the head
			     */
	uint32_t lead_max;  /**< lead bound (PV), VMP_PVLOCK_LEAD_MAX; 0 off */
	uint32_t gen;	    /**< init generation: keys each lcore's count */
	uint8_t pv;	    /**< PV on (1) or off (0), fixed at init */
#ifdef VMP_DEBUG_CHECKS
	int holder; /**< tid of the holder, 0 when free */
#endif
};

/** Event counters of one lock type, summed over lcores. */
struct vmp_pvlock_stats {
	uint64_t slowpath;    /**< acquisitions that missed the fast path */
	uint64_t halt_waiter; /**< halts of a waiter not next in line */
	uint64_t halt_head;   /**< halts of the waiter next in line */
	uint64_t kick;	      /**< kicks of a halted waiter */
	uint64_t kick_nohalt; /**< kicks of a waiter that was not halted */
	uint64_t spurious;    /**< wake-ups that found it was not its turn */
	uint64_t steal;	      /**< slow-path lock steals (Q9, PV queued lock) */
	uint64_t steal_run_max; /**< most steals between two acquisitions by
				 * a queue head (a maximum, not a sum): at
				 * most the budget + lcores - 1
				 */
	uint64_t lead_refused;	/**< steals refused by the lead bound */
	uint64_t head_defer;	/**< looks of a queue head that left the lock
				 * to busy stealers (L4, qlock.c)
				 */
	uint64_t wakes;		/**< kicked waiters that measured a latency */
	uint64_t kick_wake_ns_avg; /**< average kick-to-wake latency, ns */
};

/* ---- internals used by the inline fast paths (do not call) ---- */
void __vmp_pvlock_ticket_slow(struct vmp_pvlock_ticket *l, uint32_t t);
void __vmp_pvlock_ticket_kick(struct vmp_pvlock_ticket *l, uint32_t t);
void __vmp_pvlock_q_slow(struct vmp_pvlock_q *l);
void __vmp_pvlock_q_kick(struct vmp_pvlock_q *l);
int __vmp_pvlock_debug_unlock(int *holder, enum vmp_pvlock_type type);
void __vmp_pvlock_debug_lock(int *holder);

#ifdef VMP_DEBUG_CHECKS
#define __VMP_PVLOCK_LOCKED(l) __vmp_pvlock_debug_lock(&(l)->holder)
#define __VMP_PVLOCK_UNLOCK_OK(l, type)                                        \
	(__vmp_pvlock_debug_unlock(&(l)->holder, type) == 0)
#else
#define __VMP_PVLOCK_LOCKED(l) RTE_SET_USED(l)
#define __VMP_PVLOCK_UNLOCK_OK(l, type) 1
#endif

/**
 * Initialise a ticket lock (unlocked).
 *
 * @param l
 *   The lock.
 * @param pv
 *   0: PV off (spin only); 1: PV on (spin, then halt; unlock kicks).
 * @param spin
 *   PV spin threshold in rte_pause() iterations; 0 means about
 *   VMP_PVLOCK_SPIN_NS_DEFAULT ns, calibrated on this CPU.
 * @return
 *   0, or
 *   - -EINVAL: @p l is NULL or @p pv is neither 0 nor 1.
 *   - -ENOTSUP: PV asked but membarrier(2) private expedited is unavailable.
 */
int vmp_pvlock_ticket_init(struct vmp_pvlock_ticket *l, int pv, uint32_t spin);

/**
 * Take a ticket lock; spins (and with PV, halts) until it is ours. FIFO.
 * @param l
 *   An initialised lock.
 */
static inline void
vmp_pvlock_ticket_lock(struct vmp_pvlock_ticket *l)
{
	uint32_t t = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);

	/* load-acquire pairs with the store-release of owner in unlock */
	if (unlikely(__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != t))
		__vmp_pvlock_ticket_slow(l, t);
	__VMP_PVLOCK_LOCKED(l);
}

/**
 * Take a ticket lock if it is free and nobody waits.
 * @param l
 *   An initialised lock.
 * @return 1 if taken, 0 if not.
 */
static inline int
vmp_pvlock_ticket_trylock(struct vmp_pvlock_ticket *l)
{
	uint32_t o = __atomic_load_n(&l->owner, __ATOMIC_RELAXED);
	uint32_t n = o;

	/* next == owner: free and no waiter; take ticket o (served at once).
	 * Acquire pairs with the store-release of owner in unlock.
	 */
	if (__atomic_compare_exchange_n(&l->next, &n, o + 1, 0,
					__ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
		__VMP_PVLOCK_LOCKED(l);
		return 1;
	}
	return 0;
}

/**
 * Release a ticket lock held by the caller.
 * @param l
 *   The lock.
 */
static inline void
vmp_pvlock_ticket_unlock(struct vmp_pvlock_ticket *l)
{
	uint32_t o;

	if (!__VMP_PVLOCK_UNLOCK_OK(l, VMP_PVLOCK_TICKET))
		return;
	o = __atomic_load_n(&l->owner, __ATOMIC_RELAXED) + 1;
	/* owner o-1 -> o; release pairs with the load-acquire in lock */
	__atomic_store_n(&l->owner, o, __ATOMIC_RELEASE);
	/* Store then load with no CPU fence: a halting waiter's membarrier()
	 * (ticket.c, halt step T3) orders the pair for us; the compiler must
	 * not reorder them.
	 */
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (unlikely(__atomic_load_n(&l->halted, __ATOMIC_ACQUIRE) != 0))
		__vmp_pvlock_ticket_kick(l, o);
}

/* Q0, the queued lock's fast path (qlock.c): (0,0,0) -> (0,0,1) as a byte CAS
 * of the locked byte after reading pending and tail, which must be clear
 * (no waiter to bypass). Only narrow accesses that do not straddle the
 * locked byte: unlock's byte store may still sit in the store buffer, and a
 * 32-bit load or CAS over it would wait for it to drain (store-forwarding
 * stall, docs/pvlock.md). Every other setter of the locked byte is a CAS too
 * (Q3, Q5', Q6, Q6', Q7, Q9), so the byte CAS alone gives mutual exclusion;
 * the two loads are not one snapshot, so a waiter that appears between them
 * and the CAS may be bypassed once (see qlock.c). The acquire pairs with
 * unlock's store-release (Q8). Returns 1 if the lock is ours.
 */
static inline int
__vmp_pvlock_q_fast(struct vmp_pvlock_q *l)
{
	uint8_t z = 0;

	return __atomic_load_n(&l->pending, __ATOMIC_RELAXED) == 0 &&
	       __atomic_load_n(&l->tail, __ATOMIC_RELAXED) == 0 &&
	       __atomic_compare_exchange_n(&l->locked, &z, 1, 0,
					   __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

/**
 * Initialise a queued lock (unlocked).
 *
 * @param l
 *   The lock.
 * @param pv
 *   0: PV off (spin only); 1: PV on (spin, then halt; unlock kicks; lcores
 *   outside the queue may steal the lock ahead of the queue head, within
 *   the steal budget, VMP_PVLOCK_STEAL_MAX by default).
 * @param spin
 *   PV spin threshold in rte_pause() iterations (the queue head spins
 *   twice this); 0 means about VMP_PVLOCK_SPIN_NS_DEFAULT ns, calibrated on
 *   this CPU.
 * @return
 *   0, or
 *   - -EINVAL: @p l is NULL or @p pv is neither 0 nor 1.
 *   - -ENOTSUP: PV asked but membarrier(2) private expedited is unavailable.
 */
int vmp_pvlock_q_init(struct vmp_pvlock_q *l, int pv, uint32_t spin);

/**
 * Set the steal budget of a PV queued lock: how many times lcores outside
 * its queue may take it ahead of the queue head between two acquisitions by
 * the head. Between the moment a waiter becomes the queue head and the
 * moment it holds the lock, other lcores take the lock at most
 * @p steal_max + 2 x (n - 1) times, n being the number of lcores that lock
 * it: the budget, one steal per other lcore that read the budget just
 * before it was spent, and one fast-path bypass per other lcore whose
 * fast path checked the lock just before the queue formed. A waiter queued
 * behind k others waits for at most k + 1 such turns. 0 gives the lock to
 * the queue head whenever a queue exists (no steals); larger budgets keep
 * the lock longer on the lcore that holds it (throughput) at the expense of
 * the queue's wait: a running head does not compete with stealers that keep
 * the lock busy until the budget is spent. A PV-off lock never steals and
 * ignores it. Call before the lock is used, or while nobody holds it.
 *
 * @param l
 *   An initialised lock.
 * @param steal_max
 *   0 .. VMP_PVLOCK_STEAL_MAX_LIMIT (init sets VMP_PVLOCK_STEAL_MAX).
 * @return
 *   0, or
 *   - -EINVAL: @p l is NULL or @p steal_max exceeds
 *     VMP_PVLOCK_STEAL_MAX_LIMIT.
 */
int vmp_pvlock_q_steal_max_set(struct vmp_pvlock_q *l, uint32_t steal_max);

/**
 * Set the lead bound of a PV queued lock. Each EAL lcore counts its own
 * slow-path acquisitions of the lock (steals and turns as queue head); a
 * waiting queue head publishes its count. An lcore whose count exceeds the
 * head's by more than @p lead_max does not steal while the head is awake
 * (no halted waiter awaits its kick): it queues behind the head. So an
 * awake head is passed only by lcores that do not lead it by more than
 * @p lead_max (+ 1 per racing read of the head's count). This is a fairness
 * rule, not a starvation bound: lcores behind the head may pass it until
 * they catch up, and the steal budget still bounds each turn of the head
 * (vmp_pvlock_q_steal_max_set()). An lcore new to the lock (or
 * whose count was evicted from its small per-lcore table) starts level with
 * the head waiting then, or at 0. 0 turns the bound off; the bound costs
 * throughput where it makes stealers queue (a queue hand-off instead of a
 * steal), which is where one lcore had run far ahead. A PV-off lock ignores
 * it. Call before the lock is used, or while nobody holds it.
 *
 * @param l
 *   An initialised lock.
 * @param lead_max
 *   0 .. VMP_PVLOCK_LEAD_MAX_LIMIT (init sets VMP_PVLOCK_LEAD_MAX).
 * @return
 *   0, or
 *   - -EINVAL: @p l is NULL or @p lead_max exceeds VMP_PVLOCK_LEAD_MAX_LIMIT.
 */
int vmp_pvlock_q_lead_max_set(struct vmp_pvlock_q *l, uint32_t lead_max);

/**
 * Take a queued lock; spins (and with PV, halts) until it is ours.
 * @param l
 *   An initialised lock.
 */
static inline void
vmp_pvlock_q_lock(struct vmp_pvlock_q *l)
{
	if (unlikely(!__vmp_pvlock_q_fast(l))) /* Q0 */
		__vmp_pvlock_q_slow(l);
	__VMP_PVLOCK_LOCKED(l);
}

/**
 * Take a queued lock if it is free and nobody waits for it (no pending
 * waiter, no queue).
 * @param l
 *   An initialised lock.
 * @return 1 if taken, 0 if not.
 */
static inline int
vmp_pvlock_q_trylock(struct vmp_pvlock_q *l)
{
	if (__vmp_pvlock_q_fast(l)) { /* Q0 */
		__VMP_PVLOCK_LOCKED(l);
		return 1;
	}
	return 0;
}

/**
 * Release a queued lock held by the caller.
 * @param l
 *   The lock.
 */
static inline void
vmp_pvlock_q_unlock(struct vmp_pvlock_q *l)
{
	if (!__VMP_PVLOCK_UNLOCK_OK(l, VMP_PVLOCK_QUEUE))
		return;
	/* Q8: (*,*,1) -> (*,*,0); release pairs with the acquire of whoever
	 * takes the locked byte next (qlock.c: Q0, Q2, Q5, Q5', Q9).
	 */
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
	/* Store then load with no CPU fence: a halting head's membarrier()
	 * (qlock.c, halt step H3) orders the pair; keep the compiler out.
	 */
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (unlikely(__atomic_load_n(&l->hint, __ATOMIC_ACQUIRE) != 0))
		__vmp_pvlock_q_kick(l);
}

/**
 * Read the event counters of one lock type, summed over all lcores.
 *
 * @param type
 *   VMP_PVLOCK_TICKET or VMP_PVLOCK_QUEUE.
 * @param st
 *   Filled on success.
 * @return
 *   0, or -EINVAL if @p type is out of range or @p st is NULL.
 */
int vmp_pvlock_stats_get(enum vmp_pvlock_type type,
			 struct vmp_pvlock_stats *st);

/**
 * Read the event counters of one lock type counted by one lcore (the slow
 * paths it ran: its steals, its halts, the kicks it sent, the wake-ups it
 * measured), to see which lcores a contended lock favours.
 *
 * @param type
 *   VMP_PVLOCK_TICKET or VMP_PVLOCK_QUEUE.
 * @param lcore_id
 *   An lcore id below RTE_MAX_LCORE.
 * @param st
 *   Filled on success.
 * @return
 *   0, or -EINVAL if @p type or @p lcore_id is out of range or @p st is
 *   NULL.
 */
int vmp_pvlock_stats_lcore_get(enum vmp_pvlock_type type, unsigned int lcore_id,
			       struct vmp_pvlock_stats *st);

/** Zero the event counters of every lock type (not atomic with users:
 * call it while no lock is contended).
 */
void vmp_pvlock_stats_reset(void);

/**
 * Name of a lock type.
 * @param type
 *   VMP_PVLOCK_TICKET or VMP_PVLOCK_QUEUE.
 * @return "ticket", "queue", or NULL if @p type is out of range.
 */
const char *vmp_pvlock_type_name(enum vmp_pvlock_type type);

/**
 * Debug builds: whether an unlock by a non-holder aborts (default 1). Tests
 * set 0 to observe the refusal. No effect without VMP_DEBUG_CHECKS.
 * @param on
 *   Non-zero: abort; 0: log, count and refuse the unlock.
 */
void vmp_pvlock_debug_abort_set(int on);

/**
 * @return Number of unlocks by a non-holder refused so far (always 0
 *   without VMP_DEBUG_CHECKS).
 */
uint64_t vmp_pvlock_debug_bad_unlocks(void);

#ifdef __cplusplus
}
#endif

#endif /* VMP_PVLOCK_H */
