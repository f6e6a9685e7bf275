/* Helpers shared by the CLI verbs. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

void cli_print_error(const struct pp_error *err)
{
	if (err == NULL || err->msg == NULL)
		fprintf(stderr, "peapod: unknown error\n");
	else if (err->status != 0 && !(err->status == ENOENT && strstr(err->msg, " not found")))
		fprintf(stderr, "peapod: %s: %s\n", err->msg, strerror(err->status));
	else
		fprintf(stderr, "peapod: %s\n", err->msg);
}
