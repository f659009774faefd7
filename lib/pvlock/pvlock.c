/* SPDX-License-Identifier: BSD-3-Clause */
/* What both locks share: event counters (API + telemetry), the halt and kick
 * of one waiter's futex word, membarrier(2), debug checks.
 */
/* the name RTE_LOG_REGISTER_DEFAULT gives our logtype (DPDK's build sets it
 * per component; ours does not)
 */
#define RTE_LOG_DEFAULT_LOGTYPE vmpath.pvlock

#include <errno.h>
#include <linux/membarrier.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_pause.h>
#include <rte_telemetry.h>

#include <vmp_common.h>

#include "pvlock_pvt.h"

RTE_LOG_REGISTER_DEFAULT(vmp_pvlock_logtype, INFO);

struct pvlock_lcore_cnt __vmp_pvlock_counters[RTE_MAX_LCORE + 1];

static const char *const type_names[VMP_PVLOCK_NB_TYPES] = {
	[VMP_PVLOCK_TICKET] = "ticket",
	[VMP_PVLOCK_QUEUE] = "queue",
};

void
__vmp_pvlock_count_max(enum vmp_pvlock_type type, enum pvlock_cnt c, uint64_t n)
{
	unsigned int lc = rte_lcore_id();
	uint64_t *p =
		&__vmp_pvlock_counters[RTE_MIN(lc, (unsigned int)RTE_MAX_LCORE)]
			 .c[type][c];
	uint64_t old = __atomic_load_n(p, __ATOMIC_RELAXED);

	/* the shared row of non-EAL threads needs the CAS; an lcore's own
	 * row is written by it alone, so the CAS never fails there
	 */
	while (old < n &&
	       !__atomic_compare_exchange_n(p, &old, n, 0, __ATOMIC_RELAXED,
					    __ATOMIC_RELAXED))
		;
}

const char *
vmp_pvlock_type_name(enum vmp_pvlock_type type)
{
	if ((unsigned int)type >= VMP_PVLOCK_NB_TYPES)
		return NULL;
	return type_names[type];
}

/* Sum counter rows [first, last] of @p type into @p st. */
static void
stats_sum(enum vmp_pvlock_type type, unsigned int first, unsigned int last,
	  struct vmp_pvlock_stats *st)
{
	uint64_t sum[CNT_MAX] = {0};
	unsigned int i, c;

	for (i = first; i <= last; i++)
		for (c = 0; c < CNT_MAX; c++) {
			uint64_t v = __atomic_load_n(
				&__vmp_pvlock_counters[i].c[type][c],
				__ATOMIC_RELAXED);

			sum[c] = c == CNT_STEAL_RUN_MAX ? RTE_MAX(sum[c], v)
							: sum[c] + v;
		}
	st->slowpath = sum[CNT_SLOWPATH];
	st->halt_waiter = sum[CNT_HALT_WAITER];
	st->halt_head = sum[CNT_HALT_HEAD];
	st->kick = sum[CNT_KICK];
	st->kick_nohalt = sum[CNT_KICK_NOHALT];
	st->spurious = sum[CNT_SPURIOUS];
	st->steal = sum[CNT_STEAL];
	st->steal_run_max = sum[CNT_STEAL_RUN_MAX];
	st->lead_refused = sum[CNT_LEAD_REFUSED];
	st->head_defer = sum[CNT_HEAD_DEFER];
	st->wakes = sum[CNT_WAKES];
	st->kick_wake_ns_avg =
		sum[CNT_WAKES] == 0 ? 0
				    : sum[CNT_WAKE_CYCLES] * 1000000000ull /
					      rte_get_tsc_hz() / sum[CNT_WAKES];
}

static int
stats_args_ok(enum vmp_pvlock_type type, const struct vmp_pvlock_stats *st)
{
	if ((unsigned int)type >= VMP_PVLOCK_NB_TYPES) {
		PVLOCK_LOG(ERR, "stats_get: lock type %d out of range",
			   (int)type);
		return 0;
	}
	if (st == NULL) {
		PVLOCK_LOG(ERR, "stats_get: stats is NULL");
		return 0;
	}
	return 1;
}

int
vmp_pvlock_stats_get(enum vmp_pvlock_type type, struct vmp_pvlock_stats *st)
{
	if (!stats_args_ok(type, st))
		return -EINVAL;
	stats_sum(type, 0, RTE_MAX_LCORE, st);
	return 0;
}

int
vmp_pvlock_stats_lcore_get(enum vmp_pvlock_type type, unsigned int lcore_id,
			   struct vmp_pvlock_stats *st)
{
	if (!stats_args_ok(type, st))
		return -EINVAL;
	if (lcore_id >= RTE_MAX_LCORE) {
		PVLOCK_LOG(ERR, "stats_lcore_get: lcore %u out of range",
			   lcore_id);
		return -EINVAL;
	}
	stats_sum(type, lcore_id, lcore_id, st);
	return 0;
}

void
vmp_pvlock_stats_reset(void)
{
	unsigned int i, t, c;

	for (i = 0; i <= RTE_MAX_LCORE; i++)
		for (t = 0; t < VMP_PVLOCK_NB_TYPES; t++)
			for (c = 0; c < CNT_MAX; c++)
				__atomic_store_n(
					&__vmp_pvlock_counters[i].c[t][c], 0,
					__ATOMIC_RELAXED);
}

static int
tel_stats(const char *cmd __rte_unused, const char *params __rte_unused,
	  struct rte_tel_data *d)
{
	unsigned int t;

	rte_tel_data_start_dict(d);
	for (t = 0; t < VMP_PVLOCK_NB_TYPES; t++) {
		struct rte_tel_data *s = rte_tel_data_alloc();
		struct vmp_pvlock_stats st;

		if (s == NULL)
			return -ENOMEM;
		vmp_pvlock_stats_get(t, &st);
		rte_tel_data_start_dict(s);
		rte_tel_data_add_dict_u64(s, "slowpath", st.slowpath);
		rte_tel_data_add_dict_u64(s, "halt_waiter", st.halt_waiter);
		rte_tel_data_add_dict_u64(s, "halt_head", st.halt_head);
		rte_tel_data_add_dict_u64(s, "kick", st.kick);
		rte_tel_data_add_dict_u64(s, "kick_nohalt", st.kick_nohalt);
		rte_tel_data_add_dict_u64(s, "spurious", st.spurious);
		rte_tel_data_add_dict_u64(s, "steal", st.steal);
		rte_tel_data_add_dict_u64(s, "steal_run_max", st.steal_run_max);
		rte_tel_data_add_dict_u64(s, "lead_refused", st.lead_refused);
		rte_tel_data_add_dict_u64(s, "head_defer", st.head_defer);
		rte_tel_data_add_dict_u64(s, "wakes", st.wakes);
		rte_tel_data_add_dict_u64(s, "kick_wake_ns_avg",
					  st.kick_wake_ns_avg);
		rte_tel_data_add_dict_container(d, type_names[t], s, 0);
	}
	return 0;
}

RTE_INIT(pvlock_telemetry_init)
{
	rte_telemetry_register_cmd("/vmpath/pvlock/stats", tel_stats,
				   "PV lock event counters per lock type");
}

/* ---- membarrier ---- */

static int membarrier_state; /* 0 unknown, 1 registered, -1 unsupported */

int
__vmp_pvlock_membarrier_init(void)
{
	int st = __atomic_load_n(&membarrier_state, __ATOMIC_ACQUIRE);

	if (st == 0) {
		st = syscall(__NR_membarrier,
			     MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0,
			     0) == 0
			     ? 1
			     : -1;
		if (st < 0)
			PVLOCK_LOG(ERR,
				   "membarrier private expedited: %s; PV locks "
				   "unavailable",
				   strerror(errno));
		__atomic_store_n(&membarrier_state, st, __ATOMIC_RELEASE);
	}
	return st > 0 ? 0 : -ENOTSUP;
}

void
__vmp_pvlock_membarrier(void)
{
	/* Registered at init of every PV lock, so this cannot fail with
	 * EPERM; on any other failure fall back to the global command (slow,
	 * but still a barrier on every thread).
	 */
	if (syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) !=
	    0)
		syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0);
}

/* ---- the default spin threshold ---- */

static uint32_t spin_default; /* iterations, 0 until calibrated */

uint32_t
__vmp_pvlock_spin_default(void)
{
	uint64_t best = UINT64_MAX, t0, hz = rte_get_tsc_hz();
	uint32_t it = __atomic_load_n(&spin_default, __ATOMIC_RELAXED);
	unsigned int r, i;

	if (it != 0)
		return it;
	/* rte_pause() costs from ~1 ns to ~40 ns (seen on this project's
	 * EPYC VMs) depending on the CPU: a fixed iteration count would spin
	 * from microseconds to a scheduler slice. Time 256 pauses (best of 5,
	 * so that a preemption does not count) and convert the budget.
	 */
	for (r = 0; r < 5; r++) {
		t0 = rte_rdtsc_precise();
		for (i = 0; i < 256; i++)
			rte_pause();
		best = RTE_MIN(best, rte_rdtsc_precise() - t0);
	}
	best = RTE_MAX(best, 1u);
	it = (uint32_t)RTE_MIN((uint64_t)VMP_PVLOCK_SPIN_NS_DEFAULT * hz * 256 /
				       (best * 1000000000ull),
			       (uint64_t)VMP_PVLOCK_SPIN_MAX);
	it = RTE_MAX(it, 16u);
	__atomic_store_n(&spin_default, it, __ATOMIC_RELAXED);
	PVLOCK_LOG(DEBUG, "rte_pause() %.1f ns: default spin %u iterations",
		   (double)best * 1e9 / hz / 256, it);
	return it;
}

int
__vmp_pvlock_check_init(const void *l, int pv, const char *what)
{
	if (l == NULL) {
		PVLOCK_LOG(ERR, "%s_init: lock is NULL", what);
		return -EINVAL;
	}
	if (pv != 0 && pv != 1) {
		PVLOCK_LOG(ERR, "%s_init: pv %d is neither 0 nor 1", what, pv);
		return -EINVAL;
	}
	if (pv)
		return __vmp_pvlock_membarrier_init();
	return 0;
}

/* ---- halt / kick of one waiter's futex word ---- */

int
__vmp_pvlock_halt(enum vmp_pvlock_type type, uint32_t *state,
		  const uint64_t *kick_tsc)
{
	uint32_t old;

	/* S2: sleep while HALTED. The kernel re-reads *state, so a K2 that
	 * came before the syscall makes it return at once.
	 */
	while (__atomic_load_n(state, __ATOMIC_ACQUIRE) == PVN_HALTED) {
		vmp_halt_wait(state, PVN_HALTED, 0);
		if (__atomic_load_n(state, __ATOMIC_ACQUIRE) == PVN_HALTED)
			__vmp_pvlock_count(type, CNT_SPURIOUS, 1);
	}
	/* S3: * -> RUNNING. acq_rel: the acquire pairs with the release of
	 * K2 in __vmp_pvlock_kick, so kick_tsc is the kicker's.
	 */
	old = __atomic_exchange_n(state, PVN_RUNNING, __ATOMIC_ACQ_REL);
	if (old != PVN_KICKED)
		return 0;
	__vmp_pvlock_count(type, CNT_WAKES, 1);
	__vmp_pvlock_count(type, CNT_WAKE_CYCLES,
			   rte_rdtsc() -
				   __atomic_load_n(kick_tsc, __ATOMIC_RELAXED));
	return 1;
}

void
__vmp_pvlock_kick(enum vmp_pvlock_type type, uint32_t *state,
		  uint64_t *kick_tsc)
{
	__atomic_store_n(kick_tsc, rte_rdtsc(), __ATOMIC_RELAXED);
	/* K2: HALTED -> KICKED (or RUNNING -> KICKED, harmless: the waiter's
	 * next S1 overwrites it). seq_cst: orders the caller's release of the
	 * lock before it, and kick_tsc (release) for S3.
	 */
	if (__atomic_exchange_n(state, PVN_KICKED, __ATOMIC_SEQ_CST) ==
	    PVN_HALTED) {
		__vmp_pvlock_count(type, CNT_KICK, 1);
		vmp_halt_kick(state, 1);
	} else {
		__vmp_pvlock_count(type, CNT_KICK_NOHALT, 1);
	}
}

/* ---- debug checks ---- */

static int debug_abort = 1;
static uint64_t bad_unlocks;

void
vmp_pvlock_debug_abort_set(int on)
{
	__atomic_store_n(&debug_abort, !!on, __ATOMIC_RELAXED);
}

uint64_t
vmp_pvlock_debug_bad_unlocks(void)
{
	return __atomic_load_n(&bad_unlocks, __ATOMIC_RELAXED);
}

void
__vmp_pvlock_debug_lock(int *holder)
{
	*holder = rte_gettid();
}

int
__vmp_pvlock_debug_unlock(int *holder, enum vmp_pvlock_type type)
{
	int me = rte_gettid();

	if (*holder == me) {
		*holder = 0;
		return 0;
	}
	__atomic_fetch_add(&bad_unlocks, 1, __ATOMIC_RELAXED);
	PVLOCK_LOG(CRIT, "%s unlock by non-holder: tid %d, holder tid %d",
		   type_names[type], me, *holder);
	if (__atomic_load_n(&debug_abort, __ATOMIC_RELAXED))
		abort();
	return -EPERM;
}
