/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VMP_COMMON_H
#define VMP_COMMON_H

/**
 * @file
 * What two or more vmpath libraries truly share: the version string, and the
 * halt/kick primitive (vmp_halt.h) used by lib/pvlock and lib/workpool.
 */

#include <vmp_config.h>
#include <vmp_halt.h>

/** vmpath version, e.g. "0.1.0". */
const char *vmp_version(void);

#endif /* VMP_COMMON_H */
