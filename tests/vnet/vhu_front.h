/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VHU_FRONT_H
#define VHU_FRONT_H

/*
 * A minimal vhost-user frontend for tests that must craft rings a real
 * driver never would (malformed chains) or watch the dirty log: guest memory
 * is a memfd mapped here, the rings are laid out by the test, messages are
 * sent by hand. Not a virtio driver: the positive tests use virtio-user.
 */
#include <stdbool.h>
#include <stdint.h>
#include <linux/virtio_ring.h>

#define VHU_GPA_BASE 0x100000ULL /* guest memory starts here */
#define VHU_MEM_SIZE (4u << 20)
#define VHU_QSIZE 256 /* the whole desc page of setup_ring() */

struct vhu_ring {
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	uint16_t avail_idx; /* next avail->idx we publish */
	uint16_t used_seen; /* used entries consumed */
};

struct vhu_front {
	int sock;
	int memfd;
	uint8_t *mem; /* guest memory, GPA VHU_GPA_BASE at offset 0 */
	int logfd;
	uint8_t *log;
	uint64_t log_size;
	uint64_t features;
	struct vhu_ring ring[2]; /* 0: guest RX, 1: guest TX */
};

/** Connect to @path, negotiate @features, map memory, set up 2 vrings. */
int vhu_front_open(struct vhu_front *f, const char *path, uint64_t features);

/** What a hostile frontend changes in vhu_front_open(); 0: the default. */
struct vhu_front_opts {
	uint64_t mem_file_size;	    /* memfd length (default VHU_MEM_SIZE) */
	unsigned int memfd_flags;   /* memfd_create() flags */
	uint64_t protocol_features; /* asked for besides LOG_SHMFD */
	int call_fd[2];		    /* call fd per vring (dup'ed), 0: eventfd */
};
int vhu_front_open_opts(struct vhu_front *f, const char *path,
			uint64_t features, const struct vhu_front_opts *o);
/** Send any message (flags: besides the version), optionally with @fd. */
int vhu_front_send(struct vhu_front *f, uint32_t req, uint32_t flags,
		   const void *payload, uint32_t size, int fd);
/** Read a reply; its first 8 payload bytes (if any) in *@u64. */
int vhu_front_recv(struct vhu_front *f, uint64_t *u64);
void vhu_front_close(struct vhu_front *f);

static inline void *
vhu_gpa(struct vhu_front *f, uint64_t gpa)
{
	return f->mem + (gpa - VHU_GPA_BASE);
}

/** Publish @head on vring @r (avail ring entry + idx, with a barrier). */
void vhu_front_post(struct vhu_front *f, unsigned int r, uint16_t head);
/** Set avail->idx of vring @r to anything (to move it backwards etc). */
void vhu_front_set_avail_idx(struct vhu_front *f, unsigned int r, uint16_t v);
/** Next used element of vring @r, or -1 if none. */
int vhu_front_used(struct vhu_front *f, unsigned int r,
		   struct vring_used_elem *e);

/** (Re)send the memory table. */
int vhu_front_set_mem_table(struct vhu_front *f);
/** Share a dirty log (SET_LOG_BASE), then SET_FEATURES with LOG_ALL on/off. */
int vhu_front_log_base(struct vhu_front *f);
int vhu_front_set_features(struct vhu_front *f, uint64_t features);
/** Was guest page of @gpa marked dirty? */
bool vhu_front_logged(const struct vhu_front *f, uint64_t gpa);
void vhu_front_log_clear(struct vhu_front *f);

#endif /* VHU_FRONT_H */
