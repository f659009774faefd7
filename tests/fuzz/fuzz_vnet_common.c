/* SPDX-License-Identifier: BSD-3-Clause */
#include <rte_bus_vdev.h>
#include <rte_dmadev.h>
#include <rte_errno.h>
#include <rte_service.h>

#include <rte_pmd_swdma.h>

#include "fuzz_common.h"
#include "fuzz_vnet_common.h"

struct vmp_vnet_dma *
fz_swdma_create(const char *name, uint32_t *svc_id)
{
	struct rte_dma_vchan_conf vc = {.direction = RTE_DMA_DIR_MEM_TO_MEM,
					.nb_desc = 1024};
	struct rte_dma_conf dc = {.nb_vchans = 1};
	struct vmp_vnet_dma *dma;
	int id;

	if (rte_vdev_init(name, NULL) < 0)
		FZ_FAIL("no dma_swdma device %s", name);
	id = rte_dma_get_dev_id_by_name(name);
	if (id < 0 || rte_dma_configure(id, &dc) < 0 ||
	    rte_dma_vchan_setup(id, 0, &vc) < 0 || rte_dma_start(id) < 0)
		FZ_FAIL("dma_swdma setup");
	/* no service lcore: the harness thread runs the engine when it wants
	 * copies to land (rte_service_run_iter_on_app_lcore) */
	if (rte_pmd_swdma_service_id_get((int16_t)id, 0, svc_id) < 0 ||
	    rte_service_runstate_set(*svc_id, 1) < 0)
		FZ_FAIL("dma_swdma service");
	dma = vmp_vnet_dma_create((int16_t)id, 0, 0, 0);
	if (dma == NULL)
		FZ_FAIL("vmp_vnet_dma_create: %d", rte_errno);
	return dma;
}
