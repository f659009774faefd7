/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VMP_HALT_H
#define VMP_HALT_H

/**
 * @file
 * Halt and kick: the userspace form of a paravirtual vCPU halt (KVM_HC_KICK_CPU
 * in Linux's pvspinlock). A waiter that has spun long enough halts on a 32-bit
 * word; whoever changes that word kicks it.
 *
 * The primitive is a futex. vmp_halt_wait() sleeps only if *word still equals
 * the value the caller last saw, checked atomically by the kernel against a
 * concurrent vmp_halt_kick(). The caller's protocol must therefore be:
 *
 *   waiter                              waker
 *   ------                              -----
 *   publish "I am halted" in *word       change the state the waiter waits for
 *   (store-release or RMW)               (store-release)
 *   re-check the state; if ready, undo   read *word; if it says halted,
 *   vmp_halt_wait(word, halted_value)    vmp_halt_kick(word)
 *
 * with a full barrier (seq_cst RMW) between the waiter's publish and re-check
 * and between the waker's change and read of *word, so that at least one side
 * sees the other (the Dekker pattern). If the waker's kick comes before the
 * waiter enters the kernel, the kernel's compare of *word fails (the waker
 * changed it, or the waiter re-checks), so no wake-up is lost. lib/pvlock and
 * lib/workpool each document their exact states; docs/halt-kick.md and the
 * Promela models under tests/ check them.
 *
 * Neither call is on a fast path: a waiter only halts after spinning, and a
 * waker only kicks a word that says someone is halted.
 */

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Halt the calling thread while *word == expected.
 *
 * @param word
 *   32-bit, naturally aligned word shared with the waker (process-private).
 * @param expected
 *   Value the caller saw; the kernel returns at once if *word differs.
 * @param timeout_ns
 *   Relative timeout in nanoseconds; 0 waits without a timeout.
 * @return
 *   - 0: woken by a kick, or *word no longer equals expected.
 *   - -ETIMEDOUT: the timeout passed.
 *   - -EINTR: a signal interrupted the halt.
 *   The caller must re-check its condition whatever the result: wake-ups may be
 *   spurious.
 */
int vmp_halt_wait(uint32_t *word, uint32_t expected, uint64_t timeout_ns);

/**
 * Kick up to @p nwake threads halted on @p word.
 *
 * @return
 *   Number of threads woken (0 if none was halted), or -errno on failure.
 */
int vmp_halt_kick(uint32_t *word, int nwake);

#ifdef __cplusplus
}
#endif

#endif /* VMP_HALT_H */
