/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PERF_PAGES_H
#define PERF_PAGES_H

/*
 * Generated guest-like 4 KiB pages for the compression benchmark (see
 * perf_pages.c for what each kind looks like and how it compresses).
 */

#include <stdint.h>

#define PG_SIZE 4096u

enum pg_kind { PG_TEXT, PG_BINARY, PG_RANDOM, PG_ZERO, PG_NB_KINDS };

extern const char *const pg_kind_name[PG_NB_KINDS];

/** Fill @p n pages at @p buf, deterministic for a given seed; the mix is
 *  40% text, 30% binary, 20% random, 10% zero, shuffled. kinds[i] gets the
 *  kind of page i (may be NULL). */
void pg_generate(uint8_t *buf, unsigned int n, uint64_t seed, uint8_t *kinds);

#endif /* PERF_PAGES_H */
