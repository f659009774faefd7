/* SPDX-License-Identifier: BSD-3-Clause */
/* Commands: show idle, set idle poll|halt, set idle-polls N. */
#include <stdio.h>
#include <string.h>

#include <cmdline_parse_num.h>
#include <cmdline_parse_string.h>

#include "cmd_areas.h"
#include "idle.h"
#include "vmpath.h"

struct cmd_idle_show_result {
	cmdline_fixed_string_t show;
	cmdline_fixed_string_t idle;
};

static void
cmd_idle_show_parsed(void *parsed __rte_unused, struct cmdline *cl __rte_unused,
		     void *data __rte_unused)
{
	vmp_idle_print(stdout);
}

static cmdline_parse_token_string_t cmd_idle_show_show =
	TOKEN_STRING_INITIALIZER(struct cmd_idle_show_result, show, "show");
static cmdline_parse_token_string_t cmd_idle_show_idle =
	TOKEN_STRING_INITIALIZER(struct cmd_idle_show_result, idle, "idle");

static cmdline_parse_inst_t cmd_idle_show = {
	.f = cmd_idle_show_parsed,
	.help_str = "show idle: idle policy, per-lcore sleeps, wakes by "
		    "cause, time asleep, wake latency",
	.tokens = {(void *)&cmd_idle_show_show, (void *)&cmd_idle_show_idle,
		   NULL},
};

struct cmd_idle_set_result {
	cmdline_fixed_string_t set;
	cmdline_fixed_string_t idle;
	cmdline_fixed_string_t mode;
};

static void
cmd_idle_set_parsed(void *parsed, struct cmdline *cl __rte_unused,
		    void *data __rte_unused)
{
	struct cmd_idle_set_result *res = parsed;

	vmp_idle_set(strcmp(res->mode, "halt") == 0, 0);
	printf("idle: %s\n", res->mode);
}

static cmdline_parse_token_string_t cmd_idle_set_set =
	TOKEN_STRING_INITIALIZER(struct cmd_idle_set_result, set, "set");
static cmdline_parse_token_string_t cmd_idle_set_idle =
	TOKEN_STRING_INITIALIZER(struct cmd_idle_set_result, idle, "idle");
static cmdline_parse_token_string_t cmd_idle_set_mode =
	TOKEN_STRING_INITIALIZER(struct cmd_idle_set_result, mode, "poll#halt");

static cmdline_parse_inst_t cmd_idle_set = {
	.f = cmd_idle_set_parsed,
	.help_str = "set idle poll|halt: idle datapath lcores spin, or sleep "
		    "until kicked",
	.tokens = {(void *)&cmd_idle_set_set, (void *)&cmd_idle_set_idle,
		   (void *)&cmd_idle_set_mode, NULL},
};

struct cmd_idle_polls_result {
	cmdline_fixed_string_t set;
	cmdline_fixed_string_t polls;
	uint32_t n;
};

static void
cmd_idle_polls_parsed(void *parsed, struct cmdline *cl __rte_unused,
		      void *data __rte_unused)
{
	struct cmd_idle_polls_result *res = parsed;

	if (res->n < 1 || res->n > 10000000) {
		printf("idle-polls: %u is out of range [1, 10000000]\n",
		       res->n);
		return;
	}
	vmp_idle_set(vmp_app.cfg.idle_halt, res->n);
	printf("idle-polls: %u\n", res->n);
}

static cmdline_parse_token_string_t cmd_idle_polls_set =
	TOKEN_STRING_INITIALIZER(struct cmd_idle_polls_result, set, "set");
static cmdline_parse_token_string_t cmd_idle_polls_polls =
	TOKEN_STRING_INITIALIZER(struct cmd_idle_polls_result, polls,
				 "idle-polls");
static cmdline_parse_token_num_t cmd_idle_polls_n =
	TOKEN_NUM_INITIALIZER(struct cmd_idle_polls_result, n, RTE_UINT32);

static cmdline_parse_inst_t cmd_idle_polls = {
	.f = cmd_idle_polls_parsed,
	.help_str = "set idle-polls N: empty loops before a halt",
	.tokens = {(void *)&cmd_idle_polls_set, (void *)&cmd_idle_polls_polls,
		   (void *)&cmd_idle_polls_n, NULL},
};

cmdline_parse_inst_t *vmp_cmds_idle[] = {
	&cmd_idle_show,
	&cmd_idle_set,
	&cmd_idle_polls,
	NULL,
};
