/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/migrate unit tests: CRC32C, zero-page scan, frame headers, HELLO
 * checks, parameter validation, and whole migrations inside one process
 * (source on the main lcore, destination on another) over a unix socket,
 * with both worker models, with a fake dirty tracker that "writes" pages
 * between rounds. Plus the perf test: zero scan, digest, single-core zlib and
 * the pools' compression throughput against workers x single-core zlib.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include <vmp_migrate.h>

#include "mig_pvt.h"
#include "vmp_test.h"

#define REG_LEN (8u << 20)
#define PAGES (REG_LEN / VMP_MIG_PAGE_SIZE)

static uint8_t *src_mem, *dst_mem;
static uint64_t rng = 88172645463325252ull;
static int syncs;
static volatile int paused;

static uint64_t
xs(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void
fill_page(uint8_t *p, uint64_t i)
{
	unsigned int k;

	switch (i % 4) {
	case 0: /* zero */
		memset(p, 0, VMP_MIG_PAGE_SIZE);
		break;
	case 1: /* text */
		for (k = 0; k < VMP_MIG_PAGE_SIZE; k++)
			p[k] = "lorem ipsum dolor sit amet "[(k + i) % 27];
		break;
	case 2: /* random */
		for (k = 0; k < VMP_MIG_PAGE_SIZE; k += 8) {
			uint64_t v = xs();

			memcpy(p + k, &v, 8);
		}
		break;
	default: /* counters */
		for (k = 0; k < VMP_MIG_PAGE_SIZE; k += 8) {
			uint64_t v = i + k;

			memcpy(p + k, &v, 8);
		}
	}
}

static int
setup_mem(void)
{
	uint64_t i;

	src_mem = mmap(NULL, REG_LEN, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	dst_mem = mmap(NULL, REG_LEN, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (src_mem == MAP_FAILED || dst_mem == MAP_FAILED)
		return -1;
	for (i = 0; i < PAGES; i++)
		fill_page(src_mem + i * VMP_MIG_PAGE_SIZE, i);
	memset(dst_mem, 0xee, REG_LEN); /* stale content to overwrite */
	return 0;
}

static void
free_mem(void)
{
	munmap(src_mem, REG_LEN);
	munmap(dst_mem, REG_LEN);
}

/* Fake tracker: each sync "writes" 600 pages (before the pause): more than
 * the source's raw-path probe (256 pages), so the last set may go raw. */
static int64_t
fake_sync(void *arg __rte_unused, unsigned int region __rte_unused,
	  uint64_t *bm, uint64_t nb)
{
	uint64_t i, n = 0;

	memset(bm, 0, RTE_ALIGN_CEIL(nb, 64) / 8);
	syncs++;
	if (paused || syncs == 1)
		return 0;
	for (i = 0; i < 600; i++) {
		uint64_t pg = xs() % nb;

		fill_page(src_mem + pg * VMP_MIG_PAGE_SIZE, pg + syncs);
		if (!(bm[pg / 64] & (1ull << (pg % 64))))
			n++;
		bm[pg / 64] |= 1ull << (pg % 64);
	}
	return (int64_t)n;
}

static void
fake_pause(void *arg __rte_unused)
{
	paused = 1;
}

static void
fake_resume(void *arg __rte_unused)
{
	paused = 0;
}

static int
test_crc_zero_digest(void)
{
	static uint8_t pg[VMP_MIG_PAGE_SIZE] __rte_aligned(64);
	unsigned int i;

	TEST_ASSERT_EQUAL(vmp_mig_crc32c("123456789", 9), 0xE3069283,
			  "CRC32C check value");
	memset(pg, 0, sizeof(pg));
	TEST_ASSERT(vmp_mig_page_is_zero(pg, sizeof(pg)), "zero page");
	for (i = 0; i < sizeof(pg); i += 61) {
		pg[i] = 1;
		TEST_ASSERT(!vmp_mig_page_is_zero(pg, sizeof(pg)),
			    "byte %u set", i);
		pg[i] = 0;
	}
	pg[sizeof(pg) - 1] = 0x80;
	TEST_ASSERT(!vmp_mig_page_is_zero(pg, sizeof(pg)), "last byte");
	pg[sizeof(pg) - 1] = 0;
	TEST_ASSERT_EQUAL(mig_page_crc4_fast(pg), mig_page_crc4(pg),
			  "zero-page shortcut of the digest");
	/* the digest sees a change in any lane */
	{
		uint64_t d0 = vmp_mig_region_digest(pg, sizeof(pg));

		pg[3000] = 7;
		TEST_ASSERT(vmp_mig_region_digest(pg, sizeof(pg)) != d0,
			    "digest changes");
		TEST_ASSERT_EQUAL(vmp_mig_region_digest(pg, sizeof(pg)) >> 32,
				  1, "page count in the digest");
	}
	return TEST_SUCCESS;
}

static int
test_frame_and_hello(void)
{
	struct vmp_mig_region r = {
		.gpa = 0, .addr = (void *)0x1000, .len = 1 << 20};
	struct vmp_mig_region r2 = r;
	struct mig_frame_hdr h;
	uint8_t buf[256], comp;
	char err[160];
	uint32_t len;
	unsigned int i;

	mig_frame_hdr_build(&h, MIG_F_PAGES, 3, 7, "abc", 3, NULL, 0);
	TEST_ASSERT_EQUAL(mig_frame_hdr_check(&h, err, sizeof(err)), 0, "%s",
			  err);
	for (i = 0; i < sizeof(h); i++) {
		uint8_t *b = (uint8_t *)&h;

		b[i] ^= 0x10;
		TEST_ASSERT_EQUAL(mig_frame_hdr_check(&h, err, sizeof(err)),
				  -EPROTO, "flip in header byte %u", i);
		b[i] ^= 0x10;
	}
	len = mig_hello_build(buf, sizeof(buf), VMP_MIG_WIRE_VERSION, &r, 1, 1,
			      1);
	TEST_ASSERT_EQUAL(len, 64, "HELLO with one region");
	TEST_ASSERT_EQUAL(
		mig_hello_check(buf, len, &r, 1, &comp, err, sizeof(err)), 0,
		"%s", err);
	len = mig_hello_build(buf, sizeof(buf), 2, &r, 1, 1, 1);
	TEST_ASSERT_EQUAL(
		mig_hello_check(buf, len, &r, 1, &comp, err, sizeof(err)),
		-EPROTO, "version 2");
	TEST_ASSERT(strstr(err, "version 2") != NULL, "%s", err);
	len = mig_hello_build(buf, sizeof(buf), 1, &r, 1, 1, 1);
	((struct mig_hello *)buf)->page_size = 8192;
	TEST_ASSERT_EQUAL(
		mig_hello_check(buf, len, &r, 1, &comp, err, sizeof(err)),
		-EPROTO, "page size");
	r2.len = 2 << 20;
	len = mig_hello_build(buf, sizeof(buf), 1, &r2, 1, 1, 1);
	TEST_ASSERT_EQUAL(
		mig_hello_check(buf, len, &r, 1, &comp, err, sizeof(err)),
		-EPROTO, "region size");
	return TEST_SUCCESS;
}

static int
test_bad_params(void)
{
	struct vmp_mig_region r = {
		.gpa = 0, .addr = (void *)0x1000, .len = 4096};
	struct vmp_mig_params p;

	memset(&p, 0, sizeof(p));
	TEST_ASSERT(vmp_mig_source_create(NULL) == NULL && rte_errno == EINVAL,
		    "NULL params");
	TEST_ASSERT(vmp_mig_dest_create(&p) == NULL && rte_errno == EINVAL,
		    "no regions");
	p.nb_regions = 1;
	p.regions = &r;
	TEST_ASSERT(vmp_mig_source_create(&p) == NULL && rte_errno == EINVAL,
		    "source without callbacks");
	r.len = 100;
	TEST_ASSERT(vmp_mig_dest_create(&p) == NULL && rte_errno == EINVAL,
		    "unaligned length");
	r.len = 4096;
	p.level = 10;
	TEST_ASSERT(vmp_mig_dest_create(&p) == NULL && rte_errno == EINVAL,
		    "level 10");
	p.level = 1;
	p.nb_workers = VMP_MIG_MAX_WORKERS + 1;
	TEST_ASSERT(vmp_mig_dest_create(&p) == NULL && rte_errno == EINVAL,
		    "too many workers");
	TEST_ASSERT_EQUAL(vmp_mig_cancel(NULL), -EINVAL, "cancel NULL");
	return TEST_SUCCESS;
}

/* lcores: [dest thread, dest worker, src worker, src worker] */
static int
migrate_once(enum vmp_mig_model model, enum vmp_mig_comp comp, unsigned int nw)
{
	struct vmp_mig_region rs = {
		.gpa = 0x100000, .addr = NULL, .len = REG_LEN};
	struct vmp_mig_region rd = rs;
	struct vmp_mig_params ps, pd;
	struct vmp_mig_stats st;
	struct vmp_mig *src, *dst;
	unsigned int lc[4], n = 0, l;
	char uri[128];
	int rc, rd_rc;

	RTE_LCORE_FOREACH_WORKER (l) {
		if (n < 4)
			lc[n++] = l;
	}
	if (n < 4)
		return TEST_SKIPPED;
	if (setup_mem() < 0)
		return TEST_FAILED;
	syncs = 0;
	paused = 0;
	rs.addr = src_mem;
	rd.addr = dst_mem;
	snprintf(uri, sizeof(uri), "unix:/tmp/vmpt-mig-%d.sock", getpid());

	memset(&pd, 0, sizeof(pd));
	pd.name = "t-dst";
	pd.nb_regions = 1;
	pd.regions = &rd;
	pd.model = model;
	pd.nb_workers = nw ? 1 : 0;
	pd.worker_lcores = &lc[1];
	pd.timeout_ms = 30000;
	pd.dest_verify_digest = true; /* END re-hashes against the CRCs kept */
	dst = vmp_mig_dest_create(&pd);
	TEST_ASSERT(dst != NULL, "dest create: %s", rte_strerror(rte_errno));
	TEST_ASSERT_EQUAL(vmp_mig_listen(dst, uri), 0, "listen");
	TEST_ASSERT_EQUAL(vmp_mig_launch(dst, NULL, lc[0]), 0, "launch");

	ps = pd;
	ps.dest_verify_digest = false;
	ps.name = "t-src";
	ps.regions = &rs;
	ps.comp = comp;
	ps.nb_workers = nw;
	ps.worker_lcores = &lc[2];
	ps.downtime_limit_ms = 1; /* several rounds, then max_rounds */
	ps.max_rounds = 4;
	ps.dirty.sync = fake_sync;
	ps.vcpu.pause = fake_pause;
	ps.vcpu.resume = fake_resume;
	src = vmp_mig_source_create(&ps);
	TEST_ASSERT(src != NULL, "source create");
	rc = vmp_mig_run(src, uri);
	rd_rc = vmp_mig_wait(dst);
	vmp_mig_stats_get(src, &st);
	printf("  model %d comp %d workers %u: rc %d/%d, %" PRIu64
	       " rounds, dup %" PRIu64 " normal %" PRIu64 " raw %" PRIu64
	       " wire %" PRIu64 " KiB, downtime %" PRIu64 " ms\n",
	       model, comp, nw, rc, rd_rc, st.rounds, st.duplicate, st.normal,
	       st.raw_pages, st.transferred >> 10, st.downtime_ms);
	TEST_ASSERT_EQUAL(rc, 0, "source: %s", st.error);
	TEST_ASSERT_EQUAL(rd_rc, 0, "destination");
	TEST_ASSERT_EQUAL(vmp_mig_status(src), VMP_MIG_ST_COMPLETED, "src");
	TEST_ASSERT_EQUAL(vmp_mig_status(dst), VMP_MIG_ST_COMPLETED, "dst");
	TEST_ASSERT(memcmp(src_mem, dst_mem, REG_LEN) == 0, "memory differs");
	/* the destination's page CRCs, kept page by page while writing
	 * (started from 0xee pages), against a full re-hash of its memory */
	for (l = 0, n = 0; l < PAGES; l++)
		n += dst->reg[0].page_crc[l] !=
		     rte_cpu_to_le_32(mig_page_crc4(
			     dst_mem + (uint64_t)l * VMP_MIG_PAGE_SIZE));
	TEST_ASSERT_EQUAL(n, 0, "%u stale page CRCs on the destination", n);
	TEST_ASSERT_EQUAL(mig_digest_combine(dst->reg[0].page_crc, PAGES),
			  vmp_mig_region_digest(dst_mem, REG_LEN),
			  "destination digest from its page CRCs");
	TEST_ASSERT(st.rounds >= 2 && st.dirty_sync_count >= 3,
		    "writes between rounds were re-sent");
	TEST_ASSERT(st.duplicate >= PAGES / 4, "zero pages");
	TEST_ASSERT(paused, "vCPUs left paused after completion");
	if (comp == VMP_MIG_COMP_ZLIB) {
		TEST_ASSERT(st.raw_pages > 0, "random pages sent raw");
		TEST_ASSERT(st.compressed_size > 0, "compressed pages");
	}
	vmp_mig_free(src);
	vmp_mig_free(dst);
	free_mem();
	return TEST_SUCCESS;
}

static int
test_mig_lockless(void)
{
	return migrate_once(VMP_MIG_MODEL_LOCKLESS, VMP_MIG_COMP_ZLIB, 2);
}

static int
test_mig_locked(void)
{
	return migrate_once(VMP_MIG_MODEL_LOCKED, VMP_MIG_COMP_ZLIB, 2);
}

static int
test_mig_inline_none(void)
{
	return migrate_once(VMP_MIG_MODEL_LOCKLESS, VMP_MIG_COMP_NONE, 0);
}

static int
test_mig_inline_zlib(void)
{
	return migrate_once(VMP_MIG_MODEL_LOCKLESS, VMP_MIG_COMP_ZLIB, 0);
}

/* Nobody listens: the source fails, resumes nothing it did not pause. */
static int
test_mig_refused_connect(void)
{
	struct vmp_mig_region r = {.gpa = 0, .addr = NULL, .len = 1 << 20};
	struct vmp_mig_params p;
	struct vmp_mig *m;
	int rc;

	r.addr = rte_zmalloc(NULL, r.len, 4096);
	memset(&p, 0, sizeof(p));
	p.nb_regions = 1;
	p.regions = &r;
	p.dirty.sync = fake_sync;
	p.vcpu.pause = fake_pause;
	p.vcpu.resume = fake_resume;
	m = vmp_mig_source_create(&p);
	TEST_ASSERT(m != NULL, "create");
	rc = vmp_mig_run(m, "unix:/nonexistent/vmpt.sock");
	TEST_ASSERT(rc < 0, "connect fails");
	TEST_ASSERT_EQUAL(vmp_mig_status(m), VMP_MIG_ST_FAILED, "failed");
	TEST_ASSERT_EQUAL(vmp_mig_run(m, "unix:/x"), -EINVAL, "run twice");
	TEST_ASSERT_EQUAL(vmp_mig_cancel(m), -EALREADY, "cancel after end");
	vmp_mig_free(m);
	rte_free(r.addr);
	return TEST_SUCCESS;
}

static struct vmp_test_suite mig_suite = {
	.name = "migrate",
	.cases =
		{
			TEST_CASE(test_crc_zero_digest),
			TEST_CASE(test_frame_and_hello),
			TEST_CASE(test_bad_params),
			TEST_CASE(test_mig_refused_connect),
			TEST_CASE(test_mig_inline_none),
			TEST_CASE(test_mig_inline_zlib),
			TEST_CASE(test_mig_lockless),
			TEST_CASE(test_mig_locked),
			TEST_CASES_END(),
		},
};

static int
migrate_autotest(void)
{
	return vmp_test_suite_run(&mig_suite);
}

REGISTER_TEST_COMMAND(migrate_autotest, migrate_autotest);
