/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/workpool benchmark (perf-tests; prints tables, asserts nothing about
 * speed). For 1..N workers (every worker lcore the EAL was given):
 *  (a) no-op handler: requests/s, submitter cycles per request and submitter
 *      CPU %, lockless pool vs the locked model it replaces (the baseline
 *      lib/workpool/workpool_locked.c);
 *  (b) zlib level-1 compression of generated 4 KiB pages (perf_pages.c):
 *      pages/s, MB/s, ratio to N x single-core zlib measured in the same
 *      run, per-worker busy %.
 * Medians of WORKPOOL_PERF_REPS runs (default 7) of WORKPOOL_PERF_MS ms
 * (default 400) each; the anchor is re-measured inside every repetition.
 *
 *   build/tests/vmpath-test -l 0-1 --no-huge -m 512 --no-pci \
 *       workpool_perf_autotest
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include <vmp_workpool.h>
#include <vmp_workpool_locked.h>

#include "perf_pages.h"
#include "vmp_test.h"

#define NB_PAGES 2048u /* 8 MiB corpus: larger than the L2 of one core */
#define OUT_MAX (PG_SIZE + 128u)
#define MAX_REPS 31

static unsigned int perf_ms = 400, perf_reps = 7;
static uint32_t perf_spin; /* 0: the pool default */
static int oversub;
/* The submitter yields its core when the pool is full and nothing finished:
 * with lcores sharing cores, and in the compression run (pages take ~100 us:
 * spinning would only take CPU from other tenants of a shared machine, which
 * then crowd the workers' cores). */
static int yield_when_full;
static uint64_t hz;
static uint8_t *corpus;

/* ---- shared run plumbing ----------------------------------------------- */

struct result {
	double rate;	 /* requests (pages) per second */
	double sub_cyc;	 /* submitter TSC cycles per request in the submit path
			  */
	double sub_cpu;	 /* submitter thread CPU time / wall time, % */
	double sub_ccyc; /* submitter thread CPU time per request, in cycles */
	double vs_n1;  /* rate / (N x anchor rate of the same repetition), % */
	double vs_cpu; /* per worker-CPU-second vs the anchor's, same rep, % */
	double bytes_out;		   /* compressed bytes per page */
	double busy[VMP_POOL_MAX_WORKERS]; /* % of wall time in the handler */
	double cpu[VMP_POOL_MAX_WORKERS]; /* worker thread CPU time / wall, % */
};

/*
 * Worker thread CPU clocks, recorded by worker_init on the worker itself and
 * read from the submitter: how much CPU each worker really got on a shared
 * machine, at no cost to the workers.
 */
static clockid_t wclk[VMP_POOL_MAX_WORKERS];
static uint32_t wready[VMP_POOL_MAX_WORKERS];

static void
wclk_record(unsigned int w)
{
	pthread_getcpuclockid(pthread_self(), &wclk[w]);
	__atomic_store_n(&wready[w], 1, __ATOMIC_RELEASE);
}

static void
wclk_wait(unsigned int nw)
{
	unsigned int w;

	for (w = 0; w < nw; w++)
		while (!__atomic_load_n(&wready[w], __ATOMIC_ACQUIRE))
			sched_yield();
}

static double
clk_s(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void
wclk_read(unsigned int nw, double *v)
{
	unsigned int w;

	for (w = 0; w < nw; w++)
		v[w] = clk_s(wclk[w]);
}

struct ctx {
	uint64_t next; /* next page / sequence number */
	uint64_t done; /* done callbacks */
	uint64_t out;  /* compressed bytes */
};

static double
thread_cpu_s(void)
{
	return clk_s(CLOCK_THREAD_CPUTIME_ID);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

typedef void (*fill_t)(void *data, void *ctx);

/* The two models behind one runner. submit returns 1 if it handed over a
 * request, 0 if the lockless pool was full (the locked submit blocks). */
struct model {
	const char *name;
	void *(*create)(const struct vmp_pool_params *p);
	int (*submit)(void *pool, fill_t fill, struct ctx *c);
	void (*wait)(void *pool);
	uint64_t (*busy)(void *pool, unsigned int w);
	int (*destroy)(void *pool);
};

static void *
lf_create(const struct vmp_pool_params *p)
{
	return vmp_pool_create(p);
}

static int
lf_submit(void *pool, fill_t fill, struct ctx *c)
{
	struct vmp_pool_req *req = vmp_pool_submit_prepare(pool);

	if (req == NULL) {
		if (vmp_pool_poll_done(pool, 0) == 0 && yield_when_full)
			sched_yield();
		return 0;
	}
	fill(vmp_pool_req_data(req), c);
	vmp_pool_submit_commit(pool, req);
	return 1;
}

static void
lf_wait(void *pool)
{
	vmp_pool_wait_done(pool);
}

static uint64_t
lf_busy(void *pool, unsigned int w)
{
	static struct vmp_pool_stats s;

	vmp_pool_stats_get(pool, &s);
	return s.worker[w].busy_cycles;
}

static int
lf_destroy(void *pool)
{
	return vmp_pool_destroy(pool);
}

static const struct model lockless = {
	.name = "lockless",
	.create = lf_create,
	.submit = lf_submit,
	.wait = lf_wait,
	.busy = lf_busy,
	.destroy = lf_destroy,
};

/* The locked baseline (lib/workpool vmp_workpool_locked.h): submit blocks
 * in get() until a worker is idle, so it always hands a request over. */
static void *
lk_create(const struct vmp_pool_params *p)
{
	return vmp_workpool_locked_create(p);
}

static int
lk_submit(void *pool, fill_t fill, struct ctx *c)
{
	void *data = vmp_workpool_locked_get(pool, 1);

	if (data == NULL)
		return 0;
	fill(data, c);
	vmp_workpool_locked_put(pool, data);
	return 1;
}

static void
lk_wait(void *pool)
{
	vmp_workpool_locked_drain(pool);
}

static uint64_t
lk_busy(void *pool, unsigned int w)
{
	static struct vmp_pool_stats s;

	vmp_workpool_locked_stats_get(pool, &s);
	return s.worker[w].busy_cycles;
}

static int
lk_destroy(void *pool)
{
	return vmp_workpool_locked_destroy(pool);
}

static const struct model locked = {
	.name = "locked",
	.create = lk_create,
	.submit = lk_submit,
	.wait = lk_wait,
	.busy = lk_busy,
	.destroy = lk_destroy,
};

/*
 * Submit for perf_ms, then wait for everything. sub counts the TSC cycles of
 * the submit calls that handed a request over (a full pool's quick NULL is
 * not counted; the locked model's blocking is).
 */
static int
run(const struct model *m, const struct vmp_pool_params *p, fill_t fill,
    struct ctx *c, struct result *r)
{
	uint64_t t0, t1, now, t, end, sub = 0, n = 0, b0[VMP_POOL_MAX_WORKERS];
	double cpu0, wall, wc0[VMP_POOL_MAX_WORKERS], wc1[VMP_POOL_MAX_WORKERS];
	unsigned int i, nw = p->nb_workers;
	void *pool;

	memset(wready, 0, sizeof(wready));
	pool = m->create(p);
	if (pool == NULL)
		return -rte_errno;
	wclk_wait(nw);
	memset(c, 0, sizeof(*c));
	for (i = 0; i < nw; i++)
		b0[i] = m->busy(pool, i);
	wclk_read(nw, wc0);
	cpu0 = thread_cpu_s();
	t0 = now = rte_rdtsc();
	end = t0 + perf_ms * hz / 1000;
	while (now < end) {
		if (m->submit(pool, fill, c) == 0) {
			now = rte_rdtsc();
			continue;
		}
		t = rte_rdtsc();
		sub += t - now;
		now = t;
		n++;
	}
	m->wait(pool);
	t1 = rte_rdtsc();
	wclk_read(nw, wc1);
	wall = (double)(t1 - t0) / (double)hz;
	r->sub_cpu = 100 * (thread_cpu_s() - cpu0) / wall;
	r->sub_ccyc =
		c->done ? r->sub_cpu / 100 * wall * (double)hz / (double)c->done
			: 0;
	r->rate = (double)c->done / wall;
	r->sub_cyc = n ? (double)sub / (double)n : 0;
	r->bytes_out = c->done ? (double)c->out / (double)c->done : 0;
	for (i = 0; i < nw; i++) {
		r->cpu[i] = 100 * (wc1[i] - wc0[i]) / wall;
		r->busy[i] = 100.0 * (double)(m->busy(pool, i) - b0[i]) /
			     (double)(t1 - t0);
	}
	return m->destroy(pool);
}

/* Median of each field over reps. */
static void
result_median(struct result *rs, unsigned int reps, unsigned int nw,
	      struct result *m)
{
	double v[MAX_REPS];
	unsigned int i, w;

#define MED(field)                                                             \
	do {                                                                   \
		for (i = 0; i < reps; i++)                                     \
			v[i] = rs[i].field;                                    \
		m->field = median(v, reps);                                    \
	} while (0)
	MED(rate);
	MED(sub_cyc);
	MED(sub_cpu);
	MED(sub_ccyc);
	MED(vs_n1);
	MED(vs_cpu);
	MED(bytes_out);
	for (w = 0; w < nw; w++) {
		MED(busy[w]);
		MED(cpu[w]);
	}
#undef MED
}

static void
print_busy(const struct result *m, unsigned int nw)
{
	double lo = 100, hi = 0;
	unsigned int w;

	for (w = 0; w < nw; w++) {
		printf(" %5.1f", m->busy[w]);
		lo = RTE_MIN(lo, m->busy[w]);
		hi = RTE_MAX(hi, m->busy[w]);
	}
	printf("  (spread %.1f)\n", hi - lo);
}

/* ---- (a) no-op dispatch -------------------------------------------------- */

static void
noop_handler(void *data __rte_unused, unsigned int w __rte_unused,
	     void *arg __rte_unused)
{
}

static int
noop_worker_init(unsigned int w, void *arg __rte_unused)
{
	wclk_record(w);
	return 0;
}

static void
noop_done(void *data __rte_unused, void *arg)
{
	((struct ctx *)arg)->done++;
}

static void
noop_fill(void *data, void *ctx)
{
	*(uint64_t *)data = ((struct ctx *)ctx)->next++;
}

static int
bench_noop(unsigned int max_workers)
{
	struct result lf[MAX_REPS], lk[MAX_REPS], mlf, mlk;
	struct vmp_pool_params p = {0};
	struct ctx c;
	unsigned int nw, i;
	int rc;

	printf("\n(a) no-op handler: lockless pool vs locked model "
	       "(median of %u x %u ms)\n",
	       perf_reps, perf_ms);
	printf("workers  model     req/s        submit cyc/req  sub CPU cyc/r"
	       "  submitter CPU%%  lockless/locked\n");
	p.req_size = 64;
	p.spin_polls = perf_spin;
	p.socket_id = SOCKET_ID_ANY;
	p.handler = noop_handler;
	p.done = noop_done;
	p.worker_init = noop_worker_init;
	p.cb_arg = &c;
	p.dispatch = VMP_POOL_DISPATCH_ROUND_ROBIN;
	for (nw = 1; nw <= max_workers; nw++) {
		p.nb_workers = nw;
		for (i = 0; i < perf_reps; i++) {
			rc = run(&lockless, &p, noop_fill, &c, &lf[i]);
			if (rc == 0)
				rc = run(&locked, &p, noop_fill, &c, &lk[i]);
			if (rc != 0) {
				printf("run failed: %d\n", rc);
				return TEST_FAILED;
			}
		}
		result_median(lf, perf_reps, nw, &mlf);
		result_median(lk, perf_reps, nw, &mlk);
		printf("%-8u lockless  %11.0f  %14.0f  %12.0f  %13.0f  %14.1fx "
		       "  "
		       "worker CPU %%:",
		       nw, mlf.rate, mlf.sub_cyc, mlf.sub_ccyc, mlf.sub_cpu,
		       mlf.rate / mlk.rate);
		for (i = 0; i < nw; i++)
			printf(" %.0f", mlf.cpu[i]);
		printf("\n%-8u locked    %11.0f  %14.0f  %12.0f  %13.0f  %15s  "
		       " "
		       "worker CPU %%:",
		       nw, mlk.rate, mlk.sub_cyc, mlk.sub_ccyc, mlk.sub_cpu,
		       "");
		for (i = 0; i < nw; i++)
			printf(" %.0f", mlk.cpu[i]);
		printf("\n");
		if (nw == 1)
			printf("goal (>= 5x locked at 1 worker): %.1fx -> %s\n",
			       mlf.rate / mlk.rate,
			       mlf.rate >= 5 * mlk.rate ? "met" : "NOT met");
	}
	return TEST_SUCCESS;
}

/* ---- (b) zlib level-1 compression --------------------------------------- */

struct zreq {
	const uint8_t *page;
	uint32_t out_len;
	uint8_t out[OUT_MAX];
};

/* one stream per worker index, plus one for the single-core anchor */
static z_stream zs[VMP_POOL_MAX_WORKERS + 1];

static uint32_t
z_compress(z_stream *z, const uint8_t *page, uint8_t *out)
{
	deflateReset(z);
	z->next_in = (Bytef *)(uintptr_t)page;
	z->avail_in = PG_SIZE;
	z->next_out = out;
	z->avail_out = OUT_MAX;
	if (deflate(z, Z_FINISH) != Z_STREAM_END)
		return 0;
	return (uint32_t)z->total_out;
}

static int
z_worker_init(unsigned int w, void *arg __rte_unused)
{
	wclk_record(w);
	memset(&zs[w], 0, sizeof(zs[w]));
	return deflateInit(&zs[w], 1) == Z_OK ? 0 : -ENOMEM;
}

static void
z_worker_uninit(unsigned int w, void *arg __rte_unused)
{
	deflateEnd(&zs[w]);
}

static void
z_handler(void *data, unsigned int w, void *arg __rte_unused)
{
	struct zreq *r = data;

	r->out_len = z_compress(&zs[w], r->page, r->out);
}

static void
z_done(void *data, void *arg)
{
	struct ctx *c = arg;

	c->out += ((struct zreq *)data)->out_len;
	c->done++;
}

static void
z_fill(void *data, void *ctx)
{
	struct ctx *c = ctx;

	((struct zreq *)data)->page =
		corpus + (size_t)(c->next++ % NB_PAGES) * PG_SIZE;
}

/* The anchor: the same compression, alone on one lcore. */
struct anchor {
	double rate;	  /* pages/s */
	double bytes_out; /* compressed bytes per page */
	double cpu;	  /* thread CPU time / wall, % */
};

static int
z_single(void *arg)
{
	static uint8_t out[OUT_MAX];
	struct anchor *a = arg;
	z_stream *z = &zs[VMP_POOL_MAX_WORKERS];
	double cpu0 = thread_cpu_s();
	uint64_t t0 = rte_rdtsc(), end = t0 + perf_ms * hz / 1000, n = 0,
		 sum = 0;

	while (rte_rdtsc() < end) {
		sum += z_compress(z, corpus + (size_t)(n % NB_PAGES) * PG_SIZE,
				  out);
		n++;
	}
	a->bytes_out = (double)sum / (double)n;
	t0 = rte_rdtsc() - t0;
	a->cpu = 100 * (thread_cpu_s() - cpu0) / ((double)t0 / (double)hz);
	a->rate = (double)n * (double)hz / (double)t0;
	return 0;
}

/*
 * Run the anchor on the first worker lcore, the core the pool's worker 0
 * will use: on a shared machine the two cores are not equally loaded, and
 * the submitter's own core is busy with the submitter during pool runs.
 */
static void
z_anchor(struct anchor *a)
{
	unsigned int l = rte_get_next_lcore(-1, 1, 0);

	if (l >= RTE_MAX_LCORE || rte_eal_remote_launch(z_single, a, l) != 0) {
		z_single(a);
		return;
	}
	rte_eal_wait_lcore(l);
}

static void
describe_corpus(void)
{
	static uint8_t kinds[NB_PAGES], out[OUT_MAX];
	uint64_t in[PG_NB_KINDS] = {0}, o[PG_NB_KINDS] = {0};
	unsigned int i, k;

	pg_generate(corpus, NB_PAGES, 0x5eed, kinds);
	for (i = 0; i < NB_PAGES; i++) {
		in[kinds[i]] += PG_SIZE;
		o[kinds[i]] += z_compress(&zs[VMP_POOL_MAX_WORKERS],
					  corpus + (size_t)i * PG_SIZE, out);
	}
	printf("corpus: %u pages of 4 KiB (%u MiB), zlib level 1 per kind:\n",
	       NB_PAGES, NB_PAGES * PG_SIZE >> 20);
	for (k = 0; k < PG_NB_KINDS; k++)
		printf("  %-7s %4.1f%% of pages, ratio %6.2fx\n",
		       pg_kind_name[k],
		       100.0 * (double)in[k] / PG_SIZE / NB_PAGES,
		       o[k] ? (double)in[k] / (double)o[k] : 0);
}

/*
 * Against the anchor of the same repetition: throughput vs N x anchor, and
 * pages per worker CPU-second vs the anchor's pages per CPU-second (what the
 * pool costs per page once CPU stolen by other tenants is removed).
 */
static void
z_vs_anchor(struct result *r, unsigned int nw, const struct anchor *a)
{
	double cpu = 0;
	unsigned int w;

	for (w = 0; w < nw; w++)
		cpu += r->cpu[w];
	r->vs_n1 = 100 * r->rate / (nw * a->rate);
	r->vs_cpu = cpu > 0 && a->cpu > 0
			    ? 100 * (r->rate / cpu) / (a->rate / a->cpu)
			    : 0;
}

/* One row: medians; the two ratios are medians of per-repetition ratios. */
static void
z_row(const char *model, unsigned int nw, const struct result *m)
{
	unsigned int w;

	printf("%-8u %-8s  %8.0f  %6.1f  %12.1f%%  %12.1f%%   ", nw, model,
	       m->rate, m->rate * PG_SIZE / 1e6, m->vs_n1, m->vs_cpu);
	print_busy(m, nw);
	printf("%57s worker CPU %%:", "");
	for (w = 0; w < nw; w++)
		printf(" %5.1f", m->cpu[w]);
	printf("\n");
}

static int
bench_zlib(unsigned int max_workers)
{
	struct result lf[MAX_REPS], lk[MAX_REPS], mlf, mlk;
	double single[MAX_REPS], scpu[MAX_REPS], single_out = 0, ms, mcpu;
	struct anchor an;
	struct vmp_pool_params p = {0};
	struct ctx c;
	unsigned int nw, i;
	int rc;

	yield_when_full = 1;
	printf("\n(b) zlib level-1 compression of 4 KiB pages "
	       "(median of %u x %u ms; anchor re-measured each repetition)\n",
	       perf_reps, perf_ms);
	printf("workers  model     pages/s   MB/s    vs N x single  "
	       "per CPU-s vs 1  busy %% per worker\n");
	p.req_size = sizeof(struct zreq);
	p.spin_polls = perf_spin;
	p.socket_id = SOCKET_ID_ANY;
	p.handler = z_handler;
	p.done = z_done;
	p.worker_init = z_worker_init;
	p.worker_uninit = z_worker_uninit;
	p.cb_arg = &c;
	p.dispatch = VMP_POOL_DISPATCH_LEAST_LOADED;
	for (nw = 1; nw <= max_workers; nw++) {
		p.nb_workers = nw;
		for (i = 0; i < perf_reps; i++) {
			z_anchor(&an);
			single[i] = an.rate;
			scpu[i] = an.cpu;
			single_out = an.bytes_out;
			rc = run(&lockless, &p, z_fill, &c, &lf[i]);
			if (rc == 0)
				rc = run(&locked, &p, z_fill, &c, &lk[i]);
			if (rc != 0) {
				printf("run failed: %d\n", rc);
				return TEST_FAILED;
			}
			z_vs_anchor(&lf[i], nw, &an);
			z_vs_anchor(&lk[i], nw, &an);
		}
		ms = median(single, perf_reps);
		mcpu = median(scpu, perf_reps);
		result_median(lf, perf_reps, nw, &mlf);
		result_median(lk, perf_reps, nw, &mlk);
		printf("%-8u single    %8.0f  %6.1f  (anchor: worker lcore 0 "
		       "alone, "
		       "compression ratio %.2fx, thread CPU %.0f%%)\n",
		       nw, ms, ms * PG_SIZE / 1e6, PG_SIZE / single_out, mcpu);
		z_row("lockless", nw, &mlf);
		z_row("locked", nw, &mlk);
	}
	return TEST_SUCCESS;
}

static int
workpool_perf(void)
{
	unsigned int max_workers = RTE_MIN(rte_lcore_count() - 1,
					   (unsigned int)VMP_POOL_MAX_WORKERS);
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	const char *e;
	int rc;

	if (max_workers == 0) {
		printf("needs at least one worker lcore\n");
		return TEST_SKIPPED;
	}
	e = getenv("WORKPOOL_PERF_MS");
	if (e != NULL && atoi(e) > 0)
		perf_ms = (unsigned int)atoi(e);
	e = getenv("WORKPOOL_PERF_REPS");
	if (e != NULL && atoi(e) > 0)
		perf_reps =
			RTE_MIN((unsigned int)atoi(e), (unsigned int)MAX_REPS);
	e = getenv("WORKPOOL_PERF_SPIN");
	if (e != NULL && atoi(e) > 0)
		perf_spin = (uint32_t)atoi(e);
	e = getenv("WORKPOOL_PERF_MAX_WORKERS");
	if (e != NULL && atoi(e) > 0)
		max_workers = RTE_MIN(max_workers, (unsigned int)atoi(e));
	hz = rte_get_tsc_hz();
	oversub = rte_lcore_count() > (unsigned int)cores;
	/* Lcores sharing cores: a spinning worker takes the CPU its submitter
	 * needs; halt early unless told otherwise (see docs/workpool.md). */
	if (oversub && perf_spin == 0)
		perf_spin = 16;
	printf("workpool benchmark: %u lcores on %ld online cores%s; TSC %.2f "
	       "GHz; spin_polls %u\n",
	       rte_lcore_count(), cores,
	       oversub ? " (OVERSUBSCRIBED: lcores share cores)" : "",
	       (double)hz / 1e9,
	       perf_spin ? perf_spin : VMP_POOL_SPIN_POLLS_DEFAULT);
	corpus = rte_malloc(NULL, (size_t)NB_PAGES * PG_SIZE, 4096);
	if (corpus == NULL || deflateInit(&zs[VMP_POOL_MAX_WORKERS], 1) != Z_OK)
		return TEST_FAILED;
	describe_corpus();
	yield_when_full = oversub;
	rc = bench_noop(max_workers);
	if (rc == TEST_SUCCESS)
		rc = bench_zlib(max_workers);
	deflateEnd(&zs[VMP_POOL_MAX_WORKERS]);
	rte_free(corpus);
	return rc;
}

REGISTER_TEST_COMMAND(workpool_perf_autotest, workpool_perf);
/* the same, registered under a second name for the oversubscribed entry */
REGISTER_TEST_COMMAND(workpool_perf_oversub_autotest, workpool_perf);
