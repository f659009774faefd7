/* SPDX-License-Identifier: BSD-3-Clause */
/* The switch's options: --vhost PATH[,client][,queues=N][,dma=...]
 * [,csum=on|off][,tso=on|off][,mtu=N], --dma. */
#include <errno.h>
#include <string.h>

#include "params.h"
#include "vmp_test.h"

#define PARSE(cfg, err, ...)                                                   \
	({                                                                     \
		char *argv_[] = {(char *)"vmpath", __VA_ARGS__, NULL};         \
		vmp_params_parse(RTE_DIM(argv_) - 1, argv_, cfg, err,          \
				 sizeof(err));                                 \
	})

static int
test_vhost_specs(void)
{
	struct vmp_app_config c;
	char err[256];

	TEST_ASSERT_SUCCESS(PARSE(&c, err, "--vhost", "/tmp/a.sock", "--vhost",
				  "/tmp/b.sock,client,queues=2,dma=skeleton",
				  "--dma", "sw", "--dma-threshold", "512"),
			    "%s", err);
	TEST_ASSERT_EQUAL(c.nb_vhost, 2, "");
	TEST_ASSERT_STR_EQUAL(c.vhost[0].path, "/tmp/a.sock", "");
	TEST_ASSERT_EQUAL(c.vhost[0].client, 0, "");
	TEST_ASSERT_EQUAL(c.vhost[0].queues, 1, "");
	TEST_ASSERT_EQUAL(c.vhost[0].dma, VMP_DMA_DEFAULT, "");
	TEST_ASSERT_STR_EQUAL(c.vhost[1].path, "/tmp/b.sock", "");
	TEST_ASSERT_EQUAL(c.vhost[1].client, 1, "");
	TEST_ASSERT_EQUAL(c.vhost[1].queues, 2, "");
	TEST_ASSERT_EQUAL(c.vhost[1].dma, VMP_DMA_SKELETON, "");
	TEST_ASSERT_EQUAL(c.dma, VMP_DMA_SW, "");
	TEST_ASSERT_EQUAL(c.dma_threshold, 512, "");
	TEST_ASSERT(c.vhost[0].csum && c.vhost[0].tso, "offloads on");
	return TEST_SUCCESS;
}

static int
test_vhost_offloads(void)
{
	struct vmp_app_config c;
	char err[256];

	TEST_ASSERT_SUCCESS(PARSE(&c, err, "--vhost", "/tmp/a,tso=on",
				  "--vhost", "/tmp/b,csum=on,tso=off",
				  "--vhost", "/tmp/c,csum=off",
				  "--vhost", "/tmp/d,tso=off"),
			    "%s", err);
	TEST_ASSERT(c.vhost[0].csum && c.vhost[0].tso, "tso=on implies csum");
	TEST_ASSERT(c.vhost[1].csum && !c.vhost[1].tso, "csum only");
	TEST_ASSERT(!c.vhost[2].csum && !c.vhost[2].tso,
		    "csum=off turns tso off");
	TEST_ASSERT(c.vhost[3].csum && !c.vhost[3].tso, "tso=off only");
	TEST_ASSERT_EQUAL(PARSE(&c, err, "--vhost", "/tmp/a,csum=off,tso=on"),
			  -EINVAL, "");
	TEST_ASSERT(strstr(err, "tso=on") != NULL, "%s", err);
	TEST_ASSERT_EQUAL(PARSE(&c, err, "--vhost", "/tmp/a,tso=yes"), -EINVAL,
			  "");
	TEST_ASSERT(strstr(err, "tso=yes") != NULL, "%s", err);
	return TEST_SUCCESS;
}

static int
test_vhost_mtu(void)
{
	static const char *const bad[] = {"mtu=67", "mtu=9001", "mtu=",
					  "mtu=-1", "mtu=1500x", "mtu= 1500"};
	struct vmp_app_config c;
	char err[256], arg[64];
	unsigned int i;

	TEST_ASSERT_SUCCESS(PARSE(&c, err, "--vhost", "/tmp/a,mtu=9000",
				  "--vhost", "/tmp/b,mtu=68", "--vhost",
				  "/tmp/c"),
			    "%s", err);
	TEST_ASSERT(c.vhost[0].mtu == 9000 && c.vhost[1].mtu == 68 &&
			    c.vhost[2].mtu == 0,
		    "mtu values");
	for (i = 0; i < RTE_DIM(bad); i++) {
		snprintf(arg, sizeof(arg), "/tmp/a,%s", bad[i]);
		TEST_ASSERT_EQUAL(PARSE(&c, err, "--vhost", arg), -EINVAL,
				  "%s", bad[i]);
		TEST_ASSERT(strstr(err, bad[i]) != NULL, "%s", err);
	}
	return TEST_SUCCESS;
}

static int
test_vhost_bad_values_named(void)
{
	struct vmp_app_config c;
	char err[256];

	TEST_ASSERT_EQUAL(PARSE(&c, err, "--vhost", "/tmp/a,queues=9"), -EINVAL,
			  "");
	TEST_ASSERT(strstr(err, "queues=9") != NULL, "%s", err);
	TEST_ASSERT_EQUAL(PARSE(&c, err, "--vhost", "/tmp/a,queues="), -EINVAL,
			  "");
	TEST_ASSERT_EQUAL(PARSE(&c, err, "--vhost", "/tmp/a,colour=red"),
			  -EINVAL, "");
	TEST_ASSERT(strstr(err, "colour=red") != NULL, "%s", err);
	TEST_ASSERT_EQUAL(PARSE(&c, err, "--vhost", "/tmp/a,dma=fast"), -EINVAL,
			  "");
	TEST_ASSERT(strstr(err, "dma=fast") != NULL, "%s", err);
	TEST_ASSERT_EQUAL(PARSE(&c, err, "--vhost", "queues=2"), -EINVAL, "");
	TEST_ASSERT_EQUAL(PARSE(&c, err, "--dma", "idxd"), -EINVAL, "");
	TEST_ASSERT(strstr(err, "idxd") != NULL, "%s", err);
	TEST_ASSERT_EQUAL(PARSE(&c, err, "--embedded-guests", "3"), -EINVAL,
			  "");
	return TEST_SUCCESS;
}

static int
test_vhost_too_many(void)
{
	struct vmp_app_config c;
	char err[256];
	char *argv[2 + 2 * (VMP_MAX_VHOST + 1)];
	char paths[VMP_MAX_VHOST + 1][32];
	int i, n = 1;

	argv[0] = (char *)"vmpath";
	for (i = 0; i <= VMP_MAX_VHOST; i++) {
		snprintf(paths[i], sizeof(paths[i]), "/tmp/p%d", i);
		argv[n++] = (char *)"--vhost";
		argv[n++] = paths[i];
	}
	argv[n] = NULL;
	TEST_ASSERT_EQUAL(vmp_params_parse(n, argv, &c, err, sizeof(err)),
			  -EINVAL, "");
	TEST_ASSERT(strstr(err, "at most") != NULL, "%s", err);
	return TEST_SUCCESS;
}

static struct vmp_test_suite vparams_suite = {
	.name = "vmpath switch options",
	.cases =
		{
			TEST_CASE(test_vhost_specs),
			TEST_CASE(test_vhost_offloads),
			TEST_CASE(test_vhost_mtu),
			TEST_CASE(test_vhost_bad_values_named),
			TEST_CASE(test_vhost_too_many),
			TEST_CASES_END(),
		},
};

static int
test_vnet_params(void)
{
	return vmp_test_suite_run(&vparams_suite);
}

REGISTER_TEST_COMMAND(vnet_params_autotest, test_vnet_params);
