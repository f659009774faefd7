/* SPDX-License-Identifier: BSD-3-Clause */
/* The lcore planner (app/vmpath/lcore_plan.c): a pure function. */
#include <errno.h>

#include "lcore_plan.h"
#include "vmp_test.h"

static struct vmp_topo topo;
static struct vmp_plan plan;
static struct vmp_plan_req req;
static char err[512];

/* lcores 0..n-1; @per_socket lcores per socket; @threads lcores per core. */
static void
make_topo(unsigned int n, unsigned int per_socket, unsigned int threads,
	  unsigned int main_lcore)
{
	unsigned int i;

	memset(&topo, 0, sizeof(topo));
	memset(&req, 0, sizeof(req));
	topo.nb_lcores = n;
	topo.main_lcore = main_lcore;
	for (i = 0; i < n; i++) {
		unsigned int cores_per_socket = per_socket / threads;

		topo.lcores[i].lcore_id = i;
		topo.lcores[i].socket_id = (int)(i / per_socket);
		/* sibling threads: lcore i and i + cores_per_socket */
		topo.lcores[i].core_id = (i % per_socket) % cores_per_socket;
	}
}

static unsigned int
count_role(enum vmp_role role, int socket)
{
	unsigned int i, n = 0;

	for (i = 0; i < plan.nb_entries; i++)
		if (plan.entries[i].role == role &&
		    (socket < 0 || plan.entries[i].socket_id == socket))
			n++;
	return n;
}

static int
test_one_socket(void)
{
	const struct vmp_plan_entry *e;

	make_topo(4, 4, 1, 0);
	req.role[VMP_ROLE_DATAPATH].count = 1;
	req.role[VMP_ROLE_DMA].count = 1;
	req.role[VMP_ROLE_POOL].count = 1;
	req.role[VMP_ROLE_DATAPATH].socket = 0;
	TEST_ASSERT_SUCCESS(vmp_lcore_plan(&topo, &req, &plan, err,
					   sizeof(err)), "%s", err);
	TEST_ASSERT_STR_EQUAL(err, "", "no warning expected");
	e = vmp_plan_lookup(&plan, 0);
	TEST_ASSERT_NOT_NULL(e, "main lcore in plan");
	TEST_ASSERT_EQUAL(e->role, VMP_ROLE_MAIN, "main lcore keeps no role");
	TEST_ASSERT_EQUAL(plan.entries[1].role, VMP_ROLE_DATAPATH,
			  "datapath placed first");
	TEST_ASSERT_EQUAL(count_role(VMP_ROLE_DMA, -1), 1, "");
	TEST_ASSERT_EQUAL(count_role(VMP_ROLE_POOL, -1), 1, "");
	TEST_ASSERT_EQUAL(plan.nb_remote, 0, "");
	return TEST_SUCCESS;
}

static int
test_two_sockets_memory_on_1(void)
{
	unsigned int i;

	/* 8 lcores: 0-3 on socket 0, 4-7 on socket 1; main on socket 0 */
	make_topo(8, 4, 1, 0);
	req.role[VMP_ROLE_DATAPATH].count = 2;
	req.role[VMP_ROLE_DATAPATH].socket = 1;
	req.role[VMP_ROLE_POOL].count = 2;
	req.role[VMP_ROLE_POOL].socket = 1;
	TEST_ASSERT_SUCCESS(vmp_lcore_plan(&topo, &req, &plan, err,
					   sizeof(err)), "%s", err);
	TEST_ASSERT_EQUAL(count_role(VMP_ROLE_DATAPATH, 1), 2,
			  "datapath on the memory's socket");
	TEST_ASSERT_EQUAL(count_role(VMP_ROLE_POOL, 1), 2,
			  "pool on the memory's socket");
	TEST_ASSERT_EQUAL(plan.nb_remote, 0, "nothing remote");
	for (i = 0; i < 4; i++)
		TEST_ASSERT(plan.entries[i].role == VMP_ROLE_IDLE ||
				    plan.entries[i].role == VMP_ROLE_MAIN,
			    "lcore %u on socket 0 got a role", i);

	/* One more than socket 1 holds: spill to socket 0, marked remote. */
	req.role[VMP_ROLE_POOL].count = 3;
	TEST_ASSERT_SUCCESS(vmp_lcore_plan(&topo, &req, &plan, err,
					   sizeof(err)), "%s", err);
	TEST_ASSERT_EQUAL(plan.nb_remote, 1, "one remote pool worker");
	TEST_ASSERT_EQUAL(count_role(VMP_ROLE_DATAPATH, 1), 2,
			  "datapath keeps its socket (placed first)");
	TEST_ASSERT_STR_CONTAINS(err, "another socket", "warns");

	/* ... or refuse when strict */
	req.strict_socket = true;
	TEST_ASSERT_EQUAL(vmp_lcore_plan(&topo, &req, &plan, err, sizeof(err)),
			  -ENODEV, "strict plan must be refused");
	TEST_ASSERT_STR_CONTAINS(err, "socket 1", "names the socket");
	return TEST_SUCCESS;
}

static int
test_too_few_lcores(void)
{
	make_topo(2, 2, 1, 0);
	req.role[VMP_ROLE_DATAPATH].count = 1;
	req.role[VMP_ROLE_DMA].count = 1;
	req.role[VMP_ROLE_POOL].count = 2;
	TEST_ASSERT_EQUAL(vmp_lcore_plan(&topo, &req, &plan, err, sizeof(err)),
			  -ENOSPC, "");
	TEST_ASSERT_STR_CONTAINS(err, "need 4 worker lcores", "says the need");
	TEST_ASSERT_STR_CONTAINS(err, "EAL gave 1", "says what there is");
	TEST_ASSERT_STR_CONTAINS(err, "pool 2", "per role");

	/* only the main lcore */
	make_topo(1, 1, 1, 0);
	req.role[VMP_ROLE_DATAPATH].count = 1;
	TEST_ASSERT_EQUAL(vmp_lcore_plan(&topo, &req, &plan, err, sizeof(err)),
			  -ENOSPC, "");
	return TEST_SUCCESS;
}

static int
test_prefers_free_cores(void)
{
	/* 4 lcores on 2 cores (SMT): lcores 0,2 on core 0, 1,3 on core 1 */
	make_topo(4, 4, 2, 0);
	req.role[VMP_ROLE_DATAPATH].count = 1;
	req.role[VMP_ROLE_DMA].count = 1;
	TEST_ASSERT_SUCCESS(vmp_lcore_plan(&topo, &req, &plan, err,
					   sizeof(err)), "%s", err);
	TEST_ASSERT_EQUAL(plan.entries[1].role, VMP_ROLE_DATAPATH, "");
	/* lcore 3 is lcore 1's sibling: DMA should take lcore 2 (core 0,
	 * shared only with the mostly-sleeping main lcore).
	 */
	TEST_ASSERT_EQUAL(plan.entries[2].role, VMP_ROLE_DMA,
			  "DMA must avoid the datapath's core");
	TEST_ASSERT_EQUAL(plan.nb_shared, 0, "");

	/* Three busy roles on two cores: someone shares, and we say so. */
	req.role[VMP_ROLE_POOL].count = 1;
	TEST_ASSERT_SUCCESS(vmp_lcore_plan(&topo, &req, &plan, err,
					   sizeof(err)), "%s", err);
	TEST_ASSERT_EQUAL(plan.nb_shared, 2, "two lcores share a core");
	TEST_ASSERT_STR_CONTAINS(err, "share a physical core", "warns");
	return TEST_SUCCESS;
}

static int
test_bad_topology(void)
{
	make_topo(3, 3, 1, 0);
	topo.lcores[2].lcore_id = 1;
	TEST_ASSERT_EQUAL(vmp_lcore_plan(&topo, &req, &plan, err, sizeof(err)),
			  -EINVAL, "duplicate lcore");
	make_topo(3, 3, 1, 7);
	TEST_ASSERT_EQUAL(vmp_lcore_plan(&topo, &req, &plan, err, sizeof(err)),
			  -EINVAL, "main lcore missing");
	TEST_ASSERT_STR_CONTAINS(err, "main lcore 7", "names it");
	make_topo(0, 1, 1, 0);
	TEST_ASSERT_EQUAL(vmp_lcore_plan(&topo, &req, &plan, err, sizeof(err)),
			  -EINVAL, "empty topology");
	return TEST_SUCCESS;
}

static struct vmp_test_suite plan_suite = {
	.name = "lcore planner",
	.cases = {
		TEST_CASE(test_one_socket),
		TEST_CASE(test_two_sockets_memory_on_1),
		TEST_CASE(test_too_few_lcores),
		TEST_CASE(test_prefers_free_cores),
		TEST_CASE(test_bad_topology),
		TEST_CASES_END(),
	},
};

static int
test_lcore_plan(void)
{
	return vmp_test_suite_run(&plan_suite);
}

REGISTER_TEST_COMMAND(lcore_plan_autotest, test_lcore_plan);
