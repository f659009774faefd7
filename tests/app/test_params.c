/* SPDX-License-Identifier: BSD-3-Clause */
/* The vmpath option parser (app/vmpath/params.c). */
#include <errno.h>

#include "params.h"
#include "vmp_test.h"

#define PARSE(cfg, err, ...)                                                  \
	({                                                                    \
		char *argv_[] = { (char *)"vmpath", __VA_ARGS__, NULL };      \
		vmp_params_parse(RTE_DIM(argv_) - 1, argv_, cfg, err,         \
				 sizeof(err));                                \
	})

static int
test_defaults(void)
{
	struct vmp_app_config c;
	char err[256];
	char *argv[] = { (char *)"vmpath", NULL };

	TEST_ASSERT_SUCCESS(vmp_params_parse(1, argv, &c, err, sizeof(err)),
			    "%s", err);
	TEST_ASSERT_EQUAL(c.interactive, 0, "");
	TEST_ASSERT_EQUAL(c.stats_period, 0, "");
	TEST_ASSERT_EQUAL(c.nb_datapath, 1, "");
	TEST_ASSERT_EQUAL(c.nb_dma, 0, "");
	TEST_ASSERT_EQUAL(c.socket, -1, "");
	return TEST_SUCCESS;
}

static int
test_all_options(void)
{
	struct vmp_app_config c;
	char err[256];

	TEST_ASSERT_SUCCESS(PARSE(&c, err, "-i", "--stats-period", "2",
				  "--run-time=7", "--datapath-lcores", "2",
				  "--dma-lcores", "1", "--pool-workers", "3",
				  "--socket", "1", "--strict-socket"),
			    "%s", err);
	TEST_ASSERT_EQUAL(c.interactive, 1, "");
	TEST_ASSERT_EQUAL(c.stats_period, 2, "");
	TEST_ASSERT_EQUAL(c.run_time, 7, "");
	TEST_ASSERT_EQUAL(c.nb_datapath, 2, "");
	TEST_ASSERT_EQUAL(c.nb_dma, 1, "");
	TEST_ASSERT_EQUAL(c.nb_pool, 3, "");
	TEST_ASSERT_EQUAL(c.socket, 1, "");
	TEST_ASSERT_EQUAL(c.strict_socket, 1, "");
	return TEST_SUCCESS;
}

static int
test_unknown_option_named(void)
{
	struct vmp_app_config c;
	char err[256];

	TEST_ASSERT_EQUAL(PARSE(&c, err, "--bogus"), -EINVAL, "");
	TEST_ASSERT_STR_CONTAINS(err, "--bogus", "message must name it");
	TEST_ASSERT_EQUAL(PARSE(&c, err, "-i", "-z"), -EINVAL, "");
	TEST_ASSERT_STR_CONTAINS(err, "-z", "message must name it");
	TEST_ASSERT_EQUAL(PARSE(&c, err, "stray"), -EINVAL, "");
	TEST_ASSERT_STR_CONTAINS(err, "stray", "message must name it");
	return TEST_SUCCESS;
}

static int
test_malformed_values(void)
{
	static char *bad[][2] = {
		{ "--stats-period", "abc" },  { "--stats-period", "-1" },
		{ "--stats-period", "1x" },   { "--stats-period", "" },
		{ "--stats-period", "99999" }, { "--datapath-lcores", "129" },
		{ "--socket", "64" },          { "--run-time", "1e3" },
		{ "--pool-workers", "+3" },
	};
	struct vmp_app_config c;
	char err[256];
	unsigned int i;

	for (i = 0; i < RTE_DIM(bad); i++) {
		TEST_ASSERT_EQUAL(PARSE(&c, err, bad[i][0], bad[i][1]),
				  -EINVAL, "%s %s accepted", bad[i][0],
				  bad[i][1]);
		TEST_ASSERT_STR_CONTAINS(err, bad[i][0], "names the option");
	}
	/* missing value */
	TEST_ASSERT_EQUAL(PARSE(&c, err, "--stats-period"), -EINVAL, "");
	TEST_ASSERT_STR_CONTAINS(err, "--stats-period", "names the option");
	TEST_ASSERT_STR_CONTAINS(err, "needs a value", "says what is wrong");
	return TEST_SUCCESS;
}

static int
test_idle(void)
{
	struct vmp_app_config c;
	char err[256];

	TEST_ASSERT_SUCCESS(PARSE(&c, err, "--datapath-lcores", "1"), "%s",
			    err);
	TEST_ASSERT_EQUAL(c.idle_halt, 0, "poll by default");
	TEST_ASSERT_EQUAL(c.idle_polls, 2000, "");
	TEST_ASSERT_SUCCESS(PARSE(&c, err, "--idle", "halt", "--idle-polls",
				  "10"),
			    "%s", err);
	TEST_ASSERT_EQUAL(c.idle_halt, 1, "");
	TEST_ASSERT_EQUAL(c.idle_polls, 10, "");
	TEST_ASSERT_EQUAL(PARSE(&c, err, "--idle", "nap"), -EINVAL, "");
	TEST_ASSERT_STR_CONTAINS(err, "'nap'", "names the value");
	TEST_ASSERT_EQUAL(PARSE(&c, err, "--idle-polls", "0"), -EINVAL, "");
	TEST_ASSERT_STR_CONTAINS(err, "--idle-polls", "names the option");
	return TEST_SUCCESS;
}

static int
test_reparse_is_clean(void)
{
	struct vmp_app_config c;
	char err[256];

	/* A failed parse must not leak state into the next one. */
	TEST_ASSERT_EQUAL(PARSE(&c, err, "--bogus"), -EINVAL, "");
	TEST_ASSERT_SUCCESS(PARSE(&c, err, "--dma-lcores", "1"), "%s", err);
	TEST_ASSERT_EQUAL(c.nb_dma, 1, "");
	TEST_ASSERT_EQUAL(c.interactive, 0, "");
	return TEST_SUCCESS;
}

static struct vmp_test_suite params_suite = {
	.name = "vmpath option parser",
	.cases = {
		TEST_CASE(test_defaults),
		TEST_CASE(test_all_options),
		TEST_CASE(test_unknown_option_named),
		TEST_CASE(test_malformed_values),
		TEST_CASE(test_idle),
		TEST_CASE(test_reparse_is_clean),
		TEST_CASES_END(),
	},
};

static int
test_params(void)
{
	return vmp_test_suite_run(&params_suite);
}

REGISTER_TEST_COMMAND(params_autotest, test_params);
