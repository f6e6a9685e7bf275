/* peapod wait NAME --for=condition=Ready|delete|jsonpath='{.status.phase}'=Running
 * [--timeout 30s]: kubectl wait (ops/wait.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "ops/ops.h"
#include "ops/wait.h"
#include "util/cleanup.h"

#define DEFAULT_TIMEOUT_S 30

/* --for=delete|condition=TYPE[=VALUE]|jsonpath='{.path}'=VALUE; w's strings
 * point into s, *buf or static text. */
static int parse_for(const char *s, struct pp_wait_for *w, char **buf)
{
	if (strcmp(s, "delete") == 0) {
		w->kind = PP_WAIT_DELETE;
		return 0;
	}
	if (strncmp(s, "condition=", 10) == 0) {
		w->kind = PP_WAIT_CONDITION;
		*buf = xstrdup(s + 10);
		char *eq = strchr(*buf, '=');
		w->what = *buf;
		w->value = eq ? eq + 1 : "True";
		if (eq)
			*eq = '\0';
		return 0;
	}
	if (strncmp(s, "jsonpath=", 9) == 0) {
		const char *p = s + 9;
		const char *close = strchr(p, '}');
		if (*p != '{' || close == NULL || close[1] != '=')
			return -1;
		w->kind = PP_WAIT_JSONPATH;
		*buf = strndup(p + 1, (size_t)(close - p - 1));
		w->what = *buf;
		w->value = close + 2;
		return 0;
	}
	return -1;
}

static int parse_timeout(const char *s, int64_t *ms)
{
	char *end = NULL;
	double v = strtod(s, &end);
	double mult = *end == '\0' || strcmp(end, "s") == 0 ? 1000
		      : strcmp(end, "ms") == 0		    ? 1
		      : strcmp(end, "m") == 0		    ? 60000
		      : strcmp(end, "h") == 0		    ? 3600000
							    : -1;
	if (end == s || v < 0 || mult < 0)
		return -1;
	*ms = (int64_t)(v * mult);
	return 0;
}

static int wait_one(const char *ns, const char *name, const struct pp_wait_for *w,
		    int64_t timeout_ms)
{
	cleanup_error struct pp_error *err = NULL;
	if (pp_pod_wait(ns, name, w, timeout_ms, &err) < 0) {
		cli_print_error(err);
		return CLI_EXIT_FAILURE;
	}
	printf("pod/%s %s\n", name, w->kind == PP_WAIT_DELETE ? "deleted" : "condition met");
	fflush(stdout);
	return 0;
}

/* The flags of wait; its help (cli_commands.c) shows each. */
const struct option cli_opts_wait[] = {{"for", required_argument, NULL, 'F'},
				       {"timeout", required_argument, NULL, 'T'},
				       {"namespace", required_argument, NULL, 'n'},
				       {"selector", required_argument, NULL, 'l'},
				       {"field-selector", required_argument, NULL, 'S'},
				       {"all", no_argument, NULL, 'a'},
				       {NULL, 0, NULL, 0}};
const char cli_shorts_wait[] = "n:l:";

/* wait -l: each pod picked, in turn, as kubectl (each with the timeout). */
static int wait_selected(const struct cli_select *sel, int n_names, const struct pp_wait_for *w,
			 int64_t timeout_ms)
{
	struct pp_pod_view *views = NULL;
	size_t n = 0;
	int status = cli_select_pods(sel, n_names, &views, &n);
	if (status != 0)
		return status;
	if (n == 0) {
		fprintf(stderr, "error: no matching resources found\n");
		status = CLI_EXIT_FAILURE;
	}
	for (size_t i = 0; i < n; i++)
		if (wait_one(views[i].ns, views[i].name, w, timeout_ms) != 0)
			status = CLI_EXIT_FAILURE;
	pp_pod_views_free(views, n);
	return status;
}

int cmd_wait(int argc, char **argv)
{
	struct cli_select sel = {0};
	struct pp_wait_for w = {0};
	/* Before the first goto: what the cleanups free is set. */
	cleanup_free char *buf = NULL;
	int64_t timeout_ms = DEFAULT_TIMEOUT_S * 1000;
	const char *ns = NULL, *for_arg = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, cli_shorts_wait, cli_opts_wait, NULL)) != -1) {
		if (c == 'l')
			sel.labels = optarg;
		else if (c == 'S')
			sel.fields = optarg;
		else if (c == 'a')
			sel.labels = sel.labels ? sel.labels : "";
		else if (c == 'F')
			for_arg = optarg;
		else if (c == 'T' && parse_timeout(optarg, &timeout_ms) == 0)
			continue;
		else if (c == 'n')
			ns = optarg;
		else
			goto usage;
	}
	if (optind < argc &&
	    (strcmp(argv[optind], "pod") == 0 || strcmp(argv[optind], "pods") == 0))
		optind++;
	if (for_arg == NULL || parse_for(for_arg, &w, &buf) < 0)
		goto usage;
	sel.ns = ns;
	if (cli_select_given(&sel))
		return wait_selected(&sel, argc - optind, &w, timeout_ms);
	if (optind + 1 != argc)
		goto usage;
	/* job/NAME: its conditions (complete, failed) or its deletion */
	const char *slash = strchr(argv[optind], '/');
	if (slash != NULL &&
	    (strncmp(argv[optind], "job/", 4) == 0 || strncmp(argv[optind], "jobs/", 5) == 0 ||
	     strncmp(argv[optind], "job.batch/", 10) == 0))
		return cli_wait_job(cli_namespace(ns), slash + 1, &w, timeout_ms);
	return wait_one(cli_namespace(ns), cli_pod_name(argv[optind]), &w, timeout_ms);
usage:
	fprintf(stderr, "usage: peapod wait NAME|-l SELECTOR --for=condition=Ready|delete|"
			"jsonpath='{.path}'=VALUE [--timeout 30s] [--field-selector F]\n");
	return CLI_EXIT_USAGE;
}
