/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The END digest, spread over the (de)compression workers: the digest is part
 * of the downtime, and one core hashes ~5 GB/s, so a 1 GiB guest costs
 * 200 ms on one core. Workers fill each region's page-CRC array in chunks;
 * the migration thread combines the array (1 MiB per GiB) in order, which
 * gives exactly vmp_mig_region_digest()'s value.
 */
#include <rte_byteorder.h>
#include <rte_common.h>

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
		rs->page_crc[i] = rte_cpu_to_le_32(mig_page_crc4(
			(const uint8_t *)rs->r.addr + i * VMP_MIG_PAGE_SIZE));
	return true;
}

void
mig_digest_all(struct vmp_mig *m, uint64_t *out)
{
	unsigned int r;
	uint64_t pg;

	for (r = 0; r < m->nb_regions; r++) {
		struct mig_regstate *rs = &m->reg[r];

		if (m->cp == NULL || rs->page_crc == NULL) {
			out[r] = vmp_mig_region_digest(rs->r.addr, rs->r.len);
			continue;
		}
		for (pg = 0; pg < rs->nb_pages; pg += CHUNK_PAGES) {
			struct mig_job *j = mig_cpool_get_wait(m->cp, NULL);

			j->op = MIG_OP_DIGEST;
			j->region = (uint16_t)r;
			j->page = pg;
			j->len = (uint32_t)RTE_MIN((uint64_t)CHUNK_PAGES,
						   rs->nb_pages - pg);
			mig_cpool_put(m->cp, j);
		}
	}
	if (m->cp != NULL)
		mig_cpool_drain(m->cp);
	for (r = 0; r < m->nb_regions; r++)
		if (m->cp != NULL && m->reg[r].page_crc != NULL)
			out[r] = mig_digest_combine(m->reg[r].page_crc,
						    m->reg[r].nb_pages);
}
