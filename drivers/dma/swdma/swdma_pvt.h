/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SWDMA_PVT_H
#define SWDMA_PVT_H

/*
 * dma_swdma internals: a dmadev whose "hardware" is one or more DPDK services
 * ("engines") that execute copies with the CPU on service lcores.
 *
 * Per-vchan descriptor ring, single producer (the lcore calling the rte_dma
 * fast path for that vchan, as the dmadev API requires) and single consumer
 * (the engine serving the vchan). All indices are free-running uint32_t; a
 * slot is idx & mask; the job id returned to the user is (uint16_t)idx.
 *
 *      tail            done            submitted        head
 *   ----|===============|================|================|------
 *       | DONE:         | SUBMITTED:     | PENDING:       | FREE
 *       | executed, not | owned by the   | written, no    |
 *       | yet reaped    | engine         | doorbell yet   |
 *
 * Slot labels and the only transitions (who moves which index):
 *   FREE -> PENDING        app: copy/fill/copy_sg writes the slot, head++
 *   PENDING -> SUBMITTED   app: submit, store-release `submitted` = head  (B1)
 *   SUBMITTED -> DONE      engine: runs up to `batch` slots, writes the
 *                          status of each that failed (a slot's status is
 *                          SUCCESSFUL unless written so), store-release
 *                          `done` += n                                    (B2)
 *                          (or dev_stop, with the engine quiesced: the slots
 *                          get NOT_ATTEMPTED and `done` = `submitted`)
 *   DONE -> FREE           app: completed/completed_status, tail += n
 *                          (completed_status puts a failed slot's status
 *                          back to SUCCESSFUL as it reaps it)
 *
 * Barrier pairs:
 *   B1  app store-release of `submitted` (vchan_doorbell, from submit or
 *       RTE_DMA_OP_FLAG_SUBMIT)  <->  engine load-acquire of `submitted`
 *       (vchan_drain): the engine sees the descriptor contents written
 *       before the doorbell.
 *   B2  engine store-release of `done` (vchan_drain, swdma_vchan_abort)
 *       <-> app load-acquire of `done` (completed, completed_status,
 *       vchan_status): the app sees each slot's status and the copied bytes.
 *   A slot is rewritten by the app only after it moved DONE -> FREE, i.e.
 *   after B2, which orders the engine's reads of that slot before the app's
 *   new writes: no third barrier is needed.
 *   `errs` (errors among [0, done)) is stored relaxed before `done`'s
 *   release, so a reader that sees `errs` == errors it already reaped knows
 *   [tail, done) is error free and never reads statuses (the fast path).
 *
 * The engine never reads `head` or `tail`; the app never writes `done`. No
 * lock, no atomic read-modify-write and no system call is on the
 * per-descriptor path.
 *
 * Engine quiescence (dev_stop, dev_close): engine->seq is even when the
 * engine is outside its service callback and odd inside. The callback does
 * seq++ (seq_cst) then loads e->running (seq_cst); stop stores running = 0
 * (seq_cst) then loads seq (seq_cst). Either the callback sees running == 0
 * and touches no ring, or stop sees the odd seq and waits for it to change;
 * the callback's closing seq++ is a release paired with stop's acquire load
 * (Q1), so stop then sees every `done`/status the engine wrote.
 */

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_dev.h>
#include <rte_dmadev.h>
#include <rte_log.h>

extern int swdma_logtype;
#define SWDMA_LOG(level, fmt, ...)                                             \
	rte_log(RTE_LOG_##level, swdma_logtype, "swdma: " fmt "\n",            \
		##__VA_ARGS__)

#define SWDMA_MAX_VCHANS 16
#define SWDMA_MAX_ENGINES 8
#define SWDMA_MAX_SGES 4
#define SWDMA_MIN_DESC 32
#define SWDMA_RING_SIZE_DEFAULT 4096
#define SWDMA_RING_SIZE_MIN 64
#define SWDMA_RING_SIZE_MAX 32768
#define SWDMA_BATCH_DEFAULT 32
#define SWDMA_BATCH_MAX 1024
#define SWDMA_PASSES 4	      /* passes over the vchans per service call */
#define SWDMA_IDLE_POLLS 1024 /* empty calls before an idle_us sleep */
#define SWDMA_IDLE_US_MAX 1000
#define SWDMA_FAIL_EVERY_MAX 1000000
#define SWDMA_DELAY_US_MAX 1000000
/* swdma_vchan.faults: jobs of a vchan with any bit set take the fault path */
#define SWDMA_FAULT_FAIL_EVERY 1u /* devarg fail_every */
#define SWDMA_FAULT_DELAY 2u	  /* devarg delay_us */
#define SWDMA_FAULT_STALL 4u	  /* devarg stall, rte_pmd_swdma_stall_set() */
/* Addresses below this are never mapped (Linux mmap_min_addr >= 4096):
 * such a source or destination completes with INVALID_*_ADDR. */
#define SWDMA_ADDR_MIN 4096

enum swdma_op {
	SWDMA_OP_COPY = 0,
	SWDMA_OP_FILL,
	SWDMA_OP_COPY_SG,
};

/*
 * One ring slot: 16 bytes, four per cache line, so the app takes a line back
 * from the engine's core once per four jobs. The common job is all in it: a
 * copy of 1..65535 bytes whose destination is below 2^48 (any user-space
 * address on x86-64 with 4-level paging), dl = dst | len << 48. Any other
 * job (fill, copy_sg, a copy of length 0 or >= 64 KiB or to a higher
 * address) has dl == 0 and is described by the slot's entry in the ext
 * table; its src is then only an address the engine may prefetch.
 */
struct swdma_desc {
	uint64_t src; /**< source address (ext job: a prefetch hint) */
	uint64_t dl;  /**< dst | len << SWDMA_DL_SHIFT; 0: ext job */
};
static_assert(sizeof(struct swdma_desc) == 16, "four slots per cache line");
#define SWDMA_DL_SHIFT 48
#define SWDMA_DL_ADDR_MAX ((UINT64_C(1) << SWDMA_DL_SHIFT) - 1)
#define SWDMA_DL_LEN_MAX UINT16_MAX

/* The whole job of a slot whose dl is 0. */
struct swdma_ext {
	uint64_t src; /**< source address, or the fill pattern */
	uint64_t dst; /**< destination address */
	uint32_t len; /**< bytes (copy, fill) */
	uint8_t op;   /**< enum swdma_op */
	uint8_t nb_src;
	uint8_t nb_dst;
	struct rte_dma_sge sg[2 * SWDMA_MAX_SGES]; /**< copy_sg: src, dst */
};

struct swdma_vchan {
	/* Set up while stopped, then only read (app and engine). */
	struct swdma_desc *ring;
	struct swdma_ext *ext; /**< per slot, read for ext jobs only */
	/* per slot: rte_dma_status_code, SUCCESSFUL unless the engine wrote
	 * a failure (apart from the ring: written only on failures) */
	uint16_t *status;
	uint32_t mask;	     /**< ring slots - 1 */
	uint32_t nb_desc;    /**< capacity the user configured */
	uint16_t id;	     /**< vchan number */
	uint16_t engine;     /**< index of the engine serving it */
	uint32_t fail_every; /**< devarg: fail every Nth copy, 0: never */
	uint32_t delay_us;   /**< devarg: busy-wait before each job, 0: none */
	/* SWDMA_FAULT_* bits, 0 for a device without test devargs: the one
	 * per-job branch they cost. STALL alone changes while the engine runs
	 * (rte_pmd_swdma_stall_set: atomic or/and, relaxed loads by the
	 * engine; a flag, no data hangs on it: the job came with B1). */
	uint32_t faults;

	/* Written only by the fast-path caller (app), on a line of its own:
	 * the engine reads the line above for every slot it runs, and would
	 * take this one back on each submission if they shared it. */
	uint32_t head __rte_cache_aligned; /**< next slot to fill */
	uint32_t sub_shadow; /**< last value stored to `submitted` */
	uint32_t tail;	     /**< next slot to reap */
	uint32_t errs_seen;  /**< errors reaped so far */
	uint64_t st_submitted;
	uint64_t st_completed;
	uint64_t st_errors;

	/* Doorbell, written by the app (B1). */
	uint32_t submitted __rte_cache_aligned;

	/* Written by the engine (B2). */
	uint32_t done __rte_cache_aligned;
	uint32_t errs;	     /**< errors among slots [0, done) */
	uint32_t since_fail; /**< slots run since the last injected failure */
	uint64_t nb_batches; /**< engine passes that found work */
} __rte_cache_aligned;

/*
 * One service. Allocated apart from the device and never freed: DPDK 22.11
 * service cores give no grace period after unregistration, so a callback may
 * still begin on a closed device's engine; it then finds running == 0 and
 * returns without touching anything else (about 200 bytes per engine of a
 * closed device stay allocated).
 */
struct swdma_engine {
	uint32_t running; /**< 1 between dev_start and dev_stop (Q1) */
	uint32_t seq;	  /**< odd while inside the service callback (Q1) */
	uint32_t batch;
	uint32_t idle_us;    /**< devarg idle_us: sleep when idle, 0 = poll */
	uint32_t idle_polls; /**< consecutive calls without work */
	uint64_t nb_sleeps;
	uint16_t nb_vchans;
	uint16_t index;
	struct swdma_vchan *vchans[SWDMA_MAX_VCHANS]; /**< set while stopped */
	uint32_t service_id;
	bool registered;
	uint64_t nb_calls;
} __rte_cache_aligned;

struct swdma_params {
	uint32_t ring_size;  /**< max_desc: largest ring a vchan may ask */
	uint32_t batch;	     /**< slots an engine runs per vchan per pass */
	uint32_t idle_us;    /**< idle backoff sleep, 0: pure polling */
	uint32_t fail_every; /**< fail every Nth slot run (tests), 0: never */
	uint32_t delay_us;   /**< busy-wait before each job (tests), 0: none */
	uint32_t stall;	     /**< hold every job until released (tests) */
	uint16_t nb_engines; /**< services registered for the device */
	uint16_t nb_lcores;  /**< lcores= entries; 0: not mapped by us */
	uint16_t lcores[SWDMA_MAX_ENGINES];
};

struct swdma_dev {
	struct swdma_params p;
	char name[RTE_DEV_NAME_MAX_LEN];
	int16_t dev_id;
	int socket;
	bool started;
	uint16_t nb_vchans;
	struct swdma_vchan *vchans[SWDMA_MAX_VCHANS];
	struct swdma_engine *engines[SWDMA_MAX_ENGINES];
	struct swdma_dev *next; /**< registry, for rte_pmd_swdma_* */
	/* lcores this device mapped engines to (swdma_engine.c) */
	uint64_t lcores_used[RTE_MAX_LCORE / 64];
};

/* swdma_fp.c: fast path and the engine's service callback */
int swdma_copy(void *priv, uint16_t vchan, rte_iova_t src, rte_iova_t dst,
	       uint32_t length, uint64_t flags);
int swdma_copy_sg(void *priv, uint16_t vchan, const struct rte_dma_sge *src,
		  const struct rte_dma_sge *dst, uint16_t nb_src,
		  uint16_t nb_dst, uint64_t flags);
int swdma_fill(void *priv, uint16_t vchan, uint64_t pattern, rte_iova_t dst,
	       uint32_t length, uint64_t flags);
int swdma_submit(void *priv, uint16_t vchan);
uint16_t swdma_completed(void *priv, uint16_t vchan, const uint16_t nb_cpls,
			 uint16_t *last_idx, bool *has_error);
uint16_t swdma_completed_status(void *priv, uint16_t vchan,
				const uint16_t nb_cpls, uint16_t *last_idx,
				enum rte_dma_status_code *status);
uint16_t swdma_burst_capacity(const void *priv, uint16_t vchan);
int32_t swdma_engine_run(void *arg);
void swdma_vchan_abort(struct swdma_vchan *vc);

/* swdma_engine.c: services, lcore mapping, quiescence */
int swdma_engines_create(struct swdma_dev *sd);
void swdma_engines_destroy(struct swdma_dev *sd);
int swdma_engine_map_lcore(struct swdma_dev *sd, unsigned int e,
			   unsigned int lcore);
void swdma_engines_go(struct swdma_dev *sd);
int swdma_engines_quiesce(struct swdma_dev *sd);
bool swdma_engines_serviced(const struct swdma_dev *sd);
void swdma_registry_add(struct swdma_dev *sd);
void swdma_registry_del(struct swdma_dev *sd);

#endif /* SWDMA_PVT_H */
