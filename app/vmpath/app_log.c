/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The application's logtype, vmpath.app: its messages go through rte_log like
 * the libraries' (vmpath.vnet, vmpath.migrate, ...), so --log-level and the
 * control socket's log_level set them (docs/cli.md "Logging").
 */
#include <rte_log.h>

#include "vmpath.h"

RTE_LOG_REGISTER(vmp_app_logtype, vmpath.app, INFO);
