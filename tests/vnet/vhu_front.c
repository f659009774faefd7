/* SPDX-License-Identifier: BSD-3-Clause */
/* A minimal vhost-user frontend for crafted-ring tests (see vhu_front.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_atomic.h>

#include "vhu_front.h"

enum {
	GET_FEATURES = 1,
	SET_FEATURES = 2,
	SET_OWNER = 3,
	SET_MEM_TABLE = 5,
	SET_LOG_BASE = 6,
	SET_VRING_NUM = 8,
	SET_VRING_ADDR = 9,
	SET_VRING_BASE = 10,
	SET_VRING_KICK = 12,
	SET_VRING_CALL = 13,
	GET_PROTOCOL_FEATURES = 15,
	SET_PROTOCOL_FEATURES = 16,
	SET_VRING_ENABLE = 18,
};

#define VERSION 0x1
#define F_REPLY 0x4

struct msg {
	uint32_t req, flags, size;
	union {
		uint64_t u64;
		struct {
			uint32_t index, num;
		} state;
		struct {
			uint32_t index, flags;
			uint64_t desc, used, avail, log;
		} addr;
		struct {
			uint32_t nregions, pad;
			struct {
				uint64_t gpa, size, uaddr, offset;
			} r[8];
		} mem;
		struct {
			uint64_t size, offset;
		} log;
	} p;
} __attribute__((packed));

static int
send_msg_flags(struct vhu_front *f, struct msg *m, int fd, uint32_t flags)
{
	struct iovec iov = {.iov_base = m, .iov_len = 12 + m->size};
	char ctl[CMSG_SPACE(sizeof(int))];
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

	m->flags = VERSION | flags;
	if (fd >= 0) {
		struct cmsghdr *c;

		memset(ctl, 0, sizeof(ctl));
		mh.msg_control = ctl;
		mh.msg_controllen = sizeof(ctl);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	return sendmsg(f->sock, &mh, 0) == (ssize_t)iov.iov_len ? 0 : -EIO;
}

static int
send_msg(struct vhu_front *f, struct msg *m, int fd)
{
	return send_msg_flags(f, m, fd, 0);
}

static int
recv_reply(struct vhu_front *f, struct msg *m)
{
	if (recv(f->sock, m, 12, MSG_WAITALL) != 12)
		return -EIO;
	if (m->size > sizeof(m->p) ||
	    (m->size &&
	     recv(f->sock, &m->p, m->size, MSG_WAITALL) != (ssize_t)m->size))
		return -EIO;
	return 0;
}

static int
simple(struct vhu_front *f, uint32_t req, uint32_t size, uint64_t u64, int fd)
{
	struct msg m = {.req = req, .size = size};

	m.p.u64 = u64;
	return send_msg(f, &m, fd);
}

static int
get_u64(struct vhu_front *f, uint32_t req, uint64_t *v)
{
	struct msg m = {.req = req};

	if (send_msg(f, &m, -1) < 0 || recv_reply(f, &m) < 0)
		return -EIO;
	*v = m.p.u64;
	return 0;
}

static int
setup_ring(struct vhu_front *f, unsigned int i, const struct vhu_front_opts *o)
{
	struct vhu_ring *r = &f->ring[i];
	uint64_t base = VHU_GPA_BASE + i * 0x4000;
	struct msg m = {.req = SET_VRING_NUM, .size = 8};
	int kick = eventfd(0, EFD_NONBLOCK);
	int call = o != NULL && o->call_fd[i] != 0 ? dup(o->call_fd[i])
						   : eventfd(0, EFD_NONBLOCK);

	r->desc_gpa = base;
	r->avail_gpa = base + 0x1000;
	r->used_gpa = base + 0x2000;
	r->desc = vhu_gpa(f, r->desc_gpa);
	r->avail = vhu_gpa(f, r->avail_gpa);
	r->used = vhu_gpa(f, r->used_gpa);
	m.p.state.index = i;
	m.p.state.num = VHU_QSIZE;
	if (send_msg(f, &m, -1) < 0)
		return -EIO;
	memset(&m, 0, sizeof(m));
	m.req = SET_VRING_ADDR;
	m.size = sizeof(m.p.addr);
	m.p.addr.index = i;
	/* frontend addresses: our own mapping */
	m.p.addr.desc = (uint64_t)(uintptr_t)r->desc;
	m.p.addr.used = (uint64_t)(uintptr_t)r->used;
	m.p.addr.avail = (uint64_t)(uintptr_t)r->avail;
	m.p.addr.log = r->used_gpa;
	m.p.addr.flags = 1u << 0; /* VHOST_VRING_F_LOG: log used ring writes */
	if (send_msg(f, &m, -1) < 0)
		return -EIO;
	memset(&m, 0, sizeof(m));
	m.req = SET_VRING_BASE;
	m.size = 8;
	m.p.state.index = i;
	if (send_msg(f, &m, -1) < 0 ||
	    simple(f, SET_VRING_KICK, 8, i, kick) < 0 ||
	    simple(f, SET_VRING_CALL, 8, i, call) < 0)
		return -EIO;
	memset(&m, 0, sizeof(m));
	m.req = SET_VRING_ENABLE;
	m.size = 8;
	m.p.state.index = i;
	m.p.state.num = 1;
	close(kick);
	close(call);
	return send_msg(f, &m, -1);
}

int
vhu_front_set_mem_table(struct vhu_front *f)
{
	struct msg m;

	memset(&m, 0, sizeof(m));
	m.req = SET_MEM_TABLE;
	m.size = 8 + 32;
	m.p.mem.nregions = 1;
	m.p.mem.r[0].gpa = VHU_GPA_BASE;
	m.p.mem.r[0].size = VHU_MEM_SIZE;
	m.p.mem.r[0].uaddr = (uint64_t)(uintptr_t)f->mem;
	return send_msg(f, &m, f->memfd);
}

int
vhu_front_open(struct vhu_front *f, const char *path, uint64_t features)
{
	return vhu_front_open_opts(f, path, features, NULL);
}

int
vhu_front_open_opts(struct vhu_front *f, const char *path, uint64_t features,
		    const struct vhu_front_opts *o)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	/* a backend that stops answering fails the test, never hangs it */
	struct timeval tv = {.tv_sec = 5};
	uint64_t have, pf, file_size = VHU_MEM_SIZE;
	int i;

	memset(f, 0, sizeof(*f));
	f->logfd = -1;
	f->sock = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	for (i = 0; i < 100; i++) {
		if (connect(f->sock, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			break;
		usleep(20000);
	}
	if (i == 100)
		return -ECONNREFUSED;
	setsockopt(f->sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (o != NULL && o->mem_file_size != 0)
		file_size = o->mem_file_size;
	f->memfd = memfd_create("vhu_guest", o != NULL ? o->memfd_flags : 0);
	if (f->memfd < 0 || ftruncate(f->memfd, (off_t)file_size) < 0)
		return -ENOMEM;
	f->mem = mmap(NULL, VHU_MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		      f->memfd, 0);
	if (f->mem == MAP_FAILED)
		return -ENOMEM;
	/* a shorter file faults here past its end: it is zero anyway */
	memset(f->mem, 0, file_size < VHU_MEM_SIZE ? file_size : VHU_MEM_SIZE);
	if (get_u64(f, GET_FEATURES, &have) < 0)
		return -EIO;
	f->features = features & have;
	if (get_u64(f, GET_PROTOCOL_FEATURES, &pf) < 0 ||
	    simple(f, SET_PROTOCOL_FEATURES, 8,
		   pf & ((1ULL << 1) | (o != NULL ? o->protocol_features : 0)),
		   -1) < 0 ||
	    simple(f, SET_OWNER, 0, 0, -1) < 0 ||
	    simple(f, SET_FEATURES, 8, f->features, -1) < 0)
		return -EIO;
	if (vhu_front_set_mem_table(f) < 0)
		return -EIO;
	for (i = 0; i < 2; i++)
		if (setup_ring(f, (unsigned int)i, o) < 0)
			return -EIO;
	return 0;
}

int
vhu_front_send(struct vhu_front *f, uint32_t req, uint32_t flags,
	       const void *payload, uint32_t size, int fd)
{
	struct msg m = {.req = req, .size = size};

	if (size > sizeof(m.p))
		return -EINVAL;
	if (size)
		memcpy(&m.p, payload, size);
	return send_msg_flags(f, &m, fd, flags);
}

int
vhu_front_recv(struct vhu_front *f, uint64_t *u64)
{
	struct msg m;

	memset(&m, 0, sizeof(m));
	if (recv_reply(f, &m) < 0)
		return -EIO;
	*u64 = m.p.u64;
	return 0;
}

void
vhu_front_close(struct vhu_front *f)
{
	if (f->sock >= 0)
		close(f->sock);
	if (f->mem != NULL && f->mem != MAP_FAILED)
		munmap(f->mem, VHU_MEM_SIZE);
	if (f->memfd >= 0)
		close(f->memfd);
	if (f->log != NULL)
		munmap(f->log, f->log_size);
	if (f->logfd >= 0)
		close(f->logfd);
	f->sock = -1;
}

void
vhu_front_post(struct vhu_front *f, unsigned int r, uint16_t head)
{
	struct vhu_ring *q = &f->ring[r];

	q->avail->ring[q->avail_idx % VHU_QSIZE] = head;
	q->avail_idx++;
	/* The entry before the index: pairs with the device's load-acquire
	 * of avail->idx. */
	__atomic_store_n(&q->avail->idx, q->avail_idx, __ATOMIC_RELEASE);
}

void
vhu_front_set_avail_idx(struct vhu_front *f, unsigned int r, uint16_t v)
{
	f->ring[r].avail_idx = v;
	__atomic_store_n(&f->ring[r].avail->idx, v, __ATOMIC_RELEASE);
}

int
vhu_front_used(struct vhu_front *f, unsigned int r, struct vring_used_elem *e)
{
	struct vhu_ring *q = &f->ring[r];

	if (__atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE) == q->used_seen)
		return -1;
	*e = q->used->ring[q->used_seen % VHU_QSIZE];
	q->used_seen++;
	return 0;
}

int
vhu_front_log_base(struct vhu_front *f)
{
	struct msg m = {.req = SET_LOG_BASE, .size = 16};

	/* one bit per 4 KiB page of guest-physical space */
	f->log_size = ((VHU_GPA_BASE + VHU_MEM_SIZE) / 4096 + 7) / 8;
	f->log_size = (f->log_size + 4095) & ~4095ULL;
	f->logfd = memfd_create("vhu_log", 0);
	if (f->logfd < 0 || ftruncate(f->logfd, (off_t)f->log_size) < 0)
		return -ENOMEM;
	f->log = mmap(NULL, f->log_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      f->logfd, 0);
	if (f->log == MAP_FAILED)
		return -ENOMEM;
	m.p.log.size = f->log_size;
	if (send_msg(f, &m, f->logfd) < 0 || recv_reply(f, &m) < 0)
		return -EIO;
	return 0;
}

int
vhu_front_set_features(struct vhu_front *f, uint64_t features)
{
	f->features = features;
	return simple(f, SET_FEATURES, 8, features, -1);
}

bool
vhu_front_logged(const struct vhu_front *f, uint64_t gpa)
{
	uint64_t page = gpa / 4096;

	return (__atomic_load_n(&f->log[page / 8], __ATOMIC_RELAXED) >>
		(page % 8)) &
	       1;
}

void
vhu_front_log_clear(struct vhu_front *f)
{
	memset(f->log, 0, f->log_size);
}
