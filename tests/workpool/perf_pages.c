/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Guest-memory-like pages for the compression benchmark, generated so every
 * run compresses the same bytes:
 * - text:   log/config-like ASCII: words from a 96-word vocabulary (Zipf-ish:
 *           low indexes more likely), numbers, punctuation, newlines every
 *           6-14 words. zlib level 1 gets ~2.5-3.5x.
 * - binary: heap-like records of 32 bytes: an increasing 32-bit id, small
 *           flags, a user-space pointer (0x00007fxxxxxxxxx0), a length, zero
 *           padding and an occasional double. ~3-5x.
 * - random: xorshift bytes (encrypted or already compressed data): ~1x.
 * - zero:   all zero (migration would normally skip these; here they show
 *           the cheap end of the distribution). ~100x.
 */
#include <stdio.h>
#include <string.h>

#include "perf_pages.h"

const char *const pg_kind_name[PG_NB_KINDS] = {"text", "binary", "random",
					       "zero"};

static const char *const words[] = {
	"the",	      "of",	  "and",	"to",	      "in",
	"is",	      "for",	  "on",		"with",	      "as",
	"error",      "warning",  "info",	"debug",      "request",
	"response",   "server",	  "client",	"connection", "timeout",
	"user",	      "session",  "memory",	"page",	      "cache",
	"buffer",     "queue",	  "thread",	"worker",     "lock",
	"device",     "network",  "packet",	"address",    "port",
	"host",	      "value",	  "config",	"enabled",    "disabled",
	"true",	      "false",	  "null",	"status",     "started",
	"stopped",    "failed",	  "retry",	"count",      "size",
	"bytes",      "offset",	  "index",	"table",      "column",
	"row",	      "select",	  "from",	"where",      "insert",
	"update",     "delete",	  "commit",	"rollback",   "transaction",
	"file",	      "path",	  "directory",	"open",	      "close",
	"read",	      "write",	  "sync",	"flush",      "kernel",
	"module",     "driver",	  "interrupt",	"vector",     "region",
	"mapping",    "guest",	  "host",	"migration",  "dirty",
	"bitmap",     "ring",	  "descriptor", "virtio",     "vhost",
	"queue_pair", "checksum", "header",	"payload",    "latency",
};

static uint64_t
xs(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

static void
gen_text(uint8_t *p, uint64_t *s)
{
	const unsigned int nw = sizeof(words) / sizeof(words[0]);
	unsigned int off = 0, inline_words = 0, limit = 6 + xs(s) % 9;

	while (off < PG_SIZE) {
		char tok[32];
		uint64_t r = xs(s);
		/* Zipf-ish: min of two uniforms favours small indexes */
		unsigned int a = r % nw, b = (r >> 16) % nw;
		int len;

		if ((r >> 32) % 10 == 0)
			len = snprintf(tok, sizeof(tok), "%u",
				       (unsigned int)((r >> 40) % 100000));
		else
			len = snprintf(tok, sizeof(tok), "%s",
				       words[a < b ? a : b]);
		if (++inline_words >= limit) {
			tok[len++] = '\n';
			inline_words = 0;
			limit = 6 + xs(s) % 9;
		} else {
			tok[len++] = (r >> 48) % 12 == 0 ? ',' : ' ';
		}
		if (off + (unsigned int)len > PG_SIZE)
			len = (int)(PG_SIZE - off);
		memcpy(p + off, tok, (size_t)len);
		off += (unsigned int)len;
	}
}

static void
gen_binary(uint8_t *p, uint64_t *s)
{
	uint32_t id = (uint32_t)(xs(s) & 0xffffff);
	uint64_t base = 0x00007f0000000000ull | ((xs(s) & 0xffffff) << 12);
	unsigned int off;

	for (off = 0; off + 32 <= PG_SIZE; off += 32) {
		uint64_t r = xs(s);
		uint32_t flags = (uint32_t)(r & 0x7);
		uint64_t ptr = base + ((r >> 8) & 0xfff0);
		uint32_t len = (uint32_t)((r >> 24) & 0x3ff);

		memset(p + off, 0, 32);
		memcpy(p + off, &id, 4);
		memcpy(p + off + 4, &flags, 4);
		memcpy(p + off + 8, &ptr, 8);
		memcpy(p + off + 16, &len, 4);
		if ((r >> 40) % 8 == 0) {
			double d = (double)((r >> 44) % 1000) / 8.0;

			memcpy(p + off + 24, &d, 8);
		}
		id++;
	}
}

static void
gen_random(uint8_t *p, uint64_t *s)
{
	unsigned int off;

	for (off = 0; off < PG_SIZE; off += 8) {
		uint64_t r = xs(s);

		memcpy(p + off, &r, 8);
	}
}

void
pg_generate(uint8_t *buf, unsigned int n, uint64_t seed, uint8_t *kinds)
{
	uint64_t s = seed | 1;
	unsigned int i;

	for (i = 0; i < n; i++) {
		uint8_t *p = buf + (size_t)i * PG_SIZE;
		/* 40/30/20/10 by a hash of i: shuffled, exact in the long run
		 */
		unsigned int bucket = (unsigned int)(xs(&s) % 10);
		enum pg_kind k = bucket < 4   ? PG_TEXT
				 : bucket < 7 ? PG_BINARY
				 : bucket < 9 ? PG_RANDOM
					      : PG_ZERO;

		switch (k) {
		case PG_TEXT:
			gen_text(p, &s);
			break;
		case PG_BINARY:
			gen_binary(p, &s);
			break;
		case PG_RANDOM:
			gen_random(p, &s);
			break;
		default:
			memset(p, 0, PG_SIZE);
			break;
		}
		if (kinds != NULL)
			kinds[i] = (uint8_t)k;
	}
}
