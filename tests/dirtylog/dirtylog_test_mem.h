/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DIRTYLOG_TEST_MEM_H
#define DIRTYLOG_TEST_MEM_H

/* Memory of a given backing for the dirtylog tests and bench. */

#include <stdint.h>

enum backing { ANON, THP, HUGETLB, SHMEM, NB_BACKING };

extern const char *const backing_name[NB_BACKING];

struct test_mem {
	void *addr;	 /* 2 MiB aligned, len bytes */
	void *base;	 /* what mmap returned */
	uint64_t maplen; /* what mmap mapped */
};

/* Map len bytes: anon (MADV_NOHUGEPAGE: really 4 KiB pages), THP
 * (MADV_HUGEPAGE; populating is the caller's), hugetlb (MAP_HUGETLB, from the
 * machine's shared pool), shmem (a memfd mapped shared, as vhost-user guest
 * memory is). 0, or -errno. Nothing is touched. */
int test_mem_map(struct test_mem *m, enum backing b, uint64_t len);

void test_mem_unmap(struct test_mem *m);

#endif /* DIRTYLOG_TEST_MEM_H */
