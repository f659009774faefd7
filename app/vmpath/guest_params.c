/* SPDX-License-Identifier: BSD-3-Clause */
/* The --guest-* and --migrate-* options (params.c's table points here). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmp_migrate.h>

#include "guest.h"

void
vmp_guest_defaults(struct vmp_guest_config *g)
{
	memset(g, 0, sizeof(*g));
	g->comp = VMP_MIG_COMP_ZLIB;
	g->level = 1;
	g->model = VMP_MIG_MODEL_LOCKLESS;
	g->workers = 1;
	g->downtime_ms = VMP_MIG_DOWNTIME_DEFAULT_MS;
	g->max_rounds = VMP_MIG_MAX_ROUNDS_DEFAULT;
}

void
vmp_guest_usage(void)
{
	printf("Synthetic guest and live migration:\n"
	       "  --guest-mem SIZE         guest memory (K/M/G suffix, 0: no "
	       "guest)\n"
	       "  --guest-writers N        vCPU writer lcores (default 0)\n"
	       "  --guest-rate N           pages/s dirtied per writer (0: as "
	       "fast as it can)\n"
	       "  --guest-hugepages        back the guest with 2 MiB "
	       "hugepages\n"
	       "  --guest-dump PATH        write guest memory to PATH at exit\n"
	       "  --migrate-listen URI     be a destination: tcp:HOST:PORT or "
	       "unix:PATH\n"
	       "  --migrate-to URI         migrate the guest to URI at start\n"
	       "  --migrate-delay MS       wait MS before --migrate-to "
	       "(default "
	       "0)\n"
	       "  --migrate-workers N      (de)compression worker lcores "
	       "(default 1)\n"
	       "  --migrate-comp M         none | zlib (default zlib)\n"
	       "  --migrate-level N        zlib level 1..9 (default 1)\n"
	       "  --migrate-model M        lockless | locked worker model\n"
	       "  --migrate-downtime MS    downtime limit (default 300)\n"
	       "  --migrate-bandwidth MB   cap in MB/s (default: none)\n"
	       "  --migrate-max-rounds N   forced switchover after N rounds "
	       "(default 30)\n"
	       "  --migrate-timeout S      fail after S seconds (default: "
	       "none)\n"
	       "  --migrate-auto-converge  throttle writers that outrun the "
	       "migration\n"
	       "  --migrate-switchover S   auto (last set raw when the probed "
	       "raw path\n"
	       "                           is faster; default) | compressed\n"
	       "  --migrate-exit           exit when the migration ends\n");
}

static int
num(const char *opt, const char *v, uint64_t max, uint64_t *out, bool size,
    char *err, size_t errlen)
{
	char *end;
	unsigned long long x;

	if (v == NULL || *v < '0' || *v > '9')
		goto bad;
	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno != 0)
		goto bad;
	if (size && *end != '\0' && end[1] == '\0') {
		switch (*end) {
		case 'k':
		case 'K':
			x <<= 10;
			end++;
			break;
		case 'm':
		case 'M':
			x <<= 20;
			end++;
			break;
		case 'g':
		case 'G':
			x <<= 30;
			end++;
			break;
		default:
			break;
		}
	}
	if (*end != '\0')
		goto bad;
	if (x > max) {
		snprintf(err, errlen, "%s: %llu is out of range [0, %llu]", opt,
			 x, (unsigned long long)max);
		return -EINVAL;
	}
	*out = x;
	return 0;
bad:
	snprintf(err, errlen, "%s: '%s' is not a number", opt, v ? v : "");
	return -EINVAL;
}

static int
str(const char *opt, const char *v, char *dst, size_t n, char *err,
    size_t errlen)
{
	if (v == NULL || *v == '\0' || strlen(v) >= n) {
		snprintf(err, errlen, "%s: '%s' is empty or too long", opt,
			 v ? v : "");
		return -EINVAL;
	}
	snprintf(dst, n, "%s", v);
	return 0;
}

int
vmp_guest_parse_opt(struct vmp_guest_config *g, int which, const char *arg,
		    char *err, size_t errlen)
{
	uint64_t v = 0;
	int rc = 0;

	switch (which) {
	case VMP_GOPT_MEM:
		rc = num("--guest-mem", arg, 64ull << 30, &v, true, err,
			 errlen);
		if (rc == 0 && v % (2 << 20) != 0) {
			snprintf(err, errlen,
				 "--guest-mem: %s is not a multiple of 2M",
				 arg);
			rc = -EINVAL;
		}
		g->mem = v;
		break;
	case VMP_GOPT_WRITERS:
		rc = num("--guest-writers", arg, 16, &v, false, err, errlen);
		g->writers = (unsigned int)v;
		break;
	case VMP_GOPT_RATE:
		rc = num("--guest-rate", arg, 100000000, &v, true, err, errlen);
		g->rate = v;
		break;
	case VMP_GOPT_HUGEPAGES:
		g->hugepages = true;
		break;
	case VMP_GOPT_DUMP:
		rc = str("--guest-dump", arg, g->dump, sizeof(g->dump), err,
			 errlen);
		break;
	case VMP_GOPT_LISTEN:
		rc = str("--migrate-listen", arg, g->listen, sizeof(g->listen),
			 err, errlen);
		break;
	case VMP_GOPT_TO:
		rc = str("--migrate-to", arg, g->to, sizeof(g->to), err,
			 errlen);
		break;
	case VMP_GOPT_DELAY:
		rc = num("--migrate-delay", arg, 3600000, &v, false, err,
			 errlen);
		g->delay_ms = (unsigned int)v;
		break;
	case VMP_GOPT_WORKERS:
		rc = num("--migrate-workers", arg, VMP_MIG_MAX_WORKERS, &v,
			 false, err, errlen);
		g->workers = (unsigned int)v;
		break;
	case VMP_GOPT_COMP:
		if (arg && strcmp(arg, "none") == 0) {
			g->comp = VMP_MIG_COMP_NONE;
		} else if (arg && strcmp(arg, "zlib") == 0) {
			g->comp = VMP_MIG_COMP_ZLIB;
		} else {
			snprintf(err, errlen,
				 "--migrate-comp: '%s' is not none or zlib",
				 arg ? arg : "");
			rc = -EINVAL;
		}
		break;
	case VMP_GOPT_LEVEL:
		rc = num("--migrate-level", arg, 9, &v, false, err, errlen);
		if (rc == 0 && v == 0) {
			snprintf(err, errlen,
				 "--migrate-level: 0 is out of "
				 "range [1, 9]");
			rc = -EINVAL;
		}
		g->level = (int)v;
		break;
	case VMP_GOPT_MODEL:
		if (arg && strcmp(arg, "lockless") == 0) {
			g->model = VMP_MIG_MODEL_LOCKLESS;
		} else if (arg && strcmp(arg, "locked") == 0) {
			g->model = VMP_MIG_MODEL_LOCKED;
		} else {
			snprintf(err, errlen,
				 "--migrate-model: '%s' is not lockless or "
				 "locked",
				 arg ? arg : "");
			rc = -EINVAL;
		}
		break;
	case VMP_GOPT_DOWNTIME:
		rc = num("--migrate-downtime", arg, 600000, &v, false, err,
			 errlen);
		g->downtime_ms = (unsigned int)v;
		break;
	case VMP_GOPT_BANDWIDTH:
		rc = num("--migrate-bandwidth", arg, 1000000, &v, false, err,
			 errlen);
		g->bandwidth = v * 1000000;
		break;
	case VMP_GOPT_MAX_ROUNDS:
		rc = num("--migrate-max-rounds", arg, 100000, &v, false, err,
			 errlen);
		g->max_rounds = (unsigned int)v;
		break;
	case VMP_GOPT_TIMEOUT:
		rc = num("--migrate-timeout", arg, 86400, &v, false, err,
			 errlen);
		g->timeout_s = (unsigned int)v;
		break;
	case VMP_GOPT_AUTO_CONVERGE:
		g->auto_converge = true;
		break;
	case VMP_GOPT_SWITCHOVER:
		if (strcmp(arg, "auto") == 0) {
			g->switchover_compressed = false;
		} else if (strcmp(arg, "compressed") == 0) {
			g->switchover_compressed = true;
		} else {
			snprintf(
				err, errlen,
				"--migrate-switchover '%s': auto or compressed",
				arg);
			rc = -EINVAL;
		}
		break;
	case VMP_GOPT_EXIT:
		g->exit_when_done = true;
		break;
	default:
		snprintf(err, errlen, "unknown guest option %d", which);
		rc = -EINVAL;
	}
	return rc;
}

int
vmp_guest_check(const struct vmp_guest_config *g, char *err, size_t errlen)
{
	if ((g->listen[0] || g->to[0] || g->writers || g->dump[0]) &&
	    g->mem == 0) {
		snprintf(err, errlen,
			 "--guest-writers, --guest-dump and "
			 "--migrate-* need --guest-mem");
		return -EINVAL;
	}
	if (g->listen[0] && g->to[0]) {
		snprintf(
			err, errlen,
			"--migrate-listen and --migrate-to exclude each other");
		return -EINVAL;
	}
	return 0;
}
