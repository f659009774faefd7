/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vmpath: launched like dpdk-testpmd.
 *
 *   vmpath [EAL options] -- [vmpath options]
 *
 * EAL first; then the application options; then the lcore plan; then the
 * roles run on their worker lcores while the main lcore runs the prompt (-i)
 * or prints statistics, until quit, SIGINT/SIGTERM or --run-time.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_version.h>

#include <vmp_common.h>

#include "ctl.h"
#include "switch.h"
#include "guest.h"
#include "idle.h"
#include "vmpath.h"



static void
on_signal(int sig)
{
	RTE_SET_USED(sig);
	vmp_app.quit = true;
	vmp_prompt_stop();
}

static void
install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: the prompt's blocking read() must return EINTR. */
	sa.sa_flags = 0;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* A write to a pipe or socket whose reader is gone (a frontend's fd,
	 * a control client) must fail with EPIPE, not end the process. */
	signal(SIGPIPE, SIG_IGN);
}

static void
make_plan(void)
{
	struct vmp_plan_req req;
	char err[512];
	int rc, socket;

	rc = vmp_topo_from_eal(&vmp_app.topo);
	if (rc < 0)
		rte_exit(EXIT_FAILURE, "cannot read lcore topology: %s\n",
			 strerror(-rc));
	socket = vmp_app.cfg.socket >= 0 ?
			 vmp_app.cfg.socket :
			 (int)rte_lcore_to_socket_id(rte_get_main_lcore());

	memset(&req, 0, sizeof(req));
	req.role[VMP_ROLE_DATAPATH].count = vmp_app.cfg.nb_datapath;
	req.role[VMP_ROLE_DMA].count = vmp_app.cfg.nb_dma;
	req.role[VMP_ROLE_POOL].count = vmp_app.cfg.nb_pool;
	req.role[VMP_ROLE_DATAPATH].socket = socket;
	req.role[VMP_ROLE_DMA].socket = socket;
	req.role[VMP_ROLE_POOL].socket = socket;
	req.strict_socket = vmp_app.cfg.strict_socket;

	rc = vmp_lcore_plan(&vmp_app.topo, &req, &vmp_app.plan, err,
			    sizeof(err));
	if (rc < 0)
		rte_exit(EXIT_FAILURE, "lcore plan refused: %s\n", err);
	if (err[0] != '\0')
		printf("vmpath: warning: %s\n", err);
}

/*
 * The main lcore after launch: the control owner. It serves the control
 * socket and the prompt (-i), prints statistics, keeps the run-time bound
 * and drives the embedded guests, until quit.
 */
static void
main_wait(void)
{
	const struct vmp_app_config *c = &vmp_app.cfg;
	uint64_t hz = rte_get_tsc_hz();
	uint64_t next_stats = vmp_app.start_tsc + c->stats_period * hz;
	uint64_t end = vmp_app.start_tsc + c->run_time * hz;
	uint64_t next_reap = vmp_app.start_tsc + hz;
	unsigned int rounds = 0;

	while (!vmp_app.quit) {
		uint64_t now = rte_get_tsc_cycles();

		if (c->run_time && now >= end)
			break;
		if (c->stats_period && now >= next_stats) {
			vmp_stats_print(stdout);
			vmp_guests_print(stdout);
			next_stats += c->stats_period * hz;
		}
		if (now >= next_reap) { /* mbufs of removed ports came back */
			__vmp_switch_pools_reap();
			next_reap = now + hz;
		}
		if (c->guests) {
			vmp_guests_poll();
			/* not every round: the guests come first */
			if ((++rounds & 1023) == 0)
				vmp_ctl_sock_poll(0);
		} else {
			vmp_ctl_sock_poll(20);
		}
	}
}

int
main(int argc, char **argv)
{
	char err[256] = "";
	int rc;

	install_signals();
	rc = rte_eal_init(argc, argv);
	if (rc < 0)
		rte_exit(EXIT_FAILURE, "cannot init EAL: %s\n",
			 rte_strerror(rte_errno));
	argc -= rc;
	argv += rc;
	argv[0] = (char *)(uintptr_t)"vmpath"; /* was the last EAL arg */

	rc = vmp_params_parse(argc, argv, &vmp_app.cfg, err, sizeof(err));
	if (rc == 1) {
		rte_eal_cleanup();
		return 0;
	}
	if (rc < 0) {
		fprintf(stderr, "vmpath: %s (see 'vmpath -- --help')\n", err);
		rte_eal_cleanup();
		return EXIT_FAILURE;
	}

	make_plan();
	rc = vmp_switch_init();
	if (rc < 0) {
		vmp_switch_fini();
		rte_eal_cleanup();
		fprintf(stderr, "vmpath: cannot set up the switch: %s\n",
			strerror(-rc));
		return EXIT_FAILURE;
	}
	if (vmp_sw.nb_dp)
		vmp_role_add_poll(VMP_ROLE_DATAPATH, vmp_switch_poll);
	rc = vmp_idle_init();
	if (rc < 0) {
		vmp_idle_fini();
		vmp_switch_fini();
		rte_eal_cleanup();
		fprintf(stderr, "vmpath: cannot set up idle halting: %s\n",
			strerror(-rc));
		return EXIT_FAILURE;
	}
	/* the command line's ports: the same path as port_add at run time */
	rc = vmp_ctl_startup(err, sizeof(err));
	if (rc >= 0)
		rc = vmp_ctl_sock_open();
	if (rc < 0) {
		vmp_idle_fini();
		vmp_switch_fini();
		rte_eal_cleanup();
		fprintf(stderr, "vmpath: %s\n", err[0] ? err : strerror(-rc));
		return EXIT_FAILURE;
	}
	if (vmp_telemetry_init() < 0)
		printf("vmpath: warning: telemetry commands not registered\n");

	vmp_app.start_tsc = rte_get_tsc_cycles();
	printf("vmpath %s on %s: %u lcores, main lcore %u\n",
	       vmp_version(), rte_version(), vmp_app.topo.nb_lcores,
	       vmp_app.topo.main_lcore);
	rc = vmp_roles_launch();
	if (rc < 0) {
		vmp_roles_stop();
		rte_exit(EXIT_FAILURE, "cannot launch lcores: %s\n",
			 strerror(-rc));
	}
	/* the synthetic guest and --migrate-listen / --migrate-to */
	if (vmp_guest_start() < 0 || vmp_migapp_init() < 0) {
		vmp_app.quit = true;
		vmp_migapp_fini();
		vmp_guest_stop();
		vmp_roles_stop();
		rte_exit(EXIT_FAILURE, "cannot start the guest / migration\n");
	}

	rc = vmp_guests_init();
	if (rc < 0) {
		printf("vmpath: embedded guests failed: %s\n", strerror(-rc));
		vmp_app.quit = true;
	} else if (vmp_app.cfg.guests) {
		/* --run-time counts the guests' traffic, not their setup */
		vmp_app.start_tsc = rte_get_tsc_cycles();
	}

	if (vmp_app.cfg.interactive && vmp_prompt_open() < 0)
		vmp_app.quit = true;
	if (!vmp_app.quit)
		main_wait();
	vmp_prompt_close();
	vmp_ctl_sock_close();

	printf("vmpath: stopping\n");
	if (vmp_app.cfg.guests)
		vmp_guests_print(stdout);
	vmp_migapp_fini();
	vmp_guest_stop();
	vmp_roles_stop();
	vmp_guest_fini();
	if (vmp_app.cfg.stats_period)
		vmp_stats_print(stdout);
	vmp_guests_fini();
	vmp_idle_fini();
	vmp_switch_fini();
	rte_eal_cleanup();
	printf("vmpath: bye\n");
	return rc < 0 ? EXIT_FAILURE : 0;
}
