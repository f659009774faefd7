/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmp_config.h>

#include "params.h"

enum {
	OPT_HELP = 'h',
	OPT_INTERACTIVE = 'i',
	OPT_LONG_MIN = 256,
	OPT_STATS_PERIOD,
	OPT_RUN_TIME,
	OPT_DATAPATH_LCORES,
	OPT_DMA_LCORES,
	OPT_POOL_WORKERS,
	OPT_SOCKET,
	OPT_STRICT_SOCKET,
	/* --guest-* / --migrate-*: parsed by guest_params.c */
	OPT_GUEST_FIRST,
	OPT_GUEST_LAST = OPT_GUEST_FIRST + VMP_GOPT_COUNT - 1,
};

/* Leading ':': a missing value is reported as ':' rather than '?'. */
static const char short_opts[] = ":hi";
static const struct option long_opts[] = {
	{ "help", no_argument, NULL, OPT_HELP },
	{ "interactive", no_argument, NULL, OPT_INTERACTIVE },
	{ "stats-period", required_argument, NULL, OPT_STATS_PERIOD },
	{ "run-time", required_argument, NULL, OPT_RUN_TIME },
	{ "datapath-lcores", required_argument, NULL, OPT_DATAPATH_LCORES },
	{ "dma-lcores", required_argument, NULL, OPT_DMA_LCORES },
	{ "pool-workers", required_argument, NULL, OPT_POOL_WORKERS },
	{ "socket", required_argument, NULL, OPT_SOCKET },
	{ "strict-socket", no_argument, NULL, OPT_STRICT_SOCKET },
	{ "guest-mem", required_argument, NULL, OPT_GUEST_FIRST + VMP_GOPT_MEM },
	{ "guest-writers", required_argument, NULL,
	  OPT_GUEST_FIRST + VMP_GOPT_WRITERS },
	{ "guest-rate", required_argument, NULL, OPT_GUEST_FIRST + VMP_GOPT_RATE },
	{ "guest-hugepages", no_argument, NULL,
	  OPT_GUEST_FIRST + VMP_GOPT_HUGEPAGES },
	{ "guest-dump", required_argument, NULL, OPT_GUEST_FIRST + VMP_GOPT_DUMP },
	{ "migrate-listen", required_argument, NULL,
	  OPT_GUEST_FIRST + VMP_GOPT_LISTEN },
	{ "migrate-to", required_argument, NULL, OPT_GUEST_FIRST + VMP_GOPT_TO },
	{ "migrate-delay", required_argument, NULL,
	  OPT_GUEST_FIRST + VMP_GOPT_DELAY },
	{ "migrate-workers", required_argument, NULL,
	  OPT_GUEST_FIRST + VMP_GOPT_WORKERS },
	{ "migrate-comp", required_argument, NULL,
	  OPT_GUEST_FIRST + VMP_GOPT_COMP },
	{ "migrate-level", required_argument, NULL,
	  OPT_GUEST_FIRST + VMP_GOPT_LEVEL },
	{ "migrate-model", required_argument, NULL,
	  OPT_GUEST_FIRST + VMP_GOPT_MODEL },
	{ "migrate-downtime", required_argument, NULL,
	  OPT_GUEST_FIRST + VMP_GOPT_DOWNTIME },
	{ "migrate-bandwidth", required_argument, NULL,
	  OPT_GUEST_FIRST + VMP_GOPT_BANDWIDTH },
	{ "migrate-max-rounds", required_argument, NULL,
	  OPT_GUEST_FIRST + VMP_GOPT_MAX_ROUNDS },
	{ "migrate-timeout", required_argument, NULL,
	  OPT_GUEST_FIRST + VMP_GOPT_TIMEOUT },
	{ "migrate-auto-converge", no_argument, NULL,
	  OPT_GUEST_FIRST + VMP_GOPT_AUTO_CONVERGE },
	{ "migrate-exit", no_argument, NULL, OPT_GUEST_FIRST + VMP_GOPT_EXIT },
	{ NULL, 0, NULL, 0 },
};

void
vmp_params_defaults(struct vmp_app_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->nb_datapath = 1;
	cfg->socket = -1;
	vmp_guest_defaults(&cfg->guest);
}

void
vmp_params_usage(const char *prgname)
{
	printf("Usage: %s [EAL options] -- [vmpath options]\n"
	       "\n"
	       "  -h, --help               print this help and exit\n"
	       "  -i, --interactive        run the vmpath> prompt\n"
	       "  --stats-period N         print statistics every N seconds "
	       "(0: off, default)\n"
	       "  --run-time N             exit cleanly after N seconds "
	       "(0: run until quit/SIGINT, default)\n"
	       "  --datapath-lcores N      worker lcores for the datapath "
	       "(default 1)\n"
	       "  --dma-lcores N           worker lcores for DMA service "
	       "(default 0)\n"
	       "  --pool-workers N         worker lcores for the request pool "
	       "(default 0)\n"
	       "  --socket N               NUMA socket of the memory the roles "
	       "serve\n"
	       "                           (default: the main lcore's)\n"
	       "  --strict-socket          refuse to place a role on another "
	       "socket\n"
	       "\n",
	       prgname);
	vmp_guest_usage();
	printf("\nEAL options come first; see '%s --help' for them.\n",
	       prgname);
}

/* Strict unsigned parse: digits only, within [min, max]. */
static int
parse_uint(const char *opt, const char *val, unsigned long min,
	   unsigned long max, unsigned long *out, char *err, size_t errlen)
{
	char *end;
	unsigned long v;

	if (val == NULL || *val == '\0' || *val == '-' || *val == '+') {
		snprintf(err, errlen, "%s: '%s' is not a number", opt,
			 val ? val : "");
		return -EINVAL;
	}
	errno = 0;
	v = strtoul(val, &end, 10);
	if (errno != 0 || *end != '\0') {
		snprintf(err, errlen, "%s: '%s' is not a number", opt, val);
		return -EINVAL;
	}
	if (v < min || v > max) {
		snprintf(err, errlen, "%s: %lu is out of range [%lu, %lu]",
			 opt, v, min, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int
vmp_params_parse(int argc, char **argv, struct vmp_app_config *cfg,
		 char *err, size_t errlen)
{
	unsigned long v;
	int opt, rc;

	vmp_params_defaults(cfg);
	err[0] = '\0';
	opterr = 0; /* we name bad options ourselves */
	optind = 0; /* glibc: full re-initialisation, so tests can re-parse */

	while ((opt = getopt_long(argc, argv, short_opts, long_opts, NULL)) !=
	       -1) {
		rc = 0;
		v = 0;
		switch (opt) {
		case OPT_HELP:
			vmp_params_usage(argv[0]);
			return 1;
		case OPT_INTERACTIVE:
			cfg->interactive = true;
			break;
		case OPT_STATS_PERIOD:
			rc = parse_uint("--stats-period", optarg, 0, 3600, &v,
					err, errlen);
			cfg->stats_period = v;
			break;
		case OPT_RUN_TIME:
			rc = parse_uint("--run-time", optarg, 0, 86400 * 365,
					&v, err, errlen);
			cfg->run_time = v;
			break;
		case OPT_DATAPATH_LCORES:
			rc = parse_uint("--datapath-lcores", optarg, 0, 128,
					&v, err, errlen);
			cfg->nb_datapath = v;
			break;
		case OPT_DMA_LCORES:
			rc = parse_uint("--dma-lcores", optarg, 0, 128, &v,
					err, errlen);
			cfg->nb_dma = v;
			break;
		case OPT_POOL_WORKERS:
			rc = parse_uint("--pool-workers", optarg, 0, 128, &v,
					err, errlen);
			cfg->nb_pool = v;
			break;
		case OPT_SOCKET:
			rc = parse_uint("--socket", optarg, 0,
					VMP_MAX_SOCKETS - 1, &v, err,
					errlen);
			cfg->socket = (int)v;
			break;
		case OPT_STRICT_SOCKET:
			cfg->strict_socket = true;
			break;
		case OPT_GUEST_FIRST ... OPT_GUEST_LAST:
			rc = vmp_guest_parse_opt(&cfg->guest,
						 opt - OPT_GUEST_FIRST, optarg,
						 err, errlen);
			break;
		case ':':
			snprintf(err, errlen, "option '%s' needs a value",
				 argv[optind - 1]);
			return -EINVAL;
		case '?':
		default:
			/* optopt is the bad short option, or 0 for a bad long
			 * one, which getopt leaves at argv[optind - 1].
			 */
			if (optopt > ' ' && optopt < OPT_LONG_MIN)
				snprintf(err, errlen, "unknown option '-%c'",
					 optopt);
			else
				snprintf(err, errlen, "unknown option '%s'",
					 argv[optind - 1]);
			return -EINVAL;
		}
		if (rc < 0)
			return rc;
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s'",
			 argv[optind]);
		return -EINVAL;
	}
	return vmp_guest_check(&cfg->guest, err, errlen);
}
