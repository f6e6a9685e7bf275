/* peapod run -f FILE: runs a Pod in the foreground until it completes. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "image/image.h"
#include "pod/pod.h"
#include "spec/spec.h"
#include "supervisor/supervisor.h"
#include "util/cleanup.h"

struct run_opts {
	const char *file;
	const char *root;
	bool verbose;
	bool no_prefix;
};

static void print_output(void *ctx, const char *container, enum pp_stream stream, const char *line,
			 size_t len, bool partial)
{
	const struct run_opts *o = ctx;
	FILE *f = stream == PP_STREAM_STDOUT ? stdout : stderr;
	if (!o->no_prefix)
		fprintf(f, "[%s] ", container);
	fwrite(line, 1, len, f);
	fputc('\n', f);
	fflush(f);
}

static void print_event(void *ctx, enum pp_event_level level, const char *container,
			const char *msg)
{
	const struct run_opts *o = ctx;
	if (level == PP_EVENT_INFO && !o->verbose)
		return;
	fprintf(stderr, "peapod: %s%s\n", level == PP_EVENT_ERROR ? "error: " : "", msg);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: peapod run -f FILE [--root DIR] [--verbose] [--no-prefix]\n"
		   "  Runs the Kubernetes v1 Pod in FILE (- for standard input) in the foreground\n"
		   "  until it completes; Ctrl-C stops it (a second Ctrl-C kills it at once).\n"
		   "  Exit status: 0 when the pod Succeeded, the first failed container's exit\n"
		   "  code (or 1) when it Failed, 128+N when stopped by signal N, 2 for a bad "
		   "manifest.\n");
}

static int parse_args(int argc, char **argv, struct run_opts *o)
{
	static const struct option longopts[] = {
	    {"filename", required_argument, NULL, 'f'}, {"root", required_argument, NULL, 'r'},
	    {"verbose", no_argument, NULL, 'v'},	{"no-prefix", no_argument, NULL, 'P'},
	    {"help", no_argument, NULL, 'h'},		{NULL, 0, NULL, 0},
	};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "f:vh", longopts, NULL)) != -1) {
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

static void warn_ignored(const struct pp_pod *pod)
{
	for (char **f = pod->ignored_fields; f && *f; f++)
		fprintf(stderr, "peapod: warning: %s: %s is not supported yet and is ignored\n",
			pod->source, *f);
}

static const char *phase_name(enum pp_pod_phase p)
{
	return p == PP_PHASE_SUCCEEDED ? "Succeeded" : p == PP_PHASE_FAILED ? "Failed" : "Stopped";
}

int cmd_run(int argc, char **argv)
{
	struct run_opts o = {0};
	if (parse_args(argc, argv, &o) < 0)
		return CLI_EXIT_USAGE;
	cleanup_error struct pp_error *err = NULL;
	struct pp_pod *spec = NULL;
	if (pp_spec_parse_file(o.file, &spec, &err) < 0) {
		cli_print_error(err);
		return CLI_EXIT_USAGE;
	}
	warn_ignored(spec);

	/* From here on a Ctrl-C must not kill us half-way: the signals wait
	 * (blocked) for the supervisor loop, which stops the pod in order. */
	sigset_t stop, old;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	sigprocmask(SIG_BLOCK, &stop, &old);

	struct pp_image_store *store = NULL;
	struct pp_pod_instance *pod = NULL;
	if (pp_image_store_open(o.root, &store, &err) < 0) {
		pp_pod_free(spec);
		cli_print_error(err);
		return CLI_EXIT_FAILURE;
	}
	if (pp_pod_instance_create(spec, store, &pod, &err) < 0) {
		pp_image_store_free(store);
		cli_print_error(err);
		return CLI_EXIT_FAILURE;
	}
	struct pp_supervisor_hooks hooks = {
	    .output = print_output, .event = print_event, .ctx = &o};
	struct pp_run_result res = {0};
	int status = CLI_EXIT_FAILURE;
	if (pp_supervisor_run(pod, &hooks, &res, &err) < 0) {
		cli_print_error(err);
	} else {
		status = res.exit_code;
		if (o.verbose || res.phase != PP_PHASE_SUCCEEDED)
			fprintf(stderr, "peapod: pod %s %s%s%s\n", pod->spec->name,
				phase_name(res.phase), res.reason ? ": " : "",
				res.reason ? res.reason : "");
	}
	if (pp_pod_instance_destroy(pod, &err) < 0) {
		cli_print_error(err);
		status = CLI_EXIT_FAILURE;
	}
	pp_pod_instance_free(pod);
	pp_image_store_free(store);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return status;
}
