/* SPDX-License-Identifier: BSD-3-Clause */
/* Built by pvlock_debug.sh with -DVMP_DEBUG_CHECKS=1 (what the meson option
 * debug_checks sets), outside vmpath-test: a thread takes the lock, main
 * unlocks it. A debug build must abort.
 *   debug_unlock ticket|queue
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <vmp_pvlock.h>

static struct vmp_pvlock_ticket t;
static struct vmp_pvlock_q q;
static int queue;

static void *
taker(void *arg)
{
	(void)arg;
	if (queue)
		vmp_pvlock_q_lock(&q);
	else
		vmp_pvlock_ticket_lock(&t);
	return NULL;
}

int
main(int argc, char **argv)
{
	pthread_t th;

	if (argc != 2)
		return 2;
	queue = strcmp(argv[1], "queue") == 0;
	if (vmp_pvlock_ticket_init(&t, 0, 0) != 0 ||
	    vmp_pvlock_q_init(&q, 0, 0) != 0)
		return 2;
	pthread_create(&th, NULL, taker, NULL);
	pthread_join(th, NULL);
	printf("unlocking a %s lock held by another thread\n", argv[1]);
	fflush(stdout);
	if (queue)
		vmp_pvlock_q_unlock(&q);
	else
		vmp_pvlock_ticket_unlock(&t);
	printf("not caught\n");
	return 0;
}
