/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Debug record of lib/vnet's guest-memory writes and dirty-log marks, for
 * checking a live migration that lost pages (vnet_wtrace.c). Off unless
 * VMP_VNET_WTRACE names a file: each hook then costs one predicted branch.
 */
#ifndef VNET_WTRACE_H
#define VNET_WTRACE_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_branch_prediction.h>

struct vmp_vnet_port;
struct vnet_vq;

/* What a record says lib/vnet did to guest memory. */
enum vnet_wtrace_kind {
	VNET_WT_CPU = 'C',   /* payload copied by the CPU */
	VNET_WT_DMA = 'D',   /* payload copy submitted to a DMA engine */
	VNET_WT_HDR = 'H',   /* virtio-net header stored (or left as it was) */
	VNET_WT_REDO = 'R',  /* failed DMA copy redone by the CPU */
	VNET_WT_USED = 'U',  /* used elements */
	VNET_WT_IDX = 'I',   /* used->idx */
	VNET_WT_FLAGS = 'F', /* used->flags */
	VNET_WT_AVAIL_EVENT = 'A', /* avail_event (EVENT_IDX) */
	VNET_WT_LOG = 'L',	   /* payload range marked in the dirty log */
	VNET_WT_ULOG = 'M',	   /* used ring range marked in the dirty log */
};

extern bool __vmp_vnet_wtrace_on;

void __vmp_vnet_wtrace_gpa(const struct vnet_vq *vq, enum vnet_wtrace_kind k,
			   uint64_t gpa, uint64_t len);
void __vmp_vnet_wtrace_hva(const struct vnet_vq *vq, enum vnet_wtrace_kind k,
			   const volatile void *hva, uint64_t len);
void __vmp_vnet_wtrace_event(const struct vmp_vnet_port *port, int vid,
			     const char *what, uint64_t arg);

/* A write or a mark at guest address @gpa. */
static inline void
vnet_wtrace_gpa(const struct vnet_vq *vq, enum vnet_wtrace_kind k, uint64_t gpa,
		uint64_t len)
{
	if (unlikely(__vmp_vnet_wtrace_on))
		__vmp_vnet_wtrace_gpa(vq, k, gpa, len);
}

/* A write or a mark at @hva, in the port's mapping of guest memory. */
static inline void
vnet_wtrace_hva(const struct vnet_vq *vq, enum vnet_wtrace_kind k,
		const volatile void *hva, uint64_t len)
{
	if (unlikely(__vmp_vnet_wtrace_on))
		__vmp_vnet_wtrace_hva(vq, k, hva, len);
}

/* A control event of connection @vid (a message, a device start/stop). */
static inline void
vnet_wtrace_event(const struct vmp_vnet_port *port, int vid, const char *what,
		  uint64_t arg)
{
	if (unlikely(__vmp_vnet_wtrace_on))
		__vmp_vnet_wtrace_event(port, vid, what, arg);
}

#endif /* VNET_WTRACE_H */
