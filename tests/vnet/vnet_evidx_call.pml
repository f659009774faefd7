/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Promela model of guest calls under VIRTIO_RING_F_EVENT_IDX
 * (lib/vnet/vnet_evidx.c, __vmp_vnet_notify), checked by spin
 * (tests/vnet/vnet_idle_model.sh). The lost wake-up here is the guest's:
 * a guest that re-enabled callbacks and waits for an interrupt while used
 * entries it has not seen are published.
 *
 * The BACKEND publishes Q used entries, one per publication, at most RING
 * ahead of the guest (the avail ring's flow control): U1 store used->idx
 * (release), U2 full barrier, U3 load used_event, U4 call (an eventfd
 * write: it stays readable) if the first decision since the start, or if
 * vring_need_event(used_event, new, old); old = new.
 *
 * The GUEST (Linux virtnet_poll / virtqueue_enable_cb_prepare +
 * virtqueue_poll): consume what is visible; when nothing is, E1 store
 * used_event = the last index seen, E2 full barrier, E3 re-read used->idx:
 * moved, poll again; else wait for the call. Woken, it disables callbacks
 * the way Linux does under EVENT_IDX: used_event = 0 (a stale value the
 * backend's index passes once per wrap).
 *
 * Indexes are modulo M = 4, so Q = 6 entries wrap them: the 16-bit wrap of
 * the real ring, small enough to explore. Memory as in vnet_idle.pml: plain
 * stores are buffered until a full barrier or any later moment.
 *
 * Broken variants the test asserts spin rejects (invalid end state: the
 * guest waits, entries unseen):
 *   -DBROKEN_NO_CALL_BARRIER  no U2: the used_event load passes the store
 *   -DBROKEN_WRAP             need-event as old <= event < new, no modulo
 */

#define M 4
#ifndef Q
#define Q 6
#endif
#define RING 2

byte used;      /* used->idx mod M, in memory */
byte uevent;    /* used_event mod M, in memory */
byte nused;     /* backend: entries published (a count) */
byte seen;      /* guest: entries consumed (a count) */
bit callfd;     /* the call eventfd is readable */
bit gasleep;    /* the guest waits for a call */

bit bb;         /* backend: used->idx = bb_val pending */
byte bb_val;
bit gb;         /* guest: used_event = gb_val pending */
byte gb_val;

inline b_fence()
{
	atomic {
		if
		:: bb -> used = bb_val; bb = 0
		:: else -> skip
		fi
	}
}

inline g_fence()
{
	atomic {
		if
		:: gb -> uevent = gb_val; gb = 0
		:: else -> skip
		fi
	}
}

active proctype flusher()
{
end:	do
	:: bb -> b_fence()
	:: gb -> g_fence()
	od
}

active proctype backend()
{
	byte old, nw;
	bit valid, call;

	do
	:: nused == Q -> break
	:: else ->
		/* a buffer is available only when the guest is < RING behind */
		nused - seen < RING;
		nused++;
		nw = nused % M;
		atomic { bb = 1; bb_val = nw };        /* U1 */
#ifndef BROKEN_NO_CALL_BARRIER
		b_fence();                             /* U2 */
#endif
		/* U3 */
#ifdef BROKEN_WRAP
		call = !valid || (old <= uevent && uevent < nw);
#else
		call = !valid ||
		       ((nw + 2 * M - uevent - 1) % M) < ((nw + M - old) % M);
#endif
		if
		:: call -> callfd = 1                  /* U4 */
		:: else -> skip
		fi;
		old = nw;
		valid = 1
	od
}

active proctype guest()
{
	do
	:: seen == Q -> break
	:: else ->
		if
		:: ((used + M - (seen % M)) % M) != 0 -> seen++
		:: else ->
			atomic { gb = 1; gb_val = seen % M };  /* E1 */
			g_fence();                             /* E2 */
			if                                     /* E3 */
			:: ((used + M - (seen % M)) % M) != 0 -> skip
			:: else ->
				gasleep = 1;
				atomic { callfd -> callfd = 0 };
				gasleep = 0;
				/* NAPI: callbacks off, used_event = 0 */
				atomic { gb = 1; gb_val = 0 }
			fi
		fi
	od
}
