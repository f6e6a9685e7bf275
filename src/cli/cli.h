#ifndef PEAPOD_CLI_H
#define PEAPOD_CLI_H

#include "util/error.h"

/* Exit codes: 0 success, 1 failure, 2 bad manifest or bad usage. */
#define CLI_EXIT_FAILURE 1
#define CLI_EXIT_USAGE 2

struct cli_command {
	const char *name;
	int (*fn)(int argc, char **argv); /* argv[0] is the verb */
	const char *help;
};

int cmd_run(int argc, char **argv);
int cmd_image(int argc, char **argv);

/* Prints "peapod: <message>" for err to stderr. */
void cli_print_error(const struct pp_error *err);

#endif
