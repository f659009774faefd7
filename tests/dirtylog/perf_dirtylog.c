/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dirtylog_perf_autotest: the mapping-cost bench (KVM's kvm_page_table_test
 * from "KVM: selftests: Add a test for kvm page table code", in userspace,
 * with kernel write-protect tracking in place of KVM's dirty logging) and
 * the software-log costs.
 *
 * Part 1, per backing (anon 4 KiB / THP / hugetlb / shmem: a memfd mapped
 * shared, as vhost-user guest memory is) and 1 or 2 lcores (rank
 * 0 writes, rank 1 reads, like that test's even/odd vCPUs):
 *   CREATE   first touch of every large page (8 bytes at its start)
 *   PROTECT  vmp_dirty_start(): UFFDIO_REGISTER + write-protect everything
 *   UPDATE   anon/shmem: every lcore writes every 4 KiB page; THP/hugetlb:
 * write the first 4 KiB page of each large page and read its upper half, under
 * tracking (THP splits, hugetlb stays whole) SCAN     vmp_dirty_bitmap_get():
 * PAGEMAP_SCAN collect + re-protect STOP     vmp_dirty_stop(): un-protect +
 * UFFDIO_UNREGISTER ADJUST   every lcore reads every 4 KiB page after tracking
 * stopped anchor   a write to every 4 KiB page, mapped and untracked Each
 * stage: median of REPS fresh mappings, total and per page.
 *
 * Part 2: the kernel tracker's get over 1 GiB of populated anonymous memory
 * with 1 % of the pages written (VMP_DIRTYBENCH_KGET_MB).
 *
 * Part 3 (software log, 1 GiB tracked): log_write ns/page (direct, cached,
 * 2 lcores on the same words) against an atomic OR / plain OR anchor, and
 * bitmap_get scan GB/s at 0 / 1 / 100 % dirty against a plain read of the
 * log (popcount) anchor.
 *
 * Environment: VMP_DIRTYBENCH_MB (anon/THP size, default 256; hugetlb uses
 * half, to spare the machine's shared hugepage pool), VMP_DIRTYBENCH_REPS
 * (default 5), VMP_DIRTYBENCH_SOFT_ONLY (set: part 3 only). It never
 * asserts speed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_memory.h>
#include <rte_random.h>

#include <vmp_dirtylog.h>

#include "dirtylog_test_mem.h"
#include "vmp_test.h"

#define PG ((uint64_t)4096)
#define HPG ((uint64_t)2 << 20)
#define MAXREPS 15

enum stage { CREATE, PROTECT, UPDATE, SCAN, STOP, ADJUST, ANCHOR, NB_STAGE };
static const char *const sname[] = {"CREATE", "PROTECT", "UPDATE",	"SCAN",
				    "STOP",   "ADJUST",	 "anchor:write"};

static struct {
	volatile uint8_t *mem;
	uint64_t len;
	uint64_t lpg; /* large page size of the backing (stride) */
	enum backing b;
	enum stage st;
	uint32_t go, done;
	uint64_t t0[2], t1[2];
	uint64_t sink;
} sh;

static uint64_t
env_u64(const char *name, uint64_t dflt)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : dflt;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t
median(uint64_t *v, int n)
{
	qsort(v, n, sizeof(v[0]), cmp_u64);
	return v[n / 2];
}

static double
cyc2ns(uint64_t c)
{
	return (double)c * 1e9 / (double)rte_get_tsc_hz();
}

/* One stage on one lcore (rank 0 writes, rank 1 reads where it matters). */
static void
stage_body(unsigned int rank)
{
	volatile uint8_t *m = sh.mem;
	uint64_t off, j, sum = 0;

	switch (sh.st) {
	case CREATE:
		for (off = 0; off < sh.len; off += sh.lpg) {
			if (rank % 2 == 0)
				*(volatile uint64_t *)(m + off) =
					0x0123456789abcdefULL;
			else
				sum += *(volatile uint64_t *)(m + off);
		}
		break;
	case UPDATE:
		if (sh.b == ANON || sh.b == SHMEM) {
			for (off = 0; off < sh.len; off += PG)
				*(volatile uint64_t *)(m + off) =
					0x0123456789abcdefULL;
			break;
		}
		for (off = 0; off < sh.len; off += sh.lpg) {
			*(volatile uint64_t *)(m + off) = 0x0123456789abcdefULL;
			for (j = sh.lpg / 2; j < sh.lpg; j += PG)
				sum += *(volatile uint64_t *)(m + off + j);
		}
		break;
	case ADJUST:
		for (off = 0; off < sh.len; off += PG)
			sum += *(volatile uint64_t *)(m + off);
		break;
	case ANCHOR:
		if (rank == 0)
			for (off = 0; off < sh.len; off += PG)
				*(volatile uint64_t *)(m + off) = off;
		break;
	default:
		break;
	}
	sh.sink += sum;
}

static int
stage_worker(void *arg)
{
	unsigned int rank = (unsigned int)(uintptr_t)arg;

	while (!__atomic_load_n(&sh.go, __ATOMIC_ACQUIRE))
		rte_pause();
	sh.t0[rank] = rte_rdtsc_precise();
	stage_body(rank);
	sh.t1[rank] = rte_rdtsc_precise();
	__atomic_fetch_add(&sh.done, 1, __ATOMIC_RELEASE);
	return 0;
}

/* Run the stage on nl worker lcores; main sleeps (it shares a core). */
static uint64_t
run_stage(enum stage st, unsigned int nl, const unsigned int *lcores)
{
	struct timespec ts = {0, 20000};
	unsigned int i;
	uint64_t a = UINT64_MAX, z = 0;

	sh.st = st;
	sh.go = 0;
	sh.done = 0;
	for (i = 0; i < nl; i++)
		rte_eal_remote_launch(stage_worker, (void *)(uintptr_t)i,
				      lcores[i]);
	__atomic_store_n(&sh.go, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&sh.done, __ATOMIC_ACQUIRE) < nl)
		nanosleep(&ts, NULL);
	rte_eal_mp_wait_lcore();
	for (i = 0; i < nl; i++) {
		a = RTE_MIN(a, sh.t0[i]);
		z = RTE_MAX(z, sh.t1[i]);
	}
	return z - a;
}

static int
bench_mapping(enum backing b, unsigned int nl, const unsigned int *lcores,
	      int reps)
{
	uint64_t len = env_u64("VMP_DIRTYBENCH_MB", 256) << 20;
	uint64_t cyc[NB_STAGE][MAXREPS], npg[NB_STAGE], scanned = 0;
	struct vmp_dirty_mapping_info mi = {0}, mi_end = {0};
	int r, s;

	if (b == HUGETLB)
		len /= 2;
	len = RTE_ALIGN_CEIL(len, HPG);
	sh.b = b;
	sh.len = len;
	for (r = 0; r < reps; r++) {
		struct vmp_dirty_region reg;
		struct vmp_dirty_params p = {
			.name = "bench",
			.regions = &reg,
			.nb_regions = 1,
			.mode = VMP_DIRTY_MODE_KERNEL_WP,
			.socket_id = SOCKET_ID_ANY,
		};
		struct vmp_dirty_tracker *t;
		uint64_t *bm, t0;
		struct test_mem tm;
		int merr = test_mem_map(&tm, b, len);
		void *mem = tm.addr;
		int64_t n;

		if (merr < 0) {
			printf("  %s: cannot map %" PRIu64 " MiB: %s -- "
			       "skipped\n",
			       backing_name[b], len >> 20, strerror(-merr));
			return TEST_SKIPPED;
		}
		sh.mem = mem;
		sh.lpg = b == ANON || b == SHMEM ? PG : HPG;
		cyc[CREATE][r] = run_stage(CREATE, nl, lcores);
		vmp_dirty_mapping_info(mem, &mi);
		reg = (struct vmp_dirty_region){
			.iova = 0, .host = mem, .len = len};
		t = vmp_dirty_tracker_create(&p);
		bm = rte_zmalloc(NULL, len / PG / 8, 64);
		if (t == NULL || bm == NULL) {
			printf("  create: %s\n", rte_strerror(rte_errno));
			return TEST_FAILED;
		}
		t0 = rte_rdtsc_precise();
		if (vmp_dirty_start(t) != 0) {
			printf("  kernel WP tracking unavailable: skipped\n");
			vmp_dirty_tracker_free(t);
			test_mem_unmap(&tm);
			return TEST_SKIPPED;
		}
		cyc[PROTECT][r] = rte_rdtsc_precise() - t0;
		cyc[UPDATE][r] = run_stage(UPDATE, nl, lcores);
		t0 = rte_rdtsc_precise();
		n = vmp_dirty_bitmap_get(t, 0, len, PG, bm, len / PG / 8, 0);
		cyc[SCAN][r] = rte_rdtsc_precise() - t0;
		scanned = n > 0 ? (uint64_t)n : 0;
		t0 = rte_rdtsc_precise();
		vmp_dirty_stop(t);
		cyc[STOP][r] = rte_rdtsc_precise() - t0;
		cyc[ADJUST][r] = run_stage(ADJUST, nl, lcores);
		vmp_dirty_mapping_info(mem, &mi_end); /* did THP come back? */
		cyc[ANCHOR][r] = run_stage(ANCHOR, 1, lcores);
		vmp_dirty_tracker_free(t);
		rte_free(bm);
		test_mem_unmap(&tm);
	}
	npg[CREATE] = len / sh.lpg;
	npg[PROTECT] = len / PG;
	npg[UPDATE] = sh.lpg == PG ? len / PG : len / HPG * (1 + HPG / PG / 2);
	npg[SCAN] = len / PG;
	npg[STOP] = len / PG;
	npg[ADJUST] = len / PG;
	npg[ANCHOR] = len / PG;
	printf("\n  backing %s | page size obtained: KernelPageSize %" PRIu64
	       " KiB, AnonHugePages %" PRIu64 " MiB of %" PRIu64
	       " MiB (after ADJUST %" PRIu64 " MiB) | size %" PRIu64
	       " MiB | lcores %u (%s) | reps %d\n",
	       backing_name[b], mi.kernel_page_size >> 10,
	       mi.anon_huge_bytes >> 20, len >> 20,
	       mi_end.anon_huge_bytes >> 20, len >> 20, nl,
	       nl == 1 ? "lcore 0 writes" : "rank 0 writes, rank 1 reads",
	       reps);
	printf("  %-13s %10s %10s %10s   (SCAN reported %" PRIu64
	       " dirty 4K pages)\n",
	       "stage", "total ms", "ns/page", "pages", scanned);
	for (s = 0; s < NB_STAGE; s++) {
		uint64_t m = median(cyc[s], reps);

		printf("  %-13s %10.2f %10.1f %10" PRIu64 "\n", sname[s],
		       cyc2ns(m) / 1e6, cyc2ns(m) / (double)npg[s], npg[s]);
	}
	return TEST_SUCCESS;
}

/* ---- part 3: software log ------------------------------------------- */

#define LOG_GIB ((uint64_t)1 << 30)
#define NWRITES (1u << 20)
#define SOFT_REPS 31 /* short runs, many: the median dodges preemption */

static struct vmp_dirty_tracker *soft;
static uint64_t contended_cyc[2];
static int contended_cached;

static uint64_t
time_log_writes(unsigned int rank, unsigned int stride, int cached)
{
	struct vmp_dirty_log_cache c;
	uint64_t npages = LOG_GIB / PG, p = rank, t0, i;

	vmp_dirty_log_cache_init(&c);
	t0 = rte_rdtsc_precise();
	if (cached) {
		for (i = 0; i < NWRITES; i++) {
			vmp_dirty_log_cache_write(soft, &c, p * PG, PG);
			p = (p + stride) & (npages - 1);
			if ((i & 31) == 31) /* a 32-packet burst */
				vmp_dirty_log_cache_flush(&c);
		}
		vmp_dirty_log_cache_flush(&c);
	} else {
		for (i = 0; i < NWRITES; i++) {
			vmp_dirty_log_write(soft, p * PG, PG);
			p = (p + stride) & (npages - 1);
		}
	}
	return rte_rdtsc_precise() - t0;
}

static int
contended_worker(void *arg)
{
	unsigned int rank = (unsigned int)(uintptr_t)arg;

	while (!__atomic_load_n(&sh.go, __ATOMIC_ACQUIRE))
		rte_pause();
	/* both lcores write interleaved pages: the same log words */
	contended_cyc[rank] = time_log_writes(rank, 2, contended_cached);
	return 0;
}

static int
bench_soft(const unsigned int *lcores, unsigned int nlc, int reps)
{
	struct vmp_dirty_region reg = {.iova = 0, .len = LOG_GIB};
	struct vmp_dirty_params p = {.name = "soft",
				     .regions = &reg,
				     .nb_regions = 1,
				     .socket_id = SOCKET_ID_ANY};
	uint64_t words = LOG_GIB / PG / 64, *bm, *w;
	uint64_t v[7][SOFT_REPS], t0, i, x = 0;
	int r, k;
	static const char *const what[7] = {
		"log_write, 1 page, sequential",
		"log_write, 1 page, stride 67 pages",
		"log_cache_write, 1 page, flush/32",
		"anchor: __atomic_fetch_or on a word",
		"anchor: plain OR into a bitmap",
		"log_write, 2 lcores, same words",
		"log_cache_write, 2 lcores, same words",
	};

	soft = vmp_dirty_tracker_create(&p);
	bm = rte_zmalloc(NULL, words * 8, 64);
	w = rte_zmalloc(NULL, words * 8, 64);
	if (soft == NULL || bm == NULL || w == NULL)
		return TEST_FAILED;
	vmp_dirty_start(soft);
	for (r = 0; r < reps; r++) {
		v[0][r] = time_log_writes(0, 1, 0);
		v[1][r] = time_log_writes(0, 67, 0);
		v[2][r] = time_log_writes(0, 1, 1);
		t0 = rte_rdtsc_precise();
		for (i = 0; i < NWRITES; i++)
			__atomic_fetch_or(&w[(i >> 6) & (words - 1)],
					  1ULL << (i & 63), __ATOMIC_RELEASE);
		v[3][r] = rte_rdtsc_precise() - t0;
		t0 = rte_rdtsc_precise();
		for (i = 0; i < NWRITES; i++) {
			((volatile uint64_t *)w)[(i >> 6) & (words - 1)] |=
				1ULL << (i & 63);
		}
		v[4][r] = rte_rdtsc_precise() - t0;
		v[5][r] = v[6][r] = 0;
		for (k = 0; k < 2 && nlc >= 2; k++) {
			struct timespec ts = {0, 20000};
			unsigned int j;

			contended_cached = k;
			sh.go = 0;
			for (j = 0; j < 2; j++)
				rte_eal_remote_launch(contended_worker,
						      (void *)(uintptr_t)j,
						      lcores[j]);
			__atomic_store_n(&sh.go, 1, __ATOMIC_RELEASE);
			while (rte_eal_get_lcore_state(lcores[0]) == RUNNING ||
			       rte_eal_get_lcore_state(lcores[1]) == RUNNING)
				nanosleep(&ts, NULL);
			rte_eal_mp_wait_lcore();
			v[5 + k][r] =
				RTE_MAX(contended_cyc[0], contended_cyc[1]);
		}
	}
	printf("\n  software log, 1 GiB tracked (%" PRIu64
	       " KiB log), %u writes per run, median of %d\n",
	       words * 8 >> 10, NWRITES, reps);
	printf("  %-40s %10s %12s\n", "operation (per write, per lcore)",
	       "ns/page", "x atomic OR");
	{
		double anchor = cyc2ns(median(v[3], reps)) / NWRITES;

		for (k = 0; k < 7; k++) {
			double ns = cyc2ns(median(v[k], reps)) / NWRITES;

			if (k >= 5 && nlc < 2)
				continue;
			printf("  %-40s %10.2f %12.2f\n", what[k], ns,
			       ns / anchor);
		}
	}

	/* bitmap_get over the whole GiB at 0 %, 1 %, 100 % dirty */
	printf("\n  bitmap_get over 1 GiB (%" PRIu64 " pages), median of %d\n",
	       LOG_GIB / PG, reps);
	printf("  %-34s %10s %10s %10s\n", "case", "ms", "GB/s", "reported");
	{
		static const int pct[3] = {0, 1, 100};
		uint64_t npages = LOG_GIB / PG, got = 0;
		int c;

		for (c = 0; c < 3; c++) {
			for (r = 0; r < reps; r++) {
				uint64_t d = npages * pct[c] / 100, j;

				rte_srand(42 + r);
				for (j = 0; j < d; j++)
					vmp_dirty_log_write(
						soft,
						pct[c] == 100
							? j * PG
							: rte_rand_max(npages) *
								  PG,
						1);
				t0 = rte_rdtsc_precise();
				got = vmp_dirty_bitmap_get(soft, 0, LOG_GIB, PG,
							   bm, words * 8, 0);
				v[0][r] = rte_rdtsc_precise() - t0;
			}
			t0 = median(v[0], reps);
			printf("  %3d %% dirty, read-and-clear       %10.3f "
			       "%10.1f %10" PRIu64 "\n",
			       pct[c], cyc2ns(t0) / 1e6,
			       (double)LOG_GIB / cyc2ns(t0), got);
		}
		for (r = 0; r < reps; r++) {
			t0 = rte_rdtsc_precise();
			for (i = 0; i < words; i++)
				x += __builtin_popcountll(
					((volatile uint64_t *)bm)[i]);
			v[0][r] = rte_rdtsc_precise() - t0;
		}
		t0 = median(v[0], reps);
		printf("  %-34s %10.3f %10.1f\n",
		       "anchor: popcount of a 32 KiB map", cyc2ns(t0) / 1e6,
		       (double)LOG_GIB / cyc2ns(t0));
	}
	sh.sink += x;
	vmp_dirty_tracker_free(soft);
	rte_free(bm);
	rte_free(w);
	return TEST_SUCCESS;
}

/* ---- part 2: kernel tracker get over a large anonymous mapping --------- */

static int
bench_kernel_get(int reps)
{
	uint64_t len = env_u64("VMP_DIRTYBENCH_KGET_MB", 1024) << 20;
	uint64_t npages = len / PG, words = npages / 64, off, j;
	struct vmp_dirty_region reg = {.iova = 0, .len = len};
	struct vmp_dirty_params p = {.name = "kget",
				     .regions = &reg,
				     .nb_regions = 1,
				     .mode = VMP_DIRTY_MODE_KERNEL_WP,
				     .socket_id = SOCKET_ID_ANY};
	uint64_t cyc[2][MAXREPS], t0, got = 0;
	struct vmp_dirty_tracker *t;
	struct test_mem tm;
	int merr = test_mem_map(&tm, ANON, len);
	void *mem = tm.addr;
	uint64_t *bm = rte_zmalloc(NULL, words * 8, 64);
	int r;

	if (merr < 0 || bm == NULL) {
		test_mem_unmap(&tm);
		rte_free(bm);
		printf("  kernel get: cannot map %" PRIu64 " MiB\n", len >> 20);
		return TEST_SKIPPED;
	}
	for (off = 0; off < len; off += PG) /* populated, 4 KiB pages */
		((volatile uint8_t *)mem)[off] = 1;
	reg.host = mem;
	t = vmp_dirty_tracker_create(&p);
	if (t == NULL || vmp_dirty_start(t) != 0) {
		vmp_dirty_tracker_free(t);
		test_mem_unmap(&tm);
		rte_free(bm);
		return TEST_SKIPPED;
	}
	for (r = 0; r < reps; r++) {
		rte_srand(7 + r);
		for (j = 0; j < npages / 100; j++) /* 1 %: write faults */
			((volatile uint8_t *)mem)[rte_rand_max(npages) * PG] =
				2;
		t0 = rte_rdtsc_precise();
		got = vmp_dirty_bitmap_get(t, 0, len, PG, bm, words * 8, 0);
		cyc[0][r] = rte_rdtsc_precise() - t0;
		t0 = rte_rdtsc_precise();
		vmp_dirty_bitmap_get(t, 0, len, PG, bm, words * 8, 0);
		cyc[1][r] = rte_rdtsc_precise() - t0;
	}
	t0 = median(cyc[0], reps);
	printf("\n  kernel WP tracker, anon %" PRIu64 " MiB populated, "
	       "median of %d\n",
	       len >> 20, reps);
	printf("  %-34s %10s %10s %10s\n", "case", "ms", "GB/s", "reported");
	printf("  %-34s %10.3f %10.1f %10" PRIu64 "\n",
	       "1 % written, collect+re-protect", cyc2ns(t0) / 1e6,
	       (double)len / cyc2ns(t0), got);
	t0 = median(cyc[1], reps);
	printf("  %-34s %10.3f %10.1f %10d\n", "0 % written (right after)",
	       cyc2ns(t0) / 1e6, (double)len / cyc2ns(t0), 0);
	vmp_dirty_tracker_free(t);
	test_mem_unmap(&tm);
	rte_free(bm);
	return TEST_SUCCESS;
}

static int
test_dirtylog_perf(void)
{
	int reps = (int)RTE_MIN(env_u64("VMP_DIRTYBENCH_REPS", 5),
				(uint64_t)MAXREPS);
	unsigned int lcores[2], nlc = 0, lc, nl;
	int b, rc = TEST_SUCCESS, caps = vmp_dirty_kernel_probe();

	if (reps < 1)
		reps = 1;
	RTE_LCORE_FOREACH_WORKER (lc) {
		if (nlc < 2)
			lcores[nlc++] = lc;
	}
	if (nlc == 0) {
		printf("needs worker lcores\n");
		return TEST_SKIPPED;
	}
	printf("dirtylog bench: %u worker lcores (", nlc);
	for (lc = 0; lc < nlc; lc++) {
		rte_cpuset_t cs = rte_lcore_cpuset(lcores[lc]);
		int cpu;

		for (cpu = 0; cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &cs); cpu++)
			;
		printf("%slcore %u@cpu%d", lc ? ", " : "", lcores[lc], cpu);
	}
	printf("), TSC %" PRIu64 " MHz, kernel caps 0x%x\n",
	       rte_get_tsc_hz() / 1000000, caps);
	if (getenv("VMP_DIRTYBENCH_SOFT_ONLY") != NULL)
		caps = -caps; /* skip part 1 */
	if (caps > 0) {
		for (b = 0; b < NB_BACKING; b++)
			for (nl = 1; nl <= RTE_MIN(2u, nlc); nl++)
				if (bench_mapping(b, nl, lcores, reps) ==
				    TEST_FAILED)
					rc = TEST_FAILED;
	} else {
		printf("kernel WP tracking unsupported: mapping bench "
		       "skipped\n");
	}
	if (caps > 0 && bench_kernel_get(reps) == TEST_FAILED)
		rc = TEST_FAILED;
	if (bench_soft(lcores, nlc, SOFT_REPS) == TEST_FAILED)
		rc = TEST_FAILED;
	return rc;
}

REGISTER_TEST_COMMAND(dirtylog_perf_autotest, test_dirtylog_perf);
