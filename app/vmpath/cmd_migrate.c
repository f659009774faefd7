/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Migration and guest commands: `migrate URI`, `migrate cancel`,
 * `info migrate`, `guest info|pause|resume|dump PATH|pin OFF LEN|unpin OFF
 * LEN`; the same through telemetry (/vmpath/migrate/..., /vmpath/guest/info);
 * --migrate-listen / --migrate-to at start; a progress line every second
 * while a migration runs (an EAL alarm, so it works with and without -i).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmdline_parse_num.h>
#include <cmdline_parse_string.h>
#include <rte_alarm.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_telemetry.h>

#include <vmp_migrate.h>

#include "cmd_areas.h"
#include "guest.h"
#include "vmpath.h"

/*
 * `cur` and `reported` are reached from four threads: the main lcore (the
 * prompt and the control socket), the telemetry thread (/vmpath/migrate/...),
 * the EAL alarm thread (monitor()) and, at start and exit, main(). One lock
 * covers every start, cancel, stats read, reap and report, so a migration is
 * never freed (reap) while another thread reads its counters or cancels it,
 * and two starts cannot both see "none running". Held only for short,
 * non-blocking steps (vmp_mig_wait() runs under it only once the migration is
 * done, or at exit after a cancel); the migration thread never takes it.
 */
static pthread_mutex_t mig_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vmp_mig *cur;
static bool reported;

static void
vcpu_pause(void *arg __rte_unused)
{
	vmp_guest_pause();
}

static void
vcpu_resume(void *arg __rte_unused)
{
	vmp_guest_resume();
}

static void
vcpu_throttle(void *arg __rte_unused, unsigned int pct)
{
	vmp_guest_throttle(pct);
}

/* Fill params from the config; lcores: [0] migration thread, then workers. */
static int
make_params(struct vmp_mig_params *p, struct vmp_mig_region *r,
	    unsigned int *lcores, const struct vmp_guest_config *g, char *err,
	    size_t errlen)
{
	unsigned int i;
	int lc;

	memset(p, 0, sizeof(*p));
	p->nb_regions = vmp_guest_mig_regions(r);
	if (p->nb_regions == 0) {
		snprintf(err, errlen, "no guest (--guest-mem)");
		return -ENODEV;
	}
	for (i = 0; i < 1 + g->workers; i++) {
		lc = vmp_guest_idle_lcore(lcores, i);
		if (lc < 0) {
			snprintf(err, errlen,
				 "need %u idle lcores (migration thread + %u "
				 "workers), found %u",
				 1 + g->workers, g->workers, i);
			return -EBUSY;
		}
		lcores[i] = (unsigned int)lc;
	}
	p->regions = r;
	p->comp = g->comp;
	p->level = g->level;
	p->model = g->model;
	p->nb_workers = g->workers;
	p->worker_lcores = lcores + 1;
	p->max_bandwidth = g->bandwidth;
	p->downtime_limit_ms = g->downtime_ms;
	p->max_rounds = g->max_rounds;
	p->timeout_ms = g->timeout_s * 1000;
	p->auto_converge = g->auto_converge;
	p->switchover_compressed = g->switchover_compressed;
	p->dirty = vmp_guest_dirty_ops();
	p->vcpu.pause = vcpu_pause;
	p->vcpu.resume = vcpu_resume;
	p->vcpu.throttle = vcpu_throttle;
	return 0;
}

static int
reap(void)
{
	if (cur == NULL)
		return 0;
	if (!vmp_mig_done(cur))
		return -EBUSY;
	vmp_mig_wait(cur);
	vmp_mig_free(cur);
	cur = NULL;
	return 0;
}

/*
 * "tcp:HOST:PORT" (port 1..65535) or "unix:/PATH": checked here so a typo is
 * refused at once with its text, not reported later as a failed migration.
 */
static int
uri_check(const char *uri, char *err, size_t errlen)
{
	const char *colon;
	char *end;
	unsigned long port;

	if (strncmp(uri, "unix:", 5) == 0 && uri[5] == '/' &&
	    strlen(uri + 5) < 108) /* sun_path */
		return 0;
	if (strncmp(uri, "tcp:", 4) == 0) {
		colon = strrchr(uri + 4, ':');
		if (colon != NULL && colon > uri + 4 && colon[1] != '\0') {
			port = strtoul(colon + 1, &end, 10);
			if (*end == '\0' && port >= 1 && port <= 65535)
				return 0;
		}
	}
	snprintf(err, errlen, "uri '%.128s' is not tcp:HOST:PORT or unix:/PATH",
		 uri);
	return -EINVAL;
}

static int
start_locked(const char *uri, const struct vmp_guest_config *g, char *err,
	     size_t errlen)
{
	struct vmp_mig_region r[VMP_MIG_MAX_REGIONS];
	unsigned int lcores[1 + VMP_MIG_MAX_WORKERS];
	struct vmp_mig_params p;
	struct vmp_mig *m;
	int rc;

	if (vmp_app.cfg.guest.listen[0]) {
		snprintf(err, errlen, "this vmpath is a destination");
		return -EINVAL;
	}
	if (reap() < 0) {
		snprintf(err, errlen, "a migration is running");
		return -EBUSY;
	}
	rc = uri_check(uri, err, errlen);
	if (rc < 0)
		return rc;
	rc = make_params(&p, r, lcores, g, err, errlen);
	if (rc < 0)
		return rc;
	p.name = "source";
	m = vmp_mig_source_create(&p);
	if (m == NULL) {
		snprintf(err, errlen, "cannot create: %s",
			 rte_strerror(rte_errno));
		return -rte_errno;
	}
	reported = false;
	rc = vmp_mig_launch(m, uri, lcores[0]);
	if (rc < 0) {
		snprintf(err, errlen, "cannot launch: %s", strerror(-rc));
		vmp_mig_free(m);
		return rc;
	}
	cur = m;
	return 0;
}

int
vmp_migapp_start_cfg(const char *uri, const struct vmp_guest_config *g,
		     char *err, size_t errlen)
{
	int rc;

	pthread_mutex_lock(&mig_lock);
	rc = start_locked(uri, g, err, errlen);
	pthread_mutex_unlock(&mig_lock);
	return rc;
}

int
vmp_migapp_start(const char *uri, char *err, size_t errlen)
{
	return vmp_migapp_start_cfg(uri, &vmp_app.cfg.guest, err, errlen);
}

int
vmp_migapp_cancel(void)
{
	int rc;

	pthread_mutex_lock(&mig_lock);
	rc = cur ? vmp_mig_cancel(cur) : -ENOENT;
	pthread_mutex_unlock(&mig_lock);
	return rc;
}

int
vmp_migapp_stats(struct vmp_mig_stats *st)
{
	int rc;

	pthread_mutex_lock(&mig_lock);
	rc = cur ? vmp_mig_stats_get(cur, st) : -ENOENT;
	pthread_mutex_unlock(&mig_lock);
	return rc;
}

/*
 * The engine pauses and resumes the guest's vCPUs itself (switchover, a
 * failed or cancelled run): a pause or resume from outside while it runs
 * would undo its own and let writes go unlogged, so it is refused then. Under
 * the lock, no migration starts between the check and the change.
 */
int
vmp_migapp_guest_pause(bool pause)
{
	int rc = 0;

	pthread_mutex_lock(&mig_lock);
	if (cur != NULL && !vmp_mig_done(cur))
		rc = -EBUSY;
	else if (pause)
		vmp_guest_pause();
	else
		vmp_guest_resume();
	pthread_mutex_unlock(&mig_lock);
	return rc;
}

static int
start_dest(char *err, size_t errlen)
{
	struct vmp_mig_region r[VMP_MIG_MAX_REGIONS];
	unsigned int lcores[1 + VMP_MIG_MAX_WORKERS];
	struct vmp_mig_params p;
	int rc;

	rc = make_params(&p, r, lcores, &vmp_app.cfg.guest, err, errlen);
	if (rc < 0)
		return rc;
	p.name = "dest";
	cur = vmp_mig_dest_create(&p);
	if (cur == NULL) {
		snprintf(err, errlen, "cannot create: %s",
			 rte_strerror(rte_errno));
		return -rte_errno;
	}
	rc = vmp_mig_listen(cur, vmp_app.cfg.guest.listen);
	if (rc == 0)
		rc = vmp_mig_launch(cur, NULL, lcores[0]);
	if (rc < 0) {
		snprintf(err, errlen, "cannot listen: %s", strerror(-rc));
		vmp_mig_free(cur);
		cur = NULL;
		return rc;
	}
	/* scripts wait for this line */
	VMP_LOG(INFO, "vmpath: waiting for a migration on %s",
		vmp_app.cfg.guest.listen);
	return 0;
}

/* Every second: progress while running; the final report once. */
static void
monitor(void *arg __rte_unused)
{
	struct vmp_mig_stats st;
	char line[256];

	pthread_mutex_lock(&mig_lock);
	if (cur != NULL && vmp_mig_stats_get(cur, &st) == 0) {
		if (vmp_mig_done(cur)) {
			if (!reported) {
				reported = true;
				VMP_LOG(INFO, "vmpath: migration %s",
					vmp_mig_status_name(st.status));
				vmp_mig_stats_print(stdout, &st);
				fflush(stdout);
				if (st.source &&
				    st.status == VMP_MIG_ST_COMPLETED)
					VMP_LOG(INFO,
						"vmpath: guest stays paused on "
						"the source (migrated)");
				if (vmp_app.cfg.guest.exit_when_done) {
					vmp_app.quit = true;
					vmp_prompt_stop();
				}
			}
		} else if (st.status != VMP_MIG_ST_NONE &&
			   st.status != VMP_MIG_ST_SETUP) {
			vmp_mig_progress_line(&st, line, sizeof(line));
			printf("%s\n", line);
			fflush(stdout);
		}
	}
	if (!vmp_app.quit)
		rte_eal_alarm_set(cur && !reported ? 200000 : 1000000, monitor,
				  NULL);
	pthread_mutex_unlock(&mig_lock);
}

/* ---- telemetry ---- */

static int
tel_info(const char *c __rte_unused, const char *params __rte_unused,
	 struct rte_tel_data *d)
{
	struct vmp_mig_stats st;
	unsigned int i;

	rte_tel_data_start_dict(d);
	if (vmp_migapp_stats(&st) < 0) {
		rte_tel_data_add_dict_string(d, "status", "none");
		return 0;
	}
	rte_tel_data_add_dict_string(d, "status",
				     vmp_mig_status_name(st.status));
	rte_tel_data_add_dict_string(d, "error", st.error);
	rte_tel_data_add_dict_u64(d, "total_time_ms", st.total_time_ms);
	rte_tel_data_add_dict_u64(d, "setup_time_ms", st.setup_time_ms);
	rte_tel_data_add_dict_u64(d, "expected_downtime_ms",
				  st.expected_downtime_ms);
	rte_tel_data_add_dict_u64(d, "downtime_ms", st.downtime_ms);
	rte_tel_data_add_dict_u64(d, "transferred", st.transferred);
	rte_tel_data_add_dict_int(d, "throughput_mbps",
				  (int)st.throughput_mbps);
	rte_tel_data_add_dict_u64(d, "remaining", st.remaining);
	rte_tel_data_add_dict_u64(d, "total", st.total);
	rte_tel_data_add_dict_u64(d, "duplicate", st.duplicate);
	rte_tel_data_add_dict_u64(d, "normal", st.normal);
	rte_tel_data_add_dict_u64(d, "normal_bytes", st.normal_bytes);
	rte_tel_data_add_dict_u64(d, "dirty_sync_count", st.dirty_sync_count);
	rte_tel_data_add_dict_u64(d, "dirty_pages_rate", st.dirty_pages_rate);
	rte_tel_data_add_dict_u64(d, "pinned_pages", st.pinned_pages);
	rte_tel_data_add_dict_u64(d, "compression_pages", st.compression_pages);
	rte_tel_data_add_dict_u64(d, "compression_busy", st.compression_busy);
	rte_tel_data_add_dict_int(d, "compression_busy_rate_pct",
				  (int)(st.compression_busy_rate * 100));
	rte_tel_data_add_dict_u64(d, "compressed_size", st.compressed_size);
	rte_tel_data_add_dict_int(d, "compression_rate_x100",
				  (int)(st.compression_rate * 100));
	for (i = 0; i < st.nb_workers && i < VMP_MIG_MAX_WORKERS; i++) {
		char k[32];

		snprintf(k, sizeof(k), "worker%u_busy_pct", i);
		rte_tel_data_add_dict_int(d, k, (int)st.worker_busy_pct[i]);
	}
	return 0;
}

static int
tel_start(const char *c __rte_unused, const char *params,
	  struct rte_tel_data *d)
{
	char err[256];
	int rc;

	rte_tel_data_start_dict(d);
	if (params == NULL || *params == '\0')
		return -EINVAL;
	rc = vmp_migapp_start(params, err, sizeof(err));
	rte_tel_data_add_dict_string(d, "result", rc == 0 ? "started" : err);
	return 0;
}

static int
tel_cancel(const char *c __rte_unused, const char *params __rte_unused,
	   struct rte_tel_data *d)
{
	int rc = vmp_migapp_cancel();

	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "result",
				     rc == 0 ? "cancelling" : strerror(-rc));
	return 0;
}

static int
tel_guest(const char *c __rte_unused, const char *params __rte_unused,
	  struct rte_tel_data *d)
{
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "mem", vmp_app.cfg.guest.mem);
	rte_tel_data_add_dict_int(d, "writers", (int)vmp_app.cfg.guest.writers);
	rte_tel_data_add_dict_int(d, "paused", vmp_guest_paused());
	return 0;
}

int
vmp_migapp_init(void)
{
	const struct vmp_guest_config *g = &vmp_app.cfg.guest;
	char err[256];
	int rc;

	rte_telemetry_register_cmd("/vmpath/migrate/info", tel_info,
				   "Migration status and counters");
	rte_telemetry_register_cmd("/vmpath/migrate/start", tel_start,
				   "Start migrating the guest. Param: URI");
	rte_telemetry_register_cmd("/vmpath/migrate/cancel", tel_cancel,
				   "Cancel the migration");
	rte_telemetry_register_cmd("/vmpath/guest/info", tel_guest,
				   "Synthetic guest: memory, writers, paused");
	if (g->listen[0]) {
		pthread_mutex_lock(&mig_lock);
		rc = start_dest(err, sizeof(err));
		pthread_mutex_unlock(&mig_lock);
		if (rc < 0) {
			VMP_LOG(ERR, "vmpath: --migrate-listen: %s", err);
			return rc;
		}
	} else if (g->to[0]) {
		if (g->delay_ms)
			rte_delay_us_sleep(g->delay_ms * 1000ull);
		rc = vmp_migapp_start(g->to, err, sizeof(err));
		if (rc < 0) {
			VMP_LOG(ERR, "vmpath: --migrate-to: %s", err);
			return rc;
		}
	}
	rte_eal_alarm_set(200000, monitor, NULL);
	return 0;
}

void
vmp_migapp_fini(void)
{
	/* returns once a running monitor() is done: it takes the lock */
	rte_eal_alarm_cancel(monitor, NULL);
	pthread_mutex_lock(&mig_lock);
	if (cur != NULL) {
		vmp_mig_cancel(cur);
		vmp_mig_wait(cur);
		vmp_mig_free(cur);
		cur = NULL;
	}
	pthread_mutex_unlock(&mig_lock);
}

/* ---- prompt commands ---- */

struct cmd_w1 {
	cmdline_fixed_string_t a;
};
struct cmd_w2 {
	cmdline_fixed_string_t a;
	cmdline_fixed_string_t b;
};
struct cmd_w3 {
	cmdline_fixed_string_t a;
	cmdline_fixed_string_t b;
	cmdline_fixed_string_t c;
};
struct cmd_pin {
	cmdline_fixed_string_t a;
	cmdline_fixed_string_t b;
	uint64_t off;
	uint64_t len;
};

/* `migrate URI` and `migrate cancel` are one instance: two would be
 * ambiguous to the cmdline library (a free-form token matches "cancel"). */
static void
cmd_migrate_parsed(void *res, struct cmdline *cl, void *data __rte_unused)
{
	struct cmd_w2 *r = res;
	char err[256];
	int rc;

	if (strcmp(r->b, "cancel") == 0) {
		rc = vmp_migapp_cancel();
		cmdline_printf(cl, "migrate cancel: %s\n",
			       rc == 0 ? "cancelling" : strerror(-rc));
		return;
	}
	if (vmp_migapp_start(r->b, err, sizeof(err)) < 0)
		cmdline_printf(cl, "migrate: %s\n", err);
	else
		cmdline_printf(cl, "migrate: started to %s\n", r->b);
}

static cmdline_parse_token_string_t t_migrate =
	TOKEN_STRING_INITIALIZER(struct cmd_w2, a, "migrate");
static cmdline_parse_token_string_t t_any2 =
	TOKEN_STRING_INITIALIZER(struct cmd_w2, b, NULL);
static cmdline_parse_inst_t cmd_migrate = {
	.f = cmd_migrate_parsed,
	.help_str = "migrate tcp:HOST:PORT|unix:PATH|cancel: migrate the "
		    "guest, or cancel (the source keeps running)",
	.tokens = {(void *)&t_migrate, (void *)&t_any2, NULL},
};

static void
cmd_info_parsed(void *res __rte_unused, struct cmdline *cl __rte_unused,
		void *data __rte_unused)
{
	struct vmp_mig_stats st;

	if (vmp_migapp_stats(&st) < 0) {
		printf("Migration status: none\n");
	} else {
		vmp_mig_stats_print(stdout, &st);
	}
	fflush(stdout);
}

static cmdline_parse_token_string_t t_info =
	TOKEN_STRING_INITIALIZER(struct cmd_w2, a, "info");
static cmdline_parse_token_string_t t_info_mig =
	TOKEN_STRING_INITIALIZER(struct cmd_w2, b, "migrate");
static cmdline_parse_inst_t cmd_info = {
	.f = cmd_info_parsed,
	.help_str = "info migrate: migration status and counters",
	.tokens = {(void *)&t_info, (void *)&t_info_mig, NULL},
};

static void
cmd_guest_parsed(void *res, struct cmdline *cl, void *data __rte_unused)
{
	struct cmd_w2 *r = res;

	if (strcmp(r->b, "info") != 0 &&
	    vmp_migapp_guest_pause(strcmp(r->b, "pause") == 0) < 0)
		printf("guest %s: refused, a migration is running\n", r->b);
	vmp_guest_info(stdout);
	fflush(stdout);
	RTE_SET_USED(cl);
}

static cmdline_parse_token_string_t t_guest =
	TOKEN_STRING_INITIALIZER(struct cmd_w2, a, "guest");
static cmdline_parse_token_string_t t_guest_verb =
	TOKEN_STRING_INITIALIZER(struct cmd_w2, b, "info#pause#resume");
static cmdline_parse_inst_t cmd_guest = {
	.f = cmd_guest_parsed,
	.help_str = "guest info|pause|resume: the synthetic guest",
	.tokens = {(void *)&t_guest, (void *)&t_guest_verb, NULL},
};

static void
cmd_dump_parsed(void *res, struct cmdline *cl, void *data __rte_unused)
{
	struct cmd_w3 *r = res;
	int rc = vmp_guest_dump(r->c);

	cmdline_printf(cl, "guest dump %s: %s\n", r->c,
		       rc == 0 ? "ok" : strerror(-rc));
}

static cmdline_parse_token_string_t t_guest3 =
	TOKEN_STRING_INITIALIZER(struct cmd_w3, a, "guest");
static cmdline_parse_token_string_t t_dump =
	TOKEN_STRING_INITIALIZER(struct cmd_w3, b, "dump");
static cmdline_parse_token_string_t t_path =
	TOKEN_STRING_INITIALIZER(struct cmd_w3, c, NULL);
static cmdline_parse_inst_t cmd_dump = {
	.f = cmd_dump_parsed,
	.help_str = "guest dump PATH: write guest memory to PATH",
	.tokens = {(void *)&t_guest3, (void *)&t_dump, (void *)&t_path, NULL},
};

static void
cmd_pin_parsed(void *res, struct cmdline *cl, void *data __rte_unused)
{
	struct cmd_pin *r = res;
	int rc = strcmp(r->b, "pin") == 0 ? vmp_guest_pin(r->off, r->len)
					  : vmp_guest_unpin(r->off, r->len);

	cmdline_printf(cl, "guest %s: %s\n", r->b,
		       rc == 0 ? "ok" : strerror(-rc));
}

static cmdline_parse_token_string_t t_guestp =
	TOKEN_STRING_INITIALIZER(struct cmd_pin, a, "guest");
static cmdline_parse_token_string_t t_pin =
	TOKEN_STRING_INITIALIZER(struct cmd_pin, b, "pin#unpin");
static cmdline_parse_token_num_t t_off =
	TOKEN_NUM_INITIALIZER(struct cmd_pin, off, RTE_UINT64);
static cmdline_parse_token_num_t t_len =
	TOKEN_NUM_INITIALIZER(struct cmd_pin, len, RTE_UINT64);
static cmdline_parse_inst_t cmd_pin = {
	.f = cmd_pin_parsed,
	.help_str = "guest pin|unpin OFF LEN: pin guest pages (DMA in flight)",
	.tokens = {(void *)&t_guestp, (void *)&t_pin, (void *)&t_off,
		   (void *)&t_len, NULL},
};

cmdline_parse_inst_t *vmp_cmds_migrate[] = {
	&cmd_migrate, &cmd_info, &cmd_guest, &cmd_dump, &cmd_pin, NULL,
};
