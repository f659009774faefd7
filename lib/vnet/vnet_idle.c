/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Halting datapath lcores: the lcore's side of the guest-kick handshake, the
 * control side's wake, and the kick eventfds the vhost thread hands over.
 * Model: tests/vnet/vnet_idle.pml (tests/vnet/vnet_idle_model.sh). Labels
 * below are the model's.
 *
 * Guest driver, making buffers available    lcore, about to sleep
 *   G1 store avail->idx                        L1 store sleeping = 1
 *   G2 full barrier (pairs with N2)            L2 full barrier (pairs with C2)
 *   G3 load used->flags                        per attached vring:
 *   G4 no NO_NOTIFY: write the kick eventfd      N0 CAS state ON->BUSY
 *                                                N1 clear NO_NOTIFY (store)
 *                                                N2 full barrier (pairs with
 * G2) N3 load avail->idx: moved? N4 state BUSY->ON (release) L3 epoll_wait W1
 * store sleeping = 0 W2 set NO_NOTIFY again (in BUSY) Either N3 sees G1 (work:
 * no sleep), or G3 sees N1 and the guest kicks; a kick is an eventfd write,
 * which stays readable, so a kick that lands before L3 still ends it.
 *
 * Control side (vhost thread)                lcore
 *   C1 state OFF->ON (release; the ring was    L1, L2 as above
 *      just set up with NO_NOTIFY set) or      N0 load / CAS of state
 *      ->STOP (a drain is due)
 *   C2 full barrier (pairs with L2)
 *   C3 load sleeping
 *   C4 1: write the control eventfd
 * Either N0 sees the new state (arms the restarted vring, or does not sleep
 * with a drain due), or C3 sees sleeping = 1 and wakes the lcore, which then
 * polls and comes back through L1.
 *
 * Under VIRTIO_RING_F_EVENT_IDX the guest reads avail_event, not used->flags
 * (vnet_evidx.c): N1 stores avail_event = last_avail, G3 loads avail_event
 * and G4 kicks when avail->idx passed it; the barriers and the re-check are
 * the same (model: the EVIDX variant of tests/vnet/vnet_idle.pml). W2
 * writes nothing then: avail_event is left behind.
 *
 * Kick eventfds belong to the frontend and change on SET_VRING_KICK and
 * reconnects: start_vq hands a dup over through vq->kick_new (xchg, H1), the
 * lcore takes it (xchg, H2) before L1 and alone adds it to its epoll set,
 * deletes and closes the one it replaces. They are edge-triggered and never
 * read: an eventfd reports every write to an edge-triggered epoll set, and
 * reading an fd whose kind the frontend chose could block.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_malloc.h>

#include "vnet_pvt.h"

/* epoll data: what woke us */
#define EV_CTL 0ULL
#define EV_FD 1ULL
#define EV_VQ 2ULL /* + index in w->vq[] */

struct vmp_vnet_waker {
	int epfd;
	int ctl_fd; /* eventfd, ours, non-blocking */
	/* L1 / W1 by the lcore, C3 by the control side */
	uint32_t sleeping;
	uint64_t ctl_tsc; /* TSC of the latest C4, for the wake latency */
	uint32_t nb_vq;
	struct vnet_vq *vq[VMP_VNET_WAKER_MAX_VQ];
	struct vmp_vnet_waker_stats st;
};

void
__vmp_vnet_idle_vq_init(struct vnet_vq *vq)
{
	vq->kick_new = VNET_KICK_SAME;
	vq->kick_fd = -1;
	vq->call_fd = -1;
}

/* H1: hand the vring's new kick fd (or none) to the waker's lcore. */
void
__vmp_vnet_idle_kickfd_set(struct vnet_vq *vq, int fd)
{
	int nfd = fd >= 0 ? dup(fd) : -1, old;

	if (nfd < 0)
		nfd = VNET_KICK_NONE; /* the lcore must not sleep on it */
	old = __atomic_exchange_n(&vq->kick_new, nfd, __ATOMIC_ACQ_REL);
	if (old >= 0)
		close(old); /* never taken: the lcore did not sleep since */
}

static void waker_del_vq(struct vmp_vnet_waker *w, struct vnet_vq *vq);

/* Detach @vq from its waker, drop the fd not taken yet. Nobody polls @vq,
 * nobody sleeps on its waker. */
void
__vmp_vnet_idle_vq_fini(struct vnet_vq *vq)
{
	int old = __atomic_exchange_n(&vq->kick_new, VNET_KICK_SAME,
				      __ATOMIC_ACQ_REL);

	if (old >= 0)
		close(old);
	if (vq->waker != NULL)
		waker_del_vq(vq->waker, vq);
	__vmp_vnet_evidx_fini(vq);
}

static void
ctl_kick(struct vmp_vnet_waker *w)
{
	uint64_t one = 1;

	w->ctl_tsc = rte_get_tsc_cycles();
	/* C4; the eventfd stays readable until the lcore reads it. A full
	 * counter (never, in practice) is readable as well. */
	if (write(w->ctl_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		VNET_LOG(ERR, "waker: control eventfd write: %s",
			 strerror(errno));
}

/* C2..C4, after the control side's C1 on @vq. */
void
__vmp_vnet_idle_ctl_wake(struct vnet_vq *vq)
{
	struct vmp_vnet_waker *w = vq->waker;

	if (w == NULL)
		return;
	/* C2: full barrier, pairs with L2: either our C3 sees the lcore's
	 * L1, or its N0 sees our C1. */
	rte_atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&w->sleeping, __ATOMIC_RELAXED)) { /* C3 */
		__atomic_fetch_add(&w->st.ctl_kicks, 1, __ATOMIC_RELAXED);
		ctl_kick(w);
	}
}

struct vmp_vnet_waker *
vmp_vnet_waker_create(int socket_id)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = EV_CTL};
	struct vmp_vnet_waker *w;
	int err;

	w = rte_zmalloc_socket("vnet_waker", sizeof(*w), RTE_CACHE_LINE_SIZE,
			       socket_id);
	if (w == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->ctl_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->epfd < 0 || w->ctl_fd < 0 ||
	    epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->ctl_fd, &ev) < 0) {
		err = errno;
		VNET_LOG(ERR, "waker: epoll/eventfd: %s", strerror(err));
		if (w->epfd >= 0)
			close(w->epfd);
		if (w->ctl_fd >= 0)
			close(w->ctl_fd);
		rte_free(w);
		rte_errno = err;
		return NULL;
	}
	return w;
}

int
vmp_vnet_waker_free(struct vmp_vnet_waker *w)
{
	if (w == NULL)
		return -EINVAL;
	if (w->nb_vq)
		return -EBUSY;
	close(w->epfd);
	close(w->ctl_fd);
	rte_free(w);
	return 0;
}

static void
waker_del_vq(struct vmp_vnet_waker *w, struct vnet_vq *vq)
{
	uint32_t i;

	for (i = 0; i < w->nb_vq; i++)
		if (w->vq[i] == vq)
			break;
	if (i == w->nb_vq)
		return;
	if (vq->kick_fd >= 0) {
		epoll_ctl(w->epfd, EPOLL_CTL_DEL, vq->kick_fd, NULL);
		close(vq->kick_fd);
		vq->kick_fd = -1;
		/* the next waker takes the ring's fd at the next start */
	}
	/* move the last one here; its epoll data names its index */
	w->vq[i] = w->vq[--w->nb_vq];
	if (i < w->nb_vq && w->vq[i]->kick_fd >= 0) {
		struct epoll_event ev = {.events = EPOLLIN | EPOLLET,
					 .data.u64 = EV_VQ + i};

		epoll_ctl(w->epfd, EPOLL_CTL_MOD, w->vq[i]->kick_fd, &ev);
	}
	vq->waker = NULL;
}

int
vmp_vnet_port_set_waker(struct vmp_vnet_port *port, uint16_t qp,
			struct vmp_vnet_waker *w)
{
	struct vnet_vq *rx, *tx;

	if (port == NULL || qp >= port->nb_qp)
		return -EINVAL;
	rx = &port->vq[2 * qp];
	tx = &port->vq[2 * qp + 1];
	if (w != NULL && (rx->waker != NULL || tx->waker != NULL))
		return rx->waker == w && tx->waker == w ? 0 : -EBUSY;
	if (w == NULL) {
		if (rx->waker != NULL)
			waker_del_vq(rx->waker, rx);
		if (tx->waker != NULL)
			waker_del_vq(tx->waker, tx);
		return 0;
	}
	if (w->nb_vq + 2 > VMP_VNET_WAKER_MAX_VQ)
		return -ENOSPC;
	w->vq[w->nb_vq++] = rx;
	w->vq[w->nb_vq++] = tx;
	/* Release: the vhost thread's C3 then reads a valid waker. */
	__atomic_store_n(&rx->waker, w, __ATOMIC_RELEASE);
	__atomic_store_n(&tx->waker, w, __ATOMIC_RELEASE);
	return 0;
}

int
vmp_vnet_waker_fd_add(struct vmp_vnet_waker *w, int fd)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLET,
				 .data.u64 = EV_FD};

	if (w == NULL || fd < 0)
		return -EINVAL;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	return 0;
}

/* H2: take the kick fd the control side handed over (if any). */
static void
take_kickfd(struct vmp_vnet_waker *w, uint32_t i)
{
	struct vnet_vq *vq = w->vq[i];
	int nfd = __atomic_exchange_n(&vq->kick_new, VNET_KICK_SAME,
				      __ATOMIC_ACQ_REL);
	struct epoll_event ev = {.events = EPOLLIN | EPOLLET,
				 .data.u64 = EV_VQ + i};

	if (nfd == VNET_KICK_SAME)
		return;
	if (vq->kick_fd >= 0) {
		epoll_ctl(w->epfd, EPOLL_CTL_DEL, vq->kick_fd, NULL);
		close(vq->kick_fd);
		vq->kick_fd = -1;
	}
	if (nfd < 0)
		return;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, nfd, &ev) < 0) {
		/* not pollable (a hostile frontend's choice): the lcore
		 * polls while it owns this vring */
		VNET_LOG(WARNING, "%s vring %u: kick fd not pollable (%s)",
			 vq->port->path, vq->index, strerror(errno));
		close(nfd);
		return;
	}
	vq->kick_fd = nfd;
}

static void
set_no_notify(struct vnet_vq *vq, bool on)
{
	struct vmp_vnet_port *port = vq->port;
	uint16_t f = vq->used->flags;

	if (vnet_evidx(port)) {
		if (on)
			vq->armed = false; /* avail_event stays behind */
		else
			__vmp_vnet_evidx_arm(vq); /* N1 */
		return;
	}
	f = on ? (f | VRING_USED_F_NO_NOTIFY)
	       : (f & (uint16_t)~VRING_USED_F_NO_NOTIFY);
	__atomic_store_n(&vq->used->flags, f, __ATOMIC_RELAXED);
	vq->armed = !on;
	if (port->log_on)
		rte_vhost_log_used_vring(port->vid, vq->index,
					 offsetof(struct vring_used, flags),
					 sizeof(uint16_t));
}

/*
 * N0..N4 on one vring: 1 if it has work or cannot be slept on, 0 if it is
 * armed (or not running: the control side wakes us when it restarts it).
 */
static int
arm_vq(struct vnet_vq *vq)
{
	uint32_t s = __atomic_load_n(&vq->state, __ATOMIC_ACQUIRE);
	int work = 0;

	if (s == VQ_OFF)
		return 0;
	/* N0: ON->BUSY; acquire pairs with the control side's C1. STOP /
	 * HUNG: a drain is due; BUSY: another lcore (shared RX vring). */
	if (s != VQ_ON ||
	    !__atomic_compare_exchange_n(&vq->state, &s, VQ_BUSY, false,
					 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return 1;
	if (vnet_infl_count(vq) || vq->call_pending || vq->stash_n ||
	    vq->broken) {
		work = 1; /* copies in flight are no event: keep polling */
	} else if (!vq->rx) {
		if (vq->kick_fd < 0) {
			work = 1; /* no kick to wait for */
		} else {
			set_no_notify(vq, false); /* N1 */
			/* N2: full barrier, pairs with the guest's G2 */
			rte_atomic_thread_fence(__ATOMIC_SEQ_CST);
			/* N3 */
			work = __atomic_load_n(&vq->avail->idx,
					       __ATOMIC_RELAXED) !=
			       vq->last_avail;
		}
	}
	__vmp_vnet_vq_exit(vq); /* N4 */
	return work;
}

/* W2: the lcore polls again: no kicks wanted. */
static void
disarm(struct vmp_vnet_waker *w)
{
	uint32_t i;

	for (i = 0; i < w->nb_vq; i++) {
		struct vnet_vq *vq = w->vq[i];
		uint32_t s = VQ_ON;

		/* the vhost thread clears it at a restart (vring OFF) */
		if (!__atomic_load_n(&vq->armed, __ATOMIC_RELAXED))
			continue;
		/* A vring parked meanwhile is set up with NO_NOTIFY again
		 * when it restarts: leave it to that. */
		if (!__atomic_compare_exchange_n(&vq->state, &s, VQ_BUSY, false,
						 __ATOMIC_ACQUIRE,
						 __ATOMIC_RELAXED)) {
			if (s == VQ_OFF)
				vq->armed = false;
			continue;
		}
		set_no_notify(vq, true);
		__vmp_vnet_vq_exit(vq);
	}
}

static void
count_lat(struct vmp_vnet_waker *w, uint64_t cycles)
{
	uint64_t us = cycles * 1000000 / rte_get_tsc_hz();
	unsigned int b = 0;

	while (b < VMP_VNET_WAKE_LAT_BUCKETS - 1 && us >= (1ULL << b))
		b++;
	w->st.lat[b]++;
}

/* L3 and what woke it. */
static int
wait_events(struct vmp_vnet_waker *w, uint32_t timeout_us)
{
	struct epoll_event ev[16];
	uint64_t t0 = rte_get_tsc_cycles(), t1, junk;
	int n, i, tmo = -1, err = 0;
	bool ctl = false, kick = false, fd = false;

	if (timeout_us)
		tmo = (int)((timeout_us + 999) / 1000);
	w->st.sleeps++;
	n = epoll_wait(w->epfd, ev, RTE_DIM(ev), tmo); /* L3 */
	if (n < 0)
		err = errno;
	/* W1: plain store; a control wake that still sees 1 only costs an
	 * eventfd write, read at our next sleep. */
	__atomic_store_n(&w->sleeping, 0, __ATOMIC_RELAXED);
	t1 = rte_get_tsc_cycles();
	w->st.ns_asleep += (t1 - t0) * 1000000000 / rte_get_tsc_hz();
	for (i = 0; i < n; i++) {
		if (ev[i].data.u64 == EV_CTL) {
			ctl = true;
			while (read(w->ctl_fd, &junk, sizeof(junk)) > 0)
				;
		} else if (ev[i].data.u64 == EV_FD) {
			fd = true;
		} else {
			kick = true;
		}
	}
	if (ctl) {
		w->st.wake_ctl++;
		count_lat(w,
			  t1 - __atomic_load_n(&w->ctl_tsc, __ATOMIC_RELAXED));
	}
	w->st.wake_kick += kick;
	w->st.wake_fd += fd;
	if (n == 0) {
		w->st.wake_timeout++;
		count_lat(w, t1 - t0 > (uint64_t)tmo * rte_get_tsc_hz() / 1000
				     ? t1 - t0 -
					       (uint64_t)tmo *
						       rte_get_tsc_hz() / 1000
				     : 0);
	}
	if (err == EINTR)
		err = 0;
	return err ? -err : 1;
}

int
vmp_vnet_waker_sleep(struct vmp_vnet_waker *w, uint32_t timeout_us,
		     vmp_vnet_recheck_t recheck, void *arg)
{
	uint32_t i;
	int work = 0, rc;

	if (w == NULL)
		return -EINVAL;
	for (i = 0; i < w->nb_vq; i++)
		take_kickfd(w, i);			     /* H2 */
	__atomic_store_n(&w->sleeping, 1, __ATOMIC_RELAXED); /* L1 */
	/* L2: full barrier, pairs with the control side's C2 */
	rte_atomic_thread_fence(__ATOMIC_SEQ_CST);
	for (i = 0; i < w->nb_vq && !work; i++)
		work = arm_vq(w->vq[i]);
	if (!work && recheck != NULL)
		work = recheck(arg);
	if (work) {
		__atomic_store_n(&w->sleeping, 0, __ATOMIC_RELAXED);
		w->st.aborts++;
		disarm(w);
		return 0;
	}
	rc = wait_events(w, timeout_us);
	disarm(w);
	return rc;
}

int
vmp_vnet_waker_kick(struct vmp_vnet_waker *w)
{
	if (w == NULL)
		return -EINVAL;
	ctl_kick(w);
	return 0;
}

int
vmp_vnet_waker_stats_get(const struct vmp_vnet_waker *w,
			 struct vmp_vnet_waker_stats *st)
{
	if (w == NULL || st == NULL)
		return -EINVAL;
	*st = w->st;
	st->ctl_kicks = __atomic_load_n(&w->st.ctl_kicks, __ATOMIC_RELAXED);
	return 0;
}
