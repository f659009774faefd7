/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dma_swdma: vmpath's software dmadev (vdev). Control path: probe and
 * devargs, rte_dma_dev_ops. The fast path is in swdma_fp.c, the engines
 * (services) in swdma_engine.c, the ring protocol in swdma_pvt.h.
 *
 *   --vdev 'dma_swdma0[,ring_size=N][,batch=N][,engines=N][,lcores=L0:L1..]
 *           [,idle_us=N][,fail_every=N][,delay_us=N][,stall=0|1]'
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bus_vdev_driver.h>
#include <rte_dmadev_pmd.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_kvargs.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_service.h>

#include "swdma_pvt.h"

RTE_LOG_REGISTER(swdma_logtype, pmd.dma.swdma, INFO);

#define ARG_RING_SIZE "ring_size"
#define ARG_BATCH "batch"
#define ARG_ENGINES "engines"
#define ARG_LCORES "lcores"
#define ARG_IDLE_US "idle_us"
#define ARG_FAIL_EVERY "fail_every"
#define ARG_DELAY_US "delay_us"
#define ARG_STALL "stall"

static const char *const swdma_valid_args[] = {
	ARG_RING_SIZE,	ARG_BATCH,    ARG_ENGINES, ARG_LCORES, ARG_IDLE_US,
	ARG_FAIL_EVERY, ARG_DELAY_US, ARG_STALL,   NULL,
};

/* ---- devargs ---- */

struct arg_ctx {
	const char *dev;
	struct swdma_params *p;
};

static int
parse_u32(const char *dev, const char *key, const char *val, uint32_t min,
	  uint32_t max, uint32_t *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(val, &end, 0);
	if (errno != 0 || end == val || *end != '\0' || val[0] == '-' ||
	    v < min || v > max) {
		SWDMA_LOG(ERR, "%s: bad devarg %s='%s' (want %u..%u)", dev, key,
			  val, min, max);
		return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

static int
arg_ring_size(const char *key, const char *val, void *opaque)
{
	struct arg_ctx *c = opaque;
	uint32_t v;

	if (parse_u32(c->dev, key, val, SWDMA_RING_SIZE_MIN,
		      SWDMA_RING_SIZE_MAX, &v) != 0)
		return -EINVAL;
	if (!rte_is_power_of_2(v)) {
		SWDMA_LOG(ERR, "%s: bad devarg %s='%s' (not a power of 2)",
			  c->dev, key, val);
		return -EINVAL;
	}
	c->p->ring_size = v;
	return 0;
}

static int
arg_batch(const char *key, const char *val, void *opaque)
{
	struct arg_ctx *c = opaque;

	return parse_u32(c->dev, key, val, 1, SWDMA_BATCH_MAX, &c->p->batch);
}

static int
arg_idle_us(const char *key, const char *val, void *opaque)
{
	struct arg_ctx *c = opaque;

	return parse_u32(c->dev, key, val, 0, SWDMA_IDLE_US_MAX,
			 &c->p->idle_us);
}

static int
arg_fail_every(const char *key, const char *val, void *opaque)
{
	struct arg_ctx *c = opaque;

	return parse_u32(c->dev, key, val, 0, SWDMA_FAIL_EVERY_MAX,
			 &c->p->fail_every);
}

static int
arg_delay_us(const char *key, const char *val, void *opaque)
{
	struct arg_ctx *c = opaque;

	return parse_u32(c->dev, key, val, 0, SWDMA_DELAY_US_MAX,
			 &c->p->delay_us);
}

static int
arg_stall(const char *key, const char *val, void *opaque)
{
	struct arg_ctx *c = opaque;

	return parse_u32(c->dev, key, val, 0, 1, &c->p->stall);
}

static int
arg_engines(const char *key, const char *val, void *opaque)
{
	struct arg_ctx *c = opaque;
	uint32_t v;

	if (parse_u32(c->dev, key, val, 1, SWDMA_MAX_ENGINES, &v) != 0)
		return -EINVAL;
	c->p->nb_engines = (uint16_t)v;
	return 0;
}

/* lcores=2 or lcores=2:3 (',' separates devargs, so ':' separates ids) */
static int
arg_lcores(const char *key, const char *val, void *opaque)
{
	struct arg_ctx *c = opaque;
	const char *s = val;
	char tok[16];

	c->p->nb_lcores = 0;
	while (*s != '\0') {
		size_t n = strcspn(s, ":");
		uint32_t l;

		if (n == 0 || n >= sizeof(tok) ||
		    c->p->nb_lcores == SWDMA_MAX_ENGINES) {
			SWDMA_LOG(ERR,
				  "%s: bad devarg %s='%s' (want up to %u "
				  "lcore ids separated by ':')",
				  c->dev, key, val, SWDMA_MAX_ENGINES);
			return -EINVAL;
		}
		memcpy(tok, s, n);
		tok[n] = '\0';
		if (parse_u32(c->dev, key, tok, 0, RTE_MAX_LCORE - 1, &l) != 0)
			return -EINVAL;
		c->p->lcores[c->p->nb_lcores++] = (uint16_t)l;
		s += n;
		if (*s == ':' && *++s == '\0') {
			SWDMA_LOG(ERR, "%s: bad devarg %s='%s' (trailing ':')",
				  c->dev, key, val);
			return -EINVAL;
		}
	}
	if (c->p->nb_lcores == 0) {
		SWDMA_LOG(ERR, "%s: bad devarg %s='' (empty)", c->dev, key);
		return -EINVAL;
	}
	return 0;
}

static int
parse_devargs(struct rte_vdev_device *vdev, const char *name,
	      struct swdma_params *p)
{
	const char *args = rte_vdev_device_args(vdev);
	struct arg_ctx c = {.dev = name, .p = p};
	struct rte_kvargs *kv;
	bool engines_given;
	int rc = 0;

	p->ring_size = SWDMA_RING_SIZE_DEFAULT;
	p->batch = SWDMA_BATCH_DEFAULT;
	p->nb_engines = 1;
	p->nb_lcores = 0;
	p->idle_us = 0;
	p->fail_every = 0;
	p->delay_us = 0;
	p->stall = 0;
	if (args == NULL || args[0] == '\0')
		return 0;
	kv = rte_kvargs_parse(args, swdma_valid_args);
	if (kv == NULL) {
		SWDMA_LOG(ERR,
			  "%s: bad devargs '%s' (valid keys: ring_size, "
			  "batch, engines, lcores, idle_us, fail_every, "
			  "delay_us, stall)",
			  name, args);
		return -EINVAL;
	}
	engines_given = rte_kvargs_count(kv, ARG_ENGINES) > 0;
	if (rte_kvargs_process(kv, ARG_RING_SIZE, arg_ring_size, &c) < 0 ||
	    rte_kvargs_process(kv, ARG_BATCH, arg_batch, &c) < 0 ||
	    rte_kvargs_process(kv, ARG_ENGINES, arg_engines, &c) < 0 ||
	    rte_kvargs_process(kv, ARG_LCORES, arg_lcores, &c) < 0 ||
	    rte_kvargs_process(kv, ARG_IDLE_US, arg_idle_us, &c) < 0 ||
	    rte_kvargs_process(kv, ARG_FAIL_EVERY, arg_fail_every, &c) < 0 ||
	    rte_kvargs_process(kv, ARG_DELAY_US, arg_delay_us, &c) < 0 ||
	    rte_kvargs_process(kv, ARG_STALL, arg_stall, &c) < 0) {
		rc = -EINVAL;
		goto out_free_kv;
	}
	if (p->nb_lcores > 0 && !engines_given)
		p->nb_engines = p->nb_lcores;
out_free_kv:
	rte_kvargs_free(kv);
	return rc;
}

/* ---- rte_dma_dev_ops ---- */

static int
swdma_info_get(const struct rte_dma_dev *dev, struct rte_dma_info *info,
	       uint32_t info_sz)
{
	const struct swdma_dev *sd = dev->data->dev_private;

	RTE_SET_USED(info_sz);
	/* SVA: the engine dereferences the addresses it is given, so any
	 * virtual address of the process works; probe refused IOVA-as-PA. */
	info->dev_capa = RTE_DMA_CAPA_MEM_TO_MEM | RTE_DMA_CAPA_SVA |
			 RTE_DMA_CAPA_HANDLES_ERRORS | RTE_DMA_CAPA_OPS_COPY |
			 RTE_DMA_CAPA_OPS_COPY_SG | RTE_DMA_CAPA_OPS_FILL;
	info->max_vchans = SWDMA_MAX_VCHANS;
	info->max_desc = (uint16_t)sd->p.ring_size;
	info->min_desc = SWDMA_MIN_DESC;
	info->max_sges = SWDMA_MAX_SGES;
	return 0;
}

static void
vchan_free(struct swdma_dev *sd, uint16_t v)
{
	struct swdma_vchan *vc = sd->vchans[v];

	if (vc == NULL)
		return;
	rte_free(vc->status);
	rte_free(vc->ext);
	rte_free(vc->ring);
	rte_free(vc);
	sd->vchans[v] = NULL;
}

static int
swdma_configure(struct rte_dma_dev *dev, const struct rte_dma_conf *conf,
		uint32_t conf_sz)
{
	struct swdma_dev *sd = dev->data->dev_private;
	uint16_t v;

	RTE_SET_USED(conf_sz);
	/* the library checked nb_vchans (1..max_vchans) and silent mode */
	for (v = 0; v < SWDMA_MAX_VCHANS; v++)
		vchan_free(sd, v);
	sd->nb_vchans = conf->nb_vchans;
	return 0;
}

static int
swdma_vchan_setup(struct rte_dma_dev *dev, uint16_t v,
		  const struct rte_dma_vchan_conf *conf, uint32_t conf_sz)
{
	struct swdma_dev *sd = dev->data->dev_private;
	struct swdma_vchan *vc;
	uint32_t slots;

	RTE_SET_USED(conf_sz);
	if (conf->direction != RTE_DMA_DIR_MEM_TO_MEM) {
		SWDMA_LOG(ERR, "%s: vchan %u: direction %d: only MEM_TO_MEM",
			  sd->name, v, conf->direction);
		return -EINVAL;
	}
	vchan_free(sd, v);
	slots = rte_align32pow2(conf->nb_desc);
	vc = rte_zmalloc_socket("swdma_vchan", sizeof(*vc), RTE_CACHE_LINE_SIZE,
				sd->socket);
	if (vc == NULL)
		goto out_nomem;
	sd->vchans[v] = vc;
	vc->ring = rte_zmalloc_socket("swdma_ring",
				      (size_t)slots * sizeof(*vc->ring),
				      RTE_CACHE_LINE_SIZE, sd->socket);
	vc->ext = rte_zmalloc_socket("swdma_ext",
				     (size_t)slots * sizeof(*vc->ext),
				     RTE_CACHE_LINE_SIZE, sd->socket);
	vc->status = rte_zmalloc_socket("swdma_status",
					(size_t)slots * sizeof(*vc->status),
					RTE_CACHE_LINE_SIZE, sd->socket);
	if (vc->ring == NULL || vc->ext == NULL || vc->status == NULL)
		goto out_free_vchan;
	vc->mask = slots - 1;
	vc->nb_desc = conf->nb_desc;
	vc->id = v;
	vc->engine = v % sd->p.nb_engines;
	vc->fail_every = sd->p.fail_every;
	vc->delay_us = sd->p.delay_us;
	vc->faults = (vc->fail_every ? SWDMA_FAULT_FAIL_EVERY : 0) |
		     (vc->delay_us ? SWDMA_FAULT_DELAY : 0) |
		     (sd->p.stall ? SWDMA_FAULT_STALL : 0);
	return 0;

out_free_vchan:
	vchan_free(sd, v);
out_nomem:
	SWDMA_LOG(ERR, "%s: vchan %u: no memory for %u descriptors", sd->name,
		  v, conf->nb_desc);
	return -ENOMEM;
}

static int
swdma_start(struct rte_dma_dev *dev)
{
	struct swdma_dev *sd = dev->data->dev_private;
	uint16_t v;

	for (v = 0; v < sd->nb_vchans; v++)
		if (sd->vchans[v] == NULL) {
			SWDMA_LOG(ERR, "%s: vchan %u was not set up", sd->name,
				  v);
			return -EINVAL;
		}
	if (!swdma_engines_serviced(sd))
		SWDMA_LOG(WARNING,
			  "%s: an engine is not mapped to a running "
			  "service lcore: copies will not complete (use EAL "
			  "-s, devarg lcores=, or "
			  "rte_pmd_swdma_service_lcore_set())",
			  sd->name);
	swdma_engines_go(sd);
	sd->started = true;
	return 0;
}

static int
swdma_stop(struct rte_dma_dev *dev)
{
	struct swdma_dev *sd = dev->data->dev_private;
	uint16_t v;
	int rc;

	rc = swdma_engines_quiesce(sd);
	if (rc != 0) {
		/* An engine is stuck in a batch: stay started, let them run.
		 * Not swdma_engines_go(): the stuck engine is walking its vchan
		 * list, which must not be rewritten under it. Q1: seq_cst
		 * store, like the one quiesce did. */
		for (v = 0; v < sd->p.nb_engines; v++)
			__atomic_store_n(&sd->engines[v]->running, 1,
					 __ATOMIC_SEQ_CST);
		return rc;
	}
	/* every SUBMITTED slot becomes DONE (NOT_ATTEMPTED); PENDING ones
	 * stay and run after the next start and submit */
	for (v = 0; v < sd->nb_vchans; v++)
		swdma_vchan_abort(sd->vchans[v]);
	sd->started = false;
	return 0;
}

static int
swdma_close(struct rte_dma_dev *dev)
{
	struct swdma_dev *sd = dev->data->dev_private;
	uint16_t v;

	/* An engine still inside a batch may write its vchans (and the
	 * destinations of their jobs) later: keep everything, refuse. The
	 * device stays as it is; a later close can finish. */
	if (swdma_engines_quiesce(sd) != 0) {
		SWDMA_LOG(ERR,
			  "%s: close refused: an engine is still inside a "
			  "batch and may write its vchans",
			  sd->name);
		return -EBUSY;
	}
	swdma_engines_destroy(sd);
	swdma_registry_del(sd);
	for (v = 0; v < SWDMA_MAX_VCHANS; v++)
		vchan_free(sd, v);
	return 0;
}

static int
swdma_stats_get(const struct rte_dma_dev *dev, uint16_t vchan,
		struct rte_dma_stats *st, uint32_t sz)
{
	const struct swdma_dev *sd = dev->data->dev_private;
	uint16_t v;

	RTE_SET_USED(sz);
	for (v = 0; v < sd->nb_vchans; v++) {
		const struct swdma_vchan *vc = sd->vchans[v];

		if ((vchan != RTE_DMA_ALL_VCHAN && v != vchan) || vc == NULL)
			continue;
		st->submitted += vc->st_submitted;
		st->completed += vc->st_completed;
		st->errors += vc->st_errors;
	}
	return 0;
}

static int
swdma_stats_reset(struct rte_dma_dev *dev, uint16_t vchan)
{
	struct swdma_dev *sd = dev->data->dev_private;
	uint16_t v;

	for (v = 0; v < sd->nb_vchans; v++) {
		struct swdma_vchan *vc = sd->vchans[v];

		if ((vchan != RTE_DMA_ALL_VCHAN && v != vchan) || vc == NULL)
			continue;
		vc->st_submitted = 0;
		vc->st_completed = 0;
		vc->st_errors = 0;
	}
	return 0;
}

static int
swdma_vchan_status(const struct rte_dma_dev *dev, uint16_t vchan,
		   enum rte_dma_vchan_status *status)
{
	const struct swdma_dev *sd = dev->data->dev_private;
	const struct swdma_vchan *vc = sd->vchans[vchan];
	uint32_t done, sub;

	if (vc == NULL)
		return -EINVAL;
	/* B2: pairs with the engine's store-release of done */
	done = __atomic_load_n(&vc->done, __ATOMIC_ACQUIRE);
	sub = __atomic_load_n(&vc->submitted, __ATOMIC_RELAXED);
	if (!sd->started)
		*status = RTE_DMA_VCHAN_IDLE;
	else
		*status =
			done == sub ? RTE_DMA_VCHAN_IDLE : RTE_DMA_VCHAN_ACTIVE;
	return 0;
}

static int
swdma_dump(const struct rte_dma_dev *dev, FILE *f)
{
	const struct swdma_dev *sd = dev->data->dev_private;
	unsigned int i;
	uint16_t v;

	fprintf(f, "  swdma: ring_size %u batch %u engines %u idle_us %u %s\n",
		sd->p.ring_size, sd->p.batch, sd->p.nb_engines, sd->p.idle_us,
		sd->started ? "started" : "stopped");
	for (i = 0; i < sd->p.nb_engines; i++) {
		const struct swdma_engine *e = sd->engines[i];

		fprintf(f,
			"  engine %u: service %u runstate %d vchans %u "
			"calls %" PRIu64 " idle sleeps %" PRIu64 "\n",
			i, e->service_id,
			rte_service_runstate_get(e->service_id), e->nb_vchans,
			e->nb_calls, e->nb_sleeps);
	}
	for (v = 0; v < sd->nb_vchans; v++) {
		const struct swdma_vchan *vc = sd->vchans[v];

		if (vc == NULL)
			continue;
		fprintf(f,
			"  vchan %u: engine %u nb_desc %u slots %u head %u "
			"submitted %u done %u tail %u errs %u batches %" PRIu64
			"\n",
			v, vc->engine, vc->nb_desc, vc->mask + 1, vc->head,
			__atomic_load_n(&vc->submitted, __ATOMIC_RELAXED),
			__atomic_load_n(&vc->done, __ATOMIC_RELAXED), vc->tail,
			__atomic_load_n(&vc->errs, __ATOMIC_RELAXED),
			vc->nb_batches);
	}
	return 0;
}

static const struct rte_dma_dev_ops swdma_ops = {
	.dev_info_get = swdma_info_get,
	.dev_configure = swdma_configure,
	.dev_start = swdma_start,
	.dev_stop = swdma_stop,
	.dev_close = swdma_close,
	.vchan_setup = swdma_vchan_setup,
	.stats_get = swdma_stats_get,
	.stats_reset = swdma_stats_reset,
	.vchan_status = swdma_vchan_status,
	.dev_dump = swdma_dump,
};

/* ---- vdev ---- */

static int
swdma_probe(struct rte_vdev_device *vdev)
{
	const char *name = rte_vdev_device_name(vdev);
	struct swdma_params p;
	struct rte_dma_dev *dev;
	struct swdma_dev *sd;
	unsigned int i;
	int socket, rc;

	if (rte_eal_process_type() != RTE_PROC_PRIMARY) {
		SWDMA_LOG(ERR, "%s: secondary processes are not supported",
			  name);
		return -ENOTSUP;
	}
	if (rte_eal_iova_mode() != RTE_IOVA_VA) {
		SWDMA_LOG(ERR,
			  "%s: IOVA as PA: this engine copies with the "
			  "CPU and needs IOVA as VA (--iova-mode=va)",
			  name);
		return -ENOTSUP;
	}
	rc = parse_devargs(vdev, name, &p);
	if (rc != 0)
		return rc;
	socket = p.nb_lcores > 0 ? (int)rte_lcore_to_socket_id(p.lcores[0])
				 : (int)rte_socket_id();
	dev = rte_dma_pmd_allocate(name, socket, sizeof(*sd));
	if (dev == NULL) {
		SWDMA_LOG(ERR, "%s: cannot allocate dmadev", name);
		return -ENOMEM;
	}
	sd = dev->data->dev_private;
	sd->p = p;
	snprintf(sd->name, sizeof(sd->name), "%s", name);
	sd->dev_id = dev->data->dev_id;
	sd->socket = socket;
	dev->device = &vdev->device;
	dev->dev_ops = &swdma_ops;
	dev->fp_obj->dev_private = sd;
	dev->fp_obj->copy = swdma_copy;
	dev->fp_obj->copy_sg = swdma_copy_sg;
	dev->fp_obj->fill = swdma_fill;
	dev->fp_obj->submit = swdma_submit;
	dev->fp_obj->completed = swdma_completed;
	dev->fp_obj->completed_status = swdma_completed_status;
	dev->fp_obj->burst_capacity = swdma_burst_capacity;
	swdma_registry_add(sd);

	rc = swdma_engines_create(sd);
	if (rc != 0)
		goto out_destroy;
	for (i = 0; i < p.nb_engines && p.nb_lcores > 0; i++) {
		rc = swdma_engine_map_lcore(sd, i, p.lcores[i % p.nb_lcores]);
		if (rc != 0) {
			SWDMA_LOG(ERR,
				  "%s: bad devarg lcores: lcore %u "
				  "cannot run engine %u",
				  name, p.lcores[i % p.nb_lcores], i);
			goto out_destroy;
		}
	}
	dev->state = RTE_DMA_DEV_READY;
	SWDMA_LOG(INFO,
		  "%s: ring_size %u batch %u engines %u idle_us %u "
		  "fail_every %u delay_us %u stall %u lcores %s",
		  name, p.ring_size, p.batch, p.nb_engines, p.idle_us,
		  p.fail_every, p.delay_us, p.stall,
		  p.nb_lcores ? "devarg" : "by EAL -s or application");
	return 0;

out_destroy:
	swdma_engines_destroy(sd);
	swdma_registry_del(sd);
	rte_dma_pmd_release(name);
	return rc;
}

static int
swdma_remove(struct rte_vdev_device *vdev)
{
	return rte_dma_pmd_release(rte_vdev_device_name(vdev));
}

static struct rte_vdev_driver swdma_pmd_drv = {
	.probe = swdma_probe,
	.remove = swdma_remove,
};

RTE_PMD_REGISTER_VDEV(dma_swdma, swdma_pmd_drv);
RTE_PMD_REGISTER_PARAM_STRING(dma_swdma,
			      "ring_size=<64..32768, pow2> "
			      "batch=<1..1024> engines=<1..8> "
			      "lcores=<id[:id...]> idle_us=<0..1000> "
			      "fail_every=<0..1000000> delay_us=<0..1000000> "
			      "stall=<0|1>");
