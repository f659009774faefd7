/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>

#include <vmp_config.h>
#include <vmp_vnet.h>

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
	OPT_VHOST,
	OPT_DMA,
	OPT_DMA_THRESHOLD,
	OPT_MBUFS,
	OPT_GUESTS,
	OPT_GUEST_PKT_LEN,
	OPT_ETHDEV,
	OPT_IDLE,
	OPT_IDLE_POLLS,
	OPT_MAX_PORTS,
	OPT_CTL,
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
	{ "vhost", required_argument, NULL, OPT_VHOST },
	{ "dma", required_argument, NULL, OPT_DMA },
	{ "dma-threshold", required_argument, NULL, OPT_DMA_THRESHOLD },
	{ "mbufs", required_argument, NULL, OPT_MBUFS },
	{ "embedded-guests", required_argument, NULL, OPT_GUESTS },
	{ "guest-pkt-len", required_argument, NULL, OPT_GUEST_PKT_LEN },
	{ "ethdev", required_argument, NULL, OPT_ETHDEV },
	{ "idle", required_argument, NULL, OPT_IDLE },
	{ "idle-polls", required_argument, NULL, OPT_IDLE_POLLS },
	{ "max-ports", required_argument, NULL, OPT_MAX_PORTS },
	{ "ctl", required_argument, NULL, OPT_CTL },
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
	{ "migrate-switchover", required_argument, NULL,
	  OPT_GUEST_FIRST + VMP_GOPT_SWITCHOVER },
	{ "migrate-exit", no_argument, NULL, OPT_GUEST_FIRST + VMP_GOPT_EXIT },
	{ NULL, 0, NULL, 0 },
};

void
vmp_params_defaults(struct vmp_app_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->nb_datapath = 1;
	cfg->socket = -1;
	cfg->dma = VMP_DMA_NONE;
	cfg->dma_threshold = 256;
	cfg->nb_mbufs = 16383;
	cfg->guest_pkt_len = 64;
	cfg->idle_polls = 2000;
	cfg->max_ports = 64;
	strcpy(cfg->ctl_path, VMP_CTL_DEFAULT);
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
	       "  --vhost PATH[,client][,queues=N][,dma=none|sw|skeleton]"
	       "[,csum=on|off][,tso=on|off][,mtu=N]\n"
	       "                           a vhost-user port (repeatable, "
	       "up to 8): server\n"
	       "                           socket, or client that reconnects; "
	       "N queue pairs;\n"
	       "                           checksum / TCP segmentation "
	       "offloads offered to\n"
	       "                           the guest (default on; csum=off "
	       "turns tso off);\n"
	       "                           MTU 68..9000 (default 1500; "
	       "above needs mergeable\n"
	       "                           RX buffers in the guest)\n"
	       "  --dma none|sw|skeleton   DMA engine for async copies of "
	       "ports without dma=\n"
	       "                           (default none: CPU copies)\n"
	       "  --dma-threshold BYTES    copies from this size go to the "
	       "engine (default 256)\n"
	       "  --mbufs N                mbufs per pool, a pool per 8 port "
	       "ids (default 16383)\n"
	       "  --ethdev NAME[,ARGS]     a DPDK vdev port in the switch "
	       "(repeatable, up to 4):\n"
	       "                           net_tap0,iface=X  net_ring0  "
	       "net_af_packet0,iface=X\n"
	       "  --embedded-guests N      add N in-process net_virtio_user "
	       "guests (0-2) on the\n"
	       "                           first ports, sending to each other "
	       "from the main lcore\n"
	       "  --guest-pkt-len B        their packet size, 60-1518 "
	       "(default 64)\n"
	       "  --idle poll|halt         idle datapath lcores keep polling "
	       "(default), or\n"
	       "                           sleep until a guest kicks "
	       "(docs/vnet.md)\n"
	       "  --idle-polls N           empty loops before a halt, "
	       "1-10000000 (default 2000)\n"
	       "  --max-ports N            ports at once, startup and run "
	       "time, 1-4096 (default 64)\n"
	       "  --ctl PATH|none          control socket, JSON-RPC "
	       "(docs/control.md; default\n"
	       "                           " VMP_CTL_DEFAULT ", skipped "
	       "if another vmpath serves it)\n"
	       "\n",
	       prgname);
	vmp_guest_usage();
	printf("\nEAL options come first; see '%s --help' for them.\n",
	       prgname);
}

int
vmp_params_parse_dma(const char *val, enum vmp_dma_kind *kind)
{
	if (strcmp(val, "none") == 0)
		*kind = VMP_DMA_NONE;
	else if (strcmp(val, "sw") == 0)
		*kind = VMP_DMA_SW;
	else if (strcmp(val, "skeleton") == 0)
		*kind = VMP_DMA_SKELETON;
	else
		return -EINVAL;
	return 0;
}

/* "key=on" / "key=off" into *@v; -EINVAL for anything else. */
static int
parse_on_off(const char *tok, size_t klen, bool *v)
{
	if (strcmp(tok + klen, "on") == 0)
		*v = true;
	else if (strcmp(tok + klen, "off") == 0)
		*v = false;
	else
		return -EINVAL;
	return 0;
}

int
vmp_params_parse_vhost(const char *val, struct vmp_vhost_spec *spec,
		       char *err, size_t errlen)
{
	char buf[512], *save = NULL, *tok;
	bool csum_off = false, tso_on = false;

	memset(spec, 0, sizeof(*spec));
	spec->queues = 1;
	spec->dma = VMP_DMA_DEFAULT;
	/* offloads on unless turned off: every destination gets a frame in a
	 * form it agreed to (vmp_vnet_offload_finish()) */
	spec->csum = true;
	spec->tso = true;
	if (val == NULL || strlen(val) >= sizeof(buf)) {
		snprintf(err, errlen, "--vhost: value too long");
		return -EINVAL;
	}
	strcpy(buf, val);
	tok = strtok_r(buf, ",", &save);
	if (tok == NULL || *tok == '\0' || strlen(tok) >= sizeof(spec->path) ||
	    strchr(tok, '=') != NULL) {
		snprintf(err, errlen, "--vhost: '%s' does not start with a "
			 "socket path", val);
		return -EINVAL;
	}
	strcpy(spec->path, tok);
	while ((tok = strtok_r(NULL, ",", &save)) != NULL) {
		char *end;
		unsigned long q;

		if (strcmp(tok, "client") == 0) {
			spec->client = true;
		} else if (strncmp(tok, "queues=", 7) == 0) {
			errno = 0;
			q = strtoul(tok + 7, &end, 10);
			if (errno || *end || tok[7] == '\0' || q < 1 || q > 8) {
				snprintf(err, errlen, "--vhost: '%s': queues "
					 "must be 1..8", tok);
				return -EINVAL;
			}
			spec->queues = (unsigned int)q;
		} else if (strncmp(tok, "dma=", 4) == 0) {
			if (vmp_params_parse_dma(tok + 4, &spec->dma) < 0) {
				snprintf(err, errlen, "--vhost: '%s': dma must "
					 "be none, sw or skeleton", tok);
				return -EINVAL;
			}
		} else if (strncmp(tok, "mtu=", 4) == 0) {
			errno = 0;
			q = strtoul(tok + 4, &end, 10);
			if (errno || *end || tok[4] < '0' || tok[4] > '9' ||
			    q < VMP_VNET_MTU_MIN || q > VMP_VNET_MTU_MAX) {
				snprintf(err, errlen,
					 "--vhost: '%s': mtu must be %u..%u",
					 tok, VMP_VNET_MTU_MIN,
					 VMP_VNET_MTU_MAX);
				return -EINVAL;
			}
			spec->mtu = (unsigned int)q;
		} else if (strncmp(tok, "csum=", 5) == 0 ||
			   strncmp(tok, "tso=", 4) == 0) {
			bool csum = tok[0] == 'c';

			if (parse_on_off(tok, csum ? 5 : 4,
					 csum ? &spec->csum : &spec->tso) < 0) {
				snprintf(err, errlen,
					 "--vhost: '%s': must be on or off",
					 tok);
				return -EINVAL;
			}
			if (csum)
				csum_off = !spec->csum;
			else
				tso_on = spec->tso;
		} else {
			snprintf(err, errlen, "--vhost: unknown key '%s'", tok);
			return -EINVAL;
		}
	}
	if (tso_on && csum_off) {
		snprintf(err, errlen,
			 "--vhost: '%s': tso=on needs csum (not csum=off)",
			 val);
		return -EINVAL;
	}
	spec->tso &= !csum_off; /* csum=off turns the default tso off */
	return 0;
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
		case OPT_VHOST:
			if (cfg->nb_vhost == VMP_MAX_VHOST) {
				snprintf(err, errlen, "--vhost: at most %d "
					 "ports", VMP_MAX_VHOST);
				return -EINVAL;
			}
			rc = vmp_params_parse_vhost(
				optarg, &cfg->vhost[cfg->nb_vhost], err,
				errlen);
			if (rc == 0)
				cfg->nb_vhost++;
			break;
		case OPT_DMA:
			if (vmp_params_parse_dma(optarg, &cfg->dma) < 0) {
				snprintf(err, errlen, "--dma: '%s' is not "
					 "none, sw or skeleton", optarg);
				return -EINVAL;
			}
			break;
		case OPT_DMA_THRESHOLD:
			rc = parse_uint("--dma-threshold", optarg, 1, 65536,
					&v, err, errlen);
			cfg->dma_threshold = v;
			break;
		case OPT_MBUFS:
			rc = parse_uint("--mbufs", optarg, 1023, 1048575, &v,
					err, errlen);
			cfg->nb_mbufs = v;
			break;
		case OPT_GUESTS:
			rc = parse_uint("--embedded-guests", optarg, 0, 2, &v,
					err, errlen);
			cfg->guests = v;
			break;
		case OPT_ETHDEV:
			if (cfg->nb_ethdev == RTE_DIM(cfg->ethdev) ||
			    strlen(optarg) >= sizeof(cfg->ethdev[0]) ||
			    strncmp(optarg, "net_", 4) != 0) {
				snprintf(err, errlen, "--ethdev: '%s' refused "
					 "(a net_* vdev, at most %zu)", optarg,
					 RTE_DIM(cfg->ethdev));
				return -EINVAL;
			}
			strcpy(cfg->ethdev[cfg->nb_ethdev++], optarg);
			break;
		case OPT_GUEST_PKT_LEN:
			rc = parse_uint("--guest-pkt-len", optarg, 60, 1518,
					&v, err, errlen);
			cfg->guest_pkt_len = v;
			break;
		case OPT_IDLE:
			if (strcmp(optarg, "poll") != 0 &&
			    strcmp(optarg, "halt") != 0) {
				snprintf(err, errlen, "--idle: '%s' is not "
					 "poll or halt", optarg);
				return -EINVAL;
			}
			cfg->idle_halt = strcmp(optarg, "halt") == 0;
			break;
		case OPT_IDLE_POLLS:
			rc = parse_uint("--idle-polls", optarg, 1, 10000000,
					&v, err, errlen);
			cfg->idle_polls = v;
			break;
		case OPT_MAX_PORTS:
			rc = parse_uint("--max-ports", optarg, 1, VMP_MAX_PORTS,
					&v, err, errlen);
			cfg->max_ports = v;
			break;
		case OPT_CTL:
			if (strlen(optarg) >= sizeof(cfg->ctl_path) ||
			    (optarg[0] != '/' && strcmp(optarg, "none") != 0)) {
				snprintf(err, errlen, "--ctl: '%s' is not an "
					 "absolute path (< %zu bytes) or none",
					 optarg, sizeof(cfg->ctl_path));
				return -EINVAL;
			}
			strcpy(cfg->ctl_path,
			       strcmp(optarg, "none") == 0 ? "" : optarg);
			cfg->ctl_set = true;
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
