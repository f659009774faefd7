/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VNET_VHU_MSG_H
#define VNET_VHU_MSG_H

/*
 * The vhost-user messages lib/vnet's rte_vhost hooks read or answer, named
 * once, from the vhost-user specification (QEMU docs/interop/vhost-user.rst,
 * "Front-end message types" and "Message types"), and where rte_vhost 22.11
 * keeps a message's file descriptors. Everything here is read from a frontend
 * we do not trust: every payload is read only after checking the size the
 * frontend declared (vnet_vhu_payload()).
 *
 * Wire format: a 12-byte header (request u32, flags u32, size u32) and
 * `size` bytes of payload, file descriptors as SCM_RIGHTS.
 */

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_version.h>

/* Request ids (front-end message types). */
#define VHU_GET_FEATURES 1
#define VHU_SET_FEATURES 2
#define VHU_SET_OWNER 3
#define VHU_RESET_OWNER 4
#define VHU_SET_MEM_TABLE 5
#define VHU_SET_LOG_BASE 6
#define VHU_SET_LOG_FD 7
#define VHU_SET_VRING_NUM 8
#define VHU_SET_VRING_ADDR 9
#define VHU_SET_VRING_BASE 10
#define VHU_GET_VRING_BASE 11
#define VHU_SET_VRING_KICK 12
#define VHU_SET_VRING_CALL 13
#define VHU_SET_VRING_ERR 14
#define VHU_GET_PROTOCOL_FEATURES 15
#define VHU_SET_PROTOCOL_FEATURES 16
#define VHU_GET_QUEUE_NUM 17
#define VHU_SET_VRING_ENABLE 18
#define VHU_SEND_RARP 19
#define VHU_NET_SET_MTU 20
#define VHU_SET_STATUS 39
#define VHU_GET_STATUS 40

/* Protocol feature bits ("Protocol features"). */
#define VNET_PROTOCOL_F_NET_MTU 4

/* Header: request, flags, size; the payload follows at byte 12. */
#define VHU_HDR_SIZE 12
#define VHU_OFF_REQUEST 0
#define VHU_OFF_FLAGS 4
#define VHU_OFF_SIZE 8
#define VHU_OFF_PAYLOAD 12
#define VHU_FLAG_NEED_REPLY (1u << 3)

/* "Memory regions description": num_regions u32, padding u32, then
 * num_regions "memory region description"s of four u64 each: guest
 * address, size, user address, mmap offset. One fd per region. */
#define VHU_MEM_HDR 8
#define VHU_MEM_REGION_SIZE 32
#define VHU_MEM_MAX_REGIONS 8 /* VHOST_MEMORY_BASELINE_NREGIONS */
#define VHU_REG_OFF_GPA 0
#define VHU_REG_OFF_SIZE 8
#define VHU_REG_OFF_UADDR 16
#define VHU_REG_OFF_MMAP_OFFSET 24

/* "Log description": mmap size u64, mmap offset u64; one fd. */
#define VHU_LOG_PAYLOAD 16
#define VHU_LOG_OFF_SIZE 0
#define VHU_LOG_OFF_OFFSET 8

/*
 * rte_vhost hands the hooks a `struct vhu_msg_context` (lib/vhost/
 * vhost_user.h, private): the packed message (header and the largest
 * payload union, 644 bytes in 22.11), then int fds[8] and int fd_num.
 * Those offsets are not API: they were measured on 22.11.11 (offsetof on
 * its vhost_user.h) and the build refuses any other release line.
 */
#if RTE_VERSION < RTE_VERSION_NUM(22, 11, 0, 0) ||                             \
	RTE_VERSION >= RTE_VERSION_NUM(22, 12, 0, 0)
#error "vnet_vhu_msg.h: rte_vhost message context offsets are for 22.11"
#endif
#define VHU_CTX_MAX_PAYLOAD 632
#define VHU_CTX_OFF_FDS 644
#define VHU_CTX_OFF_FD_NUM 676
#define VHU_CTX_MAX_FDS 8

static inline uint32_t
vnet_vhu_u32(const void *msg, unsigned int off)
{
	uint32_t v;

	memcpy(&v, (const uint8_t *)msg + off, sizeof(v));
	return v;
}

static inline uint64_t
vnet_vhu_u64(const void *msg, unsigned int off)
{
	uint64_t v;

	memcpy(&v, (const uint8_t *)msg + off, sizeof(v));
	return v;
}

/* The payload of @msg if the frontend declared at least @need bytes (and
 * rte_vhost read no more than its buffer), else NULL. */
static inline const uint8_t *
vnet_vhu_payload(const void *msg, uint32_t need)
{
	uint32_t size = vnet_vhu_u32(msg, VHU_OFF_SIZE);

	if (size < need || size > VHU_CTX_MAX_PAYLOAD)
		return NULL;
	return (const uint8_t *)msg + VHU_OFF_PAYLOAD;
}

/* File descriptors that came with @msg: *@n of them (0..8). */
static inline const int *
vnet_vhu_fds(const void *msg, int *n)
{
	int k;

	memcpy(&k, (const uint8_t *)msg + VHU_CTX_OFF_FD_NUM, sizeof(k));
	*n = (k < 0 || k > VHU_CTX_MAX_FDS) ? 0 : k;
	return (const int *)(const void *)((const uint8_t *)msg +
					   VHU_CTX_OFF_FDS);
}

#endif /* VNET_VHU_MSG_H */
