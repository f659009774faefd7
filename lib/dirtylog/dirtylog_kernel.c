/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Kernel write-protect tracking: userfaultfd with UFFD_FEATURE_WP_ASYNC (the
 * kernel resolves write faults itself and marks the PTE written) plus
 * WP_UNPOPULATED (never-touched anonymous pages are protected too), and the
 * PAGEMAP_SCAN ioctl on /proc/self/pagemap that returns the written pages and
 * re-protects them in the same call (PM_SCAN_WP_MATCHING).
 *
 * Per tracker while started:
 *   start: probe -> open uffd (UFFDIO_API with the features) -> open pagemap
 *          -> UFFDIO_REGISTER(MODE_WP) + UFFDIO_WRITEPROTECT(WP) per region
 *   get:   PAGEMAP_SCAN(WRITTEN, WP_MATCHING) over the range rounded out to
 *          the mapping page size -> OR into the region's software log
 *   stop:  UFFDIO_WRITEPROTECT(0) + UFFDIO_UNREGISTER per region -> close
 *
 * Debian 12's 6.1 uapi headers lack the WP_ASYNC bits and PAGEMAP_SCAN: they
 * are defined here when missing; support is decided at run time.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/fs.h>
#include <linux/userfaultfd.h>

#include <rte_common.h>
#include <rte_malloc.h>

#include "dirtylog_pvt.h"

#ifndef UFFD_FEATURE_WP_HUGETLBFS_SHMEM
#define UFFD_FEATURE_WP_HUGETLBFS_SHMEM (1 << 12)
#endif
#ifndef UFFD_FEATURE_WP_UNPOPULATED
#define UFFD_FEATURE_WP_UNPOPULATED (1 << 13)
#endif
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC (1 << 15)
#endif

#ifndef PAGEMAP_SCAN
#define PAGE_IS_WPALLOWED (1 << 0)
#define PAGE_IS_WRITTEN (1 << 1)
#define PAGE_IS_FILE (1 << 2)
#define PAGE_IS_PRESENT (1 << 3)
#define PAGE_IS_SWAPPED (1 << 4)
#define PAGE_IS_PFNZERO (1 << 5)
#define PAGE_IS_HUGE (1 << 6)
#define PM_SCAN_WP_MATCHING (1 << 0)
#define PM_SCAN_CHECK_WPASYNC (1 << 1)
struct page_region {
	__u64 start;
	__u64 end;
	__u64 categories;
};
struct pm_scan_arg {
	__u64 size;
	__u64 flags;
	__u64 start;
	__u64 end;
	__u64 walk_end;
	__u64 vec;
	__u64 vec_len;
	__u64 max_pages;
	__u64 category_inverted;
	__u64 category_mask;
	__u64 category_anyof_mask;
	__u64 return_mask;
};
#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)
#endif

#define SCAN_VEC_LEN 1024
#define NEED_FEATURES (UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED)

static int
uffd_open(uint64_t features, uint64_t *supported)
{
	struct uffdio_api api = {.api = UFFD_API, .features = features};
	int fd, rc;

	fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, UFFDIO_API, &api) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	if (supported)
		*supported = api.features;
	return fd;
}

/* PAGEMAP_SCAN over [start, end): ENOTTY / EINVAL mean "not this kernel". */
static int
pagemap_scan(int fd, uint64_t start, uint64_t end, uint64_t flags,
	     struct page_region *vec, uint64_t vec_len, uint64_t *walk_end)
{
	struct pm_scan_arg a = {
		.size = sizeof(a),
		.flags = flags,
		.start = start,
		.end = end,
		.vec = (uintptr_t)vec,
		.vec_len = vec_len,
		.category_mask = PAGE_IS_WRITTEN,
		.return_mask = PAGE_IS_WRITTEN,
	};
	int n = ioctl(fd, PAGEMAP_SCAN, &a);

	if (n < 0)
		return -errno;
	*walk_end = a.walk_end;
	return n;
}

int
vmp_dirty_kernel_probe(void)
{
	uint64_t feat = 0, we;
	int fd, pm, caps = 0, rc;

	fd = uffd_open(0, &feat);
	if (fd < 0)
		return fd == -EPERM ? -EPERM : 0;
	close(fd);
	if ((feat & NEED_FEATURES) != NEED_FEATURES)
		return 0;
	pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (pm < 0)
		return 0;
	/* an empty range: only checks the ioctl exists */
	rc = pagemap_scan(pm, 0, 0, 0, NULL, 0, &we);
	close(pm);
	if (rc < 0)
		return 0;
	caps = VMP_DIRTY_KCAP_ANON;
	if (feat & UFFD_FEATURE_WP_HUGETLBFS_SHMEM)
		caps |= VMP_DIRTY_KCAP_HUGETLB;
	return caps;
}

static int
region_wp(int uffd, const struct dirty_region *r, int on)
{
	struct uffdio_writeprotect wp = {
		.range = {.start = r->host, .len = r->host_end - r->host},
		.mode = on ? UFFDIO_WRITEPROTECT_MODE_WP : 0,
	};

	return ioctl(uffd, UFFDIO_WRITEPROTECT, &wp) < 0 ? -errno : 0;
}

static void
region_unregister(int uffd, const struct dirty_region *r)
{
	struct uffdio_range rg = {.start = r->host,
				  .len = r->host_end - r->host};

	region_wp(uffd, r, 0);
	ioctl(uffd, UFFDIO_UNREGISTER, &rg);
}

int
__vmp_dirty_kernel_start(struct vmp_dirty_tracker *t)
{
	uint64_t feat = 0, want = NEED_FEATURES, we;
	unsigned int i, nreg = 0;
	int need_huge = 0, rc;

	/* the kernel announces WP on hugetlb / shmem with WP_HUGETLBFS_SHMEM */
	for (i = 0; i < t->nb_regions; i++)
		if (t->r[i].shmem_or_huge)
			need_huge = 1;
	rc = uffd_open(0, &feat);
	if (rc < 0) {
		DIRTY_LOG(ERR,
			  "%s start: userfaultfd (or its UFFDIO_API) "
			  "unavailable: %s; kernel write-protect tracking %s",
			  t->name, strerror(-rc),
			  rc == -EPERM || rc == -EACCES ? "not permitted"
							: "unsupported");
		return rc == -EPERM || rc == -EACCES ? -EPERM : -ENOTSUP;
	}
	close(rc);
	if (need_huge)
		want |= UFFD_FEATURE_WP_HUGETLBFS_SHMEM;
	if ((feat & want) != want) {
		DIRTY_LOG(ERR,
			  "%s start: kernel lacks userfaultfd features "
			  "0x%" PRIx64 " (WP_ASYNC|WP_UNPOPULATED%s); "
			  "kernel write-protect tracking unsupported",
			  t->name, want & ~feat,
			  need_huge
				  ? "|WP_HUGETLBFS_SHMEM (hugetlb/shmem region)"
				  : "");
		return -ENOTSUP;
	}
	t->uffd = uffd_open(want, NULL);
	if (t->uffd < 0) {
		rc = t->uffd;
		DIRTY_LOG(ERR, "%s start: UFFDIO_API: %s", t->name,
			  strerror(-rc));
		t->uffd = -1;
		return rc == -EINVAL ? -ENOTSUP : rc;
	}
	t->pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (t->pagemap_fd < 0) {
		rc = -errno;
		DIRTY_LOG(ERR, "%s start: /proc/self/pagemap: %s", t->name,
			  strerror(-rc));
		goto out_close_uffd;
	}
	rc = pagemap_scan(t->pagemap_fd, 0, 0, 0, NULL, 0, &we);
	if (rc < 0) {
		DIRTY_LOG(ERR,
			  "%s start: PAGEMAP_SCAN unsupported (%s); "
			  "kernel write-protect tracking unsupported",
			  t->name, strerror(-rc));
		rc = -ENOTSUP;
		goto out_close_pagemap;
	}
	t->scan_vec_len = SCAN_VEC_LEN;
	t->scan_vec = rte_malloc_socket(
		"vmp_dirty_scan", SCAN_VEC_LEN * sizeof(struct page_region),
		RTE_CACHE_LINE_SIZE, t->socket_id);
	if (t->scan_vec == NULL) {
		rc = -ENOMEM;
		goto out_close_pagemap;
	}
	for (nreg = 0; nreg < t->nb_regions; nreg++) {
		struct dirty_region *r = &t->r[nreg];
		struct uffdio_register reg = {
			.range = {.start = r->host,
				  .len = r->host_end - r->host},
			.mode = UFFDIO_REGISTER_MODE_WP,
		};

		if (ioctl(t->uffd, UFFDIO_REGISTER, &reg) < 0) {
			rc = -errno;
			DIRTY_LOG(ERR,
				  "%s start: UFFDIO_REGISTER 0x%" PRIxPTR
				  "+0x%" PRIxPTR ": %s",
				  t->name, r->host, r->host_end - r->host,
				  strerror(-rc));
			if (rc == -EINVAL)
				rc = -ENOTSUP;
			goto out_unregister;
		}
		rc = region_wp(t->uffd, r, 1);
		if (rc < 0) {
			DIRTY_LOG(ERR, "%s start: UFFDIO_WRITEPROTECT: %s",
				  t->name, strerror(-rc));
			nreg++;
			goto out_unregister;
		}
	}
	return 0;

out_unregister:
	while (nreg-- > 0)
		region_unregister(t->uffd, &t->r[nreg]);
	rte_free(t->scan_vec);
	t->scan_vec = NULL;
out_close_pagemap:
	close(t->pagemap_fd);
	t->pagemap_fd = -1;
out_close_uffd:
	close(t->uffd);
	t->uffd = -1;
	return rc;
}

void
__vmp_dirty_kernel_stop(struct vmp_dirty_tracker *t)
{
	unsigned int i;

	if (t->uffd < 0)
		return;
	for (i = 0; i < t->nb_regions; i++)
		region_unregister(t->uffd, &t->r[i]);
	rte_free(t->scan_vec);
	t->scan_vec = NULL;
	close(t->pagemap_fd);
	t->pagemap_fd = -1;
	close(t->uffd);
	t->uffd = -1;
}

int
__vmp_dirty_kernel_collect(struct vmp_dirty_tracker *t, struct dirty_region *r,
			   uint64_t off, uint64_t off_end, int peek)
{
	struct page_region *vec = t->scan_vec;
	uint64_t g = r->kpgsize, start, end, we = 0;
	uint64_t flags =
		PM_SCAN_CHECK_WPASYNC | (peek ? 0 : PM_SCAN_WP_MATCHING);

	/* a hugetlb page can only be re-protected whole: round out; the extra
	 * pages' bits land in the log and are reported by a later get */
	start = r->host + RTE_ALIGN_FLOOR(off, g);
	end = r->host + RTE_ALIGN_CEIL(off_end, g);
	while (start < end) {
		int n = pagemap_scan(t->pagemap_fd, start, end, flags, vec,
				     t->scan_vec_len, &we),
		    k;

		if (n < 0) {
			DIRTY_LOG(ERR,
				  "%s: PAGEMAP_SCAN 0x%" PRIx64 "-0x%" PRIx64
				  ": %s",
				  t->name, start, end, strerror(-n));
			return n;
		}
		for (k = 0; k < n; k++) {
			uint64_t s = vec[k].start - r->host;
			uint64_t e = vec[k].end - r->host;

			__vmp_dirty_mark_pages(r, s >> t->pgshift,
					       (e - 1) >> t->pgshift);
		}
		if (we <= start) /* no progress: should not happen */
			return -EIO;
		start = we;
	}
	return 0;
}

int
vmp_dirty_mapping_info(const void *addr, struct vmp_dirty_mapping_info *info)
{
	uintptr_t a = (uintptr_t)addr, s, e;
	char line[512];
	int in = 0, found = 0;
	FILE *f;

	if (info == NULL)
		return -EINVAL;
	f = fopen("/proc/self/smaps", "re");
	if (f == NULL)
		return -errno;
	memset(info, 0, sizeof(*info));
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned long v;

		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " ", &s, &e) == 2 &&
		    strchr(line, ':') != NULL && line[0] != ' ' &&
		    strncmp(line, "VmFlags", 7) != 0) {
			if (found)
				break;
			in = a >= s && a < e;
			if (in) {
				found = 1;
				info->start = s;
				info->end = e;
			}
			continue;
		}
		if (!in)
			continue;
		if (sscanf(line, "KernelPageSize: %lu kB", &v) == 1)
			info->kernel_page_size = (uint64_t)v * 1024;
		else if (sscanf(line, "AnonHugePages: %lu kB", &v) == 1)
			info->anon_huge_bytes = (uint64_t)v * 1024;
		else if (strncmp(line, "VmFlags:", 8) == 0) {
			info->hugetlb = strstr(line, " ht") != NULL;
			info->shared = strstr(line, " sh") != NULL;
		}
	}
	fclose(f);
	return found ? 0 : -ENOENT;
}
