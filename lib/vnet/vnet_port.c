/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port life cycle on the control side: the vhost-user socket, honest feature
 * negotiation, rte_vhost's callbacks, and parking / resuming the vrings around
 * every vhost-user message (see the state word in vnet_pvt.h).
 *
 * Device life cycle, as rte_vhost drives it:
 *   new_connection -> (messages: park, handle, resume) -> new_device (vrings
 *   start) -> ... -> destroy_device (vrings park, indexes saved back into
 *   rte_vhost for GET_VRING_BASE / reconnect) -> destroy_connection.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/virtio_net.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_malloc.h>
#include <rte_pause.h>

#include <vmp_dirtylog.h>

#include "vnet_pvt.h"
#include "vnet_wtrace.h"
#include "vnet_vhu_msg.h"

RTE_LOG_REGISTER(vmp_vnet_logtype, vmpath.vnet, INFO);

#ifndef VHOST_USER_F_PROTOCOL_FEATURES
#define VHOST_USER_F_PROTOCOL_FEATURES 30
#endif

/* Honest set: what the datapath implements. EVENT_IDX in both directions
 * (vnet_evidx.c), offloads only as the port's conf asks (vnet_offload.c), no
 * packed ring. IN_ORDER: buffers are used in
 * the order they were made available (heads consumed in avail order, records
 * published through the in-order FIFO, bad chains included); every used
 * element is written, which the spec allows (batching is optional). */
#define VNET_FEATURES                                                          \
	((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_NET_F_MRG_RXBUF) |     \
	 (1ULL << VIRTIO_F_IN_ORDER) | (1ULL << VIRTIO_RING_F_INDIRECT_DESC) | \
	 (1ULL << VHOST_F_LOG_ALL) | (1ULL << VIRTIO_F_ANY_LAYOUT) |           \
	 (1ULL << VIRTIO_RING_F_EVENT_IDX) |                                   \
	 (1ULL << VHOST_USER_F_PROTOCOL_FEATURES))

/* Protocol features: MQ, LOG_SHMFD, RARP, REPLY_ACK, NET_MTU, STATUS (bits
 * 0, 1, 2, 3, 4, 16). VIRTIO_NET_F_GUEST_ANNOUNCE is not offered: with it QEMU
 * leaves the announcement to the guest (a config interrupt, then the guest's
 * own gratuitous ARPs) and sends no SEND_RARP; the RARP from the backend
 * announces any guest, whatever its driver does after the switchover. */
#define VNET_PROTOCOL_FEATURES                                                 \
	((1ULL << 0) | (1ULL << 1) | (1ULL << 2) | (1ULL << 3) |               \
	 (1ULL << VNET_PROTOCOL_F_NET_MTU) | (1ULL << 16))

static pthread_mutex_t ports_lock = PTHREAD_MUTEX_INITIALIZER;
static TAILQ_HEAD(, vmp_vnet_port) ports = TAILQ_HEAD_INITIALIZER(ports);
/* vid -> port, for rte_vhost callbacks that carry only the vid. Written by
 * the vhost thread at connect/disconnect and by vmp_vnet_port_destroy() on
 * the app's thread; every access holds ports_lock. */
static struct vmp_vnet_port *vid_port[RTE_MAX_VHOST_DEVICE];

/* The port stays valid after the unlock: it is freed only after
 * rte_vhost_driver_unregister() returned, which waits for every callback
 * of its connections to return (and refuses while one runs). */
static struct vmp_vnet_port *
port_of_vid(int vid)
{
	struct vmp_vnet_port *port;

	if (vid < 0 || vid >= RTE_MAX_VHOST_DEVICE)
		return NULL;
	pthread_mutex_lock(&ports_lock);
	port = vid_port[vid];
	pthread_mutex_unlock(&ports_lock);
	return port;
}

/* STOP->HUNG once no drain pass runs (DRAIN lasts one bounded pass). A
 * vring that drains in the meantime is OFF and stays marked broken: it
 * missed its bound. */
static void
give_up_vq(struct vnet_vq *vq)
{
	uint32_t s;

	vq->broken = true;
	for (;;) {
		s = __atomic_load_n(&vq->state, __ATOMIC_ACQUIRE);
		if (s == VQ_OFF || s == VQ_HUNG)
			return; /* OFF: drained after all */
		/* STOP->HUNG; release pairs with the datapath's CAS-acquire
		 * to DRAIN, which then sees broken set above. */
		if (s == VQ_STOP && __atomic_compare_exchange_n(
					    &vq->state, &s, VQ_HUNG, false,
					    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			break;
		rte_pause();
	}
	vq->st.broken++;
	VNET_LOG(ERR,
		 "%s vring %u: %u packets still in flight after %u ms (DMA "
		 "engine hung, or no lcore polls the vring): vring stopped, "
		 "its memory kept until they complete",
		 vq->port->path, vq->index, vnet_infl_count(vq), VNET_DRAIN_MS);
}

/* The port and connection of @vid; NULL if neither is ours. */
static struct vnet_conn *
conn_of_vid(int vid, struct vmp_vnet_port **pport)
{
	struct vmp_vnet_port *port = port_of_vid(vid);
	unsigned int i;

	if (port == NULL)
		return NULL;
	for (i = 0; i < VMP_VNET_MAX_CONN; i++)
		if (port->conn[i].vid == vid) {
			*pport = port;
			return &port->conn[i];
		}
	return NULL;
}

static bool
conn_is_active(const struct vmp_vnet_port *port, const struct vnet_conn *c)
{
	return port->active >= 0 && &port->conn[port->active] == c;
}

/*
 * Control side of the state word: bring one vring to OFF. With @drain, also
 * wait until every copy in flight landed and was published (memory or rings
 * are about to change): the lcore polling the vring does that on its next
 * entries (STOP->DRAIN->OFF); the wait is bounded by @end (TSC), then the
 * vring is given up (HUNG, broken) and -EBUSY returned. Without @drain,
 * records in flight stay queued while the vring is OFF and are published
 * after it restarts, with the dirty-log decision taken then: a copy
 * submitted before VHOST_F_LOG_ALL was switched on and landing after is
 * logged (the case vhost-net's "Provides multiple submits and asynchronous
 * notifications" patch handles by recomputing the log info on completion).
 */
static int
park_vq(struct vnet_vq *vq, bool drain, uint64_t end)
{
	/* control thread only: the copies a device stop waits for */
	if (drain && vq->port->stopping)
		vq->port->drained += vnet_infl_count(vq);
	for (;;) {
		/* Acquire: pairs with the datapath's release in exit/drain. */
		uint32_t s = __atomic_load_n(&vq->state, __ATOMIC_ACQUIRE);
		uint32_t want;

		switch (s) {
		case VQ_OFF:
			/* OFF->STOP: a light park left copies in flight. */
			if (!drain || !vnet_infl_count(vq))
				return 0;
			__atomic_compare_exchange_n(&vq->state, &s, VQ_STOP,
						    false, __ATOMIC_ACQ_REL,
						    __ATOMIC_ACQUIRE);
			continue;
		case VQ_ON:
			/* ON->OFF, or ON->STOP with copies in flight. */
			want = (drain && vnet_infl_count(vq)) ? VQ_STOP
							      : VQ_OFF;
			__atomic_compare_exchange_n(&vq->state, &s, want, false,
						    __ATOMIC_ACQ_REL,
						    __ATOMIC_ACQUIRE);
			continue;
		case VQ_HUNG:
			/* given up before: still in flight */
			return drain ? -EBUSY : 0;
		case VQ_STOP:
			if (!drain) {
				/* a light park needs OFF only */
				__atomic_compare_exchange_n(
					&vq->state, &s, VQ_OFF, false,
					__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
				continue;
			}
			/* the polling lcore drains on its next entry */
			/* fall through */
		case VQ_DRAIN: /* one datapath pass, no wait inside */
			/* a light park sees DRAIN only during a HUNG vring's
			 * pass: it waits for the pass, never gives up */
			if (drain && rte_get_timer_cycles() > end) {
				give_up_vq(vq);
				if (__atomic_load_n(&vq->state,
						    __ATOMIC_ACQUIRE) != VQ_OFF)
					return -EBUSY;
				continue;
			}
			/* C2..C4: a sleeping lcore drains */
			__vmp_vnet_idle_ctl_wake(vq);
			rte_delay_us_sleep(100);
			continue;
		default: /* BUSY: one datapath burst */
			rte_pause();
			continue;
		}
	}
}

/* Park every vring; 0, or -EBUSY if a draining park timed out on one.
 * One VNET_DRAIN_MS bound for all of them. */
int
__vmp_vnet_port_park(struct vmp_vnet_port *port, bool drain)
{
	uint64_t end = rte_get_timer_cycles() +
		       rte_get_timer_hz() * VNET_DRAIN_MS / 1000;
	unsigned int i;
	int rc = 0;

	for (i = 0; i < VNET_NB_VRINGS; i++) {
		struct vnet_vq *vq = &port->vq[i];
		bool was_on =
			__atomic_load_n(&vq->state, __ATOMIC_RELAXED) != VQ_OFF;

		if (park_vq(vq, drain, end) < 0) {
			rc = -EBUSY;
			continue;
		}
		/* rte_vhost answers GET_VRING_BASE and serves reconnects
		 * from its copy of the indexes: keep it current. */
		if (was_on && port->vid >= 0)
			rte_vhost_set_vring_base(port->vid, i, vq->last_avail,
						 vq->last_used);
	}
	return rc;
}

/*
 * Point @vr's rings into our mapping of guest memory (vnet_mem.c), which
 * the datapath and the DMA engines use. A ring not inside one mapping
 * becomes NULL and is refused by __vmp_vnet_check_ring(), which then checks
 * each ring precisely against the memory table (our addresses).
 */
static void
relocate_vr(const struct vmp_vnet_port *port, struct rte_vhost_vring *vr)
{
	uint64_t n = vr->size <= 32768 ? vr->size : 0;
	uint64_t ev = vnet_ring_ev_bytes(port);

	vr->desc = __vmp_vnet_mem_relocate(port, vr->desc,
					   n * sizeof(struct vring_desc));
	vr->avail = __vmp_vnet_mem_relocate(port, vr->avail,
					    offsetof(struct vring_avail, ring) +
						    n * sizeof(uint16_t) + ev);
	vr->used = __vmp_vnet_mem_relocate(
		port, vr->used,
		offsetof(struct vring_used, ring) +
			n * sizeof(struct vring_used_elem) + ev);
}

static bool
start_vq(struct vmp_vnet_port *port, struct vnet_vq *vq)
{
	struct rte_vhost_vring vr;
	uint16_t la, lu;

	if (rte_vhost_get_vhost_vring(port->vid, vq->index, &vr) < 0 ||
	    vr.desc == NULL || vr.avail == NULL || vr.used == NULL)
		return false;
	/* rte_vhost takes a new size (SET_VRING_NUM) without translating the
	 * rings again: the size, layout and call fd are checked here, at
	 * every start, against the memory table the datapath will use. */
	relocate_vr(port, &vr);
	if (!__vmp_vnet_check_ring(port, vq, &vr) ||
	    !__vmp_vnet_check_callfd(port, vq, vr.callfd)) {
		vq->broken = true;
		vq->st.broken++;
		return false;
	}
	if (rte_vhost_get_vring_base(port->vid, vq->index, &la, &lu) < 0)
		return false;
	vq->desc = vr.desc;
	vq->avail = vr.avail;
	vq->used = vr.used;
	vq->size = (uint16_t)vr.size;
	vq->last_avail = la;
	vq->last_used = lu;
	vq->nofit = false; /* its indexes belong to the old ring */
	/* We poll: ask the guest not to kick us. */
	vq->used->flags = VRING_USED_F_NO_NOTIFY;
	vnet_wtrace_hva(vq, VNET_WT_FLAGS, &vq->used->flags, sizeof(uint16_t));
	vq->armed = false;
	if (__vmp_vnet_evidx_start(vq, vr.callfd) < 0)
		return false;
	if (!vq->rx) /* H1: the lcore sleeps on the new kick fd */
		__vmp_vnet_idle_kickfd_set(vq, vr.kickfd);
	if (port->log_on) {
		rte_vhost_log_used_vring(port->vid, vq->index,
					 offsetof(struct vring_used, flags),
					 sizeof(uint16_t));
		vnet_wtrace_hva(vq, VNET_WT_ULOG, &vq->used->flags,
				sizeof(uint16_t));
	}
	return true;
}

void
__vmp_vnet_port_resume(struct vmp_vnet_port *port)
{
	struct rte_vhost_memory *mem = NULL;
	const struct vnet_conn *c;
	uint64_t f = 0;
	unsigned int i, n;

	/* Acquire: pairs with vmp_vnet_port_destroy's release of closing. */
	if (!port->running || port->vid < 0 || port->active < 0 ||
	    __atomic_load_n(&port->closing, __ATOMIC_ACQUIRE))
		return;
	c = &port->conn[port->active];
	/* Every path here parked already, except post_msg after a message
	 * pre_msg answered itself: park (light, a no-op when OFF) before the
	 * memory table the datapath reads is replaced. */
	__vmp_vnet_port_park(port, false);
	/* rte_vhost_get_mem_table() dereferences a table rte_vhost may have
	 * freed (a failed SET_MEM_TABLE, RESET_OWNER): ask only when we know
	 * one is there; the vrings stay OFF until the next one is. */
	if (!c->mem_ok)
		return;
	if (rte_vhost_get_mem_table(port->vid, &mem) < 0 ||
	    rte_vhost_get_negotiated_features(port->vid, &f) < 0) {
		free(mem);
		return;
	}
	if (__vmp_vnet_mem_take(port, mem) < 0)
		return; /* no mapping of ours: no vring starts */
	port->features = f;
	port->mrg = !!(f & (1ULL << VIRTIO_NET_F_MRG_RXBUF));
	port->hdr_len = (port->mrg || (f & (1ULL << VIRTIO_F_VERSION_1)))
				? VNET_HDR_MRG
				: VNET_HDR_LEGACY;
	port->log_on = !!(f & (1ULL << VHOST_F_LOG_ALL));
	vnet_wtrace_event(port, port->vid, "resume", port->log_on);
	port->nb_vrings = rte_vhost_get_vring_num(port->vid);
	n = RTE_MIN((unsigned int)port->nb_vrings, 2u * port->nb_qp);
	for (i = 0; i < n; i++) {
		struct vnet_vq *vq = &port->vq[i];

		/* a HUNG vring keeps its ring fields for its drain */
		if (!c->enabled[i] || vq->broken ||
		    __atomic_load_n(&vq->state, __ATOMIC_ACQUIRE) != VQ_OFF)
			continue;
		if (!start_vq(port, vq))
			continue;
		/* OFF->ON; release pairs with the datapath's CAS-acquire in
		 * enter, which then sees the ring fields set above. */
		__atomic_store_n(&vq->state, VQ_ON, __ATOMIC_RELEASE);
		/* C2..C4: a sleeping lcore arms the restarted vring */
		__vmp_vnet_idle_ctl_wake(vq);
	}
}

static bool
vhost_msg_needs_drain(uint32_t req)
{
	switch (req) {
	case VHU_RESET_OWNER:
	case VHU_SET_MEM_TABLE:
	case VHU_SET_VRING_NUM:
	case VHU_SET_VRING_ADDR:
	case VHU_SET_VRING_BASE:
	case VHU_GET_VRING_BASE: /* the device stops */
		return true;
	default:
		return false;
	}
}

/* Close the fds that came with a message a hook answers: rte_vhost
 * drops them without closing once a hook answered or refused it. None
 * are left in the message either: rte_vhost sends a hook's answer with
 * the message's fds. */
static void
close_msg_fds(void *msg)
{
	int *fds, n, k, none = 0;

	fds = (int *)(uintptr_t)vnet_vhu_fds(msg, &n);
	for (k = 0; k < n; k++)
		if (fds[k] >= 0) {
			close(fds[k]);
			fds[k] = -1;
		}
	memcpy((uint8_t *)msg + VHU_CTX_OFF_FD_NUM, &none, sizeof(none));
}

/* Refuse a message before rte_vhost uses it. */
static enum rte_vhost_msg_result
refuse_msg(void *msg)
{
	close_msg_fds(msg);
	return RTE_VHOST_MSG_RESULT_ERR;
}

/* NET_SET_MTU: the frontend's MTU, refused above the port's (QEMU then
 * fails to start the device: "MTU not supported by the backend"). */
static int
set_mtu(struct vmp_vnet_port *port, const void *msg)
{
	const uint8_t *pl = vnet_vhu_payload(msg, sizeof(uint64_t));
	uint64_t mtu;

	if (pl == NULL) {
		VNET_LOG(ERR, "%s: NET_SET_MTU: bad payload size", port->path);
		return -EINVAL;
	}
	memcpy(&mtu, pl, sizeof(mtu));
	if (mtu < VMP_VNET_MTU_MIN || mtu > port->mtu) {
		VNET_LOG(ERR,
			 "%s: NET_SET_MTU %" PRIu64 " refused: port MTU %u",
			 port->path, mtu, port->mtu);
		return -EINVAL;
	}
	port->guest_mtu = (uint16_t)mtu;
	return 0;
}

static enum rte_vhost_msg_result
pre_msg(int vid, void *msg)
{
	struct vmp_vnet_port *port = NULL;
	struct vnet_conn *c = conn_of_vid(vid, &port);
	uint32_t req;

	if (c == NULL)
		return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
	req = vnet_vhu_u32(msg, VHU_OFF_REQUEST);
	if (!__vmp_vnet_msg_allowed(req)) {
		VNET_LOG(ERR, "%s: vhost-user request %u refused: not served",
			 port->path, req);
		return refuse_msg(msg);
	}
	if (req == VHU_GET_QUEUE_NUM) {
		/* Answer with what we serve, not rte_vhost's maximum. */
		uint32_t size = sizeof(uint64_t);
		uint64_t nb = port->nb_qp;

		/* it takes none: any fd sent with it would leak */
		close_msg_fds(msg);
		memcpy((uint8_t *)msg + VHU_OFF_SIZE, &size, sizeof(size));
		memcpy((uint8_t *)msg + VHU_OFF_PAYLOAD, &nb, sizeof(nb));
		return RTE_VHOST_MSG_RESULT_REPLY;
	}
	if (req == VHU_SET_MEM_TABLE &&
	    __vmp_vnet_check_mem_table(port, msg) < 0)
		return refuse_msg(msg);
	if (req == VHU_SET_LOG_BASE && __vmp_vnet_check_log_base(port, msg) < 0)
		return refuse_msg(msg);
	if (req == VHU_SEND_RARP)
		__vmp_vnet_rarp_request(port, msg);
	if (req == VHU_NET_SET_MTU && set_mtu(port, msg) < 0)
		return refuse_msg(msg);
	/* rte_vhost frees this connection's table in both (and keeps none
	 * if the new one fails): valid again only after post_msg. */
	if (req == VHU_SET_MEM_TABLE || req == VHU_RESET_OWNER)
		c->mem_ok = false;
	/* Any message may change what the datapath reads: stop the vrings
	 * first; wait for copies in flight only when memory, the rings or
	 * the device itself go away. Another connection's messages leave
	 * the polled rings alone. */
	vnet_wtrace_event(port, vid, "msg", req);
	if (conn_is_active(port, c)) {
		port->stopping = req == VHU_GET_VRING_BASE;
		__vmp_vnet_port_park(port, vhost_msg_needs_drain(req));
		port->stopping = false;
		vnet_wtrace_event(port, vid, "parked", req);
	}
	return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
}

/* Called only when rte_vhost (or pre_msg) handled the message without an
 * error. */
static enum rte_vhost_msg_result
post_msg(int vid, void *msg)
{
	struct vmp_vnet_port *port = NULL;
	struct vnet_conn *c = conn_of_vid(vid, &port);

	if (c == NULL)
		return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
	if (vnet_vhu_u32(msg, VHU_OFF_REQUEST) == VHU_SET_MEM_TABLE)
		c->mem_ok = true;
	vnet_wtrace_event(port, vid, "done",
			  vnet_vhu_u32(msg, VHU_OFF_REQUEST));
	if (conn_is_active(port, c))
		__vmp_vnet_port_resume(port);
	return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
}

static const struct rte_vhost_user_extern_ops ext_ops = {
	.pre_msg_handle = pre_msg,
	.post_msg_handle = post_msg,
};

static int
on_new_connection(int vid)
{
	char ifname[PATH_MAX];
	struct vmp_vnet_port *port;
	struct vnet_conn *c = NULL;
	unsigned int i;

	if (rte_vhost_get_ifname(vid, ifname, sizeof(ifname)) < 0 || vid < 0 ||
	    vid >= RTE_MAX_VHOST_DEVICE)
		return -1;
	pthread_mutex_lock(&ports_lock);
	TAILQ_FOREACH (port, &ports, next)
		if (strcmp(port->path, ifname) == 0)
			break;
	if (port != NULL)
		__atomic_fetch_add(&port->accepted, 1, __ATOMIC_RELAXED);
	for (i = 0; port != NULL && i < VMP_VNET_MAX_CONN; i++)
		if (port->conn[i].vid < 0) {
			c = &port->conn[i];
			memset(c, 0, sizeof(*c));
			c->vid = vid;
			vid_port[vid] = port;
			break;
		}
	pthread_mutex_unlock(&ports_lock);
	if (port == NULL)
		return -1;
	if (c == NULL) {
		VNET_LOG(ERR, "%s: connection (vid %d) refused: %u open",
			 port->path, vid, VMP_VNET_MAX_CONN);
		return -1;
	}
	__vmp_vnet_conn_set_timeout(port);
	VNET_LOG(INFO, "%s: frontend connected (vid %d)", port->path, vid);
	return rte_vhost_extern_callback_register(vid, &ext_ops, port);
}

/* Poll @c's rings: the port has no active connection, every vring is OFF. */
static int
conn_activate(struct vmp_vnet_port *port, struct vnet_conn *c)
{
	unsigned int i;

	/* A vring still HUNG keeps its ring fields and records: no device
	 * starts until its copies completed and it was drained. */
	if (__vmp_vnet_port_park(port, true) < 0)
		return -1;
	for (i = 0; i < VNET_NB_VRINGS; i++)
		port->vq[i].broken = false;
	port->active = (int)(c - port->conn);
	port->vid = c->vid;
	port->running = true;
	port->connects++;
	vnet_wtrace_event(port, c->vid, "activate", 0);
	__vmp_vnet_port_resume(port);
	VNET_LOG(INFO,
		 "%s: device running (vid %d), features 0x%" PRIx64
		 ", %u vrings",
		 port->path, c->vid, port->features, port->nb_vrings);
	return 0;
}

/* Stop polling the active connection (drained, indexes handed back to
 * rte_vhost) and poll the next running one, if any. */
static void
conn_deactivate(struct vmp_vnet_port *port)
{
	unsigned int i;

	/* On a timeout the vrings stay HUNG (logged): rte_vhost unmaps its
	 * view of guest memory after we return, the copies use ours. */
	vnet_wtrace_event(port, port->vid, "deactivate", 0);
	port->stopping = true;
	__vmp_vnet_port_park(port, true);
	port->stopping = false;
	vnet_wtrace_event(port, port->vid, "deactivated", port->drained);
	port->running = false;
	port->active = -1;
	port->vid = -1;
	__vmp_vnet_mem_retire(port);
	/* The frontend's kick fds go with it: a dup not taken by a halting
	 * lcore is closed now, not at the next vring start. */
	for (i = 0; i < VNET_NB_VRINGS; i++)
		__vmp_vnet_idle_kickfd_set(&port->vq[i], -1);
	/* And our call fd dups: after the park no lcore calls (a HUNG
	 * vring's drain passes publish nothing). */
	for (i = 0; i < VNET_NB_VRINGS; i++)
		__vmp_vnet_evidx_fini(&port->vq[i]);
	for (i = 0; i < VMP_VNET_MAX_CONN; i++)
		if (port->conn[i].vid >= 0 && port->conn[i].running) {
			if (conn_activate(port, &port->conn[i]) < 0)
				port->conn[i].running = false;
			break;
		}
}

static void
on_destroy_connection(int vid)
{
	struct vmp_vnet_port *port = NULL;
	struct vnet_conn *c = conn_of_vid(vid, &port);

	if (c == NULL)
		return;
	c->running = false;
	if (conn_is_active(port, c))
		conn_deactivate(port);
	pthread_mutex_lock(&ports_lock);
	if (vid_port[vid] == port)
		vid_port[vid] = NULL;
	c->vid = -1;
	pthread_mutex_unlock(&ports_lock);
	VNET_LOG(INFO, "%s: frontend disconnected (vid %d)", port->path, vid);
}

static int
on_new_device(int vid)
{
	struct vmp_vnet_port *port = NULL;
	struct vnet_conn *c = conn_of_vid(vid, &port);

	if (c == NULL)
		return -1;
	c->running = true;
	if (port->active < 0) {
		if (conn_activate(port, c) < 0) {
			c->running = false; /* rte_vhost asks again later */
			return -1;
		}
	} else if (!conn_is_active(port, c)) {
		VNET_LOG(INFO, "%s: device of vid %d waits: vid %d's rings run",
			 port->path, vid, port->vid);
	}
	return 0;
}

static void
on_destroy_device(int vid)
{
	struct vmp_vnet_port *port = NULL;
	struct vnet_conn *c = conn_of_vid(vid, &port);

	if (c == NULL)
		return;
	c->running = false;
	if (conn_is_active(port, c)) {
		VNET_LOG(INFO, "%s: device stopped (vid %d)", port->path, vid);
		conn_deactivate(port);
	}
}

static int
on_vring_state(int vid, uint16_t idx, int enable)
{
	struct vmp_vnet_port *port = NULL;
	struct vnet_conn *c = conn_of_vid(vid, &port);

	if (c == NULL || idx >= VNET_NB_VRINGS)
		return 0;
	if (!conn_is_active(port, c)) {
		c->enabled[idx] = !!enable;
		return 0;
	}
	__vmp_vnet_port_park(port, false);
	c->enabled[idx] = !!enable;
	__vmp_vnet_port_resume(port);
	return 0;
}

static int
on_features_changed(int vid, uint64_t features)
{
	struct vmp_vnet_port *port = NULL;
	struct vnet_conn *c = conn_of_vid(vid, &port);

	RTE_SET_USED(features);
	if (c == NULL || !conn_is_active(port, c))
		return 0;
	__vmp_vnet_port_park(port, false);
	__vmp_vnet_port_resume(port);
	return 0;
}

static const struct rte_vhost_device_ops vnet_ops = {
	.new_device = on_new_device,
	.destroy_device = on_destroy_device,
	.vring_state_changed = on_vring_state,
	.features_changed = on_features_changed,
	.new_connection = on_new_connection,
	.destroy_connection = on_destroy_connection,
};

static int
alloc_vqs(struct vmp_vnet_port *port)
{
	unsigned int i;

	for (i = 0; i < 2u * port->nb_qp; i++) {
		struct vnet_vq *vq = &port->vq[i];

		vq->pkts = rte_zmalloc_socket("vnet_pkts",
					      VNET_INFL * sizeof(*vq->pkts), 0,
					      port->socket_id);
		vq->ushadow = rte_zmalloc_socket(
			"vnet_used", VNET_USHADOW * sizeof(*vq->ushadow), 0,
			port->socket_id);
		vq->logr = rte_zmalloc_socket("vnet_logr",
					      VNET_LOGR * sizeof(*vq->logr), 0,
					      port->socket_id);
		vq->stash = rte_zmalloc_socket("vnet_stash",
					       VNET_INFL * sizeof(*vq->stash),
					       0, port->socket_id);
		if (!vq->pkts || !vq->ushadow || !vq->logr || !vq->stash)
			return -ENOMEM;
	}
	return 0;
}

static void
free_port(struct vmp_vnet_port *port)
{
	unsigned int i, k;

	for (i = 0; i < VNET_NB_VRINGS; i++) {
		struct vnet_vq *vq = &port->vq[i];

		for (k = 0; k < vq->stash_n; k++)
			rte_pktmbuf_free(vq->stash[k]);
		__vmp_vnet_dma_detach(vq);
		__vmp_vnet_idle_vq_fini(vq);
		rte_free(vq->pkts);
		rte_free(vq->ushadow);
		rte_free(vq->logr);
		rte_free(vq->stash);
	}
	__vmp_vnet_mem_reap(port, true);
	rte_free(port);
}

struct vmp_vnet_port *
vmp_vnet_port_create(const struct vmp_vnet_port_conf *conf)
{
	struct vmp_vnet_port *port, *p;
	uint64_t pf;
	unsigned int i;
	int err = EINVAL;

	if (conf == NULL || conf->path == NULL || conf->mp == NULL ||
	    conf->nb_qp == 0 || conf->nb_qp > VMP_VNET_MAX_QP ||
	    strlen(conf->path) >= sizeof(port->path)) {
		VNET_LOG(ERR,
			 "port create: bad conf (path %s, nb_qp %u, "
			 "mempool %p)",
			 conf && conf->path ? conf->path : "(null)",
			 conf ? conf->nb_qp : 0,
			 conf ? (void *)conf->mp : NULL);
		rte_errno = EINVAL;
		return NULL;
	}
	if (conf->mtu != 0 &&
	    (conf->mtu < VMP_VNET_MTU_MIN || conf->mtu > VMP_VNET_MTU_MAX)) {
		VNET_LOG(ERR, "port create: %s: MTU %u not in %u..%u",
			 conf->path, conf->mtu, VMP_VNET_MTU_MIN,
			 VMP_VNET_MTU_MAX);
		rte_errno = EINVAL;
		return NULL;
	}
	if (__vmp_vnet_offload_features(conf->offloads) == UINT64_MAX) {
		VNET_LOG(ERR, "port create: %s: bad offloads 0x%x", conf->path,
			 conf->offloads);
		rte_errno = EINVAL;
		return NULL;
	}
	port = rte_zmalloc_socket("vnet_port", sizeof(*port),
				  RTE_CACHE_LINE_SIZE, conf->socket_id);
	if (port == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	strcpy(port->path, conf->path);
	port->client = conf->client;
	port->nb_qp = conf->nb_qp;
	port->socket_id = conf->socket_id;
	port->mp = conf->mp;
	port->mtu = conf->mtu != 0 ? conf->mtu : VMP_VNET_MTU_DEFAULT;
	port->max_frame =
		(uint32_t)port->mtu + RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN;
	port->vid = -1;
	port->active = -1;
	for (i = 0; i < VMP_VNET_MAX_CONN; i++)
		port->conn[i].vid = -1;
	TAILQ_INIT(&port->retired);
	port->offered = (VNET_FEATURES | (1ULL << VIRTIO_NET_F_MTU) |
			 __vmp_vnet_offload_features(conf->offloads)) &
			~conf->disable_features;
	if (conf->nb_qp > 1)
		port->offered |= 1ULL << VIRTIO_NET_F_MQ;
	for (i = 0; i < VNET_NB_VRINGS; i++) {
		port->vq[i].port = port;
		port->vq[i].index = (uint16_t)i;
		port->vq[i].rx = !(i & 1);
		__vmp_vnet_idle_vq_init(&port->vq[i]);
	}
	if (alloc_vqs(port) < 0) {
		err = ENOMEM;
		goto free;
	}

	pthread_mutex_lock(&ports_lock);
	TAILQ_FOREACH (p, &ports, next)
		if (strcmp(p->path, port->path) == 0)
			break;
	if (p != NULL) {
		pthread_mutex_unlock(&ports_lock);
		VNET_LOG(ERR, "port create: %s already used", conf->path);
		err = EEXIST;
		goto free;
	}
	TAILQ_INSERT_TAIL(&ports, port, next);
	pthread_mutex_unlock(&ports_lock);

	err = EIO;
	if (rte_vhost_driver_register(
		    port->path, port->client ? RTE_VHOST_USER_CLIENT : 0) < 0)
		goto unlist;
	if (rte_vhost_driver_set_features(port->path, port->offered) < 0 ||
	    rte_vhost_driver_get_protocol_features(port->path, &pf) < 0 ||
	    rte_vhost_driver_set_protocol_features(
		    port->path, pf & VNET_PROTOCOL_FEATURES) < 0 ||
	    rte_vhost_driver_callback_register(port->path, &vnet_ops) < 0 ||
	    rte_vhost_driver_start(port->path) < 0)
		goto unregister;
	VNET_LOG(INFO, "%s: %s, %u queue pairs, features 0x%" PRIx64,
		 port->path, port->client ? "client" : "server", port->nb_qp,
		 port->offered);
	return port;

unregister:
	VNET_LOG(ERR, "%s: rte_vhost refused the socket", port->path);
	rte_vhost_driver_unregister(port->path);
unlist:
	pthread_mutex_lock(&ports_lock);
	TAILQ_REMOVE(&ports, port, next);
	pthread_mutex_unlock(&ports_lock);
free:
	free_port(port);
	rte_errno = err;
	return NULL;
}

#define VNET_UNREGISTER_MS 5000

int
vmp_vnet_port_destroy(struct vmp_vnet_port *port)
{
	unsigned int i;
	uint64_t end = rte_get_timer_cycles() +
		       rte_get_timer_hz() * VNET_UNREGISTER_MS / 1000;

	if (port == NULL)
		return -EINVAL;
	/* No vring restarts from here; release pairs with resume's acquire. */
	__atomic_store_n(&port->closing, true, __ATOMIC_RELEASE);
	/* Unregister destroys the device (destroy_device parks and drains
	 * every vring, bounded) and unmaps rte_vhost's view of guest memory
	 * (copies in flight use ours). It reports busy while the vhost
	 * thread is inside a callback of ours: retry, bounded. */
	while (!port->unregistered) {
		if (rte_vhost_driver_unregister(port->path) == 0) {
			port->unregistered = true;
			break;
		}
		if (rte_get_timer_cycles() > end) {
			VNET_LOG(ERR,
				 "%s: destroy: rte_vhost still busy after "
				 "%u ms: retry later",
				 port->path, VNET_UNREGISTER_MS);
			return -EBUSY;
		}
		usleep(10 * 1000);
	}
	/* Copies still in flight: keep everything they may touch (records,
	 * mbufs, guest memory), refuse; a retry finishes once they landed
	 * and the polling lcore drained the vrings. */
	if (__vmp_vnet_port_park(port, true) < 0) {
		if (!port->destroy_refused)
			VNET_LOG(ERR,
				 "%s: destroy refused: DMA copies still in "
				 "flight, port kept (retry once they "
				 "complete)",
				 port->path);
		port->destroy_refused = true;
		return -EBUSY;
	}
	pthread_mutex_lock(&ports_lock);
	TAILQ_REMOVE(&ports, port, next);
	for (i = 0; i < VMP_VNET_MAX_CONN; i++) {
		int vid = port->conn[i].vid;

		if (vid >= 0 && vid < RTE_MAX_VHOST_DEVICE &&
		    vid_port[vid] == port)
			vid_port[vid] = NULL;
	}
	pthread_mutex_unlock(&ports_lock);
	free_port(port);
	return 0;
}

int
vmp_vnet_port_set_dma(struct vmp_vnet_port *port, uint16_t qp,
		      struct vmp_vnet_dma *dma)
{
	unsigned int i;

	if (port == NULL || qp >= port->nb_qp) {
		VNET_LOG(ERR, "set_dma: bad queue pair %u", qp);
		return -EINVAL;
	}
	for (i = 2 * qp; i < 2u * qp + 2; i++)
		if (vnet_infl_count(&port->vq[i]))
			return -EBUSY;
	for (i = 2 * qp; i < 2u * qp + 2; i++) {
		__vmp_vnet_dma_detach(&port->vq[i]);
		if (dma != NULL && __vmp_vnet_dma_attach(&port->vq[i], dma)) {
			/* all or nothing: the pair's other vring backs off */
			while (i-- > 2u * qp)
				__vmp_vnet_dma_detach(&port->vq[i]);
			return -ENOSPC;
		}
	}
	return 0;
}

/* vmp_vnet_pin_cb_t onto lib/dirtylog: whole tracker pages. */
static void
dirty_pin(void *arg, int vid, uint64_t gpa, uint64_t len, bool pin)
{
	struct vmp_dirty_tracker *t = arg;
	uint64_t pg = vmp_dirty_page_size(t);
	uint64_t a = RTE_ALIGN_FLOOR(gpa, pg);
	uint64_t e = RTE_ALIGN_CEIL(gpa + len, pg);
	int rc;

	RTE_SET_USED(vid);
	rc = pin ? vmp_dirty_pin(t, a, e - a) : vmp_dirty_unpin(t, a, e - a);
	/* -ENOENT: not memory the tracker covers; anything else is a bug */
	if (rc < 0 && rc != -ENOENT)
		VNET_LOG(ERR, "dirty tracker %s 0x%" PRIx64 "+%" PRIu64 ": %d",
			 pin ? "pin" : "unpin", a, e - a, rc);
}

int
vmp_vnet_port_set_dirty_tracker(struct vmp_vnet_port *port,
				struct vmp_dirty_tracker *t)
{
	return vmp_vnet_port_set_pin_cb(port, t != NULL ? dirty_pin : NULL, t);
}

int
vmp_vnet_port_set_pin_cb(struct vmp_vnet_port *port, vmp_vnet_pin_cb_t cb,
			 void *arg)
{
	if (port == NULL)
		return -EINVAL;
	port->pin_arg = arg;
	port->pin_cb = cb;
	return 0;
}

int
vmp_vnet_vq_stats_get(const struct vmp_vnet_port *port, uint16_t vring,
		      struct vmp_vnet_vq_stats *st)
{
	if (port == NULL || st == NULL || vring >= 2 * port->nb_qp)
		return -EINVAL;
	*st = port->vq[vring].st;
	return 0;
}

int
vmp_vnet_port_info_get(const struct vmp_vnet_port *port,
		       struct vmp_vnet_port_info *info)
{
	unsigned int i;

	if (port == NULL || info == NULL)
		return -EINVAL;
	memset(info, 0, sizeof(*info));
	strcpy(info->path, port->path);
	info->client = port->client;
	info->connected = port->running;
	info->vid = port->vid;
	info->features = port->features;
	info->nb_qp = port->nb_qp;
	info->nb_vrings = port->nb_vrings;
	info->log_on = port->log_on;
	info->connects = port->connects;
	info->accepted = __atomic_load_n(&port->accepted, __ATOMIC_RELAXED);
	info->drained = port->drained;
	info->rarp_sent = port->rarp_sent;
	info->mtu = port->mtu;
	info->guest_mtu = port->guest_mtu;
	for (i = 0; i < VNET_NB_VRINGS; i++) {
		info->log_pages += port->vq[i].st.log_pages;
		uint32_t s =
			__atomic_load_n(&port->vq[i].state, __ATOMIC_RELAXED);

		if (s != VQ_OFF && s != VQ_HUNG)
			info->running |= 1u << i;
		if (port->vq[i].broken)
			info->broken |= 1u << i;
	}
	for (i = 0; i < VMP_VNET_MAX_CONN; i++) {
		const struct vnet_conn *c = &port->conn[i];
		struct vmp_vnet_conn_info *ci = &info->conn[info->nb_conns];

		if (c->vid < 0)
			continue;
		ci->vid = c->vid;
		ci->running = c->running;
		ci->mem_valid = c->mem_ok;
		ci->polled = port->active == (int)i;
		info->nb_conns++;
	}
	return 0;
}
