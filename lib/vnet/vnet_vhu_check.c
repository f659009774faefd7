/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What a vhost-user frontend hands over, checked before rte_vhost or the
 * datapath uses it: shared memory (its fd must really hold what is mapped,
 * and must not shrink later), the vring layout for the current size, the
 * call fd the datapath writes, and how long a half-sent message may hold
 * the one vhost-user thread.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/virtio_ring.h>

#include "vnet_pvt.h"
#include "vnet_vhu_msg.h"

#ifndef F_GET_SEALS
#define F_ADD_SEALS 1033
#define F_GET_SEALS 1034
#define F_SEAL_SEAL 0x0001
#define F_SEAL_SHRINK 0x0002
#endif

/* A frontend sends a message whole (QEMU and virtio-user write header and
 * payload in one call): a connection that leaves rte_vhost's blocking read
 * or send waiting longer is dropped, so it holds the vhost-user thread,
 * which every port shares, at most this long per message. */
#define VNET_CONN_IO_TIMEOUT_MS 100

/*
 * Shared memory fd @fd must hold [0, @need) now and keep holding it: a
 * mapping past the end of its file faults (SIGBUS) on first touch.
 * - a sealed memfd (F_SEAL_SHRINK, QEMU's default) cannot shrink;
 * - a memfd that allows sealing gets F_SEAL_SHRINK here, so it cannot either;
 * - a file that cannot be sealed (hugetlbfs or tmpfs file, memfd created
 *   without MFD_ALLOW_SEALING as DPDK's --no-huge virtio-user makes) is
 *   accepted when big enough: its owner could still truncate it later
 *   (a limit, docs/vnet.md "Known limits").
 */
static int
check_shm_fd(const struct vmp_vnet_port *port, const char *what, int fd,
	     uint64_t need)
{
	struct stat st;
	int seals;

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		VNET_LOG(ERR, "%s: %s fd %d refused: not a regular file",
			 port->path, what, fd);
		return -EINVAL;
	}
	if ((uint64_t)st.st_size < need) {
		VNET_LOG(ERR,
			 "%s: %s refused: file holds %" PRIu64
			 " bytes, mapping needs %" PRIu64,
			 port->path, what, (uint64_t)st.st_size, need);
		return -EINVAL;
	}
	seals = fcntl(fd, F_GET_SEALS);
	if (seals >= 0 && (seals & F_SEAL_SHRINK))
		return 0;
	if (seals >= 0 && !(seals & F_SEAL_SEAL)) {
		if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) == 0)
			return 0;
		VNET_LOG(ERR,
			 "%s: %s refused: cannot seal it against shrinking",
			 port->path, what);
		return -EPERM;
	}
	VNET_LOG(INFO, "%s: %s accepted unsealed (%s): its owner can shrink it",
		 port->path, what,
		 seals < 0 ? "not shmem" : "cannot be sealed");
	return 0;
}

/* a + b without wrapping, else UINT64_MAX (never big enough) */
static uint64_t
add_sat(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

int
__vmp_vnet_check_mem_table(const struct vmp_vnet_port *port, void *msg)
{
	const uint8_t *p = vnet_vhu_payload(msg, VHU_MEM_HDR);
	const int *fds;
	uint32_t n, i;
	int nfd;

	if (p == NULL) {
		VNET_LOG(ERR, "%s: SET_MEM_TABLE refused: payload %u bytes",
			 port->path, vnet_vhu_u32(msg, VHU_OFF_SIZE));
		return -EINVAL;
	}
	n = vnet_vhu_u32(p, 0);
	fds = vnet_vhu_fds(msg, &nfd);
	if (n == 0 || n > VHU_MEM_MAX_REGIONS || (uint32_t)nfd != n ||
	    vnet_vhu_payload(msg, VHU_MEM_HDR + n * VHU_MEM_REGION_SIZE) ==
		    NULL) {
		VNET_LOG(ERR,
			 "%s: SET_MEM_TABLE refused: %u regions, %d fds, "
			 "payload %u bytes",
			 port->path, n, nfd, vnet_vhu_u32(msg, VHU_OFF_SIZE));
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		const uint8_t *r = p + VHU_MEM_HDR + i * VHU_MEM_REGION_SIZE;
		uint64_t size = vnet_vhu_u64(r, VHU_REG_OFF_SIZE);
		uint64_t off = vnet_vhu_u64(r, VHU_REG_OFF_MMAP_OFFSET);

		if (size == 0 || check_shm_fd(port, "memory region", fds[i],
					      add_sat(size, off)) < 0)
			return -EINVAL;
	}
	return 0;
}

int
__vmp_vnet_check_log_base(const struct vmp_vnet_port *port, void *msg)
{
	const uint8_t *p = vnet_vhu_payload(msg, VHU_LOG_PAYLOAD);
	const int *fds;
	int nfd;

	fds = vnet_vhu_fds(msg, &nfd);
	if (p == NULL || nfd != 1) {
		VNET_LOG(ERR,
			 "%s: SET_LOG_BASE refused: payload %u bytes, %d fds",
			 port->path, vnet_vhu_u32(msg, VHU_OFF_SIZE), nfd);
		return -EINVAL;
	}
	return check_shm_fd(port, "dirty log", fds[0],
			    add_sat(vnet_vhu_u64(p, VHU_LOG_OFF_SIZE),
				    vnet_vhu_u64(p, VHU_LOG_OFF_OFFSET)));
}

/* [@p, @p + @len) inside one region of @mem (host addresses). */
static bool
in_one_region(const struct rte_vhost_memory *mem, const void *p, uint64_t len)
{
	uint64_t a = (uint64_t)(uintptr_t)p;
	uint32_t i;

	for (i = 0; i < mem->nregions; i++) {
		const struct rte_vhost_mem_region *r = &mem->regions[i];
		uint64_t off = a - r->host_user_addr;

		/* unsigned: an address below the region wraps */
		if (off < r->size && len <= r->size - off)
			return true;
	}
	return false;
}

bool
__vmp_vnet_check_ring(const struct vmp_vnet_port *port,
		      const struct vnet_vq *vq,
		      const struct rte_vhost_vring *vr)
{
	uint64_t n = vr->size, ev = vnet_ring_ev_bytes(port);
	const char *why = NULL;

	/* Split ring (virtio 1.x 2.7): size a power of 2 <= 32768; desc
	 * table 16-byte aligned, avail 2, used 4. Under EVENT_IDX each ring
	 * carries its trailing event field (ev), which we read (used_event)
	 * or write (avail_event). */
	if (n == 0 || n > 32768 || !rte_is_power_of_2(n))
		why = "size is not a power of 2 <= 32768";
	else if (((uintptr_t)vr->desc & 15) || ((uintptr_t)vr->avail & 1) ||
		 ((uintptr_t)vr->used & 3))
		why = "misaligned";
	else if (port->mem == NULL)
		why = "no memory table";
	else if (!in_one_region(port->mem, vr->desc,
				n * sizeof(struct vring_desc)))
		why = "descriptor table outside guest memory";
	else if (!in_one_region(port->mem, vr->avail,
				offsetof(struct vring_avail, ring) +
					n * sizeof(uint16_t) + ev))
		why = "avail ring outside guest memory";
	else if (!in_one_region(port->mem, vr->used,
				offsetof(struct vring_used, ring) +
					n * sizeof(struct vring_used_elem) +
					ev))
		why = "used ring outside guest memory";
	if (why == NULL)
		return true;
	VNET_LOG(ERR, "%s vring %u: size %" PRIu64 " refused: %s", port->path,
		 vq->index, n, why);
	return false;
}

/*
 * The datapath writes the call fd (rte_vhost_vring_call_nonblock()): only
 * an eventfd, and non-blocking, so that a write can neither stop the lcore
 * (a full pipe, an eventfd counter left at its maximum) nor raise SIGPIPE
 * (a pipe or socket without a reader). -1 (no fd: the guest polls) is fine.
 * O_NONBLOCK is set on the file the frontend shares with us; its own
 * reads of an eventfd are unaffected in what they return.
 */
bool
__vmp_vnet_check_callfd(const struct vmp_vnet_port *port,
			const struct vnet_vq *vq, int fd)
{
	char proc[64], link[64];
	ssize_t n;
	int fl;

	if (fd < 0)
		return true;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, link, sizeof(link) - 1);
	if (n < 0)
		n = 0;
	link[n] = '\0';
	if (strcmp(link, "anon_inode:[eventfd]") != 0) {
		VNET_LOG(ERR,
			 "%s vring %u: call fd refused: %s, not an eventfd",
			 port->path, vq->index, n ? link : "unreadable");
		return false;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 ||
	    (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)) {
		VNET_LOG(ERR,
			 "%s vring %u: call fd refused: cannot make it "
			 "non-blocking",
			 port->path, vq->index);
		return false;
	}
	return true;
}

/* Is @fd a connected unix socket of @port's socket path (ours: accepted on
 * it as a server, connected to it as a client)? */
static bool
is_port_conn(const struct vmp_vnet_port *port, int fd)
{
	struct sockaddr_un sa;
	socklen_t len = sizeof(sa);
	int listening = 0;
	socklen_t ll = sizeof(listening);
	int rc;

	memset(&sa, 0, sizeof(sa));
	if (port->client)
		rc = getpeername(fd, (struct sockaddr *)&sa, &len);
	else
		rc = getsockname(fd, (struct sockaddr *)&sa, &len);
	if (rc < 0 || sa.sun_family != AF_UNIX ||
	    len <= offsetof(struct sockaddr_un, sun_path) ||
	    strncmp(sa.sun_path, port->path, sizeof(sa.sun_path)) != 0)
		return false;
	return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &ll) ==
		       0 &&
	       !listening;
}

/*
 * rte_vhost 22.11 runs the handler of any request it knows, whether or not
 * the protocol feature it belongs to was offered: GET_INFLIGHT_FD with
 * num_queues and queue_size of 65535 has it create and zero a shared
 * memory file of about 68 GB on the one thread that serves every port, and
 * POSTCOPY_ADVISE opens a userfaultfd. vnet answers only what its features
 * call for (vhost-user specification, "Front-end message types"): the
 * device set-up, vring and memory messages, feature and protocol-feature
 * negotiation, GET_QUEUE_NUM (MQ), SEND_RARP, NET_SET_MTU, SET_STATUS and
 * GET_STATUS (STATUS). SET_VRING_ERR too: QEMU always sends it (rte_vhost
 * closes its fd). Everything else is refused, its fds closed.
 */
bool
__vmp_vnet_msg_allowed(uint32_t req)
{
	switch (req) {
	case VHU_GET_FEATURES ... VHU_SET_VRING_CALL:
	case VHU_SET_VRING_ERR:
	case VHU_GET_PROTOCOL_FEATURES:
	case VHU_SET_PROTOCOL_FEATURES:
	case VHU_GET_QUEUE_NUM:
	case VHU_SET_VRING_ENABLE:
	case VHU_SEND_RARP:
	case VHU_NET_SET_MTU:
	case VHU_SET_STATUS:
	case VHU_GET_STATUS:
		return true;
	default:
		return false;
	}
}

/*
 * rte_vhost reads a message's payload with a blocking read() and sends
 * replies with a blocking sendmsg() on the one thread that serves every
 * port, and does not tell us the connection's fd: find our connections on
 * the socket path among our fds and bound both with a timeout; a read or
 * send that times out fails and rte_vhost closes that connection.
 */
void
__vmp_vnet_conn_set_timeout(const struct vmp_vnet_port *port)
{
	struct timeval tv = {.tv_sec = 0,
			     .tv_usec = VNET_CONN_IO_TIMEOUT_MS * 1000};
	struct dirent *e;
	DIR *d = opendir("/proc/self/fd");
	unsigned int set = 0;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char *end;
		long fd = strtol(e->d_name, &end, 10);

		if (*end != '\0' || end == e->d_name || fd == dirfd(d) ||
		    !is_port_conn(port, (int)fd))
			continue;
		if (setsockopt((int)fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
			       sizeof(tv)) == 0 &&
		    setsockopt((int)fd, SOL_SOCKET, SO_SNDTIMEO, &tv,
			       sizeof(tv)) == 0)
			set++;
	}
	closedir(d);
	if (set == 0)
		VNET_LOG(WARNING,
			 "%s: connection fd not found: no receive timeout",
			 port->path);
}
