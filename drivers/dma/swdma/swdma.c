/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dma_swdma: vmpath's software dmadev. This is the foundation skeleton: it
 * proves the driver SDK headers work (a vdev that allocates a dmadev and
 * answers info/close). The copy engine on service lcores is issue 6.
 */
#include <string.h>

#include <bus_vdev_driver.h>
#include <rte_dmadev_pmd.h>
#include <rte_log.h>

RTE_LOG_REGISTER_DEFAULT(swdma_logtype, INFO);
#define SWDMA_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, swdma_logtype, "%s(): " fmt "\n", __func__, \
		##__VA_ARGS__)

static int
swdma_info_get(const struct rte_dma_dev *dev, struct rte_dma_info *info,
	       uint32_t info_sz)
{
	RTE_SET_USED(dev);
	RTE_SET_USED(info_sz);
	memset(info, 0, sizeof(*info));
	info->dev_capa = RTE_DMA_CAPA_MEM_TO_MEM | RTE_DMA_CAPA_SVA |
			 RTE_DMA_CAPA_OPS_COPY;
	info->max_vchans = 1;
	info->max_desc = 4096;
	info->min_desc = 32;
	return 0;
}

static int
swdma_close(struct rte_dma_dev *dev)
{
	RTE_SET_USED(dev);
	return 0;
}

static const struct rte_dma_dev_ops swdma_ops = {
	.dev_info_get = swdma_info_get,
	.dev_close = swdma_close,
};

static int
swdma_probe(struct rte_vdev_device *vdev)
{
	const char *name = rte_vdev_device_name(vdev);
	struct rte_dma_dev *dev;

	dev = rte_dma_pmd_allocate(name, vdev->device.numa_node, 0);
	if (dev == NULL) {
		SWDMA_LOG(ERR, "%s: cannot allocate dmadev", name);
		return -ENOMEM;
	}
	dev->device = &vdev->device;
	dev->dev_ops = &swdma_ops;
	dev->state = RTE_DMA_DEV_READY;
	SWDMA_LOG(INFO, "%s: probed (skeleton)", name);
	return 0;
}

static int
swdma_remove(struct rte_vdev_device *vdev)
{
	const char *name = rte_vdev_device_name(vdev);

	return rte_dma_pmd_release(name);
}

static struct rte_vdev_driver swdma_pmd_drv = {
	.probe = swdma_probe,
	.remove = swdma_remove,
};

RTE_PMD_REGISTER_VDEV(dma_swdma, swdma_pmd_drv);
