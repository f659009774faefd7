/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VMP_VNET_WTRACE=FILE: one line per guest-memory write and per dirty-log
 * mark lib/vnet makes, and per control event, in the order they were made
 * (one lock), with CLOCK_REALTIME times:
 *
 *   SEC.NSEC VID VRING KIND GPA LEN LOG_ON    (KIND: enum vnet_wtrace_kind)
 *   SEC.NSEC VID - E WHAT ARG
 *
 * A page that differs between the source and the destination of a live
 * migration is then the backend's doing only if it was written after its
 * last mark, while logging was off, or after the device stopped
 * (tests/vnet/vnet_wtrace.py). A debug aid: it serialises the datapath.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <rte_common.h>

#include "vnet_pvt.h"
#include "vnet_wtrace.h"

bool __vmp_vnet_wtrace_on;
static FILE *wt_file;
static pthread_mutex_t wt_lock = PTHREAD_MUTEX_INITIALIZER;

RTE_INIT(vnet_wtrace_init)
{
	const char *path = getenv("VMP_VNET_WTRACE");

	if (path == NULL || *path == '\0')
		return;
	wt_file = fopen(path, "w");
	if (wt_file == NULL)
		return;
	/* fully buffered; exit() flushes it */
	setvbuf(wt_file, NULL, _IOFBF, 1 << 20);
	__vmp_vnet_wtrace_on = true;
}

/* Time-stamped under the lock: the file's order is the order of the
 * writes, across the datapath lcores and the control thread. */
static void
wt_line(int vid, const char *rest, bool flush)
{
	struct timespec ts;

	pthread_mutex_lock(&wt_lock);
	clock_gettime(CLOCK_REALTIME, &ts);
	fprintf(wt_file, "%ld.%09ld %d %s\n", (long)ts.tv_sec, ts.tv_nsec, vid,
		rest);
	if (flush)
		fflush(wt_file);
	pthread_mutex_unlock(&wt_lock);
}

void
__vmp_vnet_wtrace_gpa(const struct vnet_vq *vq, enum vnet_wtrace_kind k,
		      uint64_t gpa, uint64_t len)
{
	char rest[80];

	snprintf(rest, sizeof(rest), "%u %c %#" PRIx64 " %" PRIu64 " %d",
		 vq->index, (char)k, gpa, len, vq->port->log_on);
	wt_line(vq->port->vid, rest, false);
}

void
__vmp_vnet_wtrace_hva(const struct vnet_vq *vq, enum vnet_wtrace_kind k,
		      const volatile void *hva, uint64_t len)
{
	const struct rte_vhost_memory *mem = vq->port->mem;
	uintptr_t a = (uintptr_t)hva;
	uint32_t i;

	/* our mapping -> guest physical: host_user_addr is ours (vnet_mem.c) */
	for (i = 0; mem != NULL && i < mem->nregions; i++) {
		const struct rte_vhost_mem_region *r = &mem->regions[i];

		if (a - r->host_user_addr < r->size) {
			__vmp_vnet_wtrace_gpa(vq, k,
					      r->guest_phys_addr + a -
						      r->host_user_addr,
					      len);
			return;
		}
	}
	__vmp_vnet_wtrace_gpa(vq, k, UINT64_MAX, len); /* not guest memory */
}

void
__vmp_vnet_wtrace_event(const struct vmp_vnet_port *port, int vid,
			const char *what, uint64_t arg)
{
	char rest[80];

	snprintf(rest, sizeof(rest), "- E %s %" PRIu64 " %d", what, arg,
		 port->log_on);
	wt_line(vid, rest, true);
}
