/* peapod run -f FILE: the pod in the foreground (ops/run.h), its output,
 * its warnings and how it ended printed. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cli/cli.h"
#include "ops/objects.h"
#include "ops/run.h"
#include "manifest/manifest.h"
#include "util/cleanup.h"

struct run_opts {
	const char *file;
	const char *root;
	const char *network;
	bool verbose;
	bool no_prefix;
};

static int print_record(void *ctx, const char *container, const struct pp_log_record *rec)
{
	const struct run_opts *o = ctx;
	FILE *f = rec->stream == PP_LOG_STDOUT ? stdout : stderr;
	if (!o->no_prefix)
		fprintf(f, "[%s] ", container);
	fwrite(rec->text, 1, rec->len, f);
	fputc('\n', f);
	fflush(f);
	return 0;
}

/* The flags of run; its help (cli_commands.c) shows each. */
const struct option cli_opts_run[] = {
    {"filename", required_argument, NULL, 'f'},
    {"root", required_argument, NULL, 'r'},
    {"verbose", no_argument, NULL, 'v'},
    {"no-prefix", no_argument, NULL, 'P'},
    {"help", no_argument, NULL, 'h'},
    {"network", required_argument, NULL, 'N'},
    {NULL, 0, NULL, 0},
};
const char cli_shorts_run[] = "f:vh";

static void usage(FILE *f)
{
	fprintf(f, "usage: peapod run -f FILE [--root DIR] [--network NAME|none] [--verbose] "
		   "[--no-prefix]\n"
		   "  Runs the Kubernetes v1 Pod in FILE (- for standard input) in the foreground\n"
		   "  until it completes; Ctrl-C stops it (a second Ctrl-C kills it at once).\n"
		   "  Exit status: 0 when the pod Succeeded, the first failed container's exit\n"
		   "  code (or 1) when it Failed, 128+N when stopped by signal N, 2 for a bad "
		   "manifest.\n");
}

static int parse_args(int argc, char **argv, struct run_opts *o)
{
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, cli_shorts_run, cli_opts_run, NULL)) != -1) {
		switch (c) {
		case 'f':
			o->file = optarg;
			break;
		case 'r':
			o->root = optarg;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'P':
			o->no_prefix = true;
			break;
		case 'N':
			o->network = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (o->file == NULL || optind != argc) {
		if (o->file == NULL)
			fprintf(stderr, "peapod run: -f FILE is required\n");
		else
			fprintf(stderr, "peapod run: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return -1;
	}
	return 0;
}

/* The input's one Pod, its ConfigMaps and Secrets applied. */
static int cli_run_load(const char *file, struct pp_pod **spec, char **text, size_t *len)
{
	cleanup_error struct pp_error *err = NULL;
	struct pp_manifest_set set = {0};
	char *files[] = {(char *)file};
	if (cli_load_set(files, 1, false, &set) < 0)
		return -1;
	size_t pods = 0, at = 0;
	const struct pp_manifest_item *second = NULL;
	for (size_t i = 0; i < set.n; i++)
		if (set.items[i].pod != NULL && pods++ == 0)
			at = i;
		else if (set.items[i].pod != NULL && second == NULL)
			second = &set.items[i];
	int r = -1;
	if (pods == 0)
		fprintf(stderr, "peapod: %s: no Pod to run\n", file);
	else if (second != NULL)
		fprintf(stderr,
			"peapod: %s:%d:%d: a second Pod: run takes one (apply takes many)\n",
			second->pod->source, second->pos.line, second->pos.col);
	else if (pp_set_prepare(&set, NULL, &err) < 0)
		cli_print_error(err);
	else if (pp_set_apply_objects(&set, cli_report, stderr) == 0)
		r = 0;
	if (r == 0) {
		*spec = steal_ptr(&set.items[at].pod);
		*text = steal_ptr(&set.items[at].text);
		*len = set.items[at].text_len;
	}
	pp_manifest_set_free(&set);
	return r;
}

/* An image pull's progress: shown while the pod waits for it (an image
 * already present says nothing). */
static bool pull_progress(const struct pp_pod_event *e)
{
	static const char *const shown[] = {"Pulling", "PullProgress", "BackOff"};
	if (e->reason == NULL || e->message == NULL)
		return false;
	for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]); i++)
		if (strcmp(e->reason, shown[i]) == 0)
			return true;
	return strcmp(e->reason, "Pulled") == 0 && strncmp(e->message, "Successfully", 12) == 0;
}

static void print_event(void *ctx, const struct pp_pod_event *e)
{
	const struct run_opts *o = ctx;
	bool info = e->level == NULL || strcmp(e->level, "info") == 0;
	if (e->message != NULL && (!info || o->verbose || pull_progress(e)))
		fprintf(stderr, "peapod: %s%s\n",
			e->level && strcmp(e->level, "error") == 0 ? "error: " : "", e->message);
}

/* The exit status, from how the pod ended. */
static int print_outcome(const char *name, const struct run_opts *o,
			 const struct pp_run_outcome *res)
{
	if (!res->over)
		return CLI_EXIT_FAILURE;
	if (!res->has_status) {
		fprintf(stderr, "peapod: pod %s: its supervisor ended without a final status\n",
			name);
		return CLI_EXIT_FAILURE;
	}
	if (o->verbose || res->result == NULL || strcmp(res->result, "Succeeded") != 0)
		fprintf(stderr, "peapod: pod %s %s%s%s\n", name,
			res->result ? res->result : "Failed", res->reason ? ": " : "",
			res->reason ? res->reason : "");
	return res->exit_code;
}

int cmd_run(int argc, char **argv)
{
	struct run_opts o = {0};
	if (parse_args(argc, argv, &o) < 0)
		return CLI_EXIT_USAGE;
	cleanup_error struct pp_error *err = NULL;
	struct pp_pod *spec = NULL;
	cleanup_free char *text = NULL;
	size_t text_len = 0;
	/* A file may hold the pod's ConfigMaps and Secrets too: applied first. */
	if (cli_run_load(o.file, &spec, &text, &text_len) < 0)
		return CLI_EXIT_USAGE;
	cleanup_free char *name = xstrdup(spec->name);

	/* From here on a Ctrl-C must not kill us half-way: the signals arrive
	 * through a signalfd and become stop requests to the supervisor. */
	sigset_t stop, old;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	sigprocmask(SIG_BLOCK, &stop, &old);
	cleanup_close int sigfd = signalfd(-1, &stop, SFD_CLOEXEC | SFD_NONBLOCK);

	struct pp_apply_opts ao = {.store_root = o.root,
				   .manifest = text,
				   .manifest_len = text_len,
				   .network = o.network,
				   .short_lived_caller = true};
	struct pp_run_output out = {.record = print_record, .event = print_event, .ctx = &o};
	struct pp_run_outcome res;
	int r = pp_pod_run(spec, &ao, sigfd, &out, &res, &err);
	int status = print_outcome(name, &o, &res);
	if (r < 0) {
		cli_print_error(err);
		status = CLI_EXIT_FAILURE;
	}
	pp_run_outcome_free(&res);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return status;
}
