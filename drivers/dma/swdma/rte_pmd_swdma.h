/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef RTE_PMD_SWDMA_H
#define RTE_PMD_SWDMA_H

/**
 * @file
 * dma_swdma: vmpath's software dmadev. Copies submitted through rte_dma run
 * on DPDK service lcores ("engines", one rte_service each). Each engine must
 * be mapped to a running service lcore, by one of:
 *  - EAL `-s <coremask>`: EAL maps every registered service to the service
 *    lcores after probing (rte_service_start_with_defaults);
 *  - the devarg `lcores=L0[:L1...]`: the driver maps engine i to Li at probe;
 *  - rte_pmd_swdma_service_lcore_set() below, from the application, after
 *    rte_eal_init() and before launching work on that lcore.
 * Without one of them, rte_dma_start() logs a warning and copies stay
 * SUBMITTED until an engine is mapped.
 *
 * These functions are control path, not thread-safe with each other, and
 * must be called from an EAL thread of the primary process.
 */

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Run every engine of a dma_swdma device on one lcore.
 *
 * If @p lcore_id is an idle EAL worker lcore, it becomes a service lcore
 * (rte_service_lcore_add); then every engine service of the device is mapped
 * to it and enabled, and the service lcore is started. The driver undoes
 * what it did to the lcore when the device is closed and no other service
 * is mapped to it.
 *
 * @param dev_id
 *   dmadev id of a dma_swdma device.
 * @param lcore_id
 *   EAL lcore to run the engines; not the main lcore.
 * @return
 *   0 on success, or a negative errno:
 *   - -ENODEV: @p dev_id is not a dma_swdma device;
 *   - -EINVAL: @p lcore_id is not an enabled lcore, is the main lcore, or
 *     is a non-EAL lcore;
 *   - -EBUSY: @p lcore_id is a worker that is running a function;
 *   - other negative values from rte_service_* calls.
 */
int rte_pmd_swdma_service_lcore_set(int16_t dev_id, unsigned int lcore_id);

/**
 * Service id of one engine, for applications that place engines themselves
 * with the rte_service_* API.
 *
 * @param dev_id
 *   dmadev id of a dma_swdma device.
 * @param engine
 *   Engine index, 0 .. engines-1 (devarg `engines`, default 1). vchan v is
 *   served by engine v % engines.
 * @param[out] service_id
 *   The service id.
 * @return
 *   0, -ENODEV (@p dev_id is not a dma_swdma device), -ENOENT (no such
 *   engine) or -EINVAL (@p service_id is NULL).
 */
int rte_pmd_swdma_service_id_get(int16_t dev_id, unsigned int engine,
				 uint32_t *service_id);

/**
 * Fault injection for tests: make the device's engines hang, or let them go.
 *
 * While stalled, an engine that reaches a job of the device holds it inside
 * its batch, executing nothing, as a hung hardware engine holds a
 * descriptor it may still write: rte_dma_stop() times out (-ETIMEDOUT after
 * 5 s, the device stays started) and closing is refused. Released, the
 * engine runs the held job (a late write) and carries on. Devarg
 * `stall=1` starts the device stalled. Never use it in production: a
 * stalled engine also holds up every other service on its lcore.
 *
 * @param dev_id
 *   dmadev id of a dma_swdma device.
 * @param on
 *   Nonzero: stall; 0: release.
 * @return
 *   0, or -ENODEV (@p dev_id is not a dma_swdma device).
 */
int rte_pmd_swdma_stall_set(int16_t dev_id, int on);

#ifdef __cplusplus
}
#endif

#endif /* RTE_PMD_SWDMA_H */
