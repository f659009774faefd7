/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control owner: every port mutation runs here, on the main lcore.
 * Specs are checked here (limits, duplicate paths); the switch then builds
 * the port's state and publishes it (switch_ctl.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_lcore.h>

#include <vmp_config.h>

#include "ctl.h"
#include "switch.h"
#include "vmpath.h"

static bool
on_owner(char *err, size_t errlen)
{
	if (rte_lcore_id() == rte_get_main_lcore())
		return true;
	snprintf(err, errlen, "port changes run on the main lcore only");
	return false;
}

int
vmp_ctl_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6], i;
	char tail;

	if (s == NULL ||
	    sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5], &tail) != 6 ||
	    strlen(s) != 17)
		return -EINVAL;
	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	/* a static entry for a group address would never be looked up */
	return (mac[0] & 1) ? -EINVAL : 0;
}

static int
path_user(const char *path)
{
	unsigned int p;

	for (p = 0; p < vmp_sw.max_ports && vmp_sw.port != NULL; p++)
		if (vmp_sw.port[p] != NULL &&
		    strcmp(vmp_sw.port[p]->spec.path, path) == 0)
			return (int)p;
	return -1;
}

/*
 * An ethdev spec "net_xxxN[,devargs]": only net_ vdevs (another class, say a
 * dma_ or crypto_ vdev, would be created but never be an ethdev), a name
 * that fits the port's and no other port's.
 */
static int
eth_check(const char *spec, char *err, size_t errlen)
{
	size_t len = strcspn(spec, ",");
	unsigned int p;

	if (strncmp(spec, "net_", 4) != 0 || len <= 4 ||
	    len >= sizeof(((struct vmp_sw_port *)0)->eth_name)) {
		snprintf(err, errlen,
			 "ethdev '%.64s' is not a net_ vdev name (net_tap0, "
			 "net_ring0, ...) shorter than 64 bytes",
			 spec);
		return -EINVAL;
	}
	for (p = 0; p < vmp_sw.max_ports && vmp_sw.port != NULL; p++)
		if (vmp_sw.port[p] != NULL && vmp_sw.port[p]->is_eth &&
		    strncmp(vmp_sw.port[p]->eth_name, spec, len) == 0 &&
		    vmp_sw.port[p]->eth_name[len] == '\0') {
			snprintf(err, errlen,
				 "ethdev '%.*s' already in use by port %u",
				 (int)len, spec, p);
			return -EEXIST;
		}
	return 0;
}

int
vmp_ctl_port_add(const struct vmp_port_spec *spec, char *err, size_t errlen)
{
	unsigned int id;
	int rc, user;

	if (!on_owner(err, errlen))
		return -EPERM;
	if (vmp_sw.nb_ports >= vmp_sw.max_ports) {
		snprintf(err, errlen, "at most %u ports (--max-ports)",
			 vmp_sw.max_ports);
		return -ENOSPC;
	}
	if (!spec->is_eth) {
		if (spec->vhost.path[0] != '/') {
			snprintf(err, errlen, "path '%s' is not absolute",
				 spec->vhost.path);
			return -EINVAL;
		}
		if (spec->vhost.queues < 1 ||
		    spec->vhost.queues > VMP_VNET_MAX_QP) {
			snprintf(err, errlen, "queues %u: must be 1..%u",
				 spec->vhost.queues, VMP_VNET_MAX_QP);
			return -EINVAL;
		}
		user = path_user(spec->vhost.path);
		if (user >= 0) {
			snprintf(err, errlen,
				 "path '%s' already in use by "
				 "port %d",
				 spec->vhost.path, user);
			return -EEXIST;
		}
	} else {
		rc = eth_check(spec->ethdev, err, errlen);
		if (rc < 0)
			return rc;
	}
	for (id = 0; vmp_sw.port[id] != NULL; id++)
		;
	rc = __vmp_switch_port_add(id, &spec->vhost,
				   spec->is_eth ? spec->ethdev : NULL, err,
				   errlen);
	if (rc < 0)
		return rc;
	if (spec->has_mac)
		__vmp_switch_mac_add(spec->mac, id);
	VMP_LOG(INFO, "vmpath: port %u added (%s)", id,
		spec->is_eth ? spec->ethdev : spec->vhost.path);
	return (int)id;
}

int
vmp_ctl_port_del(unsigned int id, char *err, size_t errlen)
{
	int rc;

	if (!on_owner(err, errlen))
		return -EPERM;
	rc = __vmp_switch_port_del(id, err, errlen);
	if (rc == 0)
		VMP_LOG(INFO, "vmpath: port %u removed", id);
	return rc;
}

int
vmp_ctl_ethdev_del(unsigned int id, char *err, size_t errlen)
{
	const struct vmp_sw_port *sp =
		vmp_sw.port != NULL && id < vmp_sw.max_ports ? vmp_sw.port[id]
							     : NULL;

	if (sp != NULL && !sp->is_eth) {
		snprintf(err, errlen,
			 "port %u is a vhost-user port, not an ethdev", id);
		return -EINVAL;
	}
	return vmp_ctl_port_del(id, err, errlen);
}

/*
 * dma_swdma devices turn a DMA lcore into a service lcore, which must happen
 * before the roles launch: create every datapath lcore's one now, so a port
 * added at run time with dma sw finds it.
 */
static void
dma_precreate(void)
{
#if VMP_HAS_DMA_DRIVER
	unsigned int k;

	if (vmp_app.cfg.nb_dma == 0)
		return;
	for (k = 0; k < vmp_sw.nb_dp; k++)
		__vmp_switch_dma_get(k, VMP_DMA_SW, vmp_sw.socket);
#endif
}

int
vmp_ctl_startup(char *err, size_t errlen)
{
	const struct vmp_app_config *c = &vmp_app.cfg;
	struct vmp_port_spec spec;
	unsigned int i;
	int rc;

	for (i = 0; i < c->nb_vhost; i++) {
		memset(&spec, 0, sizeof(spec));
		spec.vhost = c->vhost[i];
		rc = vmp_ctl_port_add(&spec, err, errlen);
		if (rc < 0)
			return rc;
	}
	for (i = 0; i < c->nb_ethdev; i++) {
		memset(&spec, 0, sizeof(spec));
		spec.is_eth = true;
		snprintf(spec.ethdev, sizeof(spec.ethdev), "%s", c->ethdev[i]);
		rc = vmp_ctl_port_add(&spec, err, errlen);
		if (rc < 0)
			return rc;
	}
	if (vmp_sw.nb_dp > 0)
		dma_precreate();
	return 0;
}
