/* SPDX-License-Identifier: BSD-3-Clause */
/* Commands: show lcores | config | stats. */
#include <stdio.h>
#include <string.h>

#include <cmdline_parse_string.h>

#include "cmd_areas.h"
#include "vmpath.h"

void
vmp_show_lcores(FILE *f)
{
	unsigned int i;

	fprintf(f, "%5s %5s %6s %-9s %s\n", "lcore", "core", "socket", "role",
		"notes");
	for (i = 0; i < vmp_app.plan.nb_entries; i++) {
		const struct vmp_plan_entry *e = &vmp_app.plan.entries[i];

		fprintf(f, "%5u %5u %6d %-9s %s%s\n", e->lcore_id, e->core_id,
			e->socket_id, vmp_role_name(e->role),
			e->remote ? "remote-socket " : "",
			e->shares_core ? "shares-core" : "");
	}
	fflush(f);
}

void
vmp_show_config(FILE *f)
{
	const struct vmp_app_config *c = &vmp_app.cfg;

	fprintf(f, "interactive      %s\n", c->interactive ? "yes" : "no");
	fprintf(f, "stats-period     %u s\n", c->stats_period);
	fprintf(f, "run-time         %u s%s\n", c->run_time,
		c->run_time ? "" : " (until quit)");
	fprintf(f, "datapath-lcores  %u\n", c->nb_datapath);
	fprintf(f, "dma-lcores       %u\n", c->nb_dma);
	fprintf(f, "pool-workers     %u\n", c->nb_pool);
	if (c->socket < 0)
		fprintf(f, "socket           auto (main lcore's)\n");
	else
		fprintf(f, "socket           %d\n", c->socket);
	fprintf(f, "strict-socket    %s\n", c->strict_socket ? "yes" : "no");
	fflush(f);
}

struct cmd_show_result {
	cmdline_fixed_string_t show;
	cmdline_fixed_string_t what;
};

static void
cmd_show_parsed(void *parsed, struct cmdline *cl __rte_unused,
		void *data __rte_unused)
{
	struct cmd_show_result *res = parsed;

	if (strcmp(res->what, "lcores") == 0)
		vmp_show_lcores(stdout);
	else if (strcmp(res->what, "config") == 0)
		vmp_show_config(stdout);
	else if (strcmp(res->what, "stats") == 0)
		vmp_stats_print(stdout);
}

static cmdline_parse_token_string_t cmd_show_show =
	TOKEN_STRING_INITIALIZER(struct cmd_show_result, show, "show");
static cmdline_parse_token_string_t cmd_show_what =
	TOKEN_STRING_INITIALIZER(struct cmd_show_result, what,
				 "lcores#config#stats");

static cmdline_parse_inst_t cmd_show = {
	.f = cmd_show_parsed,
	.help_str = "show lcores|config|stats: lcore roles, configuration, "
		    "statistics",
	.tokens = { (void *)&cmd_show_show, (void *)&cmd_show_what, NULL },
};

cmdline_parse_inst_t *vmp_cmds_show[] = {
	&cmd_show,
	NULL,
};
