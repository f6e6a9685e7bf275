/* Help, as kubectl lays it out, made from the verbs' own option tables
 * (cli_commands.c), and the check of a verb's flags before it runs: one
 * line naming a flag it does not take, instead of each verb's usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "util/cleanup.h"

static const char *const group_titles[CLI_N_GROUPS] = {
    [CLI_GROUP_BASIC] = "Basic Commands:",
    [CLI_GROUP_DEPLOY] = "Deploy Commands:",
    [CLI_GROUP_CLUSTER] = "Cluster Management Commands:",
    [CLI_GROUP_TROUBLESHOOT] = "Troubleshooting and Debugging Commands:",
    [CLI_GROUP_ADVANCED] = "Advanced Commands:",
    [CLI_GROUP_IMAGE] = "Image Commands:",
    [CLI_GROUP_OTHER] = "Other Commands:",
};

/* The order kubectl lists its groups in; Other last. */
static const enum cli_group group_order[] = {
    CLI_GROUP_BASIC,	CLI_GROUP_DEPLOY, CLI_GROUP_CLUSTER, CLI_GROUP_TROUBLESHOOT,
    CLI_GROUP_ADVANCED, CLI_GROUP_IMAGE,  CLI_GROUP_OTHER};

void cli_print_usage(FILE *f)
{
	fprintf(f, "peapod runs Kubernetes pods on this machine, with kubectl's verbs.\n");
	for (size_t g = 0; g < sizeof(group_order) / sizeof(*group_order); g++) {
		bool title = false;
		for (const struct cli_command *c = cli_commands; c->name; c++) {
			if (c->group != group_order[g])
				continue;
			if (!title)
				fprintf(f, "\n%s\n", group_titles[group_order[g]]);
			title = true;
			fprintf(f, "  %-14s %s\n", c->name, c->help);
		}
	}
	fprintf(f, "\nUsage:\n  peapod COMMAND [ARGS...] [options]\n\n"
		   "Use \"peapod COMMAND --help\" for more information about a command.\n");
}

static const struct cli_flag_doc *find_flag(const struct cli_verb_doc *d, const char *name)
{
	for (const struct cli_flag_doc *f = d->flags; f && f->name; f++)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

const struct cli_flag_doc *cli_flag_doc_of(const struct cli_command *c, const char *name)
{
	if (c->doc == NULL || c->doc->flags == NULL)
		return NULL;
	const struct cli_flag_doc *f = find_flag(c->doc, name);
	return f && f->help ? f : NULL;
}

/* The short letter of an option: its val, when the short options have it. */
static char short_of(const struct cli_verb_doc *d, const struct option *o)
{
	if (o->val <= ' ' || o->val > '~' || o->val == ':' || o->val == '+')
		return 0;
	return strchr(d->shorts, o->val) ? (char)o->val : 0;
}

static void print_options(FILE *f, const struct cli_verb_doc *d)
{
	fprintf(f, "\nOptions:\n");
	/* kubectl's layout: the flag, then its meaning on the next line */
	bool first = true;
	for (const struct option *o = d->opts; o->name; o++) {
		const struct cli_flag_doc *fd = find_flag(d, o->name);
		if (fd != NULL && fd->help == NULL)
			continue; /* the shared table's, not this verb's */
		char s = short_of(d, o);
		char left[64];
		bool opt = o->has_arg == optional_argument, arg = fd && fd->arg;
		snprintf(left, sizeof(left), "%c%c%s--%s%s%s%s", s ? '-' : ' ', s ? s : ' ',
			 s ? ", " : "  ", o->name, arg ? (opt ? "[=" : "=") : "",
			 arg ? fd->arg : "", arg && opt ? "]" : "");
		fprintf(f, "%s    %s:\n\t%s\n", first ? "" : "\n", left + (s ? 0 : 4),
			fd ? fd->help : "(no help: see README.md)");
		first = false;
	}
}

int cli_print_verb_help(FILE *f, const char *verb)
{
	const struct cli_command *c = cli_find_command(verb);
	if (c == NULL || c->group == CLI_GROUP_HIDDEN) {
		fprintf(stderr, "peapod: unknown command \"%s\"; see 'peapod --help'\n", verb);
		return CLI_EXIT_USAGE;
	}
	fprintf(f, "%c%s.\n", c->help[0] >= 'a' && c->help[0] <= 'z' ? c->help[0] - 32 : c->help[0],
		c->help + 1);
	const struct cli_verb_doc *d = c->doc;
	if (d == NULL) {
		fprintf(f, "\nUsage:\n  peapod %s [ARGS...]\n", c->name);
		return 0;
	}
	if (d->examples)
		fprintf(f, "\nExamples:\n%s", d->examples);
	if (d->subcommands)
		fprintf(f, "\nSubcommands:\n%s", d->subcommands);
	if (d->opts && d->opts[0].name)
		print_options(f, d);
	fprintf(f, "\nUsage:\n  peapod %s\n", d->usage);
	if (d->subcommands)
		fprintf(f, "\nUse \"peapod %s SUBCOMMAND --help\" for a subcommand's flags.\n",
			c->name);
	return 0;
}

int cmd_help(int argc, char **argv)
{
	if (argc < 2) {
		cli_print_usage(stdout);
		return 0;
	}
	if (argc > 2) { /* help image pull */
		cleanup_free char *both = xasprintf("%s %s", argv[1], argv[2]);
		if (cli_find_command(both) != NULL)
			return cli_print_verb_help(stdout, both);
	}
	return cli_print_verb_help(stdout, argv[1]);
}

/* The verb's options with --help added, for the check; the caller frees. */
static struct option *with_help(const struct option *opts, bool *has_help)
{
	size_t n = 0;
	*has_help = false;
	while (opts[n].name) {
		*has_help = *has_help || strcmp(opts[n].name, "help") == 0;
		n++;
	}
	struct option *all = xmalloc((n + 2) * sizeof(*all));
	memset(all, 0, (n + 2) * sizeof(*all));
	memcpy(all, opts, n * sizeof(*all));
	if (!*has_help)
		all[n++] = (struct option){"help", no_argument, NULL, 'h'};
	return all;
}

static void flag_error(const char *what, const char *flag, const char *verb)
{
	fprintf(stderr, "peapod %s: %s %s; see 'peapod %s --help'\n", verb, what, flag, verb);
}

bool cli_precheck(const struct cli_command *c, int argc, char **argv, int *exit_code)
{
	const struct cli_verb_doc *d = c->doc;
	*exit_code = 0;
	if (d == NULL)
		return false;
	if (d->opts == NULL) { /* subcommands parse their own; -h right after the verb */
		if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0))
			return cli_print_verb_help(stdout, c->name), true;
		return false;
	}
	bool has_help;
	cleanup_free struct option *opts = with_help(d->opts, &has_help);
	/* ":" after any "+": a missing argument is told apart from an unknown flag */
	bool plus = d->shorts[0] == '+';
	cleanup_free char *shorts = xasprintf("%s:%s%s", plus ? "+" : "", d->shorts + plus,
					      strchr(d->shorts, 'h') ? "" : "h");
	/* getopt permutes argv: the verb gets it as given */
	cleanup_free char **copy = xmalloc(((size_t)argc + 1) * sizeof(*copy));
	memcpy(copy, argv, ((size_t)argc + 1) * sizeof(*copy));
	int saved_opterr = opterr, ch, idx;
	opterr = 0;
	optind = 0; /* glibc: start afresh */
	bool stop = false;
	int skipped = 0, pod_word = 0;
	for (;;) {
		idx = -1;
		if (stop)
			break;
		ch = getopt_long(argc, copy, shorts, opts, &idx);
		/* "+" verbs (exec, debug) take flags before and after their
		 * [pod] POD, then the command, whose flags are its own */
		if (ch == -1 && plus && optind < argc && strcmp(copy[optind - 1], "--") != 0 &&
		    skipped < 1 + pod_word) {
			pod_word = skipped == 0 && strcmp(copy[optind], "pod") == 0;
			skipped++;
			optind++;
			continue;
		}
		if (ch == -1)
			break;
		const char *arg = copy[optind - 1];
		/* the flag as typed: an unknown one is the last word read */
		cleanup_free char *flag = NULL;
		if (idx >= 0)
			flag = xasprintf("--%s", opts[idx].name);
		else if (strncmp(arg, "--", 2) == 0)
			flag = xasprintf("%.*s", (int)strcspn(arg, "="), arg);
		char letter[3] = {'-', (char)optopt, '\0'};
		if (ch == '?' || ch == ':') {
			const char *name = flag ? flag : letter;
			flag_error(ch == '?' ? "unknown flag" : "flag needs an argument:", name,
				   c->name);
			*exit_code = CLI_EXIT_FAILURE;
			stop = true;
		} else if (idx >= 0 && strcmp(opts[idx].name, "help") == 0) {
			*exit_code = cli_print_verb_help(stdout, c->name);
			stop = true;
		} else if (idx < 0 && ch == 'h') {
			*exit_code = cli_print_verb_help(stdout, c->name);
			stop = true;
		} else if (idx >= 0 && !cli_flag_doc_of(c, opts[idx].name) &&
			   find_flag(d, opts[idx].name)) {
			flag_error("unknown flag", flag, c->name);
			*exit_code = CLI_EXIT_FAILURE;
			stop = true;
		}
	}
	opterr = saved_opterr;
	optind = 0; /* the verb's getopt starts afresh too */
	return stop;
}
