/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the incoming side of lib/migrate (HELLO, then PAGES,
 * ROUND_END, END frames) fed by a fuzzed source over a unix socket. The
 * destination owns three regions (8, 1 and 4 pages, with holes between
 * their guest addresses), heap-allocated so that ASan sees any write past
 * them.
 *
 * Input: u8 mode. Mode bit 0 set: the rest is the raw byte stream. Else a
 * frame list: unless mode bit 1 is set, a valid HELLO for our regions
 * first; then frames of u8 type, u8 round, u8 flags (bit 0: wrong payload
 * CRC, bit 1: wrong seq), u16 payload length, payload. The harness writes
 * the headers (magic, seq, CRCs) so that inputs reach the frame decoders.
 *
 * Oracles: ASan/UBSan; vmp_mig_run() returns 0 or a negative errno and the
 * status agrees with it; a completed migration has memory matching the
 * source's END digest, both as the page CRCs kept while writing say and
 * re-hashed in full (dest_verify_digest); nothing but region memory is
 * written (ASan); the run ends (libFuzzer -timeout).
 *
 * VMP_FUZZ_VERBOSE=1 prints what vmp_mig_run() returned for each input
 * (to see where a seed ends up).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_errno.h>

#include <vmp_migrate.h>

#include "mig_pvt.h"
#include "fuzz_common.h"

#define NREG 3
#define STREAM_MAX (192 * 1024)

static const uint64_t reg_gpa[NREG] = {0, 0x100000, 0x200000};
static const uint64_t reg_pages[NREG] = {8, 1, 4};
static struct vmp_mig_region regs[NREG];
static char dir[64], path[128], uri[160];
static uint8_t *stream;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	unsigned int i;

	(void)argc;
	(void)argv;
	fz_eal_init("0");
	for (i = 0; i < NREG; i++) {
		regs[i].gpa = reg_gpa[i];
		regs[i].len = reg_pages[i] * VMP_MIG_PAGE_SIZE;
	}
	stream = malloc(STREAM_MAX);
	snprintf(dir, sizeof(dir), "/tmp/vmpfz-mig-XXXXXX");
	if (stream == NULL || mkdtemp(dir) == NULL)
		FZ_FAIL("setup");
	snprintf(path, sizeof(path), "%s/m.sock", dir);
	snprintf(uri, sizeof(uri), "unix:%s", path);
	return 0;
}

/* Append a frame with a correct header (unless @flags breaks it). */
static size_t
put_frame(size_t off, uint8_t type, uint32_t round, uint8_t flags,
	  uint32_t *seq, const void *p, uint32_t len)
{
	/* rte_hash_crc loads 8 bytes at a time: hand it aligned payloads */
	static uint8_t aligned[STREAM_MAX] __attribute__((aligned(64)));
	struct mig_frame_hdr h;

	if (off + sizeof(h) + len > STREAM_MAX)
		return off;
	memcpy(aligned, p, len);
	mig_frame_hdr_build(&h, type, round, *seq + !!(flags & 2), aligned, len,
			    NULL, 0);
	if (flags & 1) {
		h.payload_crc ^= 1;
		h.hdr_crc = rte_cpu_to_le_32(vmp_mig_crc32c(
			&h, offsetof(struct mig_frame_hdr, hdr_crc)));
	}
	memcpy(stream + off, &h, sizeof(h));
	memcpy(stream + off + sizeof(h), p, len);
	(*seq)++;
	return off + sizeof(h) + len;
}

static size_t
build_stream(struct fz_in *in, uint8_t mode)
{
	uint8_t hello[sizeof(struct mig_hello) +
		      NREG * sizeof(struct mig_hello_region)];
	uint32_t seq = 0, hl;
	size_t off = 0;

	if (mode & 1) {
		off = RTE_MIN(fz_left(in), (size_t)STREAM_MAX);
		memcpy(stream, in->p + in->off, off);
		return off;
	}
	if (!(mode & 2)) {
		hl = mig_hello_build(hello, sizeof(hello), VMP_MIG_WIRE_VERSION,
				     regs, NREG, (mode >> 2) & 1, 1);
		off = put_frame(off, MIG_F_HELLO, 0, 0, &seq, hello, hl);
	}
	while (fz_left(in) > 0) {
		uint8_t type = fz_u8(in), round = fz_u8(in), flags = fz_u8(in);
		uint32_t len = fz_u16(in);

		len = (uint32_t)RTE_MIN((size_t)len, fz_left(in));
		off = put_frame(off, type, round, flags, &seq, in->p + in->off,
				len);
		in->off += len;
	}
	return off;
}

/* Push the stream into the listening destination's backlog, then EOF. */
static int
feed(size_t len)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int sz = 4 * STREAM_MAX;
	size_t off = 0;

	if (fd < 0)
		FZ_FAIL("socket: %d", errno);
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		FZ_FAIL("connect: %d", errno);
	while (off < len) {
		ssize_t w = send(fd, stream + off, len - off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (w <= 0)
			break; /* the socket buffer is full: truncate */
		off += (size_t)w;
	}
	shutdown(fd, SHUT_WR);
	return fd;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = {.p = data, .n = size};
	struct vmp_mig_params p = {.name = "fz",
				   .nb_regions = NREG,
				   .regions = regs,
				   .dest_verify_digest = true};
	uint8_t mode = fz_u8(&in);
	struct vmp_mig *m;
	unsigned int i;
	size_t len;
	int fd, rc;

	for (i = 0; i < NREG; i++) {
		regs[i].addr = aligned_alloc(VMP_MIG_PAGE_SIZE, regs[i].len);
		if (regs[i].addr == NULL)
			FZ_FAIL("no memory");
		memset(regs[i].addr, 0x11 * (i + 1), regs[i].len);
	}
	p.comp = (mode >> 2) & 1 ? VMP_MIG_COMP_ZLIB : VMP_MIG_COMP_NONE;
	len = build_stream(&in, mode);
	m = vmp_mig_dest_create(&p);
	if (m == NULL)
		FZ_FAIL("dest create: %d", rte_errno);
	unlink(path);
	if (vmp_mig_listen(m, uri) < 0)
		FZ_FAIL("listen %s", uri);
	fd = feed(len);
	rc = vmp_mig_run(m, NULL);
	if (getenv("VMP_FUZZ_VERBOSE"))
		fprintf(stderr, "vmp_mig_run: %d\n", rc);
	if (rc > 0 || rc < -4095)
		FZ_FAIL("vmp_mig_run returned %d", rc);
	if ((rc == 0) != (vmp_mig_status(m) == VMP_MIG_ST_COMPLETED))
		FZ_FAIL("rc %d with status %s", rc,
			vmp_mig_status_name(vmp_mig_status(m)));
	close(fd);
	vmp_mig_free(m);
	for (i = 0; i < NREG; i++)
		free(regs[i].addr);
	return 0;
}
