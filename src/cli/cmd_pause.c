/* peapod pause / unpause POD... (podman pod pause / unpause). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "ops/ops.h"
#include "util/cleanup.h"

/* The flags of pause and unpause; its help (cli_commands.c) shows each. */
const struct option cli_opts_pause[] = {{"namespace", required_argument, NULL, 'n'},
					{NULL, 0, NULL, 0}};
const char cli_shorts_pause[] = "n:";

static int pause_verb(int argc, char **argv, bool pause)
{
	const char *ns = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, cli_shorts_pause, cli_opts_pause, NULL)) != -1) {
		if (c == 'n')
			ns = optarg;
		else
			return CLI_EXIT_USAGE;
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: peapod %s POD... [-n NAMESPACE]\n", argv[0]);
		return CLI_EXIT_USAGE;
	}
	int ret = 0;
	for (int i = optind; i < argc; i++) {
		cleanup_error struct pp_error *err = NULL;
		const char *name = cli_pod_name(argv[i]);
		if (pp_pod_freeze(cli_namespace(ns), name, pause, &err) < 0) {
			cli_print_error(err);
			ret = CLI_EXIT_FAILURE;
			continue;
		}
		printf("pod/%s %s\n", name, pause ? "paused" : "unpaused");
	}
	return ret;
}

int cmd_pause(int argc, char **argv)
{
	return pause_verb(argc, argv, true);
}

int cmd_unpause(int argc, char **argv)
{
	return pause_verb(argc, argv, false);
}
