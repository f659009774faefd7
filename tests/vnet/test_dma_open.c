/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include <rte_bus_vdev.h>
#include <rte_dmadev.h>

#include <vmp_config.h>
#if VMP_HAS_DMA_DRIVER
#include <rte_pmd_swdma.h>
#endif

#include "test_dma_open.h"

int
test_dma_open(const char *name, const char *args, unsigned int lcore)
{
	struct rte_dma_vchan_conf vc = {.direction = RTE_DMA_DIR_MEM_TO_MEM,
					.nb_desc = 1024};
	struct rte_dma_conf dc = {.nb_vchans = 1};
	int id;

	if (rte_vdev_init(name, args) < 0)
		return -1;
	id = rte_dma_get_dev_id_by_name(name);
	if (id < 0 || rte_dma_configure(id, &dc) < 0 ||
	    rte_dma_vchan_setup(id, 0, &vc) < 0)
		return -1;
#if VMP_HAS_DMA_DRIVER
	if (strncmp(name, "dma_swdma", 9) == 0 &&
	    rte_pmd_swdma_service_lcore_set((int16_t)id, lcore) < 0)
		return -1;
#else
	(void)lcore;
#endif
	return rte_dma_start(id) == 0 ? id : -1;
}

void
test_dma_close(int id, const char *name)
{
	rte_dma_stop(id);
	rte_dma_close(id);
	rte_vdev_uninit(name);
}
