/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * How much a hostile frontend on one port takes from another port's
 * datapath: the victim port's guest TX vring is kept full of 64-byte
 * packets and dequeued by a datapath lcore for a second, while an attacker
 * process on a second port floods control messages. Rows: nobody (the
 * anchor, measured in every round), vring enable/disable toggles (each
 * parks and restarts the attacker's vrings), the same memory table again
 * and again (a draining park each), half-sent messages (each holds the
 * vhost-user thread until its 100 ms receive timeout). As in the app, the
 * vhost-user thread shares the main lcore's CPU, not the datapath's; the
 * attacker runs on the CPUs the victim's lcore does not use. Prints medians
 * of rounds; asserts nothing about speed.
 */
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/virtio_net.h>

#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <vmp_vnet.h>

#include "vhu_front.h"
#include "vnet_test_util.h"
#include "vmp_test.h"

#define HDR 12
#define BUF(k) (VHU_GPA_BASE + 0x10000 + (uint64_t)(k)*0x1000)
#define NB_DESC 128
#define ROUNDS 3
#define SET_VRING_ENABLE 18
#define SET_FEATURES 2

enum attack { NONE, ENABLE, MEMTABLE, HALF, NB_ATTACKS };
static const char *const attack_name[NB_ATTACKS] = {
	"none (anchor)", "vring enable toggles", "same memory table",
	"half-sent messages"};

static struct vhu_front fv;
static struct vmp_vnet_port *pv, *pa;
static struct rte_mempool *mpv;

/* Dequeue the victim's TX vring for @secs, reposting each used buffer;
 * packets per second. */
static double
victim_rate(double secs)
{
	uint64_t hz = rte_get_timer_hz(), t0 = rte_get_timer_cycles();
	uint64_t end = t0 + (uint64_t)(secs * hz), pkts = 0;
	struct rte_mbuf *m[32];
	struct vring_used_elem e;

	while (rte_get_timer_cycles() < end) {
		uint16_t n = vmp_vnet_dequeue_burst(pv, 0, m, RTE_DIM(m));

		rte_pktmbuf_free_bulk(m, n);
		pkts += n;
		while (vhu_front_used(&fv, 1, &e) == 0)
			vhu_front_post(&fv, 1, (uint16_t)e.id);
	}
	return (double)pkts * hz / (rte_get_timer_cycles() - t0);
}

/* The attacker, a process of its own: its own frontend connection on
 * @path (the one whose vrings run there), then @a until killed. */
static void
attack_loop(enum attack a, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct vhu_front fa;
	uint32_t st[2] = {0, 0};
	uint32_t hdr[3] = {SET_FEATURES, 1, 8};
	char c;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (vhu_front_open(&fa, path,
			   (1ULL << VIRTIO_F_VERSION_1) | (1ULL << 30)) < 0)
		return;
	for (;;) {
		int s;

		switch (a) {
		case ENABLE:
			st[1] ^= 1;
			vhu_front_send(&fa, SET_VRING_ENABLE, 0, st, 8, -1);
			break;
		case MEMTABLE:
			vhu_front_set_mem_table(&fa);
			break;
		case HALF:
			s = socket(AF_UNIX, SOCK_STREAM, 0);
			if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) ==
				    0 &&
			    send(s, hdr, sizeof(hdr), 0) == sizeof(hdr))
				while (recv(s, &c, 1, 0) > 0)
					;
			close(s);
			break;
		default:
			pause();
		}
	}
}

static int
victim_lcore(void *arg)
{
	*(double *)arg = victim_rate(1.0);
	return 0;
}

/* One measurement: the attacker (a child process) runs @a on the second
 * port while the victim is dequeued on datapath lcore @lcore (as in the
 * app, the vhost-user thread stays with the main lcore). */
static double
measure(enum attack a, const char *apath, unsigned int lcore)
{
	pid_t pid = fork();
	double r = 0;

	if (pid == 0) {
		/* a frontend runs on CPUs of its own, not on the victim's
		 * lcore */
		rte_cpuset_t other, lc = rte_lcore_cpuset(lcore);
		int cpu;

		CPU_ZERO(&other);
		for (cpu = 0; cpu < (int)sysconf(_SC_NPROCESSORS_ONLN); cpu++)
			if (!CPU_ISSET(cpu, &lc))
				CPU_SET(cpu, &other);
		if (CPU_COUNT(&other) > 0)
			sched_setaffinity(0, sizeof(other), &other);
		attack_loop(a, apath);
		_exit(0);
	}
	usleep(200000);
	if (lcore == rte_lcore_id())
		victim_lcore(&r);
	else if (rte_eal_remote_launch(victim_lcore, &r, lcore) == 0)
		rte_eal_wait_lcore(lcore);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	/* let the attacker's port settle (vrings back on) */
	usleep(200000);
	return r;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int
test_vnet_hostile_rate(void)
{
	struct vmp_vnet_port_conf pc = {.nb_qp = 1};
	double r[NB_ATTACKS][ROUNDS];
	char apath[64];
	unsigned int k, a, i, lc = rte_get_next_lcore(-1, 1, 0);

	if (lc >= RTE_MAX_LCORE) /* one lcore: the victim on it */
		lc = rte_lcore_id();
	if (vnet_test_port_open("hrate-v", &fv, &pv, &mpv) < 0)
		return TEST_FAILED;
	snprintf(apath, sizeof(apath), "/tmp/vmpt-hrate-a-%d.sock", getpid());
	unlink(apath);
	pc.path = apath;
	pc.mp = mpv;
	pa = vmp_vnet_port_create(&pc);
	TEST_ASSERT_NOT_NULL(pa, "attacker's port");
	/* rte_vhost polls a new listening socket after its next poll() */
	sleep(1);
	for (k = 0; k < NB_DESC; k++) {
		fv.ring[1].desc[k] =
			(struct vring_desc){BUF(k), HDR + 64, 0, 0};
		vhu_front_post(&fv, 1, (uint16_t)k);
	}
	for (i = 0; i < ROUNDS; i++)
		for (a = 0; a < NB_ATTACKS; a++)
			r[a][i] = measure((enum attack)a, apath, lc);
	printf("\nvictim port: guest TX 64 B packets dequeued per second on "
	       "lcore %u (CPU %d), %u rounds of 1 s\n",
	       lc, rte_lcore_to_cpu_id((int)lc), ROUNDS);
	printf("%-22s %10s %10s %10s %8s\n", "attack on other port",
	       "median Mpps", "min", "max", "vs anchor");
	for (a = 0; a < NB_ATTACKS; a++)
		qsort(r[a], ROUNDS, sizeof(double), cmp_double);
	for (a = 0; a < NB_ATTACKS; a++)
		printf("%-22s %10.3f %10.3f %10.3f %7.0f%%\n", attack_name[a],
		       r[a][ROUNDS / 2] / 1e6, r[a][0] / 1e6,
		       r[a][ROUNDS - 1] / 1e6,
		       100.0 * r[a][ROUNDS / 2] / r[NONE][ROUNDS / 2]);
	vmp_vnet_port_destroy(pa);
	unlink(apath);
	vnet_test_port_close("hrate-v", &fv, pv, mpv);
	return TEST_SUCCESS;
}

REGISTER_TEST_COMMAND(vnet_hostile_rate_perf_autotest, test_vnet_hostile_rate);
