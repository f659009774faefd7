/* SPDX-License-Identifier: BSD-3-Clause */
/* Placeholder: the implementation follows in the next commits. */
#include <rte_log.h>

#include "vmp_dirtylog.h"

RTE_LOG_REGISTER_DEFAULT(vmp_dirty_logtype, INFO);
