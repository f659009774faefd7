/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MIG_PVT_H
#define MIG_PVT_H

/*
 * lib/migrate internals: the migration object, the wire format (see
 * docs/migrate.md, which is the normative text), the transport and the
 * compression worker models.
 */
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <rte_log.h>
#include <rte_spinlock.h>

#include "vmp_migrate.h"

extern int vmp_mig_logtype;
#define MIG_LOG(level, fmt, ...)                                               \
	rte_log(RTE_LOG_##level, vmp_mig_logtype, "migrate: " fmt "\n",        \
		##__VA_ARGS__)

/* ---- wire format (little endian) ------------------------------------- */

#define MIG_FRAME_MAGIC 0x464d5056u /* "VPMF" as LE bytes 'V' 'P' 'M' 'F' */
#define MIG_HELLO_MAGIC 0x47494d50564d5621ull /* "!VMVPMIG" LE */

enum mig_frame_type {
	MIG_F_HELLO = 1,
	MIG_F_ACCEPT = 2,
	MIG_F_REFUSE = 3,
	MIG_F_PAGES = 4,
	MIG_F_ROUND_END = 5,
	MIG_F_END = 6,
	MIG_F_RESULT = 7,
	MIG_F_CANCEL = 8,
	MIG_F_ERROR = 9,
};

/* Frame header: 32 bytes. hdr_crc covers bytes 0..27. */
struct mig_frame_hdr {
	uint32_t magic;
	uint8_t type;
	uint8_t flags;
	uint16_t reserved0;
	uint32_t payload_len;
	uint32_t seq;	      /* per direction, from 0 */
	uint32_t round;	      /* round the frame belongs to */
	uint32_t payload_crc; /* CRC32C of the payload (0 bytes: 0) */
	uint32_t reserved1;
	uint32_t hdr_crc;
} __attribute__((packed));

#define MIG_MAX_PAYLOAD (1u << 20)

/* HELLO payload: 40 bytes + 24 per region. */
struct mig_hello {
	uint64_t magic;
	uint16_t version;
	uint16_t nb_regions;
	uint32_t page_size;
	uint8_t comp;
	uint8_t level;
	uint16_t reserved0;
	uint32_t features;
	uint64_t total_bytes;
	uint64_t reserved1;
} __attribute__((packed));

struct mig_hello_region {
	uint32_t id;
	uint32_t reserved;
	uint64_t gpa;
	uint64_t len;
} __attribute__((packed));

/* Features this build knows. */
#define MIG_FEAT_ZERO_PAGES (1u << 0)
#define MIG_FEAT_ROUND_MARKERS (1u << 1)
#define MIG_FEAT_DIGEST (1u << 2)
#define MIG_FEAT_ALL                                                           \
	(MIG_FEAT_ZERO_PAGES | MIG_FEAT_ROUND_MARKERS | MIG_FEAT_DIGEST)

/* REFUSE / ERROR payload: code + text. */
struct mig_reason {
	uint32_t code; /* an errno value */
	char text[124];
} __attribute__((packed));

/* PAGES payload: header, nb_pages entries, then the data back to back. */
struct mig_pages_hdr {
	uint16_t region;
	uint16_t nb_pages;
	uint32_t reserved;
} __attribute__((packed));

enum mig_page_kind {
	MIG_PAGE_ZERO = 0,
	MIG_PAGE_RAW = 1,
	MIG_PAGE_ZLIB = 2,
};

struct mig_page_ent {
	uint64_t page; /* page index in the region */
	uint8_t kind;
	uint8_t reserved[3];
	uint32_t len; /* data bytes (0 for ZERO, page size for RAW) */
} __attribute__((packed));

#define MIG_BATCH_PAGES 128

struct mig_round_end {
	uint64_t pages; /* entries sent in this round */
	uint64_t bytes; /* data bytes sent in this round */
	uint32_t final; /* 1: vCPUs paused, END follows: digest now */
	uint32_t reserved;
} __attribute__((packed));

struct mig_end {
	uint32_t nb_regions;
	uint32_t reserved;
	/* followed by nb_regions x uint64_t digest */
} __attribute__((packed));

struct mig_result {
	uint32_t ok; /* 1: memory matches, 0: it does not */
	uint32_t bad_region;
	uint64_t digest; /* destination digest of bad_region (or 0) */
} __attribute__((packed));

/* ---- transport -------------------------------------------------------- */

struct mig_chan {
	int fd;
	const volatile bool *cancel; /* checked at every poll */
	uint64_t deadline_tsc;	     /* 0: none */
	uint64_t bw_cap;	     /* bytes/s, 0: none */
	uint64_t bw_t0;		     /* token bucket start (tsc) */
	uint64_t bw_sent;	     /* bytes since bw_t0 */
	uint64_t tx_bytes, rx_bytes;
	uint32_t tx_seq, rx_seq;
	/* source: a frame from the destination arrived while sending */
	bool peer_msg;
};

int mig_net_parse(const char *uri, bool *is_unix, char *host, size_t hlen,
		  char *port_or_path, size_t plen);
int mig_net_listen(const char *uri, char *path_out, size_t plen);
int mig_net_accept(int lfd, struct mig_chan *ch);
int mig_net_connect(const char *uri, struct mig_chan *ch);
/* Send one frame (header built here). -errno on failure. */
int mig_chan_send_frame(struct mig_chan *ch, uint8_t type, uint32_t round,
			const void *p1, uint32_t l1, const void *p2,
			uint32_t l2);
/* Receive one frame into buf (cap bytes); checks both CRCs and seq. */
int mig_chan_recv_frame(struct mig_chan *ch, struct mig_frame_hdr *h, void *buf,
			uint32_t cap, uint32_t timeout_ms);
/* Is there something to read right now? */
bool mig_chan_readable(struct mig_chan *ch);
/* Bytes sent into the socket that the peer has not taken yet (SIOCOUTQ). */
int64_t mig_chan_unsent(struct mig_chan *ch);
void mig_chan_close(struct mig_chan *ch);

/* ---- wire helpers ------------------------------------------------------ */

uint32_t mig_crc32c_update(uint32_t crc, const void *buf, size_t len);
struct mig_job;
/* The digest's page CRC (4 lanes) and the region digest from page CRCs. */
uint32_t mig_page_crc4(const uint8_t *pg);
uint32_t mig_page_crc4_fast(const uint8_t *pg);
uint32_t mig_zero_page_crc(void);
uint64_t mig_digest_combine(const uint32_t *page_crc, uint64_t n);
/* Digest every region into out[], on the workers when there are some. */
void mig_digest_all(struct vmp_mig *m, uint64_t *out);
/* The digest of every region from the page CRC arrays as they are. */
void mig_digest_combine_all(struct vmp_mig *m, uint64_t *out);
/* Bytes/s of the END digest on the workers (1 pass, or median of 3). */
double mig_digest_calibrate(struct vmp_mig *m, int passes, uint64_t max_pages);
double mig_digest_rate_med3(const double r[3]);
#define MIG_CAL_SETUP_PAGES 65536u /* 256 MiB: beyond the caches */
#define MIG_CAL_ROUND_PAGES 16384u /* 64 MiB after each round */
void mig_digest_range(struct vmp_mig *m, unsigned int r, uint64_t first,
		      uint64_t n);
/* Worker side of a digest job; true if @p j was one. */
bool mig_digest_job(struct vmp_mig *m, struct mig_job *j);
void mig_frame_hdr_build(struct mig_frame_hdr *h, uint8_t type, uint32_t round,
			 uint32_t seq, const void *p1, uint32_t l1,
			 const void *p2, uint32_t l2);
int mig_frame_hdr_check(const struct mig_frame_hdr *h, char *err, size_t elen);
/* Build a HELLO payload; returns its length. */
uint32_t mig_hello_build(void *buf, uint32_t cap, uint16_t version,
			 const struct vmp_mig_region *r, unsigned int n,
			 uint8_t comp, uint8_t level);
/* Check a HELLO against our regions; 0 or -EPROTO with err filled. */
int mig_hello_check(const void *buf, uint32_t len,
		    const struct vmp_mig_region *r, unsigned int n,
		    uint8_t *comp, char *err, size_t elen);

/* ---- compression worker models ------------------------------------------ */

typedef void (*mig_job_fn)(void *job, unsigned int worker, void *arg);
typedef void (*mig_done_fn)(void *job, void *arg);
typedef int (*mig_winit_fn)(unsigned int worker, void *arg);
typedef void (*mig_wuninit_fn)(unsigned int worker, void *arg);

/* Per-worker ring size of the lockless model unless params say otherwise. */
#define MIG_RING_SIZE_DEFAULT 32

struct mig_cpool_params {
	const char *name;
	enum vmp_mig_model model;
	unsigned int nb_workers; /* 0: inline on the caller */
	const unsigned int *lcores;
	unsigned int ring_size;
	uint32_t spin_polls;
	size_t job_size;
	mig_job_fn handler;
	mig_done_fn done;
	mig_winit_fn worker_init;
	mig_wuninit_fn worker_uninit;
	void *arg;
};

struct mig_cpool;
struct mig_cpool *mig_cpool_create(const struct mig_cpool_params *p);
/* A free job, or NULL if every worker is busy (counted as busy). */
void *mig_cpool_get(struct mig_cpool *cp);
/* Same, but waits for room (NULL only if *stop becomes true). */
void *mig_cpool_get_wait(struct mig_cpool *cp, const volatile bool *stop);
void mig_cpool_put(struct mig_cpool *cp, void *job);
int mig_cpool_poll(struct mig_cpool *cp);
void mig_cpool_drain(struct mig_cpool *cp);
void mig_cpool_destroy(struct mig_cpool *cp);
uint64_t mig_cpool_busy_count(const struct mig_cpool *cp);
/* Per-worker handler busy % since create; returns nb_workers. */
unsigned int mig_cpool_worker_busy(const struct mig_cpool *cp, double *pct,
				   unsigned int *lcores, unsigned int max);

/* Thread CPU time (utime + stime) in ns from /proc/self/task/TID/stat. */
uint64_t mig_thread_cpu_ns(pid_t tid);

/* ---- the migration object ---------------------------------------------- */

/* A zlib page never exceeds this; larger output is sent raw. */
#define MIG_JOB_OUT_MAX (VMP_MIG_PAGE_SIZE + 64)

#define MIG_OP_PAGE 0	/* compress / inflate one page */
#define MIG_OP_DIGEST 1 /* page CRCs of [page, page + len) */

struct mig_job {
	struct vmp_mig *m;
	uint64_t page;
	uint16_t region;
	uint8_t op;
	uint8_t kind;
	uint8_t failed; /* dest: inflate error */
	uint32_t len;	/* source: out bytes; dest: in bytes */
	uint8_t *dst;	/* dest: the guest page */
	uint8_t in[VMP_MIG_PAGE_SIZE] __attribute__((aligned(64)));
	uint8_t out[MIG_JOB_OUT_MAX];
};

struct mig_regstate {
	struct vmp_mig_region r;
	uint64_t nb_pages;
	uint64_t *bitmap;  /* source: pages to send; dest: seen this round */
	uint64_t *scratch; /* source: what the last sync returned */
	/* LE page CRC of each page (the END digest combines it). Source:
	 * filled from its frozen memory at END. Destination: filled from its
	 * memory after ACCEPT, then kept current by whoever writes a page
	 * (receive thread: ZERO, RAW; worker: ZLIB, after the inflate) */
	uint32_t *page_crc;
};

struct vmp_mig {
	char name[32];
	bool source;
	struct vmp_mig_params p;
	unsigned int nb_regions;
	struct mig_regstate reg[VMP_MIG_MAX_REGIONS];
	unsigned int worker_lcores[VMP_MIG_MAX_WORKERS];

	volatile bool cancel;
	volatile int status; /* enum vmp_mig_status */
	bool running;
	bool launched;
	unsigned int launch_lcore;
	char uri[256];
	int result;
	int lfd; /* destination listening socket */
	char unix_path[108];

	struct mig_chan ch;
	struct mig_cpool *cp;
	pid_t tid;

	/* Published counters (lock held by writers and stats_get). */
	rte_spinlock_t st_lock;
	struct vmp_mig_stats st;
	uint64_t t_start, t_setup, t_pause, t_end; /* tsc */
	uint64_t cpu0_ns;

	/* Source, migration thread only. */
	uint8_t *batch;	  /* frame payload being built */
	uint32_t batch_n; /* entries */
	uint32_t batch_data;
	uint16_t batch_region;
	uint64_t round_pages, round_bytes;
	uint32_t round;
	/* bandwidth window: ring of (tsc, page bytes cleared) samples */
	uint64_t bw_tsc[64];
	uint64_t bw_bytes[64];
	uint64_t bw_tx[64];
	unsigned int bw_head, bw_n;
	uint64_t cleared_bytes; /* pages handled (zero or sent) x page size */
	double digest_rate;	/* bytes/s of the END digest, measured */
	double digest_rates[3]; /* source: the last three measures */
	uint64_t rtt_ms;	/* HELLO -> ACCEPT, the RESULT round trip */
	uint64_t est_pages_ms;	/* last set's share of the estimate */
	int err;		/* first error of the done callbacks */
	/* Destination. */
	uint64_t dst_round_pages;
	bool final_round; /* source: sending the last set */
	/* Source: the raw path's pace (this thread sends the page itself),
	 * probed on the first MIG_PROBE_PAGES of every pre-copy round from
	 * round 1; the last set goes raw when that is the faster estimate. */
	uint32_t probe_left;
	uint64_t probe_t0;
	int64_t probe_unsent0; /* socket backlog when the probe started */
	double raw_rates[3];   /* pages/s, the last three probes */
	double raw_rate;       /* their median, 0: not measured */
	bool final_raw;	       /* the last set goes raw */
	bool final_seen;       /* destination: final ROUND_END, no PAGES now */
	uint64_t digest[VMP_MIG_MAX_REGIONS]; /* destination, at END */
	pid_t worker_tid[VMP_MIG_MAX_WORKERS];
	uint64_t worker_cpu0_ns[VMP_MIG_MAX_WORKERS];
	uint64_t worker_cpu_ns[VMP_MIG_MAX_WORKERS]; /* at uninit */
	void *zs[VMP_MIG_MAX_WORKERS];		     /* per-worker z_stream */
	uint8_t *rxbuf; /* destination frame buffer */
};

void mig_set_status(struct vmp_mig *m, enum vmp_mig_status st);
void mig_fail(struct vmp_mig *m, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void mig_publish(struct vmp_mig *m);
int mig_source_run(struct vmp_mig *m, const char *uri);
int mig_dest_run(struct vmp_mig *m);
uint64_t mig_ms_since(uint64_t tsc0);
int mig_zworker_init(unsigned int worker, void *arg);
/* The (de)compression workers of a migration, with its zlib streams. */
struct mig_cpool *mig_workers_create(struct vmp_mig *m, mig_job_fn handler,
				     mig_done_fn done);
void mig_zworker_uninit(unsigned int worker, void *arg);

#endif /* MIG_PVT_H */
