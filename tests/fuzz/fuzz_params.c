/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: vmpath's option parser (the arguments after `--`,
 * app/vmpath/params.c and guest_params.c). The input is argv: arguments
 * separated by NUL bytes (at most 64). Oracles: ASan/UBSan; the parser
 * returns 0, 1 (--help) or a negative errno with a NUL-terminated message
 * in the caller's buffer, and on success every value is within the range
 * docs/cli.md gives it.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>

#include <vmp_config.h>

#include "params.h"
#include "fuzz_common.h"

#define MAX_ARGS 64

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* --help prints the usage: not what is under test */
	if (freopen("/dev/null", "w", stdout) == NULL)
		return 0;
	return 0;
}

static void
check_config(const struct vmp_app_config *c)
{
	unsigned int i;

	if (c->nb_vhost > VMP_MAX_VHOST || c->nb_ethdev > RTE_DIM(c->ethdev))
		FZ_FAIL("%u vhost ports, %u ethdevs", c->nb_vhost,
			c->nb_ethdev);
	for (i = 0; i < c->nb_vhost; i++)
		if (strnlen(c->vhost[i].path, VMP_PATH_MAX) == VMP_PATH_MAX)
			FZ_FAIL("vhost path %u not terminated", i);
	for (i = 0; i < c->nb_ethdev; i++)
		if (strnlen(c->ethdev[i], sizeof(c->ethdev[i])) ==
		    sizeof(c->ethdev[i]))
			FZ_FAIL("ethdev %u not terminated", i);
	if (c->stats_period > 3600 || c->nb_datapath > 128 || c->nb_dma > 128 ||
	    c->nb_pool > 128 || c->socket >= VMP_MAX_SOCKETS ||
	    c->dma_threshold < 1 || c->dma_threshold > 65536 ||
	    c->nb_mbufs < 1023 || c->nb_mbufs > 1048575 || c->guests > 2 ||
	    c->guest_pkt_len < 60 || c->guest_pkt_len > 1518)
		FZ_FAIL("accepted an out-of-range value");
	if (strnlen(c->guest.dump, sizeof(c->guest.dump)) ==
		    sizeof(c->guest.dump) ||
	    strnlen(c->guest.listen, sizeof(c->guest.listen)) ==
		    sizeof(c->guest.listen) ||
	    strnlen(c->guest.to, sizeof(c->guest.to)) == sizeof(c->guest.to))
		FZ_FAIL("guest string option not terminated");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* heap copies, exactly sized: ASan sees a read past an argument */
	char *argv[MAX_ARGS + 2];
	struct vmp_app_config *cfg = malloc(sizeof(*cfg));
	char err[256];
	size_t off = 0;
	int argc = 0, rc, i;

	if (cfg == NULL)
		return 0;
	argv[argc++] = strdup("vmpath");
	while (off < size && argc <= MAX_ARGS) {
		const uint8_t *z = memchr(data + off, 0, size - off);
		size_t l = z ? (size_t)(z - (data + off)) : size - off;

		argv[argc] = malloc(l + 1);
		memcpy(argv[argc], data + off, l);
		argv[argc][l] = '\0';
		argc++;
		off += l + 1;
	}
	argv[argc] = NULL;
	memset(err, 0x5a, sizeof(err));
	rc = vmp_params_parse(argc, argv, cfg, err, sizeof(err));
	if (rc != 0 && rc != 1 && !(rc < 0 && rc >= -4095))
		FZ_FAIL("vmp_params_parse returned %d", rc);
	if (rc < 0 && (memchr(err, 0, sizeof(err)) == NULL || err[0] == '\0'))
		FZ_FAIL("error %d without a message", rc);
	if (rc == 0)
		check_config(cfg);
	for (i = 0; i < argc; i++)
		free(argv[i]);
	free(cfg);
	return 0;
}
