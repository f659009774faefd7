/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The END digest, spread over the (de)compression workers: the source's
 * digest of its frozen memory is part of the downtime, and one core hashes
 * ~5-9 GB/s, so a 1 GiB guest costs 100-200 ms on one core. Workers fill each
 * region's page-CRC array in chunks; the migration thread combines the array
 * (1 MiB per GiB) in order, which gives exactly vmp_mig_region_digest()'s
 * value. The destination fills its array once at setup and then keeps it
 * current page by page (mig_dest.c): at END it only combines.
 */
#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_cycles.h>

#include "mig_pvt.h"

#define CHUNK_PAGES 1024 /* 4 MiB per job */

bool
mig_digest_job(struct vmp_mig *m, struct mig_job *j)
{
	struct mig_regstate *rs;
	uint64_t i;

	if (j->op != MIG_OP_DIGEST)
		return false;
	rs = &m->reg[j->region];
	for (i = j->page; i < j->page + j->len; i++)
		rs->page_crc[i] = rte_cpu_to_le_32(mig_page_crc4_fast(
			(const uint8_t *)rs->r.addr + i * VMP_MIG_PAGE_SIZE));
	return true;
}

/* Page CRCs of region r, pages [first, first + n), on the workers. */
void
mig_digest_range(struct vmp_mig *m, unsigned int r, uint64_t first, uint64_t n)
{
	struct mig_regstate *rs = &m->reg[r];
	struct mig_job one;
	uint64_t pg;

	for (pg = first; pg < first + n; pg += CHUNK_PAGES) {
		struct mig_job *j =
			m->cp ? mig_cpool_get_wait(m->cp, NULL) : &one;

		j->op = MIG_OP_DIGEST;
		j->region = (uint16_t)r;
		j->page = pg;
		j->len = (uint32_t)RTE_MIN((uint64_t)CHUNK_PAGES,
					   first + n - pg);
		if (m->cp)
			mig_cpool_put(m->cp, j);
		else
			mig_digest_job(m, j);
	}
	RTE_SET_USED(rs);
}

void
mig_digest_combine_all(struct vmp_mig *m, uint64_t *out)
{
	unsigned int r;

	for (r = 0; r < m->nb_regions; r++)
		out[r] = mig_digest_combine(m->reg[r].page_crc,
					    m->reg[r].nb_pages);
}

void
mig_digest_all(struct vmp_mig *m, uint64_t *out)
{
	unsigned int r;

	for (r = 0; r < m->nb_regions; r++)
		mig_digest_range(m, r, 0, m->reg[r].nb_pages);
	if (m->cp != NULL)
		mig_cpool_drain(m->cp);
	mig_digest_combine_all(m, out);
}

/*
 * Bytes/s of the source's END digest as it will run, for the downtime
 * estimate: passes over up to max_pages of region 0 on the workers; with 3
 * passes the median pass, else the one pass. The source calls it at setup
 * (before connecting) and after each round's sync, when the destination has
 * nothing to do either: at END the destination only combines its page CRCs,
 * so the source digests alone then too.
 */
double
mig_digest_calibrate(struct vmp_mig *m, int passes, uint64_t max_pages)
{
	uint64_t n = RTE_MIN(m->reg[0].nb_pages, max_pages);
	double r[3];
	int i;

	passes = passes >= 3 ? 3 : 1;
	for (i = 0; i < passes; i++) {
		uint64_t t0 = rte_get_tsc_cycles();

		mig_digest_range(m, 0, 0, n);
		if (m->cp)
			mig_cpool_drain(m->cp);
		r[i] = (double)n * VMP_MIG_PAGE_SIZE * rte_get_tsc_hz() /
		       RTE_MAX(rte_get_tsc_cycles() - t0, 1ul);
	}
	return passes == 3 ? mig_digest_rate_med3(r) : r[0];
}

/* Median of three rates (the source's last three per-round measures). */
double
mig_digest_rate_med3(const double r[3])
{
	double a = r[0], b = r[1], c = r[2], x;

	if (a > b) {
		x = a;
		a = b;
		b = x;
	}
	if (b > c)
		b = c;
	return RTE_MAX(a, b);
}
