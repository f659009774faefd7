/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rte_common.h>

#include "dirtylog_test_mem.h"

#define HUGE_2M ((uint64_t)2 << 20)

const char *const backing_name[NB_BACKING] = {"anon", "THP", "hugetlb",
					      "shmem"};

int
test_mem_map(struct test_mem *m, enum backing b, uint64_t len)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS;

	if (b == SHMEM) {
		int fd = memfd_create("vmp_dirtylog_test", MFD_CLOEXEC), err;

		if (fd < 0)
			return -errno;
		if (ftruncate(fd, (off_t)len) != 0) {
			err = -errno;
			close(fd);
			return err;
		}
		m->maplen = len;
		m->base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
			       fd, 0);
		err = errno;
		close(fd);
		if (m->base == MAP_FAILED) {
			m->base = NULL;
			return -err;
		}
		m->addr = m->base;
		return 0;
	}

	/* anon/THP: over-map by 2 MiB so the range can be 2 MiB aligned */
	m->maplen = b == HUGETLB ? len : len + HUGE_2M;
	if (b == HUGETLB)
		flags |= MAP_HUGETLB;
	m->base = mmap(NULL, m->maplen, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (m->base == MAP_FAILED) {
		m->base = NULL;
		return -errno;
	}
	m->addr = RTE_PTR_ALIGN_CEIL(m->base, HUGE_2M);
	if (b != HUGETLB)
		madvise(m->addr, len,
			b == THP ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	return 0;
}

void
test_mem_unmap(struct test_mem *m)
{
	if (m->base != NULL)
		munmap(m->base, m->maplen);
	m->base = NULL;
}
