/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Kernel write-protect tracking where the kernel lacks it: a forked child
 * installs a seccomp filter that makes this kernel look like an older one
 * (userfaultfd -> ENOSYS; UFFDIO_API -> EINVAL; PAGEMAP_SCAN -> ENOTTY), then
 * checks that vmp_dirty_kernel_probe() reports nothing and vmp_dirty_start()
 * fails with -ENOTSUP, leaving the tracker stopped and usable. The tracker is
 * created by the parent, so the child allocates nothing from the EAL heap.
 */
#include <errno.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/userfaultfd.h>

#include <rte_common.h>
#include <rte_memory.h>

#include <vmp_dirtylog.h>

#include "dirtylog_test_mem.h"
#include "vmp_test.h"

#ifndef PAGEMAP_SCAN
struct pm_scan_arg_sz {
	uint64_t f[12];
};
#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg_sz)
#endif

enum hide { HIDE_UFFD_SYSCALL, HIDE_UFFD_API, HIDE_PAGEMAP_SCAN };

/* Return errno `err` for syscall `nr` (for ioctl: only when the command is
 * `cmd`); allow everything else. */
static int
seccomp_deny(int nr, uint32_t cmd, int err)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		/* for ioctl, match the command (low 32 bits of args[1]) */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_ioctl, 0, 2),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, args[1])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, cmd, 0, 1),
		BPF_STMT(BPF_RET | BPF_K,
			 SECCOMP_RET_ERRNO |
				 ((uint32_t)err & SECCOMP_RET_DATA)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = RTE_DIM(f), .filter = f};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -errno;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) ? -errno : 0;
}

/* Child: 0 if the library behaves, else the number of the failed check. */
static int
child(struct vmp_dirty_tracker *t, enum hide h)
{
	uint64_t bm[1];
	int rc;

	switch (h) {
	case HIDE_UFFD_SYSCALL:
		rc = seccomp_deny(__NR_userfaultfd, 0, ENOSYS);
		break;
	case HIDE_UFFD_API:
		rc = seccomp_deny(__NR_ioctl, (uint32_t)UFFDIO_API, EINVAL);
		break;
	default:
		rc = seccomp_deny(__NR_ioctl, (uint32_t)PAGEMAP_SCAN, ENOTTY);
		break;
	}
	if (rc != 0)
		return 10;
	if (vmp_dirty_kernel_probe() != 0)
		return 11;
	if (vmp_dirty_start(t) != -ENOTSUP)
		return 12;
	if (vmp_dirty_is_started(t))
		return 13;
	if (vmp_dirty_bitmap_get(t, 0, 4096, 4096, bm, 8, 0) != -EINVAL)
		return 14;
	if (vmp_dirty_stop(t) != 0 || vmp_dirty_start(t) != -ENOTSUP)
		return 15;
	return 0;
}

static int
run_hidden(enum hide h)
{
	static const char *const what[] = {"userfaultfd() -> ENOSYS",
					   "UFFDIO_API -> EINVAL",
					   "PAGEMAP_SCAN -> ENOTTY"};
	struct test_mem tm;
	struct vmp_dirty_region r = {.iova = 0, .len = 16 * 4096};
	struct vmp_dirty_params p = {.name = "nokernel",
				     .regions = &r,
				     .nb_regions = 1,
				     .mode = VMP_DIRTY_MODE_KERNEL_WP,
				     .socket_id = SOCKET_ID_ANY};
	struct vmp_dirty_tracker *t;
	int status = 0;
	pid_t pid;

	TEST_ASSERT_SUCCESS(test_mem_map(&tm, ANON, r.len), "map");
	r.host = tm.addr;
	t = vmp_dirty_tracker_create(&p);
	TEST_ASSERT_NOT_NULL(t, "create");
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(child(t, h));
	TEST_ASSERT(pid > 0, "fork");
	TEST_ASSERT_EQUAL(waitpid(pid, &status, 0), pid, "waitpid");
	vmp_dirty_tracker_free(t);
	test_mem_unmap(&tm);
	TEST_ASSERT(WIFEXITED(status), "child died (status 0x%x)", status);
	TEST_ASSERT_EQUAL(WEXITSTATUS(status), 0,
			  "%s: check %d failed in the child", what[h],
			  WEXITSTATUS(status));
	printf("  %s: probe 0, start -ENOTSUP, tracker stays stopped\n",
	       what[h]);
	return TEST_SUCCESS;
}

static int
test_no_userfaultfd(void)
{
	return run_hidden(HIDE_UFFD_SYSCALL);
}

static int
test_no_uffd_api(void)
{
	return run_hidden(HIDE_UFFD_API);
}

static int
test_no_pagemap_scan(void)
{
	return run_hidden(HIDE_PAGEMAP_SCAN);
}

static struct vmp_test_suite nokernel_suite = {
	.name = "dirtylog_nokernel",
	.cases =
		{
			TEST_CASE(test_no_userfaultfd),
			TEST_CASE(test_no_uffd_api),
			TEST_CASE(test_no_pagemap_scan),
			TEST_CASES_END(),
		},
};

static int
test_dirtylog_nokernel(void)
{
	return vmp_test_suite_run(&nokernel_suite);
}

REGISTER_TEST_COMMAND(dirtylog_nokernel_autotest, test_dirtylog_nokernel);
