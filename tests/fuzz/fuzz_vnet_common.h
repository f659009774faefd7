/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef FUZZ_VNET_COMMON_H
#define FUZZ_VNET_COMMON_H

/* Shared by the lib/vnet fuzz targets. */
#include <stdint.h>

#include <vmp_vnet.h>

/*
 * Create and start dma_swdma vdev @name (one vchan) and a vnet channel on
 * it; the engine's service id in *@svc_id, run by the harness thread only.
 * Aborts on failure (EAL must be up).
 */
struct vmp_vnet_dma *fz_swdma_create(const char *name, uint32_t *svc_id);

#endif /* FUZZ_VNET_COMMON_H */
