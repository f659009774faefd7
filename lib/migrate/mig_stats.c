/* SPDX-License-Identifier: BSD-3-Clause */
/* `info migrate` in QEMU's words, and the one-line progress report. */
#include <inttypes.h>
#include <stdio.h>

#include "mig_pvt.h"

void
vmp_mig_stats_print(FILE *f, const struct vmp_mig_stats *s)
{
	unsigned int i;

	fprintf(f, "Migration status: %s\n", vmp_mig_status_name(s->status));
	if (s->error[0])
		fprintf(f, "error: %s\n", s->error);
	fprintf(f, "role: %s\n", s->source ? "source" : "destination");
	fprintf(f, "total time: %" PRIu64 " milliseconds\n", s->total_time_ms);
	if (s->source) {
		if (s->status == VMP_MIG_ST_COMPLETED)
			fprintf(f, "downtime: %" PRIu64 " milliseconds\n",
				s->downtime_ms);
		if (s->expected_downtime_ms != UINT64_MAX)
			fprintf(f,
				"expected downtime: %" PRIu64 " milliseconds\n",
				s->expected_downtime_ms);
		else
			fprintf(f, "expected downtime: unknown\n");
	}
	fprintf(f, "setup: %" PRIu64 " milliseconds\n", s->setup_time_ms);
	fprintf(f, "transferred ram: %" PRIu64 " kbytes\n",
		s->transferred / 1024);
	fprintf(f, "throughput: %.2f mbps\n", s->throughput_mbps);
	fprintf(f, "remaining ram: %" PRIu64 " kbytes\n", s->remaining / 1024);
	fprintf(f, "total ram: %" PRIu64 " kbytes\n", s->total / 1024);
	fprintf(f, "duplicate: %" PRIu64 " pages\n", s->duplicate);
	fprintf(f, "normal: %" PRIu64 " pages\n", s->normal);
	fprintf(f, "normal bytes: %" PRIu64 " kbytes\n",
		s->normal * (VMP_MIG_PAGE_SIZE / 1024));
	fprintf(f, "dirty sync count: %" PRIu64 "\n", s->dirty_sync_count);
	fprintf(f, "page size: %u kbytes\n", VMP_MIG_PAGE_SIZE / 1024);
	if (s->source) {
		fprintf(f, "dirty pages rate: %" PRIu64 " pages\n",
			s->dirty_pages_rate);
		fprintf(f, "pinned pages: %" PRIu64 " pages\n",
			s->pinned_pages);
		fprintf(f, "auto-converge throttle: %u %%\n", s->throttle_pct);
	}
	fprintf(f, "rounds: %" PRIu64 "\n", s->rounds);
	fprintf(f, "compression pages: %" PRIu64 " pages\n",
		s->compression_pages);
	fprintf(f, "compression busy: %" PRIu64 "\n", s->compression_busy);
	fprintf(f, "compression busy rate: %.2f\n", s->compression_busy_rate);
	fprintf(f, "compressed size: %" PRIu64 " kbytes\n",
		s->compressed_size / 1024);
	fprintf(f, "compression rate: %.2f\n", s->compression_rate);
	fprintf(f, "raw pages: %" PRIu64 " pages\n", s->raw_pages);
	if (s->source)
		fprintf(f, "switchover raw pages: %" PRIu64 " pages\n",
			s->switchover_raw_pages);
	fprintf(f, "migration thread cpu: %.0f %%\n", s->thread_cpu_pct);
	for (i = 0; i < s->nb_workers && i < VMP_MIG_MAX_WORKERS; i++)
		fprintf(f, "worker %u (lcore %u): busy %.0f %%, cpu %.0f %%\n",
			i, s->worker_lcore[i], s->worker_busy_pct[i],
			s->worker_cpu_pct[i]);
}

int
vmp_mig_progress_line(const struct vmp_mig_stats *s, char *buf, size_t len)
{
	return snprintf(
		buf, len,
		"migrate: %s round %" PRIu64 " sent %" PRIu64
		" MiB remaining %" PRIu64 " MiB %.0f mbps"
		" dirty %" PRIu64 " pages/s expected downtime %" PRId64 " ms",
		vmp_mig_status_name(s->status), s->rounds, s->transferred >> 20,
		s->remaining >> 20, s->throughput_mbps, s->dirty_pages_rate,
		s->expected_downtime_ms == UINT64_MAX
			? (int64_t)-1
			: (int64_t)s->expected_downtime_ms);
}
