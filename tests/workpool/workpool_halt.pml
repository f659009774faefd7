/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * lib/workpool halt/kick handshake between the submitter and one worker,
 * for spin. Labels (W1..W3, S1, S2, F_W, F_S) match workpool_pvt.h and
 * workpool_worker.c.
 *
 * The C code puts a seq_cst fence between each side's store and its load of
 * the other side's variable (F_W after W1, F_S after S1), which is what
 * makes spin's sequentially consistent interleavings a faithful model.
 * Build variants that break the protocol, to show the checker catches them:
 *   -DNO_FENCE    the store-buffer reordering the fences forbid: the worker's
 *                 W2 load and the submitter's S2 load may be satisfied before
 *                 their own W1 / S1 store is visible
 *   -DNO_RECHECK  the worker sleeps without W2's re-check
 * Checks: no invalid end state (a lost wake-up leaves the submitter waiting
 * for a request a sleeping worker never handles), every request handled
 * exactly once, a kick only for a worker that published HALTED.
 *
 *   spin -a workpool_halt.pml && cc -O2 -o pan pan.c && ./pan
 */

#define AWAKE  0
#define HALTED 1
#ifndef NREQ
#define NREQ 3          /* requests the submitter sends */
#endif
#define RING 2          /* worker ring capacity */

byte ring = 0;          /* requests in the worker's ring */
bit  word = AWAKE;      /* the futex word */
bit  quit = 0;
bit  sleeping = 0;      /* worker inside futex_wait */
byte handled = 0;
byte sent = 0;
byte halts = 0;         /* W1 count */
byte kicks = 0;         /* futex wakes by the submitter */

/* S2 after S1 (and F_S): wake only a worker that published HALTED. */
inline s2_kick(seen) {
	if
	:: seen == HALTED ->
		atomic {
			if
			:: word == HALTED ->       /* CAS HALTED -> AWAKE won */
				word = AWAKE;
				kicks++;
				assert(kicks <= halts);
				sleeping = 0       /* futex_wake */
			:: else -> skip            /* worker cancelled (W2) */
			fi
		}
	:: else -> skip                            /* no syscall */
	fi
}

active proctype submitter()
{
	bit seen;

	do
	:: sent < NREQ && ring < RING ->
#ifdef NO_FENCE
		seen = word;                       /* S2 load passes S1 */
		atomic { ring++; sent++ }          /* S1 */
#else
		atomic { ring++; sent++ }          /* S1 */
		seen = word;                       /* F_S; S2 load */
#endif
		s2_kick(seen)
	:: sent == NREQ -> break
	od;
	/* vmp_pool_wait_done(): a lost wake-up blocks here forever */
	handled == NREQ;
	/* destroy: S1 is quit = 1 */
	quit = 1;
	seen = word;
	s2_kick(seen)
}

active proctype worker()
{
	bit work;

poll:
	do
	:: atomic { ring > 0 -> ring-- };          /* SC dequeue */
		handled++;
		assert(handled <= sent)
	:: ring == 0 && quit -> goto stop
	:: ring == 0 && !quit ->                   /* spin_polls ran out */
#ifdef NO_FENCE
		work = (ring > 0 || quit);         /* W2 load passes W1 */
		atomic { word = HALTED; halts++ }  /* W1 */
#elif defined(NO_RECHECK)
		atomic { word = HALTED; halts++ }  /* W1 */
		work = 0;                          /* no W2 */
#else
		atomic { word = HALTED; halts++ }  /* W1 */
		work = (ring > 0 || quit);         /* F_W; W2 */
#endif
		do
		:: work -> break
		:: !work ->
			/* W3: futex_wait compares the word in the kernel */
			atomic {
				if
				:: word == HALTED -> sleeping = 1
				:: else -> skip
				fi
			};
			sleeping == 0;             /* kicked */
			if
			:: word == AWAKE -> goto poll  /* S2 woke us */
			:: else -> work = (ring > 0 || quit)
			fi
		od;
		/* W2 found work: CAS HALTED -> AWAKE (may lose to S2) */
		atomic {
			if
			:: word == HALTED -> word = AWAKE
			:: else -> skip
			fi
		}
	od;
stop:
	assert(handled == NREQ && ring == 0)
}

/* Spurious futex returns (signals): the worker must re-check and sleep on. */
active proctype spurious()
{
	do
	:: sleeping == 1 -> sleeping = 0
	:: break
	od
}
