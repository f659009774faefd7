/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vmpath-linepp: how far apart two CPUs are, as the datapath and its guest
 * see it. Two threads pinned to CPU A and CPU B hand one cache line back and
 * forth (each waits for the other's value, then writes its own); the result
 * is TSC cycles per round trip (two line transfers). On a VM the hypervisor
 * may place the two vCPUs close (shared cache) or far apart, and the
 * vhost-user benchmarks follow it: vnet_bench.sh prints this before and after.
 *
 *   vmpath-linepp [CPU_A CPU_B [ROUND_TRIPS]]   (default 1 0 1000000)
 */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <x86intrin.h>

static struct {
	volatile uint64_t v;
} __attribute__((aligned(64))) line;
static uint64_t trips = 1000000;
static volatile int b_failed;

static int
pin(int cpu)
{
	cpu_set_t s;

	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	return pthread_setaffinity_np(pthread_self(), sizeof(s), &s);
}

/* B: waits for each odd value, answers with the next even one. */
static void *
side_b(void *arg)
{
	uint64_t i;

	if (pin(*(int *)arg) != 0) {
		b_failed = 1;
		return (void *)1;
	}
	for (i = 0; i < trips; i++) {
		while (line.v != 2 * i + 1)
			_mm_pause();
		line.v = 2 * i + 2;
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	int a = 1, b = 0;
	uint64_t i, t0, t;
	pthread_t th;
	void *rc;

	if (argc >= 3) {
		a = atoi(argv[1]);
		b = atoi(argv[2]);
	}
	if (argc >= 4)
		trips = strtoull(argv[3], NULL, 0);
	if (argc == 2 || trips == 0 || pin(a) != 0) {
		fprintf(stderr,
			"usage: vmpath-linepp [CPU_A CPU_B [TRIPS>0]]\n");
		return 2;
	}
	if (pthread_create(&th, NULL, side_b, &b) != 0)
		return 1;
	t0 = __rdtsc();
	for (i = 0; i < trips; i++) {
		line.v = 2 * i + 1;
		while (line.v != 2 * i + 2 && !b_failed)
			_mm_pause();
		if (b_failed)
			break;
	}
	t = __rdtsc() - t0;
	pthread_join(th, &rc);
	if (rc != NULL) {
		fprintf(stderr, "vmpath-linepp: cannot pin to CPU %d\n", b);
		return 1;
	}
	printf("linepp: CPU %d <-> CPU %d: %.0f TSC cycles per round trip\n", a,
	       b, (double)t / (double)trips);
	return 0;
}
