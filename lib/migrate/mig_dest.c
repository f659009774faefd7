/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The destination: accept one source, check its HELLO, then apply frames in
 * order. Zero and raw pages are written by this thread; deflated pages are
 * inflated straight into guest memory by the decompression workers. ROUND_END
 * drains the workers (so round n+1 never races round n on the same page) and
 * checks the page count; END drains, combines the page CRCs and answers
 * RESULT. Completed only if every check passed; anything else is FAILED (or
 * CANCELLED when the source or the local user cancelled).
 *
 * The digest's page CRC array is hashed from our memory once, after ACCEPT
 * (setup), then kept current: whoever writes a page recomputes its CRC from
 * what is now in memory (this thread for ZERO and RAW, the worker for ZLIB).
 * A page may appear once per round (checked), and rounds are separated by a
 * drain, so no two writers touch one page or one CRC at a time. At END the
 * array is combined (1 MiB per GiB) instead of reading the memory again.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <zlib.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_errno.h>

#include "mig_pvt.h"

static void
dst_job(void *data, unsigned int worker, void *arg)
{
	struct mig_job *j = data;
	struct vmp_mig *m = arg;
	z_stream *z = m->zs[worker];

	if (mig_digest_job(m, j))
		return;
	inflateReset(z);
	z->next_in = j->in;
	z->avail_in = j->len;
	z->next_out = j->dst;
	z->avail_out = VMP_MIG_PAGE_SIZE;
	j->failed = !(inflate(z, Z_FINISH) == Z_STREAM_END &&
		      z->total_out == VMP_MIG_PAGE_SIZE && z->avail_in == 0);
	/* the page's CRC from what memory now holds; the receive thread reads
	 * it after the drain of ROUND_END (job completion is the release, the
	 * drain's wait the acquire). A failed inflate fails the migration. */
	if (!j->failed)
		m->reg[j->region].page_crc[j->page] =
			rte_cpu_to_le_32(mig_page_crc4(j->dst));
}

static void
dst_done(void *data, void *arg)
{
	struct mig_job *j = data;
	struct vmp_mig *m = arg;

	if (j->op == MIG_OP_PAGE && j->failed)
		mig_fail(m, -EPROTO,
			 "region %u page %" PRIu64 ": inflate failed",
			 j->region, j->page);
}

static void
send_reason(struct vmp_mig *m, uint8_t type, int code, const char *text)
{
	struct mig_reason rs;
	uint64_t dl = m->ch.deadline_tsc;
	bool c = m->cancel;

	memset(&rs, 0, sizeof(rs));
	rs.code = rte_cpu_to_le_32((uint32_t)code);
	/* truncated on purpose: the reason is 124 bytes on the wire */
	memcpy(rs.text, text, RTE_MIN(strlen(text), sizeof(rs.text) - 1));
	/* best effort, bounded: the peer may be gone */
	m->cancel = false;
	m->ch.deadline_tsc = rte_get_tsc_cycles() + rte_get_tsc_hz();
	mig_chan_send_frame(&m->ch, type, m->round, &rs, sizeof(rs), NULL, 0);
	m->ch.deadline_tsc = dl;
	m->cancel = c;
}

static int
apply_pages(struct vmp_mig *m, const uint8_t *buf, uint32_t len)
{
	const struct mig_pages_hdr *ph = (const struct mig_pages_hdr *)buf;
	const struct mig_page_ent *e = (const struct mig_page_ent *)(ph + 1);
	const uint8_t *data;
	struct mig_regstate *rs;
	uint32_t n, i, dlen, off = 0;
	uint16_t region;

	if (len < sizeof(*ph)) {
		mig_fail(m, -EPROTO, "PAGES frame of %u bytes", len);
		return -EPROTO;
	}
	region = rte_le_to_cpu_16(ph->region);
	n = rte_le_to_cpu_16(ph->nb_pages);
	if (region >= m->nb_regions || n == 0 ||
	    len < sizeof(*ph) + n * sizeof(*e)) {
		mig_fail(m, -EPROTO,
			 "PAGES frame: region %u, %u pages, %u bytes", region,
			 n, len);
		return -EPROTO;
	}
	rs = &m->reg[region];
	data = (const uint8_t *)(e + n);
	dlen = len - sizeof(*ph) - n * sizeof(*e);
	for (i = 0; i < n; i++) {
		uint64_t page = rte_le_to_cpu_64(e[i].page);
		uint32_t l = rte_le_to_cpu_32(e[i].len);
		uint8_t *dst;

		if (page >= rs->nb_pages || l > dlen - off ||
		    (e[i].kind == MIG_PAGE_ZERO && l != 0) ||
		    (e[i].kind == MIG_PAGE_RAW && l != VMP_MIG_PAGE_SIZE) ||
		    (e[i].kind == MIG_PAGE_ZLIB &&
		     (l == 0 || l > MIG_JOB_OUT_MAX)) ||
		    e[i].kind > MIG_PAGE_ZLIB) {
			mig_fail(m, -EPROTO,
				 "bad page entry %u: region %u page %" PRIu64
				 " kind %u len %u",
				 i, region, page, e[i].kind, l);
			return -EPROTO;
		}
		/* once per round: a second copy could race the first one's
		 * worker and leave the page and its CRC apart */
		if (rs->bitmap[page / 64] & (1ull << (page % 64))) {
			mig_fail(m, -EPROTO,
				 "region %u page %" PRIu64 " twice in round %u",
				 region, page, m->round);
			return -EPROTO;
		}
		rs->bitmap[page / 64] |= 1ull << (page % 64);
		dst = (uint8_t *)rs->r.addr + page * VMP_MIG_PAGE_SIZE;
		if (e[i].kind == MIG_PAGE_ZERO) {
			/* reading first keeps untouched memory unpopulated;
			 * zero either way, so the CRC is the zero page's */
			if (!vmp_mig_page_is_zero(dst, VMP_MIG_PAGE_SIZE))
				memset(dst, 0, VMP_MIG_PAGE_SIZE);
			rs->page_crc[page] =
				rte_cpu_to_le_32(mig_zero_page_crc());
			m->st.duplicate++;
		} else if (e[i].kind == MIG_PAGE_RAW) {
			memcpy(dst, data + off, VMP_MIG_PAGE_SIZE);
			rs->page_crc[page] =
				rte_cpu_to_le_32(mig_page_crc4(dst));
			m->st.normal++;
			m->st.raw_pages++;
		} else {
			struct mig_job *j =
				mig_cpool_get_wait(m->cp, &m->cancel);

			if (j == NULL)
				return -ECANCELED;
			j->m = m;
			j->op = MIG_OP_PAGE;
			j->region = region;
			j->page = page;
			j->dst = dst;
			j->len = l;
			j->failed = 0;
			memcpy(j->in, data + off, l);
			mig_cpool_put(m->cp, j);
			m->st.normal++;
			m->st.compression_pages++;
			m->st.compressed_size += l;
		}
		off += l;
	}
	if (off != dlen) {
		mig_fail(m, -EPROTO,
			 "PAGES frame: %u data bytes, entries say %u", dlen,
			 off);
		return -EPROTO;
	}
	m->dst_round_pages += n;
	m->st.transferred = m->ch.rx_bytes;
	return m->err;
}

static int
handle_end(struct vmp_mig *m, const uint8_t *buf, uint32_t len)
{
	const struct mig_end *e = (const struct mig_end *)buf;
	const uint64_t *dig = (const uint64_t *)(e + 1);
	struct mig_result res;
	unsigned int r;
	int rc;

	memset(&res, 0, sizeof(res));
	res.ok = rte_cpu_to_le_32(1);
	if (len != sizeof(*e) + m->nb_regions * sizeof(uint64_t) ||
	    rte_le_to_cpu_32(e->nb_regions) != m->nb_regions) {
		mig_fail(m, -EPROTO, "END frame of %u bytes", len);
		return -EPROTO;
	}
	mig_set_status(m, VMP_MIG_ST_DEVICE);
	/* drained before END was handled: every page CRC is current */
	mig_digest_combine_all(m, m->digest);
	for (r = 0; r < m->nb_regions; r++) {
		uint64_t d = m->digest[r];

		/* testing: the incremental CRCs against a full re-hash */
		if (m->p.dest_verify_digest &&
		    vmp_mig_region_digest(m->reg[r].r.addr, m->reg[r].r.len) !=
			    d) {
			res.ok = 0;
			res.bad_region = rte_cpu_to_le_32(r);
			res.digest = rte_cpu_to_le_64(d);
			mig_fail(m, -EPROTO,
				 "region %u: page CRCs kept while writing "
				 "disagree with the memory",
				 r);
			break;
		}
		if (d != rte_le_to_cpu_64(dig[r])) {
			res.ok = 0;
			res.bad_region = rte_cpu_to_le_32(r);
			res.digest = rte_cpu_to_le_64(d);
			mig_fail(m, -EPROTO,
				 "region %u digest 0x%016" PRIx64
				 " != source 0x%016" PRIx64,
				 r, d, rte_le_to_cpu_64(dig[r]));
			break;
		}
	}
	rc = mig_chan_send_frame(&m->ch, MIG_F_RESULT, m->round, &res,
				 sizeof(res), NULL, 0);
	if (rc < 0 && m->err == 0)
		mig_fail(m, rc, "sending the result: %s", strerror(-rc));
	return m->err;
}

int
mig_dest_run(struct vmp_mig *m)
{
	struct vmp_mig_region regs[VMP_MIG_MAX_REGIONS];
	struct mig_frame_hdr h;
	char err[160];
	unsigned int i;
	uint8_t comp = 0;
	int n, rc = 0;

	rc = mig_net_accept(m->lfd, &m->ch);
	if (rc < 0) {
		mig_fail(m, rc, "accept: %s", strerror(-rc));
		goto out;
	}
	n = mig_chan_recv_frame(&m->ch, &h, m->rxbuf, MIG_MAX_PAYLOAD, 10000);
	if (n < 0 || h.type != MIG_F_HELLO) {
		rc = n < 0 ? n : -EPROTO;
		mig_fail(m, rc, "no HELLO from the source");
		goto out;
	}
	for (i = 0; i < m->nb_regions; i++)
		regs[i] = m->reg[i].r;
	rc = mig_hello_check(m->rxbuf, (uint32_t)n, regs, m->nb_regions, &comp,
			     err, sizeof(err));
	if (rc < 0) {
		MIG_LOG(ERR, "%s: refusing the source: %s", m->name, err);
		send_reason(m, MIG_F_REFUSE, EPROTO, err);
		mig_fail(m, rc, "refused: %s", err);
		goto out;
	}
	m->cp = mig_workers_create(m, dst_job, dst_done);
	if (m->cp == NULL) {
		rc = -rte_errno;
		send_reason(m, MIG_F_REFUSE, rte_errno,
			    "no decompression workers");
		mig_fail(m, rc, "no decompression workers: %s",
			 strerror(rte_errno));
		goto out;
	}
	rc = mig_chan_send_frame(&m->ch, MIG_F_ACCEPT, 0, NULL, 0, NULL, 0);
	if (rc < 0) {
		mig_fail(m, rc, "send: %s", strerror(-rc));
		goto out;
	}
	/* setup: the page CRCs of what our memory holds now; from here on
	 * every page written updates its own */
	mig_digest_all(m, m->digest);
	m->st.setup_time_ms = mig_ms_since(m->t_start);
	mig_set_status(m, VMP_MIG_ST_ACTIVE);
	for (;;) {
		n = mig_chan_recv_frame(&m->ch, &h, m->rxbuf, MIG_MAX_PAYLOAD,
					0);
		if (n < 0) {
			rc = n;
			if (n == -EPROTO) {
				mig_fail(m, n,
					 "corrupt frame (CRC32C / framing)");
				send_reason(m, MIG_F_ERROR, EPROTO,
					    "corrupt frame (CRC32C)");
			} else if (n != -ECANCELED) {
				mig_fail(m, n, "source gone: %s", strerror(-n));
			}
			break;
		}
		if (rte_le_to_cpu_32(h.round) != m->round &&
		    h.type != MIG_F_CANCEL) {
			rc = -EPROTO;
			mig_fail(m, rc, "frame of round %u in round %u",
				 rte_le_to_cpu_32(h.round), m->round);
			break;
		}
		if (h.type == MIG_F_PAGES) {
			if (m->final_seen) {
				rc = -EPROTO;
				mig_fail(m, rc, "PAGES after the final round");
				break;
			}
			rc = apply_pages(m, m->rxbuf, (uint32_t)n);
			if (rc < 0)
				break;
			continue;
		}
		if (m->cp)
			mig_cpool_drain(m->cp);
		if (m->err) {
			rc = m->err;
			break;
		}
		if (h.type == MIG_F_ROUND_END) {
			const struct mig_round_end *re =
				(const struct mig_round_end *)m->rxbuf;

			if ((size_t)n != sizeof(*re) ||
			    rte_le_to_cpu_64(re->pages) != m->dst_round_pages) {
				rc = -EPROTO;
				mig_fail(m, rc,
					 "round %u: %" PRIu64
					 " pages received, "
					 "ROUND_END says %" PRIu64,
					 m->round, m->dst_round_pages,
					 (size_t)n == sizeof(*re)
						 ? rte_le_to_cpu_64(re->pages)
						 : 0);
				break;
			}
			m->dst_round_pages = 0;
			for (i = 0; i < m->nb_regions; i++)
				memset(m->reg[i].bitmap, 0,
				       RTE_ALIGN_CEIL(m->reg[i].nb_pages, 64) /
					       8);
			if (rte_le_to_cpu_32(re->final)) {
				mig_set_status(m, VMP_MIG_ST_DEVICE);
				m->final_seen = true;
			}
			m->round++;
			m->st.rounds++;
			m->st.dirty_sync_count++;
			mig_publish(m);
			continue;
		}
		if (h.type == MIG_F_END) {
			rc = handle_end(m, m->rxbuf, (uint32_t)n);
			break;
		}
		if (h.type == MIG_F_CANCEL) {
			rc = -ECANCELED;
			break;
		}
		rc = -EPROTO;
		mig_fail(m, rc, "unexpected frame type %u", h.type);
		break;
	}
out:
	if (rc == -ECANCELED && m->cancel && m->ch.fd >= 0)
		send_reason(m, MIG_F_CANCEL, ECANCELED,
			    "cancelled by destination");
	if (m->cp) {
		mig_cpool_drain(m->cp);
		mig_publish(m);
		mig_cpool_destroy(m->cp);
		m->cp = NULL;
	}
	if (rc == 0 && m->err)
		rc = m->err;
	m->st.transferred = m->ch.rx_bytes;
	mig_chan_close(&m->ch);
	if (rc == 0) {
		mig_set_status(m, VMP_MIG_ST_COMPLETED);
		MIG_LOG(INFO, "%s: incoming migration completed, digest ok",
			m->name);
	} else if (rc == -ECANCELED) {
		mig_set_status(m, VMP_MIG_ST_CANCELLED);
		MIG_LOG(INFO,
			"%s: incoming migration cancelled, memory "
			"discarded",
			m->name);
	} else {
		mig_set_status(m, VMP_MIG_ST_FAILED);
		MIG_LOG(ERR, "%s: incoming migration failed: %s", m->name,
			m->st.error);
	}
	return rc;
}
