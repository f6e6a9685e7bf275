/* libFuzzer entry for the check of a verb's flags before it runs
 * (src/cli/cli_help.c): any command line must give help, one error line or
 * a go-ahead, never a crash, a hang or a leak. The input's NUL-separated
 * words are the arguments after the verb; the first byte picks one of two
 * verbs shaped as peapod's: one whose getopt stops at its POD (exec,
 * debug: "+") and one that permutes (get), each with a flag its table has
 * but its help hides. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static int never_run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	abort(); /* the check runs verbs never */
}

static const struct option plus_opts[] = {{"container", required_argument, NULL, 'c'},
					  {"stdin", no_argument, NULL, 'i'},
					  {"tail", required_argument, NULL, 'T'},
					  {"help", no_argument, NULL, 'h'},
					  {NULL, 0, NULL, 0}};
static const struct cli_flag_doc plus_flags[] = {{"container", "NAME", "the container"},
						 {"stdin", NULL, "our stdin"},
						 {"tail", NULL, NULL},
						 {"help", NULL, "this help"},
						 {NULL, NULL, NULL}};
static const struct cli_verb_doc plus_doc = {
    "plus POD -- CMD", "  peapod plus web -- sh\n", plus_opts, "+c:ih", plus_flags, NULL};

static const struct option perm_opts[] = {{"output", required_argument, NULL, 'o'},
					  {"watch", no_argument, NULL, 'w'},
					  {"tls-verify", optional_argument, NULL, 'V'},
					  {"hidden", no_argument, NULL, 'H'},
					  {NULL, 0, NULL, 0}};
static const struct cli_flag_doc perm_flags[] = {{"output", "FORMAT", "the format"},
						 {"watch", NULL, "watch"},
						 {"tls-verify", NULL, "verify"},
						 {"hidden", NULL, NULL},
						 {NULL, NULL, NULL}};
static const struct cli_verb_doc perm_doc = {
    "perm KIND", "  peapod perm pods\n", perm_opts, "o:wH", perm_flags, NULL};

const struct cli_command cli_commands[] = {
    {"plus", never_run, "a verb stopping at its POD", CLI_GROUP_BASIC, &plus_doc},
    {"perm", never_run, "a verb permuting its arguments", CLI_GROUP_BASIC, &perm_doc},
    {NULL, NULL, NULL, CLI_GROUP_OTHER, NULL},
};

const struct cli_command *cli_find_command(const char *name)
{
	for (const struct cli_command *c = cli_commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* help and errors are printed: to nowhere (the FILEs, not fd 2, where
	 * the sanitizers' and libFuzzer's own reports still go) */
	FILE *null = fopen("/dev/null", "we");
	if (null == NULL)
		abort();
	stdout = null;
	stderr = null;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 4096)
		return 0;
	const struct cli_command *c = &cli_commands[data[0] & 1];
	char *buf = malloc(size); /* the words, NUL-terminated */
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';
	char **argv = malloc((size + 2) * sizeof(*argv));
	int argc = 0;
	argv[argc++] = (char *)c->name;
	for (size_t i = 0; i < size - 1; i += strlen(buf + i) + 1)
		argv[argc++] = buf + i;
	argv[argc] = NULL;
	int code = -1;
	bool stop = cli_precheck(c, argc, argv, &code);
	if (stop ? (code != 0 && code != CLI_EXIT_FAILURE) : code != 0)
		abort();
	free(argv);
	free(buf);
	return 0;
}
