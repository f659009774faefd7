/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The synthetic guest: one memory region (anonymous or hugepage, placed on
 * --socket) filled with realistic content, and "vCPU" writer lcores that keep
 * dirtying it at --guest-rate pages/s each, logging every write through
 * lib/dirtylog's software log. The migration engine pauses, resumes and
 * throttles them through the callbacks below.
 *
 * Content per page, chosen by a hash of the page number: 25 % zero (writers
 * leave them alone), 37.5 % text (words), 25 % binary (small counters,
 * pointers), 12.5 % random. A write rewrites 256 bytes of a page with content
 * of the page's kind.
 */
#include <errno.h>
#include <inttypes.h>
#include <numaif.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_memory.h>
#include <rte_pause.h>

#include <vmp_dirtylog.h>
#include <vmp_migrate.h>

#include "guest.h"
#include "vmpath.h"

#define WRITE_LEN 256
#define BATCH 16

struct writer {
	unsigned int lcore;
	uint64_t seed;
	volatile uint64_t writes;
	volatile uint32_t ack; /* pause generation acknowledged */
} __rte_cache_aligned;

static struct {
	uint8_t *mem;
	uint64_t len, nb_pages;
	bool huge;
	struct vmp_dirty_tracker *dt;
	unsigned int nb_writers;
	struct writer w[16];
	volatile bool stop;
	volatile uint32_t pause_gen; /* odd: paused */
	volatile unsigned int throttle;
	uint64_t pinned_pages;
} G;

static const char *const words[] = {
	"the ",	    "guest ",  "kernel ", "page ",   "memory ", "dirty ",
	"vhost ",   "ring ",   "buffer ", "packet ", "error: ", "ok\n",
	"request ", "return ", "static ", "int ",    "struct ", "0x1f00 ",
	"while ",   "for ",    "lock ",	  "unlock ", "{\n",	"}\n",
	"migrate ", "thread ", "cpu ",	  "time ",   "log ",	"file ",
	"user ",    "data ",
};

static inline uint64_t
xs64(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

/* 0-1 zero, 2-4 text, 5-6 binary, 7 random */
static inline unsigned int
page_kind(uint64_t page)
{
	return (unsigned int)((page * 0x9E3779B97F4A7C15ull) >> 61);
}

static void
fill(uint8_t *p, unsigned int len, unsigned int kind, uint64_t *rng)
{
	unsigned int i = 0;

	if (kind >= 2 && kind <= 4) {
		while (i < len) {
			const char *wd = words[xs64(rng) % RTE_DIM(words)];
			size_t l = RTE_MIN(strlen(wd), (size_t)(len - i));

			memcpy(p + i, wd, l);
			i += l;
		}
	} else if (kind == 5 || kind == 6) {
		uint64_t base = xs64(rng) & 0xffff, v;

		for (; i + 8 <= len; i += 8) {
			v = (i / 8) % 4 == 3 ? 0x7f0000000000ull + base * 64
					     : base + i / 8;
			memcpy(p + i, &v, 8);
		}
	} else if (kind == 7) {
		for (; i + 8 <= len; i += 8) {
			uint64_t v = xs64(rng);

			memcpy(p + i, &v, 8);
		}
	} else {
		memset(p, 0, len);
	}
}

static uint64_t
pick_page(uint64_t *rng)
{
	uint64_t pg;

	do {
		pg = xs64(rng) % G.nb_pages;
	} while (page_kind(pg) < 2); /* zero pages stay zero */
	return pg;
}

static int
writer_main(void *arg)
{
	struct writer *w = arg;
	uint64_t hz = rte_get_tsc_hz(), rate = vmp_app.cfg.guest.rate;
	uint64_t rng = w->seed, t0 = rte_get_tsc_cycles(), done = 0;
	unsigned int i;

	while (!G.stop) {
		uint32_t gen = __atomic_load_n(&G.pause_gen, __ATOMIC_ACQUIRE);
		uint64_t tb = rte_get_tsc_cycles();

		if (gen & 1) {
			/* paused: acknowledge (release: every write and log
			 * of the previous batch is visible to the pauser,
			 * pairs with its acquire load of ack) */
			__atomic_store_n(&w->ack, gen, __ATOMIC_RELEASE);
			rte_delay_us_sleep(200);
			t0 = rte_get_tsc_cycles();
			done = 0;
			continue;
		}
		for (i = 0; i < BATCH; i++) {
			uint64_t pg = pick_page(&rng);
			unsigned int off =
				(unsigned int)(xs64(&rng) % (VMP_MIG_PAGE_SIZE /
							     WRITE_LEN)) *
				WRITE_LEN;

			fill(G.mem + pg * VMP_MIG_PAGE_SIZE + off, WRITE_LEN,
			     page_kind(pg), &rng);
			/* log after the write: a sync that clears the bit
			 * before this OR re-sends the page next round */
			vmp_dirty_log_write(G.dt, pg * VMP_MIG_PAGE_SIZE,
					    VMP_MIG_PAGE_SIZE);
		}
		w->writes += BATCH;
		done += BATCH;
		if (rate) {
			unsigned int th = G.throttle;
			uint64_t eff = rate * (100 - th) / 100 ?: 1;
			uint64_t next = t0 + done * hz / eff;
			uint64_t now = rte_get_tsc_cycles();

			if (next > now + hz / 5000)
				rte_delay_us_sleep((next - now) * 1000000 / hz);
			else
				while (rte_get_tsc_cycles() < next)
					rte_pause();
		} else if (G.throttle) {
			uint64_t busy = rte_get_tsc_cycles() - tb;
			unsigned int th = G.throttle;

			rte_delay_us_sleep(RTE_MAX(1ul, busy * th / (100 - th) *
								1000000 / hz));
		}
	}
	return 0;
}

bool
vmp_guest_exists(void)
{
	return G.mem != NULL;
}

int
vmp_guest_idle_lcore(const unsigned int *skip, unsigned int n)
{
	unsigned int lc, i;

	RTE_LCORE_FOREACH_WORKER (lc) {
		const struct vmp_plan_entry *e =
			vmp_plan_lookup(&vmp_app.plan, lc);

		if (e == NULL || e->role != VMP_ROLE_IDLE ||
		    rte_eal_get_lcore_state(lc) != WAIT)
			continue;
		for (i = 0; i < n; i++)
			if (skip[i] == lc)
				break;
		if (i == n)
			return (int)lc;
	}
	return -1;
}

static int
alloc_mem(const struct vmp_guest_config *g)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
	uint64_t i, rng = 0x1234567;
	int socket =
		vmp_app.cfg.socket >= 0
			? vmp_app.cfg.socket
			: (int)rte_lcore_to_socket_id(rte_get_main_lcore());

	if (g->hugepages)
		flags |= MAP_HUGETLB;
	G.mem = mmap(NULL, g->mem, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (G.mem == MAP_FAILED) {
		G.mem = NULL;
		printf("vmpath: cannot map %" PRIu64
		       " bytes of guest memory%s: "
		       "%s\n",
		       g->mem, g->hugepages ? " (hugepages)" : "",
		       strerror(errno));
		return -ENOMEM;
	}
	G.len = g->mem;
	G.huge = g->hugepages;
	G.nb_pages = g->mem / VMP_MIG_PAGE_SIZE;
	if (socket >= 0 && socket < 64) {
		unsigned long mask = 1ul << socket;

		/* best effort: one node here; MPOL_PREFERRED never fails
		 * the allocation */
		mbind(G.mem, g->mem, MPOL_PREFERRED, &mask, 64, 0);
	}
	for (i = 0; i < G.nb_pages; i++)
		if (page_kind(i) >= 2)
			fill(G.mem + i * VMP_MIG_PAGE_SIZE, VMP_MIG_PAGE_SIZE,
			     page_kind(i), &rng);
	return 0;
}

int
vmp_guest_start(void)
{
	const struct vmp_guest_config *g = &vmp_app.cfg.guest;
	struct vmp_dirty_params dp;
	struct vmp_dirty_region dr;
	unsigned int used[16], i;
	int rc, lc;

	if (g->mem == 0)
		return 0;
	rc = alloc_mem(g);
	if (rc < 0)
		return rc;
	memset(&dr, 0, sizeof(dr));
	dr.iova = 0;
	dr.host = G.mem;
	dr.len = G.len;
	memset(&dp, 0, sizeof(dp));
	dp.name = "guest";
	dp.regions = &dr;
	dp.nb_regions = 1;
	dp.mode = VMP_DIRTY_MODE_SOFT;
	dp.socket_id = SOCKET_ID_ANY;
	G.dt = vmp_dirty_tracker_create(&dp);
	if (G.dt == NULL) {
		printf("vmpath: cannot create the dirty tracker\n");
		return -ENOMEM;
	}
	/* The destination's guest is "incoming": its vCPUs do not run. */
	if (g->listen[0])
		return 0;
	for (i = 0; i < g->writers; i++) {
		lc = vmp_guest_idle_lcore(used, i);
		if (lc < 0) {
			printf("vmpath: no idle lcore for guest writer %u "
			       "(give EAL more lcores, e.g. --lcores "
			       "'0@0,(1-7)@(0-1)', and --datapath-lcores 0)\n",
			       i);
			return -EBUSY;
		}
		used[i] = (unsigned int)lc;
		G.w[i].lcore = (unsigned int)lc;
		G.w[i].seed = 0x9E3779B97F4A7C15ull * (i + 1);
		rc = rte_eal_remote_launch(writer_main, &G.w[i], lc);
		if (rc < 0)
			return rc;
		G.nb_writers++;
	}
	printf("vmpath: guest %" PRIu64 " MiB (%s), %u writers at %" PRIu64
	       " pages/s each\n",
	       G.len >> 20, G.huge ? "hugepages" : "anonymous", G.nb_writers,
	       g->rate);
	fflush(stdout);
	return 0;
}

void
vmp_guest_stop(void)
{
	unsigned int i;

	G.stop = true;
	for (i = 0; i < G.nb_writers; i++)
		rte_eal_wait_lcore(G.w[i].lcore);
	G.nb_writers = 0;
}

void
vmp_guest_fini(void)
{
	if (G.mem == NULL)
		return;
	if (vmp_app.cfg.guest.dump[0])
		vmp_guest_dump(vmp_app.cfg.guest.dump);
	vmp_dirty_tracker_free(G.dt);
	G.dt = NULL;
	munmap(G.mem, G.len);
	G.mem = NULL;
}

void
vmp_guest_pause(void)
{
	unsigned int i;
	uint32_t gen;

	gen = __atomic_load_n(&G.pause_gen, __ATOMIC_RELAXED);
	if (gen & 1)
		return;
	gen++;
	/* odd generation: writers stop before their next batch */
	__atomic_store_n(&G.pause_gen, gen, __ATOMIC_SEQ_CST);
	for (i = 0; i < G.nb_writers; i++)
		/* acquire: pairs with the writer's release store of ack */
		while (__atomic_load_n(&G.w[i].ack, __ATOMIC_ACQUIRE) != gen)
			rte_delay_us_sleep(50);
}

void
vmp_guest_resume(void)
{
	uint32_t gen = __atomic_load_n(&G.pause_gen, __ATOMIC_RELAXED);

	if (gen & 1)
		__atomic_store_n(&G.pause_gen, gen + 1, __ATOMIC_RELEASE);
}

bool
vmp_guest_paused(void)
{
	return G.pause_gen & 1;
}

void
vmp_guest_throttle(unsigned int pct)
{
	G.throttle = RTE_MIN(pct, 99u);
}

static int
dump_to(const char *path, const char *mode)
{
	FILE *f;
	uint64_t off;

	if (G.mem == NULL)
		return -ENODEV;
	f = fopen(path, mode);
	if (f == NULL)
		return -errno;
	for (off = 0; off < G.len; off += 1 << 20)
		if (fwrite(G.mem + off, 1, RTE_MIN(G.len - off, 1ull << 20),
			   f) == 0)
			break;
	if (fclose(f) != 0 || off < G.len)
		return -EIO;
	return 0;
}

int
vmp_guest_dump(const char *path)
{
	return dump_to(path, "w");
}

int
vmp_guest_dump_new(const char *path)
{
	return dump_to(path, "wx"); /* C11: O_EXCL */
}

static int
pin_range(uint64_t off, uint64_t len, bool pin)
{
	int rc;

	if (G.dt == NULL)
		return -ENODEV;
	rc = pin ? vmp_dirty_pin(G.dt, off, len)
		 : vmp_dirty_unpin(G.dt, off, len);
	if (rc == 0) {
		if (pin)
			G.pinned_pages += len / VMP_MIG_PAGE_SIZE;
		else
			G.pinned_pages -= len / VMP_MIG_PAGE_SIZE;
	}
	return rc;
}

int
vmp_guest_pin(uint64_t off, uint64_t len)
{
	return pin_range(off, len, true);
}

int
vmp_guest_unpin(uint64_t off, uint64_t len)
{
	return pin_range(off, len, false);
}

int
vmp_guest_state_get(struct vmp_guest_state *s)
{
	unsigned int i;

	if (G.mem == NULL)
		return -ENODEV;
	memset(s, 0, sizeof(*s));
	s->mem = G.len;
	s->hugepages = G.huge;
	s->writers = G.nb_writers;
	for (i = 0; i < G.nb_writers; i++)
		s->writes += G.w[i].writes;
	s->paused = vmp_guest_paused();
	s->throttle = G.throttle;
	s->pinned_pages = G.pinned_pages;
	return 0;
}

void
vmp_guest_info(FILE *f)
{
	struct vmp_guest_state s;

	if (vmp_guest_state_get(&s) < 0) {
		fprintf(f, "no guest (--guest-mem)\n");
		return;
	}
	fprintf(f, "guest memory: %" PRIu64 " MiB %s\n", s.mem >> 20,
		s.hugepages ? "hugepages" : "anonymous");
	fprintf(f,
		"writers: %u, writes: %" PRIu64 ", paused: %s, throttle: "
		"%u %%, pinned pages: %" PRIu64 "\n",
		s.writers, s.writes, s.paused ? "yes" : "no", s.throttle,
		s.pinned_pages);
}

/* ---- the migration engine's callbacks (cmd_migrate.c passes them) ---- */

int
vmp_guest_mig_regions(struct vmp_mig_region *r)
{
	if (G.mem == NULL)
		return 0;
	r->gpa = 0;
	r->addr = G.mem;
	r->len = G.len;
	return 1;
}

static int
d_start(void *arg __rte_unused)
{
	return vmp_dirty_start(G.dt);
}

static void
d_stop(void *arg __rte_unused)
{
	vmp_dirty_stop(G.dt);
}

static int64_t
d_sync(void *arg __rte_unused, unsigned int region, uint64_t *bitmap,
       uint64_t nb_pages)
{
	RTE_SET_USED(region);
	return vmp_dirty_bitmap_get(G.dt, 0, nb_pages * VMP_MIG_PAGE_SIZE,
				    VMP_MIG_PAGE_SIZE, bitmap,
				    RTE_ALIGN_CEIL(nb_pages, 64) / 8, 0);
}

static uint64_t
d_pinned(void *arg __rte_unused)
{
	return G.pinned_pages;
}

struct vmp_mig_dirty_ops
vmp_guest_dirty_ops(void)
{
	struct vmp_mig_dirty_ops o = {
		.start = d_start,
		.stop = d_stop,
		.sync = d_sync,
		.pinned = d_pinned,
	};
	return o;
}
