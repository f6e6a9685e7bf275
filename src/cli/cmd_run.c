/* peapod run -f FILE: apply, follow the logs, wait for completion, delete:
 * the pod runs under its own supervisor as any applied pod does, and this
 * command shows it in the foreground. */
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cli/cli.h"
#include "logs/crilog.h"
#include "ops/apply.h"
#include "ops/ops.h"
#include "manifest/manifest.h"
#include "state/podstate.h"
#include "supervisor/control.h"
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
	static const struct option longopts[] = {
	    {"filename", required_argument, NULL, 'f'},
	    {"root", required_argument, NULL, 'r'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"no-prefix", no_argument, NULL, 'P'},
	    {"help", no_argument, NULL, 'h'},
	    {"network", required_argument, NULL, 'N'},
	    {NULL, 0, NULL, 0},
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

/* Every container's name, init containers first. */
static char **container_names(const struct pp_pod *spec)
{
	size_t n = spec->n_init_containers + spec->n_containers;
	char **names = xmalloc(sizeof(char *) * (n + 1));
	for (size_t i = 0; i < n; i++)
		names[i] = xstrdup(i < spec->n_init_containers
				       ? spec->init_containers[i].name
				       : spec->containers[i - spec->n_init_containers].name);
	return names;
}

/* Follows every container's log from its first instance on. */
static int follow_all(char **names, const char *log_dir, struct pp_log_follow **out,
		      struct pp_error **err)
{
	if (pp_log_follow_new(out, err) < 0)
		return -1;
	struct pp_log_read_opts all = {.tail = -1};
	for (char **c = names; *c; c++) {
		cleanup_free char *cdir = xasprintf("%s/%s", log_dir, *c);
		if (pp_log_follow_add(*out, cdir, 0, *c, &all, err) < 0)
			return -1;
	}
	return 0;
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
	if (cli_load_manifest(o.file, &spec, &text, &text_len) < 0)
		return CLI_EXIT_USAGE;
	cleanup_free char *ns = xstrdup(spec->namespace_);
	cleanup_free char *name = xstrdup(spec->name);
	cleanup_strv char **names = container_names(spec);

	/* From here on a Ctrl-C must not kill us half-way: the signals arrive
	 * through a signalfd and become stop requests to the supervisor. */
	sigset_t stop, old;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	sigprocmask(SIG_BLOCK, &stop, &old);
	cleanup_close int sigfd = signalfd(-1, &stop, SFD_CLOEXEC | SFD_NONBLOCK);

	cleanup_free char *uid = NULL;
	struct pp_apply_opts ao = {
	    .store_root = o.root, .manifest = text, .manifest_len = text_len, .network = o.network};
	if (pp_pod_apply(spec, &ao, &uid, &err) < 0) {
		cli_print_error(err);
		sigprocmask(SIG_SETMASK, &old, NULL);
		return CLI_EXIT_FAILURE;
	}
	cleanup_free char *log_dir = pp_pod_log_dir(ns, name, uid);
	struct pp_log_follow *follow = NULL;
	struct cli_events ev = {.uid = uid, .verbose = o.verbose};
	/* A pod may be over before we connect: then there is nothing to wait for. */
	cleanup_close int ctl = pp_ctl_connect(uid, NULL);
	int status = CLI_EXIT_FAILURE, stop_signal = 0;
	if (follow_all(names, log_dir, &follow, &err) < 0) {
		cli_print_error(err);
		goto out;
	}
	for (bool done = ctl < 0; !done;) {
		struct pollfd p[3] = {{.fd = ctl, .events = POLLIN},
				      {.fd = pp_log_follow_fd(follow), .events = POLLIN},
				      {.fd = sigfd, .events = POLLIN}};
		poll(p, 3, CLI_EVENTS_POLL_MS);
		struct signalfd_siginfo si;
		while (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			/* The first: graceful stop; the next: kill at once. */
			cli_ctl_request(uid, stop_signal ? "stop 0" : "stop -1");
			if (!stop_signal)
				stop_signal = (int)si.ssi_signo;
		}
		if (p[0].revents)
			done = pp_ctl_wait_closed(ctl, 0, NULL) == 0;
		pp_log_follow_read(follow, print_record, &o, NULL);
		cli_events_print(&ev);
	}
	/* The supervisor is gone: what it wrote is all there is. */
	pp_log_follow_read(follow, print_record, &o, NULL);
	cli_events_print(&ev);
	status = cli_run_result(uid, name, o.verbose, stop_signal);
out:
	pp_log_follow_free(follow);
	/* Finished: only its record is left. Otherwise (we could not follow
	 * it, or its supervisor died) the pod goes at once, as delete would. */
	struct pp_delete_opts now = {.grace_s = 0, .timeout_ms = -1};
	if (pp_pod_delete(ns, name, &now, &err) < 0) {
		cli_print_error(err);
		status = CLI_EXIT_FAILURE;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return status;
}
