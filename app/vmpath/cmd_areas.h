/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VMPATH_CMD_AREAS_H
#define VMPATH_CMD_AREAS_H

#include <cmdline.h>
#include <cmdline_parse.h>

/* One NULL-terminated command table per area, one file each. */
extern cmdline_parse_inst_t *vmp_cmds_general[]; /* cmd_general.c */
extern cmdline_parse_inst_t *vmp_cmds_show[];    /* cmd_show.c */
extern cmdline_parse_inst_t *vmp_cmds_ports[];   /* cmd_ports.c */
extern cmdline_parse_inst_t *vmp_cmds_migrate[]; /* cmd_migrate.c */
extern cmdline_parse_inst_t *vmp_cmds_idle[];    /* cmd_idle.c */

/** Print every command's help string (cmdline.c). */
void vmp_cmds_help(struct cmdline *cl);

#endif /* VMPATH_CMD_AREAS_H */
