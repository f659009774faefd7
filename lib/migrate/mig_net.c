/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Transport: "tcp:HOST:PORT" and "unix:PATH" stream sockets. Every blocking
 * step polls in short slices so cancel and the deadline are seen within
 * ~20 ms, sends never raise SIGPIPE (MSG_NOSIGNAL), and an optional token
 * bucket caps the bytes put on the wire per second.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>

#include "mig_pvt.h"

#define POLL_SLICE_MS 20

int
mig_net_parse(const char *uri, bool *is_unix, char *host, size_t hlen,
	      char *port_or_path, size_t plen)
{
	const char *colon;

	if (uri == NULL)
		return -EINVAL;
	if (strncmp(uri, "unix:", 5) == 0) {
		if (uri[5] == '\0' ||
		    strlen(uri + 5) >=
			    sizeof(((struct sockaddr_un *)0)->sun_path) ||
		    strlen(uri + 5) >= plen)
			return -EINVAL;
		*is_unix = true;
		snprintf(port_or_path, plen, "%s", uri + 5);
		return 0;
	}
	if (strncmp(uri, "tcp:", 4) != 0)
		return -EINVAL;
	colon = strrchr(uri + 4, ':');
	if (colon == NULL || colon == uri + 4 || colon[1] == '\0' ||
	    (size_t)(colon - (uri + 4)) >= hlen || strlen(colon + 1) >= plen)
		return -EINVAL;
	*is_unix = false;
	memcpy(host, uri + 4, colon - (uri + 4));
	host[colon - (uri + 4)] = '\0';
	snprintf(port_or_path, plen, "%s", colon + 1);
	return 0;
}

static void
tune_fd(int fd, bool tcp)
{
	int one = 1, sz = 4 << 20;

	if (tcp)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
}

static int
open_addr(const char *uri, bool listening, char *path_out, size_t plen)
{
	char host[128], port[108];
	struct addrinfo hints, *ai = NULL, *a;
	bool is_unix;
	int fd = -1, rc, one = 1;

	rc = mig_net_parse(uri, &is_unix, host, sizeof(host), port,
			   sizeof(port));
	if (rc < 0) {
		MIG_LOG(ERR, "bad uri '%s' (tcp:HOST:PORT or unix:PATH)",
			uri ? uri : "(null)");
		return rc;
	}
	if (is_unix) {
		struct sockaddr_un sun;

		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", port);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		tune_fd(fd, false);
		if (listening) {
			unlink(port);
			rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
			if (rc == 0)
				rc = listen(fd, 1);
			if (rc == 0 && path_out)
				snprintf(path_out, plen, "%s", port);
		} else {
			rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
		}
		if (rc < 0) {
			rc = -errno;
			close(fd);
			return rc;
		}
		return fd;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = listening ? AI_PASSIVE : 0;
	rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai);
	if (rc != 0) {
		MIG_LOG(ERR, "cannot resolve '%s': %s", uri, gai_strerror(rc));
		return -EINVAL;
	}
	rc = -ECONNREFUSED;
	for (a = ai; a != NULL; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC,
			    a->ai_protocol);
		if (fd < 0) {
			rc = -errno;
			continue;
		}
		tune_fd(fd, true);
		if (listening) {
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
				   sizeof(one));
			if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 &&
			    listen(fd, 1) == 0)
				break;
		} else if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
			break;
		}
		rc = -errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd >= 0 ? fd : rc;
}

int
mig_net_listen(const char *uri, char *path_out, size_t plen)
{
	return open_addr(uri, true, path_out, plen);
}

static void
chan_init(struct mig_chan *ch, int fd)
{
	const volatile bool *cancel = ch->cancel;
	uint64_t deadline = ch->deadline_tsc, cap = ch->bw_cap;

	memset(ch, 0, sizeof(*ch));
	ch->fd = fd;
	ch->cancel = cancel;
	ch->deadline_tsc = deadline;
	ch->bw_cap = cap;
	ch->bw_t0 = rte_get_tsc_cycles();
}

/* 0: go on; -ECANCELED / -ETIMEDOUT: stop waiting. */
static int
chan_stop(const struct mig_chan *ch)
{
	if (ch->cancel != NULL && *ch->cancel)
		return -ECANCELED;
	if (ch->deadline_tsc && rte_get_tsc_cycles() > ch->deadline_tsc)
		return -ETIMEDOUT;
	return 0;
}

int
mig_net_accept(int lfd, struct mig_chan *ch)
{
	struct pollfd pfd = {.fd = lfd, .events = POLLIN};
	int fd, rc;

	for (;;) {
		rc = chan_stop(ch);
		if (rc < 0)
			return rc;
		rc = poll(&pfd, 1, POLL_SLICE_MS);
		if (rc < 0 && errno != EINTR)
			return -errno;
		if (rc > 0)
			break;
	}
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return -errno;
	chan_init(ch, fd);
	return 0;
}

int
mig_net_connect(const char *uri, struct mig_chan *ch)
{
	int fd = open_addr(uri, false, NULL, 0);

	if (fd < 0)
		return fd;
	chan_init(ch, fd);
	return 0;
}

void
mig_chan_close(struct mig_chan *ch)
{
	if (ch->fd >= 0)
		close(ch->fd);
	ch->fd = -1;
}

bool
mig_chan_readable(struct mig_chan *ch)
{
	struct pollfd pfd = {.fd = ch->fd, .events = POLLIN};

	return poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLIN | POLLHUP));
}

int64_t
mig_chan_unsent(struct mig_chan *ch)
{
	int n = 0;

	/* TCP: bytes not yet acknowledged; unix: not yet read by the peer */
	if (ioctl(ch->fd, SIOCOUTQ, &n) < 0)
		return -errno;
	return n;
}

/* Token bucket: sleep until sending @p len more bytes keeps us under cap. */
static int
bw_throttle(struct mig_chan *ch, uint64_t len)
{
	uint64_t hz = rte_get_tsc_hz();

	if (ch->bw_cap == 0)
		return 0;
	for (;;) {
		uint64_t el = rte_get_tsc_cycles() - ch->bw_t0;
		uint64_t allowed = (uint64_t)((double)el / hz * ch->bw_cap);
		int rc = chan_stop(ch);

		if (rc < 0)
			return rc;
		if (ch->bw_sent + len <= allowed + ch->bw_cap / 50)
			break;
		rte_delay_us_sleep(2000);
	}
	/* Restart the bucket every second so idle time is not banked. */
	if (rte_get_tsc_cycles() - ch->bw_t0 > hz) {
		ch->bw_t0 = rte_get_tsc_cycles();
		ch->bw_sent = 0;
	}
	ch->bw_sent += len;
	return 0;
}

static int
chan_writev(struct mig_chan *ch, struct iovec *iov, int n)
{
	struct pollfd pfd = {.fd = ch->fd, .events = POLLOUT | POLLIN};
	struct msghdr mh;
	ssize_t w;
	int rc;

	while (n > 0) {
		rc = chan_stop(ch);
		if (rc < 0)
			return rc;
		rc = poll(&pfd, 1, POLL_SLICE_MS);
		if (rc < 0 && errno != EINTR)
			return -errno;
		if (rc <= 0)
			continue;
		if (pfd.revents & (POLLERR | POLLHUP))
			return -EPIPE;
		if (pfd.revents & POLLIN)
			ch->peer_msg = true; /* the caller reads it */
		if (!(pfd.revents & POLLOUT)) {
			/* The peer talks but does not read: let the caller
			 * look at what it says. */
			if (ch->peer_msg)
				return -EPROTO;
			continue;
		}
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = iov;
		mh.msg_iovlen = n;
		w = sendmsg(ch->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return -errno;
		}
		ch->tx_bytes += w;
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= w;
		}
	}
	return 0;
}

int
mig_chan_send_frame(struct mig_chan *ch, uint8_t type, uint32_t round,
		    const void *p1, uint32_t l1, const void *p2, uint32_t l2)
{
	struct mig_frame_hdr h;
	struct iovec iov[3];
	int n = 0, rc;

	mig_frame_hdr_build(&h, type, round, ch->tx_seq, p1, l1, p2, l2);
	iov[n].iov_base = &h;
	iov[n++].iov_len = sizeof(h);
	if (l1) {
		iov[n].iov_base = (void *)(uintptr_t)p1;
		iov[n++].iov_len = l1;
	}
	if (l2) {
		iov[n].iov_base = (void *)(uintptr_t)p2;
		iov[n++].iov_len = l2;
	}
	rc = bw_throttle(ch, sizeof(h) + l1 + l2);
	if (rc == 0)
		rc = chan_writev(ch, iov, n);
	if (rc == 0)
		ch->tx_seq++;
	return rc;
}

static int
chan_read(struct mig_chan *ch, void *buf, size_t len, uint64_t until)
{
	struct pollfd pfd = {.fd = ch->fd, .events = POLLIN};
	uint8_t *p = buf;
	ssize_t r;
	int rc;

	while (len > 0) {
		rc = chan_stop(ch);
		if (rc < 0)
			return rc;
		if (until && rte_get_tsc_cycles() > until)
			return -ETIMEDOUT;
		rc = poll(&pfd, 1, POLL_SLICE_MS);
		if (rc < 0 && errno != EINTR)
			return -errno;
		if (rc <= 0)
			continue;
		r = recv(ch->fd, p, len, MSG_DONTWAIT);
		if (r == 0)
			return -ECONNRESET; /* peer closed */
		if (r < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return -errno;
		}
		ch->rx_bytes += r;
		p += r;
		len -= r;
	}
	return 0;
}

int
mig_chan_recv_frame(struct mig_chan *ch, struct mig_frame_hdr *h, void *buf,
		    uint32_t cap, uint32_t timeout_ms)
{
	uint64_t until = 0;
	uint32_t len, crc;
	char err[128];
	int rc;

	if (timeout_ms)
		until = rte_get_tsc_cycles() +
			(uint64_t)timeout_ms * rte_get_tsc_hz() / 1000;
	rc = chan_read(ch, h, sizeof(*h), until);
	if (rc < 0)
		return rc;
	rc = mig_frame_hdr_check(h, err, sizeof(err));
	if (rc < 0) {
		MIG_LOG(ERR, "%s", err);
		return rc;
	}
	if (rte_le_to_cpu_32(h->seq) != ch->rx_seq) {
		MIG_LOG(ERR, "frame seq %u, expected %u",
			rte_le_to_cpu_32(h->seq), ch->rx_seq);
		return -EPROTO;
	}
	len = rte_le_to_cpu_32(h->payload_len);
	if (len > cap) {
		MIG_LOG(ERR, "frame payload %u > buffer %u", len, cap);
		return -EPROTO;
	}
	/* Once a header has been read the rest must follow: no timeout. */
	rc = chan_read(ch, buf, len, 0);
	if (rc < 0)
		return rc;
	crc = len ? vmp_mig_crc32c(buf, len) : 0;
	if (crc != rte_le_to_cpu_32(h->payload_crc)) {
		MIG_LOG(ERR,
			"frame %u (type %u, %u bytes): payload CRC32C 0x%08x "
			"!= 0x%08x",
			ch->rx_seq, h->type, len, crc,
			rte_le_to_cpu_32(h->payload_crc));
		return -EPROTO;
	}
	ch->rx_seq++;
	return (int)len;
}
