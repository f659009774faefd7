/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket: a unix stream socket (never TCP), mode 0660, served
 * by the main lcore with poll() over the listening socket, up to
 * CTL_MAX_CLIENTS clients and, with -i, the prompt on stdin; never on a
 * datapath lcore. Framing: one JSON-RPC 2.0 request per line ('\n'), one
 * response line per request (docs/control.md). Bounds a client drives:
 * a line longer than CTL_LINE_MAX closes that client (after an error
 * response); a response it does not read (the socket buffer is full) closes
 * it too, so a stuck client never blocks the main lcore.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"
#include "vmpath.h"

#define CTL_MAX_CLIENTS 16
#define CTL_LINE_MAX (64 * 1024)

struct ctl_client {
	int fd; /* -1: free */
	size_t len;
	char buf[CTL_LINE_MAX];
};

static int lfd = -1;
static int lockfd = -1;
static char lpath[sizeof(((struct sockaddr_un *)0)->sun_path)];
static struct ctl_client *clients; /* [CTL_MAX_CLIENTS] */

/* mkdir -p of @path's directory, 0755 for what it creates. */
static int
make_dirs(const char *path)
{
	char dir[sizeof(lpath)], *s;

	snprintf(dir, sizeof(dir), "%s", path);
	s = strrchr(dir, '/');
	if (s == NULL || s == dir)
		return 0;
	*s = '\0';
	for (s = dir + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/*
 * One server per path: an flock on PATH.lock, held for the process's life.
 * Whoever holds it owns PATH, so a socket file found there is stale and is
 * replaced; no probe-then-unlink race between two vmpaths starting at once.
 * @return 0 (ours), -EADDRINUSE (another process serves PATH), -errno.
 */
static int
path_lock(const char *path)
{
	char lock[sizeof(lpath) + 8];

	snprintf(lock, sizeof(lock), "%s.lock", path);
	lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0660);
	if (lockfd < 0)
		return -errno;
	if (flock(lockfd, LOCK_EX | LOCK_NB) < 0) {
		int rc = errno == EWOULDBLOCK ? -EADDRINUSE : -errno;

		close(lockfd);
		lockfd = -1;
		return rc;
	}
	unlink(path);
	return 0;
}

int
vmp_ctl_sock_open(void)
{
	const struct vmp_app_config *c = &vmp_app.cfg;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	unsigned int i;
	mode_t old;
	int rc;

	if (c->ctl_path[0] == '\0')
		return 1;
	if (strlen(c->ctl_path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, c->ctl_path);
	rc = make_dirs(sa.sun_path);
	if (rc < 0) {
		VMP_LOG(ERR,
			"vmpath: control socket %s: cannot create its "
			"directory: %s",
			sa.sun_path, strerror(-rc));
		return rc;
	}
	rc = path_lock(sa.sun_path);
	if (rc == -EADDRINUSE) {
		VMP_LOG(WARNING,
			"vmpath: control socket %s is served by another "
			"process%s",
			sa.sun_path, c->ctl_set ? "" : ": running without one");
		return c->ctl_set ? rc : 1;
	}
	if (rc < 0) {
		VMP_LOG(ERR, "vmpath: control socket %s: cannot lock it: %s",
			sa.sun_path, strerror(-rc));
		return rc;
	}
	clients = calloc(CTL_MAX_CLIENTS, sizeof(*clients));
	if (clients == NULL)
		return -ENOMEM;
	for (i = 0; i < CTL_MAX_CLIENTS; i++)
		clients[i].fd = -1;
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		return -errno;
	/* born 0660: no window in which another user could connect */
	old = umask(0117);
	rc = bind(lfd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0 || listen(lfd, CTL_MAX_CLIENTS) < 0) {
		rc = -errno;
		VMP_LOG(ERR, "vmpath: control socket %s: %s", sa.sun_path,
			strerror(-rc));
		close(lfd);
		lfd = -1;
		close(lockfd);
		lockfd = -1;
		return rc;
	}
	strcpy(lpath, sa.sun_path);
	VMP_LOG(INFO, "vmpath: control socket %s", lpath);
	return 0;
}

static void
client_close(struct ctl_client *cl)
{
	close(cl->fd);
	cl->fd = -1;
	cl->len = 0;
}

/* Whole line or close: a client that does not read its answers is gone. */
static int
client_send(struct ctl_client *cl, char *resp)
{
	size_t n = strlen(resp);
	ssize_t w;

	resp[n] = '\n'; /* vmp_ctl_rpc_handle() leaves room for it */
	w = send(cl->fd, resp, n + 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	free(resp);
	if (w != (ssize_t)(n + 1)) {
		client_close(cl);
		return -EPIPE;
	}
	return 0;
}

static void
client_accept(void)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	unsigned int i;

	if (fd < 0)
		return;
	for (i = 0; i < CTL_MAX_CLIENTS; i++)
		if (clients[i].fd < 0) {
			clients[i].fd = fd;
			clients[i].len = 0;
			return;
		}
	/* full: the client sees its connection closed */
	close(fd);
}

static void
client_read(struct ctl_client *cl)
{
	ssize_t n = read(cl->fd, cl->buf + cl->len, CTL_LINE_MAX - cl->len);
	char *nl, *start;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) { /* gone, maybe mid-request: drop what it sent */
		client_close(cl);
		return;
	}
	cl->len += (size_t)n;
	start = cl->buf;
	/* Bound: one request per line of what was read */
	while ((nl = memchr(start, '\n', cl->len - (start - cl->buf)))) {
		char *resp = vmp_ctl_rpc_handle(start, (size_t)(nl - start));

		start = nl + 1;
		if (resp != NULL && client_send(cl, resp) < 0)
			return;
	}
	cl->len -= (size_t)(start - cl->buf);
	memmove(cl->buf, start, cl->len);
	if (cl->len == CTL_LINE_MAX) {
		char msg[96];
		char *resp;

		snprintf(msg, sizeof(msg),
			 "request line longer than %u bytes: "
			 "connection closed",
			 CTL_LINE_MAX);
		resp = vmp_ctl_rpc_error(VMP_RPC_INVALID_REQUEST, msg);
		if (resp != NULL)
			client_send(cl, resp);
		if (cl->fd >= 0)
			client_close(cl);
	}
}

void
vmp_ctl_sock_poll(int timeout_ms)
{
	struct pollfd pfd[CTL_MAX_CLIENTS + 2];
	struct ctl_client *who[CTL_MAX_CLIENTS + 2];
	unsigned int i, n = 0;
	bool prompt = vmp_app.cfg.interactive;

	if (prompt) {
		pfd[n] = (struct pollfd){.fd = STDIN_FILENO, .events = POLLIN};
		who[n++] = NULL;
	}
	if (lfd >= 0) {
		pfd[n] = (struct pollfd){.fd = lfd, .events = POLLIN};
		who[n++] = NULL;
		for (i = 0; i < CTL_MAX_CLIENTS; i++) {
			if (clients[i].fd < 0)
				continue;
			pfd[n] = (struct pollfd){.fd = clients[i].fd,
						 .events = POLLIN};
			who[n++] = &clients[i];
		}
	}
	if (n == 0) {
		if (timeout_ms > 0)
			usleep((useconds_t)timeout_ms * 1000);
		return;
	}
	if (poll(pfd, n, timeout_ms) <= 0)
		return;
	for (i = 0; i < n; i++) {
		if (pfd[i].revents == 0)
			continue;
		if (who[i] != NULL)
			client_read(who[i]);
		else if (pfd[i].fd == lfd)
			client_accept();
		else
			vmp_prompt_input();
	}
}

void
vmp_ctl_sock_close(void)
{
	unsigned int i;

	if (lfd < 0)
		return;
	for (i = 0; i < CTL_MAX_CLIENTS; i++)
		if (clients[i].fd >= 0)
			client_close(&clients[i]);
	close(lfd);
	lfd = -1;
	unlink(lpath);
	close(lockfd); /* after the unlink: the next owner binds afresh */
	lockfd = -1;
	free(clients);
	clients = NULL;
}
