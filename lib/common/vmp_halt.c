/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "vmp_common.h"

const char *
vmp_version(void)
{
	return VMP_VERSION;
}

static long
futex(uint32_t *uaddr, int op, uint32_t val, const struct timespec *ts)
{
	return syscall(SYS_futex, uaddr, op, val, ts, NULL, 0);
}

int
vmp_halt_wait(uint32_t *word, uint32_t expected, uint64_t timeout_ns)
{
	struct timespec ts, *tsp = NULL;

	if (timeout_ns != 0) {
		ts.tv_sec = timeout_ns / 1000000000ull;
		ts.tv_nsec = timeout_ns % 1000000000ull;
		tsp = &ts;
	}
	if (futex(word, FUTEX_WAIT_PRIVATE, expected, tsp) == 0)
		return 0;
	/* EAGAIN: *word != expected when the kernel looked, not an error */
	return errno == EAGAIN ? 0 : -errno;
}

int
vmp_halt_kick(uint32_t *word, int nwake)
{
	long r;

	if (nwake <= 0)
		nwake = INT_MAX;
	r = futex(word, FUTEX_WAKE_PRIVATE, (uint32_t)nwake, NULL);
	return r < 0 ? -errno : (int)r;
}
