/* SPDX-License-Identifier: BSD-3-Clause */
#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>

#include "vmp_test.h"

static struct vmp_test_cmd *commands;
const char *vmp_test_argv0;
static int threads_leaked;

void
vmp_test_threads_leaked(void)
{
	threads_leaked = 1;
}

void
vmp_test_register(struct vmp_test_cmd *cmd)
{
	cmd->next = commands;
	commands = cmd;
}

static struct vmp_test_cmd *
find_cmd(const char *name)
{
	struct vmp_test_cmd *c;

	for (c = commands; c != NULL; c = c->next)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

int
vmp_test_suite_run(struct vmp_test_suite *suite)
{
	/* one case only (its function name), e.g. to check a regression
	 * test against an older library */
	const char *only = getenv("VMPATH_TEST_CASE");
	unsigned int pass = 0, fail = 0, skip = 0, i;
	int rc;

	printf(" + ------------------------------------------------------- +\n");
	printf(" + Test Suite : %s\n", suite->name);
	if (suite->setup != NULL) {
		rc = suite->setup();
		if (rc != TEST_SUCCESS) {
			printf(" + Suite setup %s\n",
			       rc == TEST_SKIPPED ? "skipped" : "failed");
			return rc == TEST_SKIPPED ? TEST_SKIPPED : TEST_FAILED;
		}
	}
	for (i = 0; suite->cases[i].fn != NULL; i++) {
		const struct vmp_test_case *tc = &suite->cases[i];
		uint64_t t0 = rte_get_timer_cycles();
		const char *what;

		if (only != NULL && strcmp(only, tc->name) != 0)
			continue;
		rc = tc->setup ? tc->setup() : TEST_SUCCESS;
		if (rc == TEST_SUCCESS) {
			rc = tc->fn();
			if (tc->teardown)
				tc->teardown();
		}
		if (rc == TEST_SUCCESS) {
			pass++;
			what = "succeeded";
		} else if (rc == TEST_SKIPPED) {
			skip++;
			what = "skipped";
		} else {
			fail++;
			what = "failed";
		}
		printf(" + TestCase [%2u] : %-40s %s (%.3f s)\n", i, tc->name,
		       what,
		       (double)(rte_get_timer_cycles() - t0) /
			       rte_get_timer_hz());
		fflush(stdout);
	}
	if (suite->teardown != NULL)
		suite->teardown();
	printf(" + Tests Total : %2u  Succeeded : %2u  Failed : %2u  "
	       "Skipped : %2u\n", pass + fail + skip, pass, fail, skip);
	if (fail)
		return TEST_FAILED;
	if (pass == 0 && skip > 0)
		return TEST_SKIPPED;
	return TEST_SUCCESS;
}

static void
list_commands(void)
{
	struct vmp_test_cmd *c;

	for (c = commands; c != NULL; c = c->next)
		printf("%s\n", c->name);
}

/* Free 2 MiB or 1 GiB hugepages, from /proc/meminfo. */
static unsigned long
free_hugepages(void)
{
	char line[256];
	unsigned long n = 0;
	FILE *f = fopen("/proc/meminfo", "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "HugePages_Free: %lu", &n) == 1)
			break;
	fclose(f);
	return n;
}

/*
 * Give this process its own --file-prefix unless the caller chose one, so the
 * same test can run in several build trees (or twice) at once. The prefix
 * names the test and the pid: vmpt-<test>-<pid>.
 */
static char **
with_file_prefix(int *argc, char **argv)
{
	static char prefix[128];
	const char *test = getenv("VMPATH_TEST");
	char **nargv;
	int i;

	for (i = 1; i < *argc; i++)
		if (strncmp(argv[i], "--file-prefix", 13) == 0)
			return argv;
	if (*argc > 1 && argv[*argc - 1][0] != '-')
		test = argv[*argc - 1];
	snprintf(prefix, sizeof(prefix), "--file-prefix=vmpt-%s-%d",
		 test ? test : "test", (int)getpid());
	nargv = calloc(*argc + 2, sizeof(*nargv));
	if (nargv == NULL)
		return argv;
	nargv[0] = argv[0];
	nargv[1] = prefix;
	for (i = 1; i < *argc; i++)
		nargv[i + 1] = argv[i];
	(*argc)++;
	return nargv;
}

/* Remove the EAL runtime directory of a prefix we made up (after cleanup). */
static void
remove_runtime_dir(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

int
main(int argc, char **argv)
{
	const char *env = getenv("VMPATH_TEST");
	const char *huge = getenv("VMPATH_TEST_NEEDS_HUGE");
	int i, rc, nb_fail = 0, nb_skip = 0, nb_run = 0;

	char runtime_dir[PATH_MAX] = "";
	char **orig_argv = argv;

	vmp_test_argv0 = argv[0];
	/* As the app: a peer's pipe or socket without a reader gives EPIPE. */
	signal(SIGPIPE, SIG_IGN);
	argv = with_file_prefix(&argc, argv);
	if (huge != NULL && strcmp(huge, "1") == 0 && free_hugepages() == 0) {
		printf("vmpath-test: this test needs hugepages and none are "
		       "free: skipped\n");
		return TEST_SKIPPED;
	}
	rc = rte_eal_init(argc, argv);
	if (rc < 0) {
		printf("vmpath-test: cannot init EAL: %s\n",
		       rte_strerror(rte_errno));
		return 1;
	}
	if (argv != orig_argv)
		snprintf(runtime_dir, sizeof(runtime_dir), "%s",
			 rte_eal_get_runtime_dir());
	argc -= rc;
	argv += rc;

	for (i = 1; i <= argc; i++) {
		const char *name = i < argc ? argv[i] : NULL;
		struct vmp_test_cmd *c;

		if (i == argc) {
			if (nb_run > 0 || env == NULL)
				break;
			name = env;
		}
		if (strcmp(name, "list") == 0) {
			list_commands();
			nb_run++;
			continue;
		}
		c = find_cmd(name);
		if (c == NULL) {
			printf("vmpath-test: no test named '%s' "
			       "('vmpath-test [EAL args] list' lists them)\n",
			       name);
			nb_fail++;
			nb_run++;
			continue;
		}
		printf("RTE>>%s\n", name);
		rc = c->fn();
		nb_run++;
		if (rc == TEST_SKIPPED) {
			printf("Test Skipped\n");
			nb_skip++;
		} else if (rc != TEST_SUCCESS) {
			printf("Test Failed\n");
			nb_fail++;
		} else {
			printf("Test OK\n");
		}
		fflush(stdout);
	}
	if (nb_run == 0) {
		printf("usage: vmpath-test [EAL args] test_name... "
		       "(or VMPATH_TEST=name); 'list' lists tests\n");
		nb_fail++;
	}
	/* rte_eal_cleanup() waits for lcores a failed case could not stop */
	if (threads_leaked)
		printf("vmpath-test: lcores left running by a failed case: "
		       "no EAL cleanup\n");
	else
		rte_eal_cleanup();
	if (runtime_dir[0] != '\0')
		remove_runtime_dir(runtime_dir);
	if (nb_fail)
		return 1;
	return nb_skip ? TEST_SKIPPED : 0;
}
