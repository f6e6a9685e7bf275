/* peapod CLI: a table of verbs (cli_commands.c); each verb parses its
 * flags, makes one library call and prints the result. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "util/settings.h"
#include "util/trace.h"

int main(int argc, char **argv)
{
	/* Once, before anything reads them; a supervisor, forked later,
	 * inherits them. */
	cleanup_error struct pp_error *err = NULL;
	if (pp_settings_load(&err) < 0) {
		cli_print_error(err);
		return CLI_EXIT_USAGE;
	}
	if (argc < 2) {
		cli_print_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
		return cmd_help(1, argv + 1);
	if (strcmp(argv[1], "--version") == 0)
		return cmd_version(argc - 1, argv + 1);
	const struct cli_command *c = cli_find_command(argv[1]);
	if (c == NULL) {
		fprintf(stderr, "peapod: unknown command \"%s\"; see 'peapod --help'\n", argv[1]);
		return CLI_EXIT_USAGE;
	}
	/* a subcommand's flags checked as a verb's ("image pull": from "pull" on) */
	const struct cli_command *sub = cli_find_subcommand(c, argc - 1, argv + 1);
	int r;
	if (sub ? cli_precheck(sub, argc - 2, argv + 2, &r)
		: cli_precheck(c, argc - 1, argv + 1, &r))
		return r;
	pp_trace("cli %s", c->name);
	r = c->fn(argc - 1, argv + 1);
	pp_trace("cli %s exit", c->name);
	return r;
}
