/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Promela model of lib/pvlock's PV halt/kick handshakes, checked by spin
 * (tests/pvlock/pvlock_model.sh). Labels match the comments in qlock.c and
 * ticket.c.
 *
 * QUEUED LOCK (default): A holds the lock, B is the queue head, C is queued
 * behind B. Each waiter may spin (see the lock free) or, at any time (the
 * spin threshold), halt. B then takes the lock, hands the head over to C
 * (lazy kick: W3), and unlocks; C takes the lock and unlocks. A, after its
 * unlock, may steal the lock once while the head does not hold pending.
 *
 * TICKET LOCK (-DTICKET): A holds ticket 0, B and C wait for tickets 1 and 2.
 *
 * Memory: sequentially consistent, except the unlock's store (Q8 / U1),
 * which goes to a store buffer (x86-TSO) and becomes visible later, so the
 * unlock's load of hint / halted (U3) may pass it: the inline unlock has
 * only a compiler barrier (U2) between them. membarrier() (H3 / T3) drains
 * every thread's store buffer, as the kernel's IPI'd full barrier does.
 *
 * The futex: futex_wait sleeps only if state == HALTED (atomically); a kick
 * clears "sleeping"; a spurious wake-up may end any one halt. A lost wake-up
 * shows as a waiter asleep forever: spin reports an invalid end state.
 *
 * Broken variants the test asserts spin rejects:
 *   -DBROKEN_NO_MEMBARRIER  the waiter does not execute H3 / T3
 *   -DBROKEN_NO_RECHECK     the waiter halts without re-checking (H4 / T4)
 */

#define RUNNING 0
#define HALTED 1
#define KICKED 2
#define A 0
#define B 1
#define C 2

byte state[3];      /* per-waiter futex word */
bit sleeping[3];    /* inside futex_wait */
byte in_cs;         /* threads in the critical section */
bit spurious_used;  /* the one spurious wake-up was used */
bit buf[3];         /* thread i has its unlock store in its store buffer */

#ifdef TICKET
byte owner;         /* ticket served */
byte halted;        /* l->halted */
byte nticket[3];    /* node.ticket */
bit nlock[3];       /* node.lock == l */
#else
bit locked = 1;     /* lock byte, as seen by other threads */
bit pending;        /* PV: the queue head is running (P1), no stealing */
byte hint;          /* l->hint: 0 none, else waiter + 1 */
bit nlocked[3];     /* MCS hand-off flag of each node */
#endif

inline drain(i)
{
	atomic {
		if
		:: buf[i] ->
#ifdef TICKET
			owner = owner + 1;
#else
			locked = 0;
#endif
			buf[i] = 0
		:: else -> skip
		fi
	}
}

inline membarrier()
{
#ifndef BROKEN_NO_MEMBARRIER
	atomic { drain(A); drain(B); drain(C) }
#else
	skip
#endif
}

/* S2: the kernel sleeps us only while our word is HALTED */
inline futex_wait(i)
{
	atomic {
		if
		:: state[i] == HALTED -> sleeping[i] = 1
		:: else -> skip
		fi
	};
	(sleeping[i] == 0)
}

/* K2: HALTED -> KICKED, wake only if it was HALTED */
inline kick(i)
{
	atomic {
		if
		:: state[i] == HALTED -> state[i] = KICKED; sleeping[i] = 0
		:: else -> state[i] = KICKED
		fi
	}
}

inline enter_cs()
{
	in_cs++;
	assert(in_cs == 1);
	in_cs--
}

#ifndef TICKET

inline unlock(me)
{
	byte h;
	buf[me] = 1;          /* Q8 into the store buffer */
	h = hint;             /* U3, may pass Q8 (U2 is a compiler barrier) */
	if
	:: h != 0 ->
		drain(me);    /* K1's xchg drains the buffer */
		atomic { h = hint; hint = 0 };      /* K1: take the hint */
		if
		:: h != 0 -> kick(h - 1)            /* K2 */
		:: else -> skip
		fi
	:: else -> skip
	fi;
	drain(me)
}

/* head: take the lock byte, halting at will (P1, Q5, P2, S1, H2-H4) */
inline head_wait(me)
{
	do
	:: pending = 1;                                   /* P1 */
		if
		:: atomic { locked == 0 -> locked = 1; pending = 0 };
			break                             /* Q5: CAS */
		:: true -> skip                           /* spun 2x spin */
		fi;
		pending = 0;                              /* P2 */
		state[me] = HALTED;                       /* S1 */
		hint = me + 1;                            /* H2 */
		membarrier();                             /* H3 */
#ifndef BROKEN_NO_RECHECK
		if
		:: locked == 0 -> state[me] = RUNNING     /* H4: abort */
		:: else -> futex_wait(me); state[me] = RUNNING   /* S2, S3 */
		fi
#else
		futex_wait(me); state[me] = RUNNING
#endif
	od;
	if
	:: hint == me + 1 -> hint = 0    /* the head clears its hint */
	:: else -> skip
	fi
}

/* non-head: wait for the hand-off (M4, S1, W2) */
inline node_wait(me)
{
	do
	:: nlocked[me] == 1 -> break
	:: true ->
		state[me] = HALTED;                       /* S1 (xchg) */
#ifndef BROKEN_NO_RECHECK
		if
		:: nlocked[me] == 1 -> state[me] = RUNNING; break   /* W2 */
		:: else -> futex_wait(me); state[me] = RUNNING
		fi
#else
		futex_wait(me); state[me] = RUNNING
#endif
	od
}

active proctype thread_a()
{
	enter_cs();
	unlock(A);
	/* then, at any moment, it may steal the lock from a halted head */
	if
	:: atomic { locked == 0 && pending == 0 -> locked = 1 };
		enter_cs();
		unlock(A)
	:: true -> skip
	fi
}

active proctype thread_b()
{
	head_wait(B);
	enter_cs();
	/* M3 (xchg) then W3: lazy kick of a halted successor */
	nlocked[C] = 1;
	if
	:: state[C] == HALTED -> hint = C + 1
	:: else -> skip
	fi;
	unlock(B)
}

active proctype thread_c()
{
	node_wait(C);
	head_wait(C);
	enter_cs();
	unlock(C)
}

#else /* TICKET */

inline unlock(me)
{
	byte h, t, i;
	t = owner + 1;
	buf[me] = 1;          /* U1 into the store buffer */
	h = halted;           /* U3, may pass U1 */
	drain(me);
	if
	:: h != 0 ->          /* K1: find the node waiting for ticket t */
		i = 0;
		do
		:: i < 3 ->
			if
			:: nlock[i] && nticket[i] == t -> kick(i); break
			:: else -> i++
			fi
		:: else -> break
		od
	:: else -> skip
	fi
}

inline ticket_wait(me, t)
{
	do
	:: owner == t -> break
	:: true ->
		nticket[me] = t; nlock[me] = 1;           /* T1 */
		state[me] = HALTED;                       /* S1 */
		halted++;                                 /* T2 */
		membarrier();                             /* T3 */
#ifndef BROKEN_NO_RECHECK
		if
		:: owner == t ->                          /* T4: abort */
			state[me] = RUNNING; halted--; nlock[me] = 0
		:: else ->
			futex_wait(me);                   /* S2 */
			state[me] = RUNNING; halted--; nlock[me] = 0
		fi
#else
		futex_wait(me);
		state[me] = RUNNING; halted--; nlock[me] = 0
#endif
	od
}

active proctype thread_a()
{
	enter_cs();
	unlock(A)
}

active proctype thread_b()
{
	ticket_wait(B, 1);
	enter_cs();
	unlock(B)
}

active proctype thread_c()
{
	ticket_wait(C, 2);
	enter_cs();
	unlock(C)
}

#endif

/* at most one spurious wake-up of any halted thread */
active proctype spurious()
{
end:
	do
	:: atomic { !spurious_used && sleeping[A] ->
			sleeping[A] = 0; spurious_used = 1 }
	:: atomic { !spurious_used && sleeping[B] ->
			sleeping[B] = 0; spurious_used = 1 }
	:: atomic { !spurious_used && sleeping[C] ->
			sleeping[C] = 0; spurious_used = 1 }
	od
}
