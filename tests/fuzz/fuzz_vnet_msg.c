/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: lib/vnet's vhost-user control path as a frontend drives
 * it. rte_vhost parses the messages and calls vnet's pre/post message hooks
 * and its connection callbacks; vnet keeps the connection table (several
 * frontends on one socket, one of them polled), the vring state word and the
 * drains. Everything goes over real unix-socket connections to two vnet
 * ports, one with CPU copies and one with dma_swdma copies. The harness
 * thread is the datapath lcore of both ports: it polls them between
 * operations and while it waits for a reply, as a real lcore would while
 * the vhost-user thread parks and drains its vrings.
 *
 * The input is a header byte (which port; the guest memory size) and a
 * sequence of operations on two connections: vhost-user messages (a request
 * from the specification's list or any u32, flags, a payload of the
 * request's own size or any size, patched unless the input says not to so
 * that memory tables and ring addresses point into the guest memory the
 * harness shares, and 0-3 file descriptors: the guest memfd, a log memfd,
 * eventfds, a pipe, /dev/null), writes into guest memory (rings and
 * buffers), datapath bursts, disconnects and synchronising waits. See
 * run_op(); tests/fuzz/gen_seeds.py writes the seeds.
 *
 * Oracles:
 *  - ASan/UBSan in vmpath's code (rte_vhost itself is not instrumented);
 *  - the vhost-user thread keeps reading: a send that blocks SEND_TIMEOUT_S
 *    fails the input;
 *  - once the harness closed its connections, within TEARDOWN_MS the port
 *    is idle again (no connection, no vring running) and every file
 *    descriptor the input made (memfds, eventfds, pipes it sent) is closed,
 *    but for those rte_vhost itself leaks (rte_vhost_may_leak());
 *  - no mbuf outlives an input.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <dirent.h>

#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_service.h>

#include <vmp_vnet.h>

#include "fuzz_common.h"
#include "fuzz_vnet_common.h"
#include "vnet_vhu_msg.h"

#define NOPS_MAX 64
#define NCONN 2
#define REPLY_MS 1500	   /* a GET_* answer; a drain may take 1 s */
#define ACK_MS 20	   /* a NEED_REPLY answer, if REPLY_ACK was agreed */
#define LEAK_SETTLE_MS 300 /* an rte_vhost leak: fds stay this long */
#define ACCEPT_MS 3000	   /* rte_vhost polls its listen fd each 1 s */
#define TEARDOWN_MS                                                            \
	30000		 /* accept 1 s, drains 1 s each, fds closed;           \
			  a loaded host starves the vhost-user thread */
#define SEND_TIMEOUT_S 5 /* the vhost-user thread stopped reading */
#define UADDR_BASE 0x7f0000000000ULL /* the frontend's view of guest memory */
#define LOG_SIZE (64u << 10)
#define MSG_MAX (VHU_HDR_SIZE + VHU_CTX_MAX_PAYLOAD + 64)

/* Requests with their natural payload size (vhost-user specification). */
static const struct {
	uint32_t req;
	uint16_t size;
	bool reply; /* always answered */
} reqs[] = {
	{VHU_GET_FEATURES, 0, true},
	{VHU_SET_FEATURES, 8, false},
	{VHU_SET_OWNER, 0, false},
	{VHU_RESET_OWNER, 0, false},
	{VHU_SET_MEM_TABLE, VHU_MEM_HDR + VHU_MEM_REGION_SIZE, false},
	{VHU_SET_LOG_BASE, VHU_LOG_PAYLOAD, false},
	{VHU_SET_LOG_FD, 0, false},
	{VHU_SET_VRING_NUM, 8, false},
	{VHU_SET_VRING_ADDR, 40, false},
	{VHU_SET_VRING_BASE, 8, false},
	{VHU_GET_VRING_BASE, 8, true},
	{VHU_SET_VRING_KICK, 8, false},
	{VHU_SET_VRING_CALL, 8, false},
	{14 /* SET_VRING_ERR */, 8, false},
	{15 /* GET_PROTOCOL_FEATURES */, 0, true},
	{16 /* SET_PROTOCOL_FEATURES */, 8, false},
	{VHU_GET_QUEUE_NUM, 0, true},
	{18 /* SET_VRING_ENABLE */, 8, false},
	{19 /* SEND_RARP */, 8, false},
	{20 /* NET_SET_MTU */, 8, false},
	{23 /* SET_VRING_ENDIAN */, 8, false},
	{24 /* GET_CONFIG */, 12 + 256, true},
	{31 /* GET_INFLIGHT_FD */, 24, false},
	{32 /* SET_INFLIGHT_FD */, 24, false},
	{39 /* SET_STATUS */, 8, false},
	{40 /* GET_STATUS */, 0, false},
};
#define NREQS (sizeof(reqs) / sizeof(reqs[0]))

struct conn {
	int sock;  /* -1: not connected */
	bool dead; /* the backend closed it: no more messages */
};

struct run {
	struct vmp_vnet_port *port;
	bool async;
	int memfd, logfd, devnull;
	uint8_t *mem;
	uint64_t mem_size;
	struct conn c[NCONN];
	int fds_before;	       /* open fds when the input started */
	unsigned int may_leak; /* fds rte_vhost may leak (see below) */
};

static struct rte_mempool *mp;
static struct vmp_vnet_port *ports[2];
static char paths[2][108];
static uint32_t svc_id;

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Open fds; with @show, each one and what it is (for a failed oracle). */
static int
count_fds(bool show)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		FZ_FAIL("opendir /proc/self/fd: %d", errno);
	while ((e = readdir(d)) != NULL) {
		char p[300], t[256];
		ssize_t k;

		if (e->d_name[0] == '.')
			continue;
		n++;
		if (!show)
			continue;
		snprintf(p, sizeof(p), "/proc/self/fd/%s", e->d_name);
		k = readlink(p, t, sizeof(t) - 1);
		t[k < 0 ? 0 : k] = '\0';
		fprintf(stderr, "  fd %s -> %s\n", e->d_name, t);
	}
	closedir(d);
	return n;
}

/* One datapath pass over the run's port, as its lcore: guest RX of up to
 * @n_rx packets of @len bytes, a guest TX burst, the engine's copies. */
static void
dp_poll(struct run *r, unsigned int n_rx, uint16_t len)
{
	struct rte_mbuf *pkts[32];
	unsigned int i, k = 0;
	uint16_t got;

	for (i = 0; i < n_rx; i++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(mp);

		if (m == NULL)
			break;
		if (rte_pktmbuf_append(m, len) == NULL) {
			rte_pktmbuf_free(m);
			break;
		}
		memset(rte_pktmbuf_mtod(m, void *), 0xa5, len);
		pkts[k++] = m;
	}
	got = vmp_vnet_enqueue_burst(r->port, 0, pkts, (uint16_t)k);
	for (i = got; i < k; i++)
		rte_pktmbuf_free(pkts[i]);
	got = vmp_vnet_dequeue_burst(r->port, 0, pkts, 32);
	rte_pktmbuf_free_bulk(pkts, got);
	if (r->async)
		rte_service_run_iter_on_app_lcore(svc_id, 1);
}

/* Read and drop whatever the backend sent on @c (closing fds it passed);
 * wait up to @ms for the first bytes, polling the datapath meanwhile. */
static void
drain_replies(struct run *r, struct conn *c, unsigned int ms)
{
	uint64_t end = now_ms() + ms;
	uint8_t buf[MSG_MAX];
	char ctl[CMSG_SPACE(8 * sizeof(int))];
	bool got = false;

	while (c->sock >= 0 && !c->dead) {
		struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
		struct msghdr mh = {.msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = ctl,
				    .msg_controllen = sizeof(ctl)};
		struct cmsghdr *cm;
		ssize_t n = recvmsg(c->sock, &mh, MSG_DONTWAIT);

		if (n > 0) {
			got = true;
			for (cm = CMSG_FIRSTHDR(&mh); cm != NULL;
			     cm = CMSG_NXTHDR(&mh, cm)) {
				int *fds = (int *)(void *)CMSG_DATA(cm);
				size_t j, nfd = (cm->cmsg_len - CMSG_LEN(0)) /
						sizeof(int);

				if (cm->cmsg_type != SCM_RIGHTS)
					continue;
				for (j = 0; j < nfd; j++)
					close(fds[j]);
			}
			continue;
		}
		if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			c->dead = true;
			break;
		}
		if (got || now_ms() >= end)
			break;
		dp_poll(r, 0, 0);
		usleep(50);
	}
}

static int
make_fd(struct run *r, unsigned int kind, int *pipe_w)
{
	int p[2];

	switch (kind & 3) {
	case 0:
		return dup(r->memfd);
	case 1:
		return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	case 2:
		if (pipe(p) < 0)
			return -1;
		*pipe_w = p[1];
		return p[0];
	default:
		return dup((kind & 4) ? r->logfd : r->devnull);
	}
}

static void
put64(uint8_t *p, unsigned int off, uint64_t v)
{
	memcpy(p + off, &v, sizeof(v));
}

static uint64_t
get64(const uint8_t *p, unsigned int off)
{
	uint64_t v;

	memcpy(&v, p + off, sizeof(v));
	return v;
}

/*
 * Make a message's payload mostly valid, so the fuzzer gets past rte_vhost's
 * own checks: regions inside the guest memfd, ring addresses inside them,
 * vring indexes 0/1, and the fds the request wants. Returns the fds wanted
 * (kinds for make_fd(), -1 terminated).
 */
static void
patch_payload(struct run *r, uint32_t req, uint8_t *pl, uint32_t size,
	      int *kinds)
{
	uint64_t pages = r->mem_size / 4096;
	uint32_t i, n;

	kinds[0] = -1;
	if (size >= 8 && req != VHU_SET_MEM_TABLE && req != VHU_SET_LOG_BASE &&
	    req != VHU_SET_FEATURES && req != 16)
		pl[0] &= 1; /* the vring index of a vring message */
	switch (req) {
	case VHU_SET_MEM_TABLE:
		if (size < VHU_MEM_HDR)
			return;
		n = (size - VHU_MEM_HDR) / VHU_MEM_REGION_SIZE;
		if (n > VHU_MEM_MAX_REGIONS)
			n = VHU_MEM_MAX_REGIONS;
		pl[0] = (uint8_t)(pl[0] % (n + 1));
		memset(pl + 1, 0, 3);
		for (i = 0; i < n; i++) {
			uint8_t *reg =
				pl + VHU_MEM_HDR + i * VHU_MEM_REGION_SIZE;
			uint64_t off =
				(get64(reg, VHU_REG_OFF_MMAP_OFFSET) % pages) *
				4096;

			put64(reg, VHU_REG_OFF_MMAP_OFFSET, off);
			put64(reg, VHU_REG_OFF_SIZE, r->mem_size - off);
			put64(reg, VHU_REG_OFF_UADDR, UADDR_BASE + off);
			kinds[i] = 0;
		}
		kinds[pl[0]] = -1;
		return;
	case VHU_SET_LOG_BASE:
		if (size >= VHU_LOG_PAYLOAD) {
			put64(pl, VHU_LOG_OFF_SIZE,
			      get64(pl, VHU_LOG_OFF_SIZE) % (LOG_SIZE + 1));
			put64(pl, VHU_LOG_OFF_OFFSET, 0);
		}
		kinds[0] = 7; /* the log memfd */
		kinds[1] = -1;
		return;
	case VHU_SET_VRING_ADDR:
		for (i = 8; i + 8 <= size && i < 32; i += 8)
			put64(pl, i,
			      UADDR_BASE +
				      (get64(pl, i) % r->mem_size & ~15ULL));
		return;
	case VHU_SET_VRING_NUM:
		if (size >= 8 && (pl[7] & 0x80) == 0)
			put64(pl, 0,
			      (uint64_t)(1u << (pl[4] % 11)) << 32 | pl[0]);
		return;
	case VHU_SET_VRING_KICK:
	case VHU_SET_VRING_CALL:
	case 14:
		if (size >= 2 && (pl[1] & 1) == 0) { /* VHOST_USER_VRING_NOFD */
			kinds[0] = 1;
			kinds[1] = -1;
		}
		return;
	case 7: /* SET_LOG_FD */
		kinds[0] = 1;
		kinds[1] = -1;
		return;
	default:
		return;
	}
}

/* Send one message; fds from @kinds (closed here after the send).
 * @return the number of fds sent with it. */
static unsigned int
send_msg(struct run *r, struct conn *c, const uint8_t *msg, size_t len,
	 const int *kinds)
{
	struct iovec iov = {.iov_base = (void *)(uintptr_t)msg, .iov_len = len};
	char ctl[CMSG_SPACE(VHU_CTX_MAX_FDS * sizeof(int))];
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	int fds[VHU_CTX_MAX_FDS], pw[VHU_CTX_MAX_FDS];
	unsigned int nfd = 0, i;
	ssize_t n;

	for (i = 0; i < VHU_CTX_MAX_FDS && kinds[i] >= 0; i++) {
		pw[nfd] = -1;
		fds[nfd] = make_fd(r, (unsigned int)kinds[i], &pw[nfd]);
		if (fds[nfd] >= 0)
			nfd++;
	}
	if (nfd) {
		struct cmsghdr *cm;

		memset(ctl, 0, sizeof(ctl));
		mh.msg_control = ctl;
		mh.msg_controllen = CMSG_SPACE(nfd * sizeof(int));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(nfd * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, nfd * sizeof(int));
	}
	n = sendmsg(c->sock, &mh, MSG_NOSIGNAL);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		FZ_FAIL("vhost-user thread stopped reading (send blocked "
			"%d s)",
			SEND_TIMEOUT_S);
	if (n < 0)
		c->dead = true;
	for (i = 0; i < nfd; i++) {
		close(fds[i]);
		if (pw[i] >= 0)
			close(pw[i]);
	}
	return n < 0 ? 0 : nfd;
}

/*
 * rte_vhost 22.11 checks the vring index of a message before the hooks
 * see it, and on a bad one (>= VHOST_MAX_VRING, 256) closes the connection
 * without closing the message's fds (vhost_user_check_and_alloc_queue_pair
 * in lib/vhost/vhost_user.c): those fds leak in rte_vhost, not in vnet.
 * True if @req with this payload may be such a message. The index is read
 * from rte_vhost's message buffer whatever size was declared, so a payload
 * too short to hold it may be one too.
 */
static bool
rte_vhost_may_leak(uint32_t req, const uint8_t *pl, uint32_t size)
{
	uint32_t idx;
	uint16_t nq;

	switch (req) {
	case VHU_SET_VRING_NUM:
	case VHU_SET_VRING_ADDR:
	case VHU_SET_VRING_BASE:
	case VHU_GET_VRING_BASE:
	case 18: /* SET_VRING_ENABLE */
		if (size < 4)
			return true;
		memcpy(&idx, pl, 4);
		return idx >= 256;
	case 32: /* SET_INFLIGHT_FD: num_queues - 1 */
		if (size < 18)
			return true;
		memcpy(&nq, pl + 16, 2);
		return nq == 0 || nq > 256;
	default:
		return false;
	}
}

static uint64_t
port_accepted(const struct vmp_vnet_port *port)
{
	struct vmp_vnet_port_info pi;

	if (vmp_vnet_port_info_get(port, &pi) < 0)
		FZ_FAIL("port_info_get");
	return pi.accepted;
}

/*
 * Connect and wait until rte_vhost accepted (its listen socket is polled
 * with a 1 s timeout): messages then never outlive the input that sent
 * them, and the teardown sees every connection it made.
 */
static void
conn_open(struct run *r, struct conn *c)
{
	struct timeval tv = {.tv_sec = SEND_TIMEOUT_S};
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	uint64_t want = port_accepted(r->port) + 1, end;

	c->dead = false;
	c->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->sock < 0)
		FZ_FAIL("socket: %d", errno);
	setsockopt(c->sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s",
		 r->port == ports[0] ? paths[0] : paths[1]);
	if (connect(c->sock, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		c->dead = true; /* backlog full: the next input retries */
		return;
	}
	end = now_ms() + ACCEPT_MS;
	while (port_accepted(r->port) < want) {
		if (now_ms() > end) {
			/* a starved vhost-user thread (a loaded host): no
			 * messages on it, the teardown waits for the rest */
			c->dead = true;
			return;
		}
		dp_poll(r, 0, 0);
		usleep(100);
	}
}

static void
conn_close(struct conn *c)
{
	if (c->sock >= 0)
		close(c->sock);
	c->sock = -1;
	c->dead = false;
}

/*
 * A message operation: request selector u8 (< 0xf0: reqs[], else a raw u32
 * follows), flags u8 (bit 0 NEED_REPLY, bit 1 raw size u16 follows, bit 2
 * no patching, bit 3 raw flags u32 follows, bit 4 one more fd of kind bits
 * 5-7), then the payload bytes.
 */
static void
op_message(struct run *r, struct conn *c, struct fz_in *in)
{
	uint8_t msg[MSG_MAX];
	uint8_t sel = fz_u8(in), fl = fz_u8(in);
	uint32_t req, size, flags, i, nfd;
	bool reply = false;
	int kinds[VHU_CTX_MAX_FDS + 1];

	if (sel < 0xf0) {
		req = reqs[sel % NREQS].req;
		size = reqs[sel % NREQS].size;
		reply = reqs[sel % NREQS].reply;
		if (req == VHU_SET_MEM_TABLE)
			size += (uint32_t)(sel / NREQS % 3) *
				VHU_MEM_REGION_SIZE;
	} else {
		req = fz_u32(in);
	}
	if (fl & 2)
		size = fz_u16(in) % (VHU_CTX_MAX_PAYLOAD + 32);
	flags = (fl & 8) ? fz_u32(in)
			 : 1u | ((fl & 1) ? VHU_FLAG_NEED_REPLY : 0);
	memset(msg, 0, sizeof(msg));
	memcpy(msg + VHU_OFF_REQUEST, &req, 4);
	memcpy(msg + VHU_OFF_FLAGS, &flags, 4);
	memcpy(msg + VHU_OFF_SIZE, &size, 4);
	for (i = 0; i < size && i < VHU_CTX_MAX_PAYLOAD + 32; i++)
		msg[VHU_OFF_PAYLOAD + i] = fz_u8(in);
	kinds[0] = -1;
	if (!(fl & 4))
		patch_payload(r, req, msg + VHU_OFF_PAYLOAD, size, kinds);
	if (fl & 0x10) {
		for (i = 0; kinds[i] >= 0 && i < VHU_CTX_MAX_FDS - 1; i++)
			;
		kinds[i] = fl >> 5;
		kinds[i + 1] = -1;
	}
	if (c->sock < 0)
		conn_open(r, c);
	if (c->dead)
		return;
	nfd = send_msg(r, c, msg,
		       VHU_HDR_SIZE + RTE_MIN(size, sizeof(msg) - VHU_HDR_SIZE),
		       kinds);
	if (rte_vhost_may_leak(req, msg + VHU_OFF_PAYLOAD, size))
		r->may_leak += nfd;
	drain_replies(r, c, reply ? REPLY_MS : (fl & 1) ? ACK_MS : 0);
}

/* Guest memory write: offset u32, length u8, the bytes. */
static void
op_write_mem(struct run *r, struct fz_in *in)
{
	uint64_t off = fz_u32(in) % r->mem_size;
	unsigned int n = fz_u8(in), i;

	for (i = 0; i < n && off + i < r->mem_size; i++)
		r->mem[off + i] = fz_u8(in);
}

/* Operation byte: bits 0-2 the kind, bit 3 the connection. */
static void
run_op(struct run *r, struct fz_in *in)
{
	uint8_t op = fz_u8(in);
	struct conn *c = &r->c[(op >> 3) & 1];
	unsigned int n;

	switch (op & 7) {
	case 0:
	case 1:
	case 2:
	case 3:
		op_message(r, c, in);
		break;
	case 4:
		n = fz_u8(in) % 8;
		dp_poll(r, n, (uint16_t)(14 + fz_u16(in) % 9000));
		break;
	case 5:
		op_write_mem(r, in);
		break;
	case 6:
		conn_close(c);
		break;
	default:
		/* a wait: whatever the vhost-user thread still has queued */
		for (n = fz_u8(in) % 16; n > 0; n--) {
			dp_poll(r, 0, 0);
			usleep(100);
		}
		drain_replies(r, c, 0);
		break;
	}
}

static bool
port_idle(const struct vmp_vnet_port *port)
{
	struct vmp_vnet_port_info pi;

	if (vmp_vnet_port_info_get(port, &pi) < 0)
		FZ_FAIL("port_info_get");
	return pi.nb_conns == 0 && !pi.connected && pi.running == 0;
}

/*
 * Close both connections and poll until the port is idle and every fd the
 * input made is closed again. rte_vhost may accept a connection only after
 * the harness closed it (its listen socket is polled with a 1 s timeout),
 * then reads its messages, fds included, and closes them after the
 * destroy callback: one bound, TEARDOWN_MS, for all of it.
 */
static void
teardown(struct run *r)
{
	uint64_t end, idle_at = 0;
	unsigned int i;
	bool idle = false;
	int fds = 0;

	for (i = 0; i < NCONN; i++)
		conn_close(&r->c[i]);
	munmap(r->mem, r->mem_size);
	close(r->memfd);
	close(r->logfd);
	close(r->devnull);
	end = now_ms() + TEARDOWN_MS;
	while (now_ms() < end) {
		dp_poll(r, 0, 0);
		idle = port_idle(r->port);
		fds = count_fds(false);
		if (idle && fds <= r->fds_before)
			break;
		if (!idle)
			idle_at = 0;
		else if (idle_at == 0)
			idle_at = now_ms();
		/* what rte_vhost leaked never closes: settled. They stay
		 * open (closing them here could race rte_vhost's own closes
		 * of that connection) and count as the next input's own. */
		if (idle && r->may_leak &&
		    fds <= r->fds_before + (int)r->may_leak &&
		    now_ms() > idle_at + LEAK_SETTLE_MS)
			break;
		usleep(200);
	}
	if (!idle) {
		struct vmp_vnet_port_info pi;

		vmp_vnet_port_info_get(r->port, &pi);
		FZ_FAIL("port not idle %u ms after its frontends closed: "
			"%u connections, connected %d, vrings running 0x%x, "
			"broken 0x%x, accepted %" PRIu64,
			TEARDOWN_MS, pi.nb_conns, pi.connected, pi.running,
			pi.broken, pi.accepted);
	}
	fds = count_fds(false);
	if (fds > r->fds_before + (int)r->may_leak && count_fds(true))
		FZ_FAIL("%d fds open %u ms after teardown, %d before the input "
			"(%u may be rte_vhost's)",
			fds, TEARDOWN_MS, r->fds_before, r->may_leak);
	for (i = 0; i < 64; i++)
		dp_poll(r, 0, 0);
	if (rte_mempool_in_use_count(mp) != 0)
		FZ_FAIL("%u mbufs not returned after teardown",
			rte_mempool_in_use_count(mp));
}

static int
memfd_sized(const char *name, uint64_t size)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	if (fd < 0 || ftruncate(fd, (off_t)size) < 0)
		FZ_FAIL("memfd: %d", errno);
	return fd;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char dir[64];
	struct vmp_vnet_port_conf pc = {.nb_qp = 1};
	unsigned int i;

	(void)argc;
	(void)argv;
	signal(SIGPIPE, SIG_IGN);
	fz_eal_init("0");
	mp = rte_pktmbuf_pool_create("fz_mbufs", 4095, 0, 0,
				     RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	if (mp == NULL)
		FZ_FAIL("no mempool");
	snprintf(dir, sizeof(dir), "/tmp/vmpfz-msg-XXXXXX");
	if (mkdtemp(dir) == NULL)
		FZ_FAIL("mkdtemp: %d", errno);
	pc.mp = mp;
	for (i = 0; i < 2; i++) {
		snprintf(paths[i], sizeof(paths[i]), "%s/p%u.sock", dir, i);
		pc.path = paths[i];
		ports[i] = vmp_vnet_port_create(&pc);
		if (ports[i] == NULL)
			FZ_FAIL("port create: %d", rte_errno);
	}
	/* port 1 copies with the engine (every copy: threshold 0 means the
	 * library default, small packets stay on the CPU) */
	if (vmp_vnet_port_set_dma(
		    ports[1], 0, fz_swdma_create("dma_swdma_fzm", &svc_id)) < 0)
		FZ_FAIL("set_dma");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = {.p = data, .n = size};
	struct run r = {.devnull = -1};
	uint8_t hdr = fz_u8(&in);
	unsigned int i;

	r.async = hdr & 1;
	r.port = ports[r.async];
	r.mem_size = (uint64_t)((hdr >> 1) % 16 + 1) * (64u << 10);
	r.fds_before = count_fds(false);
	r.memfd = memfd_sized("fz-guest", r.mem_size);
	r.logfd = memfd_sized("fz-log", LOG_SIZE);
	r.mem = mmap(NULL, r.mem_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		     r.memfd, 0);
	if (r.mem == MAP_FAILED)
		FZ_FAIL("mmap guest: %d", errno);
	r.devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (i = 0; i < NCONN; i++)
		r.c[i].sock = -1;
	for (i = 0; i < NOPS_MAX && fz_left(&in) > 0; i++)
		run_op(&r, &in);
	teardown(&r);
	return 0;
}
