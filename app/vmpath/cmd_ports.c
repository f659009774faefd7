/* SPDX-License-Identifier: BSD-3-Clause */
/* Commands: show ports | show port stats N | port add PATH [OPTS] |
 * port del N. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <cmdline_parse_num.h>
#include <cmdline_parse_string.h>
#include <rte_ethdev.h>

#include "cmd_areas.h"
#include "ctl.h"
#include "switch.h"
#include "vmpath.h"

/* "vid[*]" per frontend connection, comma separated: * marks the one whose
 * rings are polled, ? one without a memory table, - not started yet. */
static void
conns_str(const struct vmp_vnet_port_info *in, char *buf, size_t len)
{
	unsigned int i;
	size_t o = 0;

	buf[0] = '\0';
	for (i = 0; i < in->nb_conns && o < len; i++) {
		const struct vmp_vnet_conn_info *c = &in->conn[i];
		int n = snprintf(buf + o, len - o, "%s%d%s", i ? "," : "",
				 c->vid,
				 c->polled	 ? "*"
				 : !c->mem_valid ? "?"
				 : !c->running	 ? "-"
						 : "");

		if (n < 0)
			break;
		o += (size_t)n;
	}
	if (in->nb_conns == 0)
		snprintf(buf, len, "none");
}

void
vmp_show_ports(FILE *f)
{
	unsigned int p;

	fprintf(f, "%4s %-28s %-6s %3s %-8s %-9s %10s %5s %8s %s\n", "port",
		"path", "mode", "qp", "dma", "state", "features", "log",
		"connects", "conns");
	for (p = 0; p < vmp_sw.max_ports; p++) {
		const struct vmp_sw_port *sp = vmp_switch_port(p);
		struct vmp_vnet_port_info in;
		char conns[64];

		if (sp == NULL)
			continue;
		if (sp->is_eth) {
			struct rte_eth_link link;

			memset(&link, 0, sizeof(link));
			rte_eth_link_get_nowait(sp->eth_port, &link);
			fprintf(f, "%4u %-28s %-6s %3u %-8s %-9s\n", p,
				sp->spec.path, "ethdev", 1, "none",
				link.link_status ? "up" : "down");
			continue;
		}
		if (vmp_vnet_port_info_get(sp->vp, &in) < 0)
			continue;
		conns_str(&in, conns, sizeof(conns));
		fprintf(f,
			"%4u %-28s %-6s %3u %-8s %-9s %#10" PRIx64
			" %5s %8" PRIu64 " %s%s\n",
			p, in.path, in.client ? "client" : "server", in.nb_qp,
			vmp_dma_kind_name(sp->dma),
			in.connected ? "up" : "down", in.features,
			in.log_on ? "on" : "off", in.connects, conns,
			in.broken ? " BROKEN-QUEUE" : "");
		/* what a live migration leaves behind (docs/migration.md) */
		fprintf(f,
			"%4s migration: pages logged %" PRIu64
			", copies drained at stop %" PRIu64
			", rarp sent %" PRIu64 "\n",
			"", in.log_pages, in.drained, in.rarp_sent);
		fprintf(f, "%4s mtu %u (guest %u)\n", "", in.mtu, in.guest_mtu);
	}
	fflush(f);
}

int
vmp_show_port_stats(FILE *f, unsigned int p)
{
	const struct vmp_sw_port *sp;
	unsigned int v;

	sp = vmp_switch_port(p);
	if (sp == NULL) {
		fprintf(f, "no port %u (have %u)\n", p, vmp_sw.nb_ports);
		return -1;
	}
	fprintf(f, "port %u %s\n", p, sp->spec.path);
	if (sp->is_eth) {
		struct vmp_sw_port_counters c;

		vmp_switch_port_counters(p, &c);
		fprintf(f,
			"ethdev: rx %" PRIu64 " tx %" PRIu64
			" rx_nombuf %" PRIu64 "\n",
			c.rx_pkts, c.tx_pkts, c.no_mbuf);
		return 0;
	}
	fprintf(f,
		"%6s %-8s %12s %14s %8s %8s %8s %8s %10s %10s %8s %8s %8s "
		"%10s\n",
		"vring", "dir", "packets", "bytes", "no_buf", "no_mbuf", "bad",
		"too_long", "dma_copies", "cpu_copies", "dma_err", "inflight",
		"notify", "notify_sup");
	for (v = 0; v < 2u * sp->nb_qp; v++) {
		struct vmp_vnet_vq_stats st;

		if (vmp_vnet_vq_stats_get(sp->vp, (uint16_t)v, &st) < 0)
			continue;
		fprintf(f,
			"%6u %-8s %12" PRIu64 " %14" PRIu64 " %8" PRIu64
			" %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %10" PRIu64
			" %10" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64
			" %10" PRIu64 "\n",
			v, (v & 1) ? "from-vm" : "to-vm", st.packets, st.bytes,
			st.no_buf, st.no_mbuf, st.bad_chain, st.too_long,
			st.dma_copies, st.cpu_copies, st.dma_errors,
			st.inflight, st.notify, st.notify_suppressed);
	}
	fflush(f);
	return 0;
}

struct cmd_ports_result {
	cmdline_fixed_string_t show;
	cmdline_fixed_string_t ports;
};

static void
cmd_ports_parsed(void *parsed __rte_unused, struct cmdline *cl __rte_unused,
		 void *data __rte_unused)
{
	vmp_show_ports(stdout);
}

static cmdline_parse_token_string_t cmd_ports_show =
	TOKEN_STRING_INITIALIZER(struct cmd_ports_result, show, "show");
static cmdline_parse_token_string_t cmd_ports_ports =
	TOKEN_STRING_INITIALIZER(struct cmd_ports_result, ports, "ports");

static cmdline_parse_inst_t cmd_ports = {
	.f = cmd_ports_parsed,
	.help_str = "show ports: vhost-user ports, state, features",
	.tokens = {(void *)&cmd_ports_show, (void *)&cmd_ports_ports, NULL},
};

struct cmd_pstats_result {
	cmdline_fixed_string_t show;
	cmdline_fixed_string_t port;
	cmdline_fixed_string_t stats;
	uint16_t id;
};

static void
cmd_pstats_parsed(void *parsed, struct cmdline *cl __rte_unused,
		  void *data __rte_unused)
{
	struct cmd_pstats_result *res = parsed;

	vmp_show_port_stats(stdout, res->id);
}

static cmdline_parse_token_string_t cmd_pstats_show =
	TOKEN_STRING_INITIALIZER(struct cmd_pstats_result, show, "show");
static cmdline_parse_token_string_t cmd_pstats_port =
	TOKEN_STRING_INITIALIZER(struct cmd_pstats_result, port, "port");
static cmdline_parse_token_string_t cmd_pstats_stats =
	TOKEN_STRING_INITIALIZER(struct cmd_pstats_result, stats, "stats");
static cmdline_parse_token_num_t cmd_pstats_id =
	TOKEN_NUM_INITIALIZER(struct cmd_pstats_result, id, RTE_UINT16);

static cmdline_parse_inst_t cmd_pstats = {
	.f = cmd_pstats_parsed,
	.help_str = "show port stats N: per-vring counters of port N",
	.tokens = {(void *)&cmd_pstats_show, (void *)&cmd_pstats_port,
		   (void *)&cmd_pstats_stats, (void *)&cmd_pstats_id, NULL},
};

/* port add PATH [client,queues=N,dma=K,...]: the --vhost keys, through
 * the control API like the control socket's port_add. */
struct cmd_padd_result {
	cmdline_fixed_string_t port;
	cmdline_fixed_string_t add;
	cmdline_fixed_string_t path;
	cmdline_fixed_string_t opts;
};

/* @what ("port add") refused with its reason, or the new port's id. */
static void
add_report(struct cmdline *cl, const char *what,
	   const struct vmp_port_spec *spec)
{
	char err[256];
	int rc = vmp_ctl_port_add(spec, err, sizeof(err));

	if (rc < 0)
		cmdline_printf(cl, "%s refused: %s\n", what, err);
	else
		cmdline_printf(cl, "port %d\n", rc);
}

static void
del_report(struct cmdline *cl, const char *what, unsigned int id,
	   int (*del)(unsigned int id, char *err, size_t errlen))
{
	char err[256];

	if (del(id, err, sizeof(err)) < 0)
		cmdline_printf(cl, "%s refused: %s\n", what, err);
	else
		cmdline_printf(cl, "port %u removed\n", id);
}

static void
cmd_padd_parsed(void *parsed, struct cmdline *cl, void *data)
{
	struct cmd_padd_result *res = parsed;
	struct vmp_port_spec spec;
	char val[512], err[256];

	memset(&spec, 0, sizeof(spec));
	snprintf(val, sizeof(val), "%s%s%s", res->path, data ? "," : "",
		 data ? res->opts : "");
	if (vmp_params_parse_vhost(val, &spec.vhost, err, sizeof(err)) < 0)
		cmdline_printf(cl, "port add refused: %s\n", err);
	else
		add_report(cl, "port add", &spec);
}

static cmdline_parse_token_string_t cmd_padd_port =
	TOKEN_STRING_INITIALIZER(struct cmd_padd_result, port, "port");
static cmdline_parse_token_string_t cmd_padd_add =
	TOKEN_STRING_INITIALIZER(struct cmd_padd_result, add, "add");
static cmdline_parse_token_string_t cmd_padd_path =
	TOKEN_STRING_INITIALIZER(struct cmd_padd_result, path, NULL);
static cmdline_parse_token_string_t cmd_padd_opts =
	TOKEN_STRING_INITIALIZER(struct cmd_padd_result, opts, NULL);

static cmdline_parse_inst_t cmd_padd = {
	.f = cmd_padd_parsed,
	.help_str = "port add PATH: a vhost-user server port at PATH",
	.tokens = {(void *)&cmd_padd_port, (void *)&cmd_padd_add,
		   (void *)&cmd_padd_path, NULL},
};

static cmdline_parse_inst_t cmd_padd_o = {
	.f = cmd_padd_parsed,
	.data = (void *)1, /* with OPTS */
	.help_str = "port add PATH OPTS: OPTS as in --vhost, e.g. "
		    "client,queues=2,dma=sw",
	.tokens = {(void *)&cmd_padd_port, (void *)&cmd_padd_add,
		   (void *)&cmd_padd_path, (void *)&cmd_padd_opts, NULL},
};

struct cmd_pdel_result {
	cmdline_fixed_string_t port;
	cmdline_fixed_string_t del;
	uint16_t id;
};

static void
cmd_pdel_parsed(void *parsed, struct cmdline *cl, void *data __rte_unused)
{
	struct cmd_pdel_result *res = parsed;

	del_report(cl, "port del", res->id, vmp_ctl_port_del);
}

static cmdline_parse_token_string_t cmd_pdel_port =
	TOKEN_STRING_INITIALIZER(struct cmd_pdel_result, port, "port");
static cmdline_parse_token_string_t cmd_pdel_del =
	TOKEN_STRING_INITIALIZER(struct cmd_pdel_result, del, "del");
static cmdline_parse_token_num_t cmd_pdel_id =
	TOKEN_NUM_INITIALIZER(struct cmd_pdel_result, id, RTE_UINT16);

static cmdline_parse_inst_t cmd_pdel = {
	.f = cmd_pdel_parsed,
	.help_str = "port del N: remove port N",
	.tokens = {(void *)&cmd_pdel_port, (void *)&cmd_pdel_del,
		   (void *)&cmd_pdel_id, NULL},
};

/* ethdev add NAME[,DEVARGS] / ethdev del N: as --ethdev, through the
 * control API like the control socket's ethdev_add / ethdev_del. */
struct cmd_eth_result {
	cmdline_fixed_string_t ethdev;
	cmdline_fixed_string_t verb;
	cmdline_fixed_string_t spec;
	uint16_t id;
};

static void
cmd_eth_parsed(void *parsed, struct cmdline *cl, void *data)
{
	struct cmd_eth_result *res = parsed;
	struct vmp_port_spec spec;

	if (data == NULL) {
		del_report(cl, "ethdev del", res->id, vmp_ctl_ethdev_del);
		return;
	}
	memset(&spec, 0, sizeof(spec));
	spec.is_eth = true;
	snprintf(spec.ethdev, sizeof(spec.ethdev), "%s", res->spec);
	add_report(cl, "ethdev add", &spec);
}

static cmdline_parse_token_string_t cmd_eth_ethdev =
	TOKEN_STRING_INITIALIZER(struct cmd_eth_result, ethdev, "ethdev");
static cmdline_parse_token_string_t cmd_eth_add =
	TOKEN_STRING_INITIALIZER(struct cmd_eth_result, verb, "add");
static cmdline_parse_token_string_t cmd_eth_del =
	TOKEN_STRING_INITIALIZER(struct cmd_eth_result, verb, "del");
static cmdline_parse_token_string_t cmd_eth_spec =
	TOKEN_STRING_INITIALIZER(struct cmd_eth_result, spec, NULL);
static cmdline_parse_token_num_t cmd_eth_id =
	TOKEN_NUM_INITIALIZER(struct cmd_eth_result, id, RTE_UINT16);

static cmdline_parse_inst_t cmd_eth_a = {
	.f = cmd_eth_parsed,
	.data = (void *)1, /* add */
	.help_str = "ethdev add NAME[,DEVARGS]: a vdev ethdev port, e.g. "
		    "net_tap0,iface=tap7",
	.tokens = {(void *)&cmd_eth_ethdev, (void *)&cmd_eth_add,
		   (void *)&cmd_eth_spec, NULL},
};

static cmdline_parse_inst_t cmd_eth_d = {
	.f = cmd_eth_parsed,
	.help_str = "ethdev del N: remove ethdev port N",
	.tokens = {(void *)&cmd_eth_ethdev, (void *)&cmd_eth_del,
		   (void *)&cmd_eth_id, NULL},
};

cmdline_parse_inst_t *vmp_cmds_ports[] = {
	&cmd_ports,
	&cmd_pstats,
	&cmd_padd,
	&cmd_padd_o,
	&cmd_pdel,
	&cmd_eth_a,
	&cmd_eth_d,
	NULL,
};
