/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vnet_hostile_dp_autotest, case test_rate_beside_attacker: the rate of a
 * well-behaved port beside each kind of attacking guest, both polled by the
 * test's lcore. Prints; asserts only work counters, never speed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_mbuf.h>

#include <vmp_vnet.h>

#include "vhu_front.h"
#include "vmp_test.h"
#include "vnet_hostile.h"

/* What an attacker keeps posted beside the good port. */
struct attack {
	const char *name;
	unsigned int r;		 /* vring it posts on */
	void (*setup)(void);	 /* writes its descriptors */
	uint16_t head, nb_heads; /* posts head .. head + nb_heads - 1 */
};

static void
atk_tx_empty65535(void)
{
	uint32_t i;

	for (i = 0; i < 65535; i++)
		hs_idesc(&hs_atk.fr, BIGT, i, BUF(20), 0, i < 65534 ? N : 0,
			 (uint16_t)(i + 1));
	hs_desc(&hs_atk.fr, TXQ, 0, BIGT, 65535 * 16, I, 0);
}

static void
atk_tx_long(void)
{
	hs_tx_long_chain(0, BUF(40));
}

static void
atk_rx_over_limit(void)
{
	uint16_t i;

	for (i = 100; i < 200; i++)
		hs_desc(&hs_atk.fr, RXQ, i, BUF(20), 0, W | (i < 199 ? N : 0),
			(uint16_t)(i + 1));
}

static void
atk_rx_readonly(void)
{
	uint16_t i;

	for (i = 0; i < 200; i++)
		hs_desc(&hs_atk.fr, RXQ, i, BUF(20), 64, 0, 0);
}

static void
atk_rx_never_fits(void)
{
	uint16_t k;

	for (k = 0; k < 64; k++)
		hs_rx_tiny_chain(k, BUF(100 + k));
}

/* Not an attack: the work a well-behaved neighbour asks for, for scale. */
static void
atk_tx_mtu(void)
{
	hs_desc(&hs_atk.fr, TXQ, 0, BUF(40), HDR + 1500, 0, 0);
}

static const struct attack attacks[] = {
	{"idle neighbour (anchor)", TXQ, NULL, 0, 0},
	{"(good neighbour: TX 1500 B packets)", TXQ, atk_tx_mtu, 0, 1},
	{"TX: 65535 empty in an indirect table", TXQ, atk_tx_empty65535, 0, 1},
	{"TX: valid 64-descriptor chains", TXQ, atk_tx_long, 0, 1},
	{"RX: 100-descriptor empty chains", RXQ, atk_rx_over_limit, 100, 1},
	{"RX: 200 one-descriptor bad chains", RXQ, atk_rx_readonly, 0, 200},
	{"RX: a set that never fits", RXQ, atk_rx_never_fits, 0, 64},
};

/* Keep 32 (or nb_heads if more) of @a's heads posted: as many as came
 * back since the last call. */
static void
atk_refill(const struct attack *a, unsigned int *posted)
{
	struct vring_used_elem e;
	unsigned int want = RTE_MAX(32u, (unsigned int)a->nb_heads);

	while (vhu_front_used(&hs_atk.fr, a->r, &e) == 0)
		(*posted)--;
	for (; a->nb_heads && *posted < want; (*posted)++)
		vhu_front_post(&hs_atk.fr, a->r,
			       (uint16_t)(a->head + *posted % a->nb_heads));
}

/* One call of the attacker's vring; its TSC cycles. */
static uint64_t
atk_call(const struct attack *a, uint64_t *walked)
{
	uint64_t w0 = hs_st(&hs_atk, (uint16_t)a->r).desc_walked, t;
	struct rte_mbuf *m[32];
	uint16_t n, k;

	if (a->r == RXQ) {
		for (k = 0; k < 32; k++)
			m[k] = hs_pkt(64);
		t = rte_rdtsc();
		n = vmp_vnet_enqueue_burst(hs_atk.port, 0, m, 32);
		t = rte_rdtsc() - t;
		rte_pktmbuf_free_bulk(m + n, 32 - n);
	} else {
		t = rte_rdtsc();
		n = vmp_vnet_dequeue_burst(hs_atk.port, 0, m, 32);
		t = rte_rdtsc() - t;
		rte_pktmbuf_free_bulk(m, n);
	}
	*walked = hs_st(&hs_atk, (uint16_t)a->r).desc_walked - w0;
	return t;
}

/* One round of the good port: 32 packets each way; its TSC cycles. */
static int
good_round(uint64_t *cyc)
{
	struct rte_mbuf *m[32];
	struct vring_used_elem e;
	uint16_t k, ntx, nrx;
	uint64_t t;

	for (k = 0; k < 32; k++) {
		vhu_front_post(&hs_good.fr, TXQ, k);
		vhu_front_post(&hs_good.fr, RXQ, k);
	}
	t = rte_rdtsc();
	ntx = vmp_vnet_dequeue_burst(hs_good.port, 0, m, 32);
	*cyc += rte_rdtsc() - t;
	rte_pktmbuf_free_bulk(m, ntx);
	for (k = 0; k < 32; k++)
		m[k] = hs_pkt(64);
	t = rte_rdtsc();
	nrx = vmp_vnet_enqueue_burst(hs_good.port, 0, m, 32);
	*cyc += rte_rdtsc() - t;
	rte_pktmbuf_free_bulk(m + nrx, 32 - nrx);
	while (vhu_front_used(&hs_good.fr, TXQ, &e) == 0 ||
	       vhu_front_used(&hs_good.fr, RXQ, &e) == 0)
		;
	TEST_ASSERT(ntx == 32 && nrx == 32, "good port: %u TX, %u RX", ntx,
		    nrx);
	return TEST_SUCCESS;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

#define RATE_ROUNDS 20000
static uint64_t gcr[RATE_ROUNDS], acr[RATE_ROUNDS];

/*
 * The good port and the attacker's vring polled in turn by this lcore, as
 * a datapath lcore polls its ports. Only the time inside the datapath
 * calls is counted (the guests' own work runs on other cores in real life),
 * as the median over the rounds (a preempted round is an outlier). Printed
 * per attacker: the good port's rate counting its own calls and the
 * attacker's, counting its own only ("alone"), and their ratio. Asserted:
 * the good port is served fully in every round, no attacker call walks more
 * than its budget.
 */
int
test_rate_beside_attacker(void)
{
	uint64_t hz = rte_get_tsc_hz();
	unsigned int i, k;

	TEST_ASSERT_SUCCESS(hs_connect(&hs_good), "good port");
	for (k = 0; k < 32; k++) {
		memset(vhu_gpa(&hs_good.fr, BUF(k)), 0, HDR);
		hs_desc(&hs_good.fr, TXQ, k, BUF(k), HDR + 64, 0, 0);
		hs_desc(&hs_good.fr, RXQ, k, BUF(64 + k), 2048, W, 0);
	}
	printf("  %-38s %9s %9s %7s %9s %9s\n", "attacker", "good Mpps",
	       "alone", "share", "atk us", "atk desc");
	for (i = 0; i < RTE_DIM(attacks); i++) {
		const struct attack *a = &attacks[i];
		uint64_t walked, wmax = 0, wsum = 0, end, gc, ac;
		unsigned int rounds = 0, posted = 0;
		double rate, alone;

		TEST_ASSERT_SUCCESS(hs_connect(&hs_atk), "attacker");
		if (a->setup != NULL)
			a->setup();
		end = rte_get_timer_cycles() + rte_get_timer_hz() / 8;
		while (rounds < RATE_ROUNDS &&
		       (rounds < 20 || rte_get_timer_cycles() < end)) {
			atk_refill(a, &posted);
			gcr[rounds] = 0;
			TEST_ASSERT_SUCCESS(good_round(&gcr[rounds]), "%s",
					    a->name);
			acr[rounds] = atk_call(a, &walked);
			TEST_ASSERT(walked <= VMP_VNET_BURST_DESC +
						      VMP_VNET_CHAIN_DESC - 1,
				    "%s: a call walked %" PRIu64, a->name,
				    walked);
			wmax = RTE_MAX(wmax, walked);
			wsum += walked;
			rounds++;
		}
		qsort(gcr, rounds, sizeof(gcr[0]), cmp_u64);
		qsort(acr, rounds, sizeof(acr[0]), cmp_u64);
		gc = gcr[rounds / 2];
		ac = acr[rounds / 2];
		rate = 64.0 * hz / (double)(gc + ac) / 1e6;
		alone = 64.0 * hz / (double)gc / 1e6;
		printf("  %-38s %9.2f %9.2f %6.1f%% %9.2f %5" PRIu64
		       "/%-4" PRIu64 "\n",
		       a->name, rate, alone, 100.0 * rate / alone,
		       (double)ac * 1e6 / hz, wsum / rounds, wmax);
	}
	return TEST_SUCCESS;
}
