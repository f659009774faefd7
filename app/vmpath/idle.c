/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Idle policy of the datapath lcores. `--idle poll` (default): an idle lcore
 * spins. `--idle halt`: after --idle-polls empty loops in a row it sleeps on
 * its lib/vnet waker (vmp_vnet_waker_sleep(): the guest-kick handshake and
 * the re-check of every vring it owns); the ethdev Rx queues it owns are
 * re-checked here and wake it through their Rx interrupt fd when the PMD has
 * one (net_tap does). An lcore owning a queue without one sleeps at most
 * IDLE_TIMED_US at a time: a bounded sleep, not a halt.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "idle.h"
#include "switch.h"
#include "vmpath.h"

#define IDLE_TIMED_US 1000

/* Set by the control owner around a change of the published view or of a
 * waker's vrings: no lcore enters a new sleep while it is set. */
static bool hold;

static struct vmp_idle_lcore {
	struct vmp_vnet_waker *w;
	unsigned int empty; /* empty loops in a row */
	bool timed;	    /* owns a source without a wake-up fd */
	unsigned int nb_eth;
	uint16_t *eth_port; /* [max_ports]: any port may be an ethdev */
} idle[RTE_MAX_LCORE];

static int
eth_attach(struct vmp_idle_lcore *s, const struct vmp_sw_port *sp)
{
	int fd = rte_eth_dev_rx_intr_ctl_q_get_fd(sp->eth_port, 0);

	if (s->nb_eth == vmp_sw.max_ports)
		return -ENOSPC;
	s->eth_port[s->nb_eth++] = sp->eth_port;
	if (fd < 0 || vmp_vnet_waker_fd_add(s->w, fd) < 0) {
		printf("vmpath: idle: %s has no Rx interrupt fd: its lcore "
		       "sleeps at most %u us at a time\n",
		       sp->eth_name, IDLE_TIMED_US);
		s->timed = true;
	}
	return 0;
}

/*
 * Called by the control owner while no lcore sleeps (hold set, and every
 * lcore passed a quiescent point since) and no lcore polls @sp yet.
 */
int
vmp_idle_port_attach(const struct vmp_sw_port *sp)
{
	unsigned int q;
	int rc = 0;

	for (q = 0; q < sp->nb_qp && rc == 0; q++) {
		struct vmp_idle_lcore *s =
			&idle[vmp_switch_dp_lcore(sp->owner[q])];

		if (s->w == NULL)
			return 0; /* no datapath lcores */
		rc = sp->is_eth ? eth_attach(s, sp)
				: vmp_vnet_port_set_waker(sp->vp, (uint16_t)q,
							  s->w);
	}
	return rc;
}

/*
 * An ethdev port leaves its lcore's list (the sleep's re-check must not
 * touch a closed port, nor a later port given its id). Its Rx interrupt fd
 * leaves the waker's epoll set when the device closes it; a lcore that was
 * made timed for it stays timed (a bounded sleep is always safe).
 */
static void
eth_detach(struct vmp_idle_lcore *s, const struct vmp_sw_port *sp)
{
	unsigned int i;

	for (i = 0; i < s->nb_eth; i++)
		if (s->eth_port[i] == sp->eth_port) {
			s->eth_port[i] = s->eth_port[--s->nb_eth];
			return;
		}
}

/* Same calling rule, once no lcore polls @sp any more. */
void
vmp_idle_port_detach(const struct vmp_sw_port *sp)
{
	unsigned int q;

	if (sp->is_eth)
		eth_detach(&idle[vmp_switch_dp_lcore(sp->owner[0])], sp);
	for (q = 0; q < sp->nb_qp && !sp->is_eth; q++)
		vmp_vnet_port_set_waker(sp->vp, (uint16_t)q, NULL);
}

void
vmp_idle_hold(bool on)
{
	/* seq_cst: ordered before the control owner's next
	 * rte_rcu_qsbr_start(); a lcore that reports that token (Q1,
	 * acquire) then sees it in vmp_idle_after_loop() and recheck() */
	__atomic_store_n(&hold, on, __ATOMIC_SEQ_CST);
	if (on)
		vmp_idle_wake_all();
}

int
vmp_idle_init(void)
{
	unsigned int k;

	/* one waker per datapath lcore, ports or not: they come later */
	for (k = 0; k < vmp_sw.nb_dp; k++) {
		unsigned int l = vmp_switch_dp_lcore(k);

		idle[l].w = vmp_vnet_waker_create(vmp_sw.socket);
		idle[l].eth_port = rte_zmalloc_socket(
			"vmp_idle_eth", vmp_sw.max_ports * sizeof(uint16_t), 0,
			vmp_sw.socket);
		if (idle[l].eth_port == NULL)
			return -ENOMEM;
		if (idle[l].w == NULL) {
			printf("vmpath: idle: lcore %u: %s\n", l,
			       rte_strerror(rte_errno));
			return -rte_errno;
		}
	}
	return 0;
}

void
vmp_idle_fini(void)
{
	unsigned int l, p;

	for (p = 0; p < vmp_sw.max_ports && vmp_sw.port != NULL; p++)
		if (vmp_sw.port[p] != NULL)
			vmp_idle_port_detach(vmp_sw.port[p]);
	for (l = 0; l < RTE_MAX_LCORE; l++) {
		if (idle[l].w != NULL)
			vmp_vnet_waker_free(idle[l].w);
		rte_free(idle[l].eth_port);
		memset(&idle[l], 0, sizeof(idle[l]));
	}
}

/* After the waker's barrier: the sources it does not know. */
static int
recheck(void *arg)
{
	struct vmp_idle_lcore *s = arg;
	unsigned int i;

	if (vmp_app.quit || __atomic_load_n(&hold, __ATOMIC_RELAXED))
		return 1;
	for (i = 0; i < s->nb_eth; i++) {
		/* the interrupt fd only reports packets from here on */
		rte_eth_dev_rx_intr_enable(s->eth_port[i], 0);
		if (rte_eth_rx_queue_count(s->eth_port[i], 0) > 0)
			return 1;
	}
	return 0;
}

void
vmp_idle_after_loop(unsigned int lcore, unsigned int work)
{
	struct vmp_idle_lcore *s = &idle[lcore];
	unsigned int i;

	if (work) {
		s->empty = 0;
		return;
	}
	if (!__atomic_load_n(&vmp_app.cfg.idle_halt, __ATOMIC_RELAXED) ||
	    s->w == NULL || __atomic_load_n(&hold, __ATOMIC_RELAXED) ||
	    ++s->empty <
		    __atomic_load_n(&vmp_app.cfg.idle_polls, __ATOMIC_RELAXED))
		return;
	s->empty = 0;
	vmp_vnet_waker_sleep(s->w, s->timed ? IDLE_TIMED_US : 0, recheck, s);
	for (i = 0; i < s->nb_eth; i++)
		rte_eth_dev_rx_intr_disable(s->eth_port[i], 0);
}

void
vmp_idle_wake_all(void)
{
	unsigned int l;

	for (l = 0; l < RTE_MAX_LCORE; l++)
		if (idle[l].w != NULL)
			vmp_vnet_waker_kick(idle[l].w);
}

void
vmp_idle_set(bool halt, unsigned int polls)
{
	if (polls)
		__atomic_store_n(&vmp_app.cfg.idle_polls, polls,
				 __ATOMIC_RELAXED);
	__atomic_store_n(&vmp_app.cfg.idle_halt, halt, __ATOMIC_RELAXED);
	vmp_idle_wake_all();
}

int
vmp_idle_stats_get(unsigned int lcore, struct vmp_vnet_waker_stats *st)
{
	if (lcore >= RTE_MAX_LCORE || idle[lcore].w == NULL)
		return -ENOENT;
	return vmp_vnet_waker_stats_get(idle[lcore].w, st);
}

void
vmp_idle_print(FILE *f)
{
	struct vmp_vnet_waker_stats st;
	unsigned int l, b;

	fprintf(f, "  idle: %s, after %u empty loops\n",
		vmp_app.cfg.idle_halt ? "halt" : "poll",
		vmp_app.cfg.idle_polls);
	for (l = 0; l < RTE_MAX_LCORE; l++) {
		if (vmp_idle_stats_get(l, &st) < 0)
			continue;
		fprintf(f,
			"  lcore %u: sleeps %" PRIu64 " aborted %" PRIu64
			" wakes: kick %" PRIu64 " ctl %" PRIu64 " fd %" PRIu64
			" timeout %" PRIu64 " asleep %.3f s\n"
			"          wake latency (us) <1..<2048,more:",
			l, st.sleeps, st.aborts, st.wake_kick, st.wake_ctl,
			st.wake_fd, st.wake_timeout,
			(double)st.ns_asleep / 1e9);
		for (b = 0; b < VMP_VNET_WAKE_LAT_BUCKETS; b++)
			fprintf(f, " %" PRIu64, st.lat[b]);
		fprintf(f, "\n");
	}
	fflush(f);
}
