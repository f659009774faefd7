/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VIRTIO_RING_F_EVENT_IDX (virtio 1.x 2.7.7.2, 2.7.10): each side publishes
 * an index and the other notifies only when its own index crosses it.
 *
 *   guest -> us:  avail_event, the u16 after used->ring[size]: the guest
 *                 kicks when avail->idx passes it (used->flags is ignored
 *                 and stays 0).
 *   us -> guest:  used_event, the u16 after avail->ring[size]: we call the
 *                 guest when used->idx passes it.
 *
 * Both addresses are covered by the ring bounds checked at every vring
 * start (__vmp_vnet_check_ring() adds vnet_ring_ev_bytes()).
 *
 * Calls: rte_vhost_vring_call_nonblock() decides with rte_vhost's own copy
 * of the used index, which an external backend does not move while the
 * vring runs (it is set at park only): under EVENT_IDX it would suppress
 * nearly every call. So the decision is ours and the call is a write to
 * our dup of the call eventfd, which no rte_vhost path can close or reuse
 * under us. It is replaced at a vring start and closed when the connection
 * goes (conn_deactivate), both after a park: no lcore calls then (a BUSY
 * or draining vring is waited for; a HUNG vring's drain publishes nothing).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "vnet_pvt.h"
#include "vnet_wtrace.h"

static void
log_avail_event(struct vnet_vq *vq)
{
	struct vmp_vnet_port *port = vq->port;

	vnet_wtrace_hva(vq, VNET_WT_AVAIL_EVENT, vnet_avail_event(vq),
			sizeof(uint16_t));
	if (port->log_on) {
		rte_vhost_log_used_vring(
			port->vid, vq->index,
			offsetof(struct vring_used, ring) +
				(uint64_t)vq->size *
					sizeof(struct vring_used_elem),
			sizeof(uint16_t));
		vnet_wtrace_hva(vq, VNET_WT_ULOG, vnet_avail_event(vq),
				sizeof(uint16_t));
	}
}

/*
 * Vhost thread, vring OFF (no lcore inside it): take the call fd of the
 * restarted vring, forget the last call decision (the first one after a
 * start always calls) and, under EVENT_IDX, clear used->flags and put
 * avail_event one ring-wrap ahead: a polling lcore wants no kicks, and the
 * guest's avail->idx (at most size ahead of last_avail) only passes
 * last_avail - 1 after 2^16 - size more buffers.
 * @return 0, or -errno when the call fd cannot be kept (the vring does not
 * start: a guest we could never interrupt would stall).
 */
int
__vmp_vnet_evidx_start(struct vnet_vq *vq, int callfd)
{
	struct vmp_vnet_port *port = vq->port;

	__vmp_vnet_evidx_fini(vq);
	vq->ev_valid = false;
	if (!vnet_evidx(port))
		return 0;
	if (callfd >= 0) {
		vq->call_fd = fcntl(callfd, F_DUPFD_CLOEXEC, 0);
		if (vq->call_fd < 0) {
			int err = errno;

			VNET_LOG(ERR, "%s vring %u: call fd dup: %s",
				 port->path, vq->index, strerror(err));
			return -err;
		}
	}
	vq->used->flags = 0; /* the caller logs it */
	__atomic_store_n(vnet_avail_event(vq), (uint16_t)(vq->last_avail - 1),
			 __ATOMIC_RELAXED);
	log_avail_event(vq);
	return 0;
}

/* No lcore calls on @vq (OFF or HUNG, or nobody polls it). */
void
__vmp_vnet_evidx_fini(struct vnet_vq *vq)
{
	if (vq->call_fd >= 0)
		close(vq->call_fd);
	vq->call_fd = -1;
}

/*
 * Polling lcore, vring BUSY, after the caller's full barrier that follows
 * the store-release of used->idx: that barrier pairs with the guest's full
 * barrier between its store of used_event and its re-read of used->idx
 * (Linux virtqueue_enable_cb_prepare + virtqueue_poll), so either we read
 * its new used_event here or it sees our used->idx and polls.
 */
void
__vmp_vnet_evidx_notify(struct vnet_vq *vq)
{
	uint16_t ue = __atomic_load_n(vnet_used_event(vq), __ATOMIC_RELAXED);
	uint16_t nw = vq->last_used;
	uint64_t one = 1;

	/* decided once per published batch (call_pending), so old..new is
	 * at most a ring and the 16-bit difference is exact */
	if (vq->ev_valid && !vnet_need_event(ue, nw, vq->ev_old)) {
		vq->st.notify_suppressed++;
	} else if (vq->call_fd >= 0) {
		/* non-blocking (check_callfd); EAGAIN: the counter is full,
		 * the guest has an interrupt to read anyway */
		if (write(vq->call_fd, &one, sizeof(one)) < 0 &&
		    errno != EAGAIN)
			VNET_LOG(DEBUG, "%s vring %u: call: %s", vq->port->path,
				 vq->index, strerror(errno));
		vq->st.notify++;
	}
	vq->ev_old = nw;
	vq->ev_valid = true;
	vq->call_pending = false;
}

/*
 * N1 under EVENT_IDX (vnet_idle.c), waker's lcore, vring BUSY: ask for a
 * kick at the next buffer, i.e. when avail->idx passes last_avail. The
 * caller's N2 full barrier then pairs with the guest's barrier between its
 * avail->idx store and its avail_event load (Linux virtqueue_kick_prepare).
 * There is no disarm: awake, the lcore leaves avail_event behind. The
 * guest's next batch passes it (one kick, at most, per sleep: the one that
 * woke us, or one while we poll), and after that only a 2^16 wrap does: a
 * stale kick is an eventfd write that at worst ends one later sleep early.
 */
void
__vmp_vnet_evidx_arm(struct vnet_vq *vq)
{
	__atomic_store_n(vnet_avail_event(vq), vq->last_avail,
			 __ATOMIC_RELAXED);
	log_avail_event(vq);
	vq->armed = true;
}
