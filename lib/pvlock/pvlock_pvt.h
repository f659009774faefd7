/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PVLOCK_PVT_H
#define PVLOCK_PVT_H

/* Internals shared by ticket.c and qlock.c: counters, the halt/kick of one
 * waiter's futex word, the asymmetric barrier. Not for use outside lib/pvlock.
 */

#include <stdint.h>
#include <string.h>

#include <rte_common.h>
#include <rte_lcore.h>
#include <rte_log.h>

#include "vmp_pvlock.h"

extern int vmp_pvlock_logtype;
#define PVLOCK_LOG(level, fmt, ...)                                            \
	rte_log(RTE_LOG_##level, vmp_pvlock_logtype, "pvlock: " fmt "\n",      \
		##__VA_ARGS__)

/*
 * A waiter's futex word (one per waiting node). Transitions:
 *   RUNNING -> HALTED   waiter, xchg, before its last re-check (S1)
 *   HALTED  -> KICKED   waker, xchg (K2); only a waker that saw HALTED
 *                       calls vmp_halt_kick()
 *   HALTED  -> RUNNING  waiter, when the re-check says go (abort)
 *   KICKED/HALTED -> RUNNING  waiter, xchg after it wakes (S3)
 * The kernel sleeps the waiter only while the word is HALTED, so a K2 that
 * lands before the futex call makes it return at once.
 */
enum {
	PVN_RUNNING = 0,
	PVN_HALTED = 1,
	PVN_KICKED = 2,
};

/* Event counters, one row per lcore (+1 row for non-EAL threads). */
enum pvlock_cnt {
	CNT_SLOWPATH,
	CNT_HALT_WAITER,
	CNT_HALT_HEAD,
	CNT_KICK,
	CNT_KICK_NOHALT,
	CNT_SPURIOUS,
	CNT_STEAL,
	CNT_WAKES,
	CNT_WAKE_CYCLES,
	CNT_STEAL_RUN_MAX, /* a maximum, not a sum (__vmp_pvlock_count_max) */
	CNT_LEAD_REFUSED,
	CNT_HEAD_DEFER,
	CNT_MAX,
};

struct pvlock_lcore_cnt {
	uint64_t c[VMP_PVLOCK_NB_TYPES][CNT_MAX];
} __rte_cache_aligned;

/* One row per lcore; row RTE_MAX_LCORE is shared by non-EAL threads, hence
 * atomic adds there.
 */
extern struct pvlock_lcore_cnt __vmp_pvlock_counters[RTE_MAX_LCORE + 1];

/* Inline: the steal path counts twice per acquisition under
 * oversubscription, where a call each was a measurable part of its cost.
 */
static inline void
__vmp_pvlock_count(enum vmp_pvlock_type type, enum pvlock_cnt c, uint64_t n)
{
	unsigned int lc = rte_lcore_id();
	uint64_t *p;

	if (unlikely(lc >= RTE_MAX_LCORE)) {
		__atomic_fetch_add(
			&__vmp_pvlock_counters[RTE_MAX_LCORE].c[type][c], n,
			__ATOMIC_RELAXED);
		return;
	}
	/* only this lcore writes its row: no locked RMW on the slow path;
	 * readers see whole 64-bit values
	 */
	p = &__vmp_pvlock_counters[lc].c[type][c];
	__atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) + n,
			 __ATOMIC_RELAXED);
}

/* Raise counter @p c of this lcore to @p n if it is lower (a maximum). */
void __vmp_pvlock_count_max(enum vmp_pvlock_type type, enum pvlock_cnt c,
			    uint64_t n);

/* Register this process for membarrier(2) private expedited (idempotent).
 * Returns 0 or -ENOTSUP.
 */
int __vmp_pvlock_membarrier_init(void);

/* Full barrier on every running thread of this process: the slow side of
 * the asymmetric Dekker pairs between a halting waiter and an unlocker that
 * only has a compiler barrier between its store and its load.
 */
void __vmp_pvlock_membarrier(void);

/* Halt on *state while it is PVN_HALTED (the caller already set it and
 * re-checked). Counts spurious returns and the kick-to-wake latency; leaves
 * *state PVN_RUNNING. Returns 1 if a kick ended the halt.
 */
int __vmp_pvlock_halt(enum vmp_pvlock_type type, uint32_t *state,
		      const uint64_t *kick_tsc);

/* Kick a waiter through its futex word: HALTED -> KICKED and wake it; any
 * other state is counted as a kick of a waiter that was not halted.
 */
void __vmp_pvlock_kick(enum vmp_pvlock_type type, uint32_t *state,
		       uint64_t *kick_tsc);

int __vmp_pvlock_check_init(const void *l, int pv, const char *what);

/* VMP_PVLOCK_SPIN_NS_DEFAULT in rte_pause() iterations on this CPU (timed
 * once, at the first call).
 */
uint32_t __vmp_pvlock_spin_default(void);

/* The init of both lock types: check, zero, set PV and the spin threshold.
 * Evaluates to 0 or the -errno of __vmp_pvlock_check_init().
 */
#define PVLOCK_INIT(l, pv_, spin_, what)                                       \
	__extension__({                                                        \
		int rc_ = __vmp_pvlock_check_init(l, pv_, what);               \
		if (rc_ == 0) {                                                \
			memset(l, 0, sizeof(*(l)));                            \
			(l)->pv = (pv_);                                       \
			(l)->spin = (spin_) != 0                               \
					    ? (spin_)                          \
					    : __vmp_pvlock_spin_default();     \
		}                                                              \
		rc_;                                                           \
	})

#endif /* PVLOCK_PVT_H */
