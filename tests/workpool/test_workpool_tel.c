/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/workpool counters, read by vmp_pool_stats_get() and through the DPDK
 * telemetry socket (/vmpath/workpool/list, /vmpath/workpool/stats,<name>),
 * as a client such as dpdk-telemetry.py would.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_memory.h>
#include <rte_pause.h>

#include <vmp_workpool.h>

#include "test_workpool.h"
#include "vmp_test.h"
#include "vmp_test_wait.h"

static uint32_t tel_release;

static void
tel_handler(void *data, unsigned int worker __rte_unused,
	    void *arg __rte_unused)
{
	uint64_t *v = data;

	while (*v == 1 && !__atomic_load_n(&tel_release, __ATOMIC_ACQUIRE))
		rte_pause();
	v[1] = 1;
}

static void
tel_done(void *data, void *arg)
{
	(*(uint64_t *)arg) += ((uint64_t *)data)[1];
}

/* One request/reply on the telemetry socket; -errno, or 77 if absent. */
static int
tel_query(const char *cmd, char *buf, size_t len)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	ssize_t n;
	int fd, rc = 0;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/dpdk_telemetry.v2",
		 rte_eal_get_runtime_dir());
	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		close(fd);
		return TEST_SKIPPED; /* --no-telemetry */
	}
	n = read(fd, buf, len - 1); /* greeting: version, pid, max length */
	if (n <= 0 || write(fd, cmd, strlen(cmd)) < 0)
		rc = -EIO;
	if (rc == 0) {
		n = read(fd, buf, len - 1);
		if (n <= 0)
			rc = -EIO;
		else
			buf[n] = '\0';
	}
	close(fd);
	return rc;
}

int
test_counters_telemetry(void)
{
	struct vmp_pool_params p = {0};
	struct vmp_pool_stats s;
	struct vmp_pool *pool;
	struct vmp_pool_req *req;
	struct vmp_test_wait w;
	uint64_t handled_sum = 0, sum = 0;
	char buf[8192];
	unsigned int i;
	int rc;

	if (rte_lcore_count() < 2)
		return TEST_SKIPPED;
	p.name = "tel_test";
	p.nb_workers = 1;
	p.ring_size = 1;
	p.req_size = 2 * sizeof(uint64_t);
	p.handler = tel_handler;
	p.done = tel_done;
	p.cb_arg = &sum;
	p.socket_id = SOCKET_ID_ANY;
	pool = vmp_pool_create(&p);
	TEST_ASSERT_NOT_NULL(pool, "create: %d", rte_errno);

	vmp_test_wait_init(&w, "telemetry submit", 5000);
	for (i = 0; i < 100; i++) {
		while ((req = vmp_pool_submit_prepare(pool)) == NULL) {
			TEST_ASSERT(vmp_test_wait_check(&w, sum) == 0, "%s",
				    w.verdict);
			rte_pause();
		}
		memset(vmp_pool_req_data(req), 0, 16);
		TEST_ASSERT_SUCCESS(vmp_pool_submit_commit(pool, req),
				    "commit");
	}
	vmp_pool_wait_done(pool);
	TEST_ASSERT_EQUAL(sum, 100, "done callbacks");
	/* a stuck request fills the only slot: the next prepare fails */
	__atomic_store_n(&tel_release, 0, __ATOMIC_RELAXED);
	req = vmp_pool_submit_prepare(pool);
	TEST_ASSERT_NOT_NULL(req, "prepare");
	*(uint64_t *)vmp_pool_req_data(req) = 1;
	TEST_ASSERT_SUCCESS(vmp_pool_submit_commit(pool, req), "commit");
	TEST_ASSERT_SUCCESS(vmp_pool_stats_get(pool, &s), "stats");
	TEST_ASSERT_NULL(vmp_pool_submit_prepare(pool), "ring of 1 is full");
	TEST_ASSERT_SUCCESS(vmp_pool_stats_get(pool, &s), "stats");
	TEST_ASSERT_EQUAL_U64(s.submitted, 101, "submitted");
	TEST_ASSERT_EQUAL_U64(s.completed, 100, "completed");
	TEST_ASSERT_EQUAL_U64(s.in_flight, 1, "in flight");
	TEST_ASSERT(s.submit_full >= 1, "submit_full %" PRIu64, s.submit_full);
	for (i = 0; i < s.nb_workers; i++)
		handled_sum += s.worker[i].handled;
	TEST_ASSERT(handled_sum == 100 || handled_sum == 101,
		    "handled %" PRIu64, handled_sum);
	TEST_ASSERT(s.worker[0].busy_cycles > 0, "busy cycles");
	TEST_ASSERT_EQUAL(s.worker[0].lcore_id, rte_get_next_lcore(-1, 1, 0),
			  "worker lcore");

	rc = tel_query("/vmpath/workpool/list", buf, sizeof(buf));
	if (rc == TEST_SKIPPED) {
		printf("    no telemetry socket: telemetry part skipped\n");
	} else {
		TEST_ASSERT_SUCCESS(rc, "telemetry list");
		TEST_ASSERT_STR_CONTAINS(buf, "\"tel_test\"", "list");
		rc = tel_query("/vmpath/workpool/stats,tel_test", buf,
			       sizeof(buf));
		TEST_ASSERT_SUCCESS(rc, "telemetry stats");
		printf("    %s\n", buf);
		TEST_ASSERT_STR_CONTAINS(buf, "\"submitted\":101", "stats");
		TEST_ASSERT_STR_CONTAINS(buf, "\"completed\":100", "stats");
		TEST_ASSERT_STR_CONTAINS(buf, "\"worker0\":{", "stats");
		TEST_ASSERT_STR_CONTAINS(buf, "\"submit_full\":", "stats");
	}
	__atomic_store_n(&tel_release, 1, __ATOMIC_RELEASE);
	vmp_pool_wait_done(pool);
	TEST_ASSERT_SUCCESS(vmp_pool_destroy(pool), "destroy");
	if (rc != TEST_SKIPPED) {
		TEST_ASSERT_SUCCESS(
			tel_query("/vmpath/workpool/list", buf, sizeof(buf)),
			"list");
		TEST_ASSERT(strstr(buf, "tel_test") == NULL,
			    "destroyed pool still listed: %s", buf);
	}
	return TEST_SUCCESS;
}
