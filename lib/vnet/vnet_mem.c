/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Guest memory as the datapath and the DMA engines see it: a mapping of
 * each region's fd of our own, next to rte_vhost's.
 *
 * rte_vhost unmaps guest memory when it handles SET_MEM_TABLE, when the
 * frontend disconnects and when the socket is unregistered, whatever the
 * backend says: it has no way to wait for copies a DMA engine still has in
 * flight. So the datapath translates guest addresses (descriptors and the
 * rings) into mappings this file owns, and a set of mappings is unmapped
 * only once no vring of the port has a record in flight (every copy that
 * could target it retired). A vring whose drain timed out keeps its records
 * (vnet_pvt.h: HUNG), so the mappings its copies use stay until it is
 * drained: leaked on purpose, with a log line, meanwhile.
 *
 * Holds are touched by the control thread only (resume, destroy_device,
 * port destroy), with the vrings parked.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "vnet_pvt.h"

/* One memory table: rte_vhost's regions (the key) and our mappings. */
struct vnet_memhold {
	TAILQ_ENTRY(vnet_memhold) next;
	struct rte_vhost_memory *mem; /* host_user_addr in our mappings */
	uint32_t n;
	struct {
		struct rte_vhost_mem_region vh; /* as rte_vhost mapped it */
		dev_t dev;
		ino_t ino;
		void *addr; /* ours, vh.mmap_size bytes */
	} map[];
};

static void
hold_free(struct vnet_memhold *h)
{
	uint32_t i;

	for (i = 0; i < h->n; i++)
		munmap(h->map[i].addr, h->map[i].vh.mmap_size);
	free(h->mem);
	free(h);
}

/* @h maps exactly the regions of @vh (same mappings, same files). */
static bool
hold_same(const struct vnet_memhold *h, const struct rte_vhost_memory *vh)
{
	uint32_t i;

	if (h == NULL || h->n != vh->nregions)
		return false;
	for (i = 0; i < h->n; i++) {
		const struct rte_vhost_mem_region *a = &h->map[i].vh;
		const struct rte_vhost_mem_region *b = &vh->regions[i];
		struct stat st;

		/* an address or an fd number may be reused: the file too */
		if (a->guest_phys_addr != b->guest_phys_addr ||
		    a->guest_user_addr != b->guest_user_addr ||
		    a->host_user_addr != b->host_user_addr ||
		    a->size != b->size || a->mmap_addr != b->mmap_addr ||
		    a->mmap_size != b->mmap_size || a->fd != b->fd ||
		    fstat(b->fd, &st) != 0 || st.st_dev != h->map[i].dev ||
		    st.st_ino != h->map[i].ino)
			return false;
	}
	return true;
}

static struct vnet_memhold *
hold_new(const char *path, struct rte_vhost_memory *vh)
{
	struct vnet_memhold *h;
	uint32_t i;

	h = calloc(1, sizeof(*h) + vh->nregions * sizeof(h->map[0]));
	if (h == NULL)
		return NULL;
	for (i = 0; i < vh->nregions; i++) {
		struct rte_vhost_mem_region *r = &vh->regions[i];
		uint64_t off = r->host_user_addr - (uintptr_t)r->mmap_addr;
		struct stat st;
		void *a;

		if (fstat(r->fd, &st) != 0)
			goto fail;
		a = mmap(NULL, r->mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
			 r->fd, 0);
		if (a == MAP_FAILED)
			goto fail;
		h->map[i].vh = *r;
		h->map[i].dev = st.st_dev;
		h->map[i].ino = st.st_ino;
		h->map[i].addr = a;
		h->n++;
		r->host_user_addr = (uintptr_t)a + off;
	}
	h->mem = vh;
	return h;
fail:
	VNET_LOG(ERR, "%s: cannot map guest memory region %u (%s)", path, i,
		 strerror(errno));
	hold_free(h);
	return NULL;
}

/* Does any vring of @port still have a record (so a copy) in flight? */
static bool
port_in_flight(const struct vmp_vnet_port *port)
{
	unsigned int i;

	for (i = 0; i < VNET_NB_VRINGS; i++) {
		const struct vnet_vq *vq = &port->vq[i];

		/* Acquire: pairs with the datapath's store-release of OFF
		 * after its last drain pass, so pk_head is its final value. */
		if (__atomic_load_n(&vq->state, __ATOMIC_ACQUIRE) != VQ_OFF ||
		    vnet_infl_count(vq) != 0)
			return true;
	}
	return false;
}

void
__vmp_vnet_mem_reap(struct vmp_vnet_port *port, bool all)
{
	struct vnet_memhold *h;
	unsigned int n = 0;

	if (port_in_flight(port)) {
		TAILQ_FOREACH (h, &port->retired, next)
			n++;
		if (n != 0)
			VNET_LOG(WARNING,
				 "%s: %u old guest memory table(s) kept "
				 "mapped: DMA copies still in flight",
				 port->path, n);
		return;
	}
	while ((h = TAILQ_FIRST(&port->retired)) != NULL) {
		TAILQ_REMOVE(&port->retired, h, next);
		hold_free(h);
	}
	if (all && port->hold != NULL) {
		hold_free(port->hold);
		port->hold = NULL;
		port->mem = NULL;
	}
}

void
__vmp_vnet_mem_retire(struct vmp_vnet_port *port)
{
	if (port->hold != NULL)
		TAILQ_INSERT_TAIL(&port->retired, port->hold, next);
	port->hold = NULL;
	port->mem = NULL;
	__vmp_vnet_mem_reap(port, false);
}

int
__vmp_vnet_mem_take(struct vmp_vnet_port *port, struct rte_vhost_memory *vh)
{
	struct vnet_memhold *h;

	if (hold_same(port->hold, vh)) {
		free(vh);
		return 0;
	}
	h = hold_new(port->path, vh);
	if (h == NULL) {
		free(vh);
		return -ENOMEM;
	}
	__vmp_vnet_mem_retire(port);
	port->hold = h;
	port->mem = h->mem;
	return 0;
}

void *
__vmp_vnet_mem_relocate(const struct vmp_vnet_port *port, const void *p,
			uint64_t len)
{
	const struct vnet_memhold *h = port->hold;
	uintptr_t a = (uintptr_t)p;
	uint32_t i;

	if (h == NULL)
		return NULL;
	for (i = 0; i < h->n; i++) {
		const struct rte_vhost_mem_region *r = &h->map[i].vh;
		uintptr_t base = (uintptr_t)r->mmap_addr;

		/* unsigned: below the mapping wraps to a huge offset */
		if (a - base < r->mmap_size && len <= r->mmap_size - (a - base))
			return (uint8_t *)h->map[i].addr + (a - base);
	}
	return NULL;
}
