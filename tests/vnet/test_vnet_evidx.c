/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VIRTIO_RING_F_EVENT_IDX in lib/vnet (vnet_evidx.c):
 * - the need-event decision, with 16-bit wraps;
 * - a frontend that negotiates it gets its rings' event fields bounds-
 *   checked: rings whose elements end at the last byte of guest memory run
 *   without EVENT_IDX and are refused with it (the u16 after them would be
 *   outside);
 * - guest calls follow used_event (sent, suppressed, counted), and the
 *   call still goes out when the publication that crosses used_event
 *   wraps the used index;
 * - a halting lcore asks for kicks by writing avail_event (used->flags
 *   stays 0), and logs that write when dirty logging is on.
 * The test thread is the datapath lcore; the frontend is vhu_front.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <linux/virtio_net.h>

#include <rte_mbuf.h>

#include <vmp_vnet.h>

#include "vhu_front.h"
#include "vmp_test.h"
#include "../../lib/vnet/vnet_pvt.h" /* vnet_need_event() */

#define RXQ 0
#define TXQ 1
#define HDR 12
#define BUF(k) (VHU_GPA_BASE + 0x10000 + (uint64_t)(k)*0x1000)
#define FEATURES                                                               \
	((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_NET_F_MRG_RXBUF) |     \
	 (1ULL << 30))
#define EVIDX (1ULL << VIRTIO_RING_F_EVENT_IDX)
#define SET_VRING_NUM 8
#define REPLY_ACK (1ULL << 3) /* VHOST_USER_PROTOCOL_F_REPLY_ACK */
#define NEED_REPLY (1u << 3)
#define SET_VRING_ADDR 9

static struct rte_mempool *mp;
static struct vmp_vnet_port *port;
static char path[64];
static struct vhu_front fa;
static int callfd[2] = {-1, -1};

static int
case_setup(void)
{
	struct vmp_vnet_port_conf pc = {.nb_qp = 1, .socket_id = 0};

	memset(&fa, 0, sizeof(fa));
	fa.sock = fa.memfd = fa.logfd = -1;
	snprintf(path, sizeof(path), "/tmp/vmpt-evidx-%d.sock", getpid());
	unlink(path);
	pc.path = path;
	pc.mp = mp;
	port = vmp_vnet_port_create(&pc);
	TEST_ASSERT_NOT_NULL(port, "port create");
	callfd[0] = eventfd(0, EFD_NONBLOCK);
	callfd[1] = eventfd(0, EFD_NONBLOCK);
	TEST_ASSERT(callfd[0] >= 0 && callfd[1] >= 0, "eventfds");
	return TEST_SUCCESS;
}

static void
case_teardown(void)
{
	if (fa.sock >= 0 || fa.memfd >= 0)
		vhu_front_close(&fa);
	vmp_vnet_port_destroy(port);
	unlink(path);
	close(callfd[0]);
	close(callfd[1]);
}

static uint32_t
running(void)
{
	struct vmp_vnet_port_info in;

	vmp_vnet_port_info_get(port, &in);
	return in.running;
}

static bool
wait_running(uint32_t want)
{
	int i;

	for (i = 0; i < 200; i++) {
		if (running() == want)
			return true;
		usleep(10000);
	}
	return false;
}

static int
front_open(uint64_t features)
{
	struct vhu_front_opts o = {.call_fd = {callfd[0], callfd[1]},
				   .protocol_features = REPLY_ACK};

	TEST_ASSERT_SUCCESS(vhu_front_open_opts(&fa, path, features, &o),
			    "open");
	TEST_ASSERT(wait_running(3), "both vrings run");
	return TEST_SUCCESS;
}

/* Calls the guest got on vring @r since the last look. */
static uint64_t
calls(unsigned int r)
{
	uint64_t v = 0;

	if (read(callfd[r], &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

/* One 64-byte packet in guest TX slot @s, dequeued (and published). */
static unsigned int
tx_one(uint16_t s)
{
	struct vring_desc *d = &fa.ring[TXQ].desc[s];
	struct rte_mbuf *m[4];
	unsigned int n = 0;
	int i;

	*d = (struct vring_desc){BUF(s), HDR + 64, 0, 0};
	vhu_front_post(&fa, TXQ, s);
	for (i = 0; i < 100 && n == 0; i++) {
		n = vmp_vnet_dequeue_burst(port, 0, m, 4);
		if (n == 0)
			usleep(1000);
	}
	rte_pktmbuf_free_bulk(m, n);
	return n;
}

static uint16_t *
used_event(unsigned int r)
{
	return &fa.ring[r].avail->ring[VHU_QSIZE];
}

static uint16_t *
avail_event(unsigned int r)
{
	return (uint16_t *)(void *)&fa.ring[r].used->ring[VHU_QSIZE];
}

static int
test_need_event(void)
{
	static const struct {
		uint16_t ev, nw, old;
		bool want;
	} c[] = {
		{5, 6, 5, true},	   /* the entry asked for */
		{5, 10, 3, true},	   /* passed inside a batch */
		{5, 5, 3, false},	   /* new == event: not passed yet */
		{2, 10, 3, false},	   /* passed before this batch */
		{7, 7, 7, false},	   /* nothing moved */
		{0xffff, 1, 0xfffe, true}, /* batch wraps, event before 0 */
		{0, 3, 0xfffd, true},	   /* batch wraps, event after 0 */
		{3, 3, 0xfffd, false},	   /* wraps, event just ahead */
		{0xfff0, 0x10, 0xfff8, false},	/* wraps, event behind old */
		{0xfffd, 0xfffe, 0xfffd, true}, /* no wrap, top of the range */
	};
	unsigned int i;

	for (i = 0; i < RTE_DIM(c); i++)
		TEST_ASSERT_EQUAL(vnet_need_event(c[i].ev, c[i].nw, c[i].old),
				  c[i].want,
				  "case %u: event %#x new %#x old %#x", i,
				  c[i].ev, c[i].nw, c[i].old);
	return TEST_SUCCESS;
}

/* Send a message and wait for its REPLY_ACK: the vrings restarted. */
static int
send_acked(uint32_t req, const void *p, uint32_t size)
{
	uint64_t rc = 1;

	if (vhu_front_send(&fa, req, NEED_REPLY, p, size, -1) < 0 ||
	    vhu_front_recv(&fa, &rc) < 0)
		return -EIO;
	return rc == 0 ? 0 : -EIO;
}

/*
 * Move the RX vring's rings to the end of guest memory so that at size 256
 * the used ring's (@which 0) or the avail ring's (1) last element ends at
 * the last byte. rte_vhost translates (and bounds) rings at SET_VRING_ADDR
 * only: set them up at size 128, where everything fits, then grow the
 * ring, which it takes without translating again; our checks at the vring
 * start are then all that stands between the event field and the bytes
 * after guest memory.
 */
static int
rings_at_end(int which)
{
	uint64_t end = VHU_GPA_BASE + VHU_MEM_SIZE;
	uint64_t used_len = 4 + 8 * VHU_QSIZE, avail_len = 4 + 2 * VHU_QSIZE;
	struct {
		uint32_t index, flags;
		uint64_t desc, used, avail, log;
	} __attribute__((packed)) a = {.index = RXQ};
	struct {
		uint32_t index, num;
	} st = {RXQ, VHU_QSIZE / 2};

	a.desc = (uint64_t)(uintptr_t)vhu_gpa(&fa, end - 0x3000);
	if (which == 0) {
		a.avail = (uint64_t)(uintptr_t)vhu_gpa(&fa, end - 0x2000);
		a.used = (uint64_t)(uintptr_t)vhu_gpa(&fa, end - used_len);
	} else {
		a.used = (uint64_t)(uintptr_t)vhu_gpa(&fa, end - 0x2000);
		a.avail = (uint64_t)(uintptr_t)vhu_gpa(&fa, end - avail_len);
	}
	if (send_acked(SET_VRING_NUM, &st, sizeof(st)) < 0 ||
	    send_acked(SET_VRING_ADDR, &a, sizeof(a)) < 0)
		return -EIO;
	if (running() != 3)
		return -EAGAIN; /* size 128 fits, with the event fields */
	st.num = VHU_QSIZE;
	return send_acked(SET_VRING_NUM, &st, sizeof(st));
}

static int
ring_at_end(uint64_t features, int which, bool want_run)
{
	struct vmp_vnet_port_info in;

	TEST_ASSERT_SUCCESS(front_open(features), "open");
	TEST_ASSERT_SUCCESS(rings_at_end(which), "vring addr");
	TEST_ASSERT(wait_running(want_run ? 3 : 1u << TXQ),
		    "%s ring at the end of memory, EVENT_IDX %s: RX vring %s "
		    "(running 0x%x)",
		    which ? "avail" : "used", features & EVIDX ? "on" : "off",
		    want_run ? "runs" : "refused", running());
	vmp_vnet_port_info_get(port, &in);
	TEST_ASSERT_EQUAL(!!(in.broken & (1u << RXQ)), !want_run,
			  "RX vring broken 0x%x", in.broken);
	TEST_ASSERT_EQUAL(tx_one(0), 1, "TX vring serves");
	return TEST_SUCCESS;
}

static int
test_used_at_end_plain(void)
{
	return ring_at_end(FEATURES, 0, true);
}

static int
test_used_at_end_evidx(void)
{
	return ring_at_end(FEATURES | EVIDX, 0, false);
}

static int
test_avail_at_end_plain(void)
{
	return ring_at_end(FEATURES, 1, true);
}

static int
test_avail_at_end_evidx(void)
{
	return ring_at_end(FEATURES | EVIDX, 1, false);
}

/* Guest calls follow used_event, across a wrap of the used index. */
static int
test_used_event(void)
{
	struct vmp_vnet_vq_stats st;
	uint16_t s;

	TEST_ASSERT_SUCCESS(front_open(FEATURES | EVIDX), "open");
	TEST_ASSERT_EQUAL(fa.ring[TXQ].used->flags, 0,
			  "used->flags 0 under EVENT_IDX");
	TEST_ASSERT_EQUAL(*avail_event(TXQ), 0xffff,
			  "avail_event a wrap ahead while polling");
	calls(TXQ);
	*used_event(TXQ) = 0;
	/* the first decision after a start calls */
	TEST_ASSERT_EQUAL(tx_one(0), 1, "tx 0");
	TEST_ASSERT_EQUAL(calls(TXQ), 1, "first publication calls");
	/* used 1 -> 2, used_event 0 behind: no call */
	TEST_ASSERT_EQUAL(tx_one(1), 1, "tx 1");
	TEST_ASSERT_EQUAL(calls(TXQ), 0, "used_event passed: no call");
	/* the guest asks for the entry at index 2 */
	*used_event(TXQ) = 2;
	TEST_ASSERT_EQUAL(tx_one(2), 1, "tx 2");
	TEST_ASSERT_EQUAL(calls(TXQ), 1, "used_event 2 crossed: a call");
	/* ask for the entry at index 0xffff: the publication that moves the
	 * used index from 0xffff to 0 (old > new) must call, no other */
	*used_event(TXQ) = 0xffff;
	for (s = 3; s != 2; s++) {
		TEST_ASSERT_EQUAL(tx_one(s % VHU_QSIZE), 1, "tx %u", s);
		if (s == 0xffff)
			TEST_ASSERT_EQUAL(calls(TXQ), 1,
					  "used index 0xffff -> 0: a call");
		else
			TEST_ASSERT_EQUAL(calls(TXQ), 0, "no call at %u", s);
	}
	vmp_vnet_vq_stats_get(port, TXQ, &st);
	TEST_ASSERT_EQUAL(st.notify, 3, "calls counted");
	/* 3 + 65535 packets, each published (and decided) alone */
	TEST_ASSERT_EQUAL(st.notify_suppressed, 65538 - 3,
			  "suppressed counted");
	return TEST_SUCCESS;
}

/* A halting lcore asks for a kick through avail_event, logged. */
static int
test_avail_event_armed(void)
{
	struct vmp_vnet_waker *w = vmp_vnet_waker_create(0);
	struct vmp_vnet_port_info in;
	uint64_t avail_event_gpa;
	int i;

	TEST_ASSERT_NOT_NULL(w, "waker");
	TEST_ASSERT_SUCCESS(front_open(FEATURES | EVIDX), "open");
	avail_event_gpa = fa.ring[TXQ].used_gpa + 4 + 8 * VHU_QSIZE;
	TEST_ASSERT_SUCCESS(vhu_front_log_base(&fa), "log base");
	TEST_ASSERT_SUCCESS(
		vhu_front_set_features(&fa, FEATURES | EVIDX |
						    (1ULL << VHOST_F_LOG_ALL)),
		"features with LOG_ALL");
	for (i = 0; i < 200; i++) { /* the message is handled meanwhile */
		vmp_vnet_port_info_get(port, &in);
		if (in.log_on && in.running == 3)
			break;
		usleep(10000);
	}
	TEST_ASSERT(in.log_on && in.running == 3,
		    "vrings run again, logging on");
	TEST_ASSERT_EQUAL(tx_one(0), 1, "tx 0");
	TEST_ASSERT_EQUAL(tx_one(1), 1, "tx 1");
	TEST_ASSERT_SUCCESS(vmp_vnet_port_set_waker(port, 0, w), "waker");
	vhu_front_log_clear(&fa);
	TEST_ASSERT_EQUAL(vmp_vnet_waker_sleep(w, 1000, NULL, NULL), 1,
			  "slept (1 ms timeout)");
	TEST_ASSERT_EQUAL(*avail_event(TXQ), 2,
			  "avail_event = last avail seen");
	TEST_ASSERT_EQUAL(fa.ring[TXQ].used->flags, 0, "used->flags untouched");
	TEST_ASSERT(vhu_front_logged(&fa, avail_event_gpa),
		    "avail_event store logged");
	/* awake: left behind, one kick at the guest's next buffer */
	TEST_ASSERT_EQUAL(tx_one(2), 1, "tx 2");
	TEST_ASSERT_EQUAL(*avail_event(TXQ), 2, "left behind while polling");
	TEST_ASSERT_SUCCESS(vmp_vnet_port_set_waker(port, 0, NULL), "detach");
	TEST_ASSERT_SUCCESS(vmp_vnet_waker_free(w), "waker free");
	return TEST_SUCCESS;
}

static int
suite_setup(void)
{
	mp = rte_pktmbuf_pool_create("vnet_evidx", 1023, 0, 0,
				     RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	TEST_ASSERT_NOT_NULL(mp, "mempool");
	return TEST_SUCCESS;
}

static void
suite_teardown(void)
{
	rte_mempool_free(mp);
}

static struct vmp_test_suite evidx_suite = {
	.name = "vnet: VIRTIO_RING_F_EVENT_IDX",
	.setup = suite_setup,
	.teardown = suite_teardown,
	.cases =
		{
			TEST_CASE(test_need_event),
			TEST_CASE_ST(case_setup, case_teardown,
				     test_used_at_end_plain),
			TEST_CASE_ST(case_setup, case_teardown,
				     test_used_at_end_evidx),
			TEST_CASE_ST(case_setup, case_teardown,
				     test_avail_at_end_plain),
			TEST_CASE_ST(case_setup, case_teardown,
				     test_avail_at_end_evidx),
			TEST_CASE_ST(case_setup, case_teardown,
				     test_used_event),
			TEST_CASE_ST(case_setup, case_teardown,
				     test_avail_event_armed),
			TEST_CASES_END(),
		},
};

static int
test_vnet_evidx(void)
{
	return vmp_test_suite_run(&evidx_suite);
}

REGISTER_TEST_COMMAND(vnet_evidx_autotest, test_vnet_evidx);
