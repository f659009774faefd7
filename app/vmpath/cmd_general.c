/* SPDX-License-Identifier: BSD-3-Clause */
/* Commands: help, quit. */
#include <cmdline_parse_string.h>

#include "cmd_areas.h"
#include "vmpath.h"

struct cmd_word_result {
	cmdline_fixed_string_t word;
};

static void
cmd_help_parsed(void *res __rte_unused, struct cmdline *cl,
		void *data __rte_unused)
{
	vmp_cmds_help(cl);
}

static cmdline_parse_token_string_t cmd_help_tok =
	TOKEN_STRING_INITIALIZER(struct cmd_word_result, word, "help");

static cmdline_parse_inst_t cmd_help = {
	.f = cmd_help_parsed,
	.help_str = "help: list the commands",
	.tokens = { (void *)&cmd_help_tok, NULL },
};

static void
cmd_quit_parsed(void *res __rte_unused, struct cmdline *cl,
		void *data __rte_unused)
{
	vmp_app.quit = true;
	cmdline_quit(cl);
}

static cmdline_parse_token_string_t cmd_quit_tok =
	TOKEN_STRING_INITIALIZER(struct cmd_word_result, word, "quit");

static cmdline_parse_inst_t cmd_quit = {
	.f = cmd_quit_parsed,
	.help_str = "quit: stop every lcore and exit",
	.tokens = { (void *)&cmd_quit_tok, NULL },
};

cmdline_parse_inst_t *vmp_cmds_general[] = {
	&cmd_help,
	&cmd_quit,
	NULL,
};
