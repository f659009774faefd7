/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TEST_DMA_OPEN_H
#define TEST_DMA_OPEN_H

/*
 * A started one-vchan mem-to-mem DMA device from vdev @name (with @args, may
 * be NULL), for the vnet perf tests. A dma_swdma device gets its engine on
 * service lcore @lcore. Returns the dmadev id, or -1.
 */
int test_dma_open(const char *name, const char *args, unsigned int lcore);
void test_dma_close(int id, const char *name);

#endif /* TEST_DMA_OPEN_H */
