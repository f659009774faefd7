/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/vnet against a hostile vhost-user frontend on the control path: the
 * crafted frontend (vhu_front.c) sends what QEMU never would, and the test,
 * as the datapath lcore, checks that vmpath neither crashes (SIGSEGV,
 * SIGBUS, SIGPIPE), nor stalls (a datapath lcore in write(), the vhost-user
 * thread in read()), nor writes outside guest memory:
 * - a running ring grown by SET_VRING_NUM past guest memory is refused;
 * - a second connection on the socket while the first runs (what a
 *   same-host live migration does) keeps apart, and takes over when the first
 *   goes; a SET_MEM_TABLE that fails on a running device leaves no table;
 * - call fds that are not eventfds (full pipe, pipe without reader) are
 *   refused, an eventfd with a full counter does not block the datapath;
 * - shared memory shorter than its mapping, shrunk after SET_MEM_TABLE, and
 *   a dirty log shorter than declared;
 * - a half-sent message does not keep other ports from being served.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/vhost.h>
#include <linux/virtio_net.h>

#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <vmp_vnet.h>

#include "vhu_front.h"
#include "vmp_test.h"

#define RXQ 0
#define TXQ 1
#define HDR 12
#define BUF(k) (VHU_GPA_BASE + 0x10000 + (uint64_t)(k)*0x1000)
/* past the first MiB: beyond a file of 1 MiB */
#define FAR_BUF (VHU_GPA_BASE + (3u << 20))
#define FEATURES                                                               \
	((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_NET_F_MRG_RXBUF) |     \
	 (1ULL << 30))
#define REPLY_ACK (1ULL << 3) /* VHOST_USER_PROTOCOL_F_REPLY_ACK */
#define NEED_REPLY (1u << 3)
#define SET_FEATURES 2
#define GET_FEATURES 1
#define GET_QUEUE_NUM 17
#define GET_INFLIGHT_FD 31
#define SET_MEM_TABLE 5
#define SET_LOG_BASE 6
#define SET_VRING_NUM 8
#define SET_VRING_ADDR 9

/* SET_MEM_TABLE payload with one region */
struct mem_table {
	uint32_t n, pad;
	uint64_t gpa, size, uaddr, off;
};

static struct rte_mempool *mp;
static struct vmp_vnet_port *port[2];
static char path[2][64];
static struct vhu_front fa, fb;

static void
front_reset(struct vhu_front *f)
{
	memset(f, 0, sizeof(*f));
	f->sock = f->memfd = f->logfd = -1;
}

static void
front_close(struct vhu_front *f)
{
	if (f->sock >= 0 || f->memfd >= 0)
		vhu_front_close(f);
	if (f->memfd >= 0)
		f->memfd = -1;
	front_reset(f);
}

static int
case_setup(void)
{
	struct vmp_vnet_port_conf pc = {.nb_qp = 1, .socket_id = 0};
	unsigned int k;

	front_reset(&fa);
	front_reset(&fb);
	for (k = 0; k < 2; k++) {
		snprintf(path[k], sizeof(path[k]), "/tmp/vmpt-hctl-%d-%u.sock",
			 getpid(), k);
		unlink(path[k]);
		pc.path = path[k];
		pc.mp = mp;
		port[k] = vmp_vnet_port_create(&pc);
		TEST_ASSERT_NOT_NULL(port[k], "port %u create", k);
	}
	return TEST_SUCCESS;
}

static void
case_teardown(void)
{
	unsigned int k;

	front_close(&fa);
	front_close(&fb);
	for (k = 0; k < 2; k++) {
		vmp_vnet_port_destroy(port[k]);
		unlink(path[k]);
	}
}

static struct vmp_vnet_port_info
info(unsigned int k)
{
	struct vmp_vnet_port_info in;

	vmp_vnet_port_info_get(port[k], &in);
	return in;
}

/* Wait up to 2 s for port @k's running vrings to be @want. */
static bool
wait_running(unsigned int k, uint32_t want)
{
	int i;

	for (i = 0; i < 200; i++) {
		if (info(k).running == want)
			return true;
		usleep(10000);
	}
	return false;
}

/* A 64-byte packet in guest TX slot @s of @f; dequeue it on port @k. */
static unsigned int
tx_one(struct vhu_front *f, unsigned int k, uint16_t s)
{
	struct vring_desc *d = &f->ring[TXQ].desc[s];
	struct rte_mbuf *m[4];
	unsigned int n = 0;
	int i;

	*d = (struct vring_desc){BUF(s), HDR + 64, 0, 0};
	vhu_front_post(f, TXQ, s);
	for (i = 0; i < 100 && n == 0; i++) {
		n = vmp_vnet_dequeue_burst(port[k], 0, m, 4);
		if (n == 0)
			usleep(1000);
	}
	rte_pktmbuf_free_bulk(m, n);
	return n;
}

/* Post guest RX buffer @gpa in slot @s of @f; enqueue one packet on @k. */
static unsigned int
rx_one(struct vhu_front *f, unsigned int k, uint16_t s, uint64_t gpa)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	unsigned int n;

	if (m == NULL)
		return 0;
	rte_pktmbuf_append(m, 60);
	f->ring[RXQ].desc[s] =
		(struct vring_desc){gpa, 2048, VRING_DESC_F_WRITE, 0};
	vhu_front_post(f, RXQ, s);
	n = vmp_vnet_enqueue_burst(port[k], 0, &m, 1);
	if (n == 0)
		rte_pktmbuf_free(m);
	return n;
}

/* SET_VRING_NUM grows a running ring so that it no longer fits in guest
 * memory: rte_vhost takes the size without translating the ring again. */
static int
test_ring_grown_past_memory(void)
{
	uint64_t end = VHU_GPA_BASE + VHU_MEM_SIZE;
	struct {
		uint32_t index, flags;
		uint64_t desc, used, avail, log;
	} __attribute__((packed)) a = {.index = RXQ};
	struct {
		uint32_t index, num;
	} st = {RXQ, 32768};
	struct vmp_vnet_vq_stats vs;

	TEST_ASSERT_SUCCESS(vhu_front_open(&fa, path[0], FEATURES), "open");
	TEST_ASSERT(wait_running(0, 3), "both vrings run");
	/* the RX rings at the last three pages: size 256 fits there */
	a.desc = (uint64_t)(uintptr_t)vhu_gpa(&fa, end - 0x3000);
	a.avail = (uint64_t)(uintptr_t)vhu_gpa(&fa, end - 0x2000);
	a.used = (uint64_t)(uintptr_t)vhu_gpa(&fa, end - 0x1000);
	TEST_ASSERT_SUCCESS(
		vhu_front_send(&fa, SET_VRING_ADDR, 0, &a, sizeof(a), -1),
		"vring addr");
	/* 32768 used elements: 252 KiB past the end of guest memory */
	TEST_ASSERT_SUCCESS(
		vhu_front_send(&fa, SET_VRING_NUM, 0, &st, sizeof(st), -1),
		"vring num");
	TEST_ASSERT(wait_running(0, 1u << TXQ),
		    "RX vring refused (running 0x%x), TX still runs",
		    info(0).running);
	TEST_ASSERT(info(0).broken & (1u << RXQ), "RX vring reported broken");
	vmp_vnet_vq_stats_get(port[0], RXQ, &vs);
	TEST_ASSERT(vs.broken >= 1, "refusal counted");
	TEST_ASSERT_EQUAL(tx_one(&fa, 0, 0), 1, "TX vring still serves");
	return TEST_SUCCESS;
}

/* A second frontend on the same socket while the first runs traffic (a
 * same-host live migration's destination): no crash, the first keeps
 * working, and the second's rings run once the first is gone. */
static int
test_second_connection(void)
{
	struct vmp_vnet_port_info in;
	struct vring_used_elem e;
	int i;

	TEST_ASSERT_SUCCESS(vhu_front_open(&fa, path[0], FEATURES), "open A");
	TEST_ASSERT(wait_running(0, 3), "A's vrings run");
	TEST_ASSERT_EQUAL(tx_one(&fa, 0, 0), 1, "A passes traffic");
	TEST_ASSERT_SUCCESS(vhu_front_open(&fb, path[0], FEATURES), "open B");
	for (i = 0; i < 200; i++) {
		in = info(0);
		if (in.nb_conns == 2 && in.conn[1].running)
			break;
		usleep(10000);
	}
	TEST_ASSERT_EQUAL(in.nb_conns, 2, "two connections listed");
	TEST_ASSERT(in.conn[0].polled && !in.conn[1].polled,
		    "A polled, B waits");
	TEST_ASSERT(in.conn[1].running && in.conn[1].mem_valid,
		    "B set up its device");
	TEST_ASSERT_EQUAL(tx_one(&fa, 0, 1), 1, "A still passes traffic");
	TEST_ASSERT_EQUAL(rx_one(&fa, 0, 0, BUF(20)), 1, "A still receives");
	front_close(&fa);
	for (i = 0; i < 200; i++) {
		in = info(0);
		if (in.nb_conns == 1 && in.running == 3)
			break;
		usleep(10000);
	}
	TEST_ASSERT(in.nb_conns == 1 && in.conn[0].polled && in.running == 3,
		    "B's vrings run after A left (conns %u, running 0x%x)",
		    in.nb_conns, in.running);
	TEST_ASSERT_EQUAL(in.vid, in.conn[0].vid, "B's vid polled");
	TEST_ASSERT_EQUAL(tx_one(&fb, 0, 0), 1, "B passes traffic");
	TEST_ASSERT_EQUAL(rx_one(&fb, 0, 0, BUF(20)), 1, "B receives");
	TEST_ASSERT_SUCCESS(vhu_front_used(&fb, RXQ, &e), "B's RX used");
	return TEST_SUCCESS;
}

/* SET_MEM_TABLE that rte_vhost fails (a new table, on a read-only fd: its
 * mmap fails) on a running device: rte_vhost keeps no table; the next
 * message must not make vmpath read it; a good table brings the vrings
 * back. */
static int
test_mem_table_fails_running(void)
{
	struct vhu_front_opts o = {.protocol_features = REPLY_ACK};
	struct mem_table mt = {1, 0, VHU_GPA_BASE, VHU_MEM_SIZE / 2, 0, 0};
	char proc[64];
	uint64_t v = 0;
	int ro;

	TEST_ASSERT_SUCCESS(vhu_front_open_opts(&fa, path[0], FEATURES, &o),
			    "open");
	TEST_ASSERT(wait_running(0, 3), "both vrings run");
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fa.memfd);
	ro = open(proc, O_RDONLY);
	TEST_ASSERT(ro >= 0, "read-only memfd");
	mt.uaddr = (uint64_t)(uintptr_t)fa.mem;
	TEST_ASSERT_SUCCESS(vhu_front_send(&fa, SET_MEM_TABLE, NEED_REPLY, &mt,
					   sizeof(mt), ro),
			    "bad table");
	close(ro);
	TEST_ASSERT_SUCCESS(vhu_front_recv(&fa, &v), "ack");
	TEST_ASSERT(v != 0, "rte_vhost failed the table");
	/* any next message: vmpath resumes the vrings after it */
	TEST_ASSERT_SUCCESS(vhu_front_send(&fa, GET_FEATURES, 0, NULL, 0, -1),
			    "next message");
	TEST_ASSERT_SUCCESS(vhu_front_recv(&fa, &v), "answered");
	TEST_ASSERT(wait_running(0, 0), "no vring runs without memory");
	TEST_ASSERT(!info(0).conn[0].mem_valid, "memory reported invalid");
	TEST_ASSERT_EQUAL(rx_one(&fa, 0, 0, BUF(20)), 0, "RX refused");
	TEST_ASSERT_SUCCESS(vhu_front_set_mem_table(&fa), "good table");
	TEST_ASSERT(wait_running(0, 3), "vrings run again (0x%x)",
		    info(0).running);
	TEST_ASSERT_EQUAL(tx_one(&fa, 0, 0), 1, "traffic again");
	return TEST_SUCCESS;
}

static int
dequeue_lcore(void *arg)
{
	struct rte_mbuf *m[4];
	uint16_t n = vmp_vnet_dequeue_burst(port[0], 0, m, 4);

	rte_pktmbuf_free_bulk(m, n);
	*(unsigned int *)arg = n;
	return 0;
}

static int
enqueue_lcore(void *arg)
{
	*(unsigned int *)arg = rx_one(&fa, 0, 0, BUF(20));
	return 0;
}

/* Run @fn on another lcore, the datapath; true if it is still inside after
 * 2 s (blocked in a write()): then read @drain_fd to let it go. */
static bool
datapath_blocks(lcore_function_t *fn, unsigned int *out, int drain_fd)
{
	unsigned int lc = rte_get_next_lcore(-1, 1, 0);
	char junk[65536];
	bool blocked;
	int i;

	rte_eal_remote_launch(fn, out, lc);
	for (i = 0; i < 200; i++) {
		if (rte_eal_get_lcore_state(lc) != RUNNING)
			break;
		usleep(10000);
	}
	blocked = rte_eal_get_lcore_state(lc) == RUNNING;
	if (blocked && read(drain_fd, junk, sizeof(junk)) < 0)
		printf("cannot drain fd %d\n", drain_fd);
	rte_eal_wait_lcore(lc);
	return blocked;
}

/* Call fds the datapath must not block on: an eventfd whose counter is at
 * its maximum (TX) blocks a write() unless made non-blocking; a full
 * blocking pipe (RX) is refused. */
static int
test_call_fd_blocking(void)
{
	struct vhu_front_opts o;
	uint64_t max = 0xfffffffffffffffeULL;
	unsigned int n = 0;
	bool blocked;
	char junk[4096];
	int p[2], efd;

	if (rte_get_next_lcore(-1, 1, 0) >= RTE_MAX_LCORE)
		return TEST_SKIPPED;
	memset(&o, 0, sizeof(o));
	memset(junk, 0, sizeof(junk));
	TEST_ASSERT_SUCCESS(pipe2(p, O_NONBLOCK), "pipe");
	while (write(p[1], junk, sizeof(junk)) > 0)
		;
	fcntl(p[1], F_SETFL, 0); /* full, and blocking */
	efd = eventfd(0, 0);
	TEST_ASSERT(efd >= 0 && write(efd, &max, 8) == 8, "full eventfd");
	o.call_fd[RXQ] = p[1];
	o.call_fd[TXQ] = efd;
	TEST_ASSERT_SUCCESS(vhu_front_open_opts(&fa, path[0], FEATURES, &o),
			    "open");
	TEST_ASSERT(wait_running(0, 1u << TXQ) || wait_running(0, 3),
		    "TX vring runs");
	fa.ring[TXQ].desc[0] = (struct vring_desc){BUF(0), HDR + 64, 0, 0};
	vhu_front_post(&fa, TXQ, 0);
	blocked = datapath_blocks(dequeue_lcore, &n, efd);
	close(efd);
	if (!blocked) {
		blocked = datapath_blocks(enqueue_lcore, &n, p[0]);
		n = blocked ? 0 : 1;
	}
	close(p[0]);
	close(p[1]);
	TEST_ASSERT(n == 1 && !blocked,
		    "datapath lcore blocked writing a call fd");
	TEST_ASSERT_EQUAL(info(0).running, 1u << TXQ,
			  "pipe refused as call fd");
	TEST_ASSERT(info(0).broken & (1u << RXQ), "RX vring reported broken");
	return TEST_SUCCESS;
}

/* A pipe without a reader as call fd: a write raises SIGPIPE, which ends a
 * process that does not ignore it (vmpath-test and vmpath do). */
static int
test_call_fd_no_reader(void)
{
	struct vhu_front_opts o;
	int p[2];

	memset(&o, 0, sizeof(o));
	TEST_ASSERT_SUCCESS(pipe(p), "pipe");
	close(p[0]);
	o.call_fd[RXQ] = p[1];
	TEST_ASSERT_SUCCESS(vhu_front_open_opts(&fa, path[0], FEATURES, &o),
			    "open");
	close(p[1]);
	TEST_ASSERT(wait_running(0, 1u << TXQ), "pipe refused, running 0x%x",
		    info(0).running);
	TEST_ASSERT_EQUAL(rx_one(&fa, 0, 0, BUF(20)), 0, "RX refused");
	TEST_ASSERT_EQUAL(tx_one(&fa, 0, 0), 1, "TX serves");
	return TEST_SUCCESS;
}

/* Guest memory whose file is shorter than the region: touching the tail
 * raises SIGBUS. The table is refused; the port stays down. */
static int
test_short_memfd(void)
{
	struct vhu_front_opts o = {.mem_file_size = 1u << 20};

	/* refused mid-way: rte_vhost closes the connection */
	vhu_front_open_opts(&fa, path[0], FEATURES, &o);
	usleep(100000);
	if (info(0).running & (1u << RXQ))
		rx_one(&fa, 0, 0, FAR_BUF); /* past the file's end */
	TEST_ASSERT(wait_running(0, 0), "no vring runs");
	TEST_ASSERT(!info(0).connected, "port down");
	return TEST_SUCCESS;
}

/* A memfd that allows sealing, shrunk by the frontend after SET_MEM_TABLE:
 * vmpath sealed it, the shrink fails, traffic continues. */
static int
test_memfd_shrunk(void)
{
	struct vhu_front_opts o = {.memfd_flags = MFD_ALLOW_SEALING};
	struct vring_used_elem e;
	int rc;

	TEST_ASSERT_SUCCESS(vhu_front_open_opts(&fa, path[0], FEATURES, &o),
			    "open");
	TEST_ASSERT(wait_running(0, 3), "both vrings run");
	rc = ftruncate(fa.memfd, 1u << 20);
	TEST_ASSERT_EQUAL(rx_one(&fa, 0, 0, FAR_BUF), 1, "RX delivered");
	TEST_ASSERT(rc < 0 && errno == EPERM, "shrink refused (rc %d)", rc);
	TEST_ASSERT_SUCCESS(vhu_front_used(&fa, RXQ, &e), "RX used");
	return TEST_SUCCESS;
}

/* A dirty log whose file is shorter than the log it declares: logging
 * raises SIGBUS. SET_LOG_BASE is refused and the connection closed. */
static int
test_short_log(void)
{
	struct {
		uint64_t size, off;
	} lg = {4096, 0};
	uint64_t v;
	int fd = memfd_create("short_log", 0), rc;

	TEST_ASSERT(fd >= 0, "memfd");
	TEST_ASSERT_SUCCESS(vhu_front_open(&fa, path[0], FEATURES), "open");
	TEST_ASSERT(wait_running(0, 3), "both vrings run");
	rc = vhu_front_send(&fa, SET_LOG_BASE, 0, &lg, sizeof(lg), fd);
	close(fd);
	if (rc == 0)
		rc = vhu_front_recv(&fa, &v);
	if (rc == 0) {
		uint64_t f = FEATURES | (1ULL << VHOST_F_LOG_ALL);

		vhu_front_send(&fa, SET_FEATURES, 0, &f, 8, -1);
		usleep(100000);
		rx_one(&fa, 0, 0, BUF(20)); /* logs into the empty file */
	}
	TEST_ASSERT(rc != 0, "short log refused");
	TEST_ASSERT(wait_running(0, 0), "connection dropped");
	return TEST_SUCCESS;
}

static unsigned int
count_fds(void)
{
	char p[64];
	unsigned int n = 0;
	int fd;

	for (fd = 0; fd < 4096; fd++) {
		snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
		if (access(p, F_OK) == 0)
			n++;
	}
	return n;
}

/* Messages vmpath refuses (short memory, bad payload sizes) with
 * REPLY_ACK: each is answered with an error, the connection stays, the
 * vrings keep running on the old table, and no fd stays open. */
static int
test_refused_fds_closed(void)
{
	struct vhu_front_opts o = {.protocol_features = REPLY_ACK};
	struct mem_table mt = {1, 0, VHU_GPA_BASE, VHU_MEM_SIZE, 0, 0};
	unsigned int before, after, i;
	uint64_t v;

	TEST_ASSERT_SUCCESS(vhu_front_open_opts(&fa, path[0], FEATURES, &o),
			    "open");
	TEST_ASSERT(wait_running(0, 3), "both vrings run");
	mt.uaddr = (uint64_t)(uintptr_t)fa.mem;
	before = count_fds();
	for (i = 0; i < 50; i++) {
		int fd = memfd_create("short", 0);
		/* 0: region past the file; 1: payload shorter than its
		 * regions; 2: two regions declared, one fd */
		uint32_t size = i % 3 == 1 ? 16 : sizeof(mt);

		TEST_ASSERT(fd >= 0 && ftruncate(fd, 4096) == 0, "memfd");
		mt.n = i % 3 == 2 ? 2 : 1;
		TEST_ASSERT_SUCCESS(vhu_front_send(&fa, SET_MEM_TABLE,
						   NEED_REPLY, &mt, size, fd),
				    "send %u", i);
		close(fd);
		TEST_ASSERT_SUCCESS(vhu_front_recv(&fa, &v), "ack %u", i);
		TEST_ASSERT(v != 0, "table %u refused", i);
	}
	after = count_fds();
	TEST_ASSERT(after <= before, "fds %u before, %u after 50 refusals",
		    before, after);
	TEST_ASSERT(wait_running(0, 3), "vrings still run");
	TEST_ASSERT_EQUAL(tx_one(&fa, 0, 0), 1, "old table still serves");
	return TEST_SUCCESS;
}

/* GET_QUEUE_NUM is answered by vmpath's own hook, where rte_vhost no
 * longer closes what came with a message: fds sent with it are closed. */
static int
test_answered_fds_closed(void)
{
	unsigned int before, after, i;
	uint64_t v;

	TEST_ASSERT_SUCCESS(vhu_front_open(&fa, path[0], FEATURES), "open");
	TEST_ASSERT(wait_running(0, 3), "both vrings run");
	before = count_fds();
	for (i = 0; i < 50; i++) {
		int fd = eventfd(0, 0);

		TEST_ASSERT(fd >= 0, "eventfd");
		TEST_ASSERT_SUCCESS(
			vhu_front_send(&fa, GET_QUEUE_NUM, 0, NULL, 0, fd),
			"send %u", i);
		close(fd);
		TEST_ASSERT_SUCCESS(vhu_front_recv(&fa, &v), "reply %u", i);
		TEST_ASSERT_EQUAL(v, 1, "one queue pair served");
	}
	after = count_fds();
	TEST_ASSERT(after <= before, "fds %u before, %u after 50 answers",
		    before, after);
	TEST_ASSERT_EQUAL(tx_one(&fa, 0, 0), 1, "vrings still serve");
	return TEST_SUCCESS;
}

/* Requests for features vmpath does not offer are refused before
 * rte_vhost acts on them: GET_INFLIGHT_FD would have it create (and keep)
 * a shared memory file sized by the frontend. */
static int
test_unoffered_refused(void)
{
	struct vhu_front_opts o = {.protocol_features = REPLY_ACK};
	/* mmap_size, mmap_offset, num_queues, queue_size */
	struct {
		uint64_t size, off;
		uint16_t nq, qs;
	} __attribute__((packed)) inflight = {0, 0, 2, 256};
	unsigned int before, after, i;
	uint64_t v;

	TEST_ASSERT_SUCCESS(vhu_front_open_opts(&fa, path[0], FEATURES, &o),
			    "open");
	TEST_ASSERT(wait_running(0, 3), "both vrings run");
	before = count_fds();
	for (i = 0; i < 10; i++) {
		TEST_ASSERT_SUCCESS(vhu_front_send(&fa, GET_INFLIGHT_FD,
						   NEED_REPLY, &inflight,
						   sizeof(inflight), -1),
				    "send %u", i);
		TEST_ASSERT_SUCCESS(vhu_front_recv(&fa, &v), "reply %u", i);
		TEST_ASSERT_EQUAL(v, 1, "GET_INFLIGHT_FD %u refused", i);
	}
	after = count_fds();
	TEST_ASSERT(after <= before, "fds %u before, %u after", before, after);
	TEST_ASSERT_EQUAL(tx_one(&fa, 0, 0), 1, "vrings still serve");
	return TEST_SUCCESS;
}

/* Open @f on port @k and wait until both vrings run: 0 and the time in ms,
 * or a negative errno. */
static int
timed_open(struct vhu_front *f, unsigned int k, uint64_t *ms)
{
	uint64_t t0 = rte_get_timer_cycles();
	int rc = vhu_front_open(f, path[k], FEATURES);

	if (rc == 0 && !wait_running(k, 3))
		rc = -ETIMEDOUT;
	*ms = (rte_get_timer_cycles() - t0) * 1000 / rte_get_timer_hz();
	return rc;
}

/* A frontend that sends a header and never its payload: rte_vhost reads
 * the payload with a blocking read() on the thread that serves every
 * port. Another port must still get its frontend set up. */
static int
test_half_sent_message(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	uint32_t hdr[3] = {SET_FEATURES, 1, 8};
	struct timeval tv = {.tv_sec = 1};
	uint64_t ms, anchor;
	unsigned int k;
	int s, rc;
	char c;

	/* rte_vhost polls a new listening socket only after its poll() of up
	 * to 1 s returns: a first frontend on each port, then the anchor
	 * (the same set-up with nobody else on the thread) */
	for (k = 0; k < 2; k++) {
		TEST_ASSERT_SUCCESS(timed_open(&fa, k, &ms), "warm-up %u", k);
		front_close(&fa);
		TEST_ASSERT(wait_running(k, 0), "warm-up %u gone", k);
	}
	TEST_ASSERT_SUCCESS(timed_open(&fa, 0, &anchor), "anchor");
	front_close(&fa);
	TEST_ASSERT(wait_running(0, 0), "anchor gone");

	s = socket(AF_UNIX, SOCK_STREAM, 0);
	TEST_ASSERT(s >= 0, "socket");
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path[1]);
	TEST_ASSERT_SUCCESS(connect(s, (struct sockaddr *)&sa, sizeof(sa)),
			    "connect");
	TEST_ASSERT_EQUAL(send(s, hdr, sizeof(hdr), 0), (ssize_t)sizeof(hdr),
			  "header");
	usleep(20000);
	rc = timed_open(&fa, 0, &ms);
	if (rc != 0)
		close(s); /* frees a blocked vhost-user thread */
	TEST_ASSERT_SUCCESS(rc, "other port set up (%d after %" PRIu64 " ms)",
			    rc, ms);
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	rc = (int)recv(s, &c, 1, 0);
	close(s);
	TEST_ASSERT_EQUAL(rc, 0, "half message's connection closed by vmpath");
	printf("other port running %" PRIu64 " ms after the half message "
	       "(%" PRIu64 " ms without it)\n",
	       ms, anchor);
	return TEST_SUCCESS;
}

static int
suite_setup(void)
{
	mp = rte_pktmbuf_pool_create("vnet_hctl", 1023, 0, 0,
				     RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	TEST_ASSERT_NOT_NULL(mp, "mempool");
	return TEST_SUCCESS;
}

static void
suite_teardown(void)
{
	rte_mempool_free(mp);
}

static struct vmp_test_suite hostile_ctl_suite = {
	.name = "vnet: hostile vhost-user frontend (control path)",
	.setup = suite_setup,
	.teardown = suite_teardown,
	.cases =
		{
			TEST_CASE_ST(case_setup, case_teardown,
				     test_ring_grown_past_memory),
			TEST_CASE_ST(case_setup, case_teardown,
				     test_second_connection),
			TEST_CASE_ST(case_setup, case_teardown,
				     test_mem_table_fails_running),
			TEST_CASE_ST(case_setup, case_teardown,
				     test_call_fd_blocking),
			TEST_CASE_ST(case_setup, case_teardown,
				     test_call_fd_no_reader),
			TEST_CASE_ST(case_setup, case_teardown,
				     test_short_memfd),
			TEST_CASE_ST(case_setup, case_teardown,
				     test_memfd_shrunk),
			TEST_CASE_ST(case_setup, case_teardown, test_short_log),
			TEST_CASE_ST(case_setup, case_teardown,
				     test_half_sent_message),
			TEST_CASE_ST(case_setup, case_teardown,
				     test_refused_fds_closed),
			TEST_CASE_ST(case_setup, case_teardown,
				     test_answered_fds_closed),
			TEST_CASE_ST(case_setup, case_teardown,
				     test_unoffered_refused),
			TEST_CASES_END(),
		},
};

static int
test_vnet_hostile_ctl(void)
{
	return vmp_test_suite_run(&hostile_ctl_suite);
}

REGISTER_TEST_COMMAND(vnet_hostile_ctl_autotest, test_vnet_hostile_ctl);
