/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Queued spinlock (Linux qspinlock style) with optional PV halt and kick.
 *
 * Lock word (tail, pending, locked), see vmp_pvlock.h for the bits. tail = n
 * means a queue whose last node is n. Transitions, labelled Qn below:
 *
 *   Q0 fast path        (0,0,0) -> (0,0,1)          loads of pending and
 *                                                   tail, then 8-bit CAS
 *                                                   0 -> 1 of locked,
 *                                                   acquire (inline)
 *   Q1 take pending     (0,0,*) -> (0,1,*)          fetch_or, acquire
 *      undo pending     (n,1,*) -> (n,0,*)          when a queue appeared
 *   Q2 pending owner    (0,1,1) -> wait -> (*,1,0)  load-acquire of locked
 *   Q3 pending to lock  (*,1,0) -> (*,0,1)          16-bit CAS, acquire;
 *                                                   fails if a Q0 won the
 *                                                   byte: Q2 again
 *   Q4 enqueue          (p,*,*) -> (n,*,*)          xchg of tail, acq_rel
 *   Q5 head waits       (n,*,*) until (n,0,0)       load-acquire of word
 *   Q6 head, alone      (n,0,0) -> (0,0,1)          CAS, clears the tail,
 *                                                   acquire; fails: Q5 again
 *   Q7 head, followers  (m,0,0) -> (m,0,1)          8-bit CAS 0 -> 1 of
 *                                                   locked, acquire; fails
 *                                                   if a Q0 won the byte:
 *                                                   Q5 again
 *   Q8 unlock           (*,*,1) -> (*,*,0)          8-bit store-release
 *                                                   (inline)
 * Q8's release pairs with the acquires of Q0, Q2, Q3, Q5, Q6, Q7 and, PV,
 * Q5' and Q9 (Q3/Q6/Q7 acquire too: a Q0 may have taken and released the
 * byte between the wait and the CAS). Q4 is acq_rel: its release publishes
 * our node's init, its acquire pairs with the previous tail's Q4 so prev's
 * node is initialised. The MCS hand-off: prev->next =
 * node (store-release M1) pairs with the load-acquire of next (M2);
 * next->locked = 1 (M3, release; PV: xchg) pairs with the load-acquire of
 * node->locked (M4) in the waiter.
 *
 * Why Q3 and Q7 are CAS: Q0 is a byte CAS so that it does not overlap
 * unlock's byte store (a 32-bit CAS over a byte store still in the store
 * buffer stalls until it drains: docs/pvlock.md), and it checks pending and
 * tail with two loads before it, which are not one snapshot of the word. A
 * Q0 that read (0,0,*) may still reach its CAS after a waiter has set
 * pending or queued; were Q3 / Q7 plain stores, that waiter and Q0 could
 * both see locked == 0 and both own the lock (the model's BROKEN_Q3_STORE /
 * BROKEN_Q7_STORE). With every setter of the locked byte a CAS, exactly one
 * wins; the loser waits again. Fairness: such a Q0 bypasses a waiter that
 * appeared after its loads, once: its next Q0 sees the waiter and takes the
 * slow path, so each waiter is bypassed at most once per other lcore.
 *
 * PV locks never use pending (always 0). A locker outside the queue may
 * steal the lock ahead of the queue head, running or halted, within a
 * budget per turn of the head:
 *   Q9 steal            (n,0,0) -> (n,0,1)          8-bit CAS, acquire; the
 *                                                   lcore that just unlocked
 *                                                   takes the lock again from
 *                                                   its own cache instead of
 *                                                   a cross-core hand-off,
 *                                                   and a running lcore
 *                                                   passes a halted head
 *   Q5' head takes      (n,0,0) -> (n,0,1)          8-bit CAS, acquire (a
 *                                                   stealer or a Q0 that read
 *                                                   (0,0,*) may win the byte)
 *   Q6' head, alone     (n,0,1) -> (0,0,1)          CAS, clears the tail
 * Stealing is bounded, so that the head is not starved (steals, a word
 * beside the lock word, written only by holders):
 *   B1 budget left?     steals < steal_max          relaxed load before
 *                                                   Q9; may be stale: one
 *                                                   more steal per lcore
 *                                                   racing it, at most
 *   B2 steal counted    steals + 1                  store, by the stealer
 *                                                   holding the lock
 *   B3 head's turn      steals = 0                  store, by the head
 *                                                   holding the lock (Q5')
 * And by the lead bound, so that one lcore does not run ahead of another over
 * many turns of the head (each lcore's count of its slow-path acquisitions
 * of the lock, in its own small table keyed by lock and init generation;
 * head_v, a word beside the lock word, written only by the head):
 *   L1 head publishes   head_v = count + 1          store, by the new head,
 *                                                   before it waits (Q5')
 *   L2 lead check       count - (head_v - 1)        relaxed loads before
 *                         > lead_max and no hint    Q9; may be stale: one
 *                         (no halted waiter):       more steal per lcore
 *                         no steal, queue behind    racing L1, at most
 *                         the head
 *   L3 head's turn      head_v = 0, count + 1       by the head holding the
 *                                                   lock (with B3); a steal
 *                                                   counts + 1 with B2
 * Like B1, L2 only decides whether to try Q9; the model's stealer may always
 * decline (tests/pvlock/pvlock_halt.pml), so neither changes exclusion or the
 * halt/kick handshake. Why: under oversubscription the scheduler gives some
 * tasks less CPU time; stealing lets the others take the lock in the
 * meantime, turn after turn, and the per-turn budget never catches up. With
 * the bound, a task that ran ahead queues behind the one it left behind
 * (docs/pvlock.md).
 * And the running head leaves the lock to busy stealers until the budget
 * is spent, so that the lock's line moves between cores once per run of
 * steals, not at every look of the head (wait_head_pv()):
 *   L4 head defers      steals grew by >= 1 per      relaxed load of steals
 *                         Q_HEAD_POLL pauses since   at each look; no Q5'
 *                         its last look, and         try, next look twice
 *                         steals < steal_max         as late, no halt yet
 * L4 only declines Q5' tries, as the model's head may (its deferral is
 * modelled with its guard: each needs a new steal, so they are bounded by
 * the budget, which a broken guard is shown to break).
 * Once the budget is spent lockers queue behind the head, and Q0 fails while
 * a queue exists: the next unlock leaves the lock to the head (a halted
 * head's hint makes that unlock kick it). So between becoming the head and
 * taking the lock a waiter sees at most steal_max + (n - 1) steals plus one
 * stale Q0 per other lcore (vmp_pvlock_q_steal_max_set()). Why a running
 * head is passed too: with two running lcores, a head that blocks stealing
 * turns every acquisition into a cross-core queue hand-off (docs/pvlock.md).
 * The running head reads the lock word only every Q_HEAD_POLL pauses: each
 * read pulls the line from the stealer's cache, and its next store (the
 * unlock) pays a cross-core miss; a steal costs less than one pause here.
 *
 * Waiters halt after spinning:
 *
 * Non-head waiter N halts; its predecessor P becomes the head, takes the lock
 * and hands the queue head over to N (lazy kick, as Linux's later design):
 *   N: S1 state = HALTED (xchg)     P: M3 N.locked = 1 (xchg)
 *   N: W2 if N.locked: undo, go     P: W3 if N.state == HALTED: hint = N
 *   N: S2 futex wait                P: ...critical section... Q8 unlock, U3
 *   (both xchg are full barriers: either W2 sees M3 or W3 sees S1). N is
 * then kicked by P's unlock, not at the hand-off, so it does not compete for
 * a core while P works.
 *
 * Head H halts; the holder's unlock (Q8) kicks it:
 *   H: S1 state = HALTED (xchg)     U: Q8 locked = 0 (store-release)
 *   H: H2 hint = H (store-release)  U: U2 compiler barrier only
 *   H: H3 membarrier()              U: U3 if hint (load-acquire):
 *   H: H4 if locked == 0: undo, go     K1 take the hint (xchg to 0)
 *   H: S2 futex wait                   K2 kick
 * H3 pairs with U2: membarrier() runs a full barrier on every running thread,
 * so either H4 sees Q8 or U3 sees H2 (and, H2 being a release after S1, K2
 * finds S1). K1 consumes the hint, so the unlocks of stealers do not kick the
 * same head again; a head that wakes to a stolen lock re-publishes (H2)
 * before it halts again. The head clears the hint once it owns the lock,
 * before it hands over (so its own unlock does not kick it; at most one hint
 * is live per lock). tests/pvlock/pvlock_halt.pml models both handshakes,
 * with a stealer.
 */
#include <errno.h>
#include <string.h>

#include <rte_lcore.h>
#include <rte_pause.h>

#include "pvlock_pvt.h"

#define Q_LOCKED 0x1u
#define Q_LOCKED_MASK 0xffu
#define Q_PENDING 0x100u
#define Q_PENDING_MASK 0xff00u
#define Q_LP_MASK (Q_LOCKED_MASK | Q_PENDING_MASK)
#define Q_TAIL_MASK 0xffff0000u
#define Q_IDX_SHIFT 16
#define Q_LCORE_SHIFT 18
#define Q_MAX_NEST 4 /* nesting levels (signal handlers): 2 bits */
/* PV head: read the locked byte every Q_HEAD_POLL pauses: at 18-40 ns a
 * pause on the project's VMs, one read per 0.3-0.6 us, a few dozen steals
 * of a short critical section. While stealers are busy (L4) the head looks
 * at the lock ever less often, doubling the interval up to Q_HEAD_POLL_MAX
 * pauses (20-40 us here).
 */
#define Q_HEAD_POLL 16
#define Q_HEAD_POLL_MAX 1024

struct qnode {
	struct qnode *next; /* successor, set by it (M1) */
	uint32_t locked;    /* 1: we are the queue head (M3) */
	uint32_t state;	    /* futex word, PVN_* (pvlock_pvt.h) */
	uint32_t code;	    /* our tail code */
	uint64_t kick_tsc;  /* when the kicker kicked (latency counter) */
} __rte_cache_aligned;

/* An lcore's slow-path acquisitions of one lock (lead bound): ways of a
 * small direct-mapped table, keyed by the lock and its init generation, so
 * that a lock re-initialised at the same address starts afresh. Evicting a
 * count (more locks than ways in use) restarts it level with the head.
 */
#define Q_LEAD_WAYS 8

struct lead_count {
	const struct vmp_pvlock_q *lock;
	uint32_t gen;
	uint32_t v;
};

struct qnode_set {
	struct qnode n[Q_MAX_NEST];
	uint32_t count; /* nodes in use by this lcore */
	struct lead_count lead[Q_LEAD_WAYS];
} __rte_cache_aligned;

_Static_assert(RTE_MAX_LCORE < (1 << (32 - Q_LCORE_SHIFT)) - 1,
	       "lcore id + 1 must fit the tail's lcore field");
static struct qnode_set qnodes[RTE_MAX_LCORE];
static uint32_t q_gen; /* init generations handed out */

int
vmp_pvlock_q_init(struct vmp_pvlock_q *l, int pv, uint32_t spin)
{
	int rc = PVLOCK_INIT(l, pv, spin, "q");

	if (rc == 0) {
		l->steal_max = VMP_PVLOCK_STEAL_MAX;
		l->lead_max = VMP_PVLOCK_LEAD_MAX;
		l->gen = __atomic_add_fetch(&q_gen, 1, __ATOMIC_RELAXED);
	}
	return rc;
}

/* This lcore's count for @p l (an EAL lcore's; the caller checks): its way
 * of the table, taken over if it holds another lock or generation, starting
 * level with the waiting head (or 0).
 */
static inline uint32_t *
lead_count(const struct vmp_pvlock_q *l, unsigned int lc)
{
	struct lead_count *e =
		&qnodes[lc].lead[((uintptr_t)l / RTE_CACHE_LINE_SIZE) &
				 (Q_LEAD_WAYS - 1)];
	uint32_t hv;

	if (unlikely(e->lock != l || e->gen != l->gen)) {
		hv = __atomic_load_n(&l->head_v, __ATOMIC_RELAXED);
		e->lock = l;
		e->gen = l->gen;
		e->v = hv != 0 ? hv - 1 : 0;
	}
	return &e->v;
}

/* L2: whether this lcore, with count @p v, leads the waiting head by more
 * than the bound, while that head is awake. Wrap-safe: counts are compared
 * as a signed difference. While a halted waiter awaits its kick (hint set:
 * the head after H2, or the successor a head handed over to, W3) the next
 * unlock wakes it whoever takes the lock, so a leader that queued then would
 * only wait out the wake-up; it defers once the hint is taken (K1) and the
 * head is running or runnable, a hand-off without a wake-up.
 */
static inline int
lead_exceeded(const struct vmp_pvlock_q *l, uint32_t v)
{
	uint32_t hv = __atomic_load_n(&l->head_v, __ATOMIC_RELAXED),
		 max = __atomic_load_n(&l->lead_max, __ATOMIC_RELAXED);

	return max != 0 && hv != 0 &&
	       __atomic_load_n(&l->hint, __ATOMIC_RELAXED) == 0 &&
	       (int32_t)(v - (hv - 1)) > (int32_t)max;
}

/* The per-lock knobs (steal budget, lead bound; @p knob NULL: no lock):
 * checked, then stored
 * relaxed, as their readers (B1, L2) read them: a stale value decides one
 * steal, as any race of those reads does.
 */
static int
q_knob_set(uint32_t *knob, uint32_t v, uint32_t limit, const char *what)
{
	if (knob == NULL) {
		PVLOCK_LOG(ERR, "q_%s_set: lock is NULL", what);
		return -EINVAL;
	}
	if (v > limit) {
		PVLOCK_LOG(ERR, "q_%s_set: %s %u > %u", what, what, v, limit);
		return -EINVAL;
	}
	__atomic_store_n(knob, v, __ATOMIC_RELAXED);
	return 0;
}

int
vmp_pvlock_q_steal_max_set(struct vmp_pvlock_q *l, uint32_t steal_max)
{
	return q_knob_set(l != NULL ? &l->steal_max : NULL, steal_max,
			  VMP_PVLOCK_STEAL_MAX_LIMIT, "steal_max");
}

int
vmp_pvlock_q_lead_max_set(struct vmp_pvlock_q *l, uint32_t lead_max)
{
	return q_knob_set(l != NULL ? &l->lead_max : NULL, lead_max,
			  VMP_PVLOCK_LEAD_MAX_LIMIT, "lead_max");
}

static inline uint32_t
encode_tail(unsigned int lc, unsigned int idx)
{
	return ((lc + 1) << Q_LCORE_SHIFT) | (idx << Q_IDX_SHIFT);
}

static inline struct qnode *
decode_tail(uint32_t code)
{
	return &qnodes[(code >> Q_LCORE_SHIFT) - 1]
			.n[(code >> Q_IDX_SHIFT) & (Q_MAX_NEST - 1)];
}

/* PV non-head waiter: spin on node->locked, then halt until the hand-off. */
static void
wait_node_pv(struct vmp_pvlock_q *l, struct qnode *node)
{
	uint32_t i;

	for (;;) {
		for (i = 0; i < l->spin; i++) {
			/* M4: pairs with M3 */
			if (__atomic_load_n(&node->locked, __ATOMIC_ACQUIRE))
				return;
			rte_pause();
		}
		/* S1, pairs with M3 (both full barriers) */
		__atomic_exchange_n(&node->state, PVN_HALTED, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&node->locked, __ATOMIC_ACQUIRE)) { /* W2 */
			__atomic_store_n(&node->state, PVN_RUNNING,
					 __ATOMIC_RELAXED);
			return;
		}
		__vmp_pvlock_count(VMP_PVLOCK_QUEUE, CNT_HALT_WAITER, 1);
		__vmp_pvlock_halt(VMP_PVLOCK_QUEUE, &node->state,
				  &node->kick_tsc); /* S2, S3 */
		if (__atomic_load_n(&node->locked, __ATOMIC_ACQUIRE))
			return;
		__vmp_pvlock_count(VMP_PVLOCK_QUEUE, CNT_SPURIOUS, 1);
	}
}

/* L4: whether the stealers kept busy since the head's last look @p poll
 * pauses ago (@p seen: the steal count then, @p s: now): at least one steal
 * per Q_HEAD_POLL pauses, and budget left. Steals only grow during a head's
 * wait (B3 is the head's own), so s - seen is the steals in between.
 */
static inline int
stealers_busy(const struct vmp_pvlock_q *l, uint32_t s, uint32_t seen,
	      uint32_t poll)
{
	return s - seen >= poll / Q_HEAD_POLL &&
	       s < __atomic_load_n(&l->steal_max, __ATOMIC_RELAXED);
}

/* PV queue head: take the lock itself (stealers may race us), halting when
 * it stays held. Returns the word with the locked byte ours.
 *
 * L4, the head defers to busy stealers: each look at the lock word pulls
 * its line from the stealer's cache, and the stealer's next store pays a
 * cross-core miss; a head that takes the lock as soon as it sees it free
 * cuts the stealer's run short for one acquisition of its own. So while the
 * steal count grows by at least one per Q_HEAD_POLL pauses (and the budget
 * lasts), the head does not try Q5', doubles the interval to its next look
 * (up to Q_HEAD_POLL_MAX) and does not count the time towards halting: the
 * lock goes to the stealers in runs of up to the budget, to the head at the
 * end of each, and the line moves once per run. Bounded: steals stop at the
 * budget (B1), so the head defers at most about (steal_max + lcores) *
 * Q_HEAD_POLL pauses per turn (1.2-2.6 ms at 4096 here), and a stealer that
 * slows down or is preempted ends the deferral at the next look. Like L2, L4
 * only declines Q5' tries, which the model's head may do (pvlock_halt.pml).
 */
static uint32_t
wait_head_pv(struct vmp_pvlock_q *l, struct qnode *node)
{
	uint64_t i, lim = 2ull * l->spin, look = 0;
	uint32_t poll = Q_HEAD_POLL,
		 seen = __atomic_load_n(&l->steals, __ATOMIC_RELAXED), s;
	int busy;
	uint8_t z;

	for (;;) {
		for (i = 0; i < lim; i++, rte_pause()) {
			if (i < look)
				continue;
			s = __atomic_load_n(&l->steals, __ATOMIC_RELAXED);
			busy = stealers_busy(l, s, seen, poll);
			seen = s;
			if (busy) { /* L4 */
				__vmp_pvlock_count(VMP_PVLOCK_QUEUE,
						   CNT_HEAD_DEFER, 1);
				poll = RTE_MIN(2 * poll,
					       (uint32_t)Q_HEAD_POLL_MAX);
				i = 0;
				look = poll;
				continue;
			}
			poll = Q_HEAD_POLL;
			look = i + poll;
			/* Q5': (n,0,0) -> (n,0,1), polled sparsely (above).
			 * A stealer or a Q0 that read (0,0,*) before we
			 * queued may win the byte, so CAS. Acquire pairs
			 * with Q8.
			 */
			z = 0;
			if (__atomic_load_n(&l->locked, __ATOMIC_RELAXED) ==
				    0 &&
			    __atomic_compare_exchange_n(
				    &l->locked, &z, Q_LOCKED, 0,
				    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
				return __atomic_load_n(&l->val,
						       __ATOMIC_RELAXED);
		}
		look = 0;
		__atomic_exchange_n(&node->state, PVN_HALTED,
				    __ATOMIC_SEQ_CST); /* S1 */
		/* H2: release orders S1 before it, for U3/K2 */
		__atomic_store_n(&l->hint, node->code, __ATOMIC_RELEASE);
		__vmp_pvlock_membarrier(); /* H3: pairs with U2 in unlock */
		if (__atomic_load_n(&l->locked, __ATOMIC_ACQUIRE) == 0) {
			/* H4: released meanwhile, do not halt */
			__atomic_store_n(&node->state, PVN_RUNNING,
					 __ATOMIC_RELAXED);
			continue;
		}
		__vmp_pvlock_count(VMP_PVLOCK_QUEUE, CNT_HALT_HEAD, 1);
		__vmp_pvlock_halt(VMP_PVLOCK_QUEUE, &node->state,
				  &node->kick_tsc); /* S2, S3 */
		if (__atomic_load_n(&l->locked, __ATOMIC_ACQUIRE) != 0)
			__vmp_pvlock_count(VMP_PVLOCK_QUEUE, CNT_SPURIOUS, 1);
	}
}

/* PV only: a locker outside the queue takes the lock ahead of the queue
 * head, (n,0,0) -> (n,0,1) on the locked byte, while the budget lasts. Linux's
 * later PV qspinlock steals past a halted head; here a running head is
 * passed too, so that an lcore re-taking the lock it just released does so
 * from its own cache.
 */
static int
pv_steal(struct vmp_pvlock_q *l, unsigned int lc)
{
	uint32_t *v = NULL;
	uint8_t z = 0;

	/* narrow loads: the stealer is often the last unlocker, whose byte
	 * store (Q8) may still sit in the store buffer; a 32-bit load over it
	 * waits for it to drain (as Q0's, vmp_pvlock.h)
	 */
	if (__atomic_load_n(&l->locked, __ATOMIC_RELAXED) != 0 ||
	    __atomic_load_n(&l->tail16, __ATOMIC_RELAXED) == 0)
		return 0;
	/* B1: the steal budget. A racy read: only holders write steals, and
	 * a stale value lets one more steal through or queues one locker
	 * early, neither of which matters to exclusion or to the halt/kick
	 * handshake.
	 */
	if (__atomic_load_n(&l->steals, __ATOMIC_RELAXED) >=
	    __atomic_load_n(&l->steal_max, __ATOMIC_RELAXED))
		return 0;
	/* L2: not past a head this lcore leads by more than the bound */
	if (lc < RTE_MAX_LCORE) {
		v = lead_count(l, lc);
		if (lead_exceeded(l, *v)) {
			__vmp_pvlock_count(VMP_PVLOCK_QUEUE, CNT_LEAD_REFUSED,
					   1);
			return 0;
		}
	}
	/* Q9: (n,0,0) -> (n,0,1); acquire pairs with Q8 */
	if (!__atomic_compare_exchange_n(&l->locked, &z, Q_LOCKED, 0,
					 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return 0;
	/* B2: count the steal, as the holder (ordered by the lock itself) */
	__atomic_store_n(&l->steals, l->steals + 1, __ATOMIC_RELAXED);
	if (v != NULL)
		(*v)++; /* L3's steal half: only this lcore writes its table */
	__vmp_pvlock_count(VMP_PVLOCK_QUEUE, CNT_STEAL, 1);
	return 1;
}

/* PV off only. Returns 1 if the lock is ours, 0 to queue. */
static int
pending_path(struct vmp_pvlock_q *l, uint32_t val)
{
	uint16_t lp;

	if (val & ~Q_LOCKED_MASK)
		return 0; /* pending or queue already there */
	/* Q1: (0,0,*) -> (0,1,*); acquire pairs with Q8 */
	val = __atomic_fetch_or(&l->val, Q_PENDING, __ATOMIC_ACQUIRE);
	if (val & ~Q_LOCKED_MASK) {
		/* lost the race: (n,1,*) -> (n,0,*) if the bit was ours */
		if (!(val & Q_PENDING_MASK))
			__atomic_fetch_and(&l->val, ~Q_PENDING,
					   __ATOMIC_RELAXED);
		return 0;
	}
	for (;;) {
		/* Q2: (0,1,1) until (*,1,0); load-acquire pairs with Q8 */
		while (__atomic_load_n(&l->locked, __ATOMIC_ACQUIRE))
			rte_pause();
		/* Q3: (*,1,0) -> (*,0,1). Only we write pending now, but a Q0
		 * that read pending before our Q1 may CAS the locked byte: CAS
		 * both bytes, and wait again if it won. Acquire pairs with Q8
		 * (that Q0's unlock may be the one Q2 saw).
		 */
		lp = Q_PENDING;
		if (__atomic_compare_exchange_n(&l->locked_pending, &lp,
						Q_LOCKED, 0, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return 1;
	}
}

void
__vmp_pvlock_q_slow(struct vmp_pvlock_q *l)
{
	unsigned int lc = rte_lcore_id();
	struct qnode *node, *prev, *next;
	struct qnode_set *set;
	uint32_t code, old, idx, val, *lead;
	int pv = l->pv;
	uint8_t z;

	__vmp_pvlock_count(VMP_PVLOCK_QUEUE, CNT_SLOWPATH, 1);
	/* PV lockers never take pending: they steal (Q9) or queue */
	if (pv ? pv_steal(l, lc)
	       : pending_path(l, __atomic_load_n(&l->val, __ATOMIC_RELAXED)))
		return;
	if (lc >= RTE_MAX_LCORE) {
		/* no queue node for a non-EAL thread: spin on trylock */
		while (!__vmp_pvlock_q_fast(l))
			rte_pause();
		return;
	}
	set = &qnodes[lc];
	idx = set->count++;
	if (idx >= Q_MAX_NEST) {
		while (!__vmp_pvlock_q_fast(l))
			rte_pause();
		goto release;
	}
	node = &set->n[idx];
	code = encode_tail(lc, idx);
	node->locked = 0;
	node->next = NULL;
	node->state = PVN_RUNNING;
	node->code = code;
	if (__vmp_pvlock_q_fast(l))
		goto release;

	/* Q4: (p,*,*) -> (n,*,*) */
	old = (uint32_t)__atomic_exchange_n(&l->tail16, (uint16_t)(code >> 16),
					    __ATOMIC_ACQ_REL)
	      << 16;
	if (old != 0) {
		prev = decode_tail(old);
		__atomic_store_n(&prev->next, node, __ATOMIC_RELEASE); /* M1 */
		if (pv)
			wait_node_pv(l, node);
		else
			while (!__atomic_load_n(&node->locked,
						__ATOMIC_ACQUIRE)) /* M4 */
				rte_pause();
	}

	/* We are the head. */
	if (pv) {
		/* L1: our count, for the stealers' L2 (only the head writes
		 * head_v; the previous head cleared it before M3)
		 */
		lead = lead_count(l, lc);
		__atomic_store_n(&l->head_v, *lead + 1, __ATOMIC_RELAXED);
		/* the locked byte is ours: (n,0,1) */
		val = wait_head_pv(l, node);
		/* L3: our turn counts; no head waits until the next L1 */
		(*lead)++;
		__atomic_store_n(&l->head_v, 0, __ATOMIC_RELAXED);
		/* B3: the head got its turn; stealing may start over. The
		 * steals of the turn that ends, for the starvation bound
		 * (steal_run_max).
		 */
		__vmp_pvlock_count_max(VMP_PVLOCK_QUEUE, CNT_STEAL_RUN_MAX,
				       l->steals);
		__atomic_store_n(&l->steals, 0, __ATOMIC_RELAXED);
		/* the hint named us; no unlock may kick us any more */
		if (__atomic_load_n(&l->hint, __ATOMIC_RELAXED) == code)
			__atomic_store_n(&l->hint, 0, __ATOMIC_RELAXED);
		/* Q6': alone, (n,0,1) -> (0,0,1) */
		if ((val & Q_TAIL_MASK) == code &&
		    __atomic_compare_exchange_n(&l->val, &val, Q_LOCKED, 0,
						__ATOMIC_RELAXED,
						__ATOMIC_RELAXED))
			goto release;
		goto handoff;
	}
	for (;;) {
		/* Q5: wait for (n,0,0); acquire pairs with Q8 */
		while ((val = __atomic_load_n(&l->val, __ATOMIC_ACQUIRE)) &
		       Q_LP_MASK)
			rte_pause();
		if ((val & Q_TAIL_MASK) == code) {
			/* Q6: alone in the queue, (n,0,0) -> (0,0,1). If it
			 * fails (a successor queued, a transient pending
			 * setter, a Q0 won the byte), look again: Q7 needs a
			 * successor, which a tail other than ours proves.
			 * Acquire pairs with Q8: a Q0 may have taken and
			 * released the byte since Q5 read it.
			 */
			if (__atomic_compare_exchange_n(&l->val, &val, Q_LOCKED,
							0, __ATOMIC_ACQUIRE,
							__ATOMIC_RELAXED))
				goto release;
			continue;
		}
		/* Q7: (m,0,0) -> (m,0,1), m != n: a successor exists. A CAS:
		 * a Q0 that read (0,0,*) before we queued may win the byte,
		 * then Q5 again. Acquire pairs with Q8, as Q6's.
		 */
		z = 0;
		if (__atomic_compare_exchange_n(&l->locked, &z, Q_LOCKED, 0,
						__ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			break;
	}
handoff:

	/* M2: wait for the successor's M1 */
	while ((next = __atomic_load_n(&node->next, __ATOMIC_ACQUIRE)) == NULL)
		rte_pause();
	if (pv) {
		/* M3 as a full barrier, pairs with the waiter's S1 */
		__atomic_exchange_n(&next->locked, 1, __ATOMIC_SEQ_CST);
		/* W3: halted successor: our unlock kicks it (lazy kick) */
		if (__atomic_load_n(&next->state, __ATOMIC_RELAXED) ==
		    PVN_HALTED)
			__atomic_store_n(&l->hint, next->code,
					 __ATOMIC_RELAXED);
	} else {
		__atomic_store_n(&next->locked, 1, __ATOMIC_RELEASE); /* M3 */
	}
release:
	set->count--;
}

void
__vmp_pvlock_q_kick(struct vmp_pvlock_q *l)
{
	/* K1: take the hint the inline unlock saw (U3), so that the next
	 * unlocks (stealers) do not kick the same waiter again; a head that
	 * wakes to a stolen lock publishes itself again (H2) before halting.
	 * acq_rel pairs with the release of H2 (or our own W3).
	 */
	uint32_t code = __atomic_exchange_n(&l->hint, 0, __ATOMIC_ACQ_REL);
	struct qnode *n;

	if (code == 0)
		return;
	n = decode_tail(code);
	__vmp_pvlock_kick(VMP_PVLOCK_QUEUE, &n->state, &n->kick_tsc); /* K2 */
}
