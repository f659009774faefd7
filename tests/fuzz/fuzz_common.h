/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

/*
 * Shared by the libFuzzer targets of tests/fuzz: a cursor over the fuzz
 * input (reads past its end give zeros, so every input decodes), a minimal
 * EAL for the targets whose code under test needs one, and the report that
 * turns a broken oracle into a crash libFuzzer saves.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

struct fz_in {
	const uint8_t *p;
	size_t n, off;
};

static inline uint8_t
fz_u8(struct fz_in *in)
{
	return in->off < in->n ? in->p[in->off++] : 0;
}

static inline uint16_t
fz_u16(struct fz_in *in)
{
	uint16_t v = fz_u8(in);

	return (uint16_t)(v | (uint16_t)fz_u8(in) << 8);
}

static inline uint32_t
fz_u32(struct fz_in *in)
{
	uint32_t v = fz_u16(in);

	return v | (uint32_t)fz_u16(in) << 16;
}

static inline uint64_t
fz_u64(struct fz_in *in)
{
	uint64_t v = fz_u32(in);

	return v | (uint64_t)fz_u32(in) << 32;
}

static inline size_t
fz_left(const struct fz_in *in)
{
	return in->n - in->off;
}

/* An oracle failed: print why and abort (libFuzzer keeps the input). */
#define FZ_FAIL(...)                                                           \
	do {                                                                   \
		fprintf(stderr, "fuzz oracle: " __VA_ARGS__);                  \
		fputc('\n', stderr);                                           \
		abort();                                                       \
	} while (0)

/*
 * rte_eal_init() once per process, its own --file-prefix, no hugepages, no
 * PCI, IOVA as VA (guest memory handed to a DMA engine is plain heap); then
 * every log below CRIT off: rejected input is logged by design and would
 * drown the fuzzer (VMP_FUZZ_LOG set in the environment: every log at
 * debug, to see what one input does). Exits on failure. @lcores: EAL -l.
 */
void fz_eal_init(const char *lcores);

#endif /* FUZZ_COMMON_H */
