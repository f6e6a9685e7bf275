/* peapod exec [-i] [-t] NAME [-c CONTAINER] -- CMD...: a process in a running
 * container (ops/exec.h); the exit status is the command's. */
#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"
#include "ops/exec.h"
#include "util/cleanup.h"

struct exec_opts {
	const char *ns, *container;
	bool in, tty;
};

/* The flags of exec; its help (cli_commands.c) shows each. */
const struct option cli_opts_exec[] = {{"container", required_argument, NULL, 'c'},
				       {"namespace", required_argument, NULL, 'n'},
				       {"stdin", no_argument, NULL, 'i'},
				       {"tty", no_argument, NULL, 't'},
				       {NULL, 0, NULL, 0}};
const char cli_shorts_exec[] = "+c:n:it";

/* Options up to the next non-option ("+"): the command's own come after. */
static int exec_options(int argc, char **argv, struct exec_opts *o)
{
	int c;
	while ((c = getopt_long(argc, argv, cli_shorts_exec, cli_opts_exec, NULL)) != -1) {
		if (c == 'c')
			o->container = optarg;
		else if (c == 'n')
			o->ns = optarg;
		else if (c == 'i')
			o->in = true;
		else if (c == 't')
			o->tty = true;
		else
			return -1;
	}
	return 0;
}

static int parse_exec_args(int argc, char **argv, struct exec_opts *o)
{
	optind = 1;
	if (exec_options(argc, argv, o) < 0)
		return -1;
	/* NAME [-c C] -- CMD: options may also follow the name. */
	if (optind >= argc)
		return -1;
	int name = optind++;
	if (exec_options(argc, argv, o) < 0)
		return -1;
	if (optind >= argc)
		return -1;
	o->ns = cli_namespace(o->ns);
	return name;
}

int cmd_exec(int argc, char **argv)
{
	struct exec_opts o = {0};
	int name_idx = parse_exec_args(argc, argv, &o);
	if (name_idx < 0) {
		fprintf(stderr,
			"usage: peapod exec [-i] [-t] NAME [-c CONTAINER] -- CMD [ARG...]\n");
		return CLI_EXIT_USAGE;
	}
	const struct pp_pod_exec_opts eo = {
	    .ns = o.ns,
	    .name = cli_pod_name(argv[name_idx]),
	    .container = o.container,
	    .in = o.in,
	    .tty = o.tty,
	};
	cleanup_error struct pp_error *err = NULL;
	int status = pp_pod_exec(&eo, argv + optind, &err);
	if (err != NULL)
		cli_print_error(err);
	return status < 0 ? CLI_EXIT_FAILURE : status;
}
