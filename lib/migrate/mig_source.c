/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The source: handshake, pre-copy rounds, switchover, END / RESULT.
 *
 * Round n sends the pages set in each region's bitmap (round 0: all of them;
 * later: what dirty.sync() read-and-cleared). A zero page becomes an entry
 * without data; any other page is copied and deflated by a worker, whose done
 * callback (on this thread) appends it to the current PAGES frame. Frames hold
 * pages of one region: the pool is drained before moving to the next region
 * and before ROUND_END, so the destination, which drains its own pool at
 * ROUND_END, never applies two versions of a page out of order.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <zlib.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_malloc.h>

#include "mig_pvt.h"

#define SAMPLE_MS 20
/* Pages of each pre-copy round (from round 1) sent raw by this thread to
 * measure the raw path: 1 MiB, a few % of a round. */
#define MIG_PROBE_PAGES 256

static inline struct mig_pages_hdr *
batch_hdr(struct vmp_mig *m)
{
	return (struct mig_pages_hdr *)m->batch;
}

static inline struct mig_page_ent *
batch_ents(struct vmp_mig *m)
{
	return (struct mig_page_ent *)(m->batch + sizeof(struct mig_pages_hdr));
}

/* Read what the destination says out of turn (ERROR, CANCEL). */
static void
read_peer_msg(struct vmp_mig *m)
{
	struct mig_frame_hdr h;
	struct mig_reason *rs = (struct mig_reason *)m->rxbuf;
	int n;

	m->ch.peer_msg = false;
	n = mig_chan_recv_frame(&m->ch, &h, m->rxbuf, MIG_MAX_PAYLOAD, 1000);
	if (n < 0) {
		mig_fail(m, n == -ETIMEDOUT ? -EPROTO : n,
			 "destination gone: %s", strerror(-n));
		return;
	}
	if ((h.type == MIG_F_ERROR || h.type == MIG_F_CANCEL) &&
	    (size_t)n >= sizeof(*rs)) {
		rs->text[sizeof(rs->text) - 1] = '\0';
		mig_fail(m, -EPROTO, "destination %s: %s",
			 h.type == MIG_F_CANCEL ? "cancelled" : "failed",
			 rs->text);
		return;
	}
	mig_fail(m, -EPROTO, "unexpected frame type %u from destination",
		 h.type);
}

static int
batch_flush(struct vmp_mig *m)
{
	struct mig_pages_hdr *bh = batch_hdr(m);
	uint32_t l1;
	int rc;

	if (m->batch_n == 0 || m->err)
		return m->err;
	bh->region = rte_cpu_to_le_16(m->batch_region);
	bh->nb_pages = rte_cpu_to_le_16((uint16_t)m->batch_n);
	bh->reserved = 0;
	l1 = sizeof(*bh) + m->batch_n * sizeof(struct mig_page_ent);
	rc = mig_chan_send_frame(&m->ch, MIG_F_PAGES, m->round, m->batch, l1,
				 m->rxbuf, m->batch_data);
	if (m->ch.peer_msg || rc == -EPROTO)
		read_peer_msg(m);
	if (rc < 0 && !m->err)
		mig_fail(m, rc, "send: %s", strerror(-rc));
	m->round_pages += m->batch_n;
	m->round_bytes += m->batch_data;
	m->st.transferred = m->ch.tx_bytes;
	m->batch_n = 0;
	m->batch_data = 0;
	return m->err;
}

/* Append one page; data (len bytes) is copied into the frame. */
static void
batch_add(struct vmp_mig *m, uint64_t page, uint8_t kind, const void *data,
	  uint32_t len)
{
	struct mig_page_ent *e;

	if (m->err)
		return;
	e = &batch_ents(m)[m->batch_n++];
	e->page = rte_cpu_to_le_64(page);
	e->kind = kind;
	memset(e->reserved, 0, sizeof(e->reserved));
	e->len = rte_cpu_to_le_32(len);
	if (len) {
		/* rxbuf doubles as the source's data area (1 MiB) */
		memcpy(m->rxbuf + m->batch_data, data, len);
		m->batch_data += len;
	}
	m->cleared_bytes += VMP_MIG_PAGE_SIZE;
	if (kind == MIG_PAGE_ZERO)
		m->st.duplicate++;
	else
		m->st.normal++;
	if (m->batch_n == MIG_BATCH_PAGES)
		batch_flush(m);
}

/* Worker: copy the page (it may be written meanwhile) and deflate it. */
static void
src_job(void *data, unsigned int worker, void *arg)
{
	struct mig_job *j = data;
	struct vmp_mig *m = arg;
	z_stream *z = m->zs[worker];
	const uint8_t *src = (const uint8_t *)m->reg[j->region].r.addr +
			     j->page * VMP_MIG_PAGE_SIZE;

	if (mig_digest_job(m, j))
		return;
	memcpy(j->in, src, VMP_MIG_PAGE_SIZE);
	deflateReset(z);
	z->next_in = j->in;
	z->avail_in = VMP_MIG_PAGE_SIZE;
	z->next_out = j->out;
	/* less than a page, or it is not worth it: sent raw */
	z->avail_out = VMP_MIG_PAGE_SIZE - 64;
	if (deflate(z, Z_FINISH) == Z_STREAM_END) {
		j->kind = MIG_PAGE_ZLIB;
		j->len = (uint32_t)z->total_out;
	} else {
		j->kind = MIG_PAGE_RAW;
		j->len = VMP_MIG_PAGE_SIZE;
	}
}

/* Submitter: the job's page goes into the frame. */
static void
src_done(void *data, void *arg)
{
	struct mig_job *j = data;
	struct vmp_mig *m = arg;

	if (m->err || m->cancel || j->op != MIG_OP_PAGE)
		return;
	if (j->kind == MIG_PAGE_ZLIB) {
		m->st.compressed_size += j->len;
		batch_add(m, j->page, MIG_PAGE_ZLIB, j->out, j->len);
	} else {
		m->st.raw_pages++;
		batch_add(m, j->page, MIG_PAGE_RAW, j->in, VMP_MIG_PAGE_SIZE);
	}
}

/* Bandwidth window samples; called often, records every SAMPLE_MS. */
static void
bw_sample(struct vmp_mig *m, bool force)
{
	uint64_t now = rte_get_tsc_cycles(), hz = rte_get_tsc_hz();
	unsigned int last = (m->bw_head + 63) % 64;

	if (!force && m->bw_n && now - m->bw_tsc[last] < SAMPLE_MS * hz / 1000)
		return;
	m->bw_tsc[m->bw_head] = now;
	m->bw_bytes[m->bw_head] = m->cleared_bytes;
	m->bw_tx[m->bw_head] = m->ch.tx_bytes;
	m->bw_head = (m->bw_head + 1) % 64;
	if (m->bw_n < 64)
		m->bw_n++;
}

/* Page bytes cleared per second over the window (oldest sample inside it). */
static double
bw_rate(struct vmp_mig *m)
{
	uint64_t hz = rte_get_tsc_hz(), now = rte_get_tsc_cycles();
	uint64_t win = (uint64_t)m->p.bw_window_ms * hz / 1000;
	unsigned int i, idx, best = m->bw_head;
	double dt;

	if (m->bw_n < 2)
		return 0;
	for (i = 1; i <= m->bw_n; i++) {
		idx = (m->bw_head + 64 - i) % 64;
		if (now - m->bw_tsc[idx] > win && i > 2)
			break;
		best = idx;
	}
	idx = (m->bw_head + 63) % 64;
	dt = (double)(m->bw_tsc[idx] - m->bw_tsc[best]) / hz;
	if (dt <= 0)
		return 0;
	m->st.throughput_mbps =
		(double)(m->bw_tx[idx] - m->bw_tx[best]) * 8 / 1e6 / dt;
	return (double)(m->bw_bytes[idx] - m->bw_bytes[best]) / dt;
}

static bool
should_stop(struct vmp_mig *m)
{
	if (m->err)
		return true;
	if (m->cancel)
		return true;
	if (m->ch.deadline_tsc && rte_get_tsc_cycles() > m->ch.deadline_tsc) {
		mig_fail(m, -ETIMEDOUT, "timeout after %u ms", m->p.timeout_ms);
		return true;
	}
	return false;
}

static int
send_page(struct vmp_mig *m, unsigned int r, uint64_t page)
{
	const uint8_t *addr =
		(const uint8_t *)m->reg[r].r.addr + page * VMP_MIG_PAGE_SIZE;
	struct mig_job *j;
	bool probe = m->probe_left > 0;

	if (vmp_mig_page_is_zero(addr, VMP_MIG_PAGE_SIZE)) {
		batch_add(m, page, MIG_PAGE_ZERO, NULL, 0);
	} else if (m->p.comp == VMP_MIG_COMP_NONE || probe ||
		   (m->final_round && m->final_raw)) {
		/* raw: no compression, the raw-path probe, or a last set
		 * that goes faster raw (vCPUs paused: no copy needed) */
		if (m->final_round && m->final_raw)
			m->st.switchover_raw_pages++;
		batch_add(m, page, MIG_PAGE_RAW, addr, VMP_MIG_PAGE_SIZE);
	} else {
		j = mig_cpool_get_wait(m->cp, &m->cancel);
		if (j == NULL)
			return -ECANCELED;
		j->m = m;
		j->op = MIG_OP_PAGE;
		j->region = (uint16_t)r;
		j->page = page;
		m->st.compression_pages++;
		mig_cpool_put(m->cp, j);
	}
	if (probe && --m->probe_left == 0) {
		uint64_t hz = rte_get_tsc_hz();
		double rate;

		/* pace until the peer took the probe: the socket buffer holds
		 * more than the probe, so wait for its backlog to fall back to
		 * where it was (at most 100 ms: a slower link shows as a slow
		 * raw path, and the last set stays compressed) */
		batch_flush(m);
		while (m->probe_unsent0 >= 0 && !should_stop(m) &&
		       mig_chan_unsent(&m->ch) > m->probe_unsent0 &&
		       rte_get_tsc_cycles() - m->probe_t0 < hz / 10)
			rte_delay_us_sleep(20);
		rate = (double)MIG_PROBE_PAGES * hz /
		       RTE_MAX(rte_get_tsc_cycles() - m->probe_t0, 1ul);

		if (m->raw_rate == 0)
			m->raw_rates[0] = m->raw_rates[1] = rate;
		m->raw_rates[m->round % 3] = rate;
		m->raw_rate = mig_digest_rate_med3(m->raw_rates);
	}
	return 0;
}

/* Send every page set in the bitmaps, then ROUND_END. */
static int
send_round(struct vmp_mig *m)
{
	struct mig_round_end re;
	unsigned int r, cnt = 0;
	uint64_t w, i;
	int rc;

	m->round_pages = 0;
	m->round_bytes = 0;
	/* probe the raw path at the start of pre-copy rounds (round 0: the
	 * destination is still hashing its memory) */
	if (!m->final_round && m->round >= 1 && m->cp != NULL &&
	    m->p.max_bandwidth == 0 && !m->p.switchover_compressed) {
		m->probe_left = MIG_PROBE_PAGES;
		m->probe_unsent0 = mig_chan_unsent(&m->ch);
		m->probe_t0 = rte_get_tsc_cycles();
	}
	for (r = 0; r < m->nb_regions; r++) {
		struct mig_regstate *rs = &m->reg[r];
		uint64_t words = RTE_ALIGN_CEIL(rs->nb_pages, 64) / 64;

		m->batch_region = (uint16_t)r;
		for (i = 0; i < words; i++) {
			w = rs->bitmap[i];
			rs->bitmap[i] = 0;
			while (w) {
				uint64_t page = i * 64 + __builtin_ctzll(w);

				w &= w - 1;
				if (page >= rs->nb_pages)
					break;
				rc = send_page(m, r, page);
				if (rc < 0 || should_stop(m))
					goto stop;
				if ((++cnt & 63) == 0) {
					if (m->cp)
						mig_cpool_poll(m->cp);
					bw_sample(m, false);
					bw_rate(m);
					m->st.remaining -= RTE_MIN(
						m->st.remaining,
						64ull * VMP_MIG_PAGE_SIZE);
				}
			}
		}
		if (m->cp)
			mig_cpool_drain(m->cp);
		if (batch_flush(m) != 0 || should_stop(m))
			goto stop;
	}
	m->probe_left = 0; /* a round shorter than the probe: no measure */
	re.pages = rte_cpu_to_le_64(m->round_pages);
	re.bytes = rte_cpu_to_le_64(m->round_bytes);
	re.final = rte_cpu_to_le_32(m->final_round ? 1 : 0);
	re.reserved = 0;
	rc = mig_chan_send_frame(&m->ch, MIG_F_ROUND_END, m->round, &re,
				 sizeof(re), NULL, 0);
	if (rc < 0)
		mig_fail(m, rc, "send: %s", strerror(-rc));
	if (m->ch.peer_msg)
		read_peer_msg(m);
	bw_sample(m, true);
	m->st.rounds++;
	m->round++;
	mig_publish(m);
	return m->err;
stop:
	if (m->cp)
		mig_cpool_drain(m->cp); /* done callbacks drop their pages */
	return m->err ? m->err : -ECANCELED;
}

/*
 * Read-and-clear every region's dirty set and OR it into the bitmaps of pages
 * still to send (the tracker overwrites its output, and a switchover sync
 * comes on top of the set the last pre-copy sync left unsent).
 * Returns the pages now waiting to be sent.
 */
static int64_t
sync_dirty(struct vmp_mig *m)
{
	int64_t n, total = 0;
	unsigned int r;
	uint64_t i;

	for (r = 0; r < m->nb_regions; r++) {
		struct mig_regstate *rs = &m->reg[r];
		uint64_t words = RTE_ALIGN_CEIL(rs->nb_pages, 64) / 64;

		n = m->p.dirty.sync(m->p.cb_arg, r, rs->scratch, rs->nb_pages);
		if (n < 0) {
			mig_fail(m, (int)n, "dirty sync of region %u: %s", r,
				 strerror((int)-n));
			return n;
		}
		for (i = 0; i < words; i++) {
			rs->bitmap[i] |= rs->scratch[i];
			total += __builtin_popcountll(rs->bitmap[i]);
		}
	}
	m->st.dirty_sync_count++;
	m->st.pinned_pages =
		m->p.dirty.pinned ? m->p.dirty.pinned(m->p.cb_arg) : 0;
	return total;
}

static int
handshake(struct vmp_mig *m)
{
	struct vmp_mig_region regs[VMP_MIG_MAX_REGIONS];
	struct mig_frame_hdr h;
	struct mig_reason *rs = (struct mig_reason *)m->rxbuf;
	uint64_t t;
	uint32_t len;
	unsigned int i;
	int n;

	for (i = 0; i < m->nb_regions; i++)
		regs[i] = m->reg[i].r;
	len = mig_hello_build(m->rxbuf, MIG_MAX_PAYLOAD, m->p.wire_version,
			      regs, m->nb_regions, (uint8_t)m->p.comp,
			      (uint8_t)m->p.level);
	t = rte_get_tsc_cycles();
	n = mig_chan_send_frame(&m->ch, MIG_F_HELLO, 0, m->rxbuf, len, NULL, 0);
	if (n == 0)
		n = mig_chan_recv_frame(&m->ch, &h, m->rxbuf, MIG_MAX_PAYLOAD,
					10000);
	m->rtt_ms = mig_ms_since(t);
	if (n < 0) {
		mig_fail(m, n, "handshake: %s", strerror(-n));
		return n;
	}
	if (h.type == MIG_F_ACCEPT)
		return 0;
	if (h.type == MIG_F_REFUSE && (size_t)n >= sizeof(*rs)) {
		rs->text[sizeof(rs->text) - 1] = '\0';
		mig_fail(m, -EPROTO, "destination refused: %s", rs->text);
	} else {
		mig_fail(m, -EPROTO, "handshake: unexpected frame type %u",
			 h.type);
	}
	return -EPROTO;
}

/* Switchover: vCPUs paused, last dirty set, END, RESULT. */
static int
complete(struct vmp_mig *m, bool *paused)
{
	uint64_t dig[VMP_MIG_MAX_REGIONS];
	struct mig_end e;
	struct mig_frame_hdr h;
	struct mig_result *res = (struct mig_result *)m->rxbuf;
	unsigned int r;
	int64_t n;
	int rc;

	uint64_t t_paused, t_sent, t_dig;

	mig_set_status(m, VMP_MIG_ST_DEVICE);
	m->t_pause = rte_get_tsc_cycles();
	m->p.vcpu.pause(m->p.cb_arg);
	*paused = true;
	t_paused = rte_get_tsc_cycles();
	n = sync_dirty(m);
	if (n < 0)
		return (int)n;
	m->st.remaining = (uint64_t)n * VMP_MIG_PAGE_SIZE;
	/* the destination combines its page CRCs when this round ends, while
	 * we digest our frozen memory */
	m->final_round = true;
	rc = send_round(m);
	if (rc < 0)
		return rc;
	m->st.remaining = 0;
	t_sent = rte_get_tsc_cycles();
	mig_digest_all(m, dig);
	for (r = 0; r < m->nb_regions; r++)
		dig[r] = rte_cpu_to_le_64(dig[r]);
	t_dig = rte_get_tsc_cycles();
	e.nb_regions = rte_cpu_to_le_32(m->nb_regions);
	e.reserved = 0;
	rc = mig_chan_send_frame(&m->ch, MIG_F_END, m->round, &e, sizeof(e),
				 dig, m->nb_regions * sizeof(uint64_t));
	if (rc == 0)
		rc = mig_chan_recv_frame(&m->ch, &h, m->rxbuf, MIG_MAX_PAYLOAD,
					 60000);
	if (rc < 0) {
		mig_fail(m, rc, "waiting for the result: %s", strerror(-rc));
		return rc;
	}
	m->st.downtime_ms = mig_ms_since(m->t_pause);
	m->st.transferred = m->ch.tx_bytes;
	MIG_LOG(INFO,
		"%s: expected %" PRIu64 " ms = last pages %" PRIu64
		" (%s, raw path %.0f pages/s) + digest %" PRIu64
		" + round trip %" PRIu64,
		m->name, m->st.expected_downtime_ms, m->est_pages_ms,
		m->final_raw ? "raw" : "compressed", m->raw_rate,
		(uint64_t)(m->st.total * 1000.0 / m->digest_rate), m->rtt_ms);
	MIG_LOG(INFO,
		"%s: downtime %" PRIu64 " ms = pause %" PRIu64
		" + last %" PRId64 " pages (%" PRIu64 " raw) %" PRIu64
		" + digest %" PRIu64 " + result %" PRIu64,
		m->name, m->st.downtime_ms,
		(t_paused - m->t_pause) * 1000 / rte_get_tsc_hz(), n,
		m->st.switchover_raw_pages,
		(t_sent - t_paused) * 1000 / rte_get_tsc_hz(),
		(t_dig - t_sent) * 1000 / rte_get_tsc_hz(),
		mig_ms_since(t_dig));
	if (h.type != MIG_F_RESULT || (size_t)rc < sizeof(*res)) {
		if (h.type == MIG_F_ERROR || h.type == MIG_F_CANCEL) {
			m->ch.peer_msg = false;
			((struct mig_reason *)m->rxbuf)->text[123] = '\0';
			mig_fail(m, -EPROTO, "destination failed: %s",
				 ((struct mig_reason *)m->rxbuf)->text);
		} else {
			mig_fail(m, -EPROTO, "unexpected frame type %u",
				 h.type);
		}
		return -EPROTO;
	}
	if (!rte_le_to_cpu_32(res->ok)) {
		mig_fail(m, -EPROTO, "digest mismatch in region %u",
			 rte_le_to_cpu_32(res->bad_region));
		return -EPROTO;
	}
	return 0;
}

int
mig_source_run(struct vmp_mig *m, const char *uri)
{
	bool paused = false, started = false;
	uint64_t t_round, hz = rte_get_tsc_hz(), sent_last = 0;
	unsigned int r;
	int64_t n;
	int rc;

	if (m->p.comp != VMP_MIG_COMP_NONE) {
		m->cp = mig_workers_create(m, src_job, src_done);
		if (m->cp == NULL) {
			rc = -rte_errno;
			mig_fail(m, rc, "no compression workers: %s",
				 strerror(rte_errno));
			goto out;
		}
	}
	/* before connecting: the destination hashes its memory once after
	 * ACCEPT, and at END it does not read its memory at all, so our END
	 * digest runs alone; measure it alone */
	m->digest_rate = mig_digest_calibrate(m, 3, MIG_CAL_SETUP_PAGES);
	m->digest_rates[0] = m->digest_rates[1] = m->digest_rates[2] =
		m->digest_rate;
	rc = mig_net_connect(uri, &m->ch);
	if (rc < 0) {
		mig_fail(m, rc, "connect %s: %s", uri, strerror(-rc));
		goto out;
	}
	rc = handshake(m);
	if (rc < 0)
		goto out;
	MIG_LOG(INFO,
		"%s: END digest %.1f GB/s (source alone), %" PRIu64
		" ms for the guest; round trip %" PRIu64 " ms",
		m->name, m->digest_rate / 1e9,
		(uint64_t)(m->st.total * 1000.0 / m->digest_rate), m->rtt_ms);
	if (m->p.dirty.start) {
		rc = m->p.dirty.start(m->p.cb_arg);
		if (rc < 0) {
			mig_fail(m, rc, "dirty tracking: %s", strerror(-rc));
			goto out;
		}
	}
	started = true;
	/* round 0: everything; drop what the tracker had before */
	n = sync_dirty(m);
	if (n < 0) {
		rc = (int)n;
		goto out;
	}
	for (r = 0; r < m->nb_regions; r++)
		memset(m->reg[r].bitmap, 0xff,
		       RTE_ALIGN_CEIL(m->reg[r].nb_pages, 64) / 8);
	m->st.remaining = m->st.total;
	m->st.setup_time_ms = mig_ms_since(m->t_start);
	mig_set_status(m, VMP_MIG_ST_ACTIVE);
	bw_sample(m, true);

	for (;;) {
		double bw, round_bw;
		uint64_t rem;

		t_round = rte_get_tsc_cycles();
		sent_last = m->cleared_bytes;
		rc = send_round(m);
		if (rc < 0)
			goto out;
		sent_last = (m->cleared_bytes - sent_last) / VMP_MIG_PAGE_SIZE;
		n = sync_dirty(m);
		if (n < 0) {
			rc = (int)n;
			goto out;
		}
		rem = (uint64_t)n * VMP_MIG_PAGE_SIZE;
		bw = bw_rate(m);
		/* the last set goes at the pace of a whole round (drain and
		 * ROUND_END included), which is below the window's peak when
		 * the window caught zero pages or a burst: take the lower */
		round_bw = (double)sent_last * VMP_MIG_PAGE_SIZE * hz /
			   RTE_MAX(rte_get_tsc_cycles() - t_round, 1ul);
		if (round_bw > 0 && (bw <= 0 || round_bw < bw))
			bw = round_bw;
		m->st.remaining = rem;
		m->st.dirty_pages_rate =
			(uint64_t)((double)n * hz /
				   RTE_MAX(rte_get_tsc_cycles() - t_round,
					   1ul));
		/* the load changes: re-measure the END digest (the
		 * destination is idle after this ROUND_END, as at END);
		 * median of the last three rounds */
		m->digest_rates[m->st.rounds % 3] =
			mig_digest_calibrate(m, 1, MIG_CAL_ROUND_PAGES);
		m->digest_rate = mig_digest_rate_med3(m->digest_rates);
		/* the last set, plus the source's END digest (the
		 * destination only combines its page CRCs), plus a RESULT
		 * round trip */
		m->st.expected_downtime_ms =
			bw > 0 ? (uint64_t)(rem * 1000.0 / bw +
					    m->st.total * 1000.0 /
						    m->digest_rate +
					    m->rtt_ms)
			       : UINT64_MAX;
		m->est_pages_ms = bw > 0 ? (uint64_t)(rem * 1000.0 / bw) : 0;
		/* the last set raw, at the probed raw pace, if that is faster
		 * (a fast link: compression only costs time once the vCPUs
		 * are paused) */
		m->final_raw = false;
		if (m->raw_rate > 0 && bw > 0 &&
		    (double)n * 1000.0 / m->raw_rate < m->est_pages_ms) {
			m->final_raw = true;
			m->st.expected_downtime_ms -= m->est_pages_ms;
			m->est_pages_ms =
				(uint64_t)((double)n * 1000.0 / m->raw_rate);
			m->st.expected_downtime_ms += m->est_pages_ms;
		}
		/* nothing left to send: more rounds cannot lower the downtime
		 * (the digest alone is over the limit) */
		if (m->st.expected_downtime_ms <= m->p.downtime_limit_ms ||
		    m->st.rounds >= m->p.max_rounds || n == 0)
			break;
		/* as QEMU's throttle-trigger-threshold 50: the writers dirtied
		 * more than half of what the round could send */
		if (m->p.auto_converge && m->p.vcpu.throttle &&
		    (uint64_t)n * 2 > sent_last && m->st.rounds >= 2) {
			m->st.throttle_pct =
				m->st.throttle_pct
					? RTE_MIN(m->st.throttle_pct + 10, 99u)
					: 20;
			m->p.vcpu.throttle(m->p.cb_arg, m->st.throttle_pct);
		}
	}
	rc = complete(m, &paused);
out:
	if (rc < 0 && m->cancel && m->err == 0)
		rc = -ECANCELED;
	if (rc == -ECANCELED) {
		mig_set_status(m, VMP_MIG_ST_CANCELLING);
		if (m->ch.fd >= 0) {
			struct mig_reason rs;

			memset(&rs, 0, sizeof(rs));
			rs.code = rte_cpu_to_le_32(ECANCELED);
			snprintf(rs.text, sizeof(rs.text),
				 "cancelled by source");
			m->cancel = false; /* let the CANCEL frame out */
			m->ch.deadline_tsc = rte_get_tsc_cycles() + hz;
			mig_chan_send_frame(&m->ch, MIG_F_CANCEL, m->round, &rs,
					    sizeof(rs), NULL, 0);
			m->cancel = true;
		}
	}
	if (m->cp) {
		mig_publish(m);
		mig_cpool_destroy(m->cp);
		m->cp = NULL;
	}
	if (paused && rc < 0)
		m->p.vcpu.resume(m->p.cb_arg);
	if (m->st.throttle_pct && m->p.vcpu.throttle)
		m->p.vcpu.throttle(m->p.cb_arg, 0);
	if (started && m->p.dirty.stop)
		m->p.dirty.stop(m->p.cb_arg);
	mig_chan_close(&m->ch);
	m->st.transferred = m->ch.tx_bytes;
	if (rc == 0) {
		mig_set_status(m, VMP_MIG_ST_COMPLETED);
		MIG_LOG(INFO,
			"%s: completed in %" PRIu64 " ms, downtime %" PRIu64
			" ms",
			m->name, mig_ms_since(m->t_start), m->st.downtime_ms);
	} else if (rc == -ECANCELED) {
		mig_set_status(m, VMP_MIG_ST_CANCELLED);
		MIG_LOG(INFO, "%s: cancelled", m->name);
	} else {
		mig_set_status(m, VMP_MIG_ST_FAILED);
		MIG_LOG(ERR, "%s: failed: %s", m->name, m->st.error);
	}
	return rc;
}
