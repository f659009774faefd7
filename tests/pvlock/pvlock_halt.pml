/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Promela model of lib/pvlock's PV halt/kick handshakes, checked by spin
 * (tests/pvlock/pvlock_model.sh). Labels match the comments in qlock.c and
 * ticket.c.
 *
 * QUEUED LOCK, PV (default): A holds the lock, B is the queue head, C is
 * queued behind B. Each waiter may spin (see the lock free) or, at any time
 * (the spin threshold), halt. B then takes the lock, hands the head over to C
 * (lazy kick: W3), and unlocks; C takes the lock and unlocks. A, after its
 * unlock, tries NSTEAL times to steal the lock ahead of the head, running or
 * halted (Q9), while the steal budget is not spent (B1: steals < STEAL_MAX,
 * read before the CAS and so possibly stale; B2: the stealer counts it as
 * the holder; B3: a head that takes the lock restarts the budget). The lead
 * bound (L1-L3, qlock.c) only makes a stealer decline Q9, which A may do at
 * every attempt here (its "true -> skip" branches), so its states are
 * covered without modelling the counts.
 * D is a fast-path locker (Q0) whose loads of pending and tail read zero
 * before B and C queued: its byte CAS of the locked byte may come at any
 * moment, and its unlock kicks like any other.
 * The starvation bound: while a head waits, the others take the lock at
 * most STEAL_MAX times by stealing (A is the only stealer, so no stale B1
 * read adds one) plus once by D's stale Q0: byp counts those acquisitions
 * and the assertion at each of them checks the bound. The head may leave
 * the lock to the stealer (L4) instead of trying Q5', only after a steal it
 * has not yet seen and while the budget lasts: defers counts those and is
 * asserted <= STEAL_MAX.
 *
 * QUEUED LOCK, PV off (-DPVOFF): the whole lock (Q0 fast path, pending path
 * Q1-Q3, queue Q4-Q7, MCS hand-off M1-M4), sequentially consistent (every
 * step that sets the locked byte is an atomic RMW, nobody halts). A holds
 * the lock, unlocks, and locks once more; B, C and D each lock once. Every
 * interleaving of their loads and RMWs is explored, among them a Q0 whose
 * loads read (0,0,*) before a waiter took pending or queued.
 *
 * TICKET LOCK (-DTICKET): A holds ticket 0, B and C wait for tickets 1 and 2.
 * C is not an EAL lcore (a thread registered with rte_thread_register(), or
 * a service lcore): the unlocker finds the node to kick (K1) through the
 * halted set, one bit per lcore id that a waiter sets (T1') before it
 * publishes its halt (T2) and clears (T5) after.
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
 *   -DTICKET -DBROKEN_EAL_SCAN  K1 walks the EAL lcores only (A and B), not
 *                           the halted set: C is never kicked
 *   -DTICKET -DBROKEN_HSET_LATE  T1' comes after the re-check T4, just
 *                           before the futex wait: K1 may miss it
 * (all: invalid end state, a waiter asleep forever), a head starved past
 * the bound (assertion in bypass()):
 *   -DBROKEN_NO_BUDGET      the stealer skips B1
 *   -DBROKEN_DEFER_IDLE     the head defers (L4) without a new steal
 * and, a lock owned twice (assertion in enter_cs) against the byte-CAS fast
 * path Q0:
 *   -DBROKEN_Q5_STORE       PV head takes the byte by load + store, not Q5'
 *   -DPVOFF -DBROKEN_Q3_STORE  pending owner: 16-bit store, not CAS (Q3)
 *   -DPVOFF -DBROKEN_Q7_STORE  queue head with followers: byte store (Q7)
 */

#define RUNNING 0
#define HALTED 1
#define KICKED 2
#define A 0
#define B 1
#define C 2
#define D 3

byte state[4];      /* per-waiter futex word */
bit sleeping[4];    /* inside futex_wait */
byte in_cs;         /* threads in the critical section */
bit spurious_used;  /* the one spurious wake-up was used */
bit buf[4];         /* thread i has its unlock store in its store buffer */

#ifdef TICKET
byte owner;         /* ticket served */
byte halted;        /* l->halted */
byte nticket[3];    /* node.ticket */
bit nlock[3];       /* node.lock == l */
bit hset[3];        /* the halted set: T1' .. T5 */
#define NONEAL C    /* C has an lcore id but is no EAL lcore */
#else
bit locked = 1;     /* lock byte, as seen by other threads */
bit pending;        /* PV off: Q1-Q3 (PV locks never set it) */
byte hint;          /* l->hint: 0 none, else waiter + 1 */
bit nlocked[4];     /* MCS hand-off flag of each node */
byte steals;        /* steals since the head last took the lock */
#ifndef STEAL_MAX
#define STEAL_MAX 2 /* 2: the head may see a steal and budget left (L4) */
#endif
#ifndef NSTEAL
#define NSTEAL 3    /* steal attempts of A: one past the budget */
#endif
byte headw;         /* ghost: the waiting head + 1, 0 none */
byte byp;           /* ghost: others' acquisitions while headw waits */
byte seen;          /* the waiting head's steal count at its last look */
byte defers;        /* ghost: its L4 deferrals in this wait */
#ifdef PVOFF
byte tail;          /* 0: no queue, else last queued thread + 1 */
byte nnext[4];      /* MCS next of each node: 0 none, else thread + 1 */
#endif
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
	atomic { drain(A); drain(B); drain(C); drain(D) }
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

#if defined(PVOFF) && !defined(TICKET)

/* Q0's byte CAS, and Q7's: (*,*,0) -> (*,*,1) */
inline cas_locked(got)
{
	atomic {
		if
		:: locked == 0 -> locked = 1; got = 1
		:: else -> skip
		fi
	}
}

/* Q0: load pending, load tail (two steps), then the byte CAS */
inline fast(got)
{
	if
	:: pending == 0 ->
		if
		:: tail == 0 -> cas_locked(got)
		:: else -> skip
		fi
	:: else -> skip
	fi
}

/* Q1-Q3: PV off, word free of pending and queue when the slow path read it */
inline pending_path(got)
{
	atomic { vt = tail; vp = pending };                /* slow path's load */
	if
	:: vt == 0 && vp == 0 ->
		atomic { vt = tail; vp = pending; pending = 1 };  /* Q1 */
		if
		:: vt != 0 || vp != 0 ->
			if
			:: vp == 0 -> pending = 0          /* undo our bit */
			:: else -> skip
			fi
		:: else ->
			do
			:: (locked == 0);                  /* Q2 */
#ifdef BROKEN_Q3_STORE
				atomic { locked = 1; pending = 0 };
				got = 1; break
#else
				atomic {                   /* Q3: 16-bit CAS */
					if
					:: locked == 0 && pending == 1 ->
						locked = 1; pending = 0; got = 1
					:: else -> skip
					fi
				};
				if
				:: got -> break
				:: else -> skip
				fi
#endif
			od
		fi
	:: else -> skip
	fi
}

/* the whole PV-off lock, as __vmp_pvlock_q_slow */
inline lock_off(me)
{
	byte vt, prev;
	bit vp, got, alone;
	fast(got);
	if
	:: !got -> pending_path(got)
	:: else -> skip
	fi;
	if
	:: !got ->
		nlocked[me] = 0; nnext[me] = 0;
		fast(got)                                  /* Q0 again */
	:: else -> skip
	fi;
	if
	:: !got ->
		atomic { prev = tail; tail = me + 1 };     /* Q4 */
		if
		:: prev != 0 ->
			nnext[prev - 1] = me + 1;          /* M1 */
			(nlocked[me] == 1)                 /* M4 */
		:: else -> skip
		fi;
		do
		:: atomic { locked == 0 && pending == 0 -> vt = tail };  /* Q5 */
			if
			:: vt == me + 1 ->
				atomic {                   /* Q6: word CAS */
					if
					:: tail == me + 1 && pending == 0 &&
					   locked == 0 ->
						tail = 0; locked = 1;
						got = 1; alone = 1
					:: else -> skip
					fi
				}
			:: else ->
#ifdef BROKEN_Q7_STORE
				locked = 1; got = 1        /* Q7 as a store */
#else
				cas_locked(got)            /* Q7: byte CAS */
#endif
			fi;
			if
			:: got -> break
			:: else -> skip
			fi
		od;
		if
		:: !alone ->
			(nnext[me] != 0);                  /* M2 */
			nlocked[nnext[me] - 1] = 1         /* M3 */
		:: else -> skip
		fi
	:: else -> skip
	fi
}

active proctype thread_a()
{
	enter_cs();
	locked = 0;                                        /* Q8 */
	lock_off(A);
	enter_cs();
	locked = 0
}

active [3] proctype thread_bcd()
{
	lock_off(_pid);
	enter_cs();
	locked = 0
}

#elif !defined(TICKET)

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

/* ghost, inside the atomic step that takes the byte ahead of a head */
inline bypass()
{
	if
	:: headw != 0 -> byp++; assert(byp <= STEAL_MAX + 1)
	:: else -> skip
	fi
}

/* head: take the lock byte, halting at will (Q5', S1, H2-H4), leaving it
 * to busy stealers (L4) while a steal came since its last look and the
 * budget lasts; each deferral needs a new steal, so at most STEAL_MAX
 */
inline head_wait(me)
{
	atomic { headw = me + 1; seen = steals; defers = 0 };
	do
	:: do
#ifdef BROKEN_Q5_STORE
		:: locked == 0 -> locked = 1;
			goto taken                        /* Q5' as a store */
#else
		:: atomic { locked == 0 -> locked = 1 };
			goto taken                        /* Q5': CAS */
#endif
#ifndef BROKEN_DEFER_IDLE
		:: atomic { steals != seen && steals < STEAL_MAX ->
			seen = steals; defers++ };        /* L4 */
#else
		:: atomic { steals < STEAL_MAX -> defers++ };  /* no new steal */
#endif
			assert(defers <= STEAL_MAX)
		:: true -> break                          /* spun 2x spin */
		od;
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
taken:
	atomic { headw = 0; byp = 0 };
	steals = 0;                      /* B3, as the holder */
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
	byte n;
	enter_cs();
	unlock(A);
	/* then, at any moment, it may steal the lock ahead of the head,
	 * running or halted, within the budget (B1, a plain read before the
	 * Q9 CAS)
	 */
	do
	:: n < NSTEAL ->
		n++;
		if
#ifndef BROKEN_NO_BUDGET
		:: steals < STEAL_MAX ->                   /* B1 */
#else
		:: true ->
#endif
			if
			:: atomic { locked == 0 -> locked = 1; bypass() }; /* Q9 */
				steals++;                  /* B2, as holder */
				enter_cs();
				unlock(A)
			:: true -> skip
			fi
		:: true -> skip
		fi
	:: else -> break
	od
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

/* Q0 (byte CAS) whose loads of pending and tail ran before B and C queued */
active proctype thread_d()
{
	atomic { locked == 0 -> locked = 1; bypass() };
	enter_cs();
	unlock(D)
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
#ifdef BROKEN_EAL_SCAN
		:: i < 3 && i != NONEAL ->      /* RTE_LCORE_FOREACH */
#else
		:: i < 3 && hset[i] ->          /* a bit of the halted set */
#endif
			if
			:: nlock[i] && nticket[i] == t -> kick(i); break
			:: else -> i++
			fi
#ifdef BROKEN_EAL_SCAN
		:: i < 3 && i == NONEAL -> i++
#else
		:: i < 3 && !hset[i] -> i++
#endif
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
#ifndef BROKEN_HSET_LATE
		hset[me] = 1;                             /* T1' */
#endif
		state[me] = HALTED;                       /* S1 */
		halted++;                                 /* T2 */
		membarrier();                             /* T3 */
#ifndef BROKEN_NO_RECHECK
		if
		:: owner == t ->                          /* T4: abort */
			state[me] = RUNNING; halted--; nlock[me] = 0
		:: else ->
#ifdef BROKEN_HSET_LATE
			hset[me] = 1;                     /* T1', late */
#endif
			futex_wait(me);                   /* S2 */
			state[me] = RUNNING; halted--; nlock[me] = 0
		fi
#else
		futex_wait(me);
		state[me] = RUNNING; halted--; nlock[me] = 0
#endif
		hset[me] = 0                              /* T5 */
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
