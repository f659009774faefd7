/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dma_swdma behaviour: devargs, capabilities, in-order execution and
 * completion across vchans under load, error completions, stop with copies
 * in flight, burst capacity at ring full, the service-lcore helper.
 * Needs lcore 1 (default -l 0-1): the tests make it the service lcore.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_random.h>
#include <rte_service.h>

#include <rte_pmd_swdma.h>

#include "swdma_test.h"
#include "vmp_test.h"

#define WAIT_MS 10000 /* engine CPU time without a job done: a failure */

static struct swdma_test_dev dev = {.id = -1};

/* A fresh device per case; torn down by case_teardown. */
static int
dev_new(const char *args)
{
	return swdma_test_dev_new(&dev, "dma_swdma_t", args);
}

static void
case_teardown(void)
{
	swdma_test_dev_end(&dev);
}

static int
suite_setup(void)
{
	return swdma_test_suite_setup();
}

/* ---- devargs and info ---- */

static int
test_devargs_refused(void)
{
	static const struct {
		const char *args, *named;
	} bad[] = {
		{"ring_size=100", "ring_size='100'"},
		{"ring_size=65536", "ring_size='65536'"},
		{"batch=0", "batch='0'"},
		{"batch=x", "batch='x'"},
		{"engines=9", "engines='9'"},
		{"lcores=0", "lcore 0 is the main lcore"},
		{"lcores=1:", "lcores='1:'"},
		{"lcores=77", "lcore 77 is not an enabled"},
		{"idle_us=1001", "idle_us='1001'"},
		{"fail_every=1000001", "fail_every='1000001'"},
		{"bogus=1", "bad devargs 'bogus=1'"},
	};
	unsigned int i;

	for (i = 0; i < RTE_DIM(bad); i++) {
		char *log = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&log, &len);
		int16_t id;

		TEST_ASSERT_NOT_NULL(f, "open_memstream");
		rte_openlog_stream(f);
		id = dev_new(bad[i].args);
		rte_openlog_stream(NULL);
		fclose(f);
		TEST_ASSERT(id < 0, "devargs '%s' accepted", bad[i].args);
		TEST_ASSERT_STR_CONTAINS(log, bad[i].named, "args '%s'",
					 bad[i].args);
		TEST_ASSERT(rte_dma_get_dev_id_by_name(dev.name) < 0,
			    "device left behind");
		free(log);
	}
	dev.name[0] = '\0';
	return TEST_SUCCESS;
}

static int
test_info_and_devargs(void)
{
	struct rte_dma_info info;
	uint32_t sid0, sid1, sid;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	TEST_ASSERT(dev_new("ring_size=128,batch=4,engines=2,lcores=1") >= 0,
		    "create");
	TEST_ASSERT_SUCCESS(rte_dma_info_get(dev.id, &info), "info");
	TEST_ASSERT_EQUAL(info.max_desc, 128, "ring_size devarg");
	TEST_ASSERT_EQUAL(info.min_desc, 32, "min_desc");
	TEST_ASSERT_EQUAL(info.max_vchans, 16, "max_vchans");
	TEST_ASSERT_EQUAL(info.max_sges, 4, "max_sges");
	TEST_ASSERT_EQUAL_U64(
		info.dev_capa,
		RTE_DMA_CAPA_MEM_TO_MEM | RTE_DMA_CAPA_SVA |
			RTE_DMA_CAPA_HANDLES_ERRORS | RTE_DMA_CAPA_OPS_COPY |
			RTE_DMA_CAPA_OPS_COPY_SG | RTE_DMA_CAPA_OPS_FILL,
		"capabilities");
	TEST_ASSERT_SUCCESS(rte_pmd_swdma_service_id_get(dev.id, 0, &sid0),
			    "engine 0");
	TEST_ASSERT_SUCCESS(rte_pmd_swdma_service_id_get(dev.id, 1, &sid1),
			    "engine 1");
	TEST_ASSERT(sid0 != sid1, "one service per engine");
	TEST_ASSERT_EQUAL(rte_pmd_swdma_service_id_get(dev.id, 2, &sid),
			  -ENOENT, "engine 2 of 2");
	TEST_ASSERT_EQUAL(rte_service_lcore_count_services(1), 2,
			  "lcores=1 maps both engines to lcore 1");
	TEST_ASSERT_EQUAL(rte_service_runstate_get(sid0), 1, "engine 0 runs");

	/* vchan setup: MEM_TO_MEM only, nb_desc bounded by ring_size */
	struct rte_dma_conf conf = {.nb_vchans = 3};
	struct rte_dma_vchan_conf qc = {.direction = RTE_DMA_DIR_MEM_TO_MEM,
					.nb_desc = 256};
	TEST_ASSERT_SUCCESS(rte_dma_configure(dev.id, &conf), "configure");
	TEST_ASSERT(rte_dma_vchan_setup(dev.id, 0, &qc) < 0, "256 > 128");
	qc.nb_desc = 128;
	TEST_ASSERT_SUCCESS(rte_dma_vchan_setup(dev.id, 0, &qc), "vchan 0");
	TEST_ASSERT(rte_dma_start(dev.id) < 0, "start with vchan 1 unset");
	TEST_ASSERT_SUCCESS(rte_dma_vchan_setup(dev.id, 1, &qc), "vchan 1");
	TEST_ASSERT_SUCCESS(rte_dma_vchan_setup(dev.id, 2, &qc), "vchan 2");
	TEST_ASSERT_SUCCESS(rte_dma_start(dev.id), "start");
	TEST_ASSERT_SUCCESS(rte_dma_info_get(dev.id, &info), "info");
	TEST_ASSERT_EQUAL(info.nb_vchans, 3, "nb_vchans");

	f = open_memstream(&text, &len);
	TEST_ASSERT_NOT_NULL(f, "open_memstream");
	rte_dma_dump(dev.id, f);
	fclose(f);
	TEST_ASSERT_STR_CONTAINS(text, "batch 4 engines 2 idle_us 0", "dump");
	TEST_ASSERT_STR_CONTAINS(text, "vchan 2: engine 0",
				 "vchan v on engine v mod engines");
	TEST_ASSERT_STR_CONTAINS(text, "vchan 1: engine 1",
				 "vchan v on engine v mod engines");
	free(text);
	return TEST_SUCCESS;
}

/* ---- ordering and completion across vchans under load ---- */

#define ORD_VCHANS 4
#define ORD_CHAIN 200 /* buffers per chain; jobs per round = CHAIN - 1 */
#define ORD_BUF 2048
#define ORD_ROUNDS 120

struct ord_vchan {
	uint8_t *buf[ORD_CHAIN];
	uint32_t round, sz;
	uint32_t next;	 /* next chain job to enqueue (1..CHAIN-1) */
	uint32_t reaped; /* jobs of this round reaped */
	uint64_t jobs;	 /* jobs reaped on this vchan in total */
};

static void
ord_round_begin(struct ord_vchan *o, uint16_t v)
{
	uint64_t *w = (uint64_t *)o->buf[0];
	uint32_t i;

	o->round++;
	o->sz = 8 * (1 + rte_rand_max(ORD_BUF / 8));
	for (i = 0; i < o->sz / 8; i++)
		w[i] = ((uint64_t)o->round << 32) ^ ((uint64_t)v << 24) ^ i;
	o->next = 1;
	o->reaped = 0;
}

/* every chain buffer must hold this round's token: any job run before its
 * predecessor would have copied last round's */
static int
ord_round_check(const struct ord_vchan *o, uint16_t v)
{
	uint32_t k, i;

	for (k = 1; k < ORD_CHAIN; k++) {
		const uint64_t *w = (const uint64_t *)o->buf[k];

		for (i = 0; i < o->sz / 8; i++)
			TEST_ASSERT_EQUAL_U64(
				w[i],
				((uint64_t)o->round << 32) ^
					((uint64_t)v << 24) ^ i,
				"vchan %u round %u buf %u word %u", v, o->round,
				k, i);
	}
	return TEST_SUCCESS;
}

static int
test_order_across_vchans(void)
{
	struct ord_vchan *ov;
	struct rte_dma_stats st;
	struct vmp_test_wait w;
	uint64_t total = 0;
	uint16_t v, k;
	int rc = TEST_FAILED;

	TEST_ASSERT(dev_new("lcores=1,engines=2,batch=16") >= 0, "create");
	TEST_ASSERT_SUCCESS(swdma_test_setup(dev.id, ORD_VCHANS, 64), "setup");
	ov = rte_zmalloc(NULL, sizeof(*ov) * ORD_VCHANS, 0);
	TEST_ASSERT_NOT_NULL(ov, "alloc");
	for (v = 0; v < ORD_VCHANS; v++) {
		for (k = 0; k < ORD_CHAIN; k++) {
			ov[v].buf[k] = rte_zmalloc(NULL, ORD_BUF, 64);
			if (ov[v].buf[k] == NULL)
				goto out;
		}
		ord_round_begin(&ov[v], v);
	}
	vmp_test_wait_init(&w, "order_across_vchans", WAIT_MS);
	for (;;) {
		uint64_t progress = total;
		bool busy = false;

		for (v = 0; v < ORD_VCHANS; v++) {
			struct ord_vchan *o = &ov[v];
			uint16_t burst = 1 + rte_rand_max(24), last;
			bool err = false;
			int id;

			if (o->round > ORD_ROUNDS)
				continue;
			busy = true;
			/* enqueue a random burst of the chain, then ring */
			for (k = 0; k < burst && o->next < ORD_CHAIN; k++) {
				id = rte_dma_copy(dev.id, v,
						  BUF_IOVA(o->buf[o->next - 1]),
						  BUF_IOVA(o->buf[o->next]),
						  o->sz, 0);
				if (id == -ENOSPC)
					break;
				if (id != (uint16_t)(o->jobs + o->next - 1)) {
					printf("  FAIL vchan %u: id %d, want "
					       "%u\n",
					       v, id,
					       (uint16_t)(o->jobs + o->next -
							  1));
					goto out;
				}
				o->next++;
			}
			rte_dma_submit(dev.id, v);
			/* reap a random number, check ids stay in order */
			k = rte_dma_completed(dev.id, v, 1 + rte_rand_max(40),
					      &last, &err);
			if (err) {
				printf("  FAIL vchan %u: error reported\n", v);
				goto out;
			}
			o->reaped += k;
			if (last != (uint16_t)(o->jobs + o->reaped - 1)) {
				printf("  FAIL vchan %u: last_idx %u, want "
				       "%u\n",
				       v, last,
				       (uint16_t)(o->jobs + o->reaped - 1));
				goto out;
			}
			if (o->reaped == ORD_CHAIN - 1) {
				if (ord_round_check(o, v) != TEST_SUCCESS)
					goto out;
				o->jobs += o->reaped;
				total += o->reaped;
				ord_round_begin(o, v);
			}
		}
		if (!busy)
			break;
		for (v = 0; v < ORD_VCHANS; v++)
			progress += ov[v].reaped;
		if (vmp_test_wait_check(&w, progress) != 0)
			break;
	}
	for (v = 0; v < ORD_VCHANS; v++) {
		if (ov[v].round <= ORD_ROUNDS) {
			printf("  FAIL vchan %u: only %u rounds: %s\n", v,
			       ov[v].round, w.verdict);
			goto out;
		}
		rte_dma_stats_get(dev.id, v, &st);
		if (st.completed != ov[v].jobs || st.errors != 0 ||
		    st.submitted < st.completed) {
			printf("  FAIL vchan %u stats: sub %" PRIu64
			       " cpl %" PRIu64 " err %" PRIu64 " jobs %" PRIu64
			       "\n",
			       v, st.submitted, st.completed, st.errors,
			       ov[v].jobs);
			goto out;
		}
	}
	rte_dma_stats_get(dev.id, RTE_DMA_ALL_VCHAN, &st);
	if (st.completed != total) {
		printf("  FAIL all-vchan stats %" PRIu64 " != %" PRIu64 "\n",
		       st.completed, total);
		goto out;
	}
	printf("  %" PRIu64 " chained copies on %u vchans, 2 engines, "
	       "in order\n",
	       total, ORD_VCHANS);
	rc = TEST_SUCCESS;
out:
	for (v = 0; v < ORD_VCHANS; v++)
		for (k = 0; k < ORD_CHAIN; k++)
			rte_free(ov[v].buf[k]);
	rte_free(ov);
	return rc;
}

/* ---- error completions ---- */

enum job_kind {
	J_COPY,
	J_SRC0,
	J_DST0,
	J_LEN0,
	J_FILL,
	J_FILL0,
	J_SG,
	J_SG_LEN,
	J_SG_SRC0,
	J_KINDS
};

static const enum rte_dma_status_code kind_status[J_KINDS] = {
	[J_COPY] = RTE_DMA_STATUS_SUCCESSFUL,
	[J_SRC0] = RTE_DMA_STATUS_INVALID_SRC_ADDR,
	[J_DST0] = RTE_DMA_STATUS_INVALID_DST_ADDR,
	[J_LEN0] = RTE_DMA_STATUS_INVALID_LENGTH,
	[J_FILL] = RTE_DMA_STATUS_SUCCESSFUL,
	[J_FILL0] = RTE_DMA_STATUS_INVALID_LENGTH,
	[J_SG] = RTE_DMA_STATUS_SUCCESSFUL,
	[J_SG_LEN] = RTE_DMA_STATUS_INVALID_LENGTH,
	[J_SG_SRC0] = RTE_DMA_STATUS_INVALID_SRC_ADDR,
};

#define ERR_JOBS 96
#define ERR_SZ 256

static int
enqueue_kind(enum job_kind k, const uint8_t *src, uint8_t *dst)
{
	struct rte_dma_sge s[2] = {{BUF_IOVA(src), ERR_SZ / 2},
				   {BUF_IOVA(src + ERR_SZ / 2), ERR_SZ / 2}};
	struct rte_dma_sge d[1] = {{BUF_IOVA(dst), ERR_SZ}};

	switch (k) {
	case J_COPY:
		return rte_dma_copy(dev.id, 0, BUF_IOVA(src), BUF_IOVA(dst),
				    ERR_SZ, 0);
	case J_SRC0:
		return rte_dma_copy(dev.id, 0, 0, BUF_IOVA(dst), ERR_SZ, 0);
	case J_DST0:
		return rte_dma_copy(dev.id, 0, BUF_IOVA(src), 0, ERR_SZ, 0);
	case J_LEN0:
		return rte_dma_copy(dev.id, 0, BUF_IOVA(src), BUF_IOVA(dst), 0,
				    0);
	case J_FILL:
		return rte_dma_fill(dev.id, 0, 0x0123456789abcdefULL,
				    BUF_IOVA(dst), ERR_SZ - 3, 0);
	case J_FILL0:
		return rte_dma_fill(dev.id, 0, 1, BUF_IOVA(dst), 0, 0);
	case J_SG:
		return rte_dma_copy_sg(dev.id, 0, s, d, 2, 1, 0);
	case J_SG_LEN:
		d[0].length = ERR_SZ - 1;
		return rte_dma_copy_sg(dev.id, 0, s, d, 2, 1, 0);
	case J_SG_SRC0:
		s[1].addr = 0;
		return rte_dma_copy_sg(dev.id, 0, s, d, 2, 1, 0);
	default:
		return -EINVAL;
	}
}

static int
check_job_data(enum job_kind k, const uint8_t *src, const uint8_t *dst)
{
	uint64_t pat = 0x0123456789abcdefULL;
	unsigned int i;

	for (i = 0; i < ERR_SZ; i++) {
		uint8_t want;

		if (kind_status[k] != RTE_DMA_STATUS_SUCCESSFUL)
			want = 0xee; /* untouched */
		else if (k == J_FILL)
			want = i < ERR_SZ - 3 ? ((const uint8_t *)&pat)[i % 8]
					      : 0xee;
		else
			want = src[i];
		TEST_ASSERT_EQUAL(dst[i], want, "kind %d byte %u", k, i);
	}
	return TEST_SUCCESS;
}

static int
test_error_completions(void)
{
	enum rte_dma_status_code st[ERR_JOBS];
	struct rte_dma_sge sge = {4096, 8};
	enum job_kind kind[ERR_JOBS];
	struct rte_dma_stats stats;
	uint8_t *src, *dst;
	unsigned int i, got = 0, nerr = 0;
	struct vmp_test_wait w;
	int rc = TEST_FAILED;

	TEST_ASSERT(dev_new("lcores=1") >= 0, "create");
	TEST_ASSERT_SUCCESS(swdma_test_setup(dev.id, 1, 128), "setup");
	src = rte_malloc(NULL, ERR_SZ, 64);
	dst = rte_malloc(NULL, (size_t)ERR_JOBS * ERR_SZ, 64);
	if (src == NULL || dst == NULL)
		goto out;
	for (i = 0; i < ERR_SZ; i++)
		src[i] = (uint8_t)rte_rand();
	memset(dst, 0xee, (size_t)ERR_JOBS * ERR_SZ);

	/* refused at enqueue: no job id consumed */
	if (rte_dma_copy_sg(dev.id, 0, &sge, &sge, 0, 1, 0) != -EINVAL ||
	    rte_dma_copy_sg(dev.id, 0, &sge, &sge, 1, 5, 0) != -EINVAL) {
		printf("  FAIL bad sge counts accepted\n");
		goto out;
	}
	for (i = 0; i < ERR_JOBS; i++) {
		/* errors at the first and last slot, and runs of them */
		kind[i] = i == 0	      ? J_SRC0
			  : i == ERR_JOBS - 1 ? J_LEN0
			  : (i % 7 == 3 || i % 7 == 4)
				  ? (enum job_kind)(1 + i % 8)
				  : (enum job_kind)(i % 3 == 0	 ? J_FILL
						    : i % 3 == 1 ? J_SG
								 : J_COPY);
		nerr += kind_status[kind[i]] != RTE_DMA_STATUS_SUCCESSFUL;
		if (enqueue_kind(kind[i], src, dst + (size_t)i * ERR_SZ) !=
		    (int)i) {
			printf("  FAIL job %u: wrong id\n", i);
			goto out;
		}
	}
	rte_dma_submit(dev.id, 0);

	/* completed() up to each error, completed_status() for the error */
	vmp_test_wait_init(&w, "error reporting", WAIT_MS);
	while (got < ERR_JOBS && vmp_test_wait_check(&w, got) == 0) {
		uint16_t last, n, j;
		bool err = false;

		n = rte_dma_completed(dev.id, 0, ERR_JOBS, &last, &err);
		for (j = 0; j < n; j++)
			if (kind_status[kind[got + j]] !=
			    RTE_DMA_STATUS_SUCCESSFUL) {
				printf("  FAIL job %u is an error, completed() "
				       "returned it\n",
				       got + j);
				goto out;
			}
		got += n;
		if (n > 0 && last != (uint16_t)(got - 1)) {
			printf("  FAIL last_idx %u want %u\n", last, got - 1);
			goto out;
		}
		if (!err)
			continue;
		/* has_error stays set, nothing returned, until the status
		 * of the failed job is read */
		err = false;
		if (rte_dma_completed(dev.id, 0, 8, &last, &err) != 0 || !err ||
		    last != (uint16_t)(got - 1)) {
			printf("  FAIL completed() again at error %u\n", got);
			goto out;
		}
		if (rte_dma_completed_status(dev.id, 0, 1, &last, st) != 1 ||
		    st[0] != kind_status[kind[got]] || last != got) {
			printf("  FAIL job %u: status %d want %d\n", got, st[0],
			       kind_status[kind[got]]);
			goto out;
		}
		got++;
	}
	if (got != ERR_JOBS) {
		printf("  FAIL reaped %u of %u\n", got, ERR_JOBS);
		goto out;
	}
	for (i = 0; i < ERR_JOBS; i++)
		if (check_job_data(kind[i], src, dst + (size_t)i * ERR_SZ) !=
		    TEST_SUCCESS)
			goto out;
	rte_dma_stats_get(dev.id, 0, &stats);
	if (stats.submitted != ERR_JOBS || stats.completed != ERR_JOBS ||
	    stats.errors != nerr) {
		printf("  FAIL stats %" PRIu64 "/%" PRIu64 "/%" PRIu64
		       " want %u/%u/%u\n",
		       stats.submitted, stats.completed, stats.errors, ERR_JOBS,
		       ERR_JOBS, nerr);
		goto out;
	}
	/* the same jobs again, all statuses in one completed_status call */
	for (i = 0; i < ERR_JOBS; i++)
		enqueue_kind(kind[i], src, dst + (size_t)i * ERR_SZ);
	rte_dma_submit(dev.id, 0);
	if (swdma_test_reap(dev.id, 0, ERR_JOBS, st, WAIT_MS) != ERR_JOBS)
		goto out;
	for (i = 0; i < ERR_JOBS; i++)
		if (st[i] != kind_status[kind[i]]) {
			printf("  FAIL pass 2 job %u: status %d want %d\n", i,
			       st[i], kind_status[kind[i]]);
			goto out;
		}
	printf("  %u jobs, %u errors, each reported at its job\n", ERR_JOBS,
	       nerr);
	rc = TEST_SUCCESS;
out:
	rte_free(src);
	rte_free(dst);
	return rc;
}

/* ---- injected failures (devarg fail_every) ---- */

#define FAIL_JOBS 30
#define FAIL_SZ 64

/* Every 3rd copy fails with ERROR_UNKNOWN and writes nothing; the others
 * land. The count runs on across submissions. */
static int
test_fail_every(void)
{
	enum rte_dma_status_code st[FAIL_JOBS];
	uint8_t src[FAIL_SZ], dst[FAIL_JOBS][FAIL_SZ];
	unsigned int i, half = FAIL_JOBS / 2;

	TEST_ASSERT(dev_new("lcores=1,fail_every=3") >= 0, "create");
	TEST_ASSERT_SUCCESS(swdma_test_setup(dev.id, 1, 64), "setup");
	for (i = 0; i < FAIL_SZ; i++)
		src[i] = (uint8_t)(i * 7 + 1);
	memset(dst, 0xee, sizeof(dst));
	for (i = 0; i < FAIL_JOBS; i++) {
		TEST_ASSERT_EQUAL(rte_dma_copy(dev.id, 0, BUF_IOVA(src),
					       BUF_IOVA(dst[i]), FAIL_SZ, 0),
				  (int)i, "job %u id", i);
		if (i == half - 1 || i == FAIL_JOBS - 1) {
			rte_dma_submit(dev.id, 0);
			TEST_ASSERT_EQUAL(swdma_test_reap(dev.id, 0, half,
							  st + i + 1 - half,
							  WAIT_MS),
					  half, "reaped by job %u", i);
		}
	}
	for (i = 0; i < FAIL_JOBS; i++) {
		bool fail = i % 3 == 2;

		TEST_ASSERT_EQUAL(st[i],
				  fail ? RTE_DMA_STATUS_ERROR_UNKNOWN
				       : RTE_DMA_STATUS_SUCCESSFUL,
				  "job %u status", i);
		TEST_ASSERT(fail ? dst[i][0] == 0xee &&
					    dst[i][FAIL_SZ - 1] == 0xee
				 : memcmp(dst[i], src, FAIL_SZ) == 0,
			    "job %u data", i);
	}
	return TEST_SUCCESS;
}

/* ---- slot formats ---- */

/*
 * A copy of 1..65535 bytes is all in its 16-byte ring slot; 0, 64 KiB and
 * longer, fills and copy_sg go through the slot's ext entry. Both kinds,
 * interleaved on one ring past the point where it wraps, each land their
 * own bytes and nothing else (the slot reused by the other kind must not
 * keep a stale field).
 */
#define FMT_BIG (200 * 1000)
#define FMT_ROUNDS 5
static const uint32_t fmt_len[] = {1, 65535, 65536, 2, FMT_BIG, 4095};

static int
test_slot_formats(void)
{
	const unsigned int nl = RTE_DIM(fmt_len), per = nl + 2;
	enum rte_dma_status_code st[RTE_DIM(fmt_len) + 2];
	uint64_t pat = 0x1122334455667788ULL;
	uint8_t *src, *dst[RTE_DIM(fmt_len) + 2];
	struct rte_dma_sge s[2], d[1];
	unsigned int r, i, k;
	int rc = TEST_FAILED;

	TEST_ASSERT(dev_new("lcores=1") >= 0, "create");
	/* a 32-slot ring: FMT_ROUNDS * per jobs wrap it */
	TEST_ASSERT_SUCCESS(swdma_test_setup(dev.id, 1, 32), "setup");
	src = rte_malloc(NULL, FMT_BIG, 64);
	memset(dst, 0, sizeof(dst));
	for (i = 0; i < per; i++)
		dst[i] = rte_malloc(NULL, FMT_BIG + 64, 64);
	for (i = 0; i < per; i++)
		if (src == NULL || dst[i] == NULL)
			goto out;
	for (r = 0; r < FMT_ROUNDS; r++) {
		for (k = 0; k < FMT_BIG; k++)
			src[k] = (uint8_t)(k * 13 + r + 1);
		for (i = 0; i < per; i++)
			memset(dst[i], 0xee, FMT_BIG + 64);
		/* the copies, a fill and a copy_sg, in a rotated order */
		for (k = 0; k < per; k++) {
			i = (k + r) % per;
			if (i < nl) {
				rc = rte_dma_copy(dev.id, 0, BUF_IOVA(src),
						  BUF_IOVA(dst[i]), fmt_len[i],
						  0);
			} else if (i == nl) {
				rc = rte_dma_fill(dev.id, 0, pat,
						  BUF_IOVA(dst[i]), 1000, 0);
			} else {
				s[0] = (struct rte_dma_sge){BUF_IOVA(src), 100};
				s[1] = (struct rte_dma_sge){BUF_IOVA(src + 100),
							    900};
				d[0] = (struct rte_dma_sge){BUF_IOVA(dst[i]),
							    1000};
				rc = rte_dma_copy_sg(dev.id, 0, s, d, 2, 1, 0);
			}
			if (rc < 0) {
				printf("round %u job %u: %d\n", r, i, rc);
				rc = TEST_FAILED;
				goto out;
			}
		}
		rte_dma_submit(dev.id, 0);
		if (swdma_test_reap(dev.id, 0, per, st, WAIT_MS) != per) {
			printf("round %u: not all reaped\n", r);
			rc = TEST_FAILED;
			goto out;
		}
		rc = TEST_FAILED;
		for (k = 0; k < per; k++) {
			uint32_t len, b;

			i = (k + r) % per;
			len = i < nl ? fmt_len[i] : 1000;
			if (st[k] != RTE_DMA_STATUS_SUCCESSFUL) {
				printf("round %u job %u: status %d\n", r, i,
				       st[k]);
				goto out;
			}
			if (i == nl) {
				for (b = 0; b < len; b++)
					if (dst[i][b] !=
					    ((uint8_t *)&pat)[b % 8]) {
						printf("fill byte %u\n", b);
						goto out;
					}
			} else if (memcmp(dst[i], src, len) != 0) {
				printf("round %u job %u (%u B): data\n", r, i,
				       len);
				goto out;
			}
			if (dst[i][len] != 0xee) {
				printf("round %u job %u (%u B): wrote past "
				       "its end\n",
				       r, i, len);
				goto out;
			}
		}
	}
	rc = TEST_SUCCESS;
out:
	for (i = 0; i < per; i++)
		rte_free(dst[i]);
	rte_free(src);
	return rc;
}

/* ---- stop with copies in flight ---- */

#define STOP_JOBS 512
#define STOP_SZ (32 * 1024)

static int
test_stop_in_flight(void)
{
	enum rte_dma_status_code st[STOP_JOBS];
	uint8_t *src, *dst;
	unsigned int i, ok, pass;
	uint32_t sid;
	uint16_t last;
	int rc = TEST_FAILED;

	TEST_ASSERT(dev_new("lcores=1") >= 0, "create");
	TEST_ASSERT_SUCCESS(swdma_test_setup(dev.id, 1, 1024), "setup");
	TEST_ASSERT_SUCCESS(rte_pmd_swdma_service_id_get(dev.id, 0, &sid),
			    "service id");
	src = rte_malloc(NULL, STOP_SZ, 64);
	dst = rte_malloc(NULL, (size_t)STOP_JOBS * STOP_SZ, 64);
	if (src == NULL || dst == NULL)
		goto out;
	memset(src, 0x5a, STOP_SZ);

	for (pass = 0; pass < 2; pass++) {
		/* pass 0: engine paused, nothing can run before the stop;
		 * pass 1: engine running, stop races it */
		rte_service_runstate_set(sid, pass);
		memset(dst, 0xee, (size_t)STOP_JOBS * STOP_SZ);
		for (i = 0; i < STOP_JOBS; i++)
			rte_dma_copy(dev.id, 0, BUF_IOVA(src),
				     BUF_IOVA(dst + (size_t)i * STOP_SZ),
				     STOP_SZ, 0);
		rte_dma_submit(dev.id, 0);
		rte_delay_us_block(1000); /* let the engine get going */
		/* 8 more, not submitted: they survive the stop */
		for (i = 0; i < 8; i++)
			rte_dma_copy(dev.id, 0, BUF_IOVA(src),
				     BUF_IOVA(dst + (size_t)i * STOP_SZ), 64,
				     0);
		TEST_ASSERT_SUCCESS(rte_dma_stop(dev.id), "stop");
		/* every submitted job is accounted for right after stop */
		if (rte_dma_completed_status(dev.id, 0, STOP_JOBS, &last, st) !=
		    STOP_JOBS) {
			printf("  FAIL pass %u: not all jobs back\n", pass);
			goto out;
		}
		for (ok = 0; ok < STOP_JOBS; ok++)
			if (st[ok] != RTE_DMA_STATUS_SUCCESSFUL)
				break;
		for (i = 0; i < STOP_JOBS; i++) {
			const uint8_t *d = dst + (size_t)i * STOP_SZ;
			enum rte_dma_status_code want =
				i < ok ? RTE_DMA_STATUS_SUCCESSFUL
				       : RTE_DMA_STATUS_NOT_ATTEMPTED;

			if (st[i] != want || d[0] != (i < ok ? 0x5a : 0xee) ||
			    d[STOP_SZ - 1] != (i < ok ? 0x5a : 0xee)) {
				printf("  FAIL pass %u job %u: status %d data "
				       "%x (prefix %u ok)\n",
				       pass, i, st[i], d[0], ok);
				goto out;
			}
		}
		if (pass == 0 && ok != 0) {
			printf("  FAIL paused engine ran %u jobs\n", ok);
			goto out;
		}
		printf("  pass %u: %u done, %u not attempted at stop\n", pass,
		       ok, STOP_JOBS - ok);
		if (rte_dma_completed(dev.id, 0, 64, &last, NULL) != 0) {
			printf("  FAIL pending jobs ran while stopped\n");
			goto out;
		}
		/* restart: the 8 pending jobs run once submitted, ids go on */
		rte_service_runstate_set(sid, 1);
		TEST_ASSERT_SUCCESS(rte_dma_start(dev.id), "restart");
		rte_dma_submit(dev.id, 0);
		if (swdma_test_reap(dev.id, 0, 8, st, WAIT_MS) != 8 ||
		    st[7] != RTE_DMA_STATUS_SUCCESSFUL || dst[0] != 0x5a) {
			printf("  FAIL pending jobs after restart\n");
			goto out;
		}
		rte_dma_completed(dev.id, 0, 1, &last, NULL);
		if (last != (uint16_t)((pass + 1) * (STOP_JOBS + 8) - 1)) {
			printf("  FAIL last id %u after restart\n", last);
			goto out;
		}
	}
	rc = TEST_SUCCESS;
out:
	rte_free(src);
	rte_free(dst);
	return rc;
}

/* ---- burst capacity at ring full ---- */

static int
test_burst_capacity_full(void)
{
	enum rte_dma_status_code st[100];
	struct rte_dma_sge sge;
	uint8_t *buf;
	uint32_t round, i, id = 0;
	int r;

	TEST_ASSERT(dev_new("lcores=1") >= 0, "create");
	/* 100 is not a power of two: the capacity is still exactly 100 */
	TEST_ASSERT_SUCCESS(swdma_test_setup(dev.id, 1, 100), "setup");
	buf = rte_zmalloc(NULL, 8192, 64);
	TEST_ASSERT_NOT_NULL(buf, "alloc");
	sge.addr = BUF_IOVA(buf);
	sge.length = 64;
	TEST_ASSERT_EQUAL(rte_dma_burst_capacity(dev.id, 0), 100, "empty");
	/* 700 fills of the ring: ids wrap past UINT16_MAX */
	for (round = 0; round < 700; round++) {
		for (i = 0; i < 100; i++) {
			r = rte_dma_copy(dev.id, 0, BUF_IOVA(buf),
					 BUF_IOVA(buf + 4096), 64, 0);
			if (r != (uint16_t)id++ ||
			    rte_dma_burst_capacity(dev.id, 0) != 99 - i)
				goto fail;
		}
		if (rte_dma_copy(dev.id, 0, BUF_IOVA(buf), BUF_IOVA(buf), 64,
				 RTE_DMA_OP_FLAG_SUBMIT) != -ENOSPC ||
		    rte_dma_fill(dev.id, 0, 0, BUF_IOVA(buf), 64, 0) !=
			    -ENOSPC ||
		    rte_dma_copy_sg(dev.id, 0, &sge, &sge, 1, 1, 0) != -ENOSPC)
			goto fail;
		rte_dma_submit(dev.id, 0);
		/* done but not reaped: still full */
		if (rte_dma_burst_capacity(dev.id, 0) != 0)
			goto fail;
		if (round % 100 == 0) {
			/* wait until idle, then check still full */
			enum rte_dma_vchan_status vs = RTE_DMA_VCHAN_ACTIVE;
			struct rte_dma_stats ds = {0};
			struct vmp_test_wait w;

			vmp_test_wait_init(&w, "vchan idle", WAIT_MS);
			while (vs == RTE_DMA_VCHAN_ACTIVE &&
			       vmp_test_wait_check(&w, ds.completed) == 0) {
				rte_dma_vchan_status(dev.id, 0, &vs);
				rte_dma_stats_get(dev.id, 0, &ds);
				sched_yield(); /* the engine may share our CPU */
			}
			if (vs != RTE_DMA_VCHAN_IDLE ||
			    rte_dma_burst_capacity(dev.id, 0) != 0)
				goto fail;
		}
		if (swdma_test_reap(dev.id, 0, 30, st, WAIT_MS) != 30 ||
		    rte_dma_burst_capacity(dev.id, 0) != 30 ||
		    swdma_test_reap(dev.id, 0, 70, st, WAIT_MS) != 70 ||
		    rte_dma_burst_capacity(dev.id, 0) != 100)
			goto fail;
	}
	rte_free(buf);
	return TEST_SUCCESS;
fail:
	printf("  FAIL round %u job %u: capacity %u\n", round, i,
	       rte_dma_burst_capacity(dev.id, 0));
	rte_free(buf);
	return TEST_FAILED;
}

/* ---- the service-lcore helper ---- */

static int
test_service_lcore_helper(void)
{
	enum rte_dma_status_code st;
	uint64_t *a, *b;

	/* no lcores devarg: nothing runs the engine until the helper */
	TEST_ASSERT(dev_new(NULL) >= 0, "create");
	TEST_ASSERT_EQUAL(
		rte_pmd_swdma_service_lcore_set(dev.id, rte_get_main_lcore()),
		-EINVAL, "main lcore refused");
	TEST_ASSERT_EQUAL(rte_pmd_swdma_service_lcore_set(dev.id, 4000),
			  -EINVAL, "lcore out of range");
	TEST_ASSERT_EQUAL(rte_pmd_swdma_service_lcore_set(INT16_MAX, 1),
			  -ENODEV, "not a swdma device");
	TEST_ASSERT_SUCCESS(swdma_test_setup(dev.id, 1, 64), "setup");
	a = rte_zmalloc(NULL, 64, 64);
	b = rte_zmalloc(NULL, 64, 64);
	TEST_ASSERT(a != NULL && b != NULL, "alloc");
	*a = 42;
	rte_dma_copy(dev.id, 0, BUF_IOVA(a), BUF_IOVA(b), 8,
		     RTE_DMA_OP_FLAG_SUBMIT);
	rte_delay_ms(20);
	TEST_ASSERT_EQUAL(rte_dma_completed(dev.id, 0, 1, NULL, NULL), 0,
			  "ran without a service lcore");
	TEST_ASSERT_SUCCESS(rte_pmd_swdma_service_lcore_set(dev.id, 1),
			    "helper");
	TEST_ASSERT_EQUAL(rte_eal_lcore_role(1), ROLE_SERVICE, "role");
	TEST_ASSERT_EQUAL(swdma_test_reap(dev.id, 0, 1, &st, WAIT_MS), 1,
			  "copy done once mapped");
	TEST_ASSERT_EQUAL(*b, 42, "data");
	rte_free(a);
	rte_free(b);
	case_teardown();
	/* close gave lcore 1 back as an idle worker */
	TEST_ASSERT_EQUAL(rte_eal_lcore_role(1), ROLE_RTE, "role after close");
	TEST_ASSERT_EQUAL(rte_eal_get_lcore_state(1), WAIT, "idle worker");
	return TEST_SUCCESS;
}

static struct vmp_test_suite swdma_suite = {
	.name = "dma_swdma",
	.setup = suite_setup,
	.cases =
		{
			TEST_CASE_ST(NULL, case_teardown, test_devargs_refused),
			TEST_CASE_ST(NULL, case_teardown,
				     test_info_and_devargs),
			TEST_CASE_ST(NULL, case_teardown,
				     test_order_across_vchans),
			TEST_CASE_ST(NULL, case_teardown,
				     test_error_completions),
			TEST_CASE_ST(NULL, case_teardown, test_fail_every),
			TEST_CASE_ST(NULL, case_teardown, test_slot_formats),
			TEST_CASE_ST(NULL, case_teardown, test_stop_in_flight),
			TEST_CASE_ST(NULL, case_teardown,
				     test_burst_capacity_full),
			TEST_CASE_ST(NULL, case_teardown,
				     test_service_lcore_helper),
			TEST_CASES_END(),
		},
};

static int
test_swdma(void)
{
	return vmp_test_suite_run(&swdma_suite);
}

REGISTER_TEST_COMMAND(swdma_autotest, test_swdma);

/* The same suite with the service lcore and the submitter sharing one CPU
 * (meson passes --lcores 0@0,1@0): engines are preempted mid-batch. */
REGISTER_TEST_COMMAND(swdma_oversub_autotest, test_swdma);
