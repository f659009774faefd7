/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The vmpath> prompt: DPDK's cmdline library on stdin. Commands live in one
 * file per area (cmd_general.c, cmd_show.c, ...); each exports a
 * NULL-terminated table that is stitched into one context here.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

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

/*
 * The prompt is fed from the main lcore's poll loop (ctl_sock.c), beside the
 * control socket: the two never run a command at the same time.
 */
int
vmp_prompt_open(void)
{
	build_ctx();
	prompt_cl = cmdline_stdin_new(main_ctx, "vmpath> ");
	if (prompt_cl == NULL) {
		fprintf(stderr, "vmpath: cannot create the prompt\n");
		return -ENOMEM;
	}
	return 0;
}

void
vmp_prompt_input(void)
{
	char buf[256];
	ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));

	if (n < 0 && errno == EINTR)
		return;
	/* EOF, or `quit` / a signal made the cmdline exit */
	if (n <= 0 || cmdline_in(prompt_cl, buf, (int)n) < 0)
		vmp_app.quit = true;
}

void
vmp_prompt_close(void)
{
	struct cmdline *cl = prompt_cl;

	if (cl == NULL)
		return;
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
