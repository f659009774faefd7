/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * migrate_perf_autotest (perf-tests: prints tables, asserts nothing about
 * speed). Medians of 5 runs; every anchor is measured in the same run:
 *   1. zero-page scan GB/s on one core (vector scan vs a plain 64-bit loop),
 *      over resident zero memory and over non-zero pages (early exit);
 *   2. the END digest GB/s;
 *   3. zlib level 1 on one core over realistic 4 KiB pages (pages/s, MB/s);
 *   4. compression through the worker models for 1..N workers (the first N
 *      EAL worker lcores; the submitter on the main lcore): pages/s and the
 *      ratio to the anchor "N x single-core zlib", measured in the same run,
 *      right before and right after each pool run (mean of the two), as the
 *      sum over those N lcores of (3) run on each lcore alone. Each worker
 *      does what the engine's does: copy the page, then deflate it with the
 *      same settings as the anchor.
 * The fair configuration gives each worker its own core, e.g.
 * `--lcores '0@0,1@1'` (1 worker on CPU 1, submitter on CPU 0); with workers
 * on every core the submitter shares one of them.
 * Content: 25 % zero, 37.5 % text-like (words), 25 % binary (small counters
 * and pointers), 12.5 % random -- the synthetic guest's mix.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <zlib.h>

#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include <vmp_migrate.h>

#include "mig_pvt.h"
#include "vmp_test.h"

#define RUNS 5
#define ZERO_MEM (256u << 20)
#define CPAGES 8192 /* 32 MiB of content */

static uint8_t *content;

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v)
{
	qsort(v, RUNS, sizeof(double), cmp_d);
	return v[RUNS / 2];
}

static void
make_content(void)
{
	static const char *const w[] = {"the ",	   "page ", "kernel ", "dirty ",
					"0x7f00 ", "ring ", "return ", "{\n"};
	uint64_t s = 0x2545F4914F6CDD1Dull, i, k;

	for (i = 0; i < CPAGES; i++) {
		uint8_t *p = content + i * VMP_MIG_PAGE_SIZE;
		unsigned int kind =
			(unsigned int)((i * 0x9E3779B97F4A7C15ull) >> 61);

		for (k = 0; k < VMP_MIG_PAGE_SIZE;) {
			s ^= s << 13;
			s ^= s >> 7;
			s ^= s << 17;
			if (kind < 2) {
				p[k++] = 0;
			} else if (kind < 5) {
				const char *x = w[s % 8];

				while (*x && k < VMP_MIG_PAGE_SIZE)
					p[k++] = (uint8_t)*x++;
			} else {
				uint64_t v = kind == 7 ? s : (i << 8) + k;

				memcpy(p + k, &v, 8);
				k += 8;
			}
		}
	}
}

static bool
plain_is_zero(const void *pg, size_t len)
{
	const volatile uint64_t *w = pg;
	size_t i;

	for (i = 0; i < len / 8; i++)
		if (w[i] != 0)
			return false;
	return true;
}

static double
scan_gbs(const uint8_t *mem, size_t len, bool vec, unsigned int *nz)
{
	uint64_t t = rte_get_tsc_cycles();
	size_t off;
	unsigned int n = 0;

	for (off = 0; off < len; off += VMP_MIG_PAGE_SIZE)
		n += vec ? !vmp_mig_page_is_zero(mem + off, VMP_MIG_PAGE_SIZE)
			 : !plain_is_zero(mem + off, VMP_MIG_PAGE_SIZE);
	*nz = n;
	return (double)len /
	       ((double)(rte_get_tsc_cycles() - t) / rte_get_tsc_hz()) / 1e9;
}

static double
zlib_single(uint64_t *out_bytes)
{
	static uint8_t out[VMP_MIG_PAGE_SIZE];
	z_stream z;
	uint64_t t, i, bytes = 0, n = 0;

	memset(&z, 0, sizeof(z));
	deflateInit2(&z, 1, Z_DEFLATED, -12, 4, Z_DEFAULT_STRATEGY);
	t = rte_get_tsc_cycles();
	for (i = 0; i < CPAGES; i++) {
		const uint8_t *p = content + i * VMP_MIG_PAGE_SIZE;

		if (vmp_mig_page_is_zero(p, VMP_MIG_PAGE_SIZE))
			continue; /* zero pages never reach zlib */
		deflateReset(&z);
		z.next_in = (uint8_t *)(uintptr_t)p;
		z.avail_in = VMP_MIG_PAGE_SIZE;
		z.next_out = out;
		z.avail_out = sizeof(out) - 64;
		if (deflate(&z, Z_FINISH) == Z_STREAM_END)
			bytes += z.total_out;
		else
			bytes += VMP_MIG_PAGE_SIZE;
		n++;
	}
	t = rte_get_tsc_cycles() - t;
	deflateEnd(&z);
	*out_bytes = bytes;
	return (double)n / ((double)t / rte_get_tsc_hz());
}

/* ---- through the worker models ---- */

struct pjob {
	uint32_t page;
	uint32_t len;
	uint8_t in[VMP_MIG_PAGE_SIZE] __attribute__((aligned(64)));
	uint8_t out[VMP_MIG_PAGE_SIZE];
};

static z_stream *pz[VMP_MIG_MAX_WORKERS];
static uint64_t done_cnt;

static int
p_winit(unsigned int w, void *arg __rte_unused)
{
	pz[w] = calloc(1, sizeof(z_stream));
	return deflateInit2(pz[w], 1, Z_DEFLATED, -12, 4, Z_DEFAULT_STRATEGY);
}

static void
p_wuninit(unsigned int w, void *arg __rte_unused)
{
	deflateEnd(pz[w]);
	free(pz[w]);
}

static void
p_job(void *data, unsigned int w, void *arg __rte_unused)
{
	struct pjob *j = data;
	z_stream *z = pz[w];

	/* as the engine's worker: the page may be written meanwhile */
	memcpy(j->in, content + (uint64_t)j->page * VMP_MIG_PAGE_SIZE,
	       VMP_MIG_PAGE_SIZE);
	deflateReset(z);
	z->next_in = j->in;
	z->avail_in = VMP_MIG_PAGE_SIZE;
	z->next_out = j->out;
	z->avail_out = VMP_MIG_PAGE_SIZE - 64;
	j->len = deflate(z, Z_FINISH) == Z_STREAM_END ? z->total_out
						      : VMP_MIG_PAGE_SIZE;
}

static void
p_done(void *data __rte_unused, void *arg __rte_unused)
{
	done_cnt++;
}

static unsigned int wlc[VMP_MIG_MAX_WORKERS]; /* EAL worker lcores */

struct zl_arg {
	double rate;
	uint64_t bytes;
};

static int
zl_on_lcore(void *arg)
{
	struct zl_arg *a = arg;

	a->rate = zlib_single(&a->bytes);
	return 0;
}

/* The anchor: single-core zlib run alone on each of the first nw worker
 * lcores in turn, summed (N x single-core where the workers will run). */
static double
zlib_anchor(unsigned int nw)
{
	struct zl_arg a;
	double sum = 0;
	unsigned int i;

	for (i = 0; i < nw; i++) {
		if (rte_eal_remote_launch(zl_on_lcore, &a, wlc[i]) != 0)
			return 0;
		/* sleep, not rte_eal_wait_lcore()'s spin: the main lcore must
		 * leave the CPU alone, as the submitter mostly does */
		while (rte_eal_get_lcore_state(wlc[i]) == RUNNING)
			rte_delay_us_sleep(1000);
		rte_eal_wait_lcore(wlc[i]);
		sum += a.rate;
	}
	return sum;
}

static double
pool_rate(enum vmp_mig_model model, unsigned int nw, double *busy_min,
	  double *busy_max)
{
	struct mig_cpool_params p;
	struct mig_cpool *cp;
	double pct[VMP_MIG_MAX_WORKERS];
	unsigned int lc[VMP_MIG_MAX_WORKERS], i, n;
	uint64_t t, pg, sent = 0;

	memset(&p, 0, sizeof(p));
	p.name = "perf";
	p.model = model;
	p.nb_workers = nw;
	p.lcores = wlc;
	p.job_size = sizeof(struct pjob);
	p.handler = p_job;
	p.done = p_done;
	p.worker_init = p_winit;
	p.worker_uninit = p_wuninit;
	cp = mig_cpool_create(&p);
	if (cp == NULL)
		return 0;
	done_cnt = 0;
	t = rte_get_tsc_cycles();
	for (pg = 0; pg < CPAGES; pg++) {
		struct pjob *j;

		if (vmp_mig_page_is_zero(content + pg * VMP_MIG_PAGE_SIZE,
					 VMP_MIG_PAGE_SIZE))
			continue;
		j = mig_cpool_get_wait(cp, NULL);
		j->page = (uint32_t)pg;
		mig_cpool_put(cp, j);
		sent++;
	}
	mig_cpool_drain(cp);
	t = rte_get_tsc_cycles() - t;
	n = mig_cpool_worker_busy(cp, pct, lc, VMP_MIG_MAX_WORKERS);
	*busy_min = 100;
	*busy_max = 0;
	for (i = 0; i < n; i++) {
		*busy_min = RTE_MIN(*busy_min, pct[i]);
		*busy_max = RTE_MAX(*busy_max, pct[i]);
	}
	mig_cpool_destroy(cp);
	if (done_cnt != sent)
		printf("  WARNING: %" PRIu64 " done of %" PRIu64 "\n", done_cnt,
		       sent);
	return (double)sent / ((double)t / rte_get_tsc_hz());
}

static int
migrate_perf_autotest(void)
{
	double v[RUNS], p[RUNS], z1[RUNS], zvec, zplain, nzvec, dig, zl;
	double bmin = 0, bmax = 0;
	uint8_t *zero;
	uint64_t cbytes = 0;
	unsigned int i, nz = 0, nw, maxw = 0, l;
	int m;

	RTE_LCORE_FOREACH_WORKER (l) {
		if (maxw < VMP_MIG_MAX_WORKERS)
			wlc[maxw++] = l;
	}

	printf("\nmigrate perf (machine shared with other engineers: medians "
	       "of %d runs)\n",
	       RUNS);
	zero = mmap(NULL, ZERO_MEM, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	content = mmap(NULL, (size_t)CPAGES * VMP_MIG_PAGE_SIZE,
		       PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		       0);
	if (zero == MAP_FAILED || content == MAP_FAILED)
		return TEST_FAILED;
	memset(zero, 0, ZERO_MEM); /* resident, really zero */
	make_content();

	for (i = 0; i < RUNS; i++) {
		v[i] = scan_gbs(zero, ZERO_MEM, true, &nz);
		p[i] = scan_gbs(zero, ZERO_MEM, false, &nz);
		z1[i] = scan_gbs(content, (size_t)CPAGES * VMP_MIG_PAGE_SIZE,
				 true, &nz);
	}
	zvec = median(v);
	zplain = median(p);
	nzvec = median(z1);
	for (i = 0; i < RUNS; i++) {
		uint64_t t = rte_get_tsc_cycles();

		vmp_mig_region_digest(zero, 64u << 20);
		v[i] = (64u << 20) /
		       ((double)(rte_get_tsc_cycles() - t) / rte_get_tsc_hz()) /
		       1e9;
	}
	dig = median(v);
	for (i = 0; i < RUNS; i++)
		v[i] = zlib_single(&cbytes);
	zl = median(v);

	printf("\n| measure (one core)                    | value        |\n"
	       "|---------------------------------------|--------------|\n");
	printf("| zero scan, vector, 256 MiB zero pages  | %7.2f GB/s |\n",
	       zvec);
	printf("| zero scan, plain u64 loop (anchor)     | %7.2f GB/s |\n",
	       zplain);
	printf("| scan of the content mix (%u non-zero)  | %7.2f GB/s |\n", nz,
	       nzvec);
	printf("| END digest (4-lane CRC32C)             | %7.2f GB/s |\n",
	       dig);
	printf("| zlib level 1, non-zero pages           | %7.0f p/s  |\n", zl);
	printf("| zlib level 1                           | %7.1f MB/s |\n",
	       zl * VMP_MIG_PAGE_SIZE / 1e6);
	printf("| compression ratio of the mix           | %7.2f      |\n",
	       (double)nz * VMP_MIG_PAGE_SIZE / (double)cbytes);

	printf("\nmain lcore %u on cpu %d; worker lcores:",
	       rte_get_main_lcore(),
	       rte_lcore_to_cpu_id((int)rte_get_main_lcore()));
	for (i = 0; i < maxw; i++)
		printf(" %u", wlc[i]);
	printf(" (cpusets: see --lcores)\n");
	printf("\n| model    | workers | pages/s | anchor N x 1-core p/s | "
	       "vs anchor | busy min-max %% |\n"
	       "|----------|---------|---------|-----------------------|------"
	       "-----|----------------|\n");
	/* the anchor is re-measured right before each pool run: the machine
	 * is shared, so only ratios taken close together mean something */
	for (m = 0; m <= 1; m++) {
		for (nw = 1; nw <= maxw && nw <= 4; nw++) {
			double r[RUNS], an[RUNS];

			for (i = 0; i < RUNS; i++) {
				double a0 = zlib_anchor(nw);

				v[i] = pool_rate((enum vmp_mig_model)m, nw,
						 &bmin, &bmax);
				/* before and after: the machine drifts */
				an[i] = (a0 + zlib_anchor(nw)) / 2;
				r[i] = 100.0 * v[i] / an[i];
			}
			printf("| %-8s | %7u | %7.0f | %21.0f | %8.0f%% | "
			       "%5.0f "
			       "- %5.0f |\n",
			       m ? "locked" : "lockless", nw, median(v),
			       median(an), median(r), bmin, bmax);
		}
	}
	munmap(zero, ZERO_MEM);
	munmap(content, (size_t)CPAGES * VMP_MIG_PAGE_SIZE);
	return TEST_SUCCESS;
}

REGISTER_TEST_COMMAND(migrate_perf_autotest, migrate_perf_autotest);
