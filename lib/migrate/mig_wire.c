/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Wire helpers: CRC32C, the region digest, zero-page detection, frame headers
 * and the HELLO handshake. docs/migrate.md is the normative description; this
 * file must stay byte-for-byte in line with it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_hash_crc.h>

#ifdef __x86_64__
#include <immintrin.h>
#endif

#include "mig_pvt.h"

/*
 * rte_hash_crc() is CRC32C without the final inversion and with the caller's
 * initial value: standard CRC-32C = ~rte_hash_crc(buf, len, ~0). It uses the
 * SSE4.2 crc32 instruction (8 bytes per step) when the CPU has it.
 */
uint32_t
mig_crc32c_update(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	/* rte_hash_crc() takes a 32-bit length. */
	while (len > 0) {
		uint32_t n = len > (1u << 30) ? (1u << 30) : (uint32_t)len;

		crc = rte_hash_crc(p, n, crc);
		p += n;
		len -= n;
	}
	return crc;
}

uint32_t
vmp_mig_crc32c(const void *buf, size_t len)
{
	return ~mig_crc32c_update(~0u, buf, len);
}

/*
 * Page CRC for the digest: four independent CRC32C lanes over the four
 * quarters of the page (the crc32 instruction has a 3-cycle latency and a
 * 1-cycle throughput, so four chains run ~3x faster than one), then the CRC32C
 * of the four lane values as little-endian u32s.
 */
uint32_t
mig_page_crc4(const uint8_t *pg)
{
	const uint64_t *q0 = (const uint64_t *)pg;
	const uint64_t *q1 = q0 + VMP_MIG_PAGE_SIZE / 32;
	const uint64_t *q2 = q1 + VMP_MIG_PAGE_SIZE / 32;
	const uint64_t *q3 = q2 + VMP_MIG_PAGE_SIZE / 32;
	uint32_t c0 = ~0u, c1 = ~0u, c2 = ~0u, c3 = ~0u;
	uint32_t lanes[4];
	unsigned int i;

	for (i = 0; i < VMP_MIG_PAGE_SIZE / 32; i++) {
#if defined(__SSE4_2__) && defined(__x86_64__)
		/* the instruction itself: rte_hash_crc_8byte() re-checks the
		 * CPU's capability on every call */
		c0 = (uint32_t)_mm_crc32_u64(c0, q0[i]);
		c1 = (uint32_t)_mm_crc32_u64(c1, q1[i]);
		c2 = (uint32_t)_mm_crc32_u64(c2, q2[i]);
		c3 = (uint32_t)_mm_crc32_u64(c3, q3[i]);
#else
		c0 = rte_hash_crc_8byte(rte_le_to_cpu_64(q0[i]), c0);
		c1 = rte_hash_crc_8byte(rte_le_to_cpu_64(q1[i]), c1);
		c2 = rte_hash_crc_8byte(rte_le_to_cpu_64(q2[i]), c2);
		c3 = rte_hash_crc_8byte(rte_le_to_cpu_64(q3[i]), c3);
#endif
	}
	lanes[0] = rte_cpu_to_le_32(~c0);
	lanes[1] = rte_cpu_to_le_32(~c1);
	lanes[2] = rte_cpu_to_le_32(~c2);
	lanes[3] = rte_cpu_to_le_32(~c3);
	return vmp_mig_crc32c(lanes, sizeof(lanes));
}

/* The page CRC of an all-zero page (computed once; the destination stores it
 * for every ZERO entry without reading the page). */
uint32_t
mig_zero_page_crc(void)
{
	static uint32_t zero_crc;
	static const uint8_t zero[VMP_MIG_PAGE_SIZE] __rte_aligned(64);
	uint32_t c;

	/* first use from several workers: each computes the same value, the
	 * relaxed atomics only keep the accesses whole */
	c = __atomic_load_n(&zero_crc, __ATOMIC_RELAXED);
	if (c == 0) {
		c = mig_page_crc4(zero);
		__atomic_store_n(&zero_crc, c, __ATOMIC_RELAXED);
	}
	return c;
}

/* Same value as mig_page_crc4(), ~4x cheaper on a zero page (a quarter of
 * a typical guest): the zero scan runs at memory speed. */
uint32_t
mig_page_crc4_fast(const uint8_t *pg)
{
	if (!vmp_mig_page_is_zero(pg, VMP_MIG_PAGE_SIZE))
		return mig_page_crc4(pg);
	return mig_zero_page_crc();
}

uint64_t
mig_digest_combine(const uint32_t *page_crc, uint64_t n)
{
	/* page CRCs are stored little endian, so the array is the wire's
	 * byte sequence */
	return (n << 32) | (uint64_t)vmp_mig_crc32c(page_crc, n * 4);
}

/*
 * Region digest: D = CRC32C over the little-endian u32 page CRCs of every page
 * in order (streamed, init ~0, final ~0); the 64-bit value is
 * (nb_pages << 32) | D.
 */
uint64_t
vmp_mig_region_digest(const void *addr, uint64_t len)
{
	const uint8_t *p = addr;
	uint64_t n = len / VMP_MIG_PAGE_SIZE, i;
	uint32_t d = ~0u;

	for (i = 0; i < n; i++) {
		uint32_t c = rte_cpu_to_le_32(
			mig_page_crc4_fast(p + i * VMP_MIG_PAGE_SIZE));

		d = mig_crc32c_update(d, &c, sizeof(c));
	}
	return (n << 32) | (uint64_t)(~d);
}

/*
 * Zero-page scan: OR 256 bytes per step into one vector and test it, so a
 * non-zero page usually exits in the first step and a zero page costs one
 * load per 32 bytes (memory bound).
 */
bool
vmp_mig_page_is_zero(const void *page, size_t len)
{
#if defined(__AVX2__)
	const __m256i *v = page;
	size_t i, n = len / 32;

	for (i = 0; i + 8 <= n; i += 8) {
		__m256i a = _mm256_or_si256(_mm256_load_si256(v + i),
					    _mm256_load_si256(v + i + 1));
		__m256i b = _mm256_or_si256(_mm256_load_si256(v + i + 2),
					    _mm256_load_si256(v + i + 3));
		__m256i c = _mm256_or_si256(_mm256_load_si256(v + i + 4),
					    _mm256_load_si256(v + i + 5));
		__m256i d = _mm256_or_si256(_mm256_load_si256(v + i + 6),
					    _mm256_load_si256(v + i + 7));

		a = _mm256_or_si256(_mm256_or_si256(a, b),
				    _mm256_or_si256(c, d));
		if (!_mm256_testz_si256(a, a))
			return false;
	}
	for (; i < n; i++)
		if (!_mm256_testz_si256(_mm256_load_si256(v + i),
					_mm256_load_si256(v + i)))
			return false;
	return true;
#elif defined(__SSE2__)
	const __m128i *v = page;
	size_t i, n = len / 16;

	for (i = 0; i + 4 <= n; i += 4) {
		__m128i a = _mm_or_si128(_mm_load_si128(v + i),
					 _mm_load_si128(v + i + 1));
		__m128i b = _mm_or_si128(_mm_load_si128(v + i + 2),
					 _mm_load_si128(v + i + 3));

		a = _mm_or_si128(a, b);
		if (_mm_movemask_epi8(_mm_cmpeq_epi8(a, _mm_setzero_si128())) !=
		    0xffff)
			return false;
	}
	return true;
#else
	const uint64_t *w = page;
	size_t i;

	for (i = 0; i < len / 8; i++)
		if (w[i] != 0)
			return false;
	return true;
#endif
}

void
mig_frame_hdr_build(struct mig_frame_hdr *h, uint8_t type, uint32_t round,
		    uint32_t seq, const void *p1, uint32_t l1, const void *p2,
		    uint32_t l2)
{
	uint32_t crc = ~0u;

	memset(h, 0, sizeof(*h));
	h->magic = rte_cpu_to_le_32(MIG_FRAME_MAGIC);
	h->type = type;
	h->payload_len = rte_cpu_to_le_32(l1 + l2);
	h->seq = rte_cpu_to_le_32(seq);
	h->round = rte_cpu_to_le_32(round);
	if (l1)
		crc = mig_crc32c_update(crc, p1, l1);
	if (l2)
		crc = mig_crc32c_update(crc, p2, l2);
	h->payload_crc = rte_cpu_to_le_32(l1 + l2 ? ~crc : 0);
	h->hdr_crc = rte_cpu_to_le_32(
		vmp_mig_crc32c(h, offsetof(struct mig_frame_hdr, hdr_crc)));
}

int
mig_frame_hdr_check(const struct mig_frame_hdr *h, char *err, size_t elen)
{
	uint32_t crc =
		vmp_mig_crc32c(h, offsetof(struct mig_frame_hdr, hdr_crc));

	if (crc != rte_le_to_cpu_32(h->hdr_crc)) {
		snprintf(err, elen,
			 "frame header CRC32C mismatch (0x%08x != 0x%08x)", crc,
			 rte_le_to_cpu_32(h->hdr_crc));
		return -EPROTO;
	}
	if (rte_le_to_cpu_32(h->magic) != MIG_FRAME_MAGIC) {
		snprintf(err, elen, "bad frame magic 0x%08x",
			 rte_le_to_cpu_32(h->magic));
		return -EPROTO;
	}
	if (h->type < MIG_F_HELLO || h->type > MIG_F_ERROR) {
		snprintf(err, elen, "unknown frame type %u", h->type);
		return -EPROTO;
	}
	if (rte_le_to_cpu_32(h->payload_len) > MIG_MAX_PAYLOAD) {
		snprintf(err, elen, "frame payload %u > %u",
			 rte_le_to_cpu_32(h->payload_len), MIG_MAX_PAYLOAD);
		return -EPROTO;
	}
	return 0;
}

uint32_t
mig_hello_build(void *buf, uint32_t cap, uint16_t version,
		const struct vmp_mig_region *r, unsigned int n, uint8_t comp,
		uint8_t level)
{
	struct mig_hello *h = buf;
	struct mig_hello_region *hr = (struct mig_hello_region *)(h + 1);
	uint64_t total = 0;
	unsigned int i;

	if (cap < sizeof(*h) + n * sizeof(*hr))
		return 0;
	memset(h, 0, sizeof(*h));
	h->magic = rte_cpu_to_le_64(MIG_HELLO_MAGIC);
	h->version = rte_cpu_to_le_16(version);
	h->nb_regions = rte_cpu_to_le_16((uint16_t)n);
	h->page_size = rte_cpu_to_le_32(VMP_MIG_PAGE_SIZE);
	h->comp = comp;
	h->level = level;
	h->features = rte_cpu_to_le_32(MIG_FEAT_ALL);
	for (i = 0; i < n; i++) {
		hr[i].id = rte_cpu_to_le_32(i);
		hr[i].reserved = 0;
		hr[i].gpa = rte_cpu_to_le_64(r[i].gpa);
		hr[i].len = rte_cpu_to_le_64(r[i].len);
		total += r[i].len;
	}
	h->total_bytes = rte_cpu_to_le_64(total);
	return sizeof(*h) + n * sizeof(*hr);
}

int
mig_hello_check(const void *buf, uint32_t len, const struct vmp_mig_region *r,
		unsigned int n, uint8_t *comp, char *err, size_t elen)
{
	const struct mig_hello *h = buf;
	const struct mig_hello_region *hr =
		(const struct mig_hello_region *)(h + 1);
	unsigned int i, nr;
	uint32_t feat;

	if (len < sizeof(*h) || rte_le_to_cpu_64(h->magic) != MIG_HELLO_MAGIC) {
		snprintf(err, elen, "not a vmpath migration HELLO");
		return -EPROTO;
	}
	if (rte_le_to_cpu_16(h->version) != VMP_MIG_WIRE_VERSION) {
		snprintf(err, elen, "wire version %u refused (this is %u)",
			 rte_le_to_cpu_16(h->version), VMP_MIG_WIRE_VERSION);
		return -EPROTO;
	}
	if (rte_le_to_cpu_32(h->page_size) != VMP_MIG_PAGE_SIZE) {
		snprintf(err, elen, "page size %u refused (this is %u)",
			 rte_le_to_cpu_32(h->page_size), VMP_MIG_PAGE_SIZE);
		return -EPROTO;
	}
	if (h->comp > VMP_MIG_COMP_ZLIB || h->level > 9) {
		snprintf(err, elen, "compression %u level %u refused", h->comp,
			 h->level);
		return -EPROTO;
	}
	feat = rte_le_to_cpu_32(h->features);
	if ((feat & ~MIG_FEAT_ALL) != 0 ||
	    (feat & MIG_FEAT_ALL) != MIG_FEAT_ALL) {
		snprintf(err, elen, "features 0x%x refused (this has 0x%x)",
			 feat, MIG_FEAT_ALL);
		return -EPROTO;
	}
	nr = rte_le_to_cpu_16(h->nb_regions);
	if (nr != n || len != sizeof(*h) + nr * sizeof(*hr)) {
		snprintf(err, elen, "%u regions announced, this side has %u",
			 nr, n);
		return -EPROTO;
	}
	for (i = 0; i < n; i++) {
		if (rte_le_to_cpu_32(hr[i].id) != i ||
		    rte_le_to_cpu_64(hr[i].gpa) != r[i].gpa ||
		    rte_le_to_cpu_64(hr[i].len) != r[i].len) {
			snprintf(err, elen,
				 "region %u gpa 0x%" PRIx64 " len %" PRIu64
				 " does not match ours (0x%" PRIx64 ", %" PRIu64
				 ")",
				 i, rte_le_to_cpu_64(hr[i].gpa),
				 rte_le_to_cpu_64(hr[i].len), r[i].gpa,
				 r[i].len);
			return -EPROTO;
		}
	}
	*comp = h->comp;
	return 0;
}
