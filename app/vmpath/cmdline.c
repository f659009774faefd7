/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The vmpath> prompt: DPDK's cmdline library on stdin. Commands live in one
 * file per area (cmd_general.c, cmd_show.c, ...); each exports a
 * NULL-terminated table that is stitched into one context here.
 */
#include <stdio.h>

#include <cmdline.h>
#include <cmdline_parse.h>
#include <cmdline_socket.h>

#include "cmd_areas.h"
#include "vmpath.h"

static cmdline_parse_inst_t **const areas[] = {
	vmp_cmds_general,
	vmp_cmds_show,
	vmp_cmds_ports,
	vmp_cmds_migrate,
	vmp_cmds_idle,
};

#define MAX_CMDS 128
static cmdline_parse_ctx_t main_ctx[MAX_CMDS + 1];
static struct cmdline *volatile prompt_cl;

static void
build_ctx(void)
{
	unsigned int a, i, n = 0;

	for (a = 0; a < RTE_DIM(areas); a++)
		for (i = 0; areas[a][i] != NULL && n < MAX_CMDS; i++)
			main_ctx[n++] = areas[a][i];
	main_ctx[n] = NULL;
}

void
vmp_cmds_help(struct cmdline *cl)
{
	unsigned int i;

	cmdline_printf(cl, "vmpath commands:\n");
	for (i = 0; main_ctx[i] != NULL; i++)
		cmdline_printf(cl, "  %s\n", main_ctx[i]->help_str);
}

void
vmp_prompt(void)
{
	struct cmdline *cl;

	build_ctx();
	cl = cmdline_stdin_new(main_ctx, "vmpath> ");
	if (cl == NULL) {
		fprintf(stderr, "vmpath: cannot create the prompt\n");
		return;
	}
	prompt_cl = cl;
	if (!vmp_app.quit)
		cmdline_interact(cl);
	prompt_cl = NULL;
	cmdline_stdin_exit(cl);
	printf("\n");
}

void
vmp_prompt_stop(void)
{
	struct cmdline *cl = prompt_cl;

	/* Only sets a flag; the signal that calls us also breaks read(). */
	if (cl != NULL)
		cmdline_quit(cl);
}
