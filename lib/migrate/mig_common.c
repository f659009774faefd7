/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The migration object shared by source and destination: create / free,
 * launch on an lcore, cancel, status, stats (QEMU `info migrate` names) and
 * the per-worker zlib streams.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <zlib.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "mig_pvt.h"

RTE_LOG_REGISTER_DEFAULT(vmp_mig_logtype, INFO);

static const char *const status_names[] = {
	[VMP_MIG_ST_NONE] = "none",
	[VMP_MIG_ST_SETUP] = "setup",
	[VMP_MIG_ST_ACTIVE] = "active",
	[VMP_MIG_ST_DEVICE] = "device",
	[VMP_MIG_ST_COMPLETED] = "completed",
	[VMP_MIG_ST_FAILED] = "failed",
	[VMP_MIG_ST_CANCELLING] = "cancelling",
	[VMP_MIG_ST_CANCELLED] = "cancelled",
};

const char *
vmp_mig_status_name(enum vmp_mig_status st)
{
	if ((unsigned int)st >= RTE_DIM(status_names))
		return "unknown";
	return status_names[st];
}

uint64_t
mig_ms_since(uint64_t tsc0)
{
	return (rte_get_tsc_cycles() - tsc0) * 1000 / rte_get_tsc_hz();
}

uint64_t
mig_thread_cpu_ns(pid_t tid)
{
	char path[64], buf[512], *p;
	unsigned long ut = 0, st = 0;
	FILE *f;
	int i;

	if (tid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (p == NULL)
		return 0;
	/* skip "pid (comm)" – comm may hold spaces – then fields 3.. */
	p = strrchr(buf, ')');
	if (p == NULL)
		return 0;
	p++;
	for (i = 0; i < 11 && p != NULL; i++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p, " %lu %lu", &ut, &st) != 2)
		return 0;
	return (uint64_t)(ut + st) * (1000000000ull / sysconf(_SC_CLK_TCK));
}

static int
check_params(const struct vmp_mig_params *p, bool source)
{
	unsigned int i;

	if (p == NULL) {
		MIG_LOG(ERR, "params NULL");
		return -EINVAL;
	}
	if (p->nb_regions == 0 || p->nb_regions > VMP_MIG_MAX_REGIONS ||
	    p->regions == NULL) {
		MIG_LOG(ERR, "%u regions (1..%u)", p->nb_regions,
			VMP_MIG_MAX_REGIONS);
		return -EINVAL;
	}
	for (i = 0; i < p->nb_regions; i++) {
		const struct vmp_mig_region *r = &p->regions[i];

		if (r->addr == NULL || r->len == 0 ||
		    r->len % VMP_MIG_PAGE_SIZE != 0 ||
		    (uintptr_t)r->addr % VMP_MIG_PAGE_SIZE != 0) {
			MIG_LOG(ERR,
				"region %u: addr %p len %" PRIu64
				" not page aligned or empty",
				i, r->addr, r->len);
			return -EINVAL;
		}
	}
	if (p->comp > VMP_MIG_COMP_ZLIB || p->level < 0 || p->level > 9) {
		MIG_LOG(ERR, "compression %d level %d invalid", p->comp,
			p->level);
		return -EINVAL;
	}
	if (p->model > VMP_MIG_MODEL_LOCKED) {
		MIG_LOG(ERR, "worker model %d invalid", p->model);
		return -EINVAL;
	}
	if (p->nb_workers > VMP_MIG_MAX_WORKERS) {
		MIG_LOG(ERR, "%u workers > %u", p->nb_workers,
			VMP_MIG_MAX_WORKERS);
		return -EINVAL;
	}
	if (source && (p->dirty.sync == NULL || p->vcpu.pause == NULL ||
		       p->vcpu.resume == NULL)) {
		MIG_LOG(ERR,
			"source needs dirty.sync, vcpu.pause, vcpu.resume");
		return -EINVAL;
	}
	return 0;
}

static struct vmp_mig *
mig_create(const struct vmp_mig_params *p, bool source)
{
	struct vmp_mig *m;
	unsigned int i;
	int rc;

	rc = check_params(p, source);
	if (rc < 0) {
		rte_errno = -rc;
		return NULL;
	}
	m = rte_zmalloc("vmp_mig", sizeof(*m), RTE_CACHE_LINE_SIZE);
	if (m == NULL)
		goto nomem;
	m->source = source;
	m->p = *p;
	if (m->p.level == 0)
		m->p.level = 1;
	if (m->p.downtime_limit_ms == 0)
		m->p.downtime_limit_ms = VMP_MIG_DOWNTIME_DEFAULT_MS;
	if (m->p.max_rounds == 0)
		m->p.max_rounds = VMP_MIG_MAX_ROUNDS_DEFAULT;
	if (m->p.bw_window_ms == 0)
		m->p.bw_window_ms = 1000;
	if (m->p.wire_version == 0)
		m->p.wire_version = VMP_MIG_WIRE_VERSION;
	snprintf(m->name, sizeof(m->name), "%s", p->name ? p->name : "mig");
	if (p->worker_lcores != NULL)
		memcpy(m->worker_lcores, p->worker_lcores,
		       p->nb_workers * sizeof(unsigned int));
	m->p.worker_lcores = p->worker_lcores ? m->worker_lcores : NULL;
	m->nb_regions = p->nb_regions;
	m->p.regions = NULL;
	m->lfd = -1;
	m->ch.fd = -1;
	rte_spinlock_init(&m->st_lock);
	for (i = 0; i < m->nb_regions; i++) {
		struct mig_regstate *rs = &m->reg[i];

		rs->r = p->regions[i];
		rs->nb_pages = rs->r.len / VMP_MIG_PAGE_SIZE;
		m->st.total += rs->r.len;
		rs->page_crc = rte_zmalloc("mig_crc", rs->nb_pages * 4,
					   RTE_CACHE_LINE_SIZE);
		rs->bitmap = rte_zmalloc("mig_bitmap",
					 RTE_ALIGN_CEIL(rs->nb_pages, 64) / 8,
					 RTE_CACHE_LINE_SIZE);
		if (rs->page_crc == NULL || rs->bitmap == NULL)
			goto nomem_free;
		if (!source)
			continue;
		rs->scratch = rte_zmalloc("mig_bitmap",
					  RTE_ALIGN_CEIL(rs->nb_pages, 64) / 8,
					  RTE_CACHE_LINE_SIZE);
		if (rs->scratch == NULL)
			goto nomem_free;
	}
	/* frame buffer: entries + data (source), or a whole payload (dest) */
	m->batch = rte_zmalloc("mig_batch",
			       sizeof(struct mig_pages_hdr) +
				       MIG_BATCH_PAGES *
					       sizeof(struct mig_page_ent),
			       64);
	m->rxbuf = rte_zmalloc("mig_buf", MIG_MAX_PAYLOAD, 64);
	if (m->batch == NULL || m->rxbuf == NULL)
		goto nomem_free;
	m->st.source = source;
	m->status = VMP_MIG_ST_NONE;
	return m;

nomem_free:
	vmp_mig_free(m);
nomem:
	rte_errno = ENOMEM;
	return NULL;
}

struct vmp_mig *
vmp_mig_source_create(const struct vmp_mig_params *p)
{
	return mig_create(p, true);
}

struct vmp_mig *
vmp_mig_dest_create(const struct vmp_mig_params *p)
{
	return mig_create(p, false);
}

int
vmp_mig_free(struct vmp_mig *m)
{
	unsigned int i;

	if (m == NULL)
		return 0;
	if (m->running || (m->launched && !vmp_mig_done(m)))
		return -EBUSY;
	if (m->launched)
		rte_eal_wait_lcore(m->launch_lcore);
	if (m->lfd >= 0)
		close(m->lfd);
	if (m->unix_path[0])
		unlink(m->unix_path);
	for (i = 0; i < m->nb_regions; i++) {
		rte_free(m->reg[i].bitmap);
		rte_free(m->reg[i].scratch);
		rte_free(m->reg[i].page_crc);
	}
	rte_free(m->batch);
	rte_free(m->rxbuf);
	rte_free(m);
	return 0;
}

void
mig_set_status(struct vmp_mig *m, enum vmp_mig_status st)
{
	rte_spinlock_lock(&m->st_lock);
	m->status = st;
	m->st.status = st;
	rte_spinlock_unlock(&m->st_lock);
}

void
mig_fail(struct vmp_mig *m, int err, const char *fmt, ...)
{
	va_list ap;

	rte_spinlock_lock(&m->st_lock);
	if (m->st.error[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(m->st.error, sizeof(m->st.error), fmt, ap);
		va_end(ap);
	}
	if (m->err == 0)
		m->err = err;
	rte_spinlock_unlock(&m->st_lock);
}

/* Per-thread CPU use over the whole run, kept for the final report. */
static void
mig_cpu_final(struct vmp_mig *m)
{
	double wall = (double)(m->t_end - m->t_start) * 1e9 / rte_get_tsc_hz();
	unsigned int i;

	if (wall <= 0)
		return;
	rte_spinlock_lock(&m->st_lock);
	m->st.thread_cpu_pct =
		100.0 * (mig_thread_cpu_ns(m->tid) - m->cpu0_ns) / wall;
	for (i = 0; i < m->st.nb_workers && i < VMP_MIG_MAX_WORKERS; i++)
		m->st.worker_cpu_pct[i] = 100.0 * m->worker_cpu_ns[i] / wall;
	rte_spinlock_unlock(&m->st_lock);
}

int
vmp_mig_listen(struct vmp_mig *m, const char *uri)
{
	int fd;

	if (m == NULL || m->source || m->lfd >= 0 || uri == NULL)
		return -EINVAL;
	fd = mig_net_listen(uri, m->unix_path, sizeof(m->unix_path));
	if (fd < 0) {
		MIG_LOG(ERR, "cannot listen on %s: %s", uri, strerror(-fd));
		return fd;
	}
	m->lfd = fd;
	snprintf(m->uri, sizeof(m->uri), "%s", uri);
	return 0;
}

int
vmp_mig_run(struct vmp_mig *m, const char *uri)
{
	int rc;

	if (m == NULL || m->status != VMP_MIG_ST_NONE)
		return -EINVAL;
	if (!m->source && m->lfd < 0) {
		MIG_LOG(ERR, "%s: destination is not listening", m->name);
		return -EINVAL;
	}
	m->running = true;
	m->tid = (pid_t)syscall(SYS_gettid);
	m->cpu0_ns = mig_thread_cpu_ns(m->tid);
	m->t_start = rte_get_tsc_cycles();
	m->ch.cancel = &m->cancel;
	if (m->p.timeout_ms)
		m->ch.deadline_tsc = m->t_start + (uint64_t)m->p.timeout_ms *
							  rte_get_tsc_hz() /
							  1000;
	m->ch.bw_cap = m->source ? m->p.max_bandwidth : 0;
	mig_set_status(m, VMP_MIG_ST_SETUP);
	rc = m->source ? mig_source_run(m, uri) : mig_dest_run(m);
	m->t_end = rte_get_tsc_cycles();
	mig_cpu_final(m);
	m->result = rc;
	/* Publish the final state last: vmp_mig_done() readers may free. */
	__atomic_store_n(&m->running, false, __ATOMIC_RELEASE);
	return rc;
}

static int
launch_main(void *arg)
{
	struct vmp_mig *m = arg;

	return vmp_mig_run(m, m->uri);
}

int
vmp_mig_launch(struct vmp_mig *m, const char *uri, unsigned int lcore_id)
{
	int rc;

	if (m == NULL || (m->source && uri == NULL) ||
	    lcore_id >= RTE_MAX_LCORE || !rte_lcore_is_enabled(lcore_id) ||
	    lcore_id == rte_get_main_lcore())
		return -EINVAL;
	if (m->launched || m->status != VMP_MIG_ST_NONE ||
	    rte_eal_get_lcore_state(lcore_id) != WAIT)
		return -EBUSY;
	if (uri != NULL)
		snprintf(m->uri, sizeof(m->uri), "%s", uri);
	m->launched = true;
	m->launch_lcore = lcore_id;
	m->running = true; /* until vmp_mig_run() returns */
	rc = rte_eal_remote_launch(launch_main, m, lcore_id);
	if (rc != 0) {
		m->launched = false;
		m->running = false;
		return -EBUSY;
	}
	return 0;
}

int
vmp_mig_wait(struct vmp_mig *m)
{
	if (m == NULL || !m->launched)
		return -EINVAL;
	rte_eal_wait_lcore(m->launch_lcore);
	m->launched = false;
	return m->result;
}

bool
vmp_mig_done(const struct vmp_mig *m)
{
	return m != NULL && !__atomic_load_n(&m->running, __ATOMIC_ACQUIRE) &&
	       (m->status == VMP_MIG_ST_COMPLETED ||
		m->status == VMP_MIG_ST_FAILED ||
		m->status == VMP_MIG_ST_CANCELLED);
}

int
vmp_mig_cancel(struct vmp_mig *m)
{
	if (m == NULL)
		return -EINVAL;
	if (m->status == VMP_MIG_ST_COMPLETED ||
	    m->status == VMP_MIG_ST_FAILED || m->status == VMP_MIG_ST_CANCELLED)
		return -EALREADY;
	m->cancel = true; /* polled by the migration thread and the channel */
	return 0;
}

enum vmp_mig_status
vmp_mig_status(const struct vmp_mig *m)
{
	return m ? (enum vmp_mig_status)m->status : VMP_MIG_ST_NONE;
}

int
vmp_mig_stats_get(const struct vmp_mig *m, struct vmp_mig_stats *st)
{
	struct vmp_mig *mm = (struct vmp_mig *)(uintptr_t)m;
	uint64_t end, hz = rte_get_tsc_hz(), wall_ns;
	unsigned int i;

	if (m == NULL || st == NULL)
		return -EINVAL;
	rte_spinlock_lock(&mm->st_lock);
	*st = m->st;
	rte_spinlock_unlock(&mm->st_lock);
	st->status = (enum vmp_mig_status)m->status;
	if (m->t_start == 0)
		return 0;
	end = m->running || m->t_end == 0 ? rte_get_tsc_cycles() : m->t_end;
	st->total_time_ms = (end - m->t_start) * 1000 / hz;
	if (st->normal + st->duplicate)
		st->normal_bytes = st->normal * VMP_MIG_PAGE_SIZE;
	st->compression_busy_rate =
		st->compression_pages
			? (double)st->compression_busy / st->compression_pages
			: 0;
	st->compression_rate =
		st->compressed_size
			? (double)(st->compression_pages - st->raw_pages) *
				  VMP_MIG_PAGE_SIZE / st->compressed_size
			: 0;
	wall_ns = (end - m->t_start) * 1000000000.0 / hz;
	if (wall_ns && m->running)
		st->thread_cpu_pct = 100.0 *
				     (mig_thread_cpu_ns(m->tid) - m->cpu0_ns) /
				     wall_ns;
	for (i = 0; i < st->nb_workers && i < VMP_MIG_MAX_WORKERS; i++)
		if (m->running && wall_ns && m->worker_tid[i])
			st->worker_cpu_pct[i] =
				100.0 *
				(mig_thread_cpu_ns(m->worker_tid[i]) -
				 m->worker_cpu0_ns[i]) /
				wall_ns;
	return 0;
}

/* Kept for symmetry with the header's promise of live per-worker numbers:
 * the migration thread calls this at each flush. */
void
mig_publish(struct vmp_mig *m)
{
	double pct[VMP_MIG_MAX_WORKERS];
	unsigned int lc[VMP_MIG_MAX_WORKERS], n, i;

	if (m->cp == NULL)
		return;
	n = mig_cpool_worker_busy(m->cp, pct, lc, VMP_MIG_MAX_WORKERS);
	rte_spinlock_lock(&m->st_lock);
	m->st.nb_workers = n;
	for (i = 0; i < n; i++) {
		m->st.worker_busy_pct[i] = pct[i];
		m->st.worker_lcore[i] = lc[i];
	}
	m->st.compression_busy = mig_cpool_busy_count(m->cp);
	rte_spinlock_unlock(&m->st_lock);
}

struct mig_cpool *
mig_workers_create(struct vmp_mig *m, mig_job_fn handler, mig_done_fn done)
{
	struct mig_cpool_params cpp;

	memset(&cpp, 0, sizeof(cpp));
	cpp.name = m->name;
	cpp.model = m->p.model;
	cpp.nb_workers = m->p.nb_workers;
	cpp.lcores = m->p.worker_lcores;
	cpp.ring_size = m->p.ring_size;
	cpp.spin_polls = m->p.spin_polls;
	cpp.job_size = sizeof(struct mig_job);
	cpp.handler = handler;
	cpp.done = done;
	cpp.worker_init = mig_zworker_init;
	cpp.worker_uninit = mig_zworker_uninit;
	cpp.arg = m;
	return mig_cpool_create(&cpp);
}

int
mig_zworker_init(unsigned int worker, void *arg)
{
	struct vmp_mig *m = arg;
	z_stream *z;
	int rc;

	m->worker_tid[worker] = (pid_t)syscall(SYS_gettid);
	m->worker_cpu0_ns[worker] = mig_thread_cpu_ns(m->worker_tid[worker]);
	z = rte_zmalloc_socket("mig_z", sizeof(*z), 64, rte_socket_id());
	if (z == NULL)
		return -ENOMEM;
	if (m->source)
		rc = deflateInit2(z, m->p.level, Z_DEFLATED, -12, 4,
				  Z_DEFAULT_STRATEGY);
	else
		rc = inflateInit2(z, -15);
	if (rc != Z_OK) {
		rte_free(z);
		return -ENOMEM;
	}
	m->zs[worker] = z;
	return 0;
}

void
mig_zworker_uninit(unsigned int worker, void *arg)
{
	struct vmp_mig *m = arg;
	z_stream *z = m->zs[worker];

	/* on the worker, after its last job: its CPU time for the report */
	m->worker_cpu_ns[worker] = mig_thread_cpu_ns(m->worker_tid[worker]) -
				   m->worker_cpu0_ns[worker];
	if (z == NULL)
		return;
	if (m->source)
		deflateEnd(z);
	else
		inflateEnd(z);
	rte_free(z);
	m->zs[worker] = NULL;
}
