/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Promela model of a halting datapath lcore (lib/vnet/vnet_idle.c), checked
 * by spin (tests/vnet/vnet_idle_model.sh). Labels match vnet_idle.c.
 *
 * One guest TX vring. The GUEST makes P buffers available: G1 store
 * avail->idx, G2 full barrier, G3 load used->flags, G4 kick (an eventfd
 * write: it stays readable) unless NO_NOTIFY is set.
 *
 * The LCORE polls (CAS ON->BUSY, take one buffer, BUSY->ON); after an
 * empty poll it goes to sleep: L1 store sleeping = 1, L2 full barrier, then
 * for the vring N0 CAS ON->BUSY (not ON: OFF is skipped, the control side
 * wakes us when it restarts the vring), N1 clear NO_NOTIFY, N2 full
 * barrier, N3 re-read avail->idx (moved: do not sleep), N4 BUSY->ON; L3
 * epoll_wait on the kick and control eventfds; W1 sleeping = 0, W2 set
 * NO_NOTIFY again.
 *
 * The CONTROL side (the vhost thread) parks and restarts the vring once, as
 * around every vhost-user message: CAS ON->OFF (waits while BUSY), the
 * restart sets NO_NOTIFY (start_vq), C1 store state = ON (release), C2 full
 * barrier, C3 load sleeping, C4 write the control eventfd if it was 1.
 *
 * -DEVIDX: VIRTIO_RING_F_EVENT_IDX (lib/vnet/vnet_evidx.c). The guest
 * reads avail_event instead of used->flags: G3 load avail_event, G4 kick
 * if the batch old..new passed it (vring_need_event, 8-bit here). The
 * restart (start_vq) puts avail_event where the guest never passes it
 * (AE_FAR: the real one is a 2^16 wrap ahead), N1 stores avail_event =
 * last_avail, N3 is unchanged, W2 writes nothing (avail_event left behind).
 *
 * Memory: every plain store goes to its thread's store buffer (FIFO) and
 * becomes visible at any later moment (the flusher process) or at that
 * thread's next full barrier; a CAS is atomic but is no barrier for the
 * buffered stores before it (C11 acquire CAS). Loads read memory.
 *
 * A lost wake-up is the lcore inside epoll_wait (asleep = 1) with buffers
 * it never takes while nobody else can run: spin reports an invalid end
 * state. Broken variants the test asserts spin rejects that way:
 *   -DBROKEN_NO_RECHECK    no N3: the lcore sleeps without re-reading avail
 *   -DBROKEN_NO_BARRIER    no N2: the flag store may pass the avail load
 *   -DBROKEN_NO_L2         no L2: sleeping = 1 may pass the state CAS
 *   -DBROKEN_NO_CTL_WAKE   the control side restarts the vring, no C2..C4
 * and with -DEVIDX each of these, and
 *   -DBROKEN_AE_BEHIND     N1 stores avail_event = last_avail - 1
 */

#ifndef P
#define P 2
#endif
#define OFF 0
#define ON 1
#define BUSY 2

byte state = ON;  /* vring state word */
bit nonotify = 1; /* used->flags & NO_NOTIFY, in memory */
#define AE_FAR 200
byte aevent = AE_FAR; /* avail_event, in memory (EVIDX) */
byte avail;       /* avail->idx, in memory */
byte last;        /* the lcore's last_avail */
bit kickfd;       /* the kick eventfd is readable */
bit ctlfd;        /* the control eventfd is readable */
bit sleeping;     /* w->sleeping, in memory */
bit asleep;       /* the lcore is inside epoll_wait */
bit ctl_done;

/* store buffers */
bit gb;           /* guest: avail->idx = gb_val pending */
byte gb_val;
bit lb_s;         /* lcore: sleeping = 1 pending */
bit lb_f;         /* lcore: NO_NOTIFY = lb_f_val pending (after lb_s) */
bit lb_f_val;
bit lb_e;         /* lcore: avail_event = lb_e_val pending (after lb_s) */
byte lb_e_val;
bit cb;           /* control: state = ON pending */

inline g_fence()
{
	atomic {
		if
		:: gb -> avail = gb_val; gb = 0
		:: else -> skip
		fi
	}
}

inline l_fence()
{
	atomic {
		if
		:: lb_s -> sleeping = 1; lb_s = 0
		:: else -> skip
		fi;
		if
		:: lb_f -> nonotify = lb_f_val; lb_f = 0
		:: else -> skip
		fi;
		if
		:: lb_e -> aevent = lb_e_val; lb_e = 0
		:: else -> skip
		fi
	}
}

inline c_fence()
{
	atomic {
		if
		:: cb -> state = ON; cb = 0
		:: else -> skip
		fi
	}
}

/* Stores become visible in their thread's order, at any moment. */
active proctype flusher()
{
end:	do
	:: gb -> g_fence()
	:: atomic { lb_s -> sleeping = 1; lb_s = 0 }
	:: atomic { lb_f && !lb_s -> nonotify = lb_f_val; lb_f = 0 }
	:: atomic { lb_e && !lb_s -> aevent = lb_e_val; lb_e = 0 }
	:: cb -> c_fence()
	od
}

active proctype guest()
{
	byte i;

	for (i : 1 .. P) {
		atomic { gb = 1; gb_val = i };  /* G1 */
		g_fence();                      /* G2 */
#ifdef EVIDX
		/* G3, G4: vring_need_event(avail_event, new = i, old = i - 1) */
		if
		:: ((i - aevent - 1) & 255) < ((i - (i - 1)) & 255) ->
			kickfd = 1
		:: else -> skip
		fi
#else
		if                              /* G3 */
		:: nonotify == 0 -> kickfd = 1  /* G4 */
		:: else -> skip
		fi
#endif
	}
}

active proctype control()
{
	atomic { state == ON -> state = OFF };  /* park */
#ifdef EVIDX
	aevent = AE_FAR;                        /* start_vq */
#else
	nonotify = 1;                           /* start_vq */
#endif
	cb = 1;                                 /* C1 */
#ifndef BROKEN_NO_CTL_WAKE
	c_fence();                              /* C2 */
	if                                      /* C3 */
	:: sleeping -> ctlfd = 1                /* C4 */
	:: else -> skip
	fi;
#endif
	ctl_done = 1
}

active proctype lcore()
{
	bit work;

	do
	:: last == P -> break  /* every buffer taken */
	:: else ->
		/* one polling round */
		work = 0;
		if
		:: atomic { state == ON -> state = BUSY } ->
			if
			:: avail != last -> last++; work = 1
			:: else -> skip
			fi;
			state = ON
		:: else -> skip
		fi;
		if
		:: work -> skip
		:: else ->
			lb_s = 1;           /* L1 */
#ifndef BROKEN_NO_L2
			l_fence();          /* L2 */
#endif
			if                  /* N0 */
			:: atomic { state == ON -> state = BUSY } ->
#ifdef EVIDX
#ifdef BROKEN_AE_BEHIND
				/* asks for a kick one buffer too early: the guest
				 * already passed it */
				atomic { lb_e = 1; lb_e_val = last - 1 };
#else
				atomic { lb_e = 1; lb_e_val = last }; /* N1 */
#endif
#else
				atomic { lb_f = 1; lb_f_val = 0 }; /* N1 */
#endif
#ifndef BROKEN_NO_BARRIER
				l_fence();  /* N2 */
#endif
#ifndef BROKEN_NO_RECHECK
				work = avail != last; /* N3 */
#endif
				state = ON  /* N4 */
			:: else -> skip     /* OFF */
			fi;
			if
			:: work -> skip     /* do not sleep */
			:: else ->
				asleep = 1;
				/* L3: eventfds stay readable until read */
				atomic { kickfd || ctlfd -> kickfd = 0; ctlfd = 0 };
				asleep = 0
			fi;
			atomic { l_fence(); sleeping = 0 };  /* W1 */
#ifndef EVIDX
			if                  /* W2 */
			:: atomic { state == ON -> state = BUSY } ->
				nonotify = 1;
				state = ON
			:: else -> skip
			fi
#endif
		fi
	od
}
